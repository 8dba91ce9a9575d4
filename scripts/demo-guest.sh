#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The demo, inside the guest (see scripts/demo.sh). A client, a firewall
# that drops every new connection but FTP control, and a server. The
# client negotiates a passive transfer and pauses; we look at the pinhole
# the firewall opened for it; the transfer then goes through. Last, the
# same download without the helper, which the firewall must stop.
set -eu
. "$(dirname "$0")/../tests/e2e/lib.sh"

PINHOLECTL=$REPO_ROOT/userspace/pinholectl
STEP=$REPO_ROOT/scripts/ftp-step.py

KO=$REPO_ROOT/module/nf_pinhole_ftp.ko

pinhole_load_module() {
	local d
	for d in $(modinfo -F depends "$KO" | tr , ' '); do
		modprobe "$d"
	done
	insmod "$KO"
}

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

show_pinholes() {
	if [ -x "$PINHOLECTL" ]; then
		in_ns "$NS_FW" "$PINHOLECTL" show
	fi
	echo "-- conntrack -L expect (in the firewall):"
	in_ns "$NS_FW" conntrack -L expect 2>/dev/null
}

paused_download() {
	local go=$E2E_WORK/go log=$E2E_WORK/step.log pid
	in_ns "$NS_CL" /usr/bin/python3 "$STEP" --mode pasv --wait-file "$go" \
		"$SV4" "$FTP_FILE" >"$log" 2>&1 &
	pid=$!
	wait_until "$E2E_T_XFER" grep -q '^negotiated:' "$log" ||
		die "the client never negotiated: $(cat "$log")"
	grep '^negotiated:' "$log"
	say "The firewall now holds exactly one pinhole for that transfer"
	show_pinholes
	touch "$go"
	wait "$pid" || die "download failed: $(cat "$log")"
	say "Transfer done through the pinhole"
	grep '^received:' "$log"
	echo "expected:  sha256=$FTP_SUM"
	grep -q "sha256=$FTP_SUM" "$log" || die "the file arrived corrupted"
}

e2e_init demo
pinhole_load_module
topo_router
vsftpd_start

say "Topology: client $CL4 -- firewall -- server $SV4 (vsftpd)"
echo "Firewall ruleset (forward policy drop; only FTP control may start):"
in_ns "$NS_FW" nft list ruleset | sed 's/^/   /'

say "Client asks for a passive transfer and pauses before connecting"
paused_download

say "Counters (/proc/net/pinhole_ftp in the firewall)"
if [ -x "$PINHOLECTL" ]; then
	in_ns "$NS_FW" "$PINHOLECTL" stats
else
	in_ns "$NS_FW" cat /proc/net/pinhole_ftp
fi

say "Negative control: the same download with no helper attached"
fw_load_all none
if curl_get pasv 4 "$(client_out neg)" "$E2E_T_NEG" >/dev/null 2>&1; then
	die "the download succeeded without the helper: the firewall is open"
fi
echo "blocked, as it must be: the data connection was dropped"
say "demo: OK"
