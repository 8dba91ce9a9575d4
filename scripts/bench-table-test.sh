#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-table-test.sh: the judge of `make bench` (scripts/bench.sh
# --table) on made-up results whose verdicts are known, so that a closing
# note's "targets met" cannot come from a judge that always says so:
#
#   bench-table/medians   the table's cells are the median [min..max] of
#                         the measurements that passed their check
#   bench-table/met       targets that hold are met
#   bench-table/unmet     each target that fails is unmet: pinhole/none
#                         under 0.95 on a stream row, pinhole under stock,
#                         pinhole's max under stock's median, the engine
#                         under its MB/s
#   bench-table/count     the count line adds them up
#
# Output: PASS:/FAIL: bench-table/... lines; exit status 1 on a failure.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0

pass() { echo "PASS: bench-table/$1"; }
fail() { echo "FAIL: bench-table/$1: $2"; failed=1; }

# result BENCH HELPER REP VALUE [CHECK]: one RESULT line of raw.txt.
result() {
	echo "RESULT bench=$1 helper=$2 rep=$3 value=$4 unit=MB/s busy_s=1 softirq_s=1 sys_s=1 fw_MB=1 fw_pkts=1 softirq_ms_per_MB=1 check=${5:-ok} at=0"
}
# row BENCH "NONE..." "STOCK..." "PINHOLE...": three repetitions each.
row() {
	local bench=$1 h i vals
	shift
	for h in none ftp pinhole-ftp; do
		read -ra vals <<< "$1"
		for i in 0 1 2; do result "$bench" "$h" $((i + 1)) "${vals[i]}"; done
		shift
	done
}

{
	# pinhole/none 0.96, pinhole/stock 1.2: met
	row stream-1x "100 90 110" "80 70 90" "96 95 97"
	# pinhole/none 0.94: unmet, the other two met
	row stream-noop-1x "100 100 100" "50 50 50" "94 93 99"
	# not a stream row: no pinhole/none target; pinhole under stock
	# (0.9) but its max above stock's median
	row xfer-1x "10 10 10" "10 10 10" "9 9 11"
	# pinhole's max under stock's median as well
	row stream-port-1x "10 10 10" "10 10 10" "8 9 9.5"
	# a failed measurement (value 1) is left out of the median
	result idle1000-stream-1x none 1 100
	result idle1000-stream-1x ftp 1 100
	result idle1000-stream-1x pinhole-ftp 1 100
	result idle1000-stream-1x pinhole-ftp 2 1 FAILED:short
} > "$work/raw.txt"
cat > "$work/engine.txt" <<EOF
engine kind=reply seg=1448 MB=64 rounds=5 MBps=11093.4 MBps_med=10830.1 check=ok
engine kind=noop seg=1448 MB=64 rounds=5 MBps=2999 MBps_med=2990 check=ok
engine kind=port seg=1448 MB=64 rounds=5 MBps=600 MBps_med=510 check=ok
engine kind=noop seg=65000 MB=64 rounds=5 MBps=9000 MBps_med=9000 check=ok
EOF

if ! out=$("$here/bench.sh" --table "$work/raw.txt" 2>&1); then
	fail run "bench.sh --table failed: $out"
	exit 1
fi

verdict() { # TARGET BENCH: met or **unmet** from the targets table
	awk -F' [|] ' -v t="$1" -v b="$2" '$1 == "| " t && $2 == b { print $4 }' <<< "$out" | tr -d ' |'
}
expect() { # CASE TARGET BENCH WANT
	local got
	got=$(verdict "$2" "$3")
	[ "$got" = "$4" ] || { fail "$1" "$2 on $3: '$got', want '$4'"; return 1; }
}

if grep -q '^| idle1000-stream-1x | MB/s | 100 \[100..100\] | 100 \[100..100\] | 100 \[100..100\] (1 failed) |' <<< "$out" &&
   grep -q '^| stream-noop-1x | MB/s | 100 \[100..100\] | 50.0 \[50.0..50.0\] | 94.0 \[93.0..99.0\] |' <<< "$out"; then
	pass medians
else
	fail medians "unexpected cells: $(grep -E '^\| (idle1000-stream-1x|stream-noop-1x) \| MB/s' <<< "$out")"
fi

ok=1
expect met "pinhole/none >= 0.95" stream-1x met || ok=0
expect met "pinhole/stock >= 1" stream-1x met || ok=0
expect met "pinhole max >= stock median" xfer-1x met || ok=0
expect met "pinhole/stock >= 1" stream-noop-1x met || ok=0
expect met "engine MB/s >= 3000" reply met || ok=0
expect met "engine MB/s >= 500" port met || ok=0
expect met "pinhole/none >= 0.95" idle1000-stream-1x met || ok=0
[ "$ok" = 0 ] || pass met

ok=1
expect unmet "pinhole/none >= 0.95" stream-noop-1x '**unmet**' || ok=0
expect unmet "pinhole/stock >= 1" xfer-1x '**unmet**' || ok=0
expect unmet "pinhole max >= stock median" stream-port-1x '**unmet**' || ok=0
expect unmet "engine MB/s >= 3000" noop '**unmet**' || ok=0
[ -z "$(verdict "pinhole/none >= 0.95" xfer-1x)" ] ||
	{ fail unmet "xfer-1x judged on pinhole/none"; ok=0; }
[ "$ok" = 0 ] || pass unmet

# 3 stream rows x 3 + 2 other rows x 2 + 3 engine = 16 targets; unmet:
# noop's pinhole/none, xfer's and port's pinhole/stock, port's max, the
# engine on noop
if grep -qx '11 of 16 targets met' <<< "$out"; then
	pass count
else
	fail count "$(grep 'targets met' <<< "$out")"
fi
exit "$failed"
