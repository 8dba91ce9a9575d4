#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Print the kernel version V for which both /boot/vmlinuz-V (to boot in the
# guest) and /usr/src/linux-headers-V (to build the module against) exist;
# the newest one if there are several. Never looks at `uname -r`: the build
# machine's running kernel is not the one we build for.
set -euo pipefail

boot=${PINHOLE_BOOT_DIR:-/boot}
src=${PINHOLE_SRC_DIR:-/usr/src}

versions=()
for img in "$boot"/vmlinuz-*; do
	[ -e "$img" ] || continue
	v=${img##*/vmlinuz-}
	[ -d "$src/linux-headers-$v" ] && versions+=("$v")
done

if [ ${#versions[@]} -eq 0 ]; then
	echo "kver.sh: no kernel version V with both $boot/vmlinuz-V and" \
		"$src/linux-headers-V (install linux-image-amd64 and" \
		"linux-headers-amd64: scripts/install-deps.sh)" >&2
	exit 1
fi

printf '%s\n' "${versions[@]}" | sort -V | tail -n 1
