#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A firewall pair (tests/e2e/ha_lib.sh): fw1 active, fw2 backup, conntrackd
# FTFW between them with ExpectationSync naming pinhole-ftp. Each case runs
# one FTP control connection (tests/e2e/ha_ftp.py) through fw1, fails over
# to fw2 at a chosen moment and checks what fw2 carries on:
#
#   paused/MODE-vF    the data port was negotiated through fw1; after the
#                     failover the data connection opens through fw2 on
#                     the replicated pinhole (fw2 counts it as expected)
#                     and the file arrives intact; the failover-to-data-
#                     connection time is printed (# lines). The file is
#                     made of 227/229/PORT/EPRT lines naming the server,
#                     which fw2 must not parse (data/MODE-vF: on a kernel
#                     without exp->assign_helper the data connection
#                     carries the helper the replicated expectation names;
#                     Debian's 6.1 and 6.12 attach none, so there this
#                     checks the outcome only: its line counters move
#                     only for transfer 2's own negotiation; its
#                     sessions_open gauge and pinholectl show count one
#                     session, not the data connection)
#   show/MODE-vF      right after the commit, pinholectl show in fw2 lists
#                     the replicated session and its pinhole
#   resync/MODE-vF    on the same control connection, after one line
#                     (NOOP) the next PASV/EPSV/PORT/EPRT opens a new
#                     pinhole in fw2: its parser, which started empty,
#                     resynchronised (counted) and parsed the line
#   inflight/MODE-vF  a transfer whose data connection is open during the
#                     failover completes through fw2, intact
#   ftps/pasv-v4      an FTPS session (opaque on fw1) survives the failover;
#                     fw2 sees a TLS record first, makes the session opaque
#                     (refused_encrypted, pinholectl show: encrypted) and
#                     opens nothing
#   nat/MODE-vF       both firewalls translate the client to the service
#                     address: the paused transfer completes through fw2,
#                     passive (fw2's own SNAT rule translates the data) and
#                     active (fw1's PORT/EPRT rewrite moved the session's
#                     sequence adjustment, which reached fw2; fw2 gives the
#                     replicated pinhole its translation, see ha_nat)
#   first-line/MODE-vF  the control connection is idle at the failover, so
#                     the PASV/EPSV/PORT/EPRT is the very first line fw2
#                     sees: fw2 picks the stream up at that segment
#                     (resyncs +2, one per direction), opens the pinhole
#                     and the file arrives
# Negative controls:
#   no-expsync/MODE-vF  conntrackd without ExpectationSync: the paused
#                     transfer's data connection is dropped by fw2
#                     (tcp_new_dropped), the control connection survives
#   no-conntrackd/pasv-v4  no conntrackd: fw2 drops the data connection
#                     and the control connection itself (NOOP unanswered)
#   first-line-refused/pasv-v4  the first-line case with passive=0 on fw2:
#                     fw2 parses the PASV, refuses its 227 (counted in
#                     refused_mode_disabled) and the download fails
set -eu
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/e2e/ha_lib.sh
. "$(dirname "$0")/ha_lib.sh"

PCTL=${PINHOLECTL:-$REPO_ROOT/userspace/pinholectl}
HA_BIG=big.bin
HA_LINES=lines.txt

