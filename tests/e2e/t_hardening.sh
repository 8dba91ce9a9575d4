#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Hardening: each defect an independent review of the module found, aimed
# at with the traffic (or the race) that exposed it. Each group says what
# the module before the fix did.
#
#   icmp/*       forged ICMP errors quoting the live control connection,
#                carrying PORT/EPRT/227/229 text, plain and NATed: the
#                helper parsed them as FTP (forged pinhole, session desynced)
#   unlink/*     a NAT rewrite that fails, with the pinhole deleted over
#                ctnetlink in the window before it is withdrawn: unlinked
#                twice (general protection fault)            [test module]
#   ctnetlink/*  an IPv6 session whose conntrack was created over ctnetlink
#                (as conntrackd does after a failover): parsed as IPv4
#   supersede/*  a permanent expectation an administrator created over
#                ctnetlink on a pinhole session: superseded (removed)
#   limit/*      both directions announcing at once on two CPUs with
#                max_pinholes=1: two pinholes                 [test module]
#   enforce/*    enforce=1, one segment with a good and a refused PORT: the
#                good one opened its pinhole and the segment was dropped;
#                now the refused line is neutralised and the good one keeps
#                its pinhole, and a segment that must still be dropped (the
#                refused line began in an earlier one) opens nothing
#   replay/*     a NATed 227 segment that began inside a multi-line reply,
#                lost and retransmitted: a 227 line inside the multi-line
#                reply was rewritten instead
#
# [test module]: the race is made certain with a build of the module whose
# windows a test can widen (PINHOLE_TEST_HOOKS=1, scripts/build-test-module.sh,
# $PINHOLE_HOOKS_KO); the scenario swaps it in and restores the module as
# run.sh loaded it. Every transfer that must work has its negative control
# with no helper attached. PINHOLE_HARDENING_GROUPS="icmp limit ..." runs
# only those groups (default: all, in the order of hardening_main).
set -u
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/e2e/policy_lib.sh
. "$E2E_DIR/policy_lib.sh"
# shellcheck source=tests/e2e/nat_lib.sh
. "$E2E_DIR/nat_lib.sh"

if [ "$E2E_HELPER" != pinhole-ftp ]; then
	e2e_skip hardening "PINHOLE_HELPER=$E2E_HELPER: these are pinhole-ftp's defects"
	exit 0
fi
ph_loaded || { echo "FAIL: $E2E_SUITE/hardening/setup: $PH_MOD is not loaded"; exit 1; }

SCRIPTED=$E2E_DIR/scripted_ftp.py
FORGE=$E2E_DIR/icmp_forge.py
CT_INJECT=

e2e_init hardening
hd_exit() {
	local rc=$?
	hd_reap
	if ! hd_restore; then
		echo "FAIL: $E2E_SUITE/hardening/restore-module: $PH_ERR"
		rc=1
	fi
	(exit "$rc")
	e2e_cleanup
}
trap hd_exit EXIT

# ------------------------------------------------------------ peers

declare -A HD_PID=()

# hd_f NAME SUFFIX: the work file of a peer or case (NAME may hold "/").
hd_f() { echo "$E2E_WORK/${1//\//_}.$2"; }

# hd_peer NS NAME ROLE HOST PORT STEP...: scripted_ftp.py in NS, in the
# background; transcript $(hd_f NAME log).
hd_peer() {
	local ns=$1 name=$2
	shift 2
	rm -f "$(hd_f "$name" log)"
	timeout -k 2 $((120 * E2E_SCALE)) ip netns exec "$ns" /usr/bin/python3 "$SCRIPTED" \
		"$@" > "$(hd_f "$name" log)" 2>&1 &
	HD_PID[$name]=$!
}

hd_wait() { # NAME: status of the peer
	local rc=0
	wait "${HD_PID[$1]}" || rc=$?
	unset "HD_PID[$1]"
	return "$rc"
}

# hd_expect_blocked CASE NAME BEFORE OPEN: peer NAME's download is a
# negative control that need not wait out its timeout (stop_after_drop()):
# CASE fails with OPEN when it got its file, and when fw dropped no new
# connection (tcp_new_dropped still BEFORE).
hd_expect_blocked() {
	local c=$1 name=$2 rc=0
	stop_after_drop "${HD_PID[$name]}" "$3"
	hd_wait "$name" || rc=$?
	if [ "$rc" = 0 ] || hd_received_ok "$name"; then
		e2e_fail "$c" "$4"
	elif [ -z "$DROP_SEEN_AFTER" ]; then
		e2e_fail "$c" "no download, but fw dropped no new TCP connection:" \
			"$(hd_log "$name")"
	else
		e2e_pass "$c"
	fi
}

