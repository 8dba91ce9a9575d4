# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034
#
# A firewall pair for tests/e2e/t_ha.sh, sourced after lib.sh (inside the
# guest). lib.sh's cl - fw - sv line becomes
#
#            c1 -- eth0  fw1  eth1 -- s1
#   cl  br0                               br0  sv
#            c2 -- eth0  fw2  eth1 -- s2
#                   fw1 eth2 -- eth2 fw2   (sync link, 10.99.0.0/30)
#
# cl and sv bridge their two links, so each sees both firewalls on one
# segment, and keep lib.sh's addresses: they route via FWC4/FWC6 and
# FWS4/FWS6, which are now the pair's service addresses (VIPs), held by
# the active firewall only. Each firewall has its own addresses besides
# (.11/::11 fw1, .12/::12 fw2), routes both families, carries lib.sh's
# ruleset (helper attached to port 21, data connections accepted only as
# ct status expected) with one change: a new connection to port 21 must
# begin with a SYN, so that a firewall without the session's state drops
# the rest of an old one (no pickup in the middle).
#
# conntrackd runs in FTFW mode on both, over UDP on the sync link, each
# with its own configuration, lock file and UNIX socket in $E2E_WORK;
# ExpectationSync names pinhole's helper unless HA_EXPSYNC=0.
#
# ha_failover FROM TO: the service addresses move, cl and sv learn their
# new link-layer address (what keepalived's gratuitous ARP / unsolicited NA
# do), and
# TO runs conntrackd's primary-backup.sh "primary" sequence: commit the
# external cache (the replicated sessions, then their pinholes, enter TO's
# kernel), -f, -R, -B. The commit is "-c ct" then "-c expect": conntrackd
# 1.4.7's plain -c commits the sessions but never gets to the pinholes
# (its log then says "ignoring flush command, commit still in progress"
# at the -f that follows).

NS_FW1=fw1
NS_FW2=fw2
E2E_NSES=("$NS_CL" "$NS_FW1" "$NS_FW2" "$NS_SV")
HA_SYNC_NET=10.99.0
HA_CTD=${HA_CTD:-/usr/sbin/conntrackd}
HA_PINHOLE_TIMEOUT=300
HA_EXPSYNC=1
HA_T0=
HA_STEPS=
HA_COMMIT_S=
HA_FAILOVER_S=
HA_FW_ACTIVE=

ha_own4() { # NS SIDE(c|s): the firewall's own address on that side
	local n=11 net=192.0.2
	[ "$1" = "$NS_FW2" ] && n=12
	[ "$2" = s ] && net=198.51.100
	echo "$net.$n"
}

ha_own6() {
	local n=11 net=2001:db8:1
	[ "$1" = "$NS_FW2" ] && n=12
	[ "$2" = s ] && net=2001:db8:2
	echo "$net::$n"
}

ha_sync_addr() { # NS
	[ "$1" = "$NS_FW1" ] && echo "$HA_SYNC_NET.1" || echo "$HA_SYNC_NET.2"
}

ha_peer() { # NS
	[ "$1" = "$NS_FW1" ] && echo "$NS_FW2" || echo "$NS_FW1"
}

# ha_bridge NS ADDR4 ADDR6 GW4 GW6: NS's two links (c1/c2 or s1/s2) in a
# bridge br0 that holds NS's addresses; default routes via the VIPs.
ha_bridge() {
	local ns=$1 p=${1:0:1}
	{
		echo "link set lo up"
		echo "link add br0 type bridge"
		echo "link set ${p}1 master br0"
		echo "link set ${p}2 master br0"
		echo "link set ${p}1 up"
		echo "link set ${p}2 up"
		addr_cmds br0 "$2/24" "$3/64"
		echo "route add default via $4"
		echo "route add default via $5"
	} | ip_batch "$ns"
}