# ha_client CASE MODE FAMILY ARGS...: start ha_ftp.py in cl, in the
# background; HA_SYNC is its sync directory, HA_LOG its output, HA_PID.
ha_client() {
	local case=$1 mode=$2 fam=$3
	shift 3
	HA_SYNC=$E2E_WORK/sync.${case//\//_}
	HA_LOG=$HA_SYNC.log
	rm -rf "$HA_SYNC"
	mkdir -p "$HA_SYNC"
	ip netns exec "$NS_CL" /usr/bin/python3 "$E2E_DIR/ha_ftp.py" \
		--host "$(sv_addr "$fam")" --mode "$mode" --sync "$HA_SYNC" "$@" \
		> "$HA_LOG" 2>&1 &
	HA_PID=$!
}

ha_line() { # KEY: the value of the client's first "KEY: value" line
	sed -n "s/^$1: //p" "$HA_LOG" | head -n 1
}

ha_client_sum() { # N: the sha256 of transfer N
	ha_line "received$1" | sed -n 's/.*sha256=//p'
}

ha_client_why() { tail -n 3 "$HA_LOG" | tr '\n' ' ' | cut -c1-300; }

# ha_client_end: wait for the client (bounded) and return its status.
ha_client_end() {
	local n=0
	while kill -0 "$HA_PID" 2>/dev/null && [ "$n" -lt $((E2E_T_XFER * 10 * 2)) ]; do
		sleep 0.1
		n=$((n + 1))
	done
	kill "$HA_PID" 2>/dev/null || true
	wait "$HA_PID"
}

# ha_stopped NAME: the client reached its stop NAME (or exited early).
# Three transfer timeouts: under a load average of 12 on two cores, a
# client took 30 s to start, log in and negotiate.
ha_stopped() {
	wait_until $((E2E_T_XFER * 3)) ha_stop_or_exit "$1"
	[ -e "$HA_SYNC/$1" ]
}
ha_stop_or_exit() { [ -e "$HA_SYNC/$1" ] || ! kill -0 "$HA_PID" 2>/dev/null; }

fw2_pin() { NS_FW=$NS_FW2 pin_counter "$1"; }

# fw2_lines: announcing lines fw2 has parsed (227, 229, PORT, EPRT)
fw2_lines() {
	echo $(($(fw2_pin lines_227) + $(fw2_pin lines_229) +
		$(fw2_pin lines_port) + $(fw2_pin lines_eprt)))
}

# ha_lines_file: HA_LINES, a file of announcing lines that name the
# server (as a data connection's sender, the server is their announcer)
ha_lines_file() {
	local i
	for i in $(seq 1 64); do
		printf '227 Entering Passive Mode (%s,156,%d)\r\n' "${SV4//./,}" "$i"
		printf '229 Entering Extended Passive Mode (|||%d|)\r\n' $((40100 + i))
		printf 'PORT %s,157,%d\r\n' "${SV4//./,}" "$i"
		printf 'EPRT |1|%s|%d|\r\n' "$SV4" $((40300 + i))
		printf 'EPRT |2|%s|%d|\r\n' "$SV6" $((40500 + i))
	done > "$FTP_ROOT/$HA_LINES"
	chmod 0644 "$FTP_ROOT/$HA_LINES"
	HA_LINES_SUM=$(sha256sum < "$FTP_ROOT/$HA_LINES" | cut -d' ' -f1)
}

secs_since() { secs_between "$1" "${EPOCHREALTIME/,/.}"; }

# ha_show_check CASE PORT: pinholectl show in fw2 lists one session to
# the server's port 21 with a pinhole for PORT.
ha_show_check() {
	local case=$1 port=$2 out
	out=$("$PCTL" --netns "$NS_FW2" --json show 2>&1) || {
		e2e_fail "$case" "pinholectl show failed: $(head -c 300 <<< "$out")"
		return 0
	}
	echo "$out" > "$E2E_WORK/show.${case//\//_}.json"
	if /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
port = int(sys.argv[1])
ok = any(p["destination"]["port"] == port for s in d["sessions"] for p in s["pinholes"])
sys.exit(0 if ok and len(d["sessions"]) == 1 else 1)' "$port" <<< "$out"; then
		e2e_log "$case: $(tr -d ' \n' <<< "$out" | cut -c1-400)"
		e2e_pass "$case"
	else
		e2e_fail "$case" "pinholectl show in fw2 lacks the session or pinhole $port:" \
			"$(tr '\n' ' ' <<< "$out" | cut -c1-400)"
	fi
}

# ha_wait_replicated CASE PORT: fw2's conntrackd received the pinhole.
ha_wait_replicated() {
	local t0=${EPOCHREALTIME/,/.}
	if ! wait_until 10 ha_replicated "$NS_FW2" "$2"; then
		e2e_fail "$1" "the pinhole for port $2 never reached fw2's external cache:" \
			"$(ctd "$NS_FW2" -e expect 2>&1 | tr '\n' ' ' | cut -c1-300)"
		return 1
	fi
	e2e_log "$1: pinhole replicated to fw2 within $(secs_since "$t0") s"
}

# ha_paused MODE FAMILY: paused/, show/ and resync/ cases (see the header).
ha_paused() {
	local mode=$1 fam=$2 tag=$1-v$2 port port2 e0 e1 f0 f1 o0 o1 r0 r1 l0 l1 go conn total rc=0
	local sessions listed
	ha_reset
	ha_client "paused/$tag" "$mode" "$fam" --file "$HA_LINES" --second \
		--timeout "$E2E_T_XFER"
	if ! ha_stopped stopped; then
		e2e_fail "paused/$tag" "no negotiation through fw1: $(ha_client_why)"
		ha_client_end || true
		return
	fi
	port=$(ha_line negotiated1 | awk '{ print $2 }')
	ha_wait_replicated "paused/$tag" "$port" || { touch "$HA_SYNC/go"; ha_client_end || true; return; }
	e0=$(fw_counter "$NS_FW2" data_expected)
	f0=$(fw_counter "$NS_FW1" data_expected)
	o0=$(fw2_pin pinholes_opened)
	r0=$(fw2_pin resyncs)
	l0=$(fw2_lines)
	ha_failover "$NS_FW1" "$NS_FW2"
	ha_show_check "show/$tag" "$port"
	go=${EPOCHREALTIME/,/.}
	touch "$HA_SYNC/go"
	if ! ha_stopped stopped2; then
		ha_client_end || rc=$?
		e2e_fail "paused/$tag" "transfer through fw2 failed (client $rc): $(ha_client_why)"
		e2e_skip "resync/$tag" "the first transfer failed"
		return
	fi
	e1=$(fw_counter "$NS_FW2" data_expected)
	f1=$(fw_counter "$NS_FW1" data_expected)
	l1=$(fw2_lines)
	conn=$(ha_line connected1)
	# transfer 2's PASV+227, EPSV+229, PORT or EPRT: its announcing line
	sessions=$(fw2_pin sessions_open)
	listed=$("$PCTL" --netns "$NS_FW2" --json show 2>&1 | /usr/bin/python3 -c \
		'import json, sys; print(len(json.load(sys.stdin)["sessions"]))' 2>&1)
	if [ "$l1" != $((l0 + 1)) ]; then
		e2e_fail "data/$tag" "fw2's announcing-line counters moved $l0 -> $l1" \
			"(want +1, transfer 2's own): it parsed the data connection"
	elif [ "$sessions" != 1 ] || [ "$listed" != 1 ]; then
		e2e_fail "data/$tag" "fw2 counts $sessions sessions open, pinholectl lists" \
			"'$listed' (want 1: transfer 1's data connection is no session)"
	else
		e2e_pass "data/$tag"
	fi
	if [ "$(ha_client_sum 1)" != "$HA_LINES_SUM" ]; then
		e2e_fail "paused/$tag" "file differs: $(ha_line received1)"
	elif [ "$e1" -le "$e0" ] || [ "$f1" != "$f0" ]; then
		e2e_fail "paused/$tag" "data_expected fw2 $e0 -> $e1, fw1 $f0 -> $f1:" \
			"the data connection did not pass fw2 as an expected one"
	else
		# the failover's own steps, plus the data connection's delay
		# after them (the test's pinholectl check in between excluded)
		total=$(awk -v f="$HA_FAILOVER_S" -v d="$(secs_between "$go" "$conn")" \
			'BEGIN { printf "%.3f", f + d }')
		e2e_log "paused/$tag: failover $HA_FAILOVER_S s ($HA_STEPS), of which" \
			"the commits $HA_COMMIT_S s; data connection up" \
			"$(secs_between "$go" "$conn") s after it: $total s in all"
		echo "$total" >> "$E2E_WORK/ha.times"
		e2e_pass "paused/$tag"
	fi
	port2=$(ha_line negotiated2 | awk '{ print $2 }')
	o1=$(fw2_pin pinholes_opened)
	r1=$(fw2_pin resyncs)
	# pinholes_opened: transfer 2's pinhole is the first one fw2 opened
	# itself (transfer 1's was committed by conntrackd)
	if ! fw_expectations "$NS_FW2" | grep -qE "dport=$port2 .*helper=pinhole-ftp"; then
		e2e_fail "resync/$tag" "no pinhole for port $port2 in fw2:" \
			"$(fw_expectations "$NS_FW2" | tr '\n' ' ' | cut -c1-300)"
	elif [ "$o1" != $((o0 + 1)) ] || [ "$r1" -le "$r0" ]; then
		e2e_fail "resync/$tag" "fw2 pinholes_opened $o0 -> $o1 (want +1), resyncs $r0 -> $r1"
	else
		touch "$HA_SYNC/go2"
		if ! ha_client_end; then
			e2e_fail "resync/$tag" "transfer 2 failed: $(ha_client_why)"
		elif [ "$(ha_client_sum 2)" != "$HA_LINES_SUM" ]; then
			e2e_fail "resync/$tag" "transfer 2: file differs"
		else
			e2e_log "resync/$tag: fw2 resyncs $r0 -> $r1, pinholes_opened $o0 -> $o1"
			e2e_pass "resync/$tag"
		fi
		return
	fi
	touch "$HA_SYNC/go2"
	ha_client_end || true
}

# ha_inflight MODE FAMILY: the failover happens while the data
# connection of a 4 MB download is open and mostly still to come.
ha_inflight() {
	local mode=$1 fam=$2 case=inflight/$1-v$2 got dport held
	ha_reset
	ha_client "$case" "$mode" "$fam" --file "$HA_BIG" --when inflight \
		--rcvbuf 4096 --timeout "$E2E_T_XFER"
	if ! ha_stopped stopped; then
		e2e_fail "$case" "the download did not start through fw1: $(ha_client_why)"
		ha_client_end || true
		return
	fi
	# the data connection itself must be in fw2's external cache
	if ! wait_until 10 ha_replicated_ct "$NS_FW2" "$(ha_line negotiated1 | awk '{ print $2 }')"; then
		e2e_fail "$case" "the data connection never reached fw2's external cache"
		touch "$HA_SYNC/go"
		ha_client_end || true
		return
	fi
	ha_failover "$NS_FW1" "$NS_FW2"
	dport=$(ha_line negotiated1 | awk '{ print $2 }')
	held=$(in_ns "$NS_FW2" conntrack -L -f "$(ha_ctfam "$fam")" -p tcp \
		--dport "$dport" 2>/dev/null | grep -c ESTABLISHED || true)
	touch "$HA_SYNC/go"
	if [ "$held" != 1 ]; then
		e2e_fail "$case" "fw2's kernel holds $held established data connections to port $dport"
		ha_client_end || true
		return
	elif ! ha_client_end; then
		e2e_fail "$case" "download failed after the failover: $(ha_client_why)"
		return
	fi
	got=$(ha_client_sum 1)
	if [ "$got" != "$HA_BIG_SUM" ]; then
		e2e_fail "$case" "file differs: $(ha_line received1)"
		return
	fi
	e2e_log "$case: failover $HA_FAILOVER_S s; data connection committed to fw2;" \
		"$(ha_line received1 | cut -d' ' -f1-2) intact"
	e2e_pass "$case"
}

ha_ctfam() { [ "$1" = 4 ] && echo ipv4 || echo ipv6; }

# ha_replicated_ct NS PORT: a conntrack with PORT is in NS's external cache.
ha_replicated_ct() {
	ctd "$1" -e ct 2>/dev/null | grep -q "port=$2 "
}

# ha_negative CASE MODE FAMILY nosync|noexp: the paused transfer must fail.
# noexp: fw2 drops the data connection, the control connection survives;
# nosync: the control connection dies too.
ha_negative() {
	local case=$1 mode=$2 fam=$3 how=$4 d0 d1 after t
	if [ "$how" = noexp ]; then
		ha_reset noexp
	else
		ha_reset none
	fi
	# active: vsftpd gives up connecting after its connect_timeout (10 s)
	# and answers 425; the client must outwait that (ftplib cannot go on
	# with a control connection whose read timed out)
	t=$E2E_T_NEG
	[ "$(mode_kind "$mode")" = active ] && t=$((E2E_T_NEG + 12))
	ha_client "$case" "$mode" "$fam" --file "$FTP_FILE" --timeout "$t"
	if ! ha_stopped stopped; then
		e2e_fail "$case" "no negotiation through fw1: $(ha_client_why)"
		ha_client_end || true
		return
	fi
	[ "$how" = noexp ] && sleep 1	# what would have been replicated, is
	d0=$(fw_counter "$NS_FW2" tcp_new_dropped)
	ha_failover "$NS_FW1" "$NS_FW2"
	touch "$HA_SYNC/go"
	if ha_client_end && [ "$(ha_client_sum 1)" = "$FTP_SUM" ]; then
		e2e_fail "$case" "the transfer succeeded after the failover"
		return
	fi
	d1=$(fw_counter "$NS_FW2" tcp_new_dropped)
	after=$(ha_line control-after)
	if [ "$d1" -le "$d0" ]; then
		e2e_fail "$case" "failed, but fw2 dropped no new TCP packet ($d0 -> $d1): $(ha_client_why)"
	elif [ "$how" = noexp ] && [ "${after:0:3}" != 200 ]; then
		e2e_fail "$case" "the control connection did not survive: '$after'"
	elif [ "$how" = nosync ] && [ "${after:0:4}" != dead ]; then
		e2e_fail "$case" "the control connection survived without conntrackd: '$after'"
	else
		e2e_log "$case: failed as it must: $(ha_client_why)"
		e2e_pass "$case"
	fi
}

# ha_first_line MODE FAMILY [refused]: the failover happens while the
# control connection is idle, so the negotiation is the very first line
# fw2 sees. fw2 picks each direction up at its first segment (resyncs +2)
# and parses it: the pinhole opens on fw2 and the file arrives. With
# "refused", fw2's policy has passive=0: the 227/229 is refused there
# (refused_mode_disabled), fw2 drops the data connection, the download
# fails (which only a parsed line can cause).
ha_first_line() {
	local mode=$1 fam=$2 how=${3:-} case rc=0 r0 r1 o0 o1 m0 m1 d0 d1 t
	case=first-line/$mode-v$fam
	[ -n "$how" ] && case=first-line-refused/$mode-v$fam
	ha_reset
	t=$E2E_T_XFER
	[ -n "$how" ] && t=$E2E_T_NEG
	ha_client "$case" "$mode" "$fam" --file "$FTP_FILE" --when idle --timeout "$t"
	if ! ha_stopped stopped; then
		e2e_fail "$case" "no login through fw1: $(ha_client_why)"
		ha_client_end || true
		return
	fi
	sleep 1	# the session reaches fw2's external cache
	[ -n "$how" ] && sysctl_ns "$NS_FW2" net.netfilter.pinhole_ftp.passive=0
	r0=$(fw2_pin resyncs)
	o0=$(fw2_pin pinholes_opened)
	m0=$(fw2_pin refused_mode_disabled)
	d0=$(fw_counter "$NS_FW2" tcp_new_dropped)
	ha_failover "$NS_FW1" "$NS_FW2"
	touch "$HA_SYNC/go"
	ha_client_end || rc=$?
	[ -n "$how" ] && sysctl_ns "$NS_FW2" net.netfilter.pinhole_ftp.passive=1
	r1=$(fw2_pin resyncs)
	o1=$(fw2_pin pinholes_opened)
	m1=$(fw2_pin refused_mode_disabled)
	d1=$(fw_counter "$NS_FW2" tcp_new_dropped)
	if [ -n "$how" ]; then
		if [ "$rc" = 0 ]; then
			e2e_fail "$case" "downloaded with passive=0 on fw2"
		elif [ "$m1" != $((m0 + 1)) ] || [ "$d1" -le "$d0" ]; then
			e2e_fail "$case" "fw2 refused_mode_disabled $m0 -> $m1 (want +1)," \
				"tcp_new_dropped $d0 -> $d1: $(ha_client_why)"
		else
			e2e_log "$case: refused on fw2 as it must: $(ha_client_why | cut -c1-160)"
			e2e_pass "$case"
		fi
		return
	fi
	if [ "$rc" != 0 ] || [ "$(ha_client_sum 1)" != "$FTP_SUM" ]; then
		e2e_fail "$case" "client exit $rc: $(ha_client_why);" \
			"fw2 resyncs $r0 -> $r1, pinholes_opened $o0 -> $o1"
	elif [ "$o1" != $((o0 + 1)) ] || [ "$r1" != $((r0 + 2)) ]; then
		e2e_fail "$case" "fw2 pinholes_opened $o0 -> $o1 (want +1)," \
			"resyncs $r0 -> $r1 (want +2)"
	else
		e2e_log "$case: first line through fw2 parsed: resyncs $r0 -> $r1," \
			"pinholes_opened $o0 -> $o1; $(ha_line received1)"
		e2e_pass "$case"
	fi
}

# ha_tls_cert: a self-signed certificate for vsftpd's AUTH TLS.
ha_tls_cert() {
	run_quiet openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -subj /CN=sv -days 2 -keyout "$E2E_WORK/tls.key" \
		-out "$E2E_WORK/tls.crt" || die "cannot make a TLS certificate"
}

# ha_ftps: an FTPS session (AUTH TLS) through fw1, which makes it opaque
# (refused_encrypted); after the failover fw2 carries it on. The opaque
# flag is not replicated (conntrackd carries no helper data), but the
# first segment fw2 sees is a TLS record: fw2 makes the session opaque
# (its own refused_encrypted +1) and opens nothing: the PASV and 227
# inside TLS reach the ends (NOOP and PASV answered) while fw2 holds no
# pinhole and counts no pinhole opened.
ha_ftps() {
	local case=ftps/pasv-v4 e0 e1 o0 o1 x g0 g1
	ha_reset
	e0=$(NS_FW=$NS_FW1 pin_counter refused_encrypted)
	ha_client "$case" pasv 4 --file "$FTP_FILE" --tls --timeout "$E2E_T_XFER"
	if ! ha_stopped stopped; then
		e2e_fail "$case" "no TLS session through fw1: $(ha_client_why)"
		ha_client_end || true
		return
	fi
	e1=$(NS_FW=$NS_FW1 pin_counter refused_encrypted)
	sleep 1	# the session reaches fw2's external cache
	o0=$(fw2_pin pinholes_opened)
	g0=$(fw2_pin refused_encrypted)
	ha_failover "$NS_FW1" "$NS_FW2"
	touch "$HA_SYNC/go"
	if ! ha_client_end; then
		e2e_fail "$case" "the TLS session did not survive the failover: $(ha_client_why)"
		return
	fi
	o1=$(fw2_pin pinholes_opened)
	g1=$(fw2_pin refused_encrypted)
	x=$(fw_expectations "$NS_FW2" | grep -c 'helper=pinhole-ftp' || true)
	if [ "$e1" -le "$e0" ]; then
		e2e_fail "$case" "fw1 did not see the session go opaque (refused_encrypted $e0 -> $e1)"
	elif [ "$(ha_line tls-pasv | cut -c1-3)" != 227 ] || [ "$o1" != "$o0" ] || [ "$x" != 0 ]; then
		e2e_fail "$case" "PASV '$(ha_line tls-pasv)'; fw2 pinholes_opened $o0 -> $o1," \
			"$x pinholes in fw2"
	elif [ "$g1" != $((g0 + 1)) ]; then
		e2e_fail "$case" "fw2 did not make the session opaque (refused_encrypted $g0 -> $g1)"
	else
		e2e_log "$case: $(ha_line tls); through fw2 after the failover:" \
			"'$(ha_line tls-noop)', '$(ha_line tls-pasv)'; nothing opened"
		e2e_pass "$case"
	fi
}

# ha_nat_load NS: NS translates cl's connections to the outside service
# address (FWS4/FWS6), which moves with the failover. (masquerade would
# pick each firewall's own address, which the other one does not have.)
ha_nat_load() {
	run_quiet in_ns "$1" nft -f - <<-EOF || die "cannot load NAT in $1"
		table ip ha_nat4 {
			chain post {
				type nat hook postrouting priority srcnat; policy accept;
				oifname "eth1" snat to $FWS4
			}
		}
		table ip6 ha_nat6 {
			chain post {
				type nat hook postrouting priority srcnat; policy accept;
				oifname "eth1" snat to $FWS6
			}
		}
	EOF
}

# ha_nat MODE FAMILY: the pair translates the client (SNAT to the service
# address), and sv has no route back to cl's network: only a translated
# connection works. The paused transfer must complete through fw2. Passive:
# the 227/229 names the server, nothing was rewritten. Active: fw1 rewrote
# the PORT/EPRT to the service address, which changed the control
# connection's length; fw2 must have learnt that sequence adjustment
# (pinhole raises the event conntrackd replicates on; without it the next
# command arrives shifted and vsftpd answers 500), and must translate the
# replicated pinhole, which arrives without its translation, to the client
# (pinhole_nat_adopt(); without it the server's data connection ends on
# fw2 itself and vsftpd answers 425).
ha_nat() {
	local mode=$1 fam=$2 case=nat/$1-v$2 reply why
	ha_reset
	ha_client "$case" "$mode" "$fam" --file "$FTP_FILE" --timeout "$E2E_T_XFER"
	if ! ha_stopped stopped; then
		e2e_fail "$case" "no negotiation through fw1: $(ha_client_why)"
		ha_client_end || true
		return
	fi
	ha_wait_replicated "$case" "$(ha_line negotiated1 | awk '{ print $2 }')" ||
		{ touch "$HA_SYNC/go"; ha_client_end || true; return; }
	ha_failover "$NS_FW1" "$NS_FW2"
	e2e_log "$case: fw2 after the commit: $(fw_expectations "$NS_FW2" | tr '\n' ' ' | cut -c1-300)"
	touch "$HA_SYNC/go"
	if ha_client_end && [ "$(ha_client_sum 1)" = "$FTP_SUM" ]; then
		e2e_log "$case: transferred through fw2"
		e2e_pass "$case"
		return
	fi
	reply=$(ha_line data-failed1)
	case $reply in
	*" 500 "*) why="the first command after the failover arrived shifted (no sequence adjustment on fw2)" ;;
	*" 425 "*) why="the command arrived intact, the data connection failed (pinhole without its translation)" ;;
	*) why="the transfer failed" ;;
	esac
	e2e_fail "$case" "$why: $reply; control connection afterwards: $(ha_line control-after);" \
		"$(ha_client_why)"
}

