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

stage_module() {
	local root=$T/root
	rm -rf "$root"
	mkdir -p "$root/proc/net" "$root/proc/sys/net/netfilter/pinhole_ftp" \
		 "$root/sys/module/nf_pinhole_ftp/parameters"
	echo pinhole-ftp >"$root/sys/module/nf_pinhole_ftp/parameters/helper_name"
	local c
	for c in lines_port lines_eprt lines_pasv lines_epsv lines_227 \
		 lines_229 pinholes_opened refused_third_party \
		 refused_privileged_port refused_out_of_range \
		 refused_mode_disabled refused_malformed refused_family \
		 refused_unanswered refused_limit_reached refused_encrypted \
		 resyncs alloc_failures dropped nat_unrewritable \
		 nat_rewritten_again pinholes_superseded; do
		echo "$c 0"
	done >"$root/proc/net/pinhole_ftp"
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
run show extra; expect usage-show-extra-argument 2 "" "takes no arguments"
run set; expect usage-set-without-assignment 2 "" "KEY=VALUE"
run --netns; expect usage-netns-without-name 2 "" "ip netns list"
run --help; expect help 0 "usage: pinholectl"
run -V; expect version 0 "pinholectl "

# ---- module not loaded ----

stage_no_module
for cmd in show list watch stats get; do
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
NCOUNTERS=$(grep -cE '^[[:space:]]*X\([a-z_0-9]+,[[:space:]]*"' \
	"$(dirname "$0")/../../module/pinhole_abi.h")
if [ "$(echo "$OUT" | wc -l)" -eq "$NCOUNTERS" ] && [ "$(echo "$OUT" | head -1)" = "lines_port=0" ] &&
   ! echo "$OUT" | grep -qv '^[a-z_0-9]*=[0-9]*$'; then
	pass stats-text-shape
else
	fail stats-text-shape "not $NCOUNTERS name=value lines in ABI order: $OUT"
fi
run --json stats
expect stats-json-status 0
json_check stats-json-envelope 'list(d) == ["pinhole"] and d["pinhole"][0]["metainfo"]["json_schema_version"] == 1 and isinstance(d["pinhole"][0]["metainfo"]["version"], str)'
json_check stats-json-counters 'd["pinhole"][1]["counters"]["lines_pasv"] == 7 and d["pinhole"][1]["counters"]["refused_encrypted"] == 2 and len(d["pinhole"][1]["counters"]) == '"$NCOUNTERS"' and list(d["pinhole"][1]["counters"])[0] == "lines_port"'
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
json_check get-json-values 'd["pinhole"][1]["policy"] == {"timeout": 300, "enforce": 0}'
run --json get
json_check get-json-all 'list(d["pinhole"][1]["policy"]) == ["active","passive","allow_third_party","active_ports","passive_ports","max_pinholes","timeout","enforce"] and d["pinhole"][1]["policy"]["passive_ports"] == "1024-65535" and d["pinhole"][1]["policy"]["max_pinholes"] == 8'
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
	run doctor
	if [ -n "$unwanted" ] && [[ "$OUT" == *"$unwanted"* ]]; then
		fail "$name" "stdout has '$unwanted': $OUT"
		return
	fi
	expect "$name" "$rc" "$want"
}

stage_module
doctor_case doctor-clean-nft 0 nft_good.json empty.save empty.save "doctor: no problem found"
doctor_case doctor-clean-vmap 0 nft_vmap.json empty.save empty.save "doctor: no problem found"
doctor_case doctor-clean-iptables 0 nft_empty.json iptables_good.save empty.save "doctor: no problem found"
doctor_case doctor-no-helper 1 nft_no_helper.json empty.save empty.save \
	'problem: the helper "pinhole-ftp" is attached to no connection' "related"
doctor_case doctor-no-helper-fix 1 nft_no_helper.json empty.save empty.save \
	'tcp dport 21 ct helper set'
doctor_case doctor-helper-object-unused 1 nft_object_unused.json empty.save empty.save \
	'"ftp-pinhole" (type "pinhole-ftp") is defined but no rule sets it'
doctor_case doctor-no-related 1 nft_no_related.json empty.save empty.save \
	"no rule accepts 'ct state related'" "attached to no"