hd_reap() {
	local name
	for name in "${!HD_PID[@]}"; do
		kill "${HD_PID[$name]}" 2>/dev/null
		wait "${HD_PID[$name]}" 2>/dev/null
	done
	HD_PID=()
}

hd_log() { tr '\n' ' ' < "$(hd_f "$1" log)" | cut -c1-300; }
hd_has() { [ -e "$2" ] || ! kill -0 "${HD_PID[$1]}" 2>/dev/null; }
hd_ready() { # NAME FILE: wait until the peer created FILE; false if it died
	wait_until $((150 * E2E_SCALE)) hd_has "$1" "$2" && [ -e "$2" ]
}
hd_local_port() { sed -n 's/^local [^ ]* \([0-9]*\)$/\1/p' "$(hd_f "$1" log)"; }
hd_received_ok() { grep -q "^received: .* sha256=$FTP_SUM\$" "$(hd_f "$1" log)"; }

# hd_expect_count NS REGEX: expectations in NS matching REGEX.
hd_expect_count() { fw_expectations "$1" | grep -cE "$2"; }

# hd_counter_same NAME...: each pinhole counter as at the last ph_snap.
hd_counters_same() {
	local n
	for n in "$@"; do
		[ "$(pin_counter "$n")" = "$(ph_get "$n" "$PH_SNAP_TEXT")" ] || {
			HD_WHY="$n $(ph_get "$n" "$PH_SNAP_TEXT") -> $(pin_counter "$n")"
			return 1
		}
	done
}

hd_snap() { PH_SNAP_TEXT=$(ph_counters); }

hd_kernel_clean() { # no report in the kernel log since ph_dmesg_mark
	! ph_dmesg_new | grep -qE 'BUG|WARNING|Oops|general protection|list_(add|del) corruption|refcount_t'
}

# ------------------------------------------------------------ modules

hd_hooks() { # WINDOW MS: the test module, that window widened
	ph_hooks_present || return 1
	ph_swap "$PH_HOOKS_KO" &&
		printf %s "$1" > "/sys/module/$PH_MOD/parameters/test_window" &&
		printf %s "$2" > "/sys/module/$PH_MOD/parameters/test_window_ms" &&
		[ "$(cat "/sys/module/$PH_MOD/parameters/test_window")" = "$1" ] ||
		{ PH_ERR="test_window did not take '$1'"; return 1; }
}

# hd_restore: the module as run.sh loaded it, whatever is loaded now.
hd_restore() {
	if [ -e "/sys/module/$PH_MOD/parameters/test_window" ]; then
		ph_drop_rulesets
		ph_unload && ph_insmod || return 1
	fi
	ph_restore_module
}

# ------------------------------------------------------------ icmp

# A held client logged in to vsftpd; forged errors quoting its control
# connection; then it downloads over the same connection.
# hd_icmp CASE FAM KIND TEXT MODE HOST
hd_icmp() {
	local c=$1 fam=$2 kind=$3 text=$4 mode=$5 host=$6 lp src dst seq rc=0 drops
	src=$CL4 dst=$host
	[ "$fam" = 6 ] && src=$CL6
	hd_peer "$NS_CL" "$c" client "$host" 21 'recv:^220 ' \
		'send:USER anonymous\r\n' 'recv:^230 ' 'send:TYPE I\r\n' \
		'recv:^200 ' local "touch:$(hd_f "$c" ready)" \
		"wait:$(hd_f "$c" go)" "get:$mode:$FTP_FILE"
	hd_ready "$c" "$(hd_f "$c" ready)" || { e2e_fail "$c" "no login: $(hd_log "$c")"; return; }
	lp=$(hd_local_port "$c")
	hd_snap
	for seq in 0x01000000 0x81000000; do
		in_ns "$NS_CL" /usr/bin/python3 "$FORGE" --kind "$kind" \
			--src "$src" --dst "$dst" --quote-sport 21 \
			--quote-dport "$lp" --seq "$seq" --text "$text" ||
			{ e2e_fail "$c" "cannot forge the ICMP error"; hd_reap; return; }
	done
	sleep 1
	if [ "$E2E_HELPER_ATTACHED" = 1 ]; then
		if [ "$(hd_expect_count "$NS_FW" 'dport=407[47][0-9] ')" != 0 ]; then
			e2e_fail "$c/no-forged-pinhole" "$(fw_expectations "$NS_FW" | tr '\n' ' ')"
		else
			e2e_pass "$c/no-forged-pinhole"
		fi
		if hd_counters_same lines_port lines_eprt lines_227 lines_229 \
			resyncs pinholes_opened refused_malformed; then
			e2e_pass "$c/session-untouched"
		else
			e2e_fail "$c/session-untouched" "$HD_WHY"
		fi
	fi
	drops=$(fw_counter "$NS_FW" tcp_new_dropped)
	touch "$(hd_f "$c" go)"
	if [ "$E2E_HELPER_ATTACHED" = 1 ]; then
		hd_wait "$c" || rc=$?
		[ "$rc" = 0 ] && hd_received_ok "$c" && e2e_pass "$c/transfer-after" ||
			e2e_fail "$c/transfer-after" "exit $rc: $(hd_log "$c")"
	else
		hd_expect_blocked "$c/blocked" "$c" "$drops" \
			"downloaded with no helper: the firewall is open"
	fi
}