# ha_nat_cases: NAT on both firewalls, sv without a route back, then
# as before.
ha_nat_cases() {
	ha_nat_load "$NS_FW1"
	ha_nat_load "$NS_FW2"
	in_ns "$NS_SV" ip route del default
	in_ns "$NS_SV" ip -6 route del default
	ha_nat pasv 4
	ha_nat epsv 6
	ha_nat port 4
	ha_nat eprt 6
	in_ns "$NS_SV" ip route add default via "$FWS4"
	in_ns "$NS_SV" ip -6 route add default via "$FWS6"
	in_ns "$NS_FW1" nft delete table ip ha_nat4
	in_ns "$NS_FW1" nft delete table ip6 ha_nat6
	in_ns "$NS_FW2" nft delete table ip ha_nat4
	in_ns "$NS_FW2" nft delete table ip6 ha_nat6
}

e2e_init ha
[ -x "$HA_CTD" ] || die "conntrackd is not installed ($HA_CTD)"
[ -x "$PCTL" ] || die "pinholectl is not built ($PCTL)"
ha_build
ha_fw_load "$NS_FW1"
ha_fw_load "$NS_FW2"
ftp_root
ha_lines_file
head -c 4194304 /dev/urandom > "$FTP_ROOT/$HA_BIG" && chmod 0644 "$FTP_ROOT/$HA_BIG" ||
	die "cannot create $HA_BIG"
