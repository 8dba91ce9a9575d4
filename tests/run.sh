#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Every test of pinhole, in order of cost. Each suite prints one line per
# case, "PASS: suite/case" or "FAIL: suite/case: why"; this script counts
# them. A suite that exits non-zero without printing a FAIL line counts as
# one failure of its own, so a crash can never pass silently.
#
# usage: tests/run.sh [SUITE...]   (default: all; see SUITES below)
set -uo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
GUEST_KVER=$(scripts/kver.sh) || exit 1
GUEST_KDIR=/usr/src/linux-headers-$GUEST_KVER
LOGDIR=${PINHOLE_LOGDIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pinhole/logs}
mkdir -p "$LOGDIR"

passed=0
failed=0

# run_suite NAME CMD...: run CMD, echo its output, count its verdicts.
run_suite() {
	local name=$1 log="$LOGDIR/$1.log" status start
	shift
	echo "=== $name: $*"
	start=$SECONDS
	"$@" 2>&1 | tee "$log"
	status=${PIPESTATUS[0]}
	local p f
	p=$(grep -c '^PASS: ' "$log")
	f=$(grep -c '^FAIL: ' "$log")
	if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL: $name: exited with status $status (log: $log)"
		f=1
	fi
	echo "=== $name: $p passed, $f failed, $((SECONDS - start)) s"
	passed=$((passed + p))
	failed=$((failed + f))
}

# A build step is one test case: it passes only if it is warning-free.
build_step() {
	local name=$1 log
	shift
	log=$(mktemp)
	if "$@" >"$log" 2>&1 && ! grep -qE '(warning|error):' "$log"; then
		echo "PASS: build/$name"
	else
		cat "$log"
		echo "FAIL: build/$name: see the output above"
	fi
	rm -f "$log"
}

suite_build() {
	build_step module-W1 make -s module KDIR="$GUEST_KDIR"
	build_step sparse make -s sparse KDIR="$GUEST_KDIR"
	build_step pinholectl make -s userspace
}

# One guest boot per scenario: a hung scenario cannot take the others
# with it, and each has a time limit sized for TCG on a loaded machine,
# times PINHOLE_TIMEOUT_SCALE (the debug kernel of make check-debug is
# several times slower; PINHOLE_KERNEL=debug selects it in guest-run.sh).
SCALE=${PINHOLE_TIMEOUT_SCALE:-1}
[[ $SCALE =~ ^[1-9][0-9]*$ ]] || { echo "PINHOLE_TIMEOUT_SCALE wants a whole number" >&2; exit 2; }
e2e_scenario() {
	scripts/guest-run.sh --timeout "$(($2 * SCALE))" -- tests/e2e/run.sh "$1"
}

# The hardening scenario also needs the test build of the module.
suite_e2e_hardening() {
	if ! scripts/build-test-module.sh "$GUEST_KDIR"; then
		echo "FAIL: e2e/hardening/test-module: scripts/build-test-module.sh failed"
		return 1
	fi
	e2e_scenario t_hardening 1500
}

suite_pinholectl_e2e() {
	scripts/guest-run.sh --timeout "$((900 * SCALE))" -- tests/userspace/e2e_pinholectl.sh
}

SUITES=(build unit fuzz userspace kunit e2e-basic e2e-clients e2e-hosts
	e2e-split e2e-resync e2e-reuse e2e-policy e2e-nat e2e-hardening
	pinholectl-e2e)
declare -A CMD=(
	[build]=suite_build
	[unit]="make -s -C tests/unit check"
	[fuzz]="make -s -C tests/fuzz fuzz-short replay"
	[userspace]="make -s -C userspace check"
	[kunit]=scripts/kunit.sh
	[e2e-basic]="e2e_scenario t_basic 900"
	[e2e-clients]="e2e_scenario t_clients 900"
	[e2e-hosts]="e2e_scenario t_hosts 900"
	[e2e-split]="e2e_scenario t_split 600"
	[e2e-resync]="e2e_scenario t_resync 600"
	[e2e-reuse]="e2e_scenario t_reuse 600"
	[e2e-policy]="e2e_scenario t_policy 2400"
	[e2e-nat]="e2e_scenario t_nat 1800"
	[e2e-hardening]=suite_e2e_hardening
	[pinholectl-e2e]=suite_pinholectl_e2e
)

[ $# -gt 0 ] && SUITES=("$@")
for s in "${SUITES[@]}"; do
	[ -n "${CMD[$s]:-}" ] || { echo "unknown suite: $s" >&2; exit 2; }
	# shellcheck disable=SC2086 # CMD values are word lists
	run_suite "$s" ${CMD[$s]}
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