PORT_TEXT='X\r\nPORT 192,0,2,2,159,38\r\n'			# 40742
EPRT4_TEXT='X\r\nEPRT |1|192.0.2.2|40771|\r\n227 (192,0,2,2,159,39)\r\n'
EPRT6_TEXT='EPRT |2|2001:db8:1::2|40772|\r\n229 (|||40773|)\r\n'
hd_icmp_all() { # PREFIX HOST4 HOST6
	hd_icmp "$1/v4-port-unreachable-port" 4 unreach "$PORT_TEXT" pasv "$2"
	hd_icmp "$1/v4-frag-needed-eprt-227" 4 fragneeded "$EPRT4_TEXT" pasv "$2"
	[ -z "$3" ] || hd_icmp "$1/v6-packet-too-big-eprt-229" 6 ptb "$EPRT6_TEXT" epsv "$3"
}

icmp_cases() {
	topo router
	vsftpd_start
	E2E_HELPER_ATTACHED=1
	hd_icmp_all icmp "$SV4" "$SV6"
	nat_load snat
	hd_icmp_all icmp/snat "$SV4" "$([ "$NAT_V6" = 1 ] && echo "$SV6")"
	nat_clear
	fw_load_all none
	E2E_HELPER_ATTACHED=0
	hd_icmp_all icmp-nohelper "$SV4" "$SV6"
	fw_load_all
	server_stop
}

# ------------------------------------------------------------ unlink

# DNAT (the client is not translated). Session X holds pinholes for
# client ports 40714 and 40715 (within their 60 s). Session Y then sends "PORT ...40715" and
# "PORT ...40714" in one segment: both ports are taken on the outside, so
# both pinholes get other ports (random ones, nf_nat_exp_find_port()) and
# both lines must be rewritten; the second cannot be (one length change
# per segment), and its pinhole is withdrawn after a 1 s window. From
# before Y sends until after the window, ct_inject deletes over ctnetlink
# every expectation that X did not hold: Y's first pinhole (which lives
# on) and Y's second, which exists only between its insertion and its
# withdrawal. Two deletions mean one landed inside the window; a round
# with fewer proves nothing, and fails. The deleter stops 2 s after Y has
# its replies (at most 20 s).
hd_unlink_round() { # CASE ROUND
	local c=$1 x=ux$2 y=uy$2 at rc=0 del deleter
	# each round from an empty table: X's ports are then exactly its own
	in_ns "$NS_FW" conntrack -F expect > /dev/null 2>&1
	hd_peer "$NS_CL" "$x" client "$FWC4" 21 'recv:^220 ' \
		'send:PORT 192,0,2,2,159,10\r\n' 'recv:^200 ' \
		'send:PORT 192,0,2,2,159,11\r\n' 'recv:^200 ' \
		"touch:$(hd_f "$x" ready)" "wait:$(hd_f "$x" go)"
	hd_ready "$x" "$(hd_f "$x" ready)" || { e2e_fail "$c/round-$2" "session X: $(hd_log "$x")"; return; }
	at=$(awk -v t="$(date +%s.%N)" -v d="$((6 * E2E_SCALE))" 'BEGIN { printf "%.3f", t + d }')
	rm -f "$E2E_WORK/unexpect-stop.$2"
	in_ns "$NS_FW" "$CT_INJECT" unexpect-new 4 "$((20 * E2E_SCALE))" \
		"$E2E_WORK/unexpect-stop.$2" > "$E2E_WORK/unexpect.$2" 2>&1 &
	deleter=$!
	hd_peer "$NS_CL" "$y" client "$FWC4" 21 'recv:^220 ' \
		"touch:$(hd_f "$y" ready)" "at:$at" \
		'send:PORT 192,0,2,2,159,11\r\nPORT 192,0,2,2,159,10\r\n' \
		'recv:^200 [^\n]*\n200 ' 'send:QUIT\r\n' 'recv:^221 '
	hd_ready "$y" "$(hd_f "$y" ready)" || rc=1
	[ "$rc" = 0 ] && { hd_wait "$y" || rc=$?; }
	# Y has its replies: the window (1 s) closes within 2 s
	sleep 2
	touch "$E2E_WORK/unexpect-stop.$2"
	wait "$deleter"
	touch "$(hd_f "$x" go)"
	hd_wait "$x" || true
	del=$(sed -n 's/^deleted=\([0-9]*\) .*/\1/p' "$E2E_WORK/unexpect.$2")
	if [ "$rc" != 0 ]; then
		e2e_fail "$c/round-$2" "session Y: $(hd_log "$y")"
	elif [ "${del:-0}" -lt 2 ]; then
		e2e_fail "$c/round-$2" "no deletion landed inside the window" \
			"($(cat "$E2E_WORK/unexpect.$2")): this round proves nothing"
	else
		e2e_pass "$c/round-$2"
	fi
}

