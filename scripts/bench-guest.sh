#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/bench-guest.sh: the benchmark proper. Runs INSIDE the test guest
# (scripts/bench.sh boots it): loads the stock nf_conntrack_ftp and
# nf_pinhole_ftp side by side (pinhole registers on port 0, so they do not
# clash), builds the cl - fw - sv router topology of tests/e2e/lib.sh and,
# in one boot, measures each helper setting attached to tcp dport 21 in fw:
#
#   stream-*  bulk FTP-control-shaped traffic through fw (MB/s), 1 stream
#             and BENCH_PAR streams in parallel (aggregate MB/s): reply
#             text (server to client), NOOP lines, a browsing session's
#             mixed commands (1 and BENCH_PAR streams each), PORT lines
#             (one announcement per line, 1 stream)
#   xfer-*    curl passive (EPSV) downloads of a small file from vsftpd,
#             one client and BENCH_XPAR clients in parallel, each client
#             one curl on one control connection (transfers/s)
#   idleN-*   with N (BENCH_IDLE, 1000) idle logged-in control sessions held
#             open through fw: how fast they open (sessions/s), then a
#             reply stream and a transfer row while they are held; the
#             sessions must all still answer a NOOP at the end. The same
#             run measures the kernel's slab memory per session.
#
# Helper settings (HELPERS): none (no helper attached; conntrack still
# tracks everything, and the ruleset accepts new connections to the
# server's passive port range, as a firewall without an FTP helper must),
# ftp (the stock nf_conntrack_ftp), pinhole-ftp. Every benchmark runs
# BENCH_REPS repetitions, each measuring none, ftp, pinhole-ftp in turn,
# so drift hits all alike; each repetition starts one further along that
# list (rep_helpers), so no setting always runs first or last.
#
# Each result is a line on stdout (also appended to $BENCH_RAW):
#   RESULT bench=NAME helper=H rep=R value=V unit=U busy_s=.. softirq_s=..
#          sys_s=.. fw_MB=.. fw_pkts=.. softirq_ms_per_MB=.. cpu_s=..
#          wall_s=.. [start_s=..] check=ok|FAILED:why at=..
# value: the row's work (MB, downloads, sessions) per second of wall_s,
# or with BENCH_CLOCK=icount per second of cpu_s (unit U/cpu-s, see
# row_value). wall_s: a stream's time from the server's first accept to
# the last client's exit (start_s: the clients' process start before
# it, left out), a transfer row's longest curl's summed time_total.
# cpu_s: busy CPU seconds, exactly (cpu_busy_ns; for a stream from the
# first accept). busy_s/softirq_s/sys_s: CPU time the whole guest spent
# (all vCPUs; /proc/stat, sampled at the tick: Debian's kernel has no
# IRQ_TIME_ACCOUNTING); fw_MB: bytes (MiB, headers included) that entered
# the firewall namespace's interfaces; softirq_ms_per_MB: the ratio.
# And per repetition and helper of the idle scenario:
#   MEM helper=H rep=R sessions=N total=B conntrack=B kmalloc=B other=B
#       check=..
# bytes of slab (/proc/slabinfo: active objects x object size, every
# cache shrunk first) per session, from just before the sessions open to when all are logged in:
# total over all caches, the nf_conntrack cache, the kmalloc caches, the
# rest (mostly both ends' sockets, the same for every helper).
#
# Environment: BENCH_CLOCK (icount or host, set by scripts/bench.sh),
# BENCH_MB (per stream, default 64 when BENCH_CLOCK is
# icount, else 256), BENCH_REPS (5),
# BENCH_PAR (2), BENCH_XFERS (200), BENCH_XPAR (2 4), BENCH_PORT_DIV (4:
# stream-port moves BENCH_MB/4 MB), BENCH_IDLE (1000; 0: no idle rows),
# BENCH_CLIENT_T (300 s per stream measurement), BENCH_ONLY (regexp on
# bench names), BENCH_RAW (file), PINHOLE_KO, BENCH_PERF (regexp on bench
# names: profile those stream rows with `perf record -a -e cpu-clock`, a
# diagnosis of where the guest's CPU goes, not a measurement: the profile
# is written next to BENCH_RAW as perf.NAME.HELPER.REP.txt, symbols by
# share of samples, and the rows it profiled are slowed by it), BENCH_TRACE
# (regexp on bench names: time each call of the helpers' help() with
# ftrace's function_graph, written as trace.NAME.HELPER.REP.txt: calls,
# total and mean ns, which the instruction clock makes instructions; the
# traced rows pay the tracer's entry and exit on every call).
set -u

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Under the instruction clock the guest's time jumps over its idle waits,
# and a server's start, idle on the host's 9p, took 30 guest seconds and
# more on a loaded host (a 100 s client start was seen): allow 300 for a
# server to listen. The wait ends as soon as it does.
if [ "${BENCH_CLOCK:-host}" = icount ]; then
	E2E_T_READY=${E2E_T_READY:-300}
