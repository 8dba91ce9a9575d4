#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/stress/stress.sh: the load of `make stress`. Runs INSIDE the test
# guest (scripts/stress.sh boots it): builds tests/e2e/lib.sh's cl - fw - sv
# namespaces with fw as the firewall (router topology, pinhole-ftp
# attached to port 21) masquerading a share of the clients, starts
# tests/stress/ftpd.py in sv and tests/stress/ftpload.py in cl
# (PINHOLE_STRESS_SESSIONS control sessions, default 1000, each holding a
# pinhole, half IPv4 half IPv6, PASV/EPSV/PORT/EPRT, one in five NATed),
# and while they transfer, runs one disruption after another, each
# followed by a calm period:
#   sysctl       every net.netfilter.pinhole_ftp knob flipped, bad values
#                refused
#   flush        conntrack -F expect
#   delete       conntrack -D of up to 40 control connections (masters)
#   reload       ruleset replaced without the helper, module removed and
#                loaded again, ruleset with the helper back (the client
#                reconnects: old connections lost their helper for good)
#   expect-full  nf_conntrack_expect_max lowered to the current count
#   netns        namespaces with live loopback sessions holding pinholes
#                created and killed (pernet teardown with expectations)
#   faults       failslab and fail_page_alloc injected into allocations made
#                under nf_pinhole_ftp (only where debugfs offers them: the
#                debug kernel)
# Then it stops the load, removes the ruleset and the module (refcount 0),
# checks that no expectation is left, destroys the namespaces and waits
# for the conntrack count to return to its baseline. tests/stress/report.py
# judges the transfers and prints the table. Output: PASS:/FAIL: stress/...
# lines, then `N passed, N failed`.
#
# Environment: PINHOLE_KO (the module), PINHOLE_STRESS_SESSIONS (1000),
# PINHOLE_STRESS_ROUNDS (rounds of all disruptions, 1),
# PINHOLE_STRESS_CALM (s between disruptions, 30), PINHOLE_STRESS_XFER
# (s a transfer step may take, 20), PINHOLE_STRESS_INTERVAL (s between a
# session's transfers, 80-240), PINHOLE_STRESS_RAMP (s to open all
# sessions, 120), PINHOLE_STRESS_ONLY (the disruptions to run, by the names
# above, e.g. "reload delete"; default all).
# shellcheck disable=SC2317 # functions run from traps and by name (d_*)
set -u

