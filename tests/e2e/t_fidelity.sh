#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Protocol fidelity: what real clients and servers legitimately do must
# work, through the router firewall (and the host firewalls for lftp).
#
#   pipelining   lftp with ftp:sync-mode off sends "TYPE I / SIZE / MDTM /
#                PASV / RETR" in one segment; scripted conversations pin the
#                reply each 227 answers (RFC 959: one final reply per command)
#   withdraw     a PORT/EPRT the server refuses (500, 522) loses its pinhole
#                at once; one it accepts keeps it, also when a refusal of an
#                earlier pipelined command arrives first
#   auth         a refused AUTH (534) leaves the session parsed; a 234 makes
#                it opaque
#   telnet       IAC IP / IAC DM before a command hide nothing
#   enforce      enforce=1 never hangs a session: curl whose PORT/EPRT (or
#                whose server's 227/229) is refused gets the peer's error
#                (500, 425) within 2 s, IPv4 and IPv6, and nothing opens;
#                negative control: the old enforce=1 (test build of the
#                module, test_window=enforce_drops) hangs the same curl
#                until its timeout; a neutralised line lost beyond the
#                firewall is neutralised again when it is retransmitted
#   natware      a server behind a port-forward announcing the public address
#                (vsftpd pasv_address), a client behind SNAT announcing its
#                external one (PORT, EPRT on IPv6): their own addresses, so
#                the pinhole opens and the data connection is translated
#                like its master; negative controls: no helper, and an
#                address that is neither side's (refused_third_party)
#
# Negative controls: lftp without the helper is blocked; a 227 that answers
# another command opens nothing; the cases that open a pinhole open none
# with no helper attached. The scripted peers are tests/e2e/hostile_ftp.py
# (server, and a client that sends a line and reads its reply) and
# tests/e2e/scripted_ftp.py (a client that sends several lines as one
# segment).
set -eu
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/e2e/policy_lib.sh
. "$(dirname "$0")/policy_lib.sh"
# shellcheck source=tests/e2e/nat_lib.sh
. "$(dirname "$0")/nat_lib.sh"

SCRIPTED=$E2E_DIR/scripted_ftp.py
CL4C=${CL4//./,}

e2e_init fidelity
fd_exit() {
	local rc=$?
	set +e	# (exit "$rc") below must not end the handler
	ph_restore_module || { echo "FAIL: $E2E_SUITE/fidelity/restore-module: $PH_ERR"; rc=1; }
	(exit "$rc")
	e2e_cleanup
}
trap fd_exit EXIT

# ------------------------------------------------------------ helpers

# fd_expect NS DPORT: expectations in NS for data port DPORT.
fd_expect() { fw_expectations "$1" | grep -cE "dport=$2 " || true; }

# fd_session NAME HOST STEP...: one scripted_ftp.py client in cl against
# HOST:21. A step "check:CASE:WANT:DPORT" pauses the client there while
# the firewall must hold WANT (0/1) pinholes for data port DPORT; then the
# expectations are flushed (the control connection stays) and it goes on.
# One client for many cases: under TCG each python start costs seconds.
fd_session() {
	local name=$1 host=$2 step i=0 steps=() checks=()
	shift 2
	FD_OUT=$E2E_WORK/s.$name
	for step in "$@"; do
		case $step in
		check:*)
			i=$((i + 1))
			checks+=("${step#check:}")
			steps+=("touch:$FD_OUT.at$i" "wait:$FD_OUT.go$i")
			;;
		*) steps+=("$step") ;;
		esac
	done
	rm -f "$FD_OUT".*
	timeout -k 2 $((200 * E2E_SCALE)) ip netns exec "$NS_CL" /usr/bin/python3 "$SCRIPTED" \
		--timeout 10 client "$host" 21 'recv:^220 ' "${steps[@]}" \
		> "$FD_OUT" 2>&1 &
	FD_PID=$!
	for i in "${!checks[@]}"; do
		fd_session_check "$((i + 1))" "${checks[$i]}"
	done
	wait "$FD_PID" 2>/dev/null || true
	ct_flush "$NS_FW"
}

