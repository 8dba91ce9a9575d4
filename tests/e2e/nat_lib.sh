# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034
#
# NAT helpers for tests/e2e/t_nat.sh, sourced after lib.sh (inside the
# guest). lib.sh builds cl - fw - sv with routes both ways and the "router"
# filter ruleset in fw; this file adds, in fw, a NAT ruleset (nftables or
# iptables-nft) and takes routes away so that only NAT makes the path work:
#
#   snat  fw masquerades cl out of eth1; sv has no route to cl's networks.
#         The client talks to sv's own address (SV4/SV6).
#   dnat  fw forwards its outside address (FWC4/FWC6) port 21 (E2E_FTP_PORT) to sv; cl has
#         no route to sv's networks. The client talks to FWC4/FWC6.
#   both  both at once: cl and sv know only their own link.
#
# Clients: tests/e2e/nat_ftp.py (PASV/EPSV/PORT/EPRT exactly as asked, the
# 227 address honoured). The server: vsftpd with log_ftp_protocol=YES, so
# the PORT/EPRT text as it reached the server is in $NAT_SRVLOG.

# Regular expressions for the announcing text as the other end sees it.
RE_PORT_OUT='^PORT 198,51,100,1,[0-9]+,[0-9]+$'	# cl masqueraded
RE_PORT_IN='^PORT 192,0,2,2,[0-9]+,[0-9]+$'	# cl as it is
RE_EPRT4_OUT='^EPRT \|1\|198\.51\.100\.1\|[0-9]+\|$'
RE_EPRT6_OUT='^EPRT \|2\|2001:db8:2::1\|[0-9]+\|$'
RE_EPRT6_IN='^EPRT \|2\|2001:db8:1::2\|[0-9]+\|$'
RE_227_OUT='^227 .*\(192,0,2,1,[0-9]+,[0-9]+\)'	# sv port-forwarded
RE_227_IN='^227 .*\(198,51,100,2,[0-9]+,[0-9]+\)'	# sv as it is
RE_229='^229 .*\(\|\|\|[0-9]+\|\)'

NAT_TABLE4=pinhole_nat4
NAT_TABLE6=pinhole_nat6
NAT_SCEN=
NAT_V6=0		# 1 when the IPv6 NAT rules of the scenario loaded
NAT_V6_WHY=

# nat_vsftpd_start [SETTING...]: lib.sh's vsftpd, logging the FTP protocol
# to $NAT_SRVLOG, with more settings ("key=value").
nat_vsftpd_start() {
	NAT_SRVLOG=$E2E_WORK/vsftpd.proto.log
	: > "$NAT_SRVLOG"
	vsftpd_start "$NAT_SRVLOG" xferlog_std_format=NO log_ftp_protocol=YES "$@"
}

# nat_routes SCEN: default routes in cl and sv as the scenario allows.
nat_routes() {
	local cl=1 sv=1
	case $1 in
	snat) sv=0 ;;
	dnat) cl=0 ;;
	both) cl=0 sv=0 ;;
	none) ;;
	*) die "nat_routes: unknown scenario $1" ;;
	esac
	nat_route "$NS_CL" "$cl" "$FWC4" "$FWC6"
	nat_route "$NS_SV" "$sv" "$FWS4" "$FWS6"
}

nat_route() { # NS ON GW4 GW6
	in_ns "$1" ip route del default 2>/dev/null || true
	in_ns "$1" ip -6 route del default 2>/dev/null || true
	[ "$2" = 1 ] || return 0
	in_ns "$1" ip route add default via "$3" || die "route $1 v4"
	in_ns "$1" ip -6 route add default via "$4" || die "route $1 v6"
}

# nat_clear: no NAT in fw (nft tables and iptables-nft rules), no routes
# taken away, conntrack flushed.
nat_clear() {
	in_ns "$NS_FW" nft delete table ip "$NAT_TABLE4" 2>/dev/null || true
	in_ns "$NS_FW" nft delete table ip6 "$NAT_TABLE6" 2>/dev/null || true
	in_ns "$NS_FW" iptables -t nat -F 2>/dev/null || true
	in_ns "$NS_FW" ip6tables -t nat -F 2>/dev/null || true
	nat_routes none
	in_ns "$NS_FW" conntrack -F >/dev/null 2>&1 || true
	in_ns "$NS_FW" conntrack -F expect >/dev/null 2>&1 || true
	NAT_SCEN=
	NAT_V6=0
}

