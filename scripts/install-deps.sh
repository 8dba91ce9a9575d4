#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install, from Debian's archive only, whatever pinhole needs to build the
# module and tool and to prove them in a QEMU guest. Idempotent: it runs
# `apt-get update` at most once, and only when a package is missing.
#
# usage: install-deps.sh [--kernels]
#
# Always: the headers of every kernel of the matrix (scripts/kernel-matrix.sh:
# Debian 12's 6.1 and 6.12, generic and -rt), for make check's build-matrix
# suite and scripts/compat-probe-test.sh, and the image of the one kernel
# make check's e2e-smoke boots (kernel-matrix.sh --smoke). --kernels (make
# check-kernels) installs every matrix kernel's image.
set -euo pipefail

kernels=0
case ${1:-} in
--kernels) kernels=1 ;;
"") ;;
*) echo "usage: install-deps.sh [--kernels]" >&2; exit 2 ;;
esac

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
	# firewall pairs (e2e-ha): state replication between two firewalls
	conntrackd
	# KUnit kernel (UML) built from Debian's source
	linux-source-6.1 bc flex bison libelf-dev libssl-dev xz-utils python3
	# fuzzing
	clang
	# debug kernel (scripts/debug-kernel.sh) and make stress
	linux-source-6.12 pahole
	# Debian packages (make deb) and their test (e2e-package): DKMS,
	# lintian, firewalld's own python modules to read our XML
	debhelper dh-dkms dkms dpkg-dev lintian openssl python3-firewall
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
updated=

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#PKGS[@]} packages present"
else
	echo "install-deps: installing ${missing[*]}"
	$SUDO apt-get update -qq
	updated=1
	$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
		--no-install-recommends "${missing[@]}" >/dev/null
	echo "install-deps: done"
fi

# The kernel matrix: headers always, images with --kernels. Listed after
# the packages above (linux-image-amd64 names the default kernel, apt's
# lists the newest 6.12).
smoke=$("$(dirname "$0")/kernel-matrix.sh" --smoke)
mapfile -t kmissing < <("$(dirname "$0")/kernel-matrix.sh" --missing |
	{ if [ "$kernels" = 1 ]; then cat; else
		grep -E "^linux-headers-|^linux-image-${smoke//+/\\+}\$" || true; fi })
if [ ${#kmissing[@]} -gt 0 ]; then
	echo "install-deps: installing the kernel matrix: ${kmissing[*]}"
	[ -n "$updated" ] || $SUDO apt-get update -qq
	updated=1
	$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
		--no-install-recommends "${kmissing[@]}" >/dev/null
fi

# A second kernel's headers, as .deb files in apt's cache, NOT installed:
# tests/e2e/t_package.sh installs them in the guest's overlay to prove that
# DKMS builds the module for a kernel that arrives later. The newest
# linux-headers-X.Y.Z-N-amd64 of the guest kernel's series with N below
# the guest's (its linux-kbuild dependency is met by the installed one).
second_headers() {
	local guest series n best="" bn=-1 p pn
	guest=$("$(dirname "$0")/kver.sh") || return 1
	series=${guest%%-*}
	n=${guest#"$series"-}
	n=${n%%-*}
	while read -r p; do
		pn=${p#linux-headers-"$series"-}
		pn=${pn%-amd64}
		[[ $pn =~ ^[0-9]+$ ]] && [ "$pn" -lt "$n" ] && [ "$pn" -gt "$bn" ] &&
			best=$series-$pn bn=$pn
	done < <(apt-cache pkgnames "linux-headers-$series-" |
		grep -E "^linux-headers-$series-[0-9]+-amd64\$")
	[ -n "$best" ] && echo "$best"
}
cache=/var/cache/apt/archives
if v2=$(second_headers); then
	if ! ls "$cache"/linux-headers-"$v2"-amd64_*.deb >/dev/null 2>&1 ||
	   ! ls "$cache"/linux-headers-"$v2"-common_*.deb >/dev/null 2>&1; then
		echo "install-deps: downloading linux-headers-$v2-amd64 (not installed)"
		[ -n "$updated" ] || $SUDO apt-get update -qq
		(cd "$cache" && $SUDO apt-get -o APT::Sandbox::User=root download -qq \
			"linux-headers-$v2-amd64" "linux-headers-$v2-common") >/dev/null
	fi
else
	echo "install-deps: no second linux-headers package in the archive" \
		"(e2e-package will say so)" >&2
fi
