#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Regenerates ../fixtures/nft_<name>.json from <name>.nft: each ruleset is
# loaded into a throw-away network namespace and listed with nft -j, as
# the kernel gives it back. The host has no pinhole module, so the helper
# objects are created with the stock type "ftp" and their type is set back
# to "pinhole-ftp" (objects named ftp-pinhole) afterwards.
#
# usage (root): tests/userspace/rulesets/mkfixtures.sh [NAME...]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
cd "$HERE"
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(healthy raw_prio sport l3proto_ip input_no_related base stock_beside)
for n in "${names[@]}"; do
	sed 's/type "pinhole-ftp"/type "ftp"/' "$n.nft" |
		unshare -n sh -c 'nft -f - && nft -j list ruleset' |
		/usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
for item in d["nftables"]:
    o = item.get("ct helper")
    if isinstance(o, dict) and o.get("name") == "ftp-pinhole":
        o["type"] = "pinhole-ftp"
print(json.dumps(d))' >"../fixtures/nft_$n.json"
	echo "fixtures/nft_$n.json"
done
