#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# debug-kernel.sh [build|locate|release|kdir|image|modules]
#
# pinhole's debug kernel: Debian's linux-source-6.12 configured by
# x86_64 `make tinyconfig` plus scripts/debug-kernel.config (KASAN,
# kmemleak, lockdep, RCU checks, UBSAN, debug objects, fault injection;
# virtio, 9p and netfilter built in), built once and cached. The test
# guest boots it with PINHOLE_KERNEL=debug (scripts/guest-run.sh).
#
#   build    (default) build the kernel unless the cache has it, then print
#            the cache directory. The first build takes long (see README);
#            later calls return at once.
#   locate   print the cache directory; exit 1 when it was never built
#   release  print the kernel release (uname -r in the guest)
#   kdir     print the build tree to build modules against (KDIR=)
#   image    print the path of bzImage
#   modules  print the directory that holds lib/modules/<release>
#
# The cache directory is ${XDG_CACHE_HOME:-$HOME/.cache}/pinhole/debug-kernel/
# KEY, where KEY hashes the config fragment, the recipe number in this
# script and the source package's version: editing the fragment, bumping
# the recipe or upgrading linux-source-6.12
# builds a new kernel (the old one is removed once the new one is done).
# Inside: src/ (the extracted source, one per source version), build/
# (make O=, shared by all keys so that a changed config rebuilds only what
# it affects; kept for modules: `make modules_prepare` output and
# Module.symvers; build/.pinhole-key names the key it was last completed
# for), KEY/bzImage, KEY/modules/lib/modules/<release>, KEY/build.log,
# KEY/build-seconds and KEY/build-cpu-seconds (a cold build's only when
# build/ started empty), KEY/release, KEY/complete. A KEY is usable only
# while build/ still belongs to it (modules must match the tree they build
# in).
#
# Environment:
#   PINHOLE_DEBUG_SOURCE  source tarball (default /usr/src/linux-source-6.12.tar.xz)
#   PINHOLE_DEBUG_JOBS    make -j (default 2; the build runs under nice -n 10)
#
# Exit status: 0 ok, 1 error (the build log's tail is printed), 2 usage.
set -euo pipefail

# One compound command: bash reads it whole before running any of it.
{

prog=debug-kernel.sh
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fragment=$here/debug-kernel.config
tarball=${PINHOLE_DEBUG_SOURCE:-/usr/src/linux-source-6.12.tar.xz}
jobs=${PINHOLE_DEBUG_JOBS:-2}
top=${XDG_CACHE_HOME:-$HOME/.cache}/pinhole/debug-kernel

die() { echo "$prog: $*" >&2; exit 1; }
log() { echo "$prog: $*" >&2; }

action=${1:-build}
case $action in
build|locate|release|kdir|image|modules) ;;
-h|--help) sed -n '4,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2; exit 0 ;;
*) echo "$prog: unknown action '$action' (build|locate|release|kdir|image|modules)" >&2; exit 2 ;;
esac
[ $# -le 1 ] || { echo "$prog: one action at most" >&2; exit 2; }
[[ $jobs =~ ^[1-9][0-9]*$ ]] || { echo "$prog: PINHOLE_DEBUG_JOBS wants a number" >&2; exit 2; }

[ -r "$tarball" ] ||
	die "$tarball missing (scripts/install-deps.sh installs linux-source-6.12)"
[ -r "$fragment" ] || die "$fragment missing"

# The source's identity: the package version when dpkg knows the tarball,
# else its size and mtime (a tarball given by PINHOLE_DEBUG_SOURCE).
source_id() {
	local pkg
	pkg=$(dpkg-query -S "$tarball" 2>/dev/null | cut -d: -f1) || pkg=
	if [ -n "$pkg" ]; then
		dpkg-query -W -f='${Package} ${Version}\n' "$pkg"
	else
		stat -c '%n %s %Y' "$tarball"
	fi
}
srcid=$(source_id)
# Bump when a change to this script changes what it builds.
recipe=2
key=$({ echo "$srcid recipe $recipe"; sha256sum < "$fragment"; } |
	sha256sum | cut -c1-16)
dir=$top/$key
btree=$top/build
srcdir=$top/src/$(echo "$srcid" | tr -c 'A-Za-z0-9.+~\n-' _)

# The release the build tree makes. Not through kmake: its output goes to
# the build log (a first build wrote an empty release file that way).
kernel_release() {
	make -s -C "$srcdir" O="$btree" ARCH=x86_64 kernelrelease 2>/dev/null |
		tail -n 1
}

report() { # print what the action asks for, from a complete cache dir
	local rel
	rel=$(cat "$dir/release")
	if [ -z "$rel" ]; then	# written empty by recipe 2's first builds
		rel=$(kernel_release)
		[ -n "$rel" ] || die "cannot tell the release of $btree"
		echo "$rel" > "$dir/release"
	fi
	case $action in
	build|locate) echo "$dir" ;;
	release) echo "$rel" ;;
	kdir) echo "$btree" ;;
	image) echo "$dir/bzImage" ;;
	modules) echo "$dir/modules" ;;
	esac
}

