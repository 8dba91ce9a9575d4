# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034,SC2119,SC2120
# (SC2034: variables are for the scenarios; SC2119/SC2120: optional args)
#
# End-to-end test library, sourced by tests/e2e/t_*.sh. It runs INSIDE the
# test guest (scripts/guest-run.sh) as root: it creates network namespaces,
# loads nftables rulesets and starts FTP servers, so it refuses to run
# anywhere PINHOLE_GUEST is not set.
#
# Environment:
#   PINHOLE_HELPER   conntrack helper type the rulesets attach to port 21:
#                    pinhole-ftp (default), ftp (the kernel's stock helper),
#                    or none (no helper at all: a negative control)
#   E2E_KEEP=1       keep the work directory (/tmp/pinhole-e2e.*) on exit
#   E2E_VERBOSE=1    echo each client command and its output (as # lines)
#   E2E_T_READY, E2E_T_XFER, E2E_T_NEG  timeouts in seconds (30, 30, 6) for
#                    a server to listen, a download that must work, one
#                    that must fail
#   E2E_T_GRACE      seconds (3) a download that must fail still gets after
#                    the firewall dropped its data connection's first SYN
# On failure the work files (rulesets, logs, the firewalls' state at each
# FAIL) are copied to $PINHOLE_RESULTS/e2e-<scenario>/ on the host.
#
# Topology: three namespaces in a line, always addressed the same way
#
#     cl  eth0 ---- eth0  fw  eth1 ---- eth0  sv
#     192.0.2.2      192.0.2.1  198.51.100.1  198.51.100.2
#     2001:db8:1::2  2001:db8:1::1  2001:db8:2::1  2001:db8:2::2
#
# fw routes both families. Where the firewall ruleset goes is the topology:
#   topo_router  in fw, forward hook         (a firewall between the hosts)
#   topo_client  in cl, input hook           (the client guards itself)
#   topo_server  in sv, input hook           (the server guards itself)
#   topo_both    in cl and in sv, input hook (both ends guard themselves)
# FW_NSES lists the namespaces holding a ruleset, E2E_DATA_FILTERED which
# data-connection directions the firewalls filter (pasv, active or both).
#
# Reporting: e2e_pass/e2e_fail/e2e_skip print the protocol lines
# "PASS: <suite>/<case>", "FAIL: <suite>/<case>: <why>", "SKIP: ..." and
# e2e_finish exits non-zero when anything failed. The suite is "e2e" for
# the pinhole-ftp helper and "e2e-<helper>" for the others.

if [ "${PINHOLE_GUEST:-}" != 1 ]; then
	echo "lib.sh: refusing to run outside the test guest" \
		"(use scripts/guest-run.sh -- $0)" >&2
	exit 2
fi

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$E2E_DIR/../.." && pwd)

E2E_HELPER=${PINHOLE_HELPER:-pinhole-ftp}
case $E2E_HELPER in
pinhole-ftp) E2E_SUITE=e2e ;;
ftp|none) E2E_SUITE=e2e-$E2E_HELPER ;;
*) echo "lib.sh: PINHOLE_HELPER must be pinhole-ftp, ftp or none" >&2; exit 2 ;;
esac

E2E_FAILED=0
E2E_PASSED=0
E2E_WORK=
E2E_TABLE=pinhole_e2e
# The FTP control port of vsftpd_start, the ruleset and the clients' URLs:
# the helper is attached by the ruleset, so any port works like 21.
E2E_FTP_PORT=21

# Timeouts (seconds) sized for a TCG guest, times PINHOLE_TIMEOUT_SCALE
# (check-debug sets 4: under KASAN a blocked download's client had not yet
# reached its data connection when 6 s were up).
E2E_SCALE=${PINHOLE_TIMEOUT_SCALE:-1}
E2E_T_READY=${E2E_T_READY:-$((30 * E2E_SCALE))}	# a server starts listening
E2E_T_XFER=${E2E_T_XFER:-$((30 * E2E_SCALE))}	# a download that must succeed
E2E_T_NEG=${E2E_T_NEG:-$((6 * E2E_SCALE))}		# a download that must fail
E2E_T_GRACE=${E2E_T_GRACE:-$((3 * E2E_SCALE))}	# a blocked one, after the first drop

NS_CL=cl
NS_FW=fw
NS_SV=sv
E2E_NSES=("$NS_CL" "$NS_FW" "$NS_SV")
FW_NSES=()
FW_HOOK=
E2E_DATA_FILTERED=
E2E_TOPO=
E2E_NET_BUILT=