# One compound command: bash reads it whole before running any of it.
{

STRESS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Servers start slowly in a loaded TCG guest (lib.sh's default is 30 s).
export E2E_T_READY=${E2E_T_READY:-120}
# shellcheck source=tests/e2e/lib.sh
. "$STRESS_DIR/../e2e/lib.sh"
# shellcheck disable=SC2034 # lib.sh's reporting reads it
E2E_SUITE=stress
PY=/usr/bin/python3

SESSIONS=${PINHOLE_STRESS_SESSIONS:-1000}
ROUNDS=${PINHOLE_STRESS_ROUNDS:-1}
CALM=${PINHOLE_STRESS_CALM:-30}
XFER=${PINHOLE_STRESS_XFER:-20}
# 1000 sessions transferring every 40-120 s (12 a second) left the debug
# guest no idle time between disruptions (2026-12-02): half that leaves it
# room for the disruptions' own work.
INTERVAL=${PINHOLE_STRESS_INTERVAL:-80-240}
RAMP=${PINHOLE_STRESS_RAMP:-120}
GRACE=$((XFER * 2 + 5))
KO=${PINHOLE_KO:-$REPO_ROOT/module/nf_pinhole_ftp.ko}
MODNAME=nf_pinhole_ftp
for v in SESSIONS ROUNDS CALM XFER RAMP; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "stress.sh: PINHOLE_STRESS_$v wants a positive number" >&2; exit 2; }
done
[[ $INTERVAL =~ ^[0-9]+-[1-9][0-9]*$ ]] || { echo "stress.sh: PINHOLE_STRESS_INTERVAL wants LO-HI" >&2; exit 2; }

CLN4=192.0.2.3			# cl's second address: fw masquerades it
CLN6=2001:db8:1::3
SYSCTL=net.netfilter.pinhole_ftp
CALM_SYSCTLS=("$SYSCTL.enforce=0" "$SYSCTL.max_pinholes=1"
	"$SYSCTL.active_ports=1024-65535" "$SYSCTL.passive_ports=1024-65535"
	"$SYSCTL.active=1" "$SYSCTL.passive=1" "$SYSCTL.timeout=3600")

now() { echo "${EPOCHREALTIME/,/.}"; }
fact() { echo "$1 $2" >> "$E2E_WORK/facts"; }
note() { echo "# $(date +%T) $*"; }
stress_pass() { e2e_pass "$@"; }
stress_fail() { e2e_fail "$@"; }

# ------------------------------------------------------------ the module

declare -A STATS=()
# stats_add: add fw's /proc/net/pinhole_ftp counters to STATS (they die
# with the module: read them before every unload).
stats_add() {
	local name val
	while read -r name val; do
		[[ $val =~ ^[0-9]+$ ]] || continue
		STATS[$name]=$((${STATS[$name]:-0} + val))
	done < <(in_ns "$NS_FW" cat /proc/net/pinhole_ftp 2>/dev/null)
}

stat_now() { # NAME: fw's current value of one pinhole counter
	in_ns "$NS_FW" awk -v k="$1" '$1 == k { print $2 }' /proc/net/pinhole_ftp 2>/dev/null |
		grep -E '^[0-9]+$' || echo 0
}

mod_load() {
	local d
	for d in $(modinfo -F depends "$KO" | tr , ' '); do
		modprobe "$d" || return 1
	done
	insmod "$KO"
}

refcnt_zero() {
	local n
	read -r n < "/sys/module/$MODNAME/refcnt" 2>/dev/null && [ "$n" = 0 ]
}

mod_unload() {
	# Dying namespaces drop their rulesets' references asynchronously.
	wait_until 120 refcnt_zero || return 1
	rmmod "$MODNAME"
}

calm_sysctls() { sysctl_ns "$NS_FW" "${CALM_SYSCTLS[@]}"; }

# ------------------------------------------------------------ rulesets

# fw_rules HELPER: fw's filtering ruleset (lib.sh's), replaced atomically
# without flushing conntrack (live sessions keep their entries).
fw_rules() {
	local f=$E2E_WORK/fw.$1.nft
	{
		echo "table inet $E2E_TABLE"
		echo "delete table inet $E2E_TABLE"
		fw_ruleset forward "$1"
	} > "$f"
	run_quiet in_ns "$NS_FW" nft -f "$f"
}

nat_rules() {
	in_ns "$NS_FW" nft -f - <<EOF
table inet stress_nat {
	chain post {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "eth1" ip saddr $CLN4 masquerade
		oifname "eth1" ip6 saddr $CLN6 masquerade
	}
}
EOF
}

expectations() { # NS: expectations in NS, both families
	in_ns "$1" cat /proc/net/nf_conntrack_expect 2>/dev/null | wc -l
}

# ------------------------------------------------------------ disruptions

WIN_START=
win_begin() { WIN_START=$(now); note "disruption: $1"; }
win_end() { echo "$WIN_START $(now) $1" >> "$E2E_WORK/windows"; }

rand() { echo $((RANDOM % ($2 - $1 + 1) + $1)); }

d_sysctl() {
	local i lo hi bad=0 v
	win_begin sysctl
	for i in 1 2 3 4 5 6; do
		lo=$(rand 1024 40000)
		hi=$(rand "$lo" 65535)
		sysctl_ns "$NS_FW" "$SYSCTL.enforce=$(rand 0 1)" \
			"$SYSCTL.max_pinholes=$(rand 1 64)" \
			"$SYSCTL.active_ports=$lo-$hi" \
			"$SYSCTL.passive_ports=$(rand 1024 2000)-$(rand 2001 65535)" \
			"$SYSCTL.active=$(rand 0 1)" "$SYSCTL.passive=$(rand 0 1)" ||
			bad=1
		sleep 1
	done
	# Values the module must refuse, leaving the knob as it was.
	for v in max_pinholes=0 max_pinholes=65 active_ports=70000-1 \
		passive_ports=2000-1000 passive_ports=abc enforce=2 active=-1; do
		if in_ns "$NS_FW" sysctl -qw "$SYSCTL.$v" >/dev/null 2>&1; then
			stress_fail sysctl-refuse "$SYSCTL.$v was accepted"
			bad=2
		fi
	done
	calm_sysctls || bad=1
	win_end sysctl
	case $bad in
	0) stress_pass sysctl-flip ;;
	1) stress_fail sysctl-flip "a valid sysctl write failed" ;;
	esac
}

