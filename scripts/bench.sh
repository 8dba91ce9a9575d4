#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/bench.sh [--timeout S] [--out DIR]  (or --table RAW: only the
# summary of a raw.txt): pinhole-ftp against the
# kernel's stock nf_conntrack_ftp (and no helper), in ONE guest boot.
#
# Builds module/nf_pinhole_ftp.ko for the guest kernel, boots the QEMU
# guest (scripts/guest-run.sh, -smp 2, TCG) running scripts/bench-guest.sh,
# keeps the raw results (DIR/raw.txt, one RESULT line per measurement, and
# DIR/guest.out) and prints a table: median [min-max] over the repetitions
# for each benchmark and helper, plus the median CPU seconds the guest
# spent (all CPUs; softirq part) per measurement.
#
# Knobs (environment, passed to the guest): BENCH_MB (MB per stream,
# default 32), BENCH_REPS (3), BENCH_PAR (parallel streams, 2),
# BENCH_XFERS (downloads per measurement, 50), BENCH_XPAR ("2 4"),
# BENCH_PORT_DIV (16), BENCH_ONLY (regexp on benchmark names).
# TCG makes absolute numbers meaningless; compare columns of one run.
# Afterwards, on the host, tests/bench/engine_bench.c measures the pinhole
# parser alone natively (CPU time per MB, per line kind, no kernel).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
timeout=3000
out=

while [ $# -gt 0 ]; do
	case $1 in
	--timeout) timeout=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--table) table_only=$2; shift 2 ;;
	*) sed -n '4,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2; exit 2 ;;
	esac
done

# table RAW: the summary of a raw results file.
table() {
	awk '
	/^RESULT / {
		delete f
		for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = substr($i, length(kv[1]) + 2) }
		b = f["bench"]; h = f["helper"]
		if (!(b in seen)) { seen[b] = 1; order[++nb] = b }
		if (!((b, h) in hseen)) { hseen[b, h] = 1; hs[b, ++nh[b]] = h }
		k = b SUBSEP h
		n[k]++; v[k, n[k]] = f["value"] + 0; cpu[k, n[k]] = f["busy_s"] + 0
		sirq[k, n[k]] = f["softirq_s"] + 0; unit[b] = f["unit"]
		if (f["check"] != "ok") { bad[k]++; why[k] = f["check"] }
	}
	function med(arr, k, m,   i, j, t, a) {
		for (i = 1; i <= m; i++) a[i] = arr[k, i]
		for (i = 2; i <= m; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
		lo = a[1]; hi = a[m]
		return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
	}
	END {
		for (i = 1; i <= nb; i++) {
			b = order[i]; line = sprintf("bench/%-16s", b); cl = sprintf("  %-22s", "cpu-s [softirq-s]")
			for (j = 1; j <= nh[b]; j++) {
				h = hs[b, j]; k = b SUBSEP h
				m = med(v, k, n[k]); mlo = lo; mhi = hi
				line = line sprintf("  %s=%.2f %s [%.2f-%.2f]%s", h, m, unit[b], mlo, mhi, bad[k] ? " (" bad[k] " FAILED: " why[k] ")" : "")
				val[h] = m
				c = med(cpu, k, n[k]); s = med(sirq, k, n[k])
				cl = cl sprintf("  %s=%.2f [%.2f]", h, c, s)
			}
			if (val["ftp"] > 0 && val["pinhole-ftp"] > 0)
				line = line sprintf("  pinhole/stock=%.2f", val["pinhole-ftp"] / val["ftp"])
			print line; print cl
			delete val
		}
	}' "$1"
}

if [ -n "${table_only:-}" ]; then
	table "$table_only"
	exit 0
fi

kver=$("$here/kver.sh")
make -C "$repo" --no-print-directory module KDIR="/usr/src/linux-headers-$kver" >/dev/null
[ -f "$repo/module/nf_pinhole_ftp.ko" ] || { echo "bench.sh: no module built" >&2; exit 1; }

if [ -z "$out" ]; then
	out=${XDG_CACHE_HOME:-$HOME/.cache}/pinhole/bench/$(date +%Y%m%d-%H%M%S)
fi
mkdir -p "$out"
out=$(cd "$out" && pwd -P)
raw=$out/raw.txt
: > "$raw"

envs=(--env "BENCH_RAW=$raw")
for v in BENCH_MB BENCH_REPS BENCH_PAR BENCH_XFERS BENCH_XPAR BENCH_PORT_DIV BENCH_CLIENT_T BENCH_ONLY; do
	[ -z "${!v:-}" ] || envs+=(--env "$v=${!v}")
done

echo "# bench: results in $out (guest -smp 2, TCG; host load $(cut -d' ' -f1-3 /proc/loadavg))"
rc=0
cd "$repo"
"$here/guest-run.sh" --timeout "$timeout" --results "$out" "${envs[@]}" \
	-- scripts/bench-guest.sh 2>&1 | tee "$out/guest.out" || rc=$?
rc=${PIPESTATUS[0]}
echo
echo "# summary: median [min-max] over repetitions; host load after: $(cut -d' ' -f1-3 /proc/loadavg)"
table "$raw" | tee "$out/table.txt"
echo
echo "# the pinhole engine alone, natively on this host (CPU-time MB/s; memcpy for scale)"
if gcc -std=gnu11 -O2 -Wall -Wextra -Werror -fno-strict-aliasing -I"$repo/module" \
	-o "$out/engine_bench" "$repo/tests/bench/engine_bench.c" "$repo/module/ftp_engine.c"; then
	for seg in 1448 65000; do
		"$out/engine_bench" 128 "$seg"
	done | tee "$out/engine.txt"
fi
[ "$rc" -eq 0 ] || echo "bench.sh: the guest run failed (status $rc); the table holds what was measured" >&2
exit "$rc"
