#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo: build the module and pinholectl for the Debian kernel the
# guest boots, then download a file through a default-deny firewall in the
# guest and show the pinhole that made it possible.
set -euo pipefail
cd "$(dirname "$0")/.."
kver=$(scripts/kver.sh)
echo "demo: building nf_pinhole_ftp.ko for $kver and pinholectl"
make -s module KDIR="/usr/src/linux-headers-$kver"
make -s userspace
echo "demo: booting the guest (QEMU, no KVM needed: about 15 s)"
exec scripts/guest-run.sh --timeout 300 -- scripts/demo-guest.sh