# ha_build: namespaces, links, addresses, routes; fw1 holds the VIPs.
ha_build() {
	local ns
	modprobe bridge 2>/dev/null || true
	for ns in "${E2E_NSES[@]}"; do
		ip netns add "$ns" || die "cannot create namespace $ns"
		sysctl_ns "$ns" net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0 ||
			die "sysctl in $ns failed"
	done
	for ns in "$NS_FW1" "$NS_FW2"; do
		sysctl_ns "$ns" net.ipv4.ip_forward=1 \
			net.ipv6.conf.all.forwarding=1 || die "sysctl in $ns failed"
	done
	link "$NS_CL" c1 "$NS_FW1" eth0
	link "$NS_CL" c2 "$NS_FW2" eth0
	link "$NS_SV" s1 "$NS_FW1" eth1
	link "$NS_SV" s2 "$NS_FW2" eth1
	link "$NS_FW1" eth2 "$NS_FW2" eth2
	for ns in "$NS_FW1" "$NS_FW2"; do
		{
			echo "link set lo up"
			addr_cmds eth0 "$(ha_own4 "$ns" c)/24" "$(ha_own6 "$ns" c)/64"
			addr_cmds eth1 "$(ha_own4 "$ns" s)/24" "$(ha_own6 "$ns" s)/64"
			addr_cmds eth2 "$(ha_sync_addr "$ns")/30"
		} | ip_batch "$ns"
	done
	ha_bridge "$NS_CL" "$CL4" "$CL6" "$FWC4" "$FWC6"
	ha_bridge "$NS_SV" "$SV4" "$SV6" "$FWS4" "$FWS6"
	ha_vips add "$NS_FW1"
	HA_FW_ACTIVE=$NS_FW1
	wait_until 10 pings "$NS_CL" "$SV4" || die "no IPv4 path from cl to sv"
	wait_until 10 pings "$NS_CL" "$SV6" || die "no IPv6 path from cl to sv"
	wait_until 10 pings "$NS_FW1" "$HA_SYNC_NET.2" || die "no sync link"
	# Pinholes live HA_PINHOLE_TIMEOUT seconds instead of 60: under TCG on
	# a loaded machine, replication plus failover took up to 40 s, and a
	# pinhole that expired while the client was paused would fail a case
	# for a reason that is not the failover's.
	for ns in "$NS_FW1" "$NS_FW2"; do
		sysctl_ns "$ns" "net.netfilter.pinhole_ftp.timeout=$HA_PINHOLE_TIMEOUT" ||
			die "cannot set pinhole's timeout in $ns"
	done
	FW_NSES=("$NS_FW1" "$NS_FW2")
	FW_HOOK=forward
	E2E_DATA_FILTERED=both
}

ha_vips() { # add|del NS
	{
		addr_cmds eth0 "$FWC4/24" "$FWC6/64" | grep -v '^link'
		addr_cmds eth1 "$FWS4/24" "$FWS6/64" | grep -v '^link'
	} | if [ "$1" = del ]; then sed 's/^addr add/addr del/; s/ nodad$//'; else cat; fi |
		ip_batch "$2"
}

# ha_ruleset: lib.sh's router ruleset, new control connections by SYN only.
ha_ruleset() {
	fw_ruleset forward "$E2E_HELPER" |
		sed 's/ct state new tcp dport 21 /ct state new tcp flags \& (syn | ack) == syn tcp dport 21 /'
}

ha_fw_load() { # NS
	local f=$E2E_WORK/ruleset.$1.nft
	{
		echo "table inet $E2E_TABLE"
		echo "delete table inet $E2E_TABLE"
		ha_ruleset
	} > "$f"
	grep -q 'flags & (syn | ack) == syn' "$f" || die "ha_ruleset: no SYN rule"
	run_quiet in_ns "$1" nft -f "$f" || die "cannot load the ruleset in $1"
}

# ---------------------------------------------------------------- conntrackd

ha_conf() { echo "$E2E_WORK/conntrackd.$1.conf"; }

# ha_conntrackd_conf NS: FTFW over UDP on the sync link; ExpectationSync
# unless HA_EXPSYNC=0. Connections to and from the firewalls' own
# addresses are not replicated.
ha_conntrackd_conf() {
	local ns=$1 peer expsync=
	peer=$(ha_peer "$ns")
	[ "$HA_EXPSYNC" = 1 ] && expsync="
	Options {
		ExpectationSync {
			pinhole-ftp
		}
	}"
	cat > "$(ha_conf "$ns")" <<EOF
Sync {
	Mode FTFW {
		DisableExternalCache Off
		CommitTimeout 1800
		PurgeTimeout 5
	}
	UDP {
		IPv4_address $(ha_sync_addr "$ns")
		IPv4_Destination_Address $(ha_sync_addr "$peer")
		Port 3780
		Interface eth2
		SndSocketBuffer 1249280
		RcvSocketBuffer 1249280
		Checksum on
	}$expsync
}
General {
	HashSize 8192
	HashLimit 65536
	LogFile $E2E_WORK/conntrackd.$ns.log
	Syslog off
	LockFile $E2E_WORK/conntrackd.$ns.lock
	UNIX {
		Path $E2E_WORK/conntrackd.$ns.ctl
	}
	NetlinkBufferSize 2097152
	NetlinkBufferSizeMaxGrowth 8388608
	Filter From Userspace {
		Protocol Accept {
			TCP
		}
		Address Ignore {
			IPv4_address 127.0.0.1
			IPv6_address ::1
			IPv4_address $FWC4
			IPv4_address $FWS4
			IPv6_address $FWC6
			IPv6_address $FWS6
			IPv4_address $(ha_own4 "$NS_FW1" c)
			IPv4_address $(ha_own4 "$NS_FW1" s)
			IPv4_address $(ha_own4 "$NS_FW2" c)
			IPv4_address $(ha_own4 "$NS_FW2" s)
			IPv6_address $(ha_own6 "$NS_FW1" c)
			IPv6_address $(ha_own6 "$NS_FW1" s)
			IPv6_address $(ha_own6 "$NS_FW2" c)
			IPv6_address $(ha_own6 "$NS_FW2" s)
			IPv4_address $HA_SYNC_NET.0/30
		}
	}
}
EOF
}

