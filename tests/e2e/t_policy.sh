#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Policy and observability: every knob under net.netfilter.pinhole_ftp
# (per namespace), every counter of /proc/net/pinhole_ftp that traffic can
# provoke, the kernel log line of a refusal, the module parameters as the
# defaults of a new namespace, helper_name=ftp, and unloading with live
# sessions. Runs in the "router" topology (the firewall is fw); crafted
# lines come from tests/e2e/hostile_ftp.py (a scriptable client, and a
# scriptable server in place of vsftpd).
#
# Each positive case has its negative control: the same traffic under the
# forbidding setting (or without the offer being acceptable) is refused,
# blocked or not counted, and that is asserted too.
#
# This scenario reloads the module (with parameters, as helper_name=ftp,
# while sessions are live) and leaves it loaded as run.sh loaded it.
set -u
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/e2e/policy_lib.sh
. "$E2E_DIR/policy_lib.sh"

if [ "$E2E_HELPER" != pinhole-ftp ]; then
	e2e_skip policy "PINHOLE_HELPER=$E2E_HELPER: the policy is pinhole-ftp's"
	exit 0
fi
ph_loaded || { echo "FAIL: $E2E_SUITE/policy/setup: $PH_MOD is not loaded"; exit 1; }

e2e_init policy
ph_exit() {
	local rc=$?
	[ -z "${PH_PID:-}" ] || kill "$PH_PID" 2>/dev/null
	[ -z "${PH_STEP_PID:-}" ] || kill "$PH_STEP_PID" 2>/dev/null
	if ! ph_restore_module; then
		echo "FAIL: $E2E_SUITE/policy/restore-module: $PH_ERR"
		rc=1
	fi
	(exit "$rc")
	e2e_cleanup
}
trap ph_exit EXIT

topo router
vsftpd_start
case_time
e2e_log "setup: $E2E_DT"
FW=$NS_FW
LOGIN=("USER anonymous" "PASS pinhole@example.org")

# ==================================================================== sysctl

c=policy/sysctl/defaults
got=$(ph_policy "$FW")
want="active=1 passive=1 allow_third_party=0 active_ports=1024-65535 passive_ports=1024-65535 max_pinholes=1 timeout=60 enforce=0 log=1"
if [ "$got" = "$want" ]; then e2e_pass $c; else e2e_fail $c "got '$got'"; fi

# Invalid writes fail with EINVAL and change nothing.
ph_invalid() { # KEY VALUE
	local c="policy/sysctl/invalid/$1=${2:-(empty)}" before after
	before=$(ph_val "$FW" "$1")
	if ph_write "$FW" "$1" "$2"; then
		e2e_fail "$c" "the write succeeded (now $(ph_val "$FW" "$1"))"
		ph_set "$FW" "$1" "$before"
		return
	fi
	after=$(ph_val "$FW" "$1")
	if [[ $PH_ERR != *"Invalid argument"* ]]; then
		e2e_fail "$c" "failed, but not with EINVAL: $PH_ERR"
	elif [ "$after" != "$before" ]; then
		e2e_fail "$c" "EINVAL, but the value changed: $before -> $after"
	else
		e2e_pass "$c"
	fi
}
ph_invalid active 2
ph_invalid passive -1
ph_invalid enforce 2
ph_invalid allow_third_party 7
ph_invalid max_pinholes 0
ph_invalid max_pinholes 65
ph_invalid timeout 0
ph_invalid timeout 3601
ph_invalid log 3
ph_invalid log -1
ph_invalid active_ports 0-10
ph_invalid active_ports 2000-1000
ph_invalid active_ports 1-70000
ph_invalid active_ports abc
ph_invalid active_ports ""
ph_invalid passive_ports 1000-
ph_invalid passive_ports 65536
ph_invalid passive_ports "1-2-3"

# Control: valid writes of the same keys work and read back.
ph_valid() { # KEY VALUE [READBACK]
	local c="policy/sysctl/valid/$1=$2" got
	if ! ph_write "$FW" "$1" "$2"; then
		e2e_fail "$c" "the write failed: $PH_ERR"
		return
	fi
	got=$(ph_val "$FW" "$1")
	if [ "$got" = "${3:-$2}" ]; then e2e_pass "$c"; else e2e_fail "$c" "reads $got"; fi
}
ph_valid active 0
ph_valid max_pinholes 64
ph_valid timeout 3600
ph_valid log 2
ph_valid active_ports 2000-3000
ph_valid passive_ports 5000 5000-5000
ph_valid active_ports 1-65535
ph_defaults "$FW"

# PINHOLE_POLICY_FROM=module: only the module sections (debugging aid).
if [ "${PINHOLE_POLICY_FROM:-}" != module ]; then
# ================================================================ modes

ph_set "$FW" active 0
ph_snap
expect_blocked policy/active=0/curl-port-v4-blocked curl port 4 &&
	ph_case policy/active=0/counted refused_mode_disabled=1 pinholes_opened=0
