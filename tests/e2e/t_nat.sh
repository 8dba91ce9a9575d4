#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# NAT scenario (issue 6): the router firewall of t_basic.sh also translates,
# and routes are taken away so that only NAT makes the path work (see
# tests/e2e/nat_lib.sh):
#   snat      cl behind fw's masquerade (nftables); sv has no route to cl
#   snat-ipt  the same with iptables-nft (-t nat -j MASQUERADE)
#   dnat      sv behind a port-forward of fw's outside address, port 21
#   both      masquerade and port-forward at once
# With the helper every mode downloads and the announcing text (PORT/EPRT
# as vsftpd logged it, 227 as the client received it) names the address
# the other end can reach; a PORT/EPRT split across two segments is either
# rewritten correctly or left intact and counted in nat_unrewritable; a
# rewritten PORT/EPRT/227 that is lost once is rewritten again when it is
# retransmitted; a PORT port already held on fw's outside address by another
# client's pinhole is rewritten to a free one.
# Negative controls: each scenario with no helper attached fails.
set -eu
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/e2e/nat_lib.sh
. "$(dirname "$0")/nat_lib.sh"

e2e_init nat
topo router
nat_vsftpd_start
case_time
e2e_log "setup: $E2E_DT"

# v6 CASE: run the IPv6 cases only when NAT66 rules loaded.
v6() {
	[ "$NAT_V6" = 1 ] && return 0
	e2e_skip "$1" "$NAT_V6_WHY"
	return 1
}

# ------------------------------------------------------------------ SNAT
if [ "$E2E_HELPER" != none ]; then
	nat_load snat nft
	nat_expect_ok nat/snat/pasv-v4 pasv 4 "$RE_227_IN" || true
	nat_expect_ok nat/snat/epsv-v4 epsv 4 "$RE_229" || true
	nat_expect_ok nat/snat/port-v4 port 4 "$RE_PORT_OUT" || true
	nat_expect_ok nat/snat/eprt-v4 eprt 4 "$RE_EPRT4_OUT" || true
	if v6 nat/snat/v6; then
		nat_expect_ok nat/snat/epsv-v6 epsv 6 "$RE_229" || true
		nat_expect_ok nat/snat/eprt-v6 eprt 6 "$RE_EPRT6_OUT" || true
	fi
	nat_split nat/snat/split-port-v4 port 4 "$RE_PORT_OUT" || true
	nat_lost nat/snat/lost-port-v4 port 4 "$RE_PORT_OUT" || true
	nat_port_taken nat/snat/port-taken-v4 || true
	if [ "$NAT_V6" = 1 ]; then
		nat_lost nat/snat/lost-eprt-v6 eprt 6 "$RE_EPRT6_OUT" || true
	fi
	if [ "$NAT_V6" = 1 ]; then
		nat_split nat/snat/split-eprt-v6 eprt 6 "$RE_EPRT6_OUT" || true
	fi
fi
fw_load_all none
nat_load snat nft
nat_expect_fail nat/snat-nohelper/pasv-v4 pasv 4 || true
nat_expect_fail nat/snat-nohelper/port-v4 port 4 "$RE_PORT_IN" || true
if v6 nat/snat-nohelper/v6; then
	nat_expect_fail nat/snat-nohelper/epsv-v6 epsv 6 || true
	nat_expect_fail nat/snat-nohelper/eprt-v6 eprt 6 "$RE_EPRT6_IN" || true
fi

# --------------------------------------------------- SNAT with iptables-nft
if ! iptables -V 2>/dev/null | grep -q nf_tables; then
	e2e_skip nat/snat-ipt "iptables is not iptables-nft: $(iptables -V 2>&1)"
else
	if [ "$E2E_HELPER" != none ]; then
		fw_load_all
		nat_load snat iptables
		nat_expect_ok nat/snat-ipt/pasv-v4 pasv 4 "$RE_227_IN" || true
		nat_expect_ok nat/snat-ipt/port-v4 port 4 "$RE_PORT_OUT" || true
		if v6 nat/snat-ipt/v6; then
			nat_expect_ok nat/snat-ipt/eprt-v6 eprt 6 "$RE_EPRT6_OUT" || true
		fi
	fi
	fw_load_all none
	nat_load snat iptables
	nat_expect_fail nat/snat-ipt-nohelper/pasv-v4 pasv 4 || true
	nat_expect_fail nat/snat-ipt-nohelper/port-v4 port 4 "$RE_PORT_IN" || true
fi

# ------------------------------------------------------------------ DNAT
if [ "$E2E_HELPER" != none ]; then
	fw_load_all
	nat_load dnat nft
	nat_expect_ok nat/dnat/pasv-v4 pasv 4 "$RE_227_OUT" || true
	nat_expect_ok nat/dnat/epsv-v4 epsv 4 "$RE_229" || true
	nat_expect_ok nat/dnat/port-v4 port 4 "$RE_PORT_IN" || true
	nat_curl nat/dnat/curl-pasv-v4 pasv 4 '^< 227 .*\(192,0,2,1,' || true
	nat_lost nat/dnat/lost-pasv-v4 pasv 4 "$RE_227_OUT" || true
	if v6 nat/dnat/v6; then
		nat_expect_ok nat/dnat/epsv-v6 epsv 6 "$RE_229" || true
		nat_expect_ok nat/dnat/eprt-v6 eprt 6 "$RE_EPRT6_IN" || true
	fi
fi
fw_load_all none
nat_load dnat nft
nat_expect_fail nat/dnat-nohelper/pasv-v4 pasv 4 "$RE_227_IN" || true
nat_expect_fail nat/dnat-nohelper/epsv-v4 epsv 4 || true
nat_expect_fail nat/dnat-nohelper/port-v4 port 4 "$RE_PORT_IN" || true
if v6 nat/dnat-nohelper/v6; then
	nat_expect_fail nat/dnat-nohelper/epsv-v6 epsv 6 || true
fi

# ------------------------------------------------------------ SNAT + DNAT
if [ "$E2E_HELPER" != none ]; then
	fw_load_all
	nat_load both nft
	nat_expect_ok nat/both/pasv-v4 pasv 4 "$RE_227_OUT" || true
	nat_expect_ok nat/both/port-v4 port 4 "$RE_PORT_OUT" || true
	nat_expect_ok nat/both/eprt-v4 eprt 4 "$RE_EPRT4_OUT" || true
	if v6 nat/both/v6; then
		nat_expect_ok nat/both/epsv-v6 epsv 6 "$RE_229" || true
		nat_expect_ok nat/both/eprt-v6 eprt 6 "$RE_EPRT6_OUT" || true
	fi
fi
fw_load_all none
nat_load both nft
nat_expect_fail nat/both-nohelper/pasv-v4 pasv 4 "$RE_227_IN" || true
nat_expect_fail nat/both-nohelper/port-v4 port 4 "$RE_PORT_IN" || true
if v6 nat/both-nohelper/v6; then
	nat_expect_fail nat/both-nohelper/eprt-v6 eprt 6 "$RE_EPRT6_IN" || true
fi

nat_clear
e2e_finish