# nat_rules_nft SCEN FAMILY: the nftables NAT table for one family.
nat_rules_nft() {
	local scen=$1 fam=$2 ip=ip tbl=$NAT_TABLE4 fwc=$FWC4 sv=$SV4
	if [ "$fam" = 6 ]; then
		ip=ip6 tbl=$NAT_TABLE6 fwc=$FWC6 sv=$SV6
	fi
	echo "table $ip $tbl {"
	echo "	chain pre {"
	echo "		type nat hook prerouting priority dstnat; policy accept;"
	case $scen in dnat|both)
		echo "		iifname \"eth0\" $ip daddr $fwc tcp dport $E2E_FTP_PORT dnat to $sv"
	esac
	echo "	}"
	echo "	chain post {"
	echo "		type nat hook postrouting priority srcnat; policy accept;"
	case $scen in snat|both)
		echo "		oifname \"eth1\" masquerade"
	esac
	echo "	}"
	echo "}"
}

# nat_load SCEN [nft|iptables]: NAT rules and routes for the scenario. The
# IPv4 rules must load; NAT_V6=1 when the IPv6 ones did too (else NAT_V6_WHY).
nat_load() {
	local scen=$1 tool=${2:-nft} f out
	nat_clear
	NAT_SCEN=$scen
	if [ "$tool" = nft ]; then
		f=$E2E_WORK/nat.$scen.4.nft
		nat_rules_nft "$scen" 4 > "$f"
		run_quiet in_ns "$NS_FW" nft -f "$f" || die "cannot load $f"
		f=$E2E_WORK/nat.$scen.6.nft
		nat_rules_nft "$scen" 6 > "$f"
		if out=$(in_ns "$NS_FW" nft -f "$f" 2>&1); then
			NAT_V6=1
		else
			NAT_V6_WHY="nft ip6 nat table does not load: $(tr '\n' ' ' <<< "$out" | cut -c1-200)"
		fi
	else
		nat_ipt iptables "$scen" "$FWC4" "$SV4" || die "cannot load the iptables NAT rules"
		if out=$(nat_ipt ip6tables "$scen" "$FWC6" "$SV6" 2>&1); then
			NAT_V6=1
		else
			NAT_V6_WHY="ip6tables -t nat failed: $(tr '\n' ' ' <<< "$out" | cut -c1-200)"
		fi
	fi
	nat_routes "$scen"
	in_ns "$NS_FW" conntrack -F >/dev/null 2>&1 || true
	in_ns "$NS_FW" conntrack -F expect >/dev/null 2>&1 || true
}

nat_ipt() { # IPTABLES SCEN FWC SV
	local ipt=$1 scen=$2
	case $scen in dnat|both)
		in_ns "$NS_FW" "$ipt" -t nat -A PREROUTING -i eth0 -d "$3" -p tcp \
			--dport "$E2E_FTP_PORT" -j DNAT --to-destination "$4" || return 1
	esac
	case $scen in snat|both)
		in_ns "$NS_FW" "$ipt" -t nat -A POSTROUTING -o eth1 -j MASQUERADE || return 1
	esac
}

# nat_host FAMILY: the address the client dials in the current scenario.
nat_host() {
	case $NAT_SCEN:$1 in
	snat:4) echo "$SV4" ;;
	snat:6) echo "$SV6" ;;
	*:4) echo "$FWC4" ;;
	*:6) echo "$FWC6" ;;
	esac
}

srvlog_lines() { wc -l < "$NAT_SRVLOG"; }

# srvlog_cmds FROM VERB: the VERB commands vsftpd logged after line FROM,
# one per line as received ("PORT 1,2,3,4,5,6").
srvlog_cmds() {
	tail -n +"$(($1 + 1))" "$NAT_SRVLOG" |
		sed -n "s/.*FTP command: Client \"[^\"]*\", \"\\($2 [^\"]*\\)\".*/\\1/p"
}

# nat_run MODE FAMILY TIMEOUT [ARGS...]: nat_ftp.py in cl; its output in
# $E2E_WORK/client.log. NAT_ANNOUNCE: the address its PORT/EPRT names.
nat_run() {
	local mode=$1 fam=$2 t=$3
	shift 3
	client_run "$t" /usr/bin/python3 "$E2E_DIR/nat_ftp.py" \
		--host "$(nat_host "$fam")" --port "$E2E_FTP_PORT" --mode "$mode" --file "$FTP_FILE" \
		--timeout "$t" ${NAT_ANNOUNCE:+--announce "$NAT_ANNOUNCE"} "$@"
}

client_line() { # PREFIX: the client's first "PREFIX: ..." line, sans prefix
	sed -n "s/^$1: //p" "$E2E_WORK/client.log" | head -n 1
}