ph_snap
expect_blocked policy/active=0/curl-eprt-v6-blocked curl eprt 6 &&
	ph_case policy/active=0/counted-v6 refused_mode_disabled=1 pinholes_opened=0
ph_snap
expect_download policy/active=0/curl-pasv-v4-works curl pasv 4 &&
	ph_case policy/active=0/pasv-opened pinholes_opened=1 refused_mode_disabled=0
ph_set "$FW" active 1
ph_snap
expect_download policy/active=1/curl-port-v4-works curl port 4 &&
	ph_case policy/active=1/opened pinholes_opened=1 refused_mode_disabled=0

ph_set "$FW" passive 0
ph_snap
expect_blocked policy/passive=0/curl-pasv-v4-blocked curl pasv 4 &&
	ph_case policy/passive=0/counted refused_mode_disabled=1 pinholes_opened=0
ph_snap
expect_blocked policy/passive=0/curl-epsv-v6-blocked curl epsv 6 &&
	ph_case policy/passive=0/counted-v6 refused_mode_disabled=1 pinholes_opened=0
ph_snap
expect_download policy/passive=0/curl-port-v4-works curl port 4 &&
	ph_case policy/passive=0/port-opened pinholes_opened=1 refused_mode_disabled=0
ph_set "$FW" passive 1
ph_snap
expect_download policy/passive=1/curl-pasv-v4-works curl pasv 4 &&
	ph_case policy/passive=1/opened pinholes_opened=1 refused_mode_disabled=0

# ================================================================ port ranges

# vsftpd's passive ports are 40000-40100.
ph_set "$FW" passive_ports 50000-60000
ph_snap
expect_blocked policy/passive_ports=50000-60000/curl-pasv-v4-blocked curl pasv 4 &&
	ph_case policy/passive_ports=50000-60000/counted refused_out_of_range=1 pinholes_opened=0
ph_set "$FW" passive_ports 40000-40100
ph_snap
expect_download policy/passive_ports=40000-40100/curl-pasv-v4-works curl pasv 4 &&
	ph_case policy/passive_ports=40000-40100/opened pinholes_opened=1 refused_out_of_range=0
ph_set "$FW" passive_ports 1024-65535

# curl's active data port is an ephemeral one (32768-60999).
ph_set "$FW" active_ports 1024-2000
ph_snap
expect_blocked policy/active_ports=1024-2000/curl-port-v4-blocked curl port 4 &&
	ph_case policy/active_ports=1024-2000/counted refused_out_of_range=1 pinholes_opened=0
ph_set "$FW" active_ports 32768-65535
ph_snap
expect_download policy/active_ports=32768-65535/curl-port-v4-works curl port 4 &&
	ph_case policy/active_ports=32768-65535/opened pinholes_opened=1 refused_out_of_range=0
ph_set "$FW" active_ports 1024-65535

# ================================================================ timeout

# ph_timeout_case CASE WAIT SHOULD(work|blocked)
ph_timeout_case() {
	local c=$1 pause=$2 should=$3 exps t before after rc=0 dport
	if ! ph_step_bg "${c//\//_}" pasv "$SV4" 20; then
		e2e_fail "$c" "ftp-step.py did not negotiate: $(ph_transcript "$PH_STEP_OUT")"
		ph_step_go
		return
	fi
	dport=$(sed -n 's/^negotiated: 227 .*,\([0-9]*\),\([0-9]*\)).*/\1 \2/p' "$PH_STEP_OUT" |
		awk '{ print $1 * 256 + $2 }')
	exps=$(ph_exps "$FW" | grep "dport=$dport " || true)
	t=$(awk 'NR == 1 { print $1 }' <<< "$exps")
	# Under a loaded TCG host a 2 s pinhole may be gone by now: judge its
	# lifetime only when we saw it.
	if [ "$should" = work ] && [ "$(grep -c . <<< "$exps")" != 1 ]; then
		e2e_fail "$c" "want one pinhole after PASV, got: $exps"
		ph_step_go
		return
	fi
	if [ "$should" = blocked ] && [ -n "$t" ] && [ "$t" -gt "$(ph_val "$FW" timeout)" ]; then
		e2e_fail "$c" "the pinhole lives $t s, beyond timeout=$(ph_val "$FW" timeout)"
		ph_step_go
		return
	fi
	sleep "$pause"
	exps=$(ph_exps "$FW" | grep "dport=$dport " || true)
	before=$(fw_counter "$FW" tcp_new_dropped)
	ph_step_go || rc=$?
	after=$(fw_counter "$FW" tcp_new_dropped)
	if [ "$should" = work ]; then
		if [ "$rc" -ne 0 ]; then
			e2e_fail "$c" "the transfer failed after ${pause}s: $(ph_transcript "$PH_STEP_OUT")"
		elif [ -z "$exps" ]; then
			e2e_fail "$c" "the pinhole was gone after ${pause}s"
		else
			e2e_pass "$c"
		fi
	else
		if [ -n "$exps" ]; then
			e2e_fail "$c" "the pinhole outlived ${pause}s: $exps"
		elif [ "$rc" -eq 0 ]; then
			e2e_fail "$c" "the data connection went through an expired pinhole"
		elif [ "$after" -le "$before" ]; then
			e2e_fail "$c" "the transfer failed but fw dropped no new connection"
		else
			e2e_pass "$c"
		fi
	fi
}
ph_set "$FW" timeout 2
ph_timeout_case policy/timeout=2/expired-blocked 4 blocked
ph_set "$FW" timeout 60
ph_timeout_case policy/timeout=60/alive-works 4 work