fd_session_check() { # N CASE:WANT:DPORT
	local n=$1 case want dport
	IFS=: read -r case want dport <<< "$2"
	if ! wait_until 60 fd_at "$n"; then
		e2e_fail "$case" "the client stopped before it: $(ph_transcript "$FD_OUT")"
		return
	fi
	fd_check "$case" "$want" "$NS_FW" "$dport"
	in_ns "$NS_FW" conntrack -F expect >/dev/null 2>&1 || true
	touch "$FD_OUT.go$n"
}
fd_at() { [ -e "$FD_OUT.at$1" ] || ! kill -0 "$FD_PID" 2>/dev/null; }

fd_release() {
	ph_release
	ct_flush "$NS_FW"
}

# fd_check CASE WANT NS DPORT: WANT (0 or 1) pinholes for DPORT in NS.
fd_check() {
	local case=$1 want=$2 ns=$3 dport=$4 n
	n=$(fd_expect "$ns" "$dport")
	if [ "$n" = "$want" ]; then
		e2e_pass "$case"
	else
		e2e_fail "$case" "$n pinhole(s) for port $dport in $ns, want $want:" \
			"$(fw_expectations "$ns" | tr '\n' ' ' | cut -c1-300)" \
			"client: $(ph_transcript "${FD_OUT:-$PH_OUT}")"
	fi
}

# fd_counter_grew CASE NAME BEFORE: pinhole's counter NAME went up.
fd_counter_grew() {
	local now
	now=$(pin_counter "$2")
	[ "$now" -gt "$3" ] && e2e_pass "$1" || e2e_fail "$1" "$2 stayed at $now"
}

# ------------------------------------------------------------ lftp

lftp_cases() {
	local tag=$1
	E2E_LFTP_SET="set ftp:sync-mode off;"
	expect_download "fidelity/lftp-pipelined/$tag/pasv-v4" lftp pasv 4 || true
	expect_download "fidelity/lftp-pipelined/$tag/port-v4" lftp port 4 || true
	expect_download "fidelity/lftp-pipelined/$tag/epsv-v6" lftp epsv 6 || true
	expect_download "fidelity/lftp-pipelined/$tag/eprt-v6" lftp eprt 6 || true
	E2E_LFTP_SET=
}

lftp_all() {
	topo router
	vsftpd_start
	lftp_cases router
	topo both
	lftp_cases hosts
	topo router
	fw_load_all none
	E2E_LFTP_SET="set ftp:sync-mode off;"
	expect_blocked fidelity/lftp-pipelined-nohelper/pasv-v4 lftp pasv 4 || true
	expect_blocked fidelity/lftp-pipelined-nohelper/eprt-v6 lftp eprt 6 || true
	E2E_LFTP_SET=
	server_stop
}

# A control connection on port 2121, attached by the ruleset's own port.
other_port_cases() {
	E2E_FTP_PORT=2121
	topo router
	vsftpd_start
	expect_download fidelity/port-2121/curl-pasv-v4 curl pasv 4 || true
	expect_download fidelity/port-2121/curl-port-v4 curl port 4 || true
	expect_download fidelity/port-2121/curl-epsv-v6 curl epsv 6 || true
	expect_download fidelity/port-2121/curl-eprt-v6 curl eprt 6 || true
	fw_load_all none
	expect_blocked fidelity/port-2121-nohelper/curl-pasv-v4 curl pasv 4 || true
	expect_blocked fidelity/port-2121-nohelper/curl-eprt-v6 curl eprt 6 || true
	server_stop
	other_port_nat_cases
	E2E_FTP_PORT=21
}

# The same port through SNAT and DNAT at once (nat_lib.sh "both"): the
# port-forward and the helper name 2121, and every announcement is
# rewritten as on port 21.
other_port_nat_cases() {
	local c=fidelity/port-2121-nat
	nat_vsftpd_start
	fw_load_all
	nat_load both nft
	nat_expect_ok $c/pasv-v4 pasv 4 "$RE_227_OUT" || true
	nat_expect_ok $c/port-v4 port 4 "$RE_PORT_OUT" || true
	if [ "$NAT_V6" = 1 ]; then
		nat_expect_ok $c/epsv-v6 epsv 6 "$RE_229" || true
		nat_expect_ok $c/eprt-v6 eprt 6 "$RE_EPRT6_OUT" || true
	else
		e2e_fail $c/v6 "$NAT_V6_WHY"
	fi
	fw_load_all none
	nat_load both nft
	nat_expect_fail $c-nohelper/pasv-v4 pasv 4 "$RE_227_IN" || true
	nat_expect_fail $c-nohelper/port-v4 port 4 "$RE_PORT_IN" || true
	nat_clear
	server_stop
}