CL4=192.0.2.2
FWC4=192.0.2.1
FWS4=198.51.100.1
SV4=198.51.100.2
CL6=2001:db8:1::2
FWC6=2001:db8:1::1
FWS6=2001:db8:2::1
SV6=2001:db8:2::2

FTP_FILE=data.bin
FTP_PASV_MIN=40000
FTP_PASV_MAX=40100

# ---------------------------------------------------------------- reporting

# case_time: set E2E_DT to the seconds since the previous report (or
# since the library was sourced).
E2E_T0=${EPOCHREALTIME/,/.}
E2E_DT=
case_time() {
	local now=${EPOCHREALTIME/,/.}
	E2E_DT=$(awk -v a="$E2E_T0" -v b="$now" 'BEGIN { printf "%.1f s", b - a }')
	E2E_T0=$now
}

e2e_pass() { # CASE
	echo "PASS: $E2E_SUITE/$1"
	case_time
	echo "#   $E2E_DT"
	E2E_PASSED=$((E2E_PASSED + 1))
}

e2e_fail() { # CASE WHY...
	local c=$1
	shift
	echo "FAIL: $E2E_SUITE/$c: $*"
	e2e_snapshot "$c" "$*"
	case_time
	echo "#   $E2E_DT"
	E2E_FAILED=$((E2E_FAILED + 1))
}

# e2e_snapshot CASE WHY: record the firewalls' state in $E2E_WORK/state.log.
e2e_snapshot() {
	[ -n "$E2E_WORK" ] && [ -d "$E2E_WORK" ] || return 0
	local ns
	{
		echo "==== $1: $2"
		for ns in "${FW_NSES[@]}"; do
			echo "== $ns: nft list table inet $E2E_TABLE"
			in_ns "$ns" nft list table inet "$E2E_TABLE" 2>&1
			echo "== $ns: conntrack -L"
			in_ns "$ns" conntrack -L -f ipv4 2>&1
			in_ns "$ns" conntrack -L -f ipv6 2>&1
			echo "== $ns: conntrack -L expect"
			fw_expectations "$ns"
		done
	} >> "$E2E_WORK/state.log" 2>&1
}

e2e_skip() { # CASE WHY...
	local c=$1
	shift
	echo "SKIP: $E2E_SUITE/$c: $*"
}

e2e_log() { echo "# $*"; }

# e2e_finish: end a scenario; non-zero when a case failed or none ran.
e2e_finish() {
	if [ "$E2E_FAILED" -gt 0 ]; then
		exit 1
	fi
	if [ "$E2E_PASSED" -eq 0 ]; then
		echo "FAIL: $E2E_SUITE/${E2E_SCENARIO:-scenario}: no case ran"
		exit 1
	fi
	exit 0
}

# ---------------------------------------------------------------- utilities

# wait_until SECONDS CMD...: poll CMD every 0.1 s until it succeeds;
# status 1 when it never did.
wait_until() { wait_every 0.1 "$@"; }

# wait_every STEP SECONDS CMD...: the same, polling every STEP seconds: for
# long waits on a loaded guest, where a poll that forks is not free (on the
# debug kernel under TCG, exec is expensive).
wait_every() {
	local step=$1 deadline=$((SECONDS + $2))
	shift 2
	until "$@"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep "$step"
	done
}

