#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# shellcheck disable=SC2015 # pass and fail always succeed
#
# Drives the pinholectl binary against a staged /proc and /sys tree
# (PINHOLECTL_PROC_ROOT, PINHOLECTL_SYS_ROOT) and fixture rulesets
# (PINHOLECTL_NFT_JSON_FILE, PINHOLECTL_IPTABLES_SAVE_FILE,
# PINHOLECTL_IP6TABLES_SAVE_FILE): no kernel module needed.
#
# usage: tests/userspace/cli.sh [path/to/pinholectl]
# Prints "PASS: pinholectl-cli/<case>" or "FAIL: ...: why" per case.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
BIN=$(realpath "${1:-$HERE/../../userspace/pinholectl}")
FIX=$HERE/fixtures
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
SUITE=pinholectl-cli

[ -x "$BIN" ] || { echo "FAIL: $SUITE/binary: $BIN not built (make -C userspace)"; exit 1; }

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
failed=0

pass() { echo "PASS: $SUITE/$1"; }
fail() { echo "FAIL: $SUITE/$1: $2"; failed=1; }

# run ARGS...: runs pinholectl; sets OUT, ERR, RC.
run() {
	OUT=$("$BIN" "$@" 2>"$T/stderr")
	RC=$?
	ERR=$(cat "$T/stderr")
}

# expect CASE RC [STDOUT-SUBSTRING [STDERR-SUBSTRING]]: checks the last run.
expect() {
	local name=$1 rc=$2 out=${3:-} err=${4:-}
	if [ "$RC" -ne "$rc" ]; then
		fail "$name" "exit status $RC, expected $rc (stderr: $ERR)"
	elif [ -n "$out" ] && [[ "$OUT" != *"$out"* ]]; then
		fail "$name" "stdout lacks '$out': $OUT"
	elif [ -n "$err" ] && [[ "$ERR" != *"$err"* ]]; then
		fail "$name" "stderr lacks '$err': $ERR"
	else
		pass "$name"
	fi
}