unlink_cases() {
	local c=unlink/nat-rewrite-fails-deleted round
	topo router
	hd_build_inject || { e2e_fail "$c" "cannot build ct_inject: $(cat "$E2E_WORK/cc.log")"; return; }
	if ! hd_hooks remove 1000; then
		e2e_fail "$c" "test module: $PH_ERR"
		return
	fi
	fw_load_all
	in_ns "$NS_SV" /usr/bin/python3 "$PH_HOSTILE" server --listen :: \
		> "$E2E_WORK/hostile.log" 2>&1 &
	wait_listen "$NS_SV" 21 hostile
	nat_load dnat
	ph_set "$NS_FW" max_pinholes 4
	ph_dmesg_mark
	hd_snap
	for round in 1 2 3; do
		hd_unlink_round "$c" "$round"
	done
	if hd_kernel_clean; then
		e2e_pass "$c/no-kernel-report"
	else
		e2e_fail "$c/no-kernel-report" "$(ph_dmesg_new | grep -E 'BUG|WARNING|Oops|protection|corruption|refcount' | head -3 | tr '\n' ' ')"
	fi
	# the window was reached: each second PORT was left unrewritten
	if [ "$(($(pin_counter nat_unrewritable) - $(ph_get nat_unrewritable "$PH_SNAP_TEXT")))" -ge 3 ]; then
		e2e_pass "$c/rewrite-failed"
	else
		e2e_fail "$c/rewrite-failed" "nat_unrewritable did not rise by 3"
	fi
	ph_set "$NS_FW" max_pinholes 1
	nat_clear
	server_stop
	hd_restore || e2e_fail "$c/restore" "$PH_ERR"
	fw_load_all
}

# ------------------------------------------------------------ ctnetlink

hd_build_inject() {
	[ -n "$CT_INJECT" ] && return 0
	CT_INJECT=$E2E_WORK/ct_inject
	gcc -O1 -o "$CT_INJECT" "$E2E_DIR/ct_inject.c" \
		$(pkg-config --cflags --libs libnetfilter_conntrack) 2> "$E2E_WORK/cc.log" ||
		{ CT_INJECT=; return 1; }
}

# The master of a held IPv6 session is deleted and created again over
# ctnetlink with HELPER (or none); then NOOP (the parser, starting empty,
# resynchronises at the line after the first segment it sees), EPRT and a
# download.
# hd_ctnetlink CASE HELPER
hd_ctnetlink() {
	local c=$1 helper=$2 lp rc=0 drops
	hd_peer "$NS_CL" "$c" client "$SV6" 21 'recv:^220 ' \
		'send:USER anonymous\r\n' 'recv:^230 ' 'send:TYPE I\r\n' \
		'recv:^200 ' local "touch:$(hd_f "$c" ready)" \
		"wait:$(hd_f "$c" go)" 'send:NOOP\r\n' 'recv:^200 ' \
		"get:eprt:$FTP_FILE"
	hd_ready "$c" "$(hd_f "$c" ready)" || { e2e_fail "$c" "no login: $(hd_log "$c")"; return; }
	lp=$(hd_local_port "$c")
	in_ns "$NS_FW" conntrack -D -f ipv6 -p tcp --sport "$lp" --dport 21 >/dev/null 2>&1
	if ! in_ns "$NS_FW" "$CT_INJECT" conntrack 6 "$CL6" "$lp" "$SV6" 21 $helper; then
		e2e_fail "$c" "ct_inject failed"
		hd_reap
		return
	fi
	hd_snap
	drops=$(fw_counter "$NS_FW" tcp_new_dropped)
	touch "$(hd_f "$c" go)"
	if [ -n "$helper" ]; then
		hd_wait "$c" || rc=$?
		[ "$rc" = 0 ] && hd_received_ok "$c" && e2e_pass "$c" ||
			e2e_fail "$c" "exit $rc: $(hd_log "$c") (refused_family $(ph_get refused_family "$PH_SNAP_TEXT") -> $(pin_counter refused_family))"
	else
		hd_expect_blocked "$c" "$c" "$drops" \
			"downloaded with no helper on the injected entry"
	fi
}