# announced_ok CASE MODE REGEX FROM: the announcing text, as it reached the
# other end, matches REGEX (ERE). For pasv/epsv the reply the client got,
# for port/eprt the command vsftpd logged after line FROM of its log.
announced_ok() {
	local case=$1 mode=$2 re=$3 from=$4 got
	case $mode in
	pasv|epsv) got=$(client_line reply) ;;
	port) got=$(srvlog_cmds "$from" PORT) ;;
	eprt) got=$(srvlog_cmds "$from" EPRT) ;;
	esac
	if ! grep -qE -- "$re" <<< "$got"; then
		e2e_fail "$case" "the other end saw '$(tr '\n' '|' <<< "$got")', expected /$re/" \
			"(client sent '$(client_line sent)')"
		return 1
	fi
}

# nat_download_ok CASE MODE FAMILY REGEX: the download works with the
# helper, the file matches, the data connection was an expected one, a
# pinhole was opened, nothing counted as unrewritable, and the announcing
# text reached the other end matching REGEX. Fails CASE or returns 0.
nat_download_ok() {
	local case=$1 mode=$2 fam=$3 re=$4 from exp0 exp1 op0 op1 un0 un1 sum
	from=$(srvlog_lines)
	exp0=$(fw_counter_sum data_expected)
	op0=$(pin_counter pinholes_opened)
	un0=$(pin_counter nat_unrewritable)
	if ! nat_run "$mode" "$fam" "$E2E_T_XFER"; then
		e2e_fail "$case" "$mode IPv$fam download failed: $(client_error)"
		return 1
	fi
	sum=$(client_sum)
	if [ "$sum" != "$FTP_SUM" ]; then
		e2e_fail "$case" "downloaded file differs ($(client_line received))"
		return 1
	fi
	announced_ok "$case" "$mode" "$re" "$from" || return 1
	exp1=$(fw_counter_sum data_expected)
	op1=$(pin_counter pinholes_opened)
	un1=$(pin_counter nat_unrewritable)
	if [ "$exp1" -le "$exp0" ]; then
		e2e_fail "$case" "no expected data connection counted ($exp0 -> $exp1)"
		return 1
	fi
	if [ "$op1" -le "$op0" ] || [ "$un1" != "$un0" ]; then
		e2e_fail "$case" "counters: pinholes_opened $op0 -> $op1," \
			"nat_unrewritable $un0 -> $un1"
		return 1
	fi
}

nat_expect_ok() { # CASE MODE FAMILY REGEX: see nat_download_ok
	nat_download_ok "$@" && e2e_pass "$1"
}

NAT_LOSE_TABLE=pinhole_lose

# nat_lose_once NS FAMILY SPORT|DPORT WORD: in NS, drop the first packet
# from each source whose TCP payload starts with the 4 bytes WORD on the
# FTP control connection (tcp sport or dport 21), before conntrack; count
# the drops in the counter "lost".
nat_lose_once() {
	local ns=$1 fam=$2 port=$3 hex ip=ip type=ipv4_addr
	hex=0x$(printf '%s' "$4" | od -An -tx1 | tr -d ' \n')
	[ "$fam" = 6 ] && ip=ip6 type=ipv6_addr
	in_ns "$ns" nft -f - <<EOF
table inet $NAT_LOSE_TABLE {
	counter lost { }
	set seen { type $type; flags dynamic; }
	chain pre {
		type filter hook prerouting priority -300; policy accept;
		tcp $port 21 @ih,0,32 $hex $ip saddr != @seen add @seen { $ip saddr } counter name "lost" drop
	}
}
EOF
}

nat_lost_count() { # NS: packets nat_lose_once dropped
	in_ns "$1" nft list counter inet "$NAT_LOSE_TABLE" lost 2>/dev/null |
		sed -n 's/.*packets \([0-9]*\).*/\1/p'
}

