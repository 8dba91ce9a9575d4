#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Every test of pinhole, in order of cost. Each suite prints one line per
# case, "PASS: suite/case" or "FAIL: suite/case: why"; this script counts
# them. A suite that exits non-zero without printing a FAIL line counts as
# one failure of its own, so a crash can never pass silently.
#
# usage: tests/run.sh [SUITE...]   (default: all; see SUITES below)
#
# KVER=<release> selects the Debian kernel the module is built for and the
# guest boots (scripts/kver.sh; default: the distribution's default kernel);
# KUnit stays UML either way.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
GUEST_KVER=$(scripts/kver.sh) || exit 1
GUEST_KDIR=/usr/src/linux-headers-$GUEST_KVER
LOGDIR=${PINHOLE_LOGDIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pinhole/logs}
mkdir -p "$LOGDIR"

passed=0
failed=0

# run_suite NAME CMD...: run CMD, echo its output, count its verdicts. The
# verdicts are counted from this run's own copy of the output (another
# run on the machine, a stock suite beside check-debug's, may be writing
# the same suite's log), which then becomes $LOGDIR/NAME.log.
run_suite() {
	local name=$1 log="$LOGDIR/$1.log" out status start
	shift
	echo "=== $name: $*"
	start=$SECONDS
	out=$(mktemp "$LOGDIR/.$name.XXXXXX")
	"$@" 2>&1 | tee "$out"
	status=${PIPESTATUS[0]}
	local p f
	p=$(grep -c '^PASS: ' "$out")
	f=$(grep -c '^FAIL: ' "$out")
	mv -f "$out" "$log"
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

# Warnings are errors here only: PINHOLE_WERROR=1 makes module/Kbuild add
# -Werror (a plain `make` and DKMS builds do without).
suite_build() {
	build_step module-W1 make -s module KDIR="$GUEST_KDIR" PINHOLE_WERROR=1
	build_step sparse make -s sparse KDIR="$GUEST_KDIR" PINHOLE_WERROR=1
	build_step pinholectl make -s userspace
	# the engine as the kernel builds it, with the kernel's string
	# routines only (fails if the engine needs one kstring.c lacks)
	build_step engine-bench make -s -C tests/bench
	suite_build_matrix
	scripts/compat-probe-test.sh
	scripts/guest-run-test.sh
	scripts/bench-table-test.sh
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

# The test build of the module (scripts/build-test-module.sh): the
# hardening scenario widens race windows with it, the fidelity scenario
# brings back the old enforce=1 for a negative control. check-debug brings
# its own, built against the debug kernel's tree.
need_test_module() { # SCENARIO
	if [ -z "${PINHOLE_HOOKS_KO:-}" ] &&
	   ! scripts/build-test-module.sh "$GUEST_KDIR"; then
		echo "FAIL: e2e/$1/test-module: scripts/build-test-module.sh failed"
		return 1
	fi
}

suite_e2e_hardening() { need_test_module hardening && e2e_scenario t_hardening 1500; }
suite_e2e_fidelity() { need_test_module fidelity && e2e_scenario t_fidelity 900; }

# The policy scenario's module sections only: parameters, helper_name=ftp
# and unloading with a live pinhole (make check-kernels' subset).
suite_e2e_policy_unload() {
	PINHOLE_POLICY_FROM=module e2e_scenario t_policy 1200
}

# The module, W=1 and sparse-clean, for every kernel of the matrix
# (scripts/kernel-matrix.sh) other than the guest's, each in
# build/kernels/<release>/ (module/ keeps the guest kernel's build).
# install-deps.sh installs every matrix kernel's headers: one missing is a
# failure, not a skip.
suite_build_matrix() {
	local k out kernels
	mapfile -t kernels < <(scripts/kernel-matrix.sh)
	[ ${#kernels[@]} -gt 0 ] || { echo "FAIL: build/matrix: no kernel matrix"; return 1; }
	for k in "${kernels[@]}"; do
		[ "$k" != "$GUEST_KVER" ] || continue
		if [ ! -f "/usr/src/linux-headers-$k/Makefile" ]; then
			echo "FAIL: build/matrix/$k: no /usr/src/linux-headers-$k (scripts/install-deps.sh)"
			continue
		fi
		out=$ROOT/build/kernels/$k
		build_step "matrix/$k/module-W1" scripts/build-module.sh \
			"/usr/src/linux-headers-$k" "$out"
		build_step "matrix/$k/sparse" make -s -C "/usr/src/linux-headers-$k" \
			M="$out" W=1 C=2 CF=-Wsparse-error PINHOLE_WERROR=1 modules
	done
}

# A short e2e run on one matrix kernel other than the guest's:
# PINHOLE_SMOKE_KVER, else the newest PREEMPT_RT one (kernel-matrix.sh
# --smoke; install-deps.sh installs its image), with its module in
# build/kernels/<release>/. Without its image: SKIP, which counts nothing.
suite_e2e_smoke() {
	local k=${PINHOLE_SMOKE_KVER:-$(scripts/kernel-matrix.sh --smoke)} ko
	if [ -z "$k" ] || [ "$k" = "$GUEST_KVER" ]; then
		echo "SKIP: e2e-smoke: no matrix kernel other than $GUEST_KVER"
		return 0
	fi
	if [ ! -e "/boot/vmlinuz-$k" ] || [ ! -f "/usr/src/linux-headers-$k/Makefile" ]; then
		echo "SKIP: e2e-smoke: $k is not installed (scripts/install-deps.sh)"
		return 0
	fi
	echo "# e2e-smoke: t_basic on $k"
	# Incremental: nothing to do when build-matrix has just built it.
	ko=$(scripts/build-module.sh "/usr/src/linux-headers-$k" \
		"$ROOT/build/kernels/$k") ||
		{ echo "FAIL: e2e-smoke/$k/build: see the output above"; return 1; }
	KVER=$k PINHOLE_KO=$ko e2e_scenario t_basic 900
}

# The firewall pair checks `pinholectl show` on the backup: it needs
# pinholectl as the build suite makes it.
suite_e2e_ha() {
	if ! make -s userspace >/dev/null; then
		echo "FAIL: e2e/ha/pinholectl: make userspace failed"
		return 1
	fi
	e2e_scenario t_ha 1200
}

suite_pinholectl_e2e() {
	scripts/guest-run.sh --timeout "$((900 * SCALE))" -- tests/userspace/e2e_pinholectl.sh
}

# The Debian packages: built here (make deb, and again with a bumped
# version), checked by lintian and by firewalld's own parser, make
# install/uninstall checked for symmetry; then installed, upgraded, booted
# and purged in the guest by tests/e2e/t_package.sh. Its second kernel's
# DKMS build only with PINHOLE_PKG_KERNEL2=1 (make check-package):
# make check has no time for a third build under TCG.
suite_package() {
	local dir=$ROOT/build/pkgtest ver bumped
	ver=$(tr -d '[:space:]' < VERSION)
	bumped=$ver+pkgtest1
	rm -rf "$dir"
	build_step package/deb packaging/mkdeb.sh "$dir/a"
	build_step package/deb-bumped packaging/mkdeb.sh "$dir/b" "$bumped"
	package_lintian "$dir/a/pinhole_${ver}_$(dpkg-architecture -qDEB_HOST_ARCH).changes"
	package_firewalld "$dir/a/pinhole-dkms_${ver}_all.deb"
	package_install_symmetry "$dir/a/pinhole-$ver"
	scripts/guest-run.sh --timeout 3000 --env PINHOLE_PKG_DIR="$dir" \
		--env PINHOLE_PKG_VERSIONS="$ver $bumped" \
		--env PINHOLE_PKG_KERNEL2="${PINHOLE_PKG_KERNEL2:-0}" -- tests/e2e/t_package.sh
}

# package_lintian CHANGES: no error; warnings are listed (as # lines).
package_lintian() {
	local out
	out=$(lintian --allow-root "$1" 2>&1)
	printf '%s\n' "$out" | grep -E '^[WEI]:' | sed 's/^/# lintian: /'
	if grep -q '^E:' <<< "$out"; then
		echo "FAIL: package/lintian: errors above"
	else
		echo "PASS: package/lintian"
	fi
}

# package_firewalld DEB: the shipped helper and service, read by
# firewalld's own python modules: the helper's module name yields the
# kernel helper type pinhole-ftp, the service uses the helper.
package_firewalld() {
	local tmp out
	tmp=$(mktemp -d)
	dpkg-deb -x "$1" "$tmp"
	if out=$(/usr/bin/python3 - "$tmp/usr/lib/firewalld" 2>&1 <<-'EOF'
		import sys
		from firewall.core.io.helper import helper_reader
		from firewall.core.io.service import service_reader
		from firewall.functions import get_nf_conntrack_short_name
		d = sys.argv[1]
		h = helper_reader("pinhole-ftp.xml", d + "/helpers")
		s = service_reader("ftp-pinhole.xml", d + "/services")
		t = get_nf_conntrack_short_name(h.module)
		print("helper", h.name, "module", h.module, "type", t, "ports", h.ports)
		print("service", s.name, "helpers", s.helpers, "ports", s.ports)
		assert t == "pinhole-ftp" and h.ports == [("21", "tcp")], "helper"
		assert s.helpers == ["pinhole-ftp"], "service"
		EOF
	); then
		printf '%s\n' "$out" | sed 's/^/# firewalld: /'
		echo "PASS: package/firewalld-xml"
	else
		printf '%s\n' "$out"
		echo "FAIL: package/firewalld-xml: firewalld's parser disagrees"
	fi
	rm -rf "$tmp"
}

# make install then make uninstall (and the boot files) leave no file
# behind, and installing prints no module-signing noise. Negative control:
# kbuild's modules_install alone does print it (Debian's kernel has
# CONFIG_MODULE_SIG_ALL and its headers no key). SRC is a copy of the
# tree (mkdeb.sh's): `make install` builds the module first, and in
# module/ it would rebuild the checked .ko without PINHOLE_WERROR.
package_install_symmetry() {
	local src=$1 tmp out left
	tmp=$(mktemp -d)
	out=$(make -s -C "$src" install install-boot DESTDIR="$tmp" PREFIX=/usr \
		KVER="$GUEST_KVER" KDIR="$GUEST_KDIR" 2>&1)
	if [ ! -f "$tmp/lib/modules/$GUEST_KVER/extra/module/nf_pinhole_ftp.ko" ] ||
	   [ ! -f "$tmp/etc/pinhole/nftables-helper.nft" ]; then
		printf '%s\n' "$out"
		echo "FAIL: package/make-install: nothing installed"
	elif grep -qiE 'SSL error|sign-file|System.map' <<< "$out"; then
		printf '%s\n' "$out"
		echo "FAIL: package/make-install-quiet: signing or depmod noise"
	else
		echo "PASS: package/make-install-quiet"
	fi
	out=$(make -s -C "$GUEST_KDIR" M="$src" INSTALL_MOD_PATH="$tmp/neg" \
		modules_install 2>&1)
	if grep -q 'SSL error' <<< "$out"; then
		echo "PASS: package/make-install-quiet-negative"
	else
		echo "FAIL: package/make-install-quiet-negative: kbuild's modules_install" \
			"printed no signing error: the check above proves nothing"
	fi
	rm -rf "$tmp/neg"
	make -s -C "$src" uninstall uninstall-boot DESTDIR="$tmp" PREFIX=/usr \
		KVER="$GUEST_KVER" KDIR="$GUEST_KDIR" >/dev/null 2>&1
	left=$(find "$tmp" -type f)
	if [ -z "$left" ]; then
		echo "PASS: package/make-uninstall-symmetric"
	else
		echo "FAIL: package/make-uninstall-symmetric: left behind: $left"
	fi
	rm -rf "$tmp"
}

SUITES=(build unit fuzz userspace kunit e2e-basic e2e-clients e2e-hosts
	e2e-split e2e-resync e2e-reuse e2e-policy e2e-nat e2e-hardening
	e2e-fidelity e2e-ha pinholectl-e2e e2e-smoke e2e-package)
# e2e-package (also alone: `make check-package`) runs three DKMS builds
# under TCG and dpkg on an overlay of the 9p root: 687 s on the 2-core
# build machine with nothing else running (it took 35 to 53 minutes beside
# other guests, with AVX in the guest CPU and kernel2's whole module tree).
# e2e-policy-unload is part of e2e-policy; make check-kernels runs it alone.
# build-matrix and compat-probe run inside build; alone, they are suites
# of their own too.
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
	[e2e-fidelity]=suite_e2e_fidelity
	[e2e-ha]=suite_e2e_ha
	[pinholectl-e2e]=suite_pinholectl_e2e
	[e2e-policy-unload]=suite_e2e_policy_unload
	[e2e-smoke]=suite_e2e_smoke
	[build-matrix]=suite_build_matrix
	[compat-probe]=scripts/compat-probe-test.sh
	[e2e-package]=suite_package
)

[ $# -gt 0 ] && SUITES=("$@")
for s in "${SUITES[@]}"; do
	[ -n "${CMD[$s]:-}" ] || { echo "unknown suite: $s" >&2; exit 2; }
done

# Guest suites can run in PINHOLE_LANES guests at once, each lane a
# tests/run.sh of its own; the other suites (build, unit, fuzz, userspace,
# kunit) run first, alone. make check keeps one lane: on the 2-core build
# machine the stock kernel's guests use both cores, and beside each other
# e2e-package took 1744 s instead of 687, e2e-policy 1005 instead of 316,
# e2e-hardening 699 instead of 358 (2026-12-02): two lanes were slower
# than one. check-debug runs two (scripts/check-debug.sh).
LANES=${PINHOLE_LANES:-1}
[[ $LANES =~ ^[1-9][0-9]*$ ]] || { echo "PINHOLE_LANES wants a positive number" >&2; exit 2; }

is_guest_suite() {
	case $1 in e2e-*|pinholectl-e2e) return 0 ;; *) return 1 ;; esac
}

# Seconds each suite took in make check, one lane, on the 2-core build
# machine (2026-12-01): only their proportions matter.
suite_weight() {
	case $1 in
	e2e-package) echo 687 ;; e2e-hardening) echo 358 ;; e2e-policy) echo 316 ;;
	e2e-fidelity) echo 249 ;; e2e-ha) echo 230 ;; e2e-nat) echo 187 ;;
	e2e-reuse|pinholectl-e2e) echo 103 ;; e2e-hosts) echo 98 ;;
	e2e-clients) echo 67 ;; e2e-split) echo 62 ;; e2e-smoke) echo 60 ;;
	e2e-basic) echo 54 ;; e2e-resync) echo 22 ;; *) echo 100 ;;
	esac
}