# json_check CASE PYTHON-EXPR: evaluates EXPR with d = json.loads(OUT);
# EXPR raises or returns a falsy value to fail.
json_check() {
	local name=$1 expr=$2 why
	if why=$(printf '%s' "$OUT" | "$PY" -c '
import json, sys
d = json.loads(sys.stdin.read())
ok = eval(sys.argv[1])
if not ok:
    print("expression false:", sys.argv[1]); sys.exit(1)
' "$expr" 2>&1); then
		pass "$name"
	else
		fail "$name" "$(echo "$why" | tail -1) in: $OUT"
	fi
}

# The counter names of the ABI header, the module's and pinholectl's one source.
abi_counters() {
	sed -n '/^#define PINHOLE_COUNTERS(X)/,/^$/p' \
		"$(dirname "$0")/../../module/pinhole_abi.h" |
		sed -nE 's/^[[:space:]]*X\(([a-z_0-9]+),[[:space:]]*".*/\1/p'
}

stage_module() {
	local root=$T/root
	rm -rf "$root"
	mkdir -p "$root/proc/net" "$root/proc/sys/net/netfilter/pinhole_ftp" \
		 "$root/sys/module/nf_pinhole_ftp/parameters"
	echo pinhole-ftp >"$root/sys/module/nf_pinhole_ftp/parameters/helper_name"
	echo 0.9.0-test >"$root/sys/module/nf_pinhole_ftp/version"
	echo "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode" |
		tee "$root/proc/net/tcp" >"$root/proc/net/tcp6"
	# the module's counters, in the ABI header's order, all zero
	abi_counters | sed 's/$/ 0/' >"$root/proc/net/pinhole_ftp"
	local d=$root/proc/sys/net/netfilter/pinhole_ftp
	echo 1 >"$d/active"; echo 1 >"$d/passive"
	echo 0 >"$d/allow_third_party"
	echo 1024-65535 >"$d/active_ports"; echo 1024-65535 >"$d/passive_ports"
	echo 8 >"$d/max_pinholes"; echo 300 >"$d/timeout"; echo 0 >"$d/enforce"
	export PINHOLECTL_PROC_ROOT=$root PINHOLECTL_SYS_ROOT=$root
}

set_counter() { # NAME VALUE
	sed -i "s/^$1 .*/$1 $2/" "$T/root/proc/net/pinhole_ftp"
}

stage_no_module() {
	rm -rf "$T/empty"
	mkdir -p "$T/empty"
	export PINHOLECTL_PROC_ROOT=$T/empty PINHOLECTL_SYS_ROOT=$T/empty
}

rulesets() { # NFT IPTABLES IP6TABLES (fixture names, or "" to skip)
	export PINHOLECTL_NFT_JSON_FILE=${1:+$FIX/$1}
	export PINHOLECTL_IPTABLES_SAVE_FILE=${2:+$FIX/$2}
	export PINHOLECTL_IP6TABLES_SAVE_FILE=${3:+$FIX/$3}
}

# ---- usage ----

stage_module
run; expect usage-no-command 2 "" "pinholectl --help"
run frob; expect usage-unknown-command 2 "" "unknown command 'frob'"
run --frob show; expect usage-unknown-option 2 "" "unknown option '--frob'"
run show extra; expect usage-show-extra-argument 2 "" "expected sessions or pinholes"
run show pinholes extra; expect usage-show-two-objects 2 "" "at most 1 argument"
run stats extra; expect usage-stats-extra-argument 2 "" "takes no arguments"
run -jx stats; expect usage-combined-unknown 2 "" "unknown option '-x'"
run stats --format xml; expect usage-format-unknown 2 "" "expected text, json or openmetrics"
run show --format openmetrics; expect usage-openmetrics-not-stats 2 "" "applies to stats only"
run stats --since 5; expect usage-since-not-doctor 2 "" "doctor only"
run doctor --since 5m; expect usage-since-malformed 2 "" "seconds from 0 to 3600"
run set; expect usage-set-without-assignment 2 "" "KEY=VALUE"
run --netns; expect usage-netns-without-name 2 "" "ip netns list"
run --help; expect help 0 "usage: pinholectl"
run -V; expect version 0 "pinholectl $(cat "$HERE/../../VERSION") (json_schema_version 2)"
[[ "$OUT" == *"module: nf_pinhole_ftp 0.9.0-test"* ]] && pass version-module ||
	fail version-module "no module version: $OUT"
run --version; expect version-long 0 "pinholectl "

# ---- module not loaded ----

stage_no_module
run version; expect version-not-loaded 0 "module: not loaded"
for cmd in show list watch monitor stats get; do
	run "$cmd"
	expect "not-loaded-$cmd" 1 "" "pinhole module not loaded: run modprobe nf_pinhole_ftp"
done
run set timeout=30; expect not-loaded-set 1 "" "pinhole module not loaded"
run set timeout=0; expect not-loaded-set-invalid-is-usage 2 "" "1 to 3600"

# ---- stats ----

stage_module
set_counter lines_pasv 7
set_counter refused_encrypted 2
run stats
expect stats-text 0 "lines_pasv=7"
# every counter of the ABI header, the module's and pinholectl's one source
NCOUNTERS=$(abi_counters | wc -l)
if [ "$(echo "$OUT" | wc -l)" -eq "$NCOUNTERS" ] && [ "$(echo "$OUT" | head -1)" = "lines_port=0" ] &&
   ! echo "$OUT" | grep -qv '^[a-z_0-9]*=[0-9]*$'; then
	pass stats-text-shape
else
	fail stats-text-shape "not $NCOUNTERS name=value lines in ABI order: $OUT"
fi
run --json stats
expect stats-json-status 0
json_check stats-json-envelope 'list(d) == ["metainfo", "netns", "counters", "gauges"] and d["metainfo"]["json_schema_version"] == 2 and isinstance(d["metainfo"]["version"], str) and d["netns"].startswith("net:[")'
json_check stats-json-counters 'd["counters"]["lines_pasv"] == 7 and d["counters"]["refused_encrypted"] == 2 and len(d["counters"]) == '"$NCOUNTERS"' and list(d["counters"])[0] == "lines_port" and d["gauges"] == {}'

# OpenMetrics, read back by the Prometheus client library's own parser.
om_check() { # CASE PYTHON-EXPR over fams = {name: family}
	local why
	if why=$(printf '%s\n' "$OUT" | "$PY" -c '
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(sys.stdin.read())}
def sample(name, suffix=""):
    f = fams[name]
    s = [x for x in f.samples if x.name == name + suffix]
    assert len(s) == 1, s
    return s[0]
ok = eval(sys.argv[1])
if not ok:
    print("expression false:", sys.argv[1]); sys.exit(1)
' "$2" 2>&1); then
		pass "$1"
	else
		fail "$1" "$(echo "$why" | tail -1) in: $(echo "$OUT" | head -c 600)"
	fi
}
run stats --format openmetrics
expect stats-openmetrics-status 0 "# EOF"
om_check stats-openmetrics-parses 'len(fams) == '"$NCOUNTERS"' and all(f.type == "counter" for f in fams.values()) and sample("pinhole_ftp_lines_pasv", "_total").value == 7 and sample("pinhole_ftp_lines_pasv", "_total").labels["netns"].startswith("net:[") and fams["pinhole_ftp_lines_port"].documentation == "PORT commands seen"'
[ "$(echo "$OUT" | tail -1)" = "# EOF" ] && pass stats-openmetrics-eof || fail stats-openmetrics-eof "last line: $(echo "$OUT" | tail -1)"

# The module's gauges (appended after the counters) and a name we do not know.
printf 'sessions_open 3\npinholes_open 2\nfuture_counter 9\n' >>"$T/root/proc/net/pinhole_ftp"
run stats
expect stats-gauges-text 0 "sessions_open=3"
[[ "$OUT" == *"pinholes_open=2"* && "$OUT" == *"future_counter=9"* ]] && pass stats-unknown-text || fail stats-unknown-text "$OUT"
run -j stats
json_check stats-gauges-json 'd["gauges"] == {"sessions_open": 3, "pinholes_open": 2} and d["counters"]["future_counter"] == 9 and "sessions_open" not in d["counters"]'
run --netns=/proc/self/ns/net stats --format openmetrics 2>/dev/null
if [ "$RC" -eq 0 ]; then
	om_check stats-openmetrics-gauges 'fams["pinhole_ftp_sessions_open"].type == "gauge" and sample("pinhole_ftp_sessions_open").value == 3 and sample("pinhole_ftp_pinholes_open").value == 2 and fams["pinhole_ftp_future_counter"].type == "counter" and sample("pinhole_ftp_future_counter", "_total").value == 9 and sample("pinhole_ftp_sessions_open").labels == {"netns": "/proc/self/ns/net"}'
else
	run stats --format openmetrics
	om_check stats-openmetrics-gauges 'fams["pinhole_ftp_sessions_open"].type == "gauge" and sample("pinhole_ftp_sessions_open").value == 3 and sample("pinhole_ftp_pinholes_open").value == 2 and fams["pinhole_ftp_future_counter"].type == "counter" and sample("pinhole_ftp_future_counter", "_total").value == 9'
fi
echo "garbage line here" >>"$T/root/proc/net/pinhole_ftp"
run stats; expect stats-malformed-file 1 "" "not \"name value\""

# ---- get ----

stage_module
run get
expect get-all 0 "active_ports=1024-65535"
expected="active=1
passive=1
allow_third_party=0
active_ports=1024-65535
passive_ports=1024-65535
max_pinholes=8
timeout=300
enforce=0"
[ "$OUT" = "$expected" ] && pass get-all-order || fail get-all-order "got: $OUT"
run get timeout; [ "$OUT" = "timeout=300" ] && [ $RC -eq 0 ] && pass get-one || fail get-one "rc $RC out $OUT"
run get timeout enforce --json
expect get-json-status 0
json_check get-json-values 'd["policy"] == {"timeout": 300, "enforce": 0}'
run --json get
json_check get-json-all 'list(d["policy"]) == ["active","passive","allow_third_party","active_ports","passive_ports","max_pinholes","timeout","enforce"] and d["policy"]["passive_ports"] == "1024-65535" and d["policy"]["max_pinholes"] == 8'
run get nosuch; expect get-unknown-key 2 "" "valid keys are active, passive"
run get timeout=5; expect get-assignment 2 "" "pinholectl set timeout=5"

# ---- set ----

stage_module
P=$T/root/proc/sys/net/netfilter/pinhole_ftp
run set timeout=30 passive_ports=40000-40100 enforce=1
if [ $RC -eq 0 ] && [ "$(cat "$P/timeout")" = 30 ] &&
   [ "$(cat "$P/passive_ports")" = 40000-40100 ] && [ "$(cat "$P/enforce")" = 1 ]; then
	pass set-writes
else
	fail set-writes "rc $RC, files: $(cat "$P/timeout" "$P/passive_ports" "$P/enforce" | tr '\n' ' ') $ERR"
fi
[ "$OUT" = "timeout=30
passive_ports=40000-40100
enforce=1" ] && pass set-echoes || fail set-echoes "got: $OUT"

set_invalid() { # CASE ARG MESSAGE
	local before
	before=$(cat "$P"/*)
	run set "$2"
	if [ $RC -ne 2 ]; then
		fail "$1" "exit $RC, expected 2"
	elif [[ "$ERR" != *"$3"* ]]; then
		fail "$1" "stderr lacks '$3': $ERR"
	elif [ "$before" != "$(cat "$P"/*)" ]; then
		fail "$1" "a file changed"
	else
		pass "$1"
	fi
}
for k in active passive allow_third_party enforce; do
	set_invalid "set-$k-2" "$k=2" "expected 0 or 1"
	set_invalid "set-$k-word" "$k=on" "expected 0 or 1"
done
for k in active_ports passive_ports; do
	set_invalid "set-$k-reversed" "$k=2000-1000" "1 <= LO <= HI <= 65535"
	set_invalid "set-$k-zero" "$k=0-1000" "1 <= LO <= HI <= 65535"
	set_invalid "set-$k-high" "$k=1024-65536" "1 <= LO <= HI <= 65535"
	set_invalid "set-$k-malformed" "$k=1024" "LO-HI"
done
set_invalid set-max_pinholes-0 max_pinholes=0 "from 1 to 64"
set_invalid set-max_pinholes-65 max_pinholes=65 "from 1 to 64"
set_invalid set-timeout-0 timeout=0 "from 1 to 3600 (seconds)"
set_invalid set-timeout-3601 timeout=3601 "from 1 to 3600 (seconds)"
set_invalid set-timeout-malformed timeout=5m "from 1 to 3600"
set_invalid set-unknown-key nosuch=1 "unknown key 'nosuch'"
set_invalid set-no-equals timeout "expected KEY=VALUE"
before=$(cat "$P/timeout")
run set timeout=99 active=2
[ $RC -eq 2 ] && [ "$(cat "$P/timeout")" = "$before" ] &&
	pass set-all-or-nothing || fail set-all-or-nothing "rc $RC timeout $(cat "$P/timeout")"

# ---- doctor ----

doctor_case() { # CASE RC NFT IPT IP6T WANT-STDOUT [UNWANTED-STDOUT]
	local name=$1 rc=$2 want=$6 unwanted=${7:-}
	rulesets "$3" "$4" "$5"
	run doctor --since 0
	if [ -n "$unwanted" ] && [[ "$OUT" == *"$unwanted"* ]]; then
		fail "$name" "stdout has '$unwanted': $OUT"
		return
	fi
	expect "$name" "$rc" "$want"
}

listen_on() { # PORT: a listening socket in the staged /proc/net/tcp
	printf '   0: 00000000:%04X 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0\n' "$1" \
		>>"$T/root/proc/net/tcp"
}

stage_module
doctor_case doctor-clean-nft 0 nft_good.json empty.save empty.save "doctor: no problem found"
doctor_case doctor-clean-host 0 nft_healthy.json empty.save empty.save "doctor: no problem found"
doctor_case doctor-clean-vmap 0 nft_vmap.json empty.save empty.save "doctor: no problem found"
doctor_case doctor-clean-iptables 0 nft_empty.json iptables_good.save empty.save "doctor: no problem found"
doctor_case doctor-no-helper 1 nft_no_helper.json empty.save empty.save \
	'error: the helper "pinhole-ftp" is attached to no connection' "related"
doctor_case doctor-no-helper-fix 1 nft_no_helper.json empty.save empty.save \
	$'\n    fix: nftables: define \'ct helper ftp-pinhole'
doctor_case doctor-helper-object-unused 1 nft_object_unused.json empty.save empty.save \
	'"ftp-pinhole" (type "pinhole-ftp") is defined but no rule sets it'
doctor_case doctor-no-related 1 nft_no_related.json empty.save empty.save \
	"no rule accepts 'ct state related'" "attached to no"
doctor_case doctor-stock-helper 1 nft_stock.json empty.save empty.save \
	'attaches the stock helper "ftp"'
doctor_case doctor-accept-all-needs-no-related 1 nft_accept_all.json empty.save empty.save \
	"doctor: 1 error, 0 warnings" "related"
doctor_case doctor-iptables-no-related 1 nft_empty.json iptables_no_related.save empty.save \
	"no rule accepts 'ct state related'"
doctor_case doctor-iptables-no-helper 1 nft_empty.json iptables_no_helper.save empty.save \
	"attached to no connection" "related"
doctor_case doctor-ip6tables-counts 0 nft_empty.json empty.save iptables_good.save \
	"doctor: no problem found"
doctor_case doctor-ruleset-unreadable 1 "" "" "" "could not read the firewall ruleset"
printf '{"nftables": [' >"$T/truncated.json"
PINHOLECTL_NFT_JSON_FILE=$T/truncated.json run doctor --since 0
expect doctor-ruleset-invalid 1 "error: the nftables ruleset is not valid JSON: "

# The broken setups of issue 16, each against its healthy twin above.
doctor_case doctor-raw-priority 1 nft_raw_prio.json empty.save empty.save \
	"sets the helper at priority -300, before conntrack (-200)" "attached to no"
doctor_case doctor-sport-only 1 nft_sport.json empty.save empty.save \
	"sets the helper on 'tcp sport 21' only" "attached to no"
doctor_case doctor-l3proto-ip 0 nft_l3proto_ip.json empty.save empty.save \
	"warning: the ct helper object filter/ftp-pinhole in an inet table has 'l3proto ip': IPv6 FTP sessions get no helper"
doctor_case doctor-stock-beside 0 nft_stock_beside.json empty.save empty.save \
	'warning: the ruleset attaches the stock helper "ftp" as well as "pinhole-ftp"'
doctor_case doctor-input-no-related-no-server 0 nft_input_no_related.json empty.save empty.save \
	"doctor: no problem found"
listen_on 21
doctor_case doctor-input-no-related-server 1 nft_input_no_related.json empty.save empty.save \
	"error: an FTP server listens on port 21 of this host and the input hook drops, but no input rule accepts 'ct state related'"
doctor_case doctor-input-related-server 0 nft_healthy.json empty.save empty.save \
	"doctor: no problem found"
stage_module

echo ftp >"$T/root/sys/module/nf_pinhole_ftp/parameters/helper_name"
doctor_case doctor-helper-name-parameter 0 nft_stock.json empty.save empty.save "doctor: no problem found"
echo pinhole-ftp >"$T/root/sys/module/nf_pinhole_ftp/parameters/helper_name"

# Fail closed (issue 14): no module for the running kernel, base policy only.
stage_no_module
mkdir -p "$T/modules/6.1.0-99-amd64" "$T/modules/6.1.0-98-amd64"
: >"$T/modules/6.1.0-99-amd64/modules.dep"
echo "updates/dkms/nf_pinhole_ftp.ko.xz: kernel/net/netfilter/nf_nat.ko.xz" >"$T/modules/6.1.0-98-amd64/modules.dep"
export PINHOLECTL_MODULES_DIR=$T/modules PINHOLECTL_KERNEL_RELEASE=6.1.0-99-amd64
doctor_case doctor-module-not-installed 1 nft_base.json empty.save empty.save \
	"error: the pinhole module nf_pinhole_ftp is not loaded and not installed for the running kernel 6.1.0-99-amd64 (not in /lib/modules/6.1.0-99-amd64/modules.dep); it is installed for 6.1.0-98-amd64, so a kernel upgrade left it behind" \
	"attached to no"
[[ "$OUT" == *"fix: build it for this kernel: dkms autoinstall -k 6.1.0-99-amd64"* ]] &&
	pass doctor-module-not-installed-fix || fail doctor-module-not-installed-fix "$OUT"
echo "extra/nf_pinhole_ftp.ko: " >"$T/modules/6.1.0-99-amd64/modules.dep"
doctor_case doctor-module-not-loaded 1 nft_base.json empty.save empty.save \
	$'error: the pinhole module nf_pinhole_ftp is not loaded: FTP data connections are blocked\n    fix: modprobe nf_pinhole_ftp'
unset PINHOLECTL_MODULES_DIR PINHOLECTL_KERNEL_RELEASE

# Counters are judged by their rise over --since, never by their totals.
# bump_later NAME N: doctor's first reading of the counters sees them as
# staged, its second (--since seconds on) sees NAME raised by N. The file
# becomes a FIFO, written once for each of doctor's two opens, so the order
# holds however slowly doctor starts or wakes on a loaded machine. The
# second write waits until doctor has closed the first: opened while doctor
# still held it, it would go to the first reading's already finished
# stream, and the second would wait for ever. A writer that gets no reader
# in 60 s opens the FIFO itself, so that no reader waits for ever either.
fifo_held() { # FIFO: does a process other than this shell hold it open?
	local fd
	for fd in /proc/[0-9]*/fd/*; do
		[ "$fd" -ef "$1" ] && return 0
	done 2>/dev/null
	return 1
}
fifo_write() { # FILE FIFO
	timeout 60 sh -c 'cat "$1" >"$2"' fifo_write "$1" "$2" && return
	exec 3<>"$2"
	exec 3>&-
	return 1
}
bump_later() {
	local f=$T/root/proc/net/pinhole_ftp v
	v=$(sed -n "s/^$1 //p" "$f")
	cp "$f" "$T/counters.before"
	sed "s/^$1 .*/$1 $((v + $2))/" "$f" >"$T/counters.after"
	rm -f "$f"
	mkfifo "$f"
	(
		fifo_write "$T/counters.before" "$f" || exit
		while fifo_held "$f"; do
			sleep 0.01
		done
		fifo_write "$T/counters.after" "$f"
	) &
}
window_case() { # CASE RC COUNTER WANT [UNWANTED]
	local name=$1 rc=$2 counter=$3 want=$4 unwanted=${5:-}
	stage_module
	rulesets nft_good.json empty.save empty.save
	set_counter "$counter" 1000
	bump_later "$counter" 3
	run doctor --since 2
	if [ -n "$unwanted" ] && [[ "$OUT" == *"$unwanted"* ]]; then
		fail "$name" "stdout has '$unwanted': $OUT"
		return
	fi
	expect "$name" "$rc" "$want"
}
window_case doctor-window-privileged 0 refused_privileged_port \
	$'warning: refused_privileged_port rose by 3 in 2 s: a server or client announced a data port below 1024'
window_case doctor-window-alloc 1 alloc_failures "error: alloc_failures rose by 3 in 2 s"
window_case doctor-window-encrypted-is-info 0 refused_encrypted \
	"info: refused_encrypted rose by 3 in 2 s" "warning"
window_case doctor-window-supersession-is-info 0 refused_limit_reached \
	"info: refused_limit_reached rose by 3 in 2 s" "set max_pinholes"
stage_module
for c in refused_third_party refused_privileged_port refused_out_of_range \
	 refused_mode_disabled refused_malformed refused_family \
	 refused_unanswered refused_limit_reached refused_encrypted \
	 alloc_failures nat_unrewritable dropped; do
	set_counter "$c" 5
done
rulesets nft_good.json empty.save empty.save
run doctor --since 1
expect doctor-totals-ignored 0 "doctor: no problem found"

stage_module
echo 0 >"$T/root/proc/sys/net/netfilter/pinhole_ftp/active"
echo 0 >"$T/root/proc/sys/net/netfilter/pinhole_ftp/passive"
doctor_case doctor-modes-disabled 0 nft_good.json empty.save empty.save "warning: both active and passive mode are disabled"

stage_module
set_counter refused_privileged_port 2
bump_later refused_privileged_port 1
rulesets nft_no_helper.json empty.save empty.save
run --json doctor --since 1
expect doctor-json-status 1
json_check doctor-json-findings 'list(d) == ["metainfo", "findings", "summary"] and [f["id"] for f in d["findings"]] == ["helper_not_attached", "refused_privileged_port"] and [f["severity"] for f in d["findings"]] == ["error", "warning"] and all(isinstance(f[k], str) and f[k] for f in d["findings"] for k in ("problem", "fix")) and d["summary"] == {"errors": 1, "warnings": 1, "info": 0, "since": 1, "status": 1}'
stage_module
rulesets nft_good.json empty.save empty.save
run doctor --json --since 0
json_check doctor-json-clean 'd["findings"] == [] and d["summary"]["status"] == 0 and d["metainfo"]["json_schema_version"] == 2'
wait

# ---- namespaces ----

run --netns pinholectl-test-nosuch-ns show
expect netns-missing 1 "" "no such network namespace: pinholectl-test-nosuch-ns (see ip netns list)"
run --netns .. stats
expect netns-bad-name 1 "" "no such network namespace"
run -n /nonexistent/ns stats
expect netns-missing-path 1 "" "no such network namespace: /nonexistent/ns"
run -n pid:x stats
expect netns-bad-pid 1 "" "pid:PID needs a process id"
run -n pid:999999999 stats
expect netns-missing-pid 1 "" "no such network namespace: pid:999999999 (/proc/999999999/ns/net"
run -jn "$T/empty" stats
expect netns-not-a-namespace 1 "" "cannot"

# ---- bash completion (the fallback path without bash-completion) ----

complete_words() { # WORD... (the last one is being completed)
	bash -c '
		complete() { :; }
		source "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_pinholectl
		echo "${COMPREPLY[*]}"' _ "$HERE/../../userspace/pinholectl.bash-completion" pinholectl "$@"
}
c=$(complete_words s)
[ "$c" = "show stats set" ] && pass completion-commands || fail completion-commands "got '$c'"
c=$(complete_words m)
[ "$c" = "monitor" ] && pass completion-monitor || fail completion-monitor "got '$c'"
c=$(complete_words show p)
[ "$c" = "pinholes" ] && pass completion-show-object || fail completion-show-object "got '$c'"
c=$(complete_words stats --format o)
[ "$c" = "openmetrics" ] && pass completion-format || fail completion-format "got '$c'"
c=$(complete_words --json get ti)
[ "$c" = "timeout" ] && pass completion-get-keys || fail completion-get-keys "got '$c'"
c=$(complete_words set max)
[ "$c" = "max_pinholes=" ] && pass completion-set-keys || fail completion-set-keys "got '$c'"
c=$(complete_words --j)
[ "$c" = "--json" ] && pass completion-options || fail completion-options "got '$c'"

exit $failed
