#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# shellcheck disable=SC2016 # check() evals its single-quoted text later
#
# pinholectl against the real module, INSIDE the test guest:
#   scripts/guest-run.sh -- tests/userspace/e2e_pinholectl.sh
# Builds the e2e library's "router" topology (cl -- fw -- sv, vsftpd in sv,
# default-drop forward chain with the helper attached in fw) and checks
# stats (text, JSON, OpenMetrics), get/set, doctor, show, list and
# monitor/watch from the fw namespace through --netns (NAME, PATH, pid:PID).
# doctor's detections run against broken rulesets (tests/userspace/
# rulesets/*.nft) live in a namespace of their own, each beside its healthy
# twin. Loads module/nf_pinhole_ftp.ko when it is not loaded (and unloads
# it again); before that, doctor must fail closed on the base policy.
# Prints PASS:/FAIL:/SKIP: lines, suite pinholectl-e2e.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=/dev/null # tests/e2e/lib.sh
. "$HERE/../e2e/lib.sh"
E2E_SUITE=pinholectl-e2e

PCTL=${PINHOLECTL:-$REPO_ROOT/userspace/pinholectl}
KO=${PINHOLE_KO:-$REPO_ROOT/module/nf_pinhole_ftp.ko}
[ -x "$PCTL" ] || { echo "FAIL: $E2E_SUITE/setup: $PCTL not built (make -C userspace)"; exit 1; }

RULESETS=$HERE/rulesets

# dr_doctor NS RULESET-NAME [ARGS...]: loads the ruleset into NS and runs
# doctor there with no counter window; sets OUT, RC.
dr_doctor() {
	local ns=$1 rs=$2
	shift 2
	RC=0
	OUT=$(ip netns exec "$ns" nft -f "$RULESETS/$rs.nft" 2>&1) || {
		RC=99
		return
	}
	OUT=$("$PCTL" --netns "$ns" doctor --since 0 "$@" 2>&1) || RC=$?
}

# ---------------------------------------------------------------- module

# Fail closed (issue 14): with no module, the base policy alone is live and
# doctor names the cause. Verdicts are printed once the suite has begun.
fc_rc=skip fc_out=
if [ ! -d /sys/module/nf_pinhole_ftp ]; then
	ip netns add pinholectl-fc
	ip -n pinholectl-fc link set lo up
	dr_doctor pinholectl-fc base
	fc_rc=$RC fc_out=$OUT
	# the healthy ruleset cannot even load without the module
	fc_healthy=0
	ip netns exec pinholectl-fc nft -f "$RULESETS/healthy.nft" >/dev/null 2>&1 || fc_healthy=1
	ip netns exec pinholectl-fc nft flush ruleset
	ip netns delete pinholectl-fc
fi

we_loaded=0
if [ ! -d /sys/module/nf_pinhole_ftp ]; then
	[ -f "$KO" ] || { echo "FAIL: $E2E_SUITE/setup: $KO not built"; exit 1; }
	! lsmod | grep -qw '^nf_conntrack_ftp' || rmmod nf_conntrack_ftp
	for d in $(modinfo -F depends "$KO" | tr ',' ' '); do modprobe "$d"; done
	insmod "$KO" || { echo "FAIL: $E2E_SUITE/setup: insmod $KO failed"; exit 1; }
	we_loaded=1
fi

# lib.sh's e2e_cleanup ends with exit: run it in a subshell, then unload.
cleanup_all() {
	local rc=$?
	trap - EXIT
	(e2e_cleanup) || true
	if [ "$we_loaded" = 1 ]; then
		for _ in $(seq 50); do
			[ "$(cat /sys/module/nf_pinhole_ftp/refcnt 2>/dev/null)" = 0 ] && break
			sleep 0.1
		done
		rmmod nf_pinhole_ftp 2>/dev/null ||
			echo "# could not unload nf_pinhole_ftp" >&2
	fi
	exit "$rc"
}

e2e_init pinholectl
trap cleanup_all EXIT

topo_router
vsftpd_start

# pctl ARGS...: pinholectl in fw (through --netns); sets OUT, RC.
pctl() {
	RC=0
	OUT=$("$PCTL" --netns "$NS_FW" "$@" 2>&1) || RC=$?
}

