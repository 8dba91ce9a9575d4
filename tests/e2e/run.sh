#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/e2e/run.sh [t_NAME ...]: the end-to-end suite. Runs INSIDE the test
# guest, as in `scripts/guest-run.sh -- tests/e2e/run.sh`.
#
# Loads the helper, runs the scenarios tests/e2e/t_*.sh (or the ones named),
# checks that none leaks namespaces or processes, unloads the helper, and
# exits non-zero when anything failed. Output follows the PASS:/FAIL:/SKIP:
# protocol.
#
#   PINHOLE_HELPER=pinhole-ftp  (default) insmod $PINHOLE_KO, default
#                               module/nf_pinhole_ftp.ko under the repo
#   PINHOLE_HELPER=ftp          the kernel's stock helper (modprobe
#                               nf_conntrack_ftp), for comparison
#   PINHOLE_HELPER=none         no helper: only the negative controls
set -u

# One compound command: bash reads it whole before running any of it, so
# editing this file cannot disturb an instance that is already running.
{

if [ "${PINHOLE_GUEST:-}" != 1 ]; then
	echo "run.sh: runs inside the test guest:" \
		"scripts/guest-run.sh -- tests/e2e/run.sh" >&2
	exit 2
fi

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$E2E_DIR/../.." && pwd)
export PINHOLE_HELPER=${PINHOLE_HELPER:-pinhole-ftp}
case $PINHOLE_HELPER in
pinhole-ftp) suite=e2e ;;
ftp|none) suite=e2e-$PINHOLE_HELPER ;;
*) echo "run.sh: PINHOLE_HELPER must be pinhole-ftp, ftp or none" >&2; exit 2 ;;
esac
KO=${PINHOLE_KO:-$REPO_ROOT/module/nf_pinhole_ftp.ko}
MODNAME=nf_pinhole_ftp

failed=0
pass() { echo "PASS: $suite/$1"; }
fail() { echo "FAIL: $suite/$1: ${*:2}"; failed=$((failed + 1)); }

# Scenarios to run, as paths.
scenarios=()
if [ $# -gt 0 ]; then
	for t in "$@"; do
		t=${t%.sh}
		t=$E2E_DIR/${t##*/}.sh
		[ -f "$t" ] || { echo "run.sh: no scenario $t" >&2; exit 2; }
		scenarios+=("$t")
	done
else
	for t in "$E2E_DIR"/t_*.sh; do
		[ -f "$t" ] && scenarios+=("$t")
	done
fi
scen_name() { local n=${1##*/t_}; echo "${n%.sh}"; }

# load_deps KO: modprobe what the module depends on (insmod does not).
load_deps() {
	local deps d
	deps=$(modinfo -F depends "$1" 2>/dev/null) || return 1
	for d in ${deps//,/ }; do
		modprobe "$d" || return 1
	done
}

loaded=0
load_helper() {
	case $PINHOLE_HELPER in
	pinhole-ftp)
		if [ ! -f "$KO" ]; then
			fail module/load "$KO does not exist (build the module first)"
			return 1
		fi
		if lsmod | grep -qw '^nf_conntrack_ftp'; then
			rmmod nf_conntrack_ftp ||
				{ fail module/load "cannot unload nf_conntrack_ftp (holds port 21)"; return 1; }
		fi
		local out
		if ! out=$(load_deps "$KO" 2>&1 && insmod "$KO" 2>&1); then
			fail module/load "insmod $KO: $out"
			return 1
		fi
		loaded=1
		pass module/load
		;;
	ftp)
		if ! modprobe nf_conntrack_ftp; then
			fail module/load "modprobe nf_conntrack_ftp failed"
			return 1
		fi
		pass module/load
		;;
	none) ;;
	esac
}

# refcnt_zero: the module is no longer in use.
refcnt_zero() {
	[ "$(cat "/sys/module/$MODNAME/refcnt" 2>/dev/null)" = 0 ]
}

unload_helper() {
	[ "$loaded" = 1 ] || return 0
	local n=0
	# Namespaces die asynchronously: give them time to drop their rulesets.
	while ! refcnt_zero && [ "$n" -lt 100 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	local out
	if out=$(rmmod "$MODNAME" 2>&1); then
		pass module/unload
	else
		fail module/unload "rmmod: $out (refcnt $(cat "/sys/module/$MODNAME/refcnt" 2>/dev/null))"
	fi
}

# leaks NAME: the scenario left no namespace behind.
check_leaks() {
	local left
	left=$(ip netns list 2>/dev/null)
	if [ -n "$left" ]; then
		fail "$1/no-leaks" "namespaces left behind: $(echo "$left" | tr '\n' ' ')"
		local ns
		for ns in $(ip netns list | cut -d' ' -f1); do
			ip netns pids "$ns" | xargs -r kill -KILL
			ip netns delete "$ns"
		done
	fi
}

run_scenario() { # PATH
	local t=$1 name log rc=0 t0
	name=$(scen_name "$t")
	log=$(mktemp /tmp/pinhole-e2e-run.XXXXXX)
	t0=$SECONDS
	bash "$t" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	echo "# $name: exit $rc after $((SECONDS - t0)) s"
	if [ "$rc" -ne 0 ] && ! grep -q '^FAIL:' "$log"; then
		fail "$name" "exited with status $rc without reporting a failure"
	elif [ "$rc" -eq 0 ] && grep -q '^FAIL:' "$log"; then
		fail "$name" "reported failures but exited with status 0"
	fi
	grep -q '^FAIL:' "$log" && failed=$((failed + 1))
	rm -f "$log"
	check_leaks "$name"
}

if load_helper || [ "$PINHOLE_HELPER" = none ]; then
	for t in "${scenarios[@]}"; do
		run_scenario "$t"
	done
else
	for t in "${scenarios[@]}"; do
		fail "$(scen_name "$t")" "not run: the helper module is not loaded"
	done
fi
unload_helper

[ "$failed" -eq 0 ]

exit
}