HA_BIG_SUM=$(sha256sum < "$FTP_ROOT/$HA_BIG" | cut -d' ' -f1)
ha_tls_cert
# AUTH TLS offered, never required: the other cases speak plain FTP. A
# data connection may stall for a whole failover: 300 s, not lib.sh's 30
# (a failover took 45 s under a load average of 13, and vsftpd cut the
# in-flight transfer with 421 Data timeout).
vsftpd_start "" data_connection_timeout=300 \
	ssl_enable=YES allow_anon_ssl=YES force_anon_logins_ssl=NO \
	force_anon_data_ssl=NO require_ssl_reuse=NO \
	rsa_cert_file="$E2E_WORK/tls.crt" rsa_private_key_file="$E2E_WORK/tls.key"

for c in ${PINHOLE_HA_CASES:-paused inflight first-line ftps nat negative}; do
	case $c in
	paused)
		ha_paused pasv 4
		ha_paused port 4
		ha_paused epsv 6
		ha_paused eprt 6
		;;
	inflight)
		ha_inflight pasv 4
		ha_inflight eprt 6
		;;
	negative)
		ha_negative no-expsync/pasv-v4 pasv 4 noexp
		ha_negative no-expsync/eprt-v6 eprt 6 noexp
		ha_negative no-conntrackd/pasv-v4 pasv 4 nosync
		;;
	first-line)
		ha_first_line pasv 4
		ha_first_line port 4
		ha_first_line epsv 6
		ha_first_line eprt 6
		ha_first_line pasv 4 refused
		;;
	nat) ha_nat_cases ;;
	ftps) ha_ftps ;;
	esac
done
if [ -s "$E2E_WORK/ha.times" ]; then
	e2e_log "failover to data connection: $(sort -n "$E2E_WORK/ha.times" | tr '\n' ' ')s"
fi
# conntrackd's own view of its commits (the guest's wall clock above
# includes starting conntrackd's client under TCG)
e2e_log "fw2's conntrackd commits took: $(sed -n 's/.*commit has taken \([0-9.]*\) seconds/\1/p' \
	"$E2E_WORK/conntrackd.$NS_FW2.log" 2>/dev/null | sort -n | tr '\n' ' ')s"
ha_ctd_stop "$NS_FW1"
ha_ctd_stop "$NS_FW2"
e2e_finish
