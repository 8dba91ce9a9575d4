#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# stress.sh: make stress. Boots the debug kernel (scripts/debug-kernel.sh,
# built first when the cache lacks it) or, with STRESS_KVER=V, Debian's
# kernel V (/boot/vmlinuz-V and /usr/src/linux-headers-V), builds
# nf_pinhole_ftp.ko against that kernel's tree (scripts/build-module.sh,
# into .debug-build/), and runs tests/stress/stress.sh in the guest: 1000
# concurrent FTP sessions through a firewall under sysctl flips, flushes,
# conntrack deletions, module reloads, a full expectation table, namespace
# churn and (debug kernel) fault injection. On the debug kernel the run
# also fails on any KASAN, lockdep, RCU, UBSAN, list or debug-objects
# report and on a kmemleak finding (scripts/guest/debug-check.sh).
#
# Environment: STRESS_KVER (empty: the debug kernel), STRESS_TIMEOUT
# (guest timeout in s, default 5400), PINHOLE_STRESS_* (see
# tests/stress/stress.sh: SESSIONS, ROUNDS, CALM, XFER, INTERVAL, RAMP).
# Output: PASS:/FAIL: lines, a table, `N passed, N failed`.
# Exit status: 0 when everything passed, 1 otherwise, 2 on bad usage.
set -uo pipefail

# One compound command: bash reads it whole before running any of it.
{

cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
kver=${STRESS_KVER:-}
timeout=${STRESS_TIMEOUT:-5400}
[[ $timeout =~ ^[1-9][0-9]*$ ]] || { echo "stress.sh: STRESS_TIMEOUT wants seconds" >&2; exit 2; }
start=$SECONDS

if [ -z "$kver" ]; then
	scripts/debug-kernel.sh build >/dev/null || { echo "FAIL: stress/kernel: scripts/debug-kernel.sh failed"; echo "0 passed, 1 failed"; exit 1; }
	kdir=$(scripts/debug-kernel.sh kdir)
	kind=debug
	out=$ROOT/.debug-build/module
	genv=()
else
	[[ $kver =~ ^[A-Za-z0-9._+~-]+$ ]] || { echo "stress.sh: bad STRESS_KVER '$kver'" >&2; exit 2; }
	[ -r "/boot/vmlinuz-$kver" ] || { echo "stress.sh: no /boot/vmlinuz-$kver" >&2; exit 2; }
	kdir=/usr/src/linux-headers-$kver
	kind=stock
	out=$ROOT/.debug-build/module-$kver
	genv=(PINHOLE_GUEST_KVER="$kver")
fi
if ! ko=$(scripts/build-module.sh "$kdir" "$out"); then
	echo "FAIL: stress/module-build: against $kdir"
	echo "0 passed, 1 failed"
	exit 1
fi

log=$ROOT/.debug-build/stress-$kind.log
env ${genv[@]+"${genv[@]}"} PINHOLE_KO="$ko" \
	scripts/guest-run.sh --kernel "$kind" --mem 3072 --timeout "$timeout" \
	-- tests/stress/stress.sh 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
echo "stress: $kind kernel, $((SECONDS - start)) s in all (log: $log)"
# The guest's own tally, plus one failure when the guest failed without
# saying why (a kernel report, a timeout, a crash).
p=$(grep -c '^PASS: ' "$log")
f=$(grep -c '^FAIL: ' "$log")
if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
	echo "FAIL: stress/guest: guest-run.sh exited with status $rc"
	f=1
fi
echo "$p passed, $f failed"
[ "$rc" -eq 0 ] && [ "$f" -eq 0 ]
}