ctnetlink_cases() {
	topo router
	hd_build_inject || { e2e_fail ctnetlink/build "$(head -c 300 "$E2E_WORK/cc.log")"; return; }
	vsftpd_start
	sysctl_ns "$NS_FW" net.netfilter.nf_conntrack_tcp_be_liberal=1
	hd_ctnetlink ctnetlink/v6-eprt-after-injection "$E2E_HELPER"
	hd_ctnetlink ctnetlink-nohelper/v6-eprt-after-injection ""
	sysctl_ns "$NS_FW" net.netfilter.nf_conntrack_tcp_be_liberal=0
	server_stop
}

# ------------------------------------------------------------ supersede

# Session A holds; an administrator's permanent expectation on it for
# cl -> sv:40000; session B's PASV draws a 227 for that very port.
supersede_cases() {
	local c=supersede/permanent-ctnetlink-expectation lp
	topo router
	hd_build_inject || { e2e_fail "$c" "cannot build ct_inject"; return; }
	in_ns "$NS_SV" /usr/bin/python3 "$PH_HOSTILE" server --listen :: \
		> "$E2E_WORK/hostile.log" 2>&1 &
	wait_listen "$NS_SV" 21 hostile
	hd_peer "$NS_CL" sA client "$SV4" 21 'recv:^220 ' local \
		"touch:$(hd_f sA ready)" "wait:$(hd_f sA go)"
	hd_ready sA "$(hd_f sA ready)" || { e2e_fail "$c" "session A: $(hd_log sA)"; return; }
	lp=$(hd_local_port sA)
	in_ns "$NS_FW" "$CT_INJECT" expect 4 "$CL4" "$lp" "$SV4" 21 \
		"$CL4" "$SV4" 40000 permanent ||
		{ e2e_fail "$c" "ct_inject expect failed"; hd_reap; return; }
	hd_snap
	hd_peer "$NS_CL" sB client "$SV4" 21 'recv:^220 ' 'send:PASV\r\n' \
		'recv:^227 ' 'send:QUIT\r\n' 'recv:^221 '
	hd_wait sB || true
	if [ "$(hd_expect_count "$NS_FW" "dport=40000 .*PERMANENT")" = 1 ]; then
		e2e_pass "$c/kept"
	else
		e2e_fail "$c/kept" "$(fw_expectations "$NS_FW" | tr '\n' ' ')"
	fi
	hd_counters_same pinholes_superseded && e2e_pass "$c/not-superseded" ||
		e2e_fail "$c/not-superseded" "$HD_WHY"
	touch "$(hd_f sA go)"
	hd_wait sA || true
	server_stop
}

# ------------------------------------------------------------ limit

# One session, max_pinholes=1: the client's PORT and the server's 227 (to
# an earlier PASV) leave at the same instant from two CPUs; the insertion
# window is 300 ms wide. Never more than one pinhole for the session.
limit_cases() {
	local c=limit/two-directions-two-cpus round at n worst=0
	topo router
	hd_hooks insert 300 || { e2e_fail "$c" "test module: $PH_ERR"; return; }
	fw_load_all
	for round in 1 2 3 4; do
		ct_flush "$NS_FW"
		at=$(awk -v t="$(date +%s.%N)" -v d="$((4 * E2E_SCALE))" 'BEGIN { printf "%.3f", t + d }')
		timeout -k 2 $((60 * E2E_SCALE)) ip netns exec "$NS_SV" taskset -c 1 /usr/bin/python3 \
			"$SCRIPTED" server :: 21 'send:220 hi\r\n' 'recv:PASV' \
			"at:$at" 'send:227 Entering Passive Mode (198,51,100,2,159,20)\r\n' \
			'recv:QUIT' 'send:221 bye\r\n' > "$(hd_f "ls$round" log)" 2>&1 &
		HD_PID[ls$round]=$!
		wait_listen "$NS_SV" 21 "ls$round"
		timeout -k 2 $((60 * E2E_SCALE)) ip netns exec "$NS_CL" taskset -c 0 /usr/bin/python3 \
			"$SCRIPTED" client "$SV4" 21 'recv:^220 ' 'send:PASV\r\n' \
			"at:$at" 'send:PORT 192,0,2,2,159,21\r\n' 'recv:^227 ' \
			'sleep:1' "touch:$(hd_f "lc$round" done)" 'sleep:2' \
			'send:QUIT\r\n' > "$(hd_f "lc$round" log)" 2>&1 &
		HD_PID[lc$round]=$!
		hd_ready "lc$round" "$(hd_f "lc$round" done)" ||
			{ e2e_fail "$c/round-$round" "$(hd_log "lc$round")"; continue; }
		n=$(hd_expect_count "$NS_FW" 'dport=4072[45] ')
		[ "$n" -gt "$worst" ] && worst=$n
		hd_wait "lc$round" || true
		hd_wait "ls$round" || true
	done
	[ "$worst" = 1 ] && e2e_pass "$c" ||
		e2e_fail "$c" "the session held $worst pinholes (max_pinholes=1)"
	hd_restore || e2e_fail "$c/restore" "$PH_ERR"
	fw_load_all
}