in_ns() { # NS CMD...
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# die WHY: a setup step failed; the scenario cannot go on.
die() {
	e2e_fail "${E2E_SCENARIO:-scenario}/setup" "$*"
	exit 1
}

run_quiet() { # CMD...: run CMD, show its output only when it fails
	local out rc=0
	out=$("$@" 2>&1) || rc=$?
	[ "$rc" -ne 0 ] || return 0
	printf '# %s\n' "\$ $*" >&2
	printf '%s\n' "$out" | sed 's/^/#   /' >&2
	return "$rc"
}

e2e_init() { # SCENARIO: start a scenario; cleanup runs on any exit
	E2E_SCENARIO=$1
	E2E_WORK=$(mktemp -d /tmp/pinhole-e2e.XXXXXX)
	trap e2e_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	local ns
	for ns in "${E2E_NSES[@]}"; do
		if ip netns list | grep -qw "^$ns"; then
			die "network namespace $ns already exists (a previous run leaked it)"
		fi
	done
}

# ------------------------------------------------------------------ cleanup

ns_kill_all() { # NS: kill every process in NS, TERM then KILL
	local ns=$1 pids
	pids=$(ip netns pids "$ns" 2>/dev/null) || return 0
	[ -n "$pids" ] || return 0
	# shellcheck disable=SC2086
	kill -TERM $pids 2>/dev/null || true
	if ! wait_until 5 ns_empty "$ns"; then
		pids=$(ip netns pids "$ns" 2>/dev/null) || return 0
		# shellcheck disable=SC2086
		[ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
		wait_until 5 ns_empty "$ns" ||
			echo "# lib.sh: processes left in $ns: $(ip netns pids "$ns")" >&2
	fi
}

ns_empty() { [ -z "$(ip netns pids "$1" 2>/dev/null)" ]; }

# e2e_save_work RC: after a failure, copy the work directory (logs, rulesets,
# client output; not the served file) to the host's results directory.
e2e_save_work() {
	[ "$1" -ne 0 ] || [ "$E2E_FAILED" -gt 0 ] || return 0
	[ -n "$E2E_WORK" ] && [ -d "${PINHOLE_RESULTS:-}" ] || return 0
	local dest=$PINHOLE_RESULTS/e2e-${E2E_SCENARIO:-scenario}
	mkdir -p "$dest" &&
		find "$E2E_WORK" -maxdepth 1 -type f \( ! -name 'dl.*' -o -name '*.hook' \) \
			-exec cp -t "$dest" {} + &&
		echo "# work files saved in $dest" >&2
}

e2e_cleanup() {
	local rc=$? ns
	set +e
	trap - EXIT INT TERM
	for ns in "${E2E_NSES[@]}"; do
		ip netns list | grep -qw "^$ns" || continue
		ns_kill_all "$ns"
		# Drop the ruleset now, so its helper reference is gone before
		# the namespace's asynchronous teardown.
		in_ns "$ns" nft delete table inet "$E2E_TABLE" 2>/dev/null
		ip netns delete "$ns"
	done
	e2e_save_work "$rc"
	if [ -n "$E2E_WORK" ] && [ "${E2E_KEEP:-0}" != 1 ]; then
		rm -rf "$E2E_WORK"
	elif [ -n "$E2E_WORK" ]; then
		echo "# kept $E2E_WORK" >&2
	fi
	exit "$rc"
}

# ----------------------------------------------------------------- topology

sysctl_ns() { # NS KEY=VALUE...
	local ns=$1
	shift
	in_ns "$ns" sysctl -qw "$@" >/dev/null
}

# link NS1 DEV1 NS2 DEV2: a veth pair between two namespaces (created in
# them, so it inherits their default.accept_dad=0).
link() {
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3" ||
		die "cannot create veth $1:$2 <-> $3:$4"
}

# ip_batch NS: run the ip(8) commands on stdin in NS, in one process
# (batch lines take no options such as -6: families come from addresses).
ip_batch() {
	run_quiet ip -n "$1" -batch - || die "ip configuration of $1 failed"
}

# addr_cmds DEV ADDR/LEN...: ip batch lines giving DEV its addresses.
addr_cmds() {
	local dev=$1 a
	shift
	for a in "$@"; do
		case $a in
		*:*) echo "addr add $a dev $dev nodad" ;;
		*) echo "addr add $a dev $dev" ;;
		esac
	done
	echo "link set $dev up"
}

pings() { # NS ADDR: one ping that answers (busybox: iputils may be absent)
	in_ns "$1" busybox ping -c 1 -W 1 -q "$2" >/dev/null 2>&1
}

# net_build: the three namespaces, links, addresses and routes, no firewall.
net_build() {
	local ns fwd=
	for ns in "${E2E_NSES[@]}"; do
		ip netns add "$ns" || die "cannot create namespace $ns"
		[ "$ns" != "$NS_FW" ] ||
			fwd="net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1"
		# shellcheck disable=SC2086 # $fwd: zero or two words
		sysctl_ns "$ns" net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0 $fwd ||
			die "sysctl in $ns failed"
		fwd=
	done
	link "$NS_CL" eth0 "$NS_FW" eth0
	link "$NS_FW" eth1 "$NS_SV" eth0
	{
		echo "link set lo up"
		addr_cmds eth0 "$CL4/24" "$CL6/64"
		echo "route add default via $FWC4"
		echo "route add default via $FWC6"
	} | ip_batch "$NS_CL"
	{
		echo "link set lo up"
		addr_cmds eth0 "$FWC4/24" "$FWC6/64"
		addr_cmds eth1 "$FWS4/24" "$FWS6/64"
	} | ip_batch "$NS_FW"
	{
		echo "link set lo up"
		addr_cmds eth0 "$SV4/24" "$SV6/64"
		echo "route add default via $FWS4"
		echo "route add default via $FWS6"
	} | ip_batch "$NS_SV"
	wait_until 10 pings "$NS_CL" "$SV4" || die "no IPv4 path from cl to sv"
	wait_until 10 pings "$NS_CL" "$SV6" || die "no IPv6 path from cl to sv"
}