# nat_lost CASE MODE FAMILY REGEX: the rewritten announcing line is lost
# once on its way to the other end, so the announcer retransmits it. The
# retransmission must be rewritten exactly like the first transmission
# (seqadj already counts that rewrite's length change): nat_download_ok
# holds, exactly one packet was lost, and nat_rewritten_again went up.
nat_lost() {
	local case=$1 mode=$2 fam=$3 re=$4 ns port word a0 a1 lost rc=0
	case $mode in
	port|eprt) ns=$NS_SV port=dport word=${mode^^} ;;
	pasv) ns=$NS_CL port=sport word="227 " ;;
	epsv) ns=$NS_CL port=sport word="229 " ;;
	esac
	if ! nat_lose_once "$ns" "$fam" "$port" "$word"; then
		e2e_fail "$case" "cannot load the drop-once table in $ns"
		return 1
	fi
	a0=$(pin_counter nat_rewritten_again)
	nat_download_ok "$@" || rc=1
	a1=$(pin_counter nat_rewritten_again)
	lost=$(nat_lost_count "$ns")
	in_ns "$ns" nft delete table inet "$NAT_LOSE_TABLE"
	[ "$rc" = 0 ] || return 1
	if [ "$lost" != 1 ] || [ "$a1" -le "$a0" ]; then
		e2e_fail "$case" "lost $lost packets (want 1), nat_rewritten_again $a0 -> $a1"
		return 1
	fi
	e2e_log "$case: '$(client_line sent)' lost once, retransmission rewritten" \
		"(nat_rewritten_again $a0 -> $a1)"
	e2e_pass "$case"
}

# nat_expect_fail CASE MODE FAMILY [REGEX]: with no helper attached the
# download fails, no expected data connection passes fw, and (when REGEX is
# given) the announcing text reached the other end untranslated, matching
# REGEX.
nat_expect_fail() {
	local case=$1 mode=$2 fam=$3 re=${4:-} from exp0 exp1 sum
	from=$(srvlog_lines)
	exp0=$(fw_counter_sum data_expected)
	if nat_run "$mode" "$fam" "$E2E_T_NEG"; then
		sum=$(client_sum)
		if [ "$sum" = "$FTP_SUM" ]; then
			e2e_fail "$case" "$mode IPv$fam download succeeded without the helper"
			return 1
		fi
	fi
	exp1=$(fw_counter_sum data_expected)
	if [ "$exp1" != "$exp0" ]; then
		e2e_fail "$case" "an expected connection passed without the helper" \
			"($exp0 -> $exp1)"
		return 1
	fi
	if [ -n "$re" ]; then
		announced_ok "$case" "$mode" "$re" "$from" || return 1
	fi
	e2e_log "$case: failed as it must: $(client_error)"
	e2e_pass "$case"
}

# nat_curl CASE MODE FAMILY REGEX: curl -v downloads through the NAT; its
# verbose output must show REGEX (ERE), e.g. the 227 it received.
nat_curl() {
	local case=$1 mode=$2 fam=$3 re=$4 out opts=() host
	out=$(client_out "$case")
	case $mode in
	pasv) opts=(--ftp-pasv --disable-epsv) ;;
	epsv) opts=(--ftp-pasv) ;;
	port) opts=(--ftp-port - --disable-eprt) ;;
	eprt) opts=(--ftp-port -) ;;
	esac
	host=$(nat_host "$fam")
	[ "$fam" = 4 ] || host="[$host]"
	[ "$E2E_FTP_PORT" = 21 ] || host+=":$E2E_FTP_PORT"
	if ! client_run "$E2E_T_XFER" curl -sS -v -"$fam" "${opts[@]}" \
		--max-time "$E2E_T_XFER" -o "$out" "ftp://$host/$FTP_FILE"; then
		e2e_fail "$case" "curl $mode IPv$fam failed: $(client_error)"
		return 1
	fi
	same_file "$out" || { e2e_fail "$case" "curl: downloaded file differs"; return 1; }
	if ! grep -qE -- "$re" "$E2E_WORK/client.log"; then
		e2e_fail "$case" "curl -v shows no /$re/: $(grep -E '^[<>] (PORT|EPRT|PASV|EPSV|227|229)' "$E2E_WORK/client.log" | tr '\n' '|')"
		return 1
	fi
	e2e_pass "$case"
}