built() {
	[ -e "$dir/complete" ] && [ "$(cat "$btree/.pinhole-key" 2>/dev/null)" = "$key" ]
}
if built; then
	report
	exit 0
fi
[ "$action" = build ] ||
	die "no debug kernel built for this config yet: run scripts/debug-kernel.sh (or make debug-kernel)"

for t in make gcc flex bison bc perl xz tar openssl; do
	command -v "$t" >/dev/null || die "$t not found (scripts/install-deps.sh)"
done

mkdir -p "$top"
# One builder at a time; a second caller waits and then finds it built.
exec {lockfd}> "$top/lock"
if ! flock -n "$lockfd"; then
	log "another build is running; waiting for it"
	flock "$lockfd"
fi
if built; then
	report
	exit 0
fi

start=$SECONDS

if [ ! -e "$srcdir/.extracted" ]; then
	log "extracting $tarball into $srcdir"
	rm -rf "$srcdir" "$srcdir.tmp"
	mkdir -p "$srcdir.tmp"
	tar -xf "$tarball" -C "$srcdir.tmp" --strip-components=1 ||
		die "cannot extract $tarball"
	touch "$srcdir.tmp/.extracted"
	mv "$srcdir.tmp" "$srcdir"
fi

# The key's files are redone; the shared tree only rebuilds what changed.
rm -rf "$dir"
mkdir -p "$dir" "$btree"
rm -f "$btree/.pinhole-key"
blog=$dir/build.log
kmake() {
	nice -n 10 make -C "$srcdir" O="$btree" ARCH=x86_64 "$@" >> "$blog" 2>&1
}
fail_build() {
	tail -n 40 "$blog" >&2
	die "$1 failed (log: $blog)"
}

log "configuring (tinyconfig + $(basename "$fragment"))"
kmake tinyconfig || fail_build "make tinyconfig"
"$srcdir/scripts/kconfig/merge_config.sh" -m -O "$btree" \
	"$btree/.config" "$fragment" >> "$blog" 2>&1 || fail_build "merge_config.sh"
kmake olddefconfig || fail_build "make olddefconfig"

# Every option of the fragment must have survived olddefconfig: a
# dependency Kconfig could not meet drops it silently otherwise.
missing=()
while IFS= read -r line; do
	case $line in
	CONFIG_*=*)
		grep -qxF -- "$line" "$btree/.config" || missing+=("$line") ;;
	"# CONFIG_"*" is not set")
		opt=${line#\# }
		opt=${opt%% *}
		! grep -q "^$opt=" "$btree/.config" || missing+=("$line") ;;
	esac
done < "$fragment"
if [ ${#missing[@]} -gt 0 ]; then
	printf '  %s\n' "${missing[@]}" >&2
	die "the final .config lost these fragment lines (see $btree/.config)"
fi

log "building (nice -n 10 make -j$jobs; log: $blog)"
kmake -j"$jobs" bzImage modules || fail_build "the kernel build"
kmake INSTALL_MOD_PATH="$dir/modules" modules_install || fail_build "modules_install"
rel=$(kernel_release)
[ -n "$rel" ] || fail_build "make kernelrelease"
echo "$rel" > "$dir/release"
[ -d "$dir/modules/lib/modules/$rel" ] ||
	die "modules_install made no $dir/modules/lib/modules/$rel"
# These links point into the cache and would dangle in the guest.
rm -f "$dir/modules/lib/modules/$rel/build" "$dir/modules/lib/modules/$rel/source"

cp "$btree/arch/x86/boot/bzImage" "$dir/bzImage"
echo $((SECONDS - start)) > "$dir/build-seconds"
# CPU time (user + sys of every child: extraction, config, compile), which
# unlike the wall time does not depend on what else the machine ran: on an
# idle 2-core machine the build takes about half of it.
times > "$dir/build-times"
awk 'NR == 2 { for (i = 1; i <= 2; i++) { split($i, t, /[ms]/); s += t[1] * 60 + t[2] }
	printf "%d\n", s }' "$dir/build-times" > "$dir/build-cpu-seconds"
touch "$dir/complete"
echo "$key" > "$btree/.pinhole-key"
log "built $rel in $((SECONDS - start)) s"

# Kernels for configs that no longer exist.
for old in "$top"/*/complete; do
	[ -e "$old" ] || continue
	old=${old%/complete}
	[ "$old" = "$dir" ] || rm -rf "$old"
done
report
}
