#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/bench-guest.sh: the benchmark proper. Runs INSIDE the test guest
# (scripts/bench.sh boots it): loads the stock nf_conntrack_ftp and
# nf_pinhole_ftp side by side (pinhole registers on port 0, so they do not
# clash), builds the cl - fw - sv router topology of tests/e2e/lib.sh and,
# in one boot, measures each helper attached to tcp dport 21 in fw:
#
#   stream-*  bulk FTP-control-shaped traffic through fw (MB/s), 1 stream
#             and BENCH_PAR streams in parallel (aggregate MB/s)
#   xfer-*    curl passive (EPSV) downloads of a small file from vsftpd,
#             sequential and BENCH_XPAR clients in parallel (transfers/s)
#
# Each result is a line on stdout (also appended to $BENCH_RAW):
#   RESULT bench=NAME helper=H rep=R value=V unit=U busy_s=.. softirq_s=..
#          sys_s=.. check=ok|FAILED:why
# Helpers are interleaved within each repetition so drift hits all alike.
#
# Environment: BENCH_MB (per stream, default 32), BENCH_REPS (3),
# BENCH_PAR (2), BENCH_XFERS (50), BENCH_XPAR (2 4), BENCH_PORT_DIV (16:
# stream-port moves BENCH_MB/16 MB), BENCH_CLIENT_T (300 s per stream
# measurement), BENCH_ONLY (regexp on
# bench names), BENCH_RAW (file), PINHOLE_KO.
set -u

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$REPO/tests/e2e/lib.sh"

BENCH_MB=${BENCH_MB:-32}
BENCH_REPS=${BENCH_REPS:-3}
BENCH_PAR=${BENCH_PAR:-2}
BENCH_XFERS=${BENCH_XFERS:-50}
BENCH_XPAR=${BENCH_XPAR:-2 4}
BENCH_ONLY=${BENCH_ONLY:-.}
BENCH_PORT_DIV=${BENCH_PORT_DIV:-16}
BENCH_CLIENT_T=${BENCH_CLIENT_T:-300}
BENCH_RAW=${BENCH_RAW:-/dev/null}
KO=${PINHOLE_KO:-$REPO/module/nf_pinhole_ftp.ko}
STREAM=$REPO/tests/bench/ftpstream.py
HELPERS=(none ftp pinhole-ftp)
FTP_PASV_MIN=40000
FTP_PASV_MAX=49999

BENCH_FAILED=0

log() { echo "# $*"; }

load_modules() {
	local d
	modprobe nf_conntrack_ftp || { echo "cannot modprobe nf_conntrack_ftp" >&2; return 1; }
	if ! lsmod | grep -qw '^nf_pinhole_ftp'; then
		for d in $(modinfo -F depends "$KO" | tr , ' '); do
			modprobe "$d" || return 1
		done
		insmod "$KO" || { echo "cannot insmod $KO" >&2; return 1; }
	fi
	modprobe nft_ct; modprobe nft_objref
	return 0
}

# cpu_sample: "busy softirq system" in USER_HZ ticks, all CPUs.
cpu_sample() {
	awk '$1 == "cpu" { print $2+$3+$4+$7+$8, $8, $4; exit }' /proc/stat
}
cpu_delta() { # BEFORE AFTER -> busy_s=.. softirq_s=.. sys_s=..
	local hz
	hz=$(getconf CLK_TCK 2>/dev/null || echo 100)
	awk -v hz="$hz" -v a="$1" -v b="$2" 'BEGIN {
		split(a, x, " "); split(b, y, " ")
		printf "busy_s=%.2f softirq_s=%.2f sys_s=%.2f",
			(y[1]-x[1])/hz, (y[2]-x[2])/hz, (y[3]-x[3])/hz }'
}

# ctrl_check HELPER MIN: every tracked connection to port 21 in fw carries
# HELPER (none: no helper at all), and at least MIN of them exist.
ctrl_check() {
	local h=$1 min=$2 list total with
	list=$(in_ns "$NS_FW" conntrack -L -p tcp --dport 21 2>/dev/null)
	total=$(grep -c 'dport=21' <<< "$list")
	with=$(grep -c "helper=$h\\( \\|\$\\)" <<< "$list")
	if [ "$h" = none ]; then
		with=$(grep -c 'helper=' <<< "$list")
		[ "$total" -ge "$min" ] && [ "$with" -eq 0 ] && return 0
		echo "FAILED:$with/$total-ctrl-conns-have-a-helper"
		return 1
	fi
	[ "$total" -ge "$min" ] && [ "$with" -eq "$total" ] && return 0
	echo "FAILED:$with/$total-ctrl-conns-have-helper=$h"
	return 1
}