# ------------------------------------------------------------ scripted

# One IPv4 session through the router firewall, case after case; WANT is
# what the helper must leave (with no helper attached: nothing, ever).
session_v4() { # ON SUFFIX
	local on=$1 p=fidelity/scripted$2
	fd_session "v4$2" "$SV4" \
		'send:SITE NEXT 534 AUTH not available\r\n' 'recv:^200 ' \
		'send:AUTH TLS\r\n' 'recv:^534 ' \
		'send:TYPE I\r\nPASV\r\n' 'recv:^227 ' \
		"check:$p/auth-refused/pipelined-type-pasv:$on:40000" \
		'send:SITE NEXT 227 Entering Passive Mode (198,51,100,2,156,65)\r\n' 'recv:^200 ' \
		'send:TYPE I\r\nPASV\r\n' 'recv:^227 [^\n]*\n227 ' \
		"check:$p/227-answers-type:0:40001" \
		"send:\\xff\\xf4\\xff\\xf2PORT $CL4C,156,74\\r\\n" 'recv:^200 ' \
		"check:$p/telnet-ip-dm-port:$on:40010" \
		'send:\xff\xf4\xff\xf2ABOR\r\nPASV\r\n' 'recv:^227 ' \
		"check:$p/telnet-abor-pasv:$on:40000" \
		'send:SITE NEXT 550 No such file\r\n' 'recv:^200 ' \
		"send:SIZE f\\r\\nPORT $CL4C,156,72\\r\\n" 'recv:^550 [^\n]*\n200 ' \
		"check:$p/550-to-size-keeps-port:$on:40008" \
		'send:SITE NEXT 500 Illegal PORT command\r\n' 'recv:^200 ' \
		"send:PORT $CL4C,156,70\\r\\n" 'recv:^500 ' \
		"check:$p/port-500-withdrawn:0:40006" \
		"send:PORT $CL4C,156,70\\r\\n" 'recv:^200 ' \
		"check:$p/port-200-kept:$on:40006"
}

session_v6() { # ON
	local on=$1 p=fidelity/scripted
	fd_session v6 "$SV6" \
		'send:SITE NEXT 522 Network protocol not supported, use (1)\r\n' 'recv:^200 ' \
		"send:EPRT |2|$CL6|40009|\\r\\n" 'recv:^522 ' \
		"check:$p/eprt-522-withdrawn-v6:0:40009" \
		"send:EPRT |2|$CL6|40009|\\r\\n" 'recv:^200 ' \
		"check:$p/eprt-200-kept-v6:$on:40009" \
		"send:EPRT |2|::ffff:$CL4|40011|\\r\\n" 'recv:^200 ' \
		"check:$p/eprt-mixed-notation-v6:0:40011"
}

# The withdrawals above are counted; a 234 makes the session opaque.
counted_cases() {
	local before third malformed
	before=$(pin_counter pinholes_withdrawn)
	third=$(pin_counter refused_third_party)
	malformed=$(pin_counter refused_malformed)
	session_v6 1
	fd_counter_grew fidelity/scripted/withdrawn-counted pinholes_withdrawn "$before"
	# ::ffff:a.b.c.d is valid syntax, and not the IPv6 client's address
	fd_counter_grew fidelity/scripted/eprt-mixed-notation-v6/third-party \
		refused_third_party "$third"
	[ "$(pin_counter refused_malformed)" = "$malformed" ] &&
		e2e_pass fidelity/scripted/eprt-mixed-notation-v6/not-malformed ||
		e2e_fail fidelity/scripted/eprt-mixed-notation-v6/not-malformed \
			"refused_malformed $malformed -> $(pin_counter refused_malformed)"
	before=$(pin_counter refused_encrypted)
	ph_hostile_bg auth-234 "$SV4" 'AUTH TLS' PASV || true
	FD_OUT=$PH_OUT
	fd_check fidelity/auth-234-opaque/no-pinhole 0 "$NS_FW" 40000
	fd_counter_grew fidelity/auth-234-opaque/counted refused_encrypted "$before"
	fd_release
}