fi
# shellcheck source=tests/e2e/lib.sh
. "$REPO/tests/e2e/lib.sh"

if [ "${BENCH_CLOCK:-host}" = icount ]; then
	BENCH_MB=${BENCH_MB:-64}
else
	BENCH_MB=${BENCH_MB:-256}
fi
BENCH_REPS=${BENCH_REPS:-5}
BENCH_PAR=${BENCH_PAR:-2}
BENCH_XFERS=${BENCH_XFERS:-200}
BENCH_XPAR=${BENCH_XPAR:-2 4}
BENCH_ONLY=${BENCH_ONLY:-.}
BENCH_PORT_DIV=${BENCH_PORT_DIV:-4}
BENCH_IDLE=${BENCH_IDLE:-1000}
BENCH_CLIENT_T=${BENCH_CLIENT_T:-300}
BENCH_RAW=${BENCH_RAW:-/dev/null}
BENCH_PERF=${BENCH_PERF:-}
PERF_PID=
BENCH_TRACE=${BENCH_TRACE:-}
TRACE_OUT=
KO=${PINHOLE_KO:-$REPO/module/nf_pinhole_ftp.ko}
STREAM=$REPO/tests/bench/ftpstream.py
IDLE=$REPO/tests/bench/idle.py
HELPERS=(none ftp pinhole-ftp)

# rep_helpers REP: HELPERS in the order repetition REP measures them,
# rotated by REP - 1.
rep_helpers() {
	local i n=${#HELPERS[@]}
	for ((i = 0; i < n; i++)); do
		echo "${HELPERS[(i + $1 - 1) % n]}"
	done
}
FTP_PASV_MIN=40000
FTP_PASV_MAX=49999
# Three servers on port 21 in sv, one address each: vsftpd on $SV4, the
# stream server and the idle sessions' server on two more.
SV_STREAM=198.51.100.3
SV_IDLE=198.51.100.4

BENCH_FAILED=0
STREAM_PID=
STREAM_KIND=
IDLE_SRV_PID=

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

wanted() { # NAME...: does BENCH_ONLY select one of them?
	local n
	for n in "$@"; do
		[[ $n =~ $BENCH_ONLY ]] && return 0
	done
	return 1
}

# bench_fw_load HELPER: fw's ruleset for HELPER, conntrack flushed. none
# also accepts new connections to the passive port range: without a
# helper, that is how a firewall lets FTP's data connections in.
bench_fw_load() {
	local h=$1 f=$E2E_WORK/ruleset.bench.nft
	{
		echo "table inet $E2E_TABLE"
		echo "delete table inet $E2E_TABLE"
		if [ "$h" = none ]; then
			fw_ruleset forward none | awk -v r="ct state new tcp dport $FTP_PASV_MIN-$FTP_PASV_MAX accept" \
				'/counter name tcp_new_dropped drop/ { print "\t\t" r } { print }'
		else
			fw_ruleset forward "$h"
		fi
	} > "$f"
	run_quiet in_ns "$NS_FW" nft -f "$f" || die "cannot load the ruleset (helper $h)"
	ct_flush "$NS_FW"
}

# cpu_busy_ns: nanoseconds the CPUs have not been idle (all CPUs summed),
# exactly: /proc/timer_list's clock per CPU less each CPU's idle and iowait
# time, which NO_HZ measures at idle entry and exit. /proc/stat's busy
# fields are sampled at the tick, which misses most of a row of short
# bursts (a download is about a millisecond of CPU). The same as
# ftpstream.py's cpu_busy_ns(), which stamps a stream's accept.
cpu_busy_ns() {
	awk '/^now at/ { now = $3 } /^cpu:/ { cpus++ }
	     $1 == ".idle_sleeptime" || $1 == ".iowait_sleeptime:" { idle += $(NF - 1) }
	     END { printf "%.0f\n", (now && cpus) ? now * cpus - idle : -1 }' /proc/timer_list
}

# sample: "busy softirq system" in USER_HZ ticks (all CPUs), then the
# bytes and packets received on fw's interfaces, then cpu_busy_ns.
sample() {
	local c b
	c=$(awk '$1 == "cpu" { print $2+$3+$4+$7+$8, $8, $4; exit }' /proc/stat)
	# shellcheck disable=SC2016 # awk's own $ fields
	b=$(in_ns "$NS_FW" awk -F'[: ]+' 'NR > 2 && $2 != "lo" { s += $3; p += $4 } END { printf "%.0f %.0f", s, p }' /proc/net/dev)
	echo "$c $b $(cpu_busy_ns)"
}
# sample_delta BEFORE AFTER [BUSY_NS] -> busy_s=.. softirq_s=.. sys_s=..
# fw_MB=.. fw_pkts=.. softirq_ms_per_MB=.. cpu_s=.. (fw_MB / fw_pkts: how
# much GSO/GRO aggregates, which sets what a helper's per-packet cost
# weighs; cpu_s: exact busy CPU seconds from cpu_busy_ns, counted from
# BUSY_NS instead of BEFORE's when given; -1 when unknown)
sample_delta() {
	local hz
	hz=$(getconf CLK_TCK 2>/dev/null || echo 100)
	awk -v hz="$hz" -v a="$1" -v b="$2" -v from="${3:-}" 'BEGIN {
		split(a, x, " "); split(b, y, " ")
		mb = (y[4] - x[4]) / 1048576; si = (y[2] - x[2]) / hz
		if (from == "") from = x[6]
		cpu = (from >= 0 && y[6] > from) ? (y[6] - from) / 1e9 : -1
		printf "busy_s=%.2f softirq_s=%.2f sys_s=%.2f fw_MB=%.3f fw_pkts=%d softirq_ms_per_MB=%.3f cpu_s=%.6f",
			(y[1]-x[1])/hz, si, (y[3]-x[3])/hz, mb, y[5] - x[5], (mb > 0 ? si * 1000 / mb : 0), cpu }'
}

