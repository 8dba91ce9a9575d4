#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mkinitramfs.sh [--no-modules] KVER: print the path of a cached
# busybox-static initramfs for the test guest running kernel KVER, building
# it first when it is missing or when one of its inputs changed (this
# script, scripts/guest/init, the busybox binary, the kernel modules it
# packs). The cache lives in
# ${XDG_CACHE_HOME:-$HOME/.cache}/pinhole/, never in the source tree; builds
# are atomic, so concurrent callers are safe. --no-modules packs no module
# at all, for a kernel with virtio, 9p and virtio_console built in (the
# debug kernel of scripts/debug-kernel.sh); KVER then only names the image.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
prog=mkinitramfs.sh

die() { echo "$prog: $*" >&2; exit 1; }

with_modules=1
if [ "${1:-}" = --no-modules ]; then
	with_modules=0
	shift
fi
[ $# -eq 1 ] || die "usage: $prog [--no-modules] KVER"
kver=$1
moddir=/lib/modules/$kver
busybox=${PINHOLE_BUSYBOX:-/bin/busybox}
init=$here/init
cache=${XDG_CACHE_HOME:-$HOME/.cache}/pinhole

[ "$with_modules" = 0 ] || [ -d "$moddir" ] ||
	die "$moddir missing (linux-image for $kver installed?)"
[ -x "$busybox" ] || die "$busybox missing (apt-get install busybox-static)"
file -L "$busybox" 2>/dev/null | grep -q 'statically linked' ||
	ldd "$busybox" 2>&1 | grep -q 'not a dynamic' ||
	die "$busybox is not statically linked (install busybox-static)"
[ -r "$init" ] || die "$init missing"
for t in cpio gzip modprobe sha256sum; do
	command -v "$t" >/dev/null || die "$t not found (scripts/install-deps.sh)"
done

# Modules, dependencies first: virtio PCI transport, 9p over virtio, and
# the virtio serial ports that carry the command's stdout and stderr.
module_paths() {
	local m
	for m in virtio_pci 9pnet_virtio 9p virtio_console; do
		modprobe -S "$kver" --show-depends "$m" ||
			die "modprobe --show-depends $m failed for $kver"
	done | awk '$1 == "insmod" { print $2 }' | awk '!seen[$0]++'
}
mods=()
if [ "$with_modules" = 1 ]; then
	mapfile -t mods < <(module_paths)
	[ ${#mods[@]} -gt 0 ] || die "no modules found for $kver"
fi

key=$({
	echo "$kver"
	sha256sum "$0" "$init" "$busybox"
	for m in "${mods[@]+"${mods[@]}"}"; do sha256sum "$m"; done
} | sha256sum | cut -c1-16)
out=$cache/initramfs-$kver-$key.cpio.gz

if [ -s "$out" ]; then
	echo "$out"
	exit 0
fi

mkdir -p "$cache"
work=$(mktemp -d "$cache/initramfs-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,newroot,modules}
cp "$busybox" "$root/bin/busybox"
install -m 0755 "$init" "$root/init"

: > "$root/modules/order"
for m in "${mods[@]+"${mods[@]}"}"; do
	base=${m##*/}
	case $base in
	*.ko.xz) xz -dc "$m" > "$root/modules/${base%.xz}"; base=${base%.xz} ;;
	*.ko.zst) zstd -qdc "$m" > "$root/modules/${base%.zst}"; base=${base%.zst} ;;
	*.ko.gz) gzip -dc "$m" > "$root/modules/${base%.gz}"; base=${base%.gz} ;;
	*) cp "$m" "$root/modules/$base" ;;
	esac
	echo "$base" >> "$root/modules/order"
done

(cd "$root" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --owner=0:0 --quiet) | gzip -1 > "$work/initramfs"
mv -f "$work/initramfs" "$out"

# Drop initramfs images for this kernel built from older inputs.
for old in "$cache"/initramfs-"$kver"-*.cpio.gz; do
	[ "$old" = "$out" ] || rm -f "$old"
done
echo "$out"
