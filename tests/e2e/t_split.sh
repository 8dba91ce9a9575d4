#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A PORT command split across two TCP segments, with a pause between them,
# through the router firewall. The stock helper drops a segment holding a
# partial command and relies on the retransmission; pinhole must recognise
# the line across the boundary: the pinhole opens for exactly the announced
# port, the download works, the firewall dropped nothing and neither host
# retransmitted a segment. Negative control: no helper, no download.
set -eu
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

SPLIT=$E2E_DIR/split_port.py

control_retransmissions() {
	awk '/^control-retransmissions:/ { print $2 }' "$SPLIT_LOG"
}

dropped_by_firewall() {
	echo $(($(fw_counter "$NS_FW" dropped) + $(fw_counter "$NS_FW" tcp_new_dropped)))
}

# split_start CASE TIMEOUT [WAIT]: start the client and wait (WAIT s,
# E2E_T_XFER) until the split PORT was answered; sets SPLIT_LOG and
# SPLIT_PID.
split_start() {
	SPLIT_LOG=$E2E_WORK/$1.log
	rm -f "$E2E_WORK/$1.go"
	in_ns "$NS_CL" /usr/bin/python3 "$SPLIT" --go "$E2E_WORK/$1.go" \
		--timeout "$2" "$SV4" "$CL4" "$FTP_FILE" \
		>"$SPLIT_LOG" 2>&1 &
	SPLIT_PID=$!
	wait_until "${3:-$E2E_T_XFER}" grep -q '^negotiated:' "$SPLIT_LOG" ||
		{ kill "$SPLIT_PID" 2>/dev/null; return 1; }
}

split_finish() { # CASE
	touch "$E2E_WORK/$1.go"
	wait "$SPLIT_PID"
}

split_positive() {
	local c=split/port-two-segments port drops
	drops=$(dropped_by_firewall)
	split_start positive "$E2E_T_XFER" ||
		{ e2e_fail "$c" "no reply to the split PORT: $(cat "$SPLIT_LOG")"; return; }
	port=$(awk '/^negotiated:/ { print $2 }' "$SPLIT_LOG")
	if in_ns "$NS_FW" conntrack -L expect -f ipv4 2>/dev/null |
		grep -q "src=$SV4 dst=$CL4 .*dport=$port "; then
		e2e_pass "$c/pinhole"
	else
		e2e_fail "$c/pinhole" "no expectation $SV4 -> $CL4:$port"
	fi
	if split_finish positive && grep -q "sha256=$FTP_SUM" "$SPLIT_LOG"; then
		e2e_pass "$c/download"
	else
		e2e_fail "$c/download" "$(cat "$SPLIT_LOG")"
	fi
	[ "$(dropped_by_firewall)" = "$drops" ] && e2e_pass "$c/nothing-dropped" ||
		e2e_fail "$c/nothing-dropped" "firewall drops $drops -> $(dropped_by_firewall)"
	[ "$(control_retransmissions)" = 0 ] &&
		e2e_pass "$c/no-retransmission" ||
		e2e_fail "$c/no-retransmission" "the control connection retransmitted $(control_retransmissions) segment(s)"
}

# The negative control need not wait for the client's timeout: once the
# firewall has dropped the data connection's first SYN, the client has
# E2E_T_GRACE seconds more (a pinhole that opens late still shows in the
# SYN's retransmission), then it is stopped (stop_after_drop()).
split_negative() {
	local c=split-nohelper/port-two-segments before t0 first
	before=$(fw_counter "$NS_FW" tcp_new_dropped)
	split_start negative "$E2E_T_NEG" || { e2e_fail "$c" "no reply: $(cat "$SPLIT_LOG")"; return; }
	touch "$E2E_WORK/negative.go"
	t0=$SECONDS
	stop_after_drop "$SPLIT_PID" "$before"
	wait "$SPLIT_PID" 2>/dev/null || :
	first="not seen"
	[ -z "$DROP_SEEN_AFTER" ] || first="after $DROP_SEEN_AFTER s"
	e2e_log "negative: client gone after $((SECONDS - t0)) s, first drop $first"
	if grep -q "sha256=$FTP_SUM" "$SPLIT_LOG"; then
		e2e_fail "$c" "downloaded without a helper: the firewall is open"
	elif [ -z "$DROP_SEEN_AFTER" ]; then
		e2e_fail "$c" "download failed but the firewall dropped no new TCP" \
			"connection: $(cat "$SPLIT_LOG")"
	else
		e2e_pass "$c"
	fi
}

# For the record, not a verdict: what the stock helper does here.
split_stock_record() {
	modprobe nf_conntrack_ftp 2>/dev/null ||
		{ e2e_log "stock record: nf_conntrack_ftp not available"; return 0; }
	fw_load_all ftp
	# A record: the stock helper drops each copy of the cut line's
	# segment, so that no reply may ever come; it is given the
	# retransmissions of a few seconds, not a download's whole timeout.
	split_start stock "$E2E_T_XFER" $((E2E_T_NEG + 2)) ||
		{ e2e_log "stock record: no reply: $(cat "$SPLIT_LOG")"; return 0; }
	split_finish stock || e2e_log "stock record: download failed"
	e2e_log "stock nf_conntrack_ftp, same split PORT: control retransmissions" \
		"$(control_retransmissions), firewall drops $(dropped_by_firewall)"
}

e2e_init split
topo router
vsftpd_start
if [ "$E2E_HELPER" != none ]; then
	split_positive
	[ "$E2E_HELPER" != pinhole-ftp ] || split_stock_record
fi
fw_load_all none
split_negative
e2e_finish