d_flush() {
	local n0 n1 out
	win_begin flush
	n0=$(expectations "$NS_FW")
	if out=$(in_ns "$NS_FW" conntrack -F expect 2>&1); then
		n1=$(expectations "$NS_FW")
		stress_pass "flush-expect ($n0 expectations, $n1 right after)"
	else
		stress_fail flush-expect "conntrack -F expect: $out"
	fi
	sleep 2
	win_end flush
}

# masters_sample FAMILY: 20 control connections on fw, "FAMILY SRC SPORT"
# by their original direction.
masters_sample() {
	in_ns "$NS_FW" conntrack -L -f "$1" -p tcp --dport 21 2>/dev/null |
		awk -v fam="$1" '{ s = p = ""
			for (i = 1; i <= NF; i++) {
				if (s == "" && $i ~ /^src=/) s = substr($i, 5)
				if (p == "" && $i ~ /^sport=/) p = substr($i, 7)
			}
			if (p != "") print fam, s, p }' | shuf -n 20
}

# The deletions touch their own sessions only (report.py excuses those,
# not the window): all of them run in one shell in fw, since each
# `ip netns exec` costs the loaded debug guest what its load needs.
d_delete() {
	local n0 n
	touch "$E2E_WORK/deleted"
	n0=$(wc -l < "$E2E_WORK/deleted")
	win_begin delete
	{ masters_sample ipv4; masters_sample ipv6; } |
		in_ns "$NS_FW" sh -c 'while read -r fam src sport; do
			t=$(date +%s.%N)
			conntrack -D -f "$fam" -p tcp -s "$src" --sport "$sport" \
				--dport 21 >/dev/null 2>&1 && echo "$t $src $sport"
		done' >> "$E2E_WORK/deleted"
	win_end delete
	n=$(($(wc -l < "$E2E_WORK/deleted") - n0))
	if [ "$n" -gt 0 ]; then
		stress_pass "delete-masters ($n)"
	else
		stress_fail delete-masters "no control connection could be deleted"
	fi
}

d_reload() {
	win_begin reload
	local ok=1
	fw_rules none || ok=0
	stats_add
	if ! mod_unload; then
		stress_fail reload "rmmod: refcnt $(cat "/sys/module/$MODNAME/refcnt" 2>/dev/null)"
		ok=0
	fi
	# Long enough for the negative control (report.py): with the helper
	# gone, transfers through fw must fail.
	sleep 20
	mod_load || { stress_fail reload "insmod $KO failed"; ok=0; }
	calm_sysctls || ok=0
	fw_rules "$E2E_HELPER" || ok=0
	kill -USR1 "$LOAD_PID" 2>/dev/null
	win_end reload
	RELOADS=$((RELOADS + 1))
	[ "$ok" = 0 ] || stress_pass "reload-$RELOADS"
}

