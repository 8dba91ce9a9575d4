#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Basic scenario: vsftpd behind the "router" firewall (forward policy drop,
# new connections only to port 21, data connections only as related).
# With the helper attached, passive and active downloads by curl work over
# IPv4 and IPv6 and the firewall holds an expectation for exactly the
# negotiated port. Negative control: with no helper attached the very same
# downloads must fail, their data connections dropped by the firewall.
set -eu
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

e2e_init basic
topo router
vsftpd_start
case_time
e2e_log "setup: $E2E_DT"

if [ "$E2E_HELPER" = none ]; then
	e2e_skip basic/router "PINHOLE_HELPER=none: only the negative controls run"
else
	expect_download basic/router/curl-pasv-v4 curl pasv 4 || true
	expect_download basic/router/curl-port-v4 curl port 4 || true
	expect_download basic/router/curl-epsv-v4 curl epsv 4 || true
	expect_download basic/router/curl-eprt-v4 curl eprt 4 || true
	expect_download basic/router/curl-epsv-v6 curl epsv 6 || true
	expect_download basic/router/curl-eprt-v6 curl eprt 6 || true
	expect_pinhole basic/router/expect-pasv-v4 pasv 4 || true
	expect_pinhole basic/router/expect-port-v4 port 4 || true
	expect_pinhole basic/router/expect-epsv-v6 epsv 6 || true
	expect_pinhole basic/router/expect-eprt-v6 eprt 6 || true
fi

# Negative controls: the same firewall without any helper.
fw_load_all none
expect_blocked basic/router-nohelper/curl-pasv-v4 curl pasv 4 || true
expect_blocked basic/router-nohelper/curl-port-v4 curl port 4 || true
expect_blocked basic/router-nohelper/curl-epsv-v6 curl epsv 6 || true
expect_blocked basic/router-nohelper/curl-eprt-v6 curl eprt 6 || true

e2e_finish