# row_value WORK SECS DELTA: the row's value: WORK / SECS on the host's
# clock; with BENCH_CLOCK=icount, WORK per busy CPU second (DELTA's
# cpu_s), the load one guest CPU carries doing nothing else: the guest's
# idle time there is skipped, not spent, so a wait costs whatever the next
# timer is away.
row_value() {
	awk -v w="$1" -v s="$2" -v d="$3" -v icount="$([ "${BENCH_CLOCK:-host}" = icount ] && echo 1)" 'BEGIN {
		if (icount) { s = -1; if (match(d, /cpu_s=[-0-9.]+/)) s = substr(d, RSTART + 6, RLENGTH - 6) + 0 }
		printf "%.2f", (s > 0 ? w / s : 0) }'
}
# row_unit UNIT: UNIT ("MB", "xfer", "sessions") per second of the row
row_unit() {
	if [ "${BENCH_CLOCK:-host}" = icount ]; then echo "$1/cpu-s"; else echo "$1/s"; fi
}

# ctrl_check HELPER MIN: every tracked connection to port 21 in fw carries
# HELPER (none: no helper at all), and at least MIN of them exist.
ctrl_check() {
	local h=$1 min=$2 list total with
	list=$(in_ns "$NS_FW" conntrack -L -p tcp --dport 21 2>/dev/null)
	total=$(grep -c 'dport=21' <<< "$list")
	if [ "$h" = none ]; then
		with=$(grep -c 'helper=' <<< "$list")
		[ "$total" -ge "$min" ] && [ "$with" -eq 0 ] && return 0
		echo "FAILED:$with/$total-ctrl-conns-have-a-helper(min-$min)"
		return 1
	fi
	with=$(grep -c "helper=$h\\( \\|\$\\)" <<< "$list")
	[ "$total" -ge "$min" ] && [ "$with" -eq "$total" ] && return 0
	echo "FAILED:$with/$total-ctrl-conns-have-helper=$h(min-$min)"
	return 1
}

result() { # NAME HELPER REP VALUE UNIT SAMPLES CHECK
	local line="RESULT bench=$1 helper=$2 rep=$3 value=$4 unit=$5 $6 check=$7 at=$SECONDS"
	echo "$line"
	echo "$line" >> "$BENCH_RAW"
	[ "$7" = ok ] || BENCH_FAILED=$((BENCH_FAILED + 1))
}

# shellcheck disable=SC2317 # called through wait_until
listening_on() { # NS ADDR PORT
	in_ns "$1" ss -ltnH "src $2:$3" | grep -q .
}

wait_listen_on() { # NS ADDR PORT WHAT
	wait_until "$E2E_T_READY" listening_on "$1" "$2" "$3" ||
		die "$4 does not listen on $2:$3 in $1 after ${E2E_T_READY}s" \
			"($(tail -n 3 "$E2E_WORK/$4.log" 2>/dev/null | tr '\n' ' '))"
}

