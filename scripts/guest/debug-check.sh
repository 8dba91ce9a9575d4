#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# debug-check.sh CMD [ARGS...]: run CMD inside the debug kernel's guest
# (scripts/guest-run.sh --kernel debug puts it in front of every command),
# then prove that nothing CMD did leaked kernel memory.
#
# Before CMD: a kmemleak scan, then `clear`, so that what the boot itself
# leaked is not blamed on CMD. After CMD: nf_pinhole_ftp is removed if CMD
# left it loaded (a failure of its own), the objects are given kmemleak's
# minimum age, and two scans run (the second confirms the first). Every
# leak is listed on stderr; a leak counts against the run when its
# allocation backtrace involves pinhole, conntrack or its expectations
# (nf_pinhole_ftp, nf_conntrack*, nf_ct_*, nf_nat*) or an address in an
# unloaded module (it cannot be named any more: ours, or the stock helper).
#
# Prints `PASS: kmemleak/LABEL` or `FAIL: kmemleak/LABEL: why`, LABEL being
# PINHOLE_DEBUG_LABEL or CMD's arguments without directories and .sh.
# Exit status: CMD's own, or 1 when CMD passed and the check failed.
set -u

# One compound command: bash reads it whole before running any of it.
{

kml=/sys/kernel/debug/kmemleak
MODNAME=nf_pinhole_ftp
# Age below which kmemleak never reports an object (MSECS_MIN_AGE).
MIN_AGE=5

label=${PINHOLE_DEBUG_LABEL:-}
if [ -z "$label" ]; then
	for a in "$@"; do
		a=${a##*/}
		label+=${label:+-}${a%.sh}
	done
fi

if [ ! -w "$kml" ]; then
	"$@"
	rc=$?
	echo "FAIL: kmemleak/$label: $kml not writable (kernel without kmemleak, or debugfs not mounted)"
	[ "$rc" -ne 0 ] || rc=1
	exit "$rc"
fi

echo scan > "$kml"
echo clear > "$kml"
# No automatic scans while CMD runs: under TCG a scan of a loaded guest
# takes long enough to stall it, and the explicit scans below are the
# ones that judge.
echo scan=off > "$kml"

# The e2e library's waits stretch by PINHOLE_TIMEOUT_SCALE on their own
# (tests/e2e/lib.sh); setting them here would override the longer
# defaults of scripts that know better (tests/stress/stress.sh waits 120 s
# for its servers).
"$@"
rc=$?

why=
if [ -d "/sys/module/$MODNAME" ]; then
	# Rulesets in dying namespaces still hold it for a moment.
	n=0
	while [ "$(cat "/sys/module/$MODNAME/refcnt" 2>/dev/null)" != 0 ] && [ "$n" -lt 100 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	out=$(rmmod "$MODNAME" 2>&1) || why="$MODNAME still loaded after the command and rmmod failed: $out"
fi

sleep "$MIN_AGE"
echo scan > "$kml"
sleep 1
echo scan > "$kml"

# leaks: one record per leak, the lines of a record joined by \x1f.
leaks=$(awk '
	/^unreferenced object/ { if (rec != "") print rec; rec = $0; next }
	rec != "" { rec = rec "\x1f" $0 }
	END { if (rec != "") print rec }' "$kml")
ours_re='nf_pinhole_ftp|nf_conntrack|nf_ct_|nf_nat|\] 0x[0-9a-f]+'
total=0
ours=0
if [ -n "$leaks" ]; then
	total=$(printf '%s\n' "$leaks" | wc -l)
	ours=$(printf '%s\n' "$leaks" | grep -cE "$ours_re" || true)
fi
if [ "$total" -gt 0 ]; then
	echo "debug-check: kmemleak reports $total unreferenced object(s), $ours involving netfilter or an unloaded module" >&2
	# Ours in full first (at most 10), then a few of the others.
	{
		printf '%s\n' "$leaks" | grep -E "$ours_re" | head -n 10
		printf '%s\n' "$leaks" | grep -vE "$ours_re" | head -n 3
	} | tr '\037' '\n' | sed 's/^/    /' >&2
fi
if [ "$ours" -gt 0 ]; then
	why="${why:+$why; }$ours leak(s) allocated by or for pinhole/conntrack (listed above)"
fi

if [ -z "$why" ]; then
	echo "PASS: kmemleak/$label"
else
	echo "FAIL: kmemleak/$label: $why"
	[ "$rc" -ne 0 ] || rc=1
fi
exit "$rc"
}
