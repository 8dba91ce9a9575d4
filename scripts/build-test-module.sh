#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/build-test-module.sh KDIR [OUTDIR]
#
# Build the test variant of nf_pinhole_ftp.ko (PINHOLE_TEST_HOOKS=1: a few
# windows of the packet path can be widened through module parameters, see
# module/testhooks.c) from a copy of module/ in OUTDIR (default
# tests/e2e/build/hooks), so that it never replaces the real module. Used
# by the e2e hardening scenario only; never installed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ $# -ge 1 ] || { echo "usage: $0 KDIR [OUTDIR]" >&2; exit 2; }
kdir=$1
out=${2:-$root/tests/e2e/build/hooks}
rm -rf "$out"
mkdir -p "$out"
cp "$root"/module/*.[ch] "$root/module/Kbuild" "$out/"
rm -f "$out"/*.mod.c
make -s -C "$kdir" M="$out" PINHOLE_TEST_HOOKS=1 modules 2>&1 |
	grep -v '^Skipping BTF generation' || true
[ -f "$out/nf_pinhole_ftp.ko" ] || { echo "build-test-module.sh: no module built" >&2; exit 1; }
