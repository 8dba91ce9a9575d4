#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# packaging/mkdeb.sh OUTDIR [VERSION]: build the Debian packages pinhole-dkms and
# pinholectl (`make deb`) with Debian's own tools (dpkg-buildpackage,
# debhelper, dh-dkms) from a copy of this tree in OUTDIR/pinhole-VERSION,
# leaving OUTDIR/pinhole-dkms_VERSION_all.deb and
# OUTDIR/pinholectl_VERSION_ARCH.deb. The version is the VERSION file's;
# when debian/changelog's newest entry is another version (a tree whose
# VERSION was bumped), the copy gets an entry for it, so that package,
# DKMS and MODULE_VERSION always agree. VERSION, when given, replaces the
# VERSION file's in the copy (tests/e2e/t_package.sh upgrades to a bumped
# version that way). Set LINTIAN=1 to run lintian.
set -euo pipefail

prog=mkdeb.sh
die() { echo "$prog: $*" >&2; exit 1; }

[ $# -eq 1 ] || [ $# -eq 2 ] || { echo "usage: $prog OUTDIR [VERSION]" >&2; exit 2; }
cd "$(dirname "$0")/.."
top=$PWD
mkdir -p "$1"
out=$(cd "$1" && pwd)

for t in dpkg-buildpackage dh dh_dkms; do
	command -v "$t" >/dev/null ||
		die "$t not found (scripts/install-deps.sh installs debhelper, dh-dkms, dpkg-dev)"
done
version=${2:-$(tr -d '[:space:]' < VERSION)} || die "no VERSION file"
[[ $version =~ ^[0-9][A-Za-z0-9.+~]*$ ]] ||
	die "VERSION '$version' is not a Debian native version"

# The copy: the files git knows about (tracked, or new and not ignored),
# or every file when this is no git checkout.
src=$out/pinhole-$version
rm -rf "$src"
mkdir -p "$src"
case $out/ in "$top"/*) excl=${out#"$top"/} ;; *) excl= ;; esac
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git -C "$top" ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done
else
	find . -path ./.git -prune -o ${excl:+-path "./$excl" -prune -o} \
		-type f -print0
fi | { [ -n "$excl" ] && grep -zv "^\(\./\)\?$excl/" || cat; } |
	tar -C "$top" --null -T - -cf - | tar -C "$src" -xf -
echo "$version" > "$src/VERSION"

changelog_version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
if [ "$changelog_version" != "$version" ]; then
	maint=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Maintainer)
	{
		printf 'pinhole (%s) unstable; urgency=medium\n\n' "$version"
		printf '  * Version %s, from the VERSION file.\n\n' "$version"
		printf ' -- %s  %s\n\n' "$maint" "$(date -R)"
		cat "$src/debian/changelog"
	} > "$src/debian/changelog.new"
	mv "$src/debian/changelog.new" "$src/debian/changelog"
fi

arch=$(dpkg-architecture -qDEB_HOST_ARCH)
rm -f "$out/pinhole-dkms_${version}_all.deb" "$out/pinholectl_${version}_$arch.deb"
(cd "$src" && dpkg-buildpackage -b -us -uc --no-sign) > "$out/build-$version.log" 2>&1 ||
	{ tail -n 40 "$out/build-$version.log" >&2; die "dpkg-buildpackage failed (log: $out/build-$version.log)"; }
for d in "$out/pinhole-dkms_${version}_all.deb" "$out/pinholectl_${version}_$arch.deb"; do
	[ -s "$d" ] || die "dpkg-buildpackage made no $d"
	echo "$d"
done
if [ "${LINTIAN:-0}" = 1 ]; then
	lintian --info --display-info "$out/pinhole_${version}_$arch.changes"
fi