# ------------------------------------------------------------ enforce

# fd_trace_span LOG: seconds from the first PORT, EPRT, PASV or EPSV the
# client sent to its last line, from curl -v --trace-time or ftp_client.py
# ("none": never sent). curl shows the line with its CR.
fd_trace_span() {
	awk 'function t(s, a) { split(s, a, ":"); return a[1] * 3600 + a[2] * 60 + a[3] }
	{ sub(/\r$/, "") }
	$1 ~ /^[0-9][0-9]:[0-9][0-9]:[0-9.]+$/ {
		if (start == "" && $2 == ">" && $3 ~ /^(PORT|EPRT|PASV|EPSV)$/)
			start = t($1)
		last = t($1)
	}
	END { if (start == "") print "none"; else printf "%.2f\n", last - start }' "$1"
}

# fd_client_timed CLIENT MODE FAMILY OUT TIMEOUT: curl_get or ftplib_get
# with a trace; FD_RC its status, FD_SPAN the seconds from its data-port
# line to its end, FD_WALL the whole run's, both printed.
fd_client_timed() {
	local client=$1 t0
	shift
	t0=${EPOCHREALTIME/,/.}
	FD_RC=0
	E2E_CURL_OPTS="-v --trace-time" "${client}_get" "$@" || FD_RC=$?
	FD_WALL=$(awk -v a="$t0" -v b="${EPOCHREALTIME/,/.}" \
		'BEGIN { printf "%.1f", b - a }')
	FD_SPAN=$(fd_trace_span "$E2E_WORK/client.log")
	echo "#   $client $1 IPv$2: exit $FD_RC, data-port line to end $FD_SPAN s, whole run $FD_WALL s"
}

# fd_fail_fast CASE CLIENT MODE FAMILY REPLY: under enforce=1 the
# client's data-port line (or the server's answer to it) is refused: it
# must draw REPLY (the peer's own error, for the neutralised line) and the
# client must fail within 2 s of sending its line, with no pinhole opened.
fd_fail_fast() {
	local c=$1 client=$2 mode=$3 fam=$4 reply=$5 out
	out=$(client_out "$c")
	ph_snap
	fd_client_timed "$client" "$mode" "$fam" "$out" $((20 * E2E_SCALE))
	if [ "$FD_RC" = 0 ] || [ "$FD_RC" = 28 ] || [ "$FD_RC" -ge 124 ]; then
		e2e_fail "$c" "$client exit $FD_RC (want an FTP error): $(client_error)"
	elif ! grep -qE "^[0-9:.]+ < $reply" "$E2E_WORK/client.log"; then
		e2e_fail "$c" "no '$reply' reply: $(client_error)"
	elif [ "$FD_SPAN" = none ] ||
		! awk -v s="$FD_SPAN" 'BEGIN { exit !(s < 2) }'; then
		e2e_fail "$c" "$client failed $FD_SPAN s after its data-port line (want < 2 s)"
	else
		ph_case "$c" neutralised'>='1 pinholes_opened=0 dropped=0
	fi
}

# fd_hangs CASE CLIENT MODE FAMILY: the negative control, the same client
# with the old enforce=1 (the segment and its retransmissions dropped): it
# hangs until its own timeout (curl exits 28; ftp_client.py 1, on a
# socket timeout after all of it).
fd_hangs() {
	local c=$1 client=$2 mode=$3 fam=$4 out t=$((8 * E2E_SCALE))
	out=$(client_out "$c")
	ph_snap
	fd_client_timed "$client" "$mode" "$fam" "$out" "$t"
	if [ "$FD_RC" != 28 ] && { [ "$client" = curl ] ||
		! grep -q '< timed out' "$E2E_WORK/client.log" ||
		! awk -v s="$FD_SPAN" -v t="$t" 'BEGIN { exit !(s >= t - 1) }'; }; then
		e2e_fail "$c" "$client exit $FD_RC (want its timeout): $(client_error)"
	else
		ph_case "$c" dropped'>='1 neutralised=0 pinholes_opened=0
	fi
}