stop_pid() { # PID: a server this script started
	[ -n "$1" ] || return 0
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# stream_server KIND DIR BYTES: the ftpstream server on $SV_STREAM, started
# anew when KIND, DIR or BYTES change.
stream_server() {
	[ "$STREAM_KIND" != "$1 $2 $3" ] || return 0
	stop_pid "$STREAM_PID"
	ip netns exec "$NS_SV" /usr/bin/python3 "$STREAM" server --bind "$SV_STREAM" \
		--kind "$1" --dir "$2" --size "$3" --log "$E2E_WORK/accept.log" \
		> "$E2E_WORK/ftpstream.log" 2>&1 &
	STREAM_PID=$!
	STREAM_KIND="$1 $2 $3"
	wait_listen_on "$NS_SV" "$SV_STREAM" 21 ftpstream
}

# port_diag: pinhole's non-zero counters and policy in fw (cumulative).
port_diag() {
	log "pinhole counters in fw: $(in_ns "$NS_FW" cat /proc/net/pinhole_ftp | awk '$2 != 0' | tr '\n' ' ')"
	log "pinhole policy in fw: $(in_ns "$NS_FW" sysctl -a 2>/dev/null | grep pinhole | tr '\n' ' ')"
	log "kernel log lines 'refused': $(dmesg | grep -c refused); last: $(dmesg | tail -n 2 | tr '\n' ' ')"
}

# stream_client DIR PAR: PAR socat clients at once, each moving one
# stream (down: read the server's stream to EOF; up: send
# $E2E_WORK/up.bin, then read the server's answer to EOF). Prints the
# seconds from the first connection the server accepted to the last
# client's exit, then those from the clients' start to that accept, then
# cpu_busy_ns at that accept; fails when one failed. The clients' process
# start is not the stream's: it reads their programs from the host over
# 9p, which took 0.4 to 3.3 s of measurements whose busy CPU time was the
# same.
stream_client() {
	local dir=$1 par=$2 i pids=() t0 t1 bad=0 pid
	: > "$E2E_WORK/accept.log"
	t0=$EPOCHREALTIME
	for i in $(seq 1 "$par"); do
		if [ "$dir" = down ]; then
			timeout -k 2 "$BENCH_CLIENT_T" ip netns exec "$NS_CL" socat -u -b 262144 \
				"TCP4:$SV_STREAM:21,rcvbuf=4194304" - > "$E2E_WORK/down.$i" &
		else
			timeout -k 2 "$BENCH_CLIENT_T" ip netns exec "$NS_CL" socat -b 262144 -t "$BENCH_CLIENT_T" - \
				"TCP4:$SV_STREAM:21,sndbuf=4194304" < "$E2E_WORK/up.bin" \
				> "$E2E_WORK/down.$i" &
		fi
		pids+=($!)
	done
	for pid in "${pids[@]}"; do
		wait "$pid" || bad=$((bad + 1))
	done
	t1=$EPOCHREALTIME
	[ "$bad" -eq 0 ] || { echo "$bad of $par clients failed"; return 1; }
	awk -v a="${t0/,/.}" -v b="${t1/,/.}" -v par="$par" '
		$1 == "accept" && $2 >= a { n++; if (!s || $2 < s) { s = $2; busy = $3 } }
		END {
			if (n != par) { printf "%d-accepts-for-%d-clients", n, par; exit 1 }
			printf "%.6f %.6f %s", b - s, s - a, busy
		}' "$E2E_WORK/accept.log"
}

# perf_start NAME HELPER REP: profile the whole guest while NAME runs, when
# BENCH_PERF selects it; perf_stop writes the report. perf records for as
# long as its workload, a cat of a FIFO, runs: perf record -a alone, put in
# the background, samples next to nothing here.
perf_start() {
	PERF_PID=
	[ -n "$BENCH_PERF" ] && [[ $1 =~ $BENCH_PERF ]] || return 0
	PERF_OUT=$(dirname "$BENCH_RAW")/perf.$1.$2.$3
	# TCG's slow interrupts make the kernel throttle sampling to nothing
	sysctl -qw kernel.perf_cpu_time_max_percent=0
	rm -f "$E2E_WORK/perf.go"
	mkfifo "$E2E_WORK/perf.go"
	perf record -q -a -e cpu-clock -c 250000 -o "$E2E_WORK/perf.data" \
		-- cat "$E2E_WORK/perf.go" > "$E2E_WORK/perf.log" 2>&1 &
	PERF_PID=$!
	exec {PERF_FD}> "$E2E_WORK/perf.go"
	sleep 1	# perf has opened its events
}
perf_stop() {
	[ -n "$PERF_PID" ] || return 0
	exec {PERF_FD}>&-
	wait "$PERF_PID"
	perf report -i "$E2E_WORK/perf.data" --stdio --no-children \
		--sort dso,sym --percent-limit 0.3 > "$PERF_OUT.txt" 2>&1
	log "perf profile of $PERF_OUT: $(grep -c . "$PERF_OUT.txt") lines"
	PERF_PID=
}

# trace_start NAME HELPER REP: when BENCH_TRACE selects NAME, time every
# call of the helpers' help() callbacks (only those: their callees run
# untraced); trace_stop sums the durations. For the cost per download or
# per MB that a helper adds, which a 0.5% difference between rows cannot
# show: under the instruction clock a nanosecond is an instruction. The
# raw trace is kept beside it (.raw); with BENCH_TRACE_DEPTH=N it shows
# N levels of their callees (the summary then counts the leaf calls only).
TRACEFS=/sys/kernel/tracing
trace_start() {
	TRACE_OUT=
	[ -n "$BENCH_TRACE" ] && [[ $1 =~ $BENCH_TRACE ]] || return 0
	[ -e "$TRACEFS/trace" ] || mount -t tracefs nodev "$TRACEFS" || return 0
	echo 0 > "$TRACEFS/tracing_on"
	echo nop > "$TRACEFS/current_tracer"
	echo 8192 > "$TRACEFS/buffer_size_kb"
	: > "$TRACEFS/set_ftrace_filter"
	: > "$TRACEFS/set_graph_function"
	echo "${BENCH_TRACE_DEPTH:-1}" > "$TRACEFS/max_graph_depth"
	if [ "${BENCH_TRACE_DEPTH:-1}" -gt 1 ]; then
		# their callees too, in the raw trace only; no :mod: here,
		# "help" is the stock helper's (and any other's)
		printf '%s\n' help pinhole_help > "$TRACEFS/set_graph_function" 2>/dev/null
	else
		printf '%s\n' help:mod:nf_conntrack_ftp pinhole_help:mod:nf_pinhole_ftp \
			> "$TRACEFS/set_ftrace_filter" 2>/dev/null
	fi
	echo function_graph > "$TRACEFS/current_tracer"
	: > "$TRACEFS/trace"
	echo 1 > "$TRACEFS/tracing_on"
	TRACE_OUT=$(dirname "$BENCH_RAW")/trace.$1.$2.$3.txt
}
trace_stop() {
	[ -n "$TRACE_OUT" ] || return 0
	echo 0 > "$TRACEFS/tracing_on"
	# "  0)   1.234 us    |  pinhole_help [nf_pinhole_ftp]();"
	cp "$TRACEFS/trace" "${TRACE_OUT%.txt}.raw"
	awk '/\(\);/ && match($0, /[0-9.]+ us/) {
		us = substr($0, RSTART, RLENGTH - 3) + 0; n++; t += us
		if (us > max) max = us
	}
	/LOST|entries-in-buffer/ { print "# " $0 }
	END { printf "calls=%d total_ns=%.0f mean_ns=%.1f max_ns=%.0f\n", n, t * 1000, n ? t * 1000 / n : 0, max * 1000 }' \
		"$TRACEFS/trace" > "$TRACE_OUT"
	log "trace of $TRACE_OUT: $(tail -1 "$TRACE_OUT")"
	echo nop > "$TRACEFS/current_tracer"
	: > "$TRACEFS/set_ftrace_filter"
	: > "$TRACEFS/set_graph_function"
	TRACE_OUT=
}

