#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Resynchronisation: the firewall's conntrack table is flushed in the
# middle of an FTP session, so the next control segment is picked up as a
# new connection (nf_conntrack_tcp_loose) and the helper is attached to it
# without having seen a SYN. The engine cannot know where a line starts:
# it must count a resync, skip to the next line, and let the session go
# on. Negative control: with no helper attached, nothing is counted.
set -eu
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

resyncs() { pin_counter resyncs; }

# midstream CASE: log in, flush the firewall's conntrack table, send NOOP;
# succeeds when the NOOP is answered.
midstream() {
	local go=$E2E_WORK/$1.go log=$E2E_WORK/$1.log pid
	in_ns "$NS_CL" bash -c '
		exec 3<>"/dev/tcp/$1/21" || exit 1
		reply() { local l; read -r -t 15 l <&3 || exit 1; echo "$l"; }
		reply
		printf "USER anonymous\r\n" >&3; reply
		while [ ! -e "$2" ]; do sleep 0.1; done
		printf "NOOP\r\n" >&3; reply
		printf "QUIT\r\n" >&3; reply' sh "$SV4" "$go" >"$log" 2>&1 &
	pid=$!
	wait_until "$E2E_T_XFER" grep -q '^230' "$log" ||
		{ kill "$pid"; echo "no login: $(cat "$log")"; return 1; }
	in_ns "$NS_FW" conntrack -F >/dev/null 2>&1
	touch "$go"
	wait "$pid" && grep -q '^200' "$log" ||
		{ echo "NOOP unanswered: $(cat "$log")"; return 1; }
}

e2e_init resync
topo router
vsftpd_start
if [ "$E2E_HELPER" = pinhole-ftp ]; then
	before=$(resyncs)
	if why=$(midstream picked-up); then
		after=$(resyncs)
		[ "$after" -gt "$before" ] && e2e_pass resync/counted ||
			e2e_fail resync/counted "resyncs $before -> $after"
		e2e_pass resync/session-goes-on
	else
		e2e_fail resync/session-goes-on "$why"
	fi
	fw_load_all none
	before=$(resyncs)
	if why=$(midstream nohelper); then
		[ "$(resyncs)" = "$before" ] && e2e_pass resync-nohelper/not-counted ||
			e2e_fail resync-nohelper/not-counted "resyncs $before -> $(resyncs)"
	else
		e2e_fail resync-nohelper/not-counted "$why"
	fi
else
	e2e_skip resync "counts pinhole's own counter: pinhole-ftp only"
fi
e2e_finish