# fd_lost_again CASE CLIENT MODE FAMILY REPLY NS WORD: as fd_fail_fast,
# but the neutralised line (its first 4 bytes WORD) is lost once beyond
# the firewall, before NS's conntrack: the sender retransmits its original
# line, which the firewall must neutralise again (neutralised_again), or
# the refused line would reach the peer after all.
fd_lost_again() {
	local c=$1 ns=$6 word=$7 port=dport lost again
	[ "$ns" = "$NS_SV" ] || port=sport
	if ! nat_lose_once "$ns" "$4" "$port" "$word"; then
		e2e_fail "$c" "cannot load the drop-once table in $ns"
		return
	fi
	again=$(pin_counter neutralised_again)
	fd_fail_fast "$@"
	lost=$(nat_lost_count "$ns")
	in_ns "$ns" nft delete table inet "$NAT_LOSE_TABLE"
	if [ "$lost" != 1 ] || [ "$(pin_counter neutralised_again)" -le "$again" ]; then
		e2e_fail "$c/again" "lost $lost (want 1), neutralised_again" \
			"$again -> $(pin_counter neutralised_again)"
	else
		e2e_pass "$c/again"
	fi
}

# fd_enforce_policy: enforce=1, and curl's ports (ephemeral) and vsftpd's
# passive range (40000-40100) both outside what may be announced.
fd_enforce_policy() {
	ph_set "$NS_FW" enforce 1
	ph_set "$NS_FW" active_ports 1024-1030
	ph_set "$NS_FW" passive_ports 1024-1030
}

# enforce=1 fails fast: a refused PORT/EPRT reaches the server as an
# unknown verb (vsftpd: 500), a refused 227/229 the client as a 425.
enforce_cases() {
	local m cl mo fa re
	topo router
	vsftpd_start
	fd_enforce_policy
	# curl cannot be the IPv6 active client: after a refused EPRT it
	# tries PORT, fails in inet_ntop and waits for its timeout, with any
	# server that refuses EPRT (python's ftplib does fail at once)
	for m in curl:port:4:500 ftplib:eprt:6:500 curl:pasv:4:425 \
		curl:epsv:6:425 ftplib:eprt:4:500; do
		IFS=: read -r cl mo fa re <<< "$m"
		fd_fail_fast "fidelity/enforce/$cl-$mo-v$fa" "$cl" "$mo" "$fa" "$re"
	done
	# the neutralised line lost once: its retransmission neutralised again
	fd_lost_again fidelity/enforce-lost/curl-port-v4 curl port 4 500 "$NS_SV" XORT
	fd_lost_again fidelity/enforce-lost/ftplib-eprt-v6 ftplib eprt 6 500 "$NS_SV" XPRT
	fd_lost_again fidelity/enforce-lost/curl-pasv-v4 curl pasv 4 425 "$NS_CL" "425 "
	fd_lost_again fidelity/enforce-lost/curl-epsv-v6 curl epsv 6 425 "$NS_CL" "425 "
	if ! ph_hooks_present || ! ph_swap "$PH_HOOKS_KO" ||
		! printf enforce_drops > "/sys/module/$PH_MOD/parameters/test_window"; then
		e2e_fail fidelity/enforce-drops/setup "$PH_ERR"
	else
		fw_load_all
		fd_enforce_policy
		for m in curl:port:4 ftplib:eprt:6 curl:pasv:4 curl:epsv:6; do
			IFS=: read -r cl mo fa <<< "$m"
			fd_hangs "fidelity/enforce-drops/$cl-$mo-v$fa" "$cl" "$mo" "$fa"
		done
	fi
	ph_restore_module || e2e_fail fidelity/enforce/restore-module "$PH_ERR"
	fw_load_all
	server_stop
}

# ------------------------------------------------------------ NAT-aware

# fd_nat_refused CASE MODE FAMILY: the announced address is neither
# peer's, inside or outside the NAT: refused as a third party's, no
# pinhole, and the download fails.
fd_nat_refused() {
	local c=$1
	ph_snap
	if nat_run "$2" "$3" "$E2E_T_NEG" && [ "$(client_sum)" = "$FTP_SUM" ]; then
		e2e_fail "$c" "downloaded through a third party's address"
	else
		ph_case "$c" refused_third_party=1 pinholes_opened=0
	fi
}

