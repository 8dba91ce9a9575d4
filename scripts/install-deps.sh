#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install, from Debian's archive only, whatever pinhole needs to build the
# module and tool and to prove them in a QEMU guest. Idempotent: it runs
# `apt-get update` at most once, and only when a package is missing.
set -euo pipefail

PKGS=(
	# build
	build-essential make gcc sparse kmod cpio pkg-config
	linux-image-amd64 linux-headers-amd64
	libnetfilter-conntrack-dev libmnl-dev libnftables-dev libjansson-dev
	# guest
	qemu-system-x86 busybox-static
	# end-to-end tests (run inside the guest from the host's /)
	nftables iptables conntrack iproute2 procps psmisc
	vsftpd python3 python3-pyftpdlib lftp curl socat tcpdump
	python3-prometheus-client
	# KUnit kernel (UML) built from Debian's source
	linux-source-6.1 bc flex bison libelf-dev libssl-dev xz-utils python3
	# fuzzing
	clang
	# debug kernel (scripts/debug-kernel.sh) and make stress
	linux-source-6.12 pahole
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#PKGS[@]} packages present"
	exit 0
fi

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