result() { # NAME HELPER REP VALUE UNIT CPU CHECK
	local line="RESULT bench=$1 helper=$2 rep=$3 value=$4 unit=$5 $6 check=$7 at=$SECONDS"
	echo "$line"
	echo "$line" >> "$BENCH_RAW"
	[ "$7" = ok ] || BENCH_FAILED=$((BENCH_FAILED + 1))
}

stream_server() { # KIND DIR BYTES
	server_stop
	in_ns "$NS_SV" /usr/bin/python3 "$STREAM" server --kind "$1" --dir "$2" \
		--size "$3" > "$E2E_WORK/ftpstream.log" 2>&1 &
	wait_listen "$NS_SV" 21 ftpstream
}

# port_diag: pinhole's non-zero counters and policy in fw (cumulative).
port_diag() {
	log "pinhole counters in fw: $(in_ns "$NS_FW" cat /proc/net/pinhole_ftp | awk '$2 != 0' | tr '\n' ' ')"
	log "pinhole policy in fw: $(in_ns "$NS_FW" sysctl -a 2>/dev/null | grep pinhole | tr '\n' ' ')"
	log "kernel log lines 'refused': $(dmesg | grep -c refused); last: $(dmesg | tail -n 2 | tr '\n' ' ')"
}

# stream_client DIR PAR: PAR socat clients at once, each moving one
# stream (down: read the server's BENCH_MB MB to EOF; up: send
# $E2E_WORK/up.bin, then read the server's answer to EOF). Prints the
# seconds from the first start to the last exit; fails when one failed.
stream_client() {
	local dir=$1 par=$2 i pids=() t0 t1 bad=0 pid
	t0=$EPOCHREALTIME
	for i in $(seq 1 "$par"); do
		if [ "$dir" = down ]; then
			timeout -k 2 "$BENCH_CLIENT_T" ip netns exec "$NS_CL" socat -u -b 262144 \
				"TCP4:$SV4:21,rcvbuf=4194304" - > "$E2E_WORK/down.$i" &
		else
			timeout -k 2 "$BENCH_CLIENT_T" ip netns exec "$NS_CL" socat -b 262144 -t "$BENCH_CLIENT_T" - \
				"TCP4:$SV4:21,sndbuf=4194304" < "$E2E_WORK/up.bin" \
				> "$E2E_WORK/down.$i" &
		fi
		pids+=($!)
	done
	for pid in "${pids[@]}"; do
		wait "$pid" || bad=$((bad + 1))
	done
	t1=$EPOCHREALTIME
	[ "$bad" -eq 0 ] || { echo "$bad of $par clients failed"; return 1; }
	awk -v a="${t0/,/.}" -v b="${t1/,/.}" 'BEGIN { printf "%.6f", b - a }'
}

# stream_bench NAME KIND DIR PAR
stream_bench() {
	local name=$1 kind=$2 dir=$3 par=$4 rep h secs c0 c1 check mbs p0 p1
	local bytes=$((BENCH_MB << 20)) i got
	# A PORT line every 22 bytes is one pinhole per line for pinhole-ftp:
	# a worst case, measured on a smaller volume.
	[ "$kind" != port ] || bytes=$(((BENCH_MB << 20) / BENCH_PORT_DIV))
	[[ $name =~ $BENCH_ONLY ]] || return 0
	stream_server "$kind" "$dir" "$bytes"
	[ "$dir" = down ] || /usr/bin/python3 "$STREAM" gen --kind "$kind" \
		--size "$bytes" > "$E2E_WORK/up.bin"
	log "$name: $par x $((bytes >> 10)) KiB of $kind lines, direction $dir"
	for rep in $(seq 1 "$BENCH_REPS"); do
		for h in "${HELPERS[@]}"; do
			fw_load_all "$h"
			p0=$(pin_counter lines_port)
			c0=$(cpu_sample)
			if secs=$(stream_client "$dir" "$par"); then
				c1=$(cpu_sample)
				p1=$(pin_counter lines_port)
				mbs=$(awk -v b=$((bytes * par)) -v s="$secs" \
					'BEGIN { printf "%.2f", b / 1048576 / s }')
				check=$(ctrl_check "$h" "$par") && check=ok
				for i in $(seq 1 "$par"); do
					got=$(stat -c %s "$E2E_WORK/down.$i")
					if [ "$dir" = down ] && [ "$got" -lt "$bytes" ]; then
						check=FAILED:short-stream-$got
					fi
				done
				# PORT lines: pinhole must have seen them.
				if [ "$kind" = port ] && [ "$h" = pinhole-ftp ] &&
				   [ "$check" = ok ] && [ "$p1" -le "$p0" ]; then
					check=FAILED:no-PORT-line-counted
				fi
				[ "$kind" != port ] || log "$name $h: pinhole lines_port +$((p1 - p0)), expectations now $(fw_expectations "$NS_FW" | grep -c .)"
				[ "$kind" != port ] || [ "$h" != pinhole-ftp ] || port_diag
			else
				c1=$(cpu_sample)
				[ "$kind" != port ] || [ "$h" != pinhole-ftp ] || port_diag
				mbs=0
				check="FAILED:client:${secs// /_}"
			fi
			result "$name" "$h" "$rep" "$mbs" MB/s "$(cpu_delta "$c0" "$c1")" "$check"
		done
	done
	server_stop
}