d_expect_full() {
	local n max0
	win_begin expect-full
	max0=$(cat /proc/sys/net/netfilter/nf_conntrack_expect_max)
	n=$(expectations "$NS_FW")
	[ "$n" -gt 0 ] || n=1
	local before after
	before=$(stat_now alloc_failures)
	echo "$n" > /proc/sys/net/netfilter/nf_conntrack_expect_max
	sleep 15
	after=$(stat_now alloc_failures)
	echo "$max0" > /proc/sys/net/netfilter/nf_conntrack_expect_max
	win_end expect-full
	FULL_REFUSED=$((FULL_REFUSED + after - before))
	if [ "$after" -gt "$before" ]; then
		stress_pass "expect-full ($((after - before)) refused at $n)"
	else
		stress_fail expect-full "no pinhole refused with the table full at $n"
	fi
}
FULL_REFUSED=0

d_netns() {
	local i ns pids held total=0 ok=1
	# A window report.py shows but does not excuse: the dying namespaces
	# hold none of the main load's sessions (FINDINGS.md 2: the transfers
	# that failed in this phase were starved by the harness's own polls).
	win_begin netns
	for i in 1 2 3; do
		ns=stress-eph$i
		E2E_NSES+=("$ns")
		ip netns add "$ns" || { ok=0; break; }
		ip -n "$ns" link set lo up
		in_ns "$ns" nft -f - <<EOF || ok=0
table inet eph {
	ct helper ftp-helper { type "$E2E_HELPER" protocol tcp; }
	chain out {
		type filter hook output priority filter; policy accept;
		tcp dport 21 ct helper set "ftp-helper"
	}
}
EOF
		in_ns "$ns" sysctl -qw "$SYSCTL.timeout=3600" >/dev/null
		in_ns "$ns" "$PY" "$STRESS_DIR/ftpd.py" --listen 127.0.0.1 \
			--listen ::1 --pasv-ports 42000-42999 \
			> "$E2E_WORK/eph$i.ftpd" 2>&1 &
		# Not wait_listen: a slow start under load fails this case,
		# not the whole run.
		if ! wait_every 1 120 listening "$ns" 21; then
			ok=0
			ns_kill_all "$ns"
			ip netns delete "$ns"
			unset 'E2E_NSES[-1]'
			continue
		fi
		# The sessions are here to hold pinholes when the namespace dies,
		# not to transfer: they wait 60-120 s before their first.
		in_ns "$ns" "$PY" "$STRESS_DIR/ftpload.py" --server4 127.0.0.1 \
			--server6 ::1 --src4 127.0.0.1 --src6 ::1 --nat4 127.0.0.1 \
			--nat6 ::1 --nat-every 0 --sessions 40 --duration 600 \
			--ramp 5 --interval 60-120 --log "$E2E_WORK/eph.log" \
			--status "$E2E_WORK/eph$i.status" > /dev/null 2>&1 &
		wait_every 1 60 eph_holding "$ns" 20
		held=$(expectations "$ns")
		total=$((total + held))
		# Kill the live sessions and drop the namespace: conntrack and
		# pinhole tear down with expectations in place.
		pids=$(ip netns pids "$ns")
		# shellcheck disable=SC2086
		[ -z "$pids" ] || kill -KILL $pids 2>/dev/null
		ip netns delete "$ns"
		unset 'E2E_NSES[-1]'
		[ "$held" -gt 0 ] || ok=0
	done
	win_end netns
	if [ "$ok" = 1 ]; then
		stress_pass "netns-churn ($total pinholes in 3 dying namespaces)"
	else
		stress_fail netns-churn "a namespace held no pinhole or could not be set up"
	fi
	EPH_PINHOLES=$((EPH_PINHOLES + total))
}
eph_holding() { [ "$(expectations "$1")" -ge "$2" ]; }

FI_DIRS=()
fi_setup() {
	local d
	for d in failslab fail_page_alloc; do
		[ -d "/sys/kernel/debug/$d" ] && FI_DIRS+=("/sys/kernel/debug/$d")
	done
}
fi_set() { # DIR FILE VALUE
	[ -e "$1/$2" ] && echo "$3" > "$1/$2"
}
fault_count() { dmesg | grep -c 'FAULT_INJECTION: forcing a failure' || true; }

