#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run pinhole's KUnit suites in a UML kernel built from Debian's
# linux-source-6.1, with the kernel tree and the build cached so that only
# the first run is slow (about 7 minutes with -j2) and later runs rebuild
# only what changed.
#
# Usage: scripts/kunit.sh [FILTER_GLOB]     e.g. scripts/kunit.sh 'pinhole_ftp*'
#
# Environment:
#   PINHOLE_KUNIT_CACHE   cache dir (default ${XDG_CACHE_HOME:-$HOME/.cache}/pinhole/kunit)
#   PINHOLE_KUNIT_JOBS    make -j (default: number of CPUs)
#   PINHOLE_KUNIT_WERROR  1 (default): warnings in pinhole's files fail the build
#   PINHOLE_KUNIT_TIMEOUT seconds the UML kernel may run (default 300)
#   PINHOLE_KUNIT_SOURCE  kernel source tarball (default /usr/src/linux-source-6.1.tar.xz)
#
# Output follows the project's test protocol: one `PASS: kunit/<suite>/<case>`
# or `FAIL: kunit/<suite>/<case>: <why>` line per test case; a build failure,
# a crash, a missing result or a failing case makes the exit status non-zero
# (a build failure prints `FAIL: kunit/build: ...`). A skipped case is a FAIL
# (it did not run); so is a BUG/WARNING/Oops/panic on the console
# (`FAIL: kunit/console: ...`). tests/kunit/ktap_report.py does the parsing.
# Logs stay in the cache dir: build.log (kunit.py/make), run.log (console).
#
# Timings on the 2-core build machine: cold (extract + full UML build) about
# 7 to 12 minutes depending on load; warm with no change about 15 to 25 s
# (kunit.py olddefconfig, make's tree walk, UML relink, 1 s of tests).
# Changing tests/kunit/.kunitconfig makes kunit.py regenerate .config, which
# rebuilds most of the kernel.
#
# Layout. The kernel tree lives in <cache>/linux-source-6.1 (extracted once),
# the build output in <cache>/build. The tree gets, once and idempotently, a
# `source "net/pinhole_kunit/Kconfig"` line in net/Kconfig and an
# `obj-y += pinhole_kunit/` line in net/Makefile. On every run the directory
# net/pinhole_kunit/ is refreshed with symlinks to
#   - every module/*.c and module/*.h of this checkout (not *.mod.c),
#   - every tests/kunit/*.c and tests/kunit/*.h,
#   - tests/kunit/Kbuild (as Makefile) and tests/kunit/Kconfig (as Kconfig),
#   - module/Kbuild (as module.Kbuild: tests/kunit/Kbuild takes its flags),
# so edits in the checkout are seen at once and `make` rebuilds incrementally.
#
# How to add a kernel-side source file under test (say module/policy.c):
#   append policy.o to PINHOLE_KUNIT_SOURCES in tests/kunit/Kbuild. It is
#   compiled built-in (no module), with W=1 warnings, -Werror, and the
#   ccflags of module/Kbuild (its feature probes for compat.h).
# How to add a suite (say for policy.c):
#   write tests/kunit/policy_kunit.c with a `static struct kunit_suite` named
#   e.g. "pinhole_policy" and kunit_test_suite(); append policy_kunit.o to
#   PINHOLE_KUNIT_SUITES in tests/kunit/Kbuild. The suite runs automatically,
#   and the script fails if a suite declared in tests/kunit/*.c never reports.
# Kernel options a suite needs go into tests/kunit/.kunitconfig (kunit.py
# reconfigures the build by itself when that file changes).
#
# Stubs: a file in <cache>/stubs/ is linked into net/pinhole_kunit/ only when
# the checkout has no file of that name (a stand-in while a source is being
# written); the script says so on stderr. Never put stubs in the repo.
set -uo pipefail