# The test module of the hardening and fidelity scenarios, built once
# before the lanes fork (two lanes must not build the same tree at once;
# need_test_module then finds PINHOLE_HOOKS_KO set).
build_shared() { # SUITE...
	local s
	[ -z "${PINHOLE_HOOKS_KO:-}" ] || return 0
	for s in "$@"; do
		case $s in e2e-hardening|e2e-fidelity) ;; *) continue ;; esac
		need_test_module lanes || failed=$((failed + 1))
		# set even after a failure: the scenarios then fail on it
		export PINHOLE_HOOKS_KO=$ROOT/tests/e2e/build/hooks/nf_pinhole_ftp.ko
		return 0
	done
}

# run_lanes SUITE...: longest first into the lightest lane; lane 0 in the
# foreground (its output live), the others into files shown when they are
# done. Every lane's PASS:/FAIL: lines are counted here.
run_lanes() {
	local -a lane_of lane_load pids=()
	local i min s dir
	for ((i = 0; i < LANES; i++)); do lane_of[i]=; lane_load[i]=0; done
	while read -r _ s; do
		min=0
		for ((i = 1; i < LANES; i++)); do
			[ "${lane_load[i]}" -lt "${lane_load[min]}" ] && min=$i
		done
		lane_of[min]+=" $s"
		lane_load[min]=$((lane_load[min] + $(suite_weight "$s")))
	done < <(for s in "$@"; do echo "$(suite_weight "$s") $s"; done | sort -rn)
	build_shared "$@"
	dir=$(mktemp -d "$LOGDIR/.lanes.XXXXXX")
	for ((i = 1; i < LANES; i++)); do
		[ -n "${lane_of[i]}" ] || continue
		# shellcheck disable=SC2086 # the lane's suites, one word each
		PINHOLE_LANES=1 tests/run.sh ${lane_of[i]} > "$dir/lane$i.log" 2>&1 &
		pids+=($!)
	done
	echo "# lane 0:${lane_of[0]}"
	# shellcheck disable=SC2086
	PINHOLE_LANES=1 tests/run.sh ${lane_of[0]} 2>&1 | tee "$dir/lane0.log"
	[ ${#pids[@]} -eq 0 ] || wait "${pids[@]}"
	for ((i = 1; i < LANES; i++)); do
		[ -f "$dir/lane$i.log" ] || continue
		echo "# lane $i:${lane_of[i]}"
		cat "$dir/lane$i.log"
	done
	for ((i = 0; i < LANES; i++)); do
		[ -f "$dir/lane$i.log" ] || continue
		passed=$((passed + $(grep -c '^PASS: ' "$dir/lane$i.log")))
		failed=$((failed + $(grep -c '^FAIL: ' "$dir/lane$i.log")))
	done
	rm -rf "$dir"
}

# A guest suite loads module/nf_pinhole_ftp.ko unless PINHOLE_KO names
# another. Bring it up to date before the first one (kbuild does nothing
# when it is; in make check the build suite has just built it):
# `tests/run.sh e2e-x` after an edit must not test the previous build.
# Exported, so lanes do not build the same tree at once.
need_module() {
	local out
	[ -z "${PINHOLE_KO:-}" ] || return 0
	if ! out=$(make -s module KDIR="$GUEST_KDIR" PINHOLE_WERROR=1 2>&1); then
		printf '%s\n' "$out"
		echo "FAIL: e2e/module-build: make module failed"
		failed=$((failed + 1))
	fi
	export PINHOLE_KO=$ROOT/module/nf_pinhole_ftp.ko
}

guests=()
for s in "${SUITES[@]}"; do
	is_guest_suite "$s" && need_module
	if [ "$LANES" -gt 1 ] && is_guest_suite "$s"; then
		guests+=("$s")
		continue
	fi
	# shellcheck disable=SC2086 # CMD values are word lists
	run_suite "$s" ${CMD[$s]}
done
if [ ${#guests[@]} -gt 0 ]; then
	lanes_start=$SECONDS
	run_lanes "${guests[@]}"
	echo "# guest suites: $((SECONDS - lanes_start)) s in $LANES lanes"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
