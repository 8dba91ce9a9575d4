#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tcg-insns.sh ENGINE_BENCH KIND[,KIND...] [SEG]: what QEMU's TCG spends
# running the engine, in host instructions per byte of FTP stream.
#
# The guest bench runs the module under TCG, where a guest instruction is
# not the unit of cost: a call, a return, an indirect branch or a memory
# access costs the emulator far more than an ALU operation. Timing the
# guest is noisy (its rows are bimodal), and perf inside it misattributes
# samples; this is a repeatable proxy instead: engine_bench (-n, no memcpy
# pass) runs under qemu-x86_64 (user-mode TCG), and callgrind counts the
# host instructions of the whole process for 2 and for 18 MB of stream.
# The difference over 16 MB is the engine's, less QEMU's start-up and most
# of its translation. User-mode TCG reaches guest memory without the
# software TLB that a system guest pays on every access, so memory
# operations are under-weighted here. Between runs of one binary the
# figure moves by about 3% on an idle machine and by up to 14% beside
# running guests: compare medians of several runs.
#
# Needs qemu-user (Debian package qemu-user) and valgrind.
# Output: one line per kind, "tcg kind=K seg=S host_insns_per_B=X".
set -euo pipefail

bench=${1:?usage: tcg-insns.sh ENGINE_BENCH KIND[,KIND...] [SEG]}
kinds=${2:?usage: tcg-insns.sh ENGINE_BENCH KIND[,KIND...] [SEG]}
seg=${3:-1448}
for tool in qemu-x86_64 valgrind setarch; do
	command -v "$tool" >/dev/null ||
		{ echo "tcg-insns.sh: $tool not found (apt install qemu-user valgrind)" >&2; exit 2; }
done

# Host instructions for @1 MB of kind @2 (address randomisation off: QEMU's
# code buffer moves with it).
host_insns() {
	setarch -R valgrind --tool=callgrind --smc-check=all \
		--callgrind-out-file=/dev/null \
		qemu-x86_64 "$bench" -n -m "$1" -s "$seg" -r 1 -k "$2" 2>&1 >/dev/null |
		awk '/ refs:/ { gsub(",", "", $NF); print $NF }'
}

for kind in ${kinds//,/ }; do
	small=$(host_insns 2 "$kind")
	large=$(host_insns 18 "$kind")
	if [ -z "$small" ] || [ -z "$large" ]; then
		echo "tcg-insns.sh: no count for $kind" >&2
		exit 1
	fi
	awk -v k="$kind" -v s="$seg" -v a="$small" -v b="$large" 'BEGIN {
		printf "tcg kind=%s seg=%s host_insns_per_B=%.2f\n", k, s, (b - a) / (16 * 1048576) }'
done
