#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check-kernels.sh [KVER...]: make check-kernels. On every kernel of the
# matrix (default: scripts/kernel-matrix.sh, Debian 12's 6.1 and 6.12, each
# generic and PREEMPT_RT):
#
#   kernels/<release>/module-W1   the module, W=1, warning-free, into
#                                 build/kernels/<release>/
#   kernels/<release>/sparse      sparse-clean
#   then, booted in the guest with that module, the e2e subset
#   (tests/run.sh, KVER=<release>): e2e-basic, e2e-split, e2e-nat,
#   e2e-policy-unload (the policy scenario's module sections: parameters,
#   helper_name=ftp, rmmod with a live pinhole) and pinholectl-e2e.
#
# A kernel whose image or headers are missing fails (make check-kernels
# installs them: scripts/install-deps.sh --kernels). Prints every case, a
# table of per-kernel results and times, and "N passed, N failed".
# PINHOLE_KERNEL_SUITES replaces the e2e subset. Logs: $PINHOLE_LOGDIR
# (default ~/.cache/pinhole/logs)/kernels/<release>/.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
ROOT=$PWD
LOGDIR=${PINHOLE_LOGDIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pinhole/logs}
mkdir -p "$LOGDIR" || exit 1
read -r -a SUITES <<< "${PINHOLE_KERNEL_SUITES:-e2e-basic e2e-split e2e-nat e2e-policy-unload pinholectl-e2e}"

if [ $# -gt 0 ]; then
	kernels=("$@")
else
	mapfile -t kernels < <(scripts/kernel-matrix.sh) || exit 1
fi
[ ${#kernels[@]} -gt 0 ] || { echo "check-kernels: no kernel matrix" >&2; exit 1; }

passed=0
failed=0
table=()

# step NAME LOG CMD...: one build case; passes only warning-free.
step() {
	local name=$1 log=$2
	shift 2
	if "$@" > "$log" 2>&1 && ! grep -qE '(warning|error):' "$log"; then
		echo "PASS: kernels/$name"
		return 0
	fi
	sed 's/^/    /' "$log"
	echo "FAIL: kernels/$name: see the output above"
	return 1
}

# one_kernel K: build, sparse, the e2e subset; sets kp/kf (counts).
one_kernel() {
	local k=$1 kdir=/usr/src/linux-headers-$1 out=$ROOT/build/kernels/$1
	local log=$LOGDIR/kernels/$1 ko
	mkdir -p "$log"
	if [ ! -f "$kdir/Makefile" ] || [ ! -e "/boot/vmlinuz-$k" ]; then
		echo "FAIL: kernels/$k/installed: linux-image-$k or linux-headers-$k" \
			"missing (scripts/install-deps.sh --kernels)"
		return
	fi
	step "$k/module-W1" "$log/build.log" scripts/build-module.sh "$kdir" "$out" ||
		return
	ko=$out/nf_pinhole_ftp.ko
	step "$k/sparse" "$log/sparse.log" make -s -C "$kdir" M="$out" W=1 C=2 \
		CF=-Wsparse-error PINHOLE_WERROR=1 modules
	# tests/run.sh counts its own suites; its cases are ours.
	KVER=$k PINHOLE_KO=$ko PINHOLE_LOGDIR=$log tests/run.sh "${SUITES[@]}" |
		grep --line-buffered -v '^[0-9]* passed, [0-9]* failed$'
}

make -s userspace > "$LOGDIR/check-kernels-userspace.log" 2>&1 ||
	{ cat "$LOGDIR/check-kernels-userspace.log"; echo "FAIL: kernels/pinholectl: build failed"; echo "0 passed, 1 failed"; exit 1; }

for k in "${kernels[@]}"; do
	echo "##### $k"
	start=$SECONDS
	out=$(mktemp)
	one_kernel "$k" 2>&1 | tee "$out"
	kp=$(grep -c '^PASS: ' "$out")
	kf=$(grep -c '^FAIL: ' "$out")
	rm -f "$out"
	# A kernel that printed nothing at all did not run: a failure.
	[ $((kp + kf)) -gt 0 ] || kf=1
	passed=$((passed + kp))
	failed=$((failed + kf))
	table+=("$(printf '%-26s %4d passed %4d failed %6d s' "$k" "$kp" "$kf" $((SECONDS - start)))")
	echo "##### $k: $kp passed, $kf failed, $((SECONDS - start)) s"
done

echo "##### kernels (${SUITES[*]})"
printf '%s\n' "${table[@]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