# measure_stream NAME HELPER REP KIND DIR PAR BYTES MINCTRL: one
# measurement with HELPER's ruleset already loaded and the server running.
measure_stream() {
	local name=$1 h=$2 rep=$3 kind=$4 dir=$5 par=$6 bytes=$7 minctrl=$8
	local secs start='' busy0='' s0 s1 check mbs p0 p1 i got delta
	p0=$(pin_counter lines_port)
	perf_start "$name" "$h" "$rep"
	trace_start "$name" "$h" "$rep"
	s0=$(sample)
	if secs=$(stream_client "$dir" "$par"); then
		s1=$(sample)
		read -r secs start busy0 <<< "$secs"
		perf_stop
		trace_stop
		p1=$(pin_counter lines_port)
		delta=$(sample_delta "$s0" "$s1" "$busy0")
		mbs=$(row_value "$(awk -v b=$((bytes * par)) 'BEGIN { print b / 1048576 }')" "$secs" "$delta")
		check=$(ctrl_check "$h" "$minctrl") && check=ok
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
		s1=$(sample)
		perf_stop
		trace_stop
		[ "$kind" != port ] || [ "$h" != pinhole-ftp ] || port_diag
		mbs=0
		check="FAILED:client:${secs// /_}"
		delta=$(sample_delta "$s0" "$s1")
	fi
	result "$name" "$h" "$rep" "$mbs" "$(row_unit MB)" "$delta wall_s=${secs:-0} start_s=${start:-0}" "$check"
}