# ================================================================ max_pinholes

# ph_227_ports OUT: the ports of the 227 replies in a transcript, a line each.
ph_227_ports() {
	grep '^< 227' "$1" | sed 's/.*,\([0-9]*\),\([0-9]*\)).*/\1 \2/' |
		awk '{ print $1 * 256 + $2 }'
}

# ph_max_case MAX: two PASV in one session. vsftpd picks each passive port
# at random from 101 and closes the first listener before it binds the
# second: about one session in a hundred gets the same port twice, and
# the second pinhole then replaces the first (the very same expectation),
# which proves nothing about the limit. Such a session is run again.
ph_max_case() {
	local max=$1 c="policy/max_pinholes=$1" n port1 port2 want_evict try
	ph_set "$FW" max_pinholes "$max"
	for try in 1 2 3; do
		ph_snap
		if ! ph_hostile_bg "max$max" "$SV4" "${LOGIN[@]}" PASV PASV; then
			e2e_fail "$c" "client: $(ph_transcript "$PH_OUT")"
			ph_release
			return
		fi
		port1=$(ph_227_ports "$PH_OUT" | head -n 1)
		port2=$(ph_227_ports "$PH_OUT" | tail -n 1)
		[ "$port1" = "$port2" ] || break
		echo "# $c: both PASV drew port $port1 (try $try), again"
		ph_release
	done
	if [ "$port1" = "$port2" ]; then
		e2e_fail "$c" "three sessions drew the same port twice: $(ph_transcript "$PH_OUT")"
		return
	fi
	n=$(ph_exps_of "$FW" "$(ph_local_port "$PH_OUT")" | grep -c .)
	want_evict=$((max == 1 ? 1 : 0))
	if [ "$n" != "$((max == 1 ? 1 : 2))" ]; then
		e2e_fail "$c/expectations" "$n expectations of the session: $(ph_exps "$FW" | tr '\n' ' ')"
	elif ! ph_exps "$FW" | grep -q "dport=$port2 "; then
		e2e_fail "$c/expectations" "the newest pinhole (port $port2) is not there"
	else
		e2e_pass "$c/expectations"
	fi
	ph_case "$c/counted" lines_pasv=2 lines_227=2 pinholes_opened=2 \
		refused_limit_reached=$want_evict only
	ph_release
}
ph_max_case 1
ph_max_case 2
ph_set "$FW" max_pinholes 1

# ================================================================ enforce

PORT22="PORT 192,0,2,2,0,22"
ph_set "$FW" enforce 1
ph_snap
c=policy/enforce=1/refused-line-neutralised
if ! ph_hostile enforce1 "$SV4" --timeout 4 "${LOGIN[@]}" "$PORT22"; then
	e2e_fail $c "no reply to the neutralised line: $(ph_transcript "$PH_OUT")"
elif ! tail -n 1 "$PH_OUT" | grep -q '^< 500 ' ||
	! grep -q '^< 230' "$PH_OUT"; then
	e2e_fail $c "unexpected transcript: $(ph_transcript "$PH_OUT")"
else
	ph_case $c neutralised=1 dropped=0 refused_privileged_port=1 \
		pinholes_opened=0
fi
ph_set "$FW" enforce 0
ph_snap
c=policy/enforce=0/refused-line-passes
if ! ph_hostile enforce0 "$SV4" --timeout 8 "${LOGIN[@]}" "$PORT22"; then
	e2e_fail $c "no reply to the refused line: $(ph_transcript "$PH_OUT")"
elif ph_exps "$FW" | grep -q 'dport=22 '; then
	e2e_fail $c "a pinhole to port 22 exists: $(ph_exps "$FW")"
else
	ph_case $c dropped=0 refused_privileged_port=1 lines_port=1 pinholes_opened=0 only
fi

# ================================================================ kernel log

# net_ratelimit: let the burst of the cases above drain first.
sleep 6
ph_dmesg_mark
ph_hostile log "$SV4" "${LOGIN[@]}" "PORT 192,0,2,2,0,23" "PORT 192,0,2,2,195,81"
sleep 0.5
lp=$(ph_local_port "$PH_OUT")
c=policy/log/refusal-line
logs=$(ph_dmesg_new)
re="nf_pinhole_ftp: refused PORT 192\.0\.2\.2 port 23 \(privileged port\) in session 192\.0\.2\.2:$lp -> 198\.51\.100\.2:21"
if grep -qiE "$re" <<< "$logs"; then
	e2e_pass $c
