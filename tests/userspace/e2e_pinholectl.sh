#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# shellcheck disable=SC2016 # check() evals its single-quoted text later
#
# pinholectl against the real module, INSIDE the test guest:
#   scripts/guest-run.sh -- tests/userspace/e2e_pinholectl.sh
# Builds the e2e library's "router" topology (cl -- fw -- sv, vsftpd in sv,
# default-drop forward chain with the helper attached in fw) and checks
# stats, get/set, doctor, show, list and watch from the fw namespace
# through --netns. Loads module/nf_pinhole_ftp.ko when it is not loaded
# (and unloads it again). Prints PASS:/FAIL: lines, suite pinholectl-e2e.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=/dev/null # tests/e2e/lib.sh
. "$HERE/../e2e/lib.sh"
E2E_SUITE=pinholectl-e2e

PCTL=${PINHOLECTL:-$REPO_ROOT/userspace/pinholectl}
KO=${PINHOLE_KO:-$REPO_ROOT/module/nf_pinhole_ftp.ko}
[ -x "$PCTL" ] || { echo "FAIL: $E2E_SUITE/setup: $PCTL not built (make -C userspace)"; exit 1; }

# ---------------------------------------------------------------- module

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

pctl stats
check stats/text eval 'status_is 0 && [ "$(echo "$OUT" | wc -l)" -ge 20 ] && has "pinholes_opened="'
pctl --json stats
check stats/json pyjson 'isinstance(d["pinhole"][1]["counters"]["lines_port"], int)'

pctl get
check get/all eval 'status_is 0 && [ "$(echo "$OUT" | wc -l)" -eq 8 ] && has "timeout="'
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
check get/json pyjson 'isinstance(d["pinhole"][1]["policy"]["timeout"], int) and "-" in d["pinhole"][1]["policy"]["active_ports"]'

# Policy is per namespace: sv's was not touched.
RC=0; OUT=$("$PCTL" --netns "$NS_SV" get max_pinholes 2>&1) || RC=$?
check policy/per-namespace eval 'status_is 0 && has "max_pinholes="'

# ---------------------------------------------------------------- doctor

pctl doctor
check doctor/fw-clean eval 'status_is 0 && has "doctor: no problem found"'
RC=0; OUT=$("$PCTL" --netns "$NS_SV" doctor 2>&1) || RC=$?
check doctor/sv-no-helper eval 'status_is 1 && has "attached to no connection"'
pctl --json doctor
check doctor/json pyjson 'd["pinhole"][-1]["summary"]["problems"] == 0'

# ---------------------------------------------------------------- show, list during a transfer

# The hook runs while the pinhole is open and before the data connection.
hook_show() {
	# shellcheck disable=SC2016 # expanded by the hook's shell
	printf '%s' 'echo "port=$FTP_DATA_PORT host=$FTP_DATA_HOST"; '
	printf "echo '== show'; %s --netns %s show; " "$PCTL" "$NS_FW"
	printf "echo '== list'; %s --netns %s list; " "$PCTL" "$NS_FW"
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
	check "$c/show-json" pyjson "any(s['session']['mode'] == '$kind' and s['session']['encrypted'] is False and any(p['destination']['port'] == $port and p['mode'] == '$kind' for p in s['session']['pinholes']) for s in d['pinhole'][1:])"
	# Afterwards the data connection is listed under its session.
	pctl --json show
	check "$c/show-data" pyjson "any(x['destination']['port'] == $port for s in d['pinhole'][1:] for x in s['session']['data'])"
}

transfer_case show/pasv-v4 pasv 4 passive "$SV4:21" "$SV4"
transfer_case show/port-v4 port 4 active "$SV4:21" "$CL4"
transfer_case show/epsv-v6 epsv 6 passive "[$SV6]:21" "[$SV6]"

# ---------------------------------------------------------------- watch

watch_log=$E2E_WORK/watch.json
watch_txt=$E2E_WORK/watch.txt
"$PCTL" --netns "$NS_FW" --json watch > "$watch_log" 2>&1 &
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
ev = [json.loads(l)["pinhole"][0]["event"] for l in open(sys.argv[2]) if l.strip()]
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
"$PCTL" --netns "$NS_FW" --json watch > "$watch_log" 2>&1 &
watch_pid=$!
sleep 1
out=$(client_out expire)
ftplib_get pasv 4 "$out" "$E2E_T_NEG" 'echo "port=$FTP_DATA_PORT"; sleep 4' || true
port=$(sed -n 's/^port=\([0-9]*\).*/\1/p' "$out.hook" 2>/dev/null)
sleep 1
kill -INT "$watch_pid"
wait "$watch_pid" || true
pctl set "timeout=$orig_timeout"
if [ -n "$port" ] && grep -q "\"type\": \"expired\".*\"port\": $port" "$watch_log"; then
	e2e_pass watch/expired
else
	e2e_fail watch/expired "no expired event for port ${port:-?}: $(tr '\n' ' ' < "$watch_log" | cut -c1-600)"
fi

# ---------------------------------------------------------------- errors

RC=0; OUT=$("$PCTL" --netns pinholectl-nosuch show 2>&1) || RC=$?
check errors/no-such-netns eval 'status_is 1 && has "no such network namespace: pinholectl-nosuch (see ip netns list)"'

e2e_finish