fd_nat_v6() { # CASE: NAT66 loaded, or the case is skipped (not passed)
	[ "$NAT_V6" = 1 ] || { e2e_skip "$1" "$NAT_V6_WHY"; return 1; }
}

# Peers that know the NAT: the address they announce is the one the other
# peer reaches them at, their own. With the helper the pinhole opens for
# it and the data connection is translated like its master; nothing is
# rewritten. IPv6 has no passive reply that names an address (229 names
# a port only): its passive case is EPSV through the same port-forward.
natware_cases() {
	local re227='^227 .*\(192,0,2,1,[0-9]+,[0-9]+\)'
	local p=fidelity/nat-aware
	topo router
	nat_load dnat
	# vsftpd listening on IPv6 announces 0,0,0,0 for any pasv_address
	nat_vsftpd_start listen=YES listen_ipv6=NO "pasv_address=$FWC4"
	nat_expect_ok "$p/dnat-pasv-address-v4" pasv 4 "$re227" || true
	fw_load_all none
	nat_expect_fail "$p-nohelper/dnat-pasv-address-v4" pasv 4 "$re227" || true
	fw_load_all
	server_stop
	nat_vsftpd_start listen=YES listen_ipv6=NO pasv_address=192.0.2.77
	fd_nat_refused "$p/dnat-pasv-address-third-party-v4" pasv 4
	server_stop
	nat_vsftpd_start "pasv_address=$FWC4"
	! fd_nat_v6 "$p/dnat-epsv-v6" ||
		nat_expect_ok "$p/dnat-epsv-v6" epsv 6 '^229 .*\(\|\|\|[0-9]+\|\)' || true
	server_stop
	nat_load snat
	nat_vsftpd_start
	NAT_ANNOUNCE=$FWS4 nat_expect_ok "$p/snat-port-external-v4" port 4 \
		'^PORT 198,51,100,1,[0-9]+,[0-9]+$' || true
	! fd_nat_v6 "$p/snat-eprt-external-v6" ||
		NAT_ANNOUNCE=$FWS6 nat_expect_ok "$p/snat-eprt-external-v6" eprt 6 \
			'^EPRT \|2\|2001:db8:2::1\|[0-9]+\|$' || true
	NAT_ANNOUNCE=198.51.100.77 fd_nat_refused "$p/snat-port-third-party-v4" port 4
	fw_load_all none
	NAT_ANNOUNCE=$FWS4 nat_expect_fail "$p-nohelper/snat-port-external-v4" \
		port 4 || true
	fw_load_all
	nat_clear
	server_stop
}

# PINHOLE_FIDELITY_GROUPS="enforce scripted" runs only those groups.
fd_group() {
	[[ " ${PINHOLE_FIDELITY_GROUPS:-lftp port2121 enforce natware scripted} " == *" $1 "* ]]
}

# All of it inside one function, called on the last line with exit: bash
# has then read the whole file, and an edit during a run cannot disturb it.
fidelity_main() {
	if [ "$E2E_HELPER" = none ]; then
		e2e_skip fidelity "PINHOLE_HELPER=none: the controls run in every mode"
		e2e_finish
		return
	fi
	fd_group lftp && lftp_all
	fd_group port2121 && other_port_cases
	fd_group enforce && [ "$E2E_HELPER" = pinhole-ftp ] && enforce_cases
	fd_group natware && [ "$E2E_HELPER" = pinhole-ftp ] && natware_cases
	fd_group scripted || { e2e_finish; return; }
	topo router
	in_ns "$NS_SV" /usr/bin/python3 "$PH_HOSTILE" server --listen :: \
		> "$E2E_WORK/hostile.log" 2>&1 &
	wait_listen "$NS_SV" 21 hostile
	session_v4 1 ""
	[ "$E2E_HELPER" != pinhole-ftp ] || counted_cases
	fw_load_all none
	session_v4 0 -nohelper
	server_stop
	e2e_finish
}

fidelity_main; exit