stream_bytes() { # KIND: bytes per stream
	# A PORT line every 22 bytes is one pinhole per line for pinhole-ftp:
	# a worst case, measured on a smaller volume.
	if [ "$1" = port ]; then
		echo $(((BENCH_MB << 20) / BENCH_PORT_DIV))
	else
		echo $((BENCH_MB << 20))
	fi
}

# stream_bench NAME KIND DIR PAR
stream_bench() {
	local name=$1 kind=$2 dir=$3 par=$4 rep h bytes
	wanted "$name" || return 0
	bytes=$(stream_bytes "$kind")
	stream_server "$kind" "$dir" "$bytes"
	[ "$dir" = down ] || /usr/bin/python3 "$STREAM" gen --kind "$kind" \
		--size "$bytes" > "$E2E_WORK/up.bin"
	log "$name: $par x $((bytes >> 10)) KiB of $kind lines, direction $dir"
	for rep in $(seq 1 "$BENCH_REPS"); do
		for h in $(rep_helpers "$rep"); do
			bench_fw_load "$h"
			measure_stream "$name" "$h" "$rep" "$kind" "$dir" "$par" "$bytes" "$par"
		done
	done
}

# xfer_loop COUNT FAILFILE: COUNT sequential downloads by one curl, which
# keeps its control connection for every URL of the server: each download
# is an EPSV, its 229 (a pinhole), a data connection and a RETR, not also
# a process start, a login and a QUIT, which under TCG cost several times
# what the firewall does and made the row measure them. Writes to FAILFILE
# the downloads that did not end in 226, then the seconds curl spent on
# them all (the sum of its time_total: its own process start, which reads
# it from the host over 9p, is not the firewall's).
xfer_loop() {
	local i urls=()
	for i in $(seq 1 "$1"); do
		urls+=(-o /dev/null "ftp://$SV4/small.bin")
	done
	timeout -k 2 $((30 + 25 * $1)) ip netns exec "$NS_CL" curl -sS -4 \
		--ftp-pasv --connect-timeout 20 --max-time 25 \
		-w '%{response_code} %{time_total}\n' "${urls[@]}" 2>> "$E2E_WORK/curl.err" |
		awk -v n="$1" '$1 == 226 { ok++; t += $2 } END { printf "%d %.6f\n", n - ok, t }' > "$2"
}

# measure_xfer NAME HELPER REP PAR MINCTRL: PAR clients, BENCH_XFERS
# downloads in all, HELPER's ruleset already loaded.
measure_xfer() {
	local name=$1 h=$2 rep=$3 par=$4 minctrl=$5 per s0 s1 e0 e1 pids i bad check rate c secs delta
	per=$((BENCH_XFERS / par))
	e0=$(fw_counter "$NS_FW" data_expected)
	trace_start "$name" "$h" "$rep"
	s0=$(sample)
	pids=()
	rm -f "$E2E_WORK"/bad.[0-9]*
	for i in $(seq 1 "$par"); do
		xfer_loop "$per" "$E2E_WORK/bad.$i" &
		pids+=($!)
	done
	wait "${pids[@]}"
	s1=$(sample)
	trace_stop
	# failures in all, and the longest client's time: they ran side by side
	read -r bad secs < <(cat "$E2E_WORK"/bad.[0-9]* |
		awk '{ b += $1; if ($2 > t) t = $2 } END { print b + 0, t + 0 }')
	check=ok
	e1=$(fw_counter "$NS_FW" data_expected)
	if [ "$h" = none ]; then
		[ "$e1" -eq "$e0" ] || check="FAILED:data_expected+$((e1 - e0))-without-a-helper"
	else
		[ $((e1 - e0)) -ge $((per * par - bad)) ] ||
			check="FAILED:data_expected+$((e1 - e0))"
	fi
	c=$(ctrl_check "$h" "$minctrl") || check=$c
	[ "$bad" -eq 0 ] || check="FAILED:$bad-downloads-failed"
	delta=$(sample_delta "$s0" "$s1")
	rate=$(row_value $((per * par - bad)) "$secs" "$delta")
	result "$name" "$h" "$rep" "$rate" "$(row_unit xfer)" "$delta wall_s=$secs" "$check"
}

# xfer_bench NAME PAR
xfer_bench() {
	local name=$1 par=$2 rep h
	wanted "$name" || return 0
	vsftpd_up
	log "$name: $par client(s) x $((BENCH_XFERS / par)) EPSV downloads of a 1 KiB file (vsftpd), one curl and control connection each"
	for rep in $(seq 1 "$BENCH_REPS"); do
		for h in $(rep_helpers "$rep"); do
			bench_fw_load "$h"
			# a download's control connection may linger in conntrack
			measure_xfer "$name" "$h" "$rep" "$par" 0
		done
	done
}