check() { # CASE CONDITION-COMMAND... (runs it; passes when it succeeds)
	local c=$1
	shift
	if "$@"; then e2e_pass "$c"; else e2e_fail "$c" "failed: $* -- output: $(echo "$OUT" | tr '\n' ' ' | cut -c1-400)"; fi
}

has() { [[ "$OUT" == *"$1"* ]]; }
status_is() { [ "$RC" -eq "$1" ]; }

# pyjson EXPR: EXPR over d = json.loads(OUT) must be true.
pyjson() {
	printf '%s' "$OUT" | /usr/bin/python3 -c '
import json, sys
d = json.loads(sys.stdin.read())
sys.exit(0 if eval(sys.argv[1]) else 1)' "$1" 2>/dev/null
}

# ---------------------------------------------------------------- stats, policy

if [ "$fc_rc" = skip ]; then
	e2e_skip doctor/fail-closed "the module was loaded before the suite began"
else
	OUT=$fc_out
	if grep -q "/nf_pinhole_ftp.ko" "/lib/modules/$(uname -r)/modules.dep" 2>/dev/null; then
		want="error: the pinhole module nf_pinhole_ftp is not loaded"
	else
		want="not loaded and not installed for the running kernel $(uname -r)"
	fi
	check doctor/fail-closed eval '[ "$fc_rc" = 1 ] && has "$want" && ! has "attached to no"'
	check doctor/fail-closed-healthy-refused eval '[ "$fc_healthy" = 1 ]'
fi


pctl stats
check stats/text eval 'status_is 0 && [ "$(echo "$OUT" | wc -l)" -ge 20 ] && has "pinholes_opened="'
pctl --json stats
check stats/json pyjson 'isinstance(d["counters"]["lines_port"], int) and d["netns"] == "fw" and d["metainfo"]["json_schema_version"] == 2'
# The module's gauges, as gauges, beside the counters.
check stats/json-gauges pyjson 'isinstance(d["gauges"]["sessions_open"], int) and isinstance(d["gauges"]["pinholes_open"], int) and "sessions_open" not in d["counters"]'
pctl stats --format openmetrics
printf '%s\n' "$OUT" > "$E2E_WORK/metrics.txt"
check stats/openmetrics /usr/bin/python3 -c '
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
s = fams["pinhole_ftp_pinholes_opened"].samples
assert fams["pinhole_ftp_pinholes_opened"].type == "counter"
assert s[0].name == "pinhole_ftp_pinholes_opened_total" and s[0].labels == {"netns": "fw"}
assert len(fams) >= 22
for g in ("sessions_open", "pinholes_open"):
    f = fams["pinhole_ftp_" + g]
    assert f.type == "gauge" and f.samples[0].labels == {"netns": "fw"}
' "$E2E_WORK/metrics.txt"

# --version names the loaded module
RC=0; OUT=$("$PCTL" --version 2>&1) || RC=$?
check version/module eval 'status_is 0 && has "pinholectl $(cat "$REPO_ROOT/VERSION")" && has "module: nf_pinhole_ftp " && ! has "not loaded"'