doctor_case doctor-stock-helper 1 nft_stock.json empty.save empty.save \
	'attaches the stock helper "ftp"'
doctor_case doctor-accept-all-needs-no-related 1 nft_accept_all.json empty.save empty.save \
	"doctor: 1 problem found" "related"
doctor_case doctor-iptables-no-related 1 nft_empty.json iptables_no_related.save empty.save \
	"no rule accepts 'ct state related'"
doctor_case doctor-iptables-no-helper 1 nft_empty.json iptables_no_helper.save empty.save \
	"attached to no connection" "related"
doctor_case doctor-ip6tables-counts 0 nft_empty.json empty.save iptables_good.save \
	"doctor: no problem found"
doctor_case doctor-ruleset-unreadable 1 "" "" "" "could not read the firewall ruleset"

echo ftp >"$T/root/sys/module/nf_pinhole_ftp/parameters/helper_name"
doctor_case doctor-helper-name-parameter 0 nft_stock.json empty.save empty.save "doctor: no problem found"
echo pinhole-ftp >"$T/root/sys/module/nf_pinhole_ftp/parameters/helper_name"

stage_no_module
doctor_case doctor-module-not-loaded 1 nft_good.json empty.save empty.save \
	"problem: the pinhole module nf_pinhole_ftp is not loaded fix: modprobe nf_pinhole_ftp"

stage_module
for c in refused_third_party refused_privileged_port refused_out_of_range \
	 refused_mode_disabled refused_malformed refused_family \
	 refused_unanswered refused_limit_reached refused_encrypted \
	 alloc_failures nat_unrewritable dropped; do
	stage_module
	set_counter "$c" 5
	doctor_case "doctor-counter-$c" 1 nft_good.json empty.save empty.save "problem: $c=5: "
done
stage_module
set_counter refused_mode_disabled 1
doctor_case doctor-mode-disabled-fix 1 nft_good.json empty.save empty.save "pinholectl set active=1"
stage_module
set_counter refused_encrypted 1
doctor_case doctor-encrypted-fix 1 nft_good.json empty.save empty.save "or use SFTP"
stage_module
set_counter lines_port 100
set_counter pinholes_opened 100
set_counter resyncs 3
doctor_case doctor-benign-counters 0 nft_good.json empty.save empty.save "doctor: no problem found"
stage_module
echo 0 >"$T/root/proc/sys/net/netfilter/pinhole_ftp/active"
echo 0 >"$T/root/proc/sys/net/netfilter/pinhole_ftp/passive"
doctor_case doctor-modes-disabled 1 nft_good.json empty.save empty.save "both active and passive mode are disabled"

stage_module
set_counter refused_privileged_port 2
rulesets nft_no_helper.json empty.save empty.save
run --json doctor
expect doctor-json-status 1
json_check doctor-json-findings '[list(x)[0] for x in d["pinhole"]] == ["metainfo", "finding", "finding", "summary"] and d["pinhole"][1]["finding"]["id"] == "helper_not_attached" and d["pinhole"][2]["finding"]["id"] == "refused_privileged_port" and all(isinstance(x["finding"][k], str) and x["finding"][k] for x in d["pinhole"][1:3] for k in ("problem", "fix")) and d["pinhole"][3]["summary"]["problems"] == 2'
stage_module
rulesets nft_good.json empty.save empty.save
run doctor --json
json_check doctor-json-clean 'd["pinhole"][1] == {"summary": {"problems": 0}} and len(d["pinhole"]) == 2'

# ---- namespaces ----

run --netns pinholectl-test-nosuch-ns show
expect netns-missing 1 "" "no such network namespace: pinholectl-test-nosuch-ns (see ip netns list)"
run --netns ../etc stats
expect netns-bad-name 1 "" "no such network namespace"

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
c=$(complete_words --json get ti)
[ "$c" = "timeout" ] && pass completion-get-keys || fail completion-get-keys "got '$c'"
c=$(complete_words set max)
[ "$c" = "max_pinholes=" ] && pass completion-set-keys || fail completion-set-keys "got '$c'"
c=$(complete_words --j)
[ "$c" = "--json" ] && pass completion-options || fail completion-options "got '$c'"

exit $failed