# topo NAME: switch to topology NAME (router, client, server, both). The
# namespaces are built on first use; switching only moves the rulesets
# (and flushes conntrack everywhere).
topo() {
	if [ -n "$E2E_NET_BUILT" ]; then
		fw_clear
	else
		net_build
		E2E_NET_BUILT=1
	fi
	E2E_TOPO=$1
	case $1 in
	router) FW_NSES=("$NS_FW") FW_HOOK=forward E2E_DATA_FILTERED=both ;;
	client) FW_NSES=("$NS_CL") FW_HOOK=input E2E_DATA_FILTERED=active ;;
	server) FW_NSES=("$NS_SV") FW_HOOK=input E2E_DATA_FILTERED=pasv ;;
	both) FW_NSES=("$NS_CL" "$NS_SV") FW_HOOK=input E2E_DATA_FILTERED=both ;;
	*) die "unknown topology $1" ;;
	esac
	fw_load_all
}
topo_router() { topo router; }
topo_client() { topo client; }
topo_server() { topo server; }
topo_both() { topo both; }

# data_filtered MODE: does a firewall of this topology see MODE's data
# connection as a new inbound/forwarded one (so that it needs the helper)?
data_filtered() {
	case $E2E_DATA_FILTERED:$(mode_kind "$1") in
	both:*|pasv:pasv|active:active) return 0 ;;
	esac
	return 1
}

mode_kind() { # MODE -> pasv|active
	case $1 in
	pasv|epsv) echo pasv ;;
	port|eprt) echo active ;;
	*) echo "lib.sh: unknown mode $1" >&2; return 1 ;;
	esac
}

# ----------------------------------------------------------------- firewall

# fw_ruleset HOOK HELPER: the ruleset text. New connections pass only to
# tcp port 21; data connections only as related (expected) ones.
fw_ruleset() {
	local hook=$1 helper=$2
	cat <<EOF
table inet $E2E_TABLE {
	counter ctrl_new { }
	counter data_expected { }
	counter dropped { }
	counter tcp_new_dropped { }
EOF
	if [ "$helper" != none ]; then
		cat <<EOF
	ct helper ftp-helper {
		type "$helper" protocol tcp
	}
	chain helper_pre {
		type filter hook prerouting priority filter; policy accept;
		tcp dport $E2E_FTP_PORT ct helper set "ftp-helper"
	}
	chain helper_out {
		type filter hook output priority filter; policy accept;
		tcp dport $E2E_FTP_PORT ct helper set "ftp-helper"
	}
EOF
	fi
	cat <<EOF
	chain filter {
		type filter hook $hook priority filter; policy drop;
		iif lo accept
		icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept
		ct state related ct status expected counter name data_expected accept
		ct state established,related accept
		ct state new tcp dport $E2E_FTP_PORT counter name ctrl_new accept
		ct state new meta l4proto tcp counter name tcp_new_dropped drop
		counter name dropped drop
	}
}
EOF
}

# fw_load NS HOOK [HELPER]: (re)load the ruleset in NS, flush conntrack.
fw_load() {
	local ns=$1 hook=$2 helper=${3:-$E2E_HELPER} f
	f=$E2E_WORK/ruleset.$ns.nft
	{
		# replace the table atomically (it may not exist yet)
		echo "table inet $E2E_TABLE"
		echo "delete table inet $E2E_TABLE"
		fw_ruleset "$hook" "$helper"
	} > "$f"
	run_quiet in_ns "$ns" nft -f "$f" ||
		die "cannot load the ruleset in $ns (helper $helper)"
	ct_flush "$ns"
}

# ct_flush NS: no conntrack entries and no expectations left in NS.
ct_flush() {
	in_ns "$1" /bin/sh -c 'conntrack -F; conntrack -F expect' >/dev/null 2>&1 ||
		true
}

# fw_clear: no ruleset anywhere, conntrack flushed everywhere.
fw_clear() {
	local ns
	for ns in "${E2E_NSES[@]}"; do
		in_ns "$ns" nft delete table inet "$E2E_TABLE" 2>/dev/null || true
		ct_flush "$ns"
	done
}

