#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check-debug.sh [SUITE...]: pinhole's end-to-end suites on the debug
# kernel (make check-debug). Builds the kernel when the cache lacks it
# (scripts/debug-kernel.sh), builds nf_pinhole_ftp.ko against that
# kernel's own tree into .debug-build/module/ (W=1; the ordinary module/
# build is left alone), boots the kernel once to prove that it runs and
# loads the module, then runs SUITE... (default: every e2e suite, the
# hardening one with its test build of the module against the same tree, and
# pinholectl-e2e) through tests/run.sh with PINHOLE_KERNEL=debug, so that
# each guest boot also fails on a KASAN, lockdep, RCU, UBSAN, list or
# debug-objects report and ends with a kmemleak check
# (scripts/guest/debug-check.sh).
#
# The suites run in PINHOLE_DEBUG_LANES (default 2) guests at once
# (tests/run.sh's PINHOLE_LANES): a test guest leaves much of the 2-core
# build machine idle (its scenarios are mostly one client at a time), so
# two lanes took 2 h 9 min where one was estimated at about 3.3 h (each
# guest runs slower beside the other).
#
# Environment: PINHOLE_TIMEOUT_SCALE (default 4) multiplies each suite's
# guest timeout (KASAN and lockdep under TCG are slow); PINHOLE_LOGDIR as
# for tests/run.sh; PINHOLE_DEBUG_LANES.
# Output: the PASS:/FAIL: protocol, ending with `N passed, N failed`.
# Exit status: 0 when everything passed, 1 otherwise.
set -uo pipefail

# One compound command: bash reads it whole before running any of it.
{

cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
start=$SECONDS
export PINHOLE_KERNEL=debug
export PINHOLE_TIMEOUT_SCALE=${PINHOLE_TIMEOUT_SCALE:-4}
LANES=${PINHOLE_DEBUG_LANES:-2}
[[ $LANES =~ ^[1-9][0-9]*$ ]] || { echo "check-debug.sh: PINHOLE_DEBUG_LANES wants a positive number" >&2; exit 2; }

SUITES=(e2e-basic e2e-clients e2e-hosts e2e-split e2e-resync e2e-reuse
	e2e-policy e2e-nat e2e-hardening e2e-fidelity e2e-ha pinholectl-e2e)
[ $# -gt 0 ] && SUITES=("$@")

passed=0
failed=0
pass() { echo "PASS: debug/$1"; passed=$((passed + 1)); }
fail() { echo "FAIL: debug/$1: ${*:2}"; failed=$((failed + 1)); }
finish() {
	echo "check-debug: $((SECONDS - start)) s"
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

# The kernel (cached after the first, long build).
if ! kdir=$(scripts/debug-kernel.sh kdir 2>/dev/null); then
	echo "check-debug: building the debug kernel (first time only; see README)"
	scripts/debug-kernel.sh build >/dev/null || { fail kernel "scripts/debug-kernel.sh failed"; finish; }
	kdir=$(scripts/debug-kernel.sh kdir)
fi
kver=$(scripts/debug-kernel.sh release)
kdirkey=$(scripts/debug-kernel.sh locate)
pass "kernel ($kver, built in $(cat "$kdirkey/build-seconds") s," \
	"$(cat "$kdirkey/build-cpu-seconds" 2>/dev/null || echo "?") s of CPU)"

# The module, against that tree, out of module/ (scripts/build-module.sh).
mdir=$ROOT/.debug-build/module
if ko=$(scripts/build-module.sh "$kdir" "$mdir"); then
	pass module-build
else
	fail module-build "building against $kdir (log above)"
	finish
fi
export PINHOLE_KO=$ko

# The hardening scenario's test build (module/testhooks.c), same tree.
if scripts/build-test-module.sh "$kdir" "$ROOT/.debug-build/hooks" >/dev/null; then
	pass test-module-build
	export PINHOLE_HOOKS_KO=$ROOT/.debug-build/hooks/nf_pinhole_ftp.ko
else
	fail test-module-build "scripts/build-test-module.sh $kdir"
fi

if ! make -s userspace > "$mdir/userspace.log" 2>&1; then
	cat "$mdir/userspace.log"
	fail userspace-build "make userspace"
fi

# One boot: the kernel runs, its modules load from /lib/modules/$kver,
# ours loads beside the stock helper's dependencies and unloads.
boot_cmd='set -e
[ "$(uname -r)" = "$PINHOLE_KVER" ]
grep -q "panic_on_warn=1" /proc/cmdline
modprobe nf_conntrack_ftp
rmmod nf_conntrack_ftp
for d in $(modinfo -F depends "$PINHOLE_KO" | tr , " "); do modprobe "$d"; done
insmod "$PINHOLE_KO"
grep -q "^nf_pinhole_ftp " /proc/modules
rmmod nf_pinhole_ftp'
if out=$(scripts/guest-run.sh --timeout 600 --env PINHOLE_DEBUG_LABEL=boot -- bash -c "$boot_cmd" 2>&1); then
	pass boot
	echo "$out" | grep -E '^(PASS|FAIL): ' | sed 's/^/    /'
else
	echo "$out"
	fail boot "the debug kernel could not run the module load/unload (output above)"
	finish
fi

# The suites, in lanes (tests/run.sh); its PASS:/FAIL: lines count here.
lanelog=$mdir/suites.log
PINHOLE_LANES=$LANES tests/run.sh "${SUITES[@]}" 2>&1 | tee "$lanelog"
passed=$((passed + $(grep -c '^PASS: ' "$lanelog")))
failed=$((failed + $(grep -c '^FAIL: ' "$lanelog")))
finish
}
