#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-module.sh KDIR OUTDIR: build nf_pinhole_ftp.ko against the kernel
# build tree KDIR in OUTDIR (symlinks to module/'s sources, so module/ and
# its objects for the default kernel stay untouched), with W=1; warnings
# fail like errors. Prints the path of the .ko. Used by make check-debug
# and make stress, whose kernels are not the one module/ is built for.
# Exit status: 0 ok, 1 build failure (the log is printed), 2 usage.
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: build-module.sh KDIR OUTDIR" >&2; exit 2; }
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
kdir=$1
out=$2
[ -d "$kdir" ] || { echo "build-module.sh: no kernel build tree $kdir" >&2; exit 1; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
find "$out" -maxdepth 1 -type l -delete
for f in "$root"/module/*.[ch] "$root"/module/Kbuild; do
	case $f in *.mod.c) continue ;; esac
	ln -s "$f" "$out/${f##*/}"
done
log=$out/build.log
if make -C "$kdir" M="$out" W=1 modules > "$log" 2>&1 &&
	! grep -qE '(warning|error):' "$log"; then
	echo "$out/nf_pinhole_ftp.ko"
	exit 0
fi
cat "$log" >&2
echo "build-module.sh: building against $kdir failed (log above)" >&2
exit 1