ctd() { # NS ARGS...: conntrackd's client mode against NS's daemon
	local ns=$1
	shift
	in_ns "$ns" "$HA_CTD" -C "$(ha_conf "$ns")" "$@"
}

ctd_up() { ctd "$1" -s >/dev/null 2>&1; }

ha_ctd_start() { # NS
	ha_conntrackd_conf "$1"
	rm -f "$E2E_WORK/conntrackd.$1.lock"
	in_ns "$1" "$HA_CTD" -C "$(ha_conf "$1")" -d >> "$E2E_WORK/conntrackd.$1.out" 2>&1 ||
		die "conntrackd does not start in $1: $(tail -n 3 "$E2E_WORK/conntrackd.$1.log" 2>/dev/null)"
	wait_until 20 ctd_up "$1" || die "conntrackd in $1 does not answer"
}

ha_ctd_stop() { # NS
	ctd_up "$1" || return 0
	ctd "$1" -k >/dev/null 2>&1
	wait_until 10 test ! -e "$E2E_WORK/conntrackd.$1.lock" ||
		e2e_log "conntrackd in $1 left its lock file"
}

# ha_reset [exp|noexp|none]: fw1 active again, both kernel tables and
# both daemons' caches empty; conntrackd runs with ExpectationSync (exp,
# the default), without it (noexp), or not at all (none). Daemons already
# running in the wanted mode are flushed, not restarted.
HA_MODE=
ha_reset() {
	local mode=${1:-exp}
	if [ "$mode" != "$HA_MODE" ]; then
		ha_ctd_stop "$NS_FW1"
		ha_ctd_stop "$NS_FW2"
	fi
	ct_flush "$NS_FW1"
	ct_flush "$NS_FW2"
	if [ "$HA_FW_ACTIVE" != "$NS_FW1" ]; then
		ha_vips del "$HA_FW_ACTIVE"
		ha_vips add "$NS_FW1"
		ha_announce "$NS_FW1"
		HA_FW_ACTIVE=$NS_FW1
	fi
	if [ "$mode" = "$HA_MODE" ]; then
		[ "$mode" = none ] && return 0
		ctd "$NS_FW1" -f >/dev/null 2>&1
		ctd "$NS_FW2" -f >/dev/null 2>&1
		return 0
	fi
	HA_MODE=$mode
	[ "$mode" = none ] && return 0
	HA_EXPSYNC=1
	[ "$mode" = noexp ] && HA_EXPSYNC=0
	ha_ctd_start "$NS_FW1"
	ha_ctd_start "$NS_FW2"
}

# ha_announce NS: cl and sv learn that the service addresses are at NS's
# links now, as a gratuitous ARP / unsolicited neighbour advertisement
# from NS would tell them.
ha_announce() {
	local c s
	c=$(ip -n "$1" -br link show eth0 | awk '{ print $3 }')
	s=$(ip -n "$1" -br link show eth1 | awk '{ print $3 }')
	printf 'neigh replace %s lladdr %s dev br0 nud stale\n' \
		"$FWC4" "$c" "$FWC6" "$c" | ip_batch "$NS_CL"
	printf 'neigh replace %s lladdr %s dev br0 nud stale\n' \
		"$FWS4" "$s" "$FWS6" "$s" | ip_batch "$NS_SV"
}

# ha_replicated NS PORT: NS's conntrackd holds, in its external cache, an
# expectation for PORT (the active firewall's pinhole has arrived).
ha_replicated() {
	ctd "$1" -e expect 2>/dev/null | grep -q "dport=$2 "
}

# ha_failover FROM TO: see the header. Sets HA_T0 (when it began),
# HA_FAILOVER_S (seconds it took), HA_COMMIT_S (of which the two commits)
# and HA_STEPS (each step's seconds).
ha_failover() {
	local from=$1 to=$2 t c op
	HA_T0=${EPOCHREALTIME/,/.}
	t=$HA_T0
	HA_STEPS=
	ha_vips del "$from"
	ha_vips add "$to"
	ha_step addresses
	ha_announce "$to"
	HA_FW_ACTIVE=$to
	ha_step announce
	HA_COMMIT_S=0
	if ctd_up "$to"; then
		c=$t
		for op in "-c ct" "-c expect" -f -R -B; do
			# shellcheck disable=SC2086 # op: one or two words
			ctd "$to" $op >> "$E2E_WORK/conntrackd.$to.out" 2>&1 ||
				e2e_log "conntrackd $op in $to failed"
			ha_step "${op// /}"
			[ "$op" != "-c expect" ] || HA_COMMIT_S=$(secs_between "$c" "$t")
		done
	fi
	HA_FAILOVER_S=$(secs_between "$HA_T0" "$t")
}

ha_step() { # NAME: append NAME and the seconds since the last step
	local now=${EPOCHREALTIME/,/.}
	HA_STEPS+="$1 $(secs_between "$t" "$now") "
	t=$now
}

secs_between() { # EPOCH1 EPOCH2
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'
}