# ------------------------------------------------------------ enforce

# hd_enforce CASE ENFORCE REPLIES STEP...: the client sends STEPs, then
# waits for REPLIES (a regex); HD_N is the pinholes for the good PORT.
hd_enforce() {
	local c=$1 replies=$3
	ph_set "$NS_FW" enforce "$2"
	shift 3
	ct_flush "$NS_FW"
	hd_snap
	hd_peer "$NS_CL" "$c" --timeout 4 client "$SV4" 21 'recv:^220 ' \
		"$@" "recv:$replies" "touch:$(hd_f "$c" done)" 'sleep:1'
	wait_until 30 hd_has "$c" "$(hd_f "$c" done)" || true
	HD_N=$(hd_expect_count "$NS_FW" 'dport=40734 ')
	hd_wait "$c" || true
}

# A good PORT and a refused one (port 21) in one segment: enforce=1
# neutralises the refused line (the server answers it 500) and the good
# one keeps its pinhole. When the refused line began in an earlier
# segment it cannot be neutralised: its segment is dropped whole and
# opens nothing for the good PORT it carries.
enforce_cases() {
	local c=enforce/neutralised-segment-keeps-good-line
	local good='PORT 192,0,2,2,159,30\r\n' bad='PORT 192,0,2,2,0,21\r\n'
	topo router
	in_ns "$NS_SV" /usr/bin/python3 "$PH_HOSTILE" server --listen :: \
		> "$E2E_WORK/hostile.log" 2>&1 &
	wait_listen "$NS_SV" 21 hostile
	hd_enforce "$c" 1 '^200 [^\n]*\n500 ' "send:$good$bad"
	[ "$HD_N" = 1 ] && [ -e "$(hd_f "$c" done)" ] && e2e_pass "$c" ||
		e2e_fail "$c" "$HD_N pinholes for the good PORT (want 1):" \
			"$(tr '\n' ' ' < "$(hd_f "$c" log)")"
	c=enforce/dropped-segment-opens-nothing
	hd_enforce "$c" 1 '^200 [^\n]*\n200 ' 'send:PORT 192,0,2,2,0,' \
		'sleep:0.5' "send:21\r\n$good"
	[ "$HD_N" = 0 ] && e2e_pass "$c/no-pinhole" ||
		e2e_fail "$c/no-pinhole" "the good PORT of a dropped segment opened $HD_N pinhole(s)"
	[ "$(pin_counter dropped)" -gt "$(ph_get dropped "$PH_SNAP_TEXT")" ] &&
		e2e_pass "$c/dropped" || e2e_fail "$c/dropped" "nothing dropped"
	hd_enforce enforce-off/same-segment-passes 0 '^200 [^\n]*\n200 ' \
		'send:PORT 192,0,2,2,0,' 'sleep:0.5' "send:21\r\n$good"
	[ "$HD_N" = 1 ] && e2e_pass enforce-off/same-segment-passes ||
		e2e_fail enforce-off/same-segment-passes "enforce=0: $HD_N pinholes for the good PORT (want 1)"
	ph_set "$NS_FW" enforce 0
	server_stop
}

# ------------------------------------------------------------ replay