# fw_load_all [HELPER]: load the topology's ruleset everywhere it belongs.
fw_load_all() {
	local ns
	for ns in "${FW_NSES[@]}"; do
		fw_load "$ns" "$FW_HOOK" "${1:-$E2E_HELPER}"
	done
}

# fw_counter NS NAME: packets counted by the named counter.
fw_counter() {
	in_ns "$1" nft list counter inet "$E2E_TABLE" "$2" |
		awk '$1 == "packets" { print $2; exit }'
}

# fw_counter_sum NAME: the named counter summed over all firewalls.
fw_counter_sum() {
	local ns n sum=0
	for ns in "${FW_NSES[@]}"; do
		n=$(fw_counter "$ns" "$1") || return 1
		sum=$((sum + ${n:-0}))
	done
	echo "$sum"
}

# fw_snap: set E2E_CNT[NAME] to each named counter's packets summed over
# the topology's firewalls (one nft call per firewall).
declare -gA E2E_CNT=()
fw_snap() {
	local ns name n
	E2E_CNT=()
	for ns in "${FW_NSES[@]}"; do
		while read -r name n; do
			E2E_CNT[$name]=$((${E2E_CNT[$name]:-0} + n))
		done < <(in_ns "$ns" nft list counters table inet "$E2E_TABLE" |
			awk '$1 == "counter" { c = $2 } $1 == "packets" { print c, $2 }')
	done
}

# fw_expectations NS: one expectation per line, both families
# (conntrack -L expect alone lists IPv4 only).
fw_expectations() {
	in_ns "$1" conntrack -L expect -f ipv4 2>/dev/null
	in_ns "$1" conntrack -L expect -f ipv6 2>/dev/null
}

# ------------------------------------------------------------------ servers

# ftp_root: the anonymous root with the test file; sets FTP_ROOT, FTP_SUM.
ftp_root() {
	FTP_ROOT=$E2E_WORK/ftproot
	mkdir -p "$FTP_ROOT"
	chmod 0755 "$FTP_ROOT"
	head -c 262144 /dev/urandom > "$FTP_ROOT/$FTP_FILE" ||
		die "cannot create the test file"
	chmod 0644 "$FTP_ROOT/$FTP_FILE"
	FTP_SUM=$(sha256sum < "$FTP_ROOT/$FTP_FILE" | cut -d' ' -f1)
}

listening() { # NS PORT
	in_ns "$1" ss -ltnH "sport = :$2" | grep -q .
}

wait_listen() { # NS PORT WHAT
	wait_until "$E2E_T_READY" listening "$1" "$2" ||
		die "$3 does not listen on port $2 in $1 after ${E2E_T_READY}s" \
			"($(tail -n 3 "$E2E_WORK/$3.log" 2>/dev/null | tr '\n' ' '))"
}

# server_stop: kill whatever runs in the server namespace.
server_stop() {
	ns_kill_all "$NS_SV"
}

# vsftpd_start [LOG [SETTING...]]: anonymous download server on port 21,
# dual stack, logging to LOG (default $E2E_WORK/vsftpd.xfer.log); each
# SETTING ("key=value") is added to its configuration.
vsftpd_start() {
	[ -n "${FTP_ROOT:-}" ] || ftp_root
	local conf=$E2E_WORK/vsftpd.conf log=${1:-$E2E_WORK/vsftpd.xfer.log}
	shift $(($# ? 1 : 0))
	mkdir -p /run/vsftpd/empty
	cat > "$conf" <<EOF
listen=NO
listen_ipv6=YES
listen_port=$E2E_FTP_PORT
background=NO
anonymous_enable=YES
no_anon_password=YES
anon_root=$FTP_ROOT
local_enable=NO
write_enable=NO
seccomp_sandbox=NO
pasv_enable=YES
pasv_min_port=$FTP_PASV_MIN
pasv_max_port=$FTP_PASV_MAX
port_enable=YES
connect_from_port_20=YES
secure_chroot_dir=/run/vsftpd/empty
xferlog_enable=YES
vsftpd_log_file=$log
dual_log_enable=NO
syslog_enable=NO
use_localtime=NO
data_connection_timeout=30
connect_timeout=10
accept_timeout=10
EOF
	[ $# -eq 0 ] || printf '%s\n' "$@" >> "$conf"
	in_ns "$NS_SV" /usr/sbin/vsftpd "$conf" > "$E2E_WORK/vsftpd.log" 2>&1 &
	wait_listen "$NS_SV" "$E2E_FTP_PORT" vsftpd
}

# pyftpdlib_start: anonymous download server on port 21, dual stack.
pyftpdlib_start() {
	[ -n "${FTP_ROOT:-}" ] || ftp_root
	in_ns "$NS_SV" /usr/bin/python3 -m pyftpdlib -i :: -p 21 \
		-d "$FTP_ROOT" -r "$FTP_PASV_MIN-$FTP_PASV_MAX" \
		> "$E2E_WORK/pyftpdlib.log" 2>&1 &
	wait_listen "$NS_SV" 21 pyftpdlib
}

# ------------------------------------------------------------------ clients

# url_host FAMILY: the server address as an URL host part.
url_host() {
	local port=
	[ "$E2E_FTP_PORT" = 21 ] || port=:$E2E_FTP_PORT
	case $1 in
	4) echo "$SV4$port" ;;
	6) echo "[$SV6]$port" ;;
	*) echo "lib.sh: family must be 4 or 6, not $1" >&2; return 1 ;;
	esac
}