vsftpd_up() {
	[ -z "${VSFTPD_UP:-}" ] || return 0
	# IPv4 on $SV4 alone: the other servers hold port 21 on other addresses
	vsftpd_start "$E2E_WORK/vsftpd.xfer.log" listen=YES listen_ipv6=NO \
		"listen_address=$SV4"
	wait_listen_on "$NS_SV" "$SV4" 21 vsftpd
	head -c 1024 /dev/urandom > "$FTP_ROOT/small.bin"
	chmod 0644 "$FTP_ROOT/small.bin"
	VSFTPD_UP=1
}

# slab_sample FILE: "cache bytes" (active objects x object size) per cache.
# SLUB counts the free objects of per-CPU slabs as active; shrinking every
# cache first (sysfs "shrink": flush the per-CPU slabs, free empty ones)
# makes the count exact, instead of off by up to a slab per CPU and cache.
slab_sample() {
	local d
	for d in /sys/kernel/slab/*; do
		[ -L "$d" ] || echo 1 > "$d/shrink" 2>/dev/null
	done
	awk 'NR > 2 { print $1, $2 * $4 }' /proc/slabinfo > "$1"
}

# slab_delta BEFORE AFTER N: bytes per session: total, nf_conntrack,
# kmalloc caches, the rest; and the caches that grew most, for the log.
slab_delta() {
	awk -v n="$3" 'FNR == NR { a[$1] = $2; next }
	{
		d = $2 - a[$1]; t += d
		if ($1 == "nf_conntrack") ct += d
		else if ($1 ~ /^kmalloc-/) km += d
		else o += d
		if (d != 0) top = top sprintf("%s:%+.0f ", $1, d / n)
	}
	END {
		printf "total=%.1f conntrack=%.1f kmalloc=%.1f other=%.1f\n", t / n, ct / n, km / n, o / n
		print top
	}' "$1" "$2"
}

# idle_open HELPER: start BENCH_IDLE sessions (client pid in IDLE_PID);
# measures slab memory and the time they take; sets IDLE_RATE,
# IDLE_SAMPLES, IDLE_MEM, IDLE_CHECK.
idle_open() {
	local h=$1 ready=$E2E_WORK/idle.ready s0 s1 st secs
	rm -f "$ready"
	ip netns exec "$NS_CL" /usr/bin/python3 "$IDLE" client --host "$SV_IDLE" \
		--sessions "$BENCH_IDLE" --ready "$ready" --wait-start \
		--timeout "$BENCH_CLIENT_T" > "$E2E_WORK/idle.client.log" 2>&1 &
	IDLE_PID=$!
	IDLE_CHECK=ok IDLE_RATE=0 IDLE_MEM='' IDLE_SAMPLES=''
	if ! wait_until "$E2E_T_READY" grep -q waiting "$ready" 2>/dev/null; then
		IDLE_CHECK=FAILED:idle-client-did-not-start
		return 1
	fi
	slab_sample "$E2E_WORK/slab.0"
	s0=$(sample)
	kill -USR2 "$IDLE_PID"
	wait_until "$BENCH_CLIENT_T" grep -qE '^(ready|failed)' "$ready" 2>/dev/null
	s1=$(sample)
	slab_sample "$E2E_WORK/slab.1"
	IDLE_SAMPLES=$(sample_delta "$s0" "$s1")
	st=$(cat "$ready" 2>/dev/null)
	case $st in
	ready*) ;;
	*) IDLE_CHECK="FAILED:open:$(tr ' ' _ <<< "${st:-timeout}" | cut -c1-80)"; return 1 ;;
	esac
	secs=${st##*secs=}
	IDLE_RATE=$(row_value "$BENCH_IDLE" "$secs" "$IDLE_SAMPLES")
	IDLE_SAMPLES+=" wall_s=$secs"
	IDLE_MEM=$(slab_delta "$E2E_WORK/slab.0" "$E2E_WORK/slab.1" "$BENCH_IDLE")
	local c
	c=$(ctrl_check "$h" "$BENCH_IDLE") || IDLE_CHECK=$c
	return 0
}

# idle_close: every idle session answers a NOOP and QUITs, or the check
# fails (and counts as a failed measurement).
idle_close() {
	local out
	kill -USR1 "$IDLE_PID" 2>/dev/null
	wait "$IDLE_PID"
	out=$(tail -n 1 "$E2E_WORK/idle.client.log")
	case $out in
	"done ok=$BENCH_IDLE failed=0") ;;
	*)
		log "idle: not every session survived: ${out:-no answer}"
		if [ "$IDLE_CHECK" = ok ]; then
			IDLE_CHECK="FAILED:held:$(tr ' ' _ <<< "${out:-no-answer}" | cut -c1-80)"
			BENCH_FAILED=$((BENCH_FAILED + 1))
		fi
		;;
	esac
}

# idle_bench: BENCH_IDLE idle sessions per helper and repetition, and
# while they are held one reply stream and one transfer row.
idle_bench() {
	local n=$BENCH_IDLE p=${BENCH_XPAR%% *} rep h bytes mem
	local open=idle$n-open stream=idle$n-stream-1x xfer=idle$n-xfer-${BENCH_XPAR%% *}x
	[ "$n" -gt 0 ] && wanted "$open" "$stream" "$xfer" || return 0
	bytes=$(stream_bytes reply211)
	stream_server reply211 down "$bytes"
	vsftpd_up
	if [ -z "$IDLE_SRV_PID" ]; then
		ip netns exec "$NS_SV" /usr/bin/python3 "$IDLE" server --bind "$SV_IDLE" \
			> "$E2E_WORK/idle.log" 2>&1 &
		IDLE_SRV_PID=$!
		wait_listen_on "$NS_SV" "$SV_IDLE" 21 idle
	fi
	log "idle$n: $n idle FTP logins held while a $((bytes >> 20)) MB reply stream and $BENCH_XFERS downloads ($p clients) run"
	# A first round, not measured: the server's and the kernel's caches
	# grow once, which would be charged to whichever helper came first.
	bench_fw_load none
	idle_open none
	idle_close
	log "idle$n: warm-up round: $IDLE_CHECK, $IDLE_RATE sessions/s"
	for rep in $(seq 1 "$BENCH_REPS"); do
		for h in $(rep_helpers "$rep"); do
			bench_fw_load "$h"
			idle_open "$h"
			! wanted "$open" || result "$open" "$h" "$rep" "$IDLE_RATE" "$(row_unit sessions)" "${IDLE_SAMPLES:-}" "$IDLE_CHECK"
			if [ "$IDLE_CHECK" = ok ]; then
				mem=$(head -n 1 <<< "$IDLE_MEM")
				[ "$rep" -gt 1 ] || log "idle$n $h: slab bytes per session by cache: $(tail -n 1 <<< "$IDLE_MEM")"
				! wanted "$stream" || measure_stream "$stream" "$h" "$rep" reply211 down 1 "$bytes" "$((n + 1))"
				! wanted "$xfer" || measure_xfer "$xfer" "$h" "$rep" "$p" "$n"
				idle_close
				echo "MEM helper=$h rep=$rep sessions=$n $mem check=$IDLE_CHECK" | tee -a "$BENCH_RAW"
			else
				stop_pid "$IDLE_PID"	# it failed already
			fi
		done
	done
}

load_modules || exit 1
export PINHOLE_HELPER=pinhole-ftp
e2e_init bench
topo_router
printf 'addr add %s/24 dev eth0\naddr add %s/24 dev eth0\n' "$SV_STREAM" "$SV_IDLE" | ip_batch "$NS_SV"
log "guest: $(nproc) CPUs, kernel $(uname -r), $(awk '/MemTotal/ { print $2 " kB" }' /proc/meminfo), nf_conntrack_max $(in_ns "$NS_FW" sysctl -n net.netfilter.nf_conntrack_max)"
log "repetitions: $BENCH_REPS, helpers in turn: ${HELPERS[*]}"

stream_bench stream-1x reply211 down 1
stream_bench "stream-${BENCH_PAR}x" reply211 down "$BENCH_PAR"
stream_bench stream-noop-1x noop up 1
stream_bench "stream-noop-${BENCH_PAR}x" noop up "$BENCH_PAR"
stream_bench stream-mixed-1x mixed up 1
stream_bench "stream-mixed-${BENCH_PAR}x" mixed up "$BENCH_PAR"
xfer_bench xfer-1x 1
for p in $BENCH_XPAR; do
	xfer_bench "xfer-${p}x" "$p"
done
idle_bench
# Last: with pinhole-ftp, a PORT line every 22 bytes is the costliest case.
stream_bench stream-port-1x port up 1
stop_pid "$STREAM_PID"
stop_pid "$IDLE_SRV_PID"
E2E_PASSED=1
[ "$BENCH_FAILED" -eq 0 ] || { echo "FAIL: bench: $BENCH_FAILED measurement(s) failed their check"; E2E_FAILED=$BENCH_FAILED; }
e2e_finish