# --netns takes a name, a path and pid:PID: all three reach fw's policy.
ip netns exec "$NS_FW" sleep 600 &
ns_pid=$!
pctl get max_pinholes
orig_max=${OUT#max_pinholes=}
pctl set max_pinholes=5
for form in name:"$NS_FW" run-netns-path:"/run/netns/$NS_FW" \
	    proc-path:"/proc/$ns_pid/ns/net" pid:"pid:$ns_pid"; do
	RC=0; OUT=$("$PCTL" -n "${form#*:}" get max_pinholes 2>&1) || RC=$?
	check "netns/${form%%:*}" eval 'status_is 0 && [ "$OUT" = "max_pinholes=5" ]'
done
# the negative control: sv's namespace has its own value
RC=0; OUT=$("$PCTL" -n "$NS_SV" get max_pinholes 2>&1) || RC=$?
check netns/other-namespace-differs eval 'status_is 0 && [ "$OUT" != "max_pinholes=5" ]'
kill "$ns_pid"; wait "$ns_pid" 2>/dev/null || true
pctl set "max_pinholes=$orig_max"

# Empty listings say so; JSON has an empty list.
RC=0; OUT=$("$PCTL" -n "$NS_SV" show 2>&1) || RC=$?
check show/empty-text eval 'status_is 0 && [ "$OUT" = "no FTP sessions" ]'
RC=0; OUT=$("$PCTL" -n "$NS_SV" list pinholes 2>&1) || RC=$?
check list/empty-text eval 'status_is 0 && [ "$OUT" = "no pinholes open" ]'
RC=0; OUT=$("$PCTL" -jn "$NS_SV" show 2>&1) || RC=$?
check show/empty-json pyjson 'd["sessions"] == []'

pctl get
# every key of pinhole_abi.h's PINHOLE_SYSCTLS
NKEYS=$(grep -cE '^[[:space:]]*X\([a-z_]+\)[[:space:]\\]*$' "$REPO_ROOT/module/pinhole_abi.h")
check get/all eval 'status_is 0 && [ "$(echo "$OUT" | wc -l)" -eq "$NKEYS" ] && has "timeout="'
pctl get timeout
orig_timeout=${OUT#timeout=}
pctl set timeout=123 max_pinholes=4
pctl get timeout max_pinholes
check set/roundtrip eval 'status_is 0 && [ "$OUT" = "timeout=123
max_pinholes=4" ]'
pctl set timeout=0
check set/invalid-refused eval 'status_is 2 && has "1 to 3600"'
pctl get timeout
check set/invalid-left-value eval '[ "$OUT" = "timeout=123" ]'
# The kernel validates as well: write past pinholectl.
if ip netns exec "$NS_FW" sh -c 'echo 0-5 > /proc/sys/net/netfilter/pinhole_ftp/passive_ports' 2>/dev/null; then
	e2e_fail kernel/rejects-invalid "the kernel accepted passive_ports=0-5"
else
	e2e_pass kernel/rejects-invalid
fi
pctl set "timeout=$orig_timeout" max_pinholes=8
pctl --json get
check get/json pyjson 'isinstance(d["policy"]["timeout"], int) and "-" in d["policy"]["active_ports"]'

# Policy is per namespace: sv's was not touched.
RC=0; OUT=$("$PCTL" --netns "$NS_SV" get max_pinholes 2>&1) || RC=$?
check policy/per-namespace eval 'status_is 0 && has "max_pinholes="'

# ---------------------------------------------------------------- doctor

pctl doctor --since 1
check doctor/fw-clean eval 'status_is 0 && has "doctor: no problem found"'
RC=0; OUT=$("$PCTL" --netns "$NS_SV" doctor --since 0 2>&1) || RC=$?
check doctor/sv-no-helper eval 'status_is 1 && has "attached to no connection"'
pctl --json doctor --since 0
check doctor/json pyjson 'd["findings"] == [] and d["summary"]["status"] == 0'

# Rates, not totals: a refusal inside the window is a warning (exit 0); the
# same total afterwards is nothing.
# The client is killed at 20 s at the latest, 1 s after the window opened:
# its refused 227 falls inside the 25 s window however slow the machine.
pctl set passive=0
"$PCTL" --netns "$NS_FW" doctor --since 25 > "$E2E_WORK/doctor-window.txt" 2>&1 &
doc_pid=$!
sleep 1
ftplib_get pasv 4 "$(client_out refused)" 20 || true
doc_rc=0; wait "$doc_pid" || doc_rc=$?
OUT=$(cat "$E2E_WORK/doctor-window.txt")
check doctor/window-refusal-warns eval '[ "$doc_rc" = 0 ] && has "warning: refused_mode_disabled rose by " && has "fix: enable the mode your clients use"'
pctl set passive=1
pctl get passive
pctl doctor --since 1
check doctor/window-totals-ignored eval 'status_is 0 && has "doctor: no problem found"'
pctl stats
check doctor/window-total-nonzero eval '! has "refused_mode_disabled=0"'

# Each broken ruleset live in a namespace of its own, beside the healthy
# one (the negative control) in the same namespace.
DR=pinholectl-dr
ip netns add "$DR"
E2E_NSES+=("$DR")
ip -n "$DR" link set lo up
dr_doctor "$DR" healthy
check doctor/live-healthy eval 'status_is 0 && [ "$OUT" = "doctor: no problem found" ]'
dr_doctor "$DR" raw_prio
check doctor/live-raw-priority eval 'status_is 1 && has "error: the chain inet filter helpers sets the helper at priority -300, before conntrack (-200)"'
dr_doctor "$DR" sport
check doctor/live-sport-only eval 'status_is 1 && has "sets the helper on '"'"'tcp sport 21'"'"' only" && ! has "attached to no"'
dr_doctor "$DR" l3proto_ip
check doctor/live-l3proto-ip eval 'status_is 0 && has "warning: the ct helper object filter/ftp-pinhole in an inet table has '"'"'l3proto ip'"'"'"'
dr_doctor "$DR" input_no_related
check doctor/live-input-no-server eval 'status_is 0 && has "doctor: no problem found"'
ip netns exec "$DR" socat TCP6-LISTEN:21,ipv6only=0,reuseaddr,fork /dev/null &
lis_pid=$!
wait_until "$E2E_T_READY" listening "$DR" 21 || true
dr_doctor "$DR" input_no_related
check doctor/live-input-server-no-related eval 'status_is 1 && has "error: an FTP server listens on port 21 of this host and the input hook drops"'
dr_doctor "$DR" healthy
check doctor/live-input-server-related eval 'status_is 0 && has "doctor: no problem found"'
kill "$lis_pid"; wait "$lis_pid" 2>/dev/null || true
dr_doctor "$DR" stock_beside
if [ "$RC" = 99 ]; then
	e2e_skip doctor/live-stock-beside "the stock helper cannot load beside pinhole here: ${OUT//$'\n'/ }"
else
	check doctor/live-stock-beside eval 'status_is 0 && has "warning: the ruleset attaches the stock helper \"ftp\" as well as \"pinhole-ftp\""'
fi
ip netns exec "$DR" nft flush ruleset
ip netns delete "$DR"
unset 'E2E_NSES[-1]'
rmmod nf_conntrack_ftp 2>/dev/null || true

# ---------------------------------------------------------------- show, list during a transfer

# The hook runs while the pinhole is open and before the data connection.
# "list" and "show" are synonyms (as in ip and nft); "list pinholes" is
# the pinholes-only view that bare "list" printed before.
hook_show() {
	# shellcheck disable=SC2016 # expanded by the hook's shell
	printf '%s' 'echo "port=$FTP_DATA_PORT host=$FTP_DATA_HOST"; '
	printf "echo '== show'; %s --netns %s show; " "$PCTL" "$NS_FW"
	printf "echo '== list'; %s --netns %s list pinholes; " "$PCTL" "$NS_FW"
	printf "echo '== bare'; %s --netns %s list; " "$PCTL" "$NS_FW"
	printf "echo '== json'; %s --netns %s --json show; " "$PCTL" "$NS_FW"
	printf "echo '== end'"
}

# section FILE NAME: the lines of one hook section.
section() { sed -n "/^== $2\$/,/^== /p" "$1" | sed '1d;$d'; }

transfer_case() { # CASE MODE FAMILY KIND(passive|active) SERVER-ENDPOINT PINHOLE-DEST
	local c=$1 mode=$2 fam=$3 kind=$4 server=$5 dest=$6 out port
	out=$(client_out "$c")
	if ! ftplib_get "$mode" "$fam" "$out" "$E2E_T_XFER" "$(hook_show)"; then
		e2e_fail "$c/transfer" "download failed: $(client_error)"
		return
	fi
	port=$(sed -n 's/^port=\([0-9]*\) .*/\1/p' "$out.hook")
	OUT=$(section "$out.hook" show)
	e2e_log "$c: pinholectl show while the pinhole is open:"
	printf '%s\n' "$OUT" | sed 's/^/#   /'
	check "$c/show" eval "has '-> $server' && has 'mode: $kind' && has 'encrypted: no' && has 'pinhole: ' && has '$dest:$port ($kind, '"
	OUT=$(section "$out.hook" list)
	check "$c/list" eval "has '$dest:$port ($kind, ' && has 'helper pinhole-ftp'"
	OUT=$(section "$out.hook" json)
	check "$c/show-json" pyjson "any(s['mode'] == '$kind' and s['encrypted'] is False and any(p['destination']['port'] == $port and p['mode'] == '$kind' for p in s['pinholes']) for s in d['sessions'])"
	OUT=$(section "$out.hook" bare)
	check "$c/list-is-show" eval "has '-> $server' && has 'mode: $kind' && has 'pinhole: '"
	# Afterwards the data connection is listed under its session.
	pctl --json show
	check "$c/show-data" pyjson "any(x['destination']['port'] == $port for s in d['sessions'] for x in s['data'])"
}

transfer_case show/pasv-v4 pasv 4 passive "$SV4:21" "$SV4"
transfer_case show/port-v4 port 4 active "$SV4:21" "$CL4"
transfer_case show/epsv-v6 epsv 6 passive "[$SV6]:21" "[$SV6]"

# ---------------------------------------------------------------- watch

watch_log=$E2E_WORK/watch.json
watch_txt=$E2E_WORK/watch.txt
"$PCTL" -jn "$NS_FW" monitor > "$watch_log" 2>&1 &
watch_pid=$!
"$PCTL" --netns "$NS_FW" watch > "$watch_txt" 2>&1 &
watch_txt_pid=$!
sleep 1
out=$(client_out watch)
hook='echo "port=$FTP_DATA_PORT"'
if ftplib_get pasv 4 "$out" "$E2E_T_XFER" "$hook"; then
	port=$(sed -n 's/^port=\([0-9]*\).*/\1/p' "$out.hook")
	sleep 2
	kill -INT "$watch_pid"
	kill -TERM "$watch_txt_pid"
	rc=0; wait "$watch_pid" || rc=$?
	rc2=0; wait "$watch_txt_pid" || rc2=$?
	OUT=$(cat "$watch_log")
	check watch/sigint-exit-0 eval "[ $rc -eq 0 ]"
	check watch/sigterm-exit-0 eval "[ $rc2 -eq 0 ]"
	cat > "$E2E_WORK/watch_check.py" <<'PY'
import json, sys
port = int(sys.argv[1])
ev = [json.loads(l)["event"] for l in open(sys.argv[2]) if l.strip()]
types = [e["type"] for e in ev]
opened = [e for e in ev if e["type"] == "opened"
          and e["pinhole"]["destination"]["port"] == port
          and e["pinhole"]["mode"] == "passive"]
used = [e for e in ev if e["type"] == "used"
        and e["data"]["destination"]["port"] == port]
ok = ("session-start" in types and opened and used
      and types.index("session-start") < types.index("opened")
      and types.index("opened") < types.index("used"))
sys.exit(0 if ok else 1)
PY
	check watch/json-opened-used /usr/bin/python3 "$E2E_WORK/watch_check.py" "$port" "$watch_log"
	OUT=$(cat "$watch_txt")
	e2e_log "pinholectl watch:"
	printf '%s\n' "$OUT" | sed 's/^/#   /'
	check watch/text eval "has ' opened ' && has ':$port (passive, ' && has ' used '"
else
	e2e_fail watch/transfer "download failed: $(client_error)"
	kill -INT "$watch_pid" "$watch_txt_pid" 2>/dev/null || true
fi

# ---------------------------------------------------------------- expiry

# A pinhole nobody uses within the timeout is reported as expired.
pctl set timeout=2
watch_log=$E2E_WORK/watch-expire.json
"$PCTL" -jn "$NS_FW" monitor > "$watch_log" 2>&1 &
watch_pid=$!
sleep 1
out=$(client_out expire)
# The client must live past the hook's 4 s to knock on the expired pinhole
# (expectations expire lazily on Debian's kernels): E2E_T_NEG alone is too
# short on a loaded machine.
ftplib_get pasv 4 "$out" "$((E2E_T_NEG + 8))" 'echo "port=$FTP_DATA_PORT"; sleep 4' || true
port=$(sed -n 's/^port=\([0-9]*\).*/\1/p' "$out.hook" 2>/dev/null)
sleep 1
kill -INT "$watch_pid"
wait "$watch_pid" || true
pctl set "timeout=$orig_timeout"
if [ -n "$port" ] && grep -q "\"type\": \"expired\".*\"port\": $port" "$watch_log"; then
	e2e_pass watch/expired
else
	e2e_fail watch/expired "no expired event for port ${port:-?}: events $(sed -n 's/.*"type": "\([a-z-]*\)".*/\1/p' "$watch_log" | tr '\n' ' ')"
fi

# ---------------------------------------------------------------- errors

RC=0; OUT=$("$PCTL" --netns pinholectl-nosuch show 2>&1) || RC=$?
check errors/no-such-netns eval 'status_is 1 && has "no such network namespace: pinholectl-nosuch (see ip netns list)"'

e2e_finish