# inject_for CACHE_FILTER SECONDS [CMD]: failslab and fail_page_alloc at
# 30% for allocations with nf_pinhole_ftp in their call stack (the
# module's text is FI_BASE..FI_BASE+FI_SIZE); CACHE_FILTER Y limits slab
# failures to the caches marked for it (nf_conntrack_expect). CMD runs
# every 5 s meanwhile.
inject_for() {
	local d t
	for d in "${FI_DIRS[@]}"; do
		# Hex: bash arithmetic is signed, kernel addresses are not.
		fi_set "$d" require-start "$(printf '0x%x' "$FI_BASE")"
		fi_set "$d" require-end "$(printf '0x%x' $((FI_BASE + FI_SIZE)))"
		fi_set "$d" stacktrace-depth 32
		fi_set "$d" ignore-gfp-wait N
		fi_set "$d" ignore-gfp-highmem N
		fi_set "$d" min-order 0
		fi_set "$d" verbose 1
		fi_set "$d" times -1
		fi_set "$d" interval 1
		fi_set "$d" space 0
	done
	fi_set /sys/kernel/debug/failslab cache-filter "$1"
	for d in "${FI_DIRS[@]}"; do fi_set "$d" probability 30; done
	for ((t = 0; t < $2; t += 5)); do
		sleep 5
		[ -z "${3:-}" ] || "$3"
	done
	for d in "${FI_DIRS[@]}"; do fi_set "$d" probability 0; done
}
flush_expect() { in_ns "$NS_FW" conntrack -F expect >/dev/null 2>&1; }

