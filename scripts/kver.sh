#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Print the kernel version V that the guest boots and the module is built
# for: /boot/vmlinuz-V and /usr/src/linux-headers-V must both exist. Never
# looks at `uname -r`: the build machine's running kernel is not the one we
# build for.
#
# The choice is explicit, never "whatever was installed last":
#   1. $KVER (or $PINHOLE_GUEST_KVER), when set: that kernel or an error;
#   2. else the distribution's default kernel, the one the installed
#      linux-image-amd64 metapackage depends on (Debian 12: 6.1.0-N), so
#      that installing a 6.12 image for the kernel matrix moves nothing;
#   3. else the newest kernel that has both.
set -euo pipefail

boot=${PINHOLE_BOOT_DIR:-/boot}
src=${PINHOLE_SRC_DIR:-/usr/src}

usable() { [ -e "$boot/vmlinuz-$1" ] && [ -d "$src/linux-headers-$1" ]; }

want=${KVER:-${PINHOLE_GUEST_KVER:-}}
if [ -n "$want" ]; then
	usable "$want" && { echo "$want"; exit 0; }
	echo "kver.sh: KVER=$want needs $boot/vmlinuz-$want and" \
		"$src/linux-headers-$want (apt install" \
		"linux-image-$want linux-headers-$want)" >&2
	exit 1
fi

meta=$(dpkg-query -W -f='${Depends}' "linux-image-$(dpkg --print-architecture)" \
	2>/dev/null | sed -n 's/^linux-image-\([^ ,]*\).*/\1/p') || meta=
if [ -n "$meta" ] && usable "$meta"; then
	echo "$meta"
	exit 0
fi

versions=()
for img in "$boot"/vmlinuz-*; do
	[ -e "$img" ] || continue
	v=${img##*/vmlinuz-}
	usable "$v" && versions+=("$v")
done

if [ ${#versions[@]} -eq 0 ]; then
	echo "kver.sh: no kernel version V with both $boot/vmlinuz-V and" \
		"$src/linux-headers-V (install linux-image-amd64 and" \
		"linux-headers-amd64: scripts/install-deps.sh)" >&2
	exit 1
fi

printf '%s\n' "${versions[@]}" | sort -V | tail -n 1