# DNAT: the server answers PASV with "150-" in one segment and, in the
# next, "227 (inside)" (text of the multi-line reply), "150 ok" and the
# real 227. That segment is lost once on its way to the client and
# retransmitted. The line inside the multi-line reply must never be
# rewritten; counted as unrewritable instead.
replay_cases() {
	local c=replay/lost-227-segment-began-in-multiline inside line
	inside='227 Entering Passive Mode (198,51,100,2,159,40)'
	topo router
	nat_load dnat
	hd_snap
	timeout -k 2 $((60 * E2E_SCALE)) ip netns exec "$NS_SV" /usr/bin/python3 "$SCRIPTED" \
		server :: 21 'send:220 hi\r\n' 'recv:PASV' 'send:150-Opening\r\n' \
		'sleep:0.3' "send:$inside\\r\\n150 ok\\r\\n$inside\\r\\n" \
		'recv:QUIT' 'send:221 bye\r\n' > "$(hd_f rs log)" 2>&1 &
	HD_PID[rs]=$!
	wait_listen "$NS_SV" 21 rs
	nat_lose_once "$NS_CL" 4 sport "227 " || { e2e_fail "$c" "cannot load the drop-once rule"; return; }
	hd_peer "$NS_CL" rc client "$FWC4" 21 'recv:^220 ' 'send:PASV\r\n' \
		'recv:^150 ok\r?\n227 ' 'send:QUIT\r\n' 'recv:^221 '
	hd_wait rc || true
	hd_wait rs || true
	line=$(sed -n 's/^< //p' "$(hd_f rc log)" | grep -m1 '^227 ')
	if [ "$(nat_lost_count "$NS_CL")" != 1 ]; then
		e2e_fail "$c" "the segment was not lost once: $(hd_log rc)"
	elif [ "${line%$'\r'}" = "$inside" ]; then
		e2e_pass "$c/inside-line-untouched"
	else
		e2e_fail "$c/inside-line-untouched" "the client got '$line'"
	fi
	[ "$(pin_counter nat_unrewritable)" -gt "$(ph_get nat_unrewritable "$PH_SNAP_TEXT")" ] &&
		e2e_pass "$c/counted" || e2e_fail "$c/counted" "nat_unrewritable did not rise"
	in_ns "$NS_CL" nft delete table inet "$NAT_LOSE_TABLE" 2>/dev/null
	nat_clear
}

# ------------------------------------------------------------ counters

# hd_count_case CASE STEP...: a crafted session against the hostile
# server; then the counter deltas NAME=DELTA... after "--" must hold.
hd_count_case() {
	local c=$1 steps=() want d name before
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do steps+=("$1"); shift; done
	shift
	ct_flush "$NS_FW"
	hd_snap
	hd_peer "$NS_CL" "$c" client "$SV4" 21 'recv:^220 ' "${steps[@]}" \
		'send:QUIT\r\n' 'recv:^221 '
	hd_wait "$c" || { e2e_fail "$c" "client: $(hd_log "$c")"; return; }
	for want in "$@"; do
		name=${want%%=*}
		before=$(ph_get "$name" "$PH_SNAP_TEXT")
		d=$(($(pin_counter "$name") - ${before:-0}))
		[ "$d" = "${want#*=}" ] ||
			{ e2e_fail "$c" "$name rose by $d, want ${want#*=}"; return; }
	done
	e2e_pass "$c"
}

counter_cases() {
	local five= p
	topo router
	in_ns "$NS_SV" /usr/bin/python3 "$PH_HOSTILE" server --listen :: \
		> "$E2E_WORK/hostile.log" 2>&1 &
	wait_listen "$NS_SV" 21 hostile
	for p in 50 51 52 53 54; do five+="PORT 192,0,2,2,159,$p\\r\\n"; done
	ph_set "$NS_FW" max_pinholes 4
	hd_count_case counters/five-offers-one-segment "send:$five" \
		'recv:^200 [^\n]*\n200 [^\n]*\n200 [^\n]*\n200 [^\n]*\n200 ' -- \
		lines_port=5 pinholes_opened=4 refused_offers_per_segment=1 \
		refused_limit_reached=0
	ph_set "$NS_FW" max_pinholes 1
	# One pinhole a session: the first three of the four lines decided
	# would be evicted by the next before the segment is through, so only
	# the fourth opens (before: four opened, then three evicted).
	hd_count_case counters/superseded-in-one-segment "send:$five" \
		'recv:^200 [^\n]*\n200 [^\n]*\n200 [^\n]*\n200 [^\n]*\n200 ' -- \
		lines_port=5 pinholes_opened=1 refused_limit_reached=3 \
		refused_offers_per_segment=1
	p=$(fw_expectations "$NS_FW" | grep -o 'dport=4075[0-9]')
	if [ "$p" = dport=40757 ]; then
		e2e_pass counters/superseded-in-one-segment/last-kept
	else
		e2e_fail counters/superseded-in-one-segment/last-kept \
			"pinholes left: '${p//$'\n'/ }', want the fourth line's dport=40757"
	fi
	hd_count_case counters/227-inside-multiline-reply \
		'send:SITE NEXT 230-x\\n227 Entering Passive Mode (198,51,100,2,159,60)\\n230 end\r\n' \
		'recv:^200 ' 'send:PASV\r\n' 'recv:^230 end' -- \
		lines_pasv=1 lines_227=1 refused_unanswered=1 pinholes_opened=0
	ph_dmesg_mark
	hd_count_case log/port-zero-names-its-address \
		'send:PORT 192,0,2,2,0,0\r\n' 'recv:^200 ' -- \
		lines_port=1 refused_out_of_range=1
	if ph_dmesg_new | grep -q 'refused port 192\.0\.2\.2 port 0 (port out of range) in session 192\.0\.2\.2:'; then
		e2e_pass log/port-zero-names-its-address/line
	else
		e2e_fail log/port-zero-names-its-address/line "$(ph_dmesg_new | grep refused | tail -1)"
	fi
	server_stop
}