# Two phases. First slab failures only for nf_conntrack_expect objects,
# when the cache can be singled out (SLUB refuses for a merged cache):
# pinholes lost at allocation. Then every cache under the module, for 30 s:
# that takes in the bigger head nf_nat_mangle_tcp_packet() allocates to
# pull a NATed PORT/EPRT segment whole (ftpload.py puts a NOOP with 1 KiB
# of argument before them: a lone line fits the tailroom a forwarded
# segment has), so NATed announcements fail their rewrite after their
# pinhole went in, which takes it out again (the double-unlink window of
# the hardening scenario), while the expectation table is flushed every
# 5 s. kmemleak's metadata falls back to its memory pool.
d_faults() {
	[ ${#FI_DIRS[@]} -gt 0 ] || return 0
	local line n0 n1 a0 a1 u0 u1
	echo 0 > /proc/sys/kernel/kptr_restrict
	line=$(grep "^$MODNAME " /proc/modules)
	FI_SIZE=$(echo "$line" | awk '{ print $2 }')
	FI_BASE=$(echo "$line" | awk '{ print $6 }')
	if [ -z "$FI_BASE" ] || [ $((FI_BASE)) -eq 0 ]; then
		stress_fail faults "cannot find $MODNAME in /proc/modules: $line"
		return
	fi
	win_begin faults
	a0=$(stat_now alloc_failures)
	u0=$(stat_now nat_unrewritable)
	n0=$(fault_count)
	if echo 1 2>/dev/null > /sys/kernel/slab/nf_conntrack_expect/failslab; then
		inject_for Y 20
	fi
	inject_for N 30 flush_expect
	n1=$(fault_count)
	a1=$(stat_now alloc_failures)
	u1=$(stat_now nat_unrewritable)
	win_end faults
	INJECTED=$((INJECTED + n1 - n0))
	INJ_ALLOC=$((INJ_ALLOC + a1 - a0))
	INJ_REWRITE=$((INJ_REWRITE + u1 - u0))
	if [ $((n1 - n0 + a1 - a0)) -le 0 ]; then
		stress_fail faults "no fault was injected (module at $FI_BASE+$FI_SIZE)"
	elif [ $((u1 - u0)) -le 0 ]; then
		stress_fail faults "no NAT rewrite failed under injection ($((n1 - n0)) logged, $((a1 - a0)) pinholes lost)"
	else
		stress_pass "faults ($((n1 - n0)) logged, $((a1 - a0)) pinholes lost, $((u1 - u0)) rewrites failed)"
	fi
}
INJECTED=0
INJ_ALLOC=0
INJ_REWRITE=0
RELOADS=0
EPH_PINHOLES=0

# ------------------------------------------------------------ sampling

# The samplers and the ramp's wait run for the whole load, so they fork
# little (one `tail` per status read, every 2 s at most; the rest is bash
# builtins): on the debug kernel under TCG an exec costs tens of ms,
# and the first version (a status poll of three processes every 0.1 s, an
# `ip netns exec` every 2 s) spent a good share of the guest's CPU the
# load needed (2026-12-02: the ramp stalled at 500 sessions).

# sampler: peak expectations on fw, every 5 s, into $E2E_WORK/peak; reads
# fw's table through a process that lives there ($FW_HOLDER).
sampler() {
	local lines peak=0
	while :; do
		mapfile -t lines < "/proc/$FW_HOLDER/net/nf_conntrack_expect"
		if [ "${#lines[@]}" -gt "$peak" ]; then
			peak=${#lines[@]}
			echo "$peak" > "$E2E_WORK/peak"
		fi
		sleep 5
	done
}

# cpu_sampler: every 30 s, where the guest's CPU went since the last note
# (/proc/stat) and the share of one CPU ftpload.py used: the first thing
# to read when transfers time out.
cpu_busy() { # PID: user+system ticks of PID
	local stat
	read -ra stat < "/proc/$1/stat" 2>/dev/null || { echo 0; return; }
	echo $((stat[13] + stat[14]))
}
cpu_sampler() {
	local a b i total lp lb
	read -ra a < /proc/stat
	lp=$(cpu_busy "$LOAD_PID")
	while sleep 30; do
		read -ra b < /proc/stat
		lb=$(cpu_busy "$LOAD_PID")
		total=0
		for i in 1 2 3 4 5 6 7 8; do total=$((total + b[i] - a[i])); done
		[ "$total" -gt 0 ] || total=1
		note "cpu: user $(((b[1] + b[2] - a[1] - a[2]) * 100 / total))%" \
			"system $(((b[3] - a[3]) * 100 / total))%" \
			"irq $(((b[6] + b[7] - a[6] - a[7]) * 100 / total))%" \
			"idle $(((b[4] + b[5] - a[4] - a[5]) * 100 / total))%," \
			"ftpload.py $(((lb - lp) * 100 / 3000))% of a cpu; $(status_line)"
		a=("${b[@]}")
		lp=$lb
	done
}

status_line() { # ftpload.py's latest status line
	tail -n 1 "$E2E_WORK/load.status" 2>/dev/null
}
status_field() { # FIELD: from ftpload.py's latest status line
	local line
	line=" $(status_line) "
	[[ $line =~ \ $1=([^ ]*)\  ]] && echo "${BASH_REMATCH[1]}"
}
all_connected() { [ "$(status_field connected)" -ge "$SESSIONS" ] 2>/dev/null; }

# ------------------------------------------------------------ the run

e2e_init stress
SAMPLER_PIDS=()
stress_cleanup() {
	local rc=$?
	[ ${#SAMPLER_PIDS[@]} -eq 0 ] || kill "${SAMPLER_PIDS[@]}" 2>/dev/null
	(exit "$rc")
	e2e_cleanup
}
trap stress_cleanup EXIT
ct_count() { in_ns "$1" cat /proc/sys/net/netfilter/nf_conntrack_count; }
if lsmod | grep -qw '^nf_conntrack_ftp'; then
	rmmod nf_nat_ftp 2>/dev/null
	rmmod nf_conntrack_ftp || die "nf_conntrack_ftp is loaded and holds port 21"
fi
mod_load || die "cannot load $KO"
EXPECT_MAX0=$(cat /proc/sys/net/netfilter/nf_conntrack_expect_max)
echo $((SESSIONS * 8 + 4096)) > /proc/sys/net/netfilter/nf_conntrack_expect_max
fi_setup

topo_router
ip -n "$NS_CL" addr add "$CLN4/24" dev eth0
ip -n "$NS_CL" addr add "$CLN6/64" dev eth0 nodad
nat_rules || die "cannot load the NAT table on fw"
calm_sysctls || die "cannot set the pinhole sysctls on fw"
sysctl_ns "$NS_FW" net.netfilter.nf_conntrack_tcp_loose=1 2>/dev/null
# A process in fw through whose /proc/PID/net the sampler reads fw's table
# (ip netns exec execs: $! is the process in the namespace).
ip netns exec "$NS_FW" sleep infinity &
FW_HOLDER=$!

in_ns "$NS_SV" "$PY" "$STRESS_DIR/ftpd.py" --listen "$SV4" --listen "$SV6" \
	--pasv-ports 40000-49999 > "$E2E_WORK/ftpd.out" 2>&1 &
SERVER_PID=$!
wait_listen "$NS_SV" 21 "stress ftpd" || die "ftpd does not listen"

T_START=$(now)
fact t_start "$T_START"
in_ns "$NS_CL" "$PY" "$STRESS_DIR/ftpload.py" --server4 "$SV4" --server6 "$SV6" \
	--src4 "$CL4" --src6 "$CL6" --nat4 "$CLN4" --nat6 "$CLN6" \
	--sessions "$SESSIONS" --duration 86400 --ramp "$RAMP" \
	--interval "$INTERVAL" --xfer-timeout "$XFER" --ctrl-timeout $((XFER * 2)) \
	--log "$E2E_WORK/load.log" --status "$E2E_WORK/load.status" \
	--pidfile "$E2E_WORK/load.pid" \
	> "$E2E_WORK/load.summary" 2> "$E2E_WORK/load.err" &
LOAD_JOB=$!
# Signals go to python itself, not to the shell that ip netns exec runs in.
wait_until 60 test -s "$E2E_WORK/load.pid" || die "ftpload.py did not start"
LOAD_PID=$(cat "$E2E_WORK/load.pid")
sampler &
SAMPLER_PIDS+=($!)
cpu_sampler &
SAMPLER_PIDS+=($!)

note "opening $SESSIONS sessions over ${RAMP}s"
if wait_every 2 $((RAMP * 3)) all_connected; then
	stress_pass "sessions-open ($SESSIONS after $(awk -v a="$T_START" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }') s)"
else
	stress_fail sessions-open "only $(status_field connected) of $SESSIONS connected"
fi
note "$(status_line)"

DISRUPTIONS=(d_sysctl d_flush d_delete d_reload d_expect_full d_netns)
[ ${#FI_DIRS[@]} -gt 0 ] && DISRUPTIONS+=(d_faults)
if [ -n "${PINHOLE_STRESS_ONLY:-}" ]; then
	DISRUPTIONS=()
	for d in $PINHOLE_STRESS_ONLY; do
		declare -F "d_${d//-/_}" >/dev/null || die "PINHOLE_STRESS_ONLY: no disruption $d"
		DISRUPTIONS+=("d_${d//-/_}")
	done
fi
for ((r = 1; r <= ROUNDS; r++)); do
	for d in "${DISRUPTIONS[@]}"; do
		sleep "$CALM"
		note "$(status_line)"
		"$d"
		sleep "$GRACE"
	done
done
sleep "$CALM"
note "$(status_line)"

# Stop the load: the client QUITs every session.
kill -TERM "$LOAD_PID" 2>/dev/null
wait_until $((XFER * 4)) sh -c "! kill -0 $LOAD_JOB 2>/dev/null" ||
	kill -KILL "$LOAD_PID" 2>/dev/null
kill "${SAMPLER_PIDS[@]}" "$SERVER_PID" 2>/dev/null
SAMPLER_PIDS=()
T_END=$(now)
fact t_end "$T_END"
fact peak_expectations "$(cat "$E2E_WORK/peak" 2>/dev/null || echo 0)"
summary=$(tail -n 1 "$E2E_WORK/load.summary")
fact peak_connected "$(echo "$summary" | sed -n 's/.*"peak_connected": \([0-9]*\).*/\1/p')"
if [ -s "$E2E_WORK/load.err" ]; then
	note "ftpload.py stderr:"
	sed 's/^/#   /' "$E2E_WORK/load.err" | head -n 20
fi

# Tear down in the order an administrator would, checking each step.
stats_add
in_ns "$NS_FW" nft delete table inet "$E2E_TABLE"
in_ns "$NS_FW" nft delete table inet stress_nat
if mod_unload; then
	stress_pass unload
else
	stress_fail unload "rmmod $MODNAME: refcnt $(cat "/sys/module/$MODNAME/refcnt" 2>/dev/null)"
fi
left=$(expectations "$NS_FW")
if [ "$left" -eq 0 ]; then
	stress_pass expectations-baseline
else
	stress_fail expectations-baseline "$left expectations left on fw after rmmod"
fi
# Every conntrack entry fw ever made must be freeable: after a flush its
# count returns to 0 (a reference leaked by an expectation or by the
# helper would keep an entry counted).
for ns in "$NS_CL" "$NS_SV"; do ns_kill_all "$ns"; done
ct_zero() { in_ns "$NS_FW" conntrack -F >/dev/null 2>&1; [ "$(ct_count "$NS_FW")" -eq 0 ]; }
if wait_until 60 ct_zero; then
	stress_pass conntrack-baseline
else
	stress_fail conntrack-baseline "nf_conntrack_count on fw still $(ct_count "$NS_FW") 60 s after a flush"
fi
for ns in "${E2E_NSES[@]}"; do
	ns_kill_all "$ns"
	ip netns delete "$ns"
done
E2E_NSES=()
echo "$EXPECT_MAX0" > /proc/sys/net/netfilter/nf_conntrack_expect_max

refusals=
for k in "${!STATS[@]}"; do
	case $k in
	refused_*|alloc_failures|dropped|resyncs|nat_*|pinholes_*)
		refusals+="$k=${STATS[$k]} " ;;
	esac
done
fact show_pinhole_counters "$(echo "$refusals" | tr ' ' '\n' | sort | tr '\n' ' ')"
fact show_module_reloads "$RELOADS"
fact show_pinholes_in_killed_netns "$EPH_PINHOLES"
fact show_refused_table_full "$FULL_REFUSED"
if [ ${#FI_DIRS[@]} -gt 0 ]; then
	fact show_injected_faults "$INJECTED logged (ratelimited), $INJ_ALLOC pinholes lost to them, $INJ_REWRITE NAT rewrites failed"
else
	fact show_injected_faults "none: this kernel has no fault injection"
fi

"$PY" "$STRESS_DIR/report.py" "$E2E_WORK" --sessions "$SESSIONS" --grace "$GRACE" |
	tee "$E2E_WORK/report"
p=$(grep -c '^PASS: ' "$E2E_WORK/report")
f=$(grep -c '^FAIL: ' "$E2E_WORK/report")
E2E_PASSED=$((E2E_PASSED + p))
E2E_FAILED=$((E2E_FAILED + f))
if [ -d "${PINHOLE_RESULTS:-}" ]; then
	mkdir -p "$PINHOLE_RESULTS/stress"
	cp "$E2E_WORK"/{report,facts,windows,deleted,load.status} "$PINHOLE_RESULTS/stress/" 2>/dev/null
	gzip -c "$E2E_WORK/load.log" > "$PINHOLE_RESULTS/stress/load.log.gz"
fi
echo "$E2E_PASSED passed, $E2E_FAILED failed"
e2e_finish
}