# nat_split CASE MODE FAMILY RE_REWRITTEN: a PORT/EPRT split across two
# segments on a NATed session. vsftpd must log exactly one such command,
# either byte-identical to what the client sent (then nat_unrewritable went
# up by exactly 1 and no pinhole opened) or correctly rewritten (matching
# RE_REWRITTEN, then the download through it works); NOOP then gets 200 and
# the control connection still carries a download.
nat_split() {
	local case=$1 mode=$2 fam=$3 re=$4 from un0 un1 op0 op1 sent got n verb sum
	verb=${mode^^}
	from=$(srvlog_lines)
	un0=$(pin_counter nat_unrewritable)
	op0=$(pin_counter pinholes_opened)
	if ! nat_run "$mode" "$fam" "$E2E_T_XFER" --split-pause 1; then
		e2e_fail "$case" "split $verb session failed: $(client_error)"
		return 1
	fi
	un1=$(pin_counter nat_unrewritable)
	op1=$(pin_counter pinholes_opened)
	sent=$(client_line sent)
	got=$(srvlog_cmds "$from" "$verb")
	n=$(grep -c . <<< "$got" || true)
	if [ "$n" != 1 ]; then
		e2e_fail "$case" "vsftpd logged $n $verb commands: '$(tr '\n' '|' <<< "$got")'"
		return 1
	fi
	if [ "$(client_line noop | cut -c1-3)" != 200 ]; then
		e2e_fail "$case" "NOOP after the split $verb got '$(client_line noop)'"
		return 1
	fi
	sum=$(client_sum)
	if [ "$sum" != "$FTP_SUM" ]; then
		e2e_fail "$case" "the download after the split $verb differs"
		return 1
	fi
	if [ "$got" = "$sent" ]; then
		if [ "$un1" != $((un0 + 1)) ]; then
			e2e_fail "$case" "left unchanged but nat_unrewritable $un0 -> $un1"
			return 1
		fi
		e2e_log "$case: '$sent' reached vsftpd unchanged, which answered" \
			"'$(client_line reply)'; nat_unrewritable $un0 -> $un1"
	elif grep -qE -- "$re" <<< "$got"; then
		e2e_log "$case: '$sent' rewritten to '$got' (pinholes $op0 -> $op1)"
	else
		e2e_fail "$case" "stream corrupted: client sent '$sent', vsftpd got '$got'"
		return 1
	fi
	e2e_pass "$case"
}

# nat_port_taken CASE: two clients behind the masquerade (CL4 and a second
# address, CL4_B) announce the same PORT port. The first one's pinhole holds
# that port on fw's outside address while it pauses before RETR, so the
# second one's PORT must be rewritten to another, free port; both
# downloads work, each through its own pinhole.
CL4_B=192.0.2.3
NAT_TAKEN_PORT=50000
nat_port_taken() {
	local case=$1 from a_log=$E2E_WORK/taken-a.log a_pid rc=0 ports n
	from=$(srvlog_lines)
	in_ns "$NS_CL" ip addr add "$CL4_B/24" dev eth0 2>/dev/null || true
	# held 25 s: the second client must announce while the first's pinhole
	# still holds the port, also when a loaded TCG guest starts it slowly
	timeout -k 2 $((E2E_T_XFER + 60)) ip netns exec "$NS_CL" \
		/usr/bin/python3 "$E2E_DIR/nat_ftp.py" --host "$SV4" --mode port \
		--file "$FTP_FILE" --timeout "$E2E_T_XFER" --source "$CL4" \
		--data-port "$NAT_TAKEN_PORT" --hold 25 > "$a_log" 2>&1 &
	a_pid=$!
	if ! wait_until "$E2E_T_READY" grep -q '^held:' "$a_log"; then
		e2e_fail "$case" "the first client did not negotiate: $(tr '\n' ' ' < "$a_log")"
		kill "$a_pid" 2>/dev/null; wait "$a_pid" 2>/dev/null
		return 1
	fi
	nat_run port 4 "$E2E_T_XFER" --source "$CL4_B" \
		--data-port "$NAT_TAKEN_PORT" || rc=1
	wait "$a_pid" || rc=$((rc | 2))
	in_ns "$NS_CL" ip addr del "$CL4_B/24" dev eth0 2>/dev/null || true
	ports=$(srvlog_cmds "$from" PORT | awk -F, '{ print $5 * 256 + $6 }' | tr '\n' ' ')
	n=$(wc -w <<< "$ports")
	if [ "$rc" != 0 ]; then
		e2e_fail "$case" "download failed (first client: $(tr '\n' ' ' < "$a_log");" \
			"second: $(client_error)); ports vsftpd saw: $ports"
		return 1
	fi
	if [ "$(client_sum "$a_log")" != "$FTP_SUM" ] || [ "$(client_sum)" != "$FTP_SUM" ]; then
		e2e_fail "$case" "a downloaded file differs"
		return 1
	fi
	# shellcheck disable=SC2086 # two words: the two ports
	set -- $ports
	if [ "$n" != 2 ] || [ "$1" != "$NAT_TAKEN_PORT" ] || [ "$2" = "$NAT_TAKEN_PORT" ]; then
		e2e_fail "$case" "vsftpd saw PORT ports '$ports', want $NAT_TAKEN_PORT then another"
		return 1
	fi
	e2e_log "$case: both clients announced $NAT_TAKEN_PORT; vsftpd saw $1 and $2"
	e2e_pass "$case"
}