# xfer_loop COUNT FAILFILE: COUNT sequential curl downloads, failures counted.
xfer_loop() {
	local i bad=0
	for i in $(seq 1 "$1"); do
		timeout -k 2 30 ip netns exec "$NS_CL" curl -sS -4 --ftp-pasv \
			--connect-timeout 20 --max-time 25 -o /dev/null \
			"ftp://$SV4/small.bin" 2>> "$E2E_WORK/curl.err" || bad=$((bad + 1))
	done
	echo "$bad" > "$2"
}

# xfer_bench NAME PAR
xfer_bench() {
	local name=$1 par=$2 rep h t0 t1 c0 c1 e0 e1 pids i bad check per rate c
	[[ $name =~ $BENCH_ONLY ]] || return 0
	per=$((BENCH_XFERS / par))
	log "$name: $par client(s) x $per curl EPSV downloads of a 1 KiB file (vsftpd)"
	for rep in $(seq 1 "$BENCH_REPS"); do
		for h in nofw ftp pinhole-ftp; do
			if [ "$h" = nofw ]; then
				fw_clear
				e0=0
			else
				fw_load_all "$h"
				e0=$(fw_counter "$NS_FW" data_expected)
			fi
			c0=$(cpu_sample)
			t0=$EPOCHREALTIME
			pids=()
			for i in $(seq 1 "$par"); do
				xfer_loop "$per" "$E2E_WORK/bad.$i" &
				pids+=($!)
			done
			wait "${pids[@]}"
			t1=$EPOCHREALTIME
			c1=$(cpu_sample)
			bad=0
			for i in $(seq 1 "$par"); do
				bad=$((bad + $(cat "$E2E_WORK/bad.$i")))
			done
			check=ok
			if [ "$h" != nofw ]; then
				e1=$(fw_counter "$NS_FW" data_expected)
				[ $((e1 - e0)) -ge $((per * par - bad)) ] ||
					check="FAILED:data_expected+$((e1 - e0))"
				c=$(ctrl_check "$h" 1) || check=$c
			fi
			[ "$bad" -eq 0 ] || check="FAILED:$bad-downloads-failed"
			rate=$(awk -v n=$((per * par - bad)) -v a="${t0/,/.}" -v b="${t1/,/.}" \
				'BEGIN { printf "%.2f", n / (b - a) }')
			result "$name" "$h" "$rep" "$rate" xfer/s "$(cpu_delta "$c0" "$c1")" "$check"
		done
	done
	fw_load_all pinhole-ftp
}

load_modules || exit 1
export PINHOLE_HELPER=pinhole-ftp
e2e_init bench
topo_router
log "guest: $(nproc) CPUs, kernel $(uname -r), $(awk '/MemTotal/ { print $2 " kB" }' /proc/meminfo)"

stream_bench stream-1x reply211 down 1
stream_bench "stream-${BENCH_PAR}x" reply211 down "$BENCH_PAR"
stream_bench stream-noop-1x noop up 1
stream_bench "stream-noop-${BENCH_PAR}x" noop up "$BENCH_PAR"

want_xfer=0
# shellcheck disable=SC2086 # BENCH_XPAR is a list
for n in xfer-1x $(printf 'xfer-%sx ' $BENCH_XPAR); do
	[[ $n =~ $BENCH_ONLY ]] && want_xfer=1
done
if [ "$want_xfer" = 1 ]; then
	vsftpd_start
	head -c 1024 /dev/urandom > "$FTP_ROOT/small.bin"
	chmod 0644 "$FTP_ROOT/small.bin"
	xfer_bench xfer-1x 1
	for p in $BENCH_XPAR; do
		xfer_bench "xfer-${p}x" "$p"
	done
fi
server_stop
# Last: with pinhole-ftp, a PORT line every 22 bytes is the costliest case.
stream_bench stream-port-1x port up 1
E2E_PASSED=1
[ "$BENCH_FAILED" -eq 0 ] || { echo "FAIL: bench: $BENCH_FAILED measurement(s) failed their check"; E2E_FAILED=$BENCH_FAILED; }
e2e_finish