sv_addr() { # FAMILY
	case $1 in 4) echo "$SV4" ;; 6) echo "$SV6" ;; esac
}

# client_out NAME: a fresh path for a downloaded file.
client_out() {
	local f=$E2E_WORK/dl.${1//\//_}
	rm -f "$f"
	echo "$f"
}

# curl_get MODE FAMILY OUT [TIMEOUT]: download the test file with curl.
# MODE: epsv, pasv (PASV only), eprt, port (PORT only).
# E2E_CURL_OPTS: more curl options, e.g. "-v --trace-time".
curl_get() {
	local mode=$1 fam=$2 out=$3 t=${4:-$E2E_T_XFER} opts=()
	case $mode in
	epsv) opts=(--ftp-pasv) ;;
	pasv) opts=(--ftp-pasv --disable-epsv) ;;
	eprt) opts=(--ftp-port -) ;;
	port) opts=(--ftp-port - --disable-eprt) ;;
	*) echo "curl_get: unknown mode $mode" >&2; return 2 ;;
	esac
	# shellcheck disable=SC2086 # E2E_CURL_OPTS is a word list
	client_run "$t" curl -sS ${E2E_CURL_OPTS:-} -"$fam" "${opts[@]}" \
		--connect-timeout "$t" --max-time "$t" \
		-o "$out" "ftp://$(url_host "$fam")/$FTP_FILE"
}

# lftp_get MODE FAMILY OUT [TIMEOUT]: download the test file with lftp.
# MODE: epsv, pasv, port (lftp sends EPRT for IPv6 and PORT for IPv4).
# E2E_LFTP_SET: more lftp settings, e.g. "set ftp:sync-mode off;".
lftp_get() {
	local mode=$1 fam=$2 out=$3 t=${4:-$E2E_T_XFER} set
	set="${E2E_LFTP_SET:-} set net:timeout $t; set net:max-retries 1;"
	set+=" set net:reconnect-interval-base 1; set cmd:fail-exit yes;"
	set+=" set xfer:clobber yes; set dns:order inet$([ "$fam" = 6 ] && echo 6);"
	case $mode in
	epsv) set+=" set ftp:passive-mode yes; set ftp:prefer-epsv yes;" ;;
	pasv) set+=" set ftp:passive-mode yes; set ftp:prefer-epsv no;" ;;
	port|eprt) set+=" set ftp:passive-mode no;" ;;
	*) echo "lftp_get: unknown mode $mode" >&2; return 2 ;;
	esac
	client_run "$t" lftp -c "$set open ftp://$(url_host "$fam"); get $FTP_FILE -o $out"
}

# ftplib_get MODE FAMILY OUT [TIMEOUT [HOOK]]: download the test file with
# tests/e2e/ftp_client.py (python3 ftplib). HOOK, a shell command, runs
# after the server accepted the data port and before the data connection
# opens, with FTP_DATA_HOST/FTP_DATA_PORT set; its output goes to
# OUT.hook. MODE: epsv, pasv, eprt, port.
ftplib_get() {
	local mode=$1 fam=$2 out=$3 t=${4:-$E2E_T_XFER} hook=${5:-}
	local args=(--host "$(sv_addr "$fam")" --mode "$mode" --file "$FTP_FILE"
		--out "$out" --timeout "$t")
	[ -z "$hook" ] || args+=(--hook "$hook" --hook-out "$out.hook")
	client_run "$t" /usr/bin/python3 "$E2E_DIR/ftp_client.py" "${args[@]}"
}