else
	e2e_fail $c "no log line matching '$re' in: $(tr '\n' ' ' <<< "$logs" | cut -c1-400)"
fi
c=policy/log/no-line-for-accepted
if grep -q 'port 50001' <<< "$logs"; then
	e2e_fail $c "an accepted PORT was logged: $logs"
else
	e2e_pass $c
fi

# ================================================================ counters (client lines)

# ph_line_case NAME HOST LINE SPEC...: one crafted line (after login), the
# counters must move as SPEC says and nothing else.
ph_line_case() {
	local c=policy/counter/$1 name=$1 host=$2 line=$3
	shift 3
	ph_snap
	if ! ph_hostile "${name//\//_}" "$host" "${LOGIN[@]}" "$line"; then
		e2e_fail "$c" "client: $(ph_transcript "$PH_OUT")"
		return
	fi
	ph_case "$c" "$@" only
}

# ph_open_case NAME HOST PATTERN SPEC... LINES: as ph_line_case, holding
# the session; an expectation matching PATTERN must exist.
ph_open_case() {
	local c=policy/counter/$1 host=$2 pat=$3 specs=()
	shift 3
	while [ $# -gt 0 ] && [ "$1" != -- ]; do specs+=("$1"); shift; done
	shift
	ph_snap
	if ! ph_hostile_bg "${c//\//_}" "$host" "${LOGIN[@]}" "$@"; then
		e2e_fail "$c" "client: $(ph_transcript "$PH_OUT")"
		ph_release
		return
	fi
	if ! ph_exps "$FW" | grep -qE "$pat"; then
		e2e_fail "$c" "no expectation /$pat/: $(ph_exps "$FW" | tr '\n' ' ')"
	else
		ph_case "$c" "${specs[@]}" only
	fi
	ph_release
}

ph_open_case lines_port "$SV4" "src=$SV4 dst=$CL4 sport=[0-9]+ dport=50000 " \
	lines_port=1 pinholes_opened=1 -- "PORT 192,0,2,2,195,80"
ph_open_case lines_eprt-v4 "$SV4" "src=$SV4 dst=$CL4 sport=[0-9]+ dport=50002 " \
	lines_eprt=1 pinholes_opened=1 -- "EPRT |1|192.0.2.2|50002|"
ph_open_case lines_eprt-v6 "$SV6" "src=$SV6 dst=$CL6 sport=[0-9]+ dport=50003 " \
	lines_eprt=1 pinholes_opened=1 -- "EPRT |2|$CL6|50003|"
ph_open_case lines_pasv+227 "$SV4" "src=$CL4 dst=$SV4 sport=[0-9]+ dport=40[01][0-9][0-9] " \
	lines_pasv=1 lines_227=1 pinholes_opened=1 -- PASV
ph_open_case lines_epsv+229-v4 "$SV4" "src=$CL4 dst=$SV4 sport=[0-9]+ dport=40[01][0-9][0-9] " \
	lines_epsv=1 lines_229=1 pinholes_opened=1 -- EPSV
ph_open_case lines_epsv+229-v6 "$SV6" "src=$CL6 dst=$SV6 sport=[0-9]+ dport=40[01][0-9][0-9] " \
	lines_epsv=1 lines_229=1 pinholes_opened=1 -- EPSV

ph_line_case refused_malformed "$SV4" "PORT 1,2,3" \
	lines_port=1 refused_malformed=1
ph_line_case refused_malformed-eprt "$SV4" "EPRT |1|192.0.2.2|" \
	lines_eprt=1 refused_malformed=1
ph_line_case refused_out_of_range-octet "$SV4" "PORT 192,0,2,2,256,22" \
	lines_port=1 refused_out_of_range=1
ph_line_case refused_out_of_range-port0 "$SV4" "PORT 192,0,2,2,0,0" \
	lines_port=1 refused_out_of_range=1
ph_line_case refused_out_of_range-eprt "$SV4" "EPRT |1|192.0.2.2|65558|" \
	lines_eprt=1 refused_out_of_range=1
ph_line_case refused_privileged_port "$SV4" "PORT 192,0,2,2,0,21" \
	lines_port=1 refused_privileged_port=1
ph_line_case refused_third_party "$SV4" "PORT 203,0,113,9,195,80" \
	lines_port=1 refused_third_party=1
ph_line_case refused_family-port-on-v6 "$SV6" "PORT 192,0,2,2,195,80" \
	lines_port=1 refused_family=1
ph_line_case refused_family-eprt1-on-v6 "$SV6" "EPRT |1|192.0.2.2|50000|" \
	lines_eprt=1 refused_family=1
ph_line_case refused_family-eprt2-on-v4 "$SV4" "EPRT |2|$CL6|50000|" \
	lines_eprt=1 refused_family=1

# ================================================================ pinholectl stats

c=policy/pinholectl/stats-json
sleep 1
proc=$(ph_counters "$FW")
if ! json=$(in_ns "$FW" "$PH_CTL" stats --json 2>&1); then
	e2e_fail $c "pinholectl stats --json failed: $json"
else
	diff=$(PROC="$proc" /usr/bin/python3 -c '
import json, os, sys
c = json.loads(sys.stdin.read())["counters"]
p = dict(l.split() for l in os.environ["PROC"].splitlines())
bad = [k for k in p if str(c.get(k)) != p[k]] + [k for k in c if k not in p]
print(" ".join("%s:%s/%s" % (k, p.get(k), c.get(k)) for k in bad))
' <<< "$json" 2>&1)
	if [ -z "$diff" ]; then
		e2e_pass $c
	else
		e2e_fail $c "differs from $PH_PROC (proc/json): $diff"
	fi
	# Control: the counters it shows are per namespace (fresh elsewhere).
	c=policy/pinholectl/stats-json-per-netns
	other=$(in_ns "$NS_CL" "$PH_CTL" stats --json 2>&1 |
		/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["counters"]["pinholes_opened"])' 2>&1)
	if [ "$other" = 0 ] && [ "$(ph_get pinholes_opened "$proc")" -gt 0 ]; then
		e2e_pass $c
	else
		e2e_fail $c "pinholes_opened in cl: $other, in fw: $(ph_get pinholes_opened "$proc")"
	fi
fi

# ================================================================ two namespaces

# A second, independent setup: cl2 -- sv2, the firewall in sv2 (input),
# vsftpd in sv2. Passive is disabled in one namespace at a time.
NS_CL2=cl2 NS_SV2=sv2 CL2=203.0.113.1 SV2=203.0.113.2
E2E_NSES+=("$NS_CL2" "$NS_SV2")
for ns in "$NS_CL2" "$NS_SV2"; do
	ip netns add "$ns" || die "cannot create namespace $ns"
	in_ns "$ns" ip link set lo up
done
link "$NS_CL2" eth0 "$NS_SV2" eth0
in_ns "$NS_CL2" ip addr add "$CL2/24" dev eth0
in_ns "$NS_SV2" ip addr add "$SV2/24" dev eth0
in_ns "$NS_CL2" ip link set eth0 up
in_ns "$NS_SV2" ip link set eth0 up
# A fresh veth pair may not carry traffic yet: wait until it does.
wait_until "$E2E_T_READY" pings "$NS_CL2" "$SV2" || die "cl2 cannot reach sv2"
fw_load "$NS_SV2" input pinhole-ftp
in_ns "$NS_SV2" /usr/sbin/vsftpd "$E2E_WORK/vsftpd.conf" > "$E2E_WORK/vsftpd2.log" 2>&1 &
wait_listen "$NS_SV2" 21 vsftpd2

c=policy/netns/new-namespace-has-defaults
ph_set "$FW" passive 0
got=$(ph_policy "$NS_SV2")
if [ "$got" = "$want" ]; then e2e_pass $c; else e2e_fail $c "sv2: '$got'"; fi

# sv2_get CASE SHOULD(work|blocked): curl PASV download cl2 -> sv2.
sv2_get() {
	local c=$1 should=$2 out rc=0 d0 d1 n0 n1
	out=$(client_out "$c")
	d0=$(fw_counter "$NS_SV2" data_expected)
	n0=$(fw_counter "$NS_SV2" tcp_new_dropped)
	timeout -k 2 $((30 * E2E_SCALE)) ip netns exec "$NS_CL2" curl -sS -4 --ftp-pasv --disable-epsv \
		--connect-timeout "$E2E_T_NEG" --max-time $((20 * E2E_SCALE)) -o "$out" \
		"ftp://$SV2/$FTP_FILE" > "$E2E_WORK/client2.log" 2>&1 || rc=$?
	d1=$(fw_counter "$NS_SV2" data_expected)
	n1=$(fw_counter "$NS_SV2" tcp_new_dropped)
	if [ "$should" = work ]; then
		if [ "$rc" -ne 0 ] || ! same_file "$out"; then
			e2e_fail "$c" "download failed ($rc): $(ph_transcript "$E2E_WORK/client2.log")"
		elif [ "$d1" -le "$d0" ]; then
			e2e_fail "$c" "no expected data connection counted in sv2"
		else
			e2e_pass "$c"
		fi
	elif [ "$rc" -eq 0 ] && same_file "$out"; then
		e2e_fail "$c" "download worked with passive=0 in sv2"
	elif [ "$n1" -le "$n0" ]; then
		e2e_fail "$c" "download failed but sv2 dropped nothing: $(ph_transcript "$E2E_WORK/client2.log")"
	else
		e2e_pass "$c"
	fi
}

ph_snap "$NS_SV2"
sv2_get policy/netns/fw-passive=0/sv2-pasv-works work
ph_case policy/netns/fw-passive=0/sv2-counted pinholes_opened=1 refused_mode_disabled=0
ph_snap
expect_blocked policy/netns/fw-passive=0/fw-pasv-blocked curl pasv 4 &&
	ph_case policy/netns/fw-passive=0/fw-counted refused_mode_disabled=1 pinholes_opened=0
ph_set "$FW" passive 1
ph_set "$NS_SV2" passive 0
c=policy/netns/values-independent
if [ "$(ph_val "$FW" passive)$(ph_val "$NS_SV2" passive)" = 10 ]; then e2e_pass $c; else
	e2e_fail $c "fw passive=$(ph_val "$FW" passive), sv2 passive=$(ph_val "$NS_SV2" passive)"; fi
ph_snap "$NS_SV2"
sv2_get policy/netns/sv2-passive=0/sv2-pasv-blocked blocked
ph_case policy/netns/sv2-passive=0/sv2-counted refused_mode_disabled=1 pinholes_opened=0
ph_snap
expect_download policy/netns/sv2-passive=0/fw-pasv-works curl pasv 4 &&
	ph_case policy/netns/sv2-passive=0/fw-counted pinholes_opened=1 refused_mode_disabled=0
ph_set "$NS_SV2" passive 1
ns_kill_all "$NS_SV2"
in_ns "$NS_SV2" nft delete table inet "$E2E_TABLE"
ip netns delete "$NS_CL2"
ip netns delete "$NS_SV2"
E2E_NSES=("$NS_CL" "$NS_FW" "$NS_SV")

# ================================================================ hostile server

server_stop
in_ns "$NS_SV" /usr/bin/python3 "$PH_HOSTILE" server --listen :: --port 21 \
	> "$E2E_WORK/hostile-server.log" 2>&1 &
wait_listen "$NS_SV" 21 hostile-server

# Third-party 227 (FXP / bounce): refused by default...
ph_snap
ph_hostile tp0 "$SV4" "${LOGIN[@]}" "SITE NEXT 227 Entering Passive Mode (203,0,113,5,156,64)" PASV
ph_case policy/allow_third_party=0/227-refused lines_pasv=1 lines_227=1 refused_third_party=1 only
c=policy/allow_third_party=0/no-pinhole
if ph_exps "$FW" | grep -q 'dst=203\.0\.113\.5 '; then
	e2e_fail $c "$(ph_exps "$FW")"; else e2e_pass $c; fi
# ...allowed with allow_third_party=1: a pinhole to that host.
ph_set "$FW" allow_third_party 1
ph_open_case allow_third_party=1-227 "$SV4" "src=$CL4 dst=203\.0\.113\.5 sport=[0-9]+ dport=40000 " \
	lines_pasv=1 lines_227=1 pinholes_opened=1 -- \
	"SITE NEXT 227 Entering Passive Mode (203,0,113,5,156,64)" PASV
ph_set "$FW" allow_third_party 0

# Client-side third party allowed: the pinhole is for the named host. With
# this server, which answers the PORT 200: vsftpd answers a PORT to a third
# party 500, and the helper then withdraws its pinhole (t_fidelity.sh).
ph_set "$FW" allow_third_party 1
ph_open_case allow_third_party=1-port "$SV4" "src=$SV4 dst=203\.0\.113\.9 sport=[0-9]+ dport=50000 " \
	lines_port=1 pinholes_opened=1 -- "PORT 203,0,113,9,195,80"
ph_set "$FW" allow_third_party 0

# alloc_failures: a second session announcing the very same third-party
# data connection cannot insert its expectation (the first one holds it;
# only the owner of an address supersedes a pinhole to it: t_reuse.sh).
c=policy/counter/alloc_failures
ph_set "$FW" allow_third_party 1
ph_snap
if ph_hostile_bg dup1 "$SV4" "${LOGIN[@]}" "PORT 203,0,113,9,195,90"; then
	pid1=$PH_PID hold1=$PH_HOLD
	if ph_hostile_bg dup2 "$SV4" "${LOGIN[@]}" "PORT 203,0,113,9,195,90"; then
		ph_case $c lines_port=2 pinholes_opened=1 alloc_failures=1 only
	else
		e2e_fail $c "second client: $(ph_transcript "$PH_OUT")"
	fi
	ph_release
	PH_PID=$pid1 PH_HOLD=$hold1
else
	e2e_fail $c "client: $(ph_transcript "$PH_OUT")"
fi
ph_release
ph_set "$FW" allow_third_party 0

ph_snap
ph_hostile p21 "$SV4" "${LOGIN[@]}" "SITE NEXT 227 Entering Passive Mode (198,51,100,2,0,21)" PASV
ph_case policy/counter/refused_privileged_port-227 lines_pasv=1 lines_227=1 refused_privileged_port=1 only
ph_snap
ph_hostile p229 "$SV4" "${LOGIN[@]}" "SITE NEXT 229 Entering Extended Passive Mode (|||70000|)" EPSV
ph_case policy/counter/refused_out_of_range-229 lines_epsv=1 lines_229=1 refused_out_of_range=1 only
ph_snap
ph_hostile wrap "$SV4" "${LOGIN[@]}" "SITE NEXT 227 Entering Passive Mode (198,51,100,2,256,22)" PASV
ph_case policy/counter/refused_out_of_range-227-wrap lines_pasv=1 lines_227=1 refused_out_of_range=1 only
ph_snap
ph_hostile mal "$SV4" "${LOGIN[@]}" "SITE NEXT 227 Entering Passive Mode (198,51,100,2,156)" PASV
ph_case policy/counter/refused_malformed-227 lines_pasv=1 lines_227=1 refused_malformed=1 only
ph_snap
ph_hostile fam "$SV6" "${LOGIN[@]}" "SITE NEXT 227 Entering Passive Mode (198,51,100,2,156,64)" PASV
ph_case policy/counter/refused_family-227-on-v6 lines_pasv=1 lines_227=1 refused_family=1 only
ph_snap
ph_hostile unans "$SV4" "${LOGIN[@]}" "SITE SAY 227 Entering Passive Mode (198,51,100,2,156,64)"
ph_case policy/counter/refused_unanswered-227 lines_227=1 refused_unanswered=1 only
ph_snap
ph_hostile unans229 "$SV4" "${LOGIN[@]}" "SITE SAY 229 Entering Extended Passive Mode (|||40001|)"
ph_case policy/counter/refused_unanswered-229 lines_229=1 refused_unanswered=1 only

# Encrypted: AUTH TLS + 234 makes the session opaque; a later PASV/227 is
# not even seen. pinholectl show marks the session encrypted.
show_encrypted() { # PORT: the "encrypted" value of the session from that client port
	in_ns "$FW" "$PH_CTL" show --json 2>&1 | /usr/bin/python3 -c '
import json, sys
port = int(sys.argv[1])
found = []
def walk(o):
    if isinstance(o, dict):
        if "encrypted" in o and isinstance(o.get("client"), dict) \
                and o["client"].get("port") == port:
            found.append(o["encrypted"])
        for v in o.values():
            walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
walk(json.load(sys.stdin))
print(json.dumps(found[0]) if found else "absent")
' "$1" 2>&1
}
for v in plain tls; do
	ph_snap
	if [ $v = tls ]; then lines=("AUTH TLS" PASV); else lines=(PASV); fi
	c=policy/counter/refused_encrypted-$v
	if ! ph_hostile_bg "enc$v" "$SV4" "${lines[@]}"; then
		e2e_fail $c "client: $(ph_transcript "$PH_OUT")"
		ph_release
		continue
	fi
	enc=$(show_encrypted "$(ph_local_port "$PH_OUT")")
	if [ $v = tls ]; then
		ph_case $c refused_encrypted=1 lines_pasv=0 lines_227=0 pinholes_opened=0 only
		want_enc=true
	else
		ph_case $c refused_encrypted=0 lines_pasv=1 lines_227=1 pinholes_opened=1 only
		want_enc=false
	fi
	c=policy/pinholectl/show-encrypted-$v
	if [ "$enc" = $want_enc ]; then e2e_pass $c; else e2e_fail $c "encrypted: $enc (want $want_enc)"; fi
	ph_release
done

# resyncs: tests/e2e/t_resync.sh; nat_unrewritable and nat_rewritten_again: t_nat.sh

server_stop

fi # PINHOLE_POLICY_FROM

# ================================================================ module parameters

# Everything below reloads the module: no ruleset may hold it.
fw_clear
ph_drop_rulesets

c=policy/module/params-set-new-netns-defaults
ph_unload || die "rmmod: $PH_ERR"
params=(active=0 passive=0 allow_third_party=1 active_ports=3000-4000
	passive_ports=2000-3000 max_pinholes=5 timeout=7 enforce=1 log=2)
if ! ph_insmod "${params[@]}"; then
	e2e_fail $c "insmod ${params[*]}: $PH_ERR"
else
	ip netns add phnew
	got=$(ph_policy phnew)
	ip netns delete phnew
	w="active=0 passive=0 allow_third_party=1 active_ports=3000-4000 passive_ports=2000-3000 max_pinholes=5 timeout=7 enforce=1 log=2"
	if [ "$got" = "$w" ]; then e2e_pass $c; else e2e_fail $c "new namespace: '$got'"; fi
	ph_unload || die "rmmod: $PH_ERR"
fi

for p in max_pinholes=0 max_pinholes=65 timeout=0 timeout=3601 \
	active_ports=0-10 passive_ports=2000-1000 active_ports=1-70000 \
	passive_ports=abc log=3 log=-1; do
	c=policy/module/invalid-param/$p
	ph_dmesg_mark
	if ph_insmod "$p"; then
		e2e_fail $c "insmod succeeded"
		ph_unload
	elif ph_loaded; then
		e2e_fail $c "insmod failed but the module is loaded"
	elif ! ph_dmesg_new | grep -q "invalid module parameter ${p%%=*}"; then
		e2e_fail $c "no kernel log line naming ${p%%=*}: $(ph_dmesg_new | tr '\n' ' ' | cut -c1-300)"
	else
		e2e_pass $c
	fi
done

# Control: default load; a new namespace starts with the defaults.
c=policy/module/default-load
if ! ph_insmod; then
	e2e_fail $c "insmod: $PH_ERR"
else
	ip netns add phnew
	got=$(ph_policy phnew)
	ip netns delete phnew
	if [ "$got" = "$want" ]; then e2e_pass $c; else e2e_fail $c "new namespace: '$got'"; fi
fi

# ================================================================ helper_name=ftp

vsftpd_start
ph_unload || die "rmmod: $PH_ERR"
c=policy/helper_name=ftp/ebusy-with-stock-helper
modprobe nf_conntrack_ftp || die "modprobe nf_conntrack_ftp"
ph_dmesg_mark
if ph_insmod helper_name=ftp; then
	e2e_fail $c "insmod helper_name=ftp succeeded beside nf_conntrack_ftp"
	ph_unload
elif [[ $PH_ERR != *"busy"* ]]; then
	e2e_fail $c "insmod failed, but not with EBUSY: $PH_ERR"
elif ! ph_dmesg_new | grep -q 'already registered: unload the stock one first'; then
	e2e_fail $c "dmesg does not name the fix: $(ph_dmesg_new | tr '\n' ' ' | cut -c1-300)"
else
	e2e_pass $c
fi

# Negative control: the default name beside the stock helper; a ruleset
# of type "ftp" uses the stock helper and pinhole counts nothing.
ph_insmod || die "insmod: $PH_ERR"
fw_load_all ftp
ph_snap
expect_download policy/helper_name=default/type-ftp-is-stock curl pasv 4 &&
	ph_case policy/helper_name=default/type-ftp-not-counted lines_pasv=0 lines_227=0 pinholes_opened=0
fw_clear
ph_unload || die "rmmod: $PH_ERR"
rmmod nf_nat_ftp 2>/dev/null
rmmod nf_conntrack_ftp || die "cannot unload nf_conntrack_ftp"

c=policy/helper_name=ftp/loads-without-stock-helper
if ! ph_insmod helper_name=ftp; then
	e2e_fail $c "insmod helper_name=ftp: $PH_ERR"
elif [ "$(ph_param helper_name)" != ftp ]; then
	e2e_fail $c "parameter helper_name reads $(ph_param helper_name)"
else
	e2e_pass $c
	fw_load_all ftp
	ph_snap
	expect_download policy/helper_name=ftp/type-ftp-download curl pasv 4 &&
		ph_case policy/helper_name=ftp/type-ftp-is-pinhole lines_pasv=1 lines_227=1 pinholes_opened=1
	c=policy/helper_name=ftp/stock-not-loaded
	if lsmod | grep -qw '^nf_conntrack_ftp'; then
		e2e_fail $c "the ruleset pulled in nf_conntrack_ftp"; else e2e_pass $c; fi
	fw_clear
fi
ph_restore_module || die "cannot restore the module: $PH_ERR"

# ================================================================ unload while live

c=policy/module/unload-with-live-pinhole
fw_load_all
ph_dmesg_mark
if ! ph_step_bg unload pasv "$SV4" 20; then
	e2e_fail $c "ftp-step.py did not negotiate: $(ph_transcript "$PH_STEP_OUT")"
	ph_step_go
elif [ "$(ph_exp_count "$FW")" -lt 1 ]; then
	e2e_fail $c "no pinhole while paused"
	ph_step_go
else
	# The ruleset's helper object holds the module: delete it, but keep
	# every conntrack entry and expectation.
	in_ns "$FW" nft delete table inet "$E2E_TABLE"
	if ! ph_unload; then
		e2e_fail $c "rmmod with a live session: $PH_ERR"
	else
		ct=$(in_ns "$FW" conntrack -L -f ipv4 2>&1)
		rc=$?
		if [ "$rc" -ne 0 ]; then
			e2e_fail $c "conntrack -L fails after rmmod: $ct"
		elif ! grep -q "dport=21 " <<< "$ct"; then
			e2e_fail $c "the control session is gone from conntrack: $ct"
		elif fw_expectations "$FW" | grep -q 'helper='; then
			e2e_fail $c "expectations survive the helper: $(fw_expectations "$FW")"
		elif ph_dmesg_new | grep -qE 'BUG:|WARNING:|Oops|general protection'; then
			e2e_fail $c "kernel complained: $(ph_dmesg_new | tr '\n' ' ' | cut -c1-400)"
		else
			e2e_pass $c
		fi
	fi
	ph_step_go
fi
ph_restore_module || die "cannot reload the module: $PH_ERR"
fw_load_all
ph_snap
expect_download policy/module/reloaded-works curl pasv 4 &&
	ph_case policy/module/reloaded-counted pinholes_opened=1

e2e_finish