# Everything is inside main() so that bash has read the whole script before
# it runs any of it: editing this file during a run cannot break the run.
main() {

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${PINHOLE_KUNIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pinhole/kunit}
TARBALL=${PINHOLE_KUNIT_SOURCE:-/usr/src/linux-source-6.1.tar.xz}
JOBS=${PINHOLE_KUNIT_JOBS:-$(nproc)}
WERROR=${PINHOLE_KUNIT_WERROR:-1}
TIMEOUT=${PINHOLE_KUNIT_TIMEOUT:-300}
FILTER=${1:-}
TREE=$CACHE/linux-source-6.1
BUILD=$CACHE/build
PKDIR=$TREE/net/pinhole_kunit
KUNITCONFIG=$ROOT/tests/kunit/.kunitconfig

fail() { echo "FAIL: kunit/$1: $2"; exit 1; }
log() { echo "kunit.sh: $*" >&2; }

mkdir -p "$CACHE" || fail build "cannot create cache dir $CACHE"
case "$CACHE/" in
"$ROOT"/*) fail build "cache dir $CACHE is inside the checkout" ;;
esac

# One run at a time per cache dir.
exec 9>"$CACHE/lock"
flock 9 || fail build "cannot lock $CACHE/lock"

# 1. The kernel tree, extracted once (again only if the tarball changes).
[ -r "$TARBALL" ] || fail build "no kernel source $TARBALL (scripts/install-deps.sh installs linux-source-6.1)"
stamp="$(stat -c '%n %s %Y' "$TARBALL")"
if [ ! -f "$TREE/.pinhole-extracted" ] || [ "$(cat "$TREE/.pinhole-extracted")" != "$stamp" ]; then
	log "extracting $TARBALL into $CACHE (once)"
	rm -rf "$TREE" "$CACHE/extract.tmp" "$BUILD"
	mkdir -p "$CACHE/extract.tmp"
	tar -xJf "$TARBALL" -C "$CACHE/extract.tmp" ||
		fail build "extracting $TARBALL failed"
	top=$(find "$CACHE/extract.tmp" -mindepth 1 -maxdepth 1 -type d | head -n1)
	[ -f "$top/Makefile" ] || fail build "$TARBALL holds no kernel tree"
	mv "$top" "$TREE" && rmdir "$CACHE/extract.tmp"
	echo "$stamp" >"$TREE/.pinhole-extracted"
fi

# 2. Hooks in the tree (idempotent).
grep -qxF 'source "net/pinhole_kunit/Kconfig"' "$TREE/net/Kconfig" ||
	printf '\n# pinhole KUnit tests (added by pinhole scripts/kunit.sh)\nsource "net/pinhole_kunit/Kconfig"\n' >>"$TREE/net/Kconfig"
grep -qxF 'obj-y += pinhole_kunit/' "$TREE/net/Makefile" ||
	printf '\n# pinhole KUnit tests (added by pinhole scripts/kunit.sh)\nobj-y += pinhole_kunit/\n' >>"$TREE/net/Makefile"

# 3. Refresh net/pinhole_kunit/ with links to the checkout.
mkdir -p "$PKDIR"
find "$PKDIR" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
declare -A linked=()
link() { # link TARGET [NAME]
	local name=${2:-$(basename "$1")}
	ln -s "$1" "$PKDIR/$name" && linked[$name]=$1
}
for f in "$ROOT"/module/*.[ch] "$ROOT"/tests/kunit/*.[ch]; do
	case "$f" in *.mod.c) continue ;; esac	# left by a module build
	[ -e "$f" ] && link "$f"
done
link "$ROOT/tests/kunit/Kbuild" Makefile
[ -e "$ROOT/module/Kbuild" ] && link "$ROOT/module/Kbuild" module.Kbuild
link "$ROOT/tests/kunit/Kconfig" Kconfig
if [ -d "$CACHE/stubs" ]; then
	for f in "$CACHE"/stubs/*; do
		[ -e "$f" ] || continue
		n=$(basename "$f")
		if [ -z "${linked[$n]:-}" ]; then
			log "WARNING: $n is missing from the checkout; using the stub $f"
			link "$f"
		fi
	done
fi
# make follows symlinks to their targets' mtimes; when a link points
# somewhere else than last time (stub replaced by the real file, a file
# removed), force our objects to be rebuilt.
links=$(for n in "${!linked[@]}"; do echo "$n -> ${linked[$n]}"; done | sort)
if [ "$links" != "$(cat "$CACHE/links.txt" 2>/dev/null)" ]; then
	rm -rf "$BUILD/net/pinhole_kunit"
	echo "$links" >"$CACHE/links.txt"
fi

cd "$TREE" || fail build "no tree $TREE"
KUNIT=(python3 tools/testing/kunit/kunit.py)
COMMON=(--arch=um "--build_dir=$BUILD")

# 4. Configure and build (incremental). kunit.py reconfigures when
# .kunitconfig changes.
t0=$(date +%s)
log "building UML kernel in $BUILD (log: $CACHE/build.log)"
if ! "${KUNIT[@]}" build "${COMMON[@]}" "--kunitconfig=$KUNITCONFIG" \
	"--jobs=$JOBS" --make_options "PINHOLE_WERROR=$WERROR" \
	>"$CACHE/build.log" 2>&1; then
	grep -E 'error:|warning:|\*\*\*|not in \.config|^ERROR:' "$CACHE/build.log" | head -n 40 >&2
	first=$(grep -m1 -E 'error:|warning:' "$CACHE/build.log" ||
		grep -m1 -E '\*\*\*|^ERROR:' "$CACHE/build.log")
	first=$(echo "$first" | sed 's/^ERROR:root://' | tr -s ' \t' ' ' | cut -c1-300)
	fail build "kunit.py build failed: ${first:-see $CACHE/build.log}"
fi
# Warnings that did not fail the build (PINHOLE_KUNIT_WERROR=0) still show.
grep -E '^(\.\./)?net/pinhole_kunit/.*warning:' "$CACHE/build.log" >&2
t1=$(date +%s)
log "build done in $((t1 - t0)) s"

# 5. Run the kernel and keep its whole console.
exec_args=("${COMMON[@]}" "--timeout=$TIMEOUT" --raw_output=all)
[ -n "$FILTER" ] && exec_args+=("$FILTER")
"${KUNIT[@]}" exec "${exec_args[@]}" >"$CACHE/run.log" 2>&1
exec_rc=$?
t2=$(date +%s)
log "run done in $((t2 - t1)) s (kunit.py exit $exec_rc, log: $CACHE/run.log)"

# 6. Parse KTAP ourselves: one PASS/FAIL line per case.
python3 "$ROOT/tests/kunit/ktap_report.py" "$CACHE/run.log" "$exec_rc" "$FILTER" "$ROOT"/tests/kunit/*.c
}

main "$@"
exit
