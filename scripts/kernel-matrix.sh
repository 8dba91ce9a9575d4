#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kernel-matrix.sh [--headers|--images|--missing] [--series S --flavour F]
#
# Print the kernels pinhole is built for and booted on, one release a line:
# Debian 12's two kernel series (the default 6.1 and the 6.12 LTS of
# bookworm-security), each generic (amd64) and PREEMPT_RT (rt-amd64):
#
#   6.1.0-N-amd64  6.1.0-N-rt-amd64  6.12.X+deb12-amd64  6.12.X+deb12-rt-amd64
#
# The 6.1 ABI N is the default kernel's (scripts/kver.sh without KVER: the
# one linux-image-amd64 depends on); the 6.12 release is the newest one
# whose headers are installed, else the newest in apt's lists. Nothing is
# pinned here: a security update of either series moves the matrix with
# it. PINHOLE_KERNELS="V1 V2 ..." replaces the list.
#
#   --headers   only the kernels whose headers are installed (module builds)
#   --images    only those with headers and an image (guest boots)
#   --missing   only those lacking either, as package names to install
#   --series S --flavour F   the one kernel of series S (6.1 or 6.12) and
#               flavour F (amd64 or rt-amd64)
#   --smoke     the one kernel of make check's e2e-smoke: the newest
#               PREEMPT_RT one that is not the guest's default kernel
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
boot=${PINHOLE_BOOT_DIR:-/boot}
src=${PINHOLE_SRC_DIR:-/usr/src}
filter=all
series=
flavour=

while [ $# -gt 0 ]; do
	case $1 in
	--headers|--images|--missing) filter=${1#--}; shift ;;
	--series) series=$2; shift 2 ;;
	--smoke) filter=smoke; shift ;;
	--flavour) flavour=$2; shift 2 ;;
	*) echo "usage: kernel-matrix.sh [--headers|--images|--missing]" \
		"[--series S --flavour F]" >&2; exit 2 ;;
	esac
done

# The default 6.1 kernel's ABI prefix, e.g. 6.1.0-57.
default_61() {
	local v
	v=$(env -u KVER -u PINHOLE_GUEST_KVER "$here/kver.sh" 2>/dev/null) ||
		v=$(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null |
			sed -n 's/^linux-image-\([^ ,]*\).*/\1/p')
	case $v in
	6.1.*-amd64) echo "${v%-amd64}" ;;
	*) echo "kernel-matrix.sh: the default kernel '$v' is not Debian 12's 6.1" >&2
	   return 1 ;;
	esac
}

# The 6.12 release prefix, e.g. 6.12.117+deb12: installed headers first.
newest_612() {
	local v
	v=$(find "$src" -maxdepth 1 -name 'linux-headers-6.12.*-amd64' \
		! -name '*-rt-amd64' -printf '%f\n' 2>/dev/null |
		sed 's/^linux-headers-//; s/-amd64$//' | sort -V | tail -n 1)
	[ -n "$v" ] || v=$(apt-cache pkgnames linux-image-6.12. 2>/dev/null |
		grep -E '^linux-image-6\.12\.[0-9]+\+deb[0-9]+-amd64$' |
		sed 's/^linux-image-//; s/-amd64$//' | sort -V | tail -n 1)
	[ -n "$v" ] || { echo "kernel-matrix.sh: no 6.12 kernel installed or in apt's lists" >&2; return 1; }
	echo "$v"
}

if [ -n "${PINHOLE_KERNELS:-}" ]; then
	read -r -a all <<< "$PINHOLE_KERNELS"
else
	v61=$(default_61)
	v612=$(newest_612)
	all=("$v61-amd64" "$v61-rt-amd64" "$v612-amd64" "$v612-rt-amd64")
fi

if [ -n "$series" ]; then
	for k in "${all[@]}"; do
		case $k in
		"$series".*-"$flavour")
			# 6.1's generic flavour must not match its -rt-amd64
			[ "$flavour" = amd64 ] && [[ $k == *-rt-amd64 ]] && continue
			echo "$k"; exit 0 ;;
		esac
	done
	echo "kernel-matrix.sh: no $series $flavour kernel in the matrix (${all[*]})" >&2
	exit 1
fi

if [ "$filter" = smoke ]; then
	def=$(env -u KVER -u PINHOLE_GUEST_KVER "$here/kver.sh" 2>/dev/null) || def=
	printf '%s\n' "${all[@]}" | grep -vxF "${def:-none}" | sort -V |
		awk '/-rt-/ { rt = $0 } { any = $0 } END { print rt ? rt : any }'
	exit 0
fi

for k in "${all[@]}"; do
	h=0 i=0
	[ -f "$src/linux-headers-$k/Makefile" ] && h=1
	[ -e "$boot/vmlinuz-$k" ] && [ -d "/lib/modules/$k/kernel" ] && i=1
	case $filter in
	all) echo "$k" ;;
	headers) [ $h = 0 ] || echo "$k" ;;
	images) [ $h = 0 ] || [ $i = 0 ] || echo "$k" ;;
	missing)
		[ $h = 1 ] || echo "linux-headers-$k"
		[ $i = 1 ] || echo "linux-image-$k" ;;
	esac
done