# client_run TIMEOUT CMD...: run a client in cl, bounded by TIMEOUT plus
# 5 s per E2E_SCALE: a client's own timeout starts after it has started
# (python) and logged in, which on the debug kernel took more than 5 s
# (check-debug, fidelity/enforce-drops/ftplib-eprt-v6 killed at 39 s with
# its own 32 s timeout still running); its output goes to
# $E2E_WORK/client.log (shown with E2E_VERBOSE=1).
client_run() {
	local t=$1
	shift
	[ "${E2E_VERBOSE:-0}" != 1 ] || echo "# cl\$ $*" >&2
	local rc=0
	timeout -k 2 $((t + 5 * E2E_SCALE)) ip netns exec "$NS_CL" "$@" \
		> "$E2E_WORK/client.log" 2>&1 || rc=$?
	{ echo "== cl\$ $* (exit $rc)"; cat "$E2E_WORK/client.log"; } \
		>> "$E2E_WORK/clients.log"
	[ "${E2E_VERBOSE:-0}" != 1 ] || sed 's/^/#   /' "$E2E_WORK/client.log" >&2
	return "$rc"
}

# same_file OUT: the download equals the served file.
same_file() {
	[ -s "$1" ] && [ "$(sha256sum < "$1" | cut -d' ' -f1)" = "$FTP_SUM" ]
}

# client_error: the last client's output on one line, for FAIL messages.
# pin_counter NAME: pinhole's counter NAME in fw (0 when it cannot be read).
pin_counter() {
	# shellcheck disable=SC2016 # awk's own $ fields
	in_ns "$NS_FW" awk -v n="$1" '$1 == n { print $2; f = 1 } END { if (!f) print 0 }' \
		/proc/net/pinhole_ftp 2>/dev/null || echo 0
}

# client_sum [LOG]: the sha256 a client reported as "received: N bytes
# sha256=X" (nat_ftp.py), in LOG (default the last client's output).
client_sum() {
	sed -n 's/^received: [0-9]* bytes sha256=//p' "${1:-$E2E_WORK/client.log}"
}

client_error() {
	tail -n 3 "$E2E_WORK/client.log" 2>/dev/null | tr '\n' ' ' | cut -c1-200
}

# ---------------------------------------------------------------- checks

# expect_download CASE CLIENT MODE FAMILY: the download must work, the file
# must match, and when a firewall filters this mode's data connection it
# must have let it in as an expected connection.
expect_download() {
	local case=$1 client=$2 mode=$3 fam=$4 out exp0 drop0 exp1 drop1
	out=$(client_out "$case")
	fw_snap
	exp0=${E2E_CNT[data_expected]:-0} drop0=${E2E_CNT[dropped]:-0}
	if ! "${client}_get" "$mode" "$fam" "$out"; then
		e2e_fail "$case" "$client $mode IPv$fam download failed: $(client_error)"
		return 1
	fi
	if ! same_file "$out"; then
		e2e_fail "$case" "$client $mode IPv$fam: downloaded file differs"
		return 1
	fi
	fw_snap
	exp1=${E2E_CNT[data_expected]:-0} drop1=${E2E_CNT[dropped]:-0}
	[ "$drop1" -eq "$drop0" ] ||
		e2e_log "$case: the firewall dropped $((drop1 - drop0)) packets"
	if data_filtered "$mode" && [ "$exp1" -le "$exp0" ]; then
		e2e_fail "$case" "download worked but no expected data connection" \
			"was counted (data_expected $exp0 -> $exp1)"
		return 1
	fi
	e2e_pass "$case"
}

# stop_after_drop PID BEFORE: until PID exits, watch fw's tcp_new_dropped;
# once it is past BEFORE (a data connection's SYN was dropped), give PID
# E2E_T_GRACE seconds more (blocked_get()'s rule), then kill it. Does not
# reap PID. DROP_SEEN_AFTER: seconds from the call to the first drop, or
# empty when none was seen.
stop_after_drop() {
	local pid=$1 before=$2 t0=$SECONDS seen=''
	while kill -0 "$pid" 2>/dev/null; do
		if [ -z "$seen" ]; then
			[ "$(fw_counter "$NS_FW" tcp_new_dropped)" -le "$before" ] ||
				seen=$SECONDS
		elif [ $((SECONDS - seen)) -ge "$E2E_T_GRACE" ]; then
			kill "$pid" 2>/dev/null
			break
		fi
		sleep 0.2
	done
	DROP_SEEN_AFTER=${seen:+$((seen - t0))}
}