# ------------------------------------------------------------ ops

# The gauges of what is open now, and the per-namespace log knob: a held
# session with one pinhole, then released and flushed.
hd_gauge() { in_ns "$NS_FW" awk -v n="$1" '$1 == n { print $2 }' "$PH_PROC"; }

ops_cases() {
	local c=ops/gauges netns line
	topo router
	in_ns "$NS_SV" /usr/bin/python3 "$PH_HOSTILE" server --listen :: \
		> "$E2E_WORK/hostile.log" 2>&1 &
	wait_listen "$NS_SV" 21 hostile
	ct_flush "$NS_FW"
	[ "$(hd_gauge sessions_open)" = 0 ] && [ "$(hd_gauge pinholes_open)" = 0 ] &&
		e2e_pass "$c/idle" || e2e_fail "$c/idle" "$(ph_counters | tail -2 | tr '\n' ' ')"
	ph_set "$NS_FW" log 2
	ph_dmesg_mark
	hd_peer "$NS_CL" og client "$SV4" 21 'recv:^220 ' \
		'send:PORT 192,0,2,2,159,70\r\n' 'recv:^200 ' \
		'send:PORT 192,0,2,2,0,22\r\n' 'recv:^200 ' \
		"touch:$(hd_f og ready)" "wait:$(hd_f og go)"
	hd_ready og "$(hd_f og ready)" || { e2e_fail "$c" "client: $(hd_log og)"; return; }
	[ "$(hd_gauge sessions_open)" = 1 ] && [ "$(hd_gauge pinholes_open)" = 1 ] &&
		e2e_pass "$c/one-session-one-pinhole" ||
		e2e_fail "$c/one-session-one-pinhole" "$(ph_counters | tail -2 | tr '\n' ' ')"
	netns=$(in_ns "$NS_FW" stat -L -c %i /proc/self/ns/net)
	line=$(ph_dmesg_new | grep 'opened port 192\.0\.2\.2 port 40774 (active)')
	[[ $line == *"(netns $netns)"* ]] && e2e_pass ops/log=2/opened-line-names-netns ||
		e2e_fail ops/log=2/opened-line-names-netns "'$line' (fw is netns $netns)"
	ph_dmesg_new | grep -q "refused port 192\.0\.2\.2 port 22 (privileged port) .*(netns $netns)" &&
		e2e_pass ops/log=2/refused-line || e2e_fail ops/log=2/refused-line "no line"
	touch "$(hd_f og go)"
	hd_wait og || true
	ct_flush "$NS_FW"
	[ "$(hd_gauge sessions_open)" = 0 ] && [ "$(hd_gauge pinholes_open)" = 0 ] &&
		e2e_pass "$c/after-flush" || e2e_fail "$c/after-flush" "$(ph_counters | tail -2 | tr '\n' ' ')"
	ph_set "$NS_FW" log 0
	ph_dmesg_mark
	hd_count_case ops/log=0/silent 'send:PORT 192,0,2,2,0,22\r\n' 'recv:^200 ' -- \
		refused_privileged_port=1
	ph_dmesg_new | grep -q 'refused port' &&
		e2e_fail ops/log=0/silent/no-line "a line was logged with log=0" ||
		e2e_pass ops/log=0/silent/no-line
	ph_set "$NS_FW" log 1
	server_stop
}

# All of it inside one function, called on the last line with exit: bash
# has then read the whole file, and an edit during a run cannot disturb it.
hardening_main() {
	local group
	for group in ${PINHOLE_HARDENING_GROUPS:-icmp counter ops unlink ctnetlink supersede limit enforce replay}; do
		"${group}_cases"
	done
	e2e_finish
}

hardening_main; exit