# blocked_get CLIENT MODE FAMILY OUT BEFORE: CLIENT's download (within
# E2E_T_NEG) as a negative control that need not wait for the client's
# timeout: once the firewalls' tcp_new_dropped counter is past BEFORE (the
# data connection's SYN was dropped), the client has E2E_T_GRACE seconds
# more (its first SYN retransmission comes after 1 s: a pinhole that opens
# late still shows) and is then stopped. The client's exit status.
blocked_get() {
	local client=$1 mode=$2 fam=$3 out=$4 before=$5 pid rc=0 seen='' t0=$SECONDS
	"${client}_get" "$mode" "$fam" "$out" "$E2E_T_NEG" &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		if [ -z "$seen" ]; then
			fw_snap
			[ "${E2E_CNT[tcp_new_dropped]:-0}" -le "$before" ] || seen=$SECONDS
		elif [ $((SECONDS - seen)) -ge "$E2E_T_GRACE" ]; then
			# SIGINT to client_run's timeout(1), which passes it on to
			# the client (SIGTERM would add bash's "Terminated" line)
			pkill -INT -P "$pid" timeout 2>/dev/null
			break
		fi
		sleep 0.2
	done
	wait "$pid" || rc=$?
	if [ -n "$seen" ]; then
		seen="first drop after $((seen - t0)) s"
	else
		seen="no drop seen"
	fi
	e2e_log "$client $mode IPv$fam: exit $rc after $((SECONDS - t0)) s, $seen"
	return "$rc"
}

# expect_blocked CASE CLIENT MODE FAMILY: the download must fail, and the
# firewall's counter of dropped new TCP connections must show why.
expect_blocked() {
	local case=$1 client=$2 mode=$3 fam=$4 out before after
	out=$(client_out "$case")
	fw_snap
	before=${E2E_CNT[tcp_new_dropped]:-0}
	if blocked_get "$client" "$mode" "$fam" "$out" "$before" && same_file "$out"; then
		e2e_fail "$case" "$client $mode IPv$fam download succeeded" \
			"although the firewall should block its data connection"
		return 1
	fi
	fw_snap
	after=${E2E_CNT[tcp_new_dropped]:-0}
	if [ "$after" -le "$before" ]; then
		e2e_fail "$case" "download failed but the firewall dropped no new TCP" \
			"connection (tcp_new_dropped $before -> $after): $(client_error)"
		return 1
	fi
	e2e_pass "$case"
}

# expect_pinhole CASE MODE FAMILY: with ftp_client.py paused between the
# port negotiation and the data connection, every firewall of the topology
# holds an expectation, from our helper, for exactly the data connection:
# from the peer's address to the negotiated address and port. Then the
# download completes.
expect_pinhole() {
	local case=$1 mode=$2 fam=$3 out hook ns port host src exp
	out=$(client_out "$case")
	# shellcheck disable=SC2016 # expanded by the hook's own shell
	hook='echo "port=$FTP_DATA_PORT host=$FTP_DATA_HOST"'
	for ns in "${FW_NSES[@]}"; do
		hook+="; echo '== $ns'"
		hook+="; ip netns exec $ns conntrack -L expect -f ipv4 2>&1"
		hook+="; ip netns exec $ns conntrack -L expect -f ipv6 2>&1"
	done
	if ! ftplib_get "$mode" "$fam" "$out" "$E2E_T_XFER" "$hook"; then
		e2e_fail "$case" "ftplib $mode IPv$fam download failed: $(client_error)"
		return 1
	fi
	same_file "$out" || { e2e_fail "$case" "downloaded file differs"; return 1; }
	read -r port host < <(sed -n 's/^port=\([0-9]*\) host=\(.*\)$/\1 \2/p' "$out.hook")
	[ -n "${port:-}" ] || { e2e_fail "$case" "the hook did not run"; return 1; }
	case $(mode_kind "$mode"):$fam in
	pasv:4) src=$CL4 ;;
	pasv:6) src=$CL6 ;;
	active:4) src=$SV4 ;;
	active:6) src=$SV6 ;;
	esac
	for ns in "${FW_NSES[@]}"; do
		exp=$(sed -n "/^== $ns\$/,/^== /p" "$out.hook")
		if ! grep -qE "^[0-9]+ proto=6 src=$src dst=$host sport=[0-9]+ dport=$port .*helper=$E2E_HELPER( |\$)" <<< "$exp"; then
			e2e_fail "$case" "no expectation $src -> [$host]:$port from helper" \
				"$E2E_HELPER in $ns: $(tr '\n' ' ' <<< "$exp" | cut -c1-400)"
			return 1
		fi
	done
	e2e_pass "$case"
}
