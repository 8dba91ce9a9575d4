#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Other implementations through the router firewall: the lftp client
# against vsftpd, and curl against pyftpdlib (which formats its replies
# differently from vsftpd). Negative controls: each client and pyftpdlib
# without a helper.
set -eu
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

e2e_init clients
topo router

vsftpd_start
case_time
e2e_log "setup: $E2E_DT"
if [ "$E2E_HELPER" != none ]; then
	expect_download clients/lftp-pasv-v4 lftp pasv 4 || true
	expect_download clients/lftp-epsv-v4 lftp epsv 4 || true
	expect_download clients/lftp-port-v4 lftp port 4 || true
	expect_download clients/lftp-epsv-v6 lftp epsv 6 || true
	expect_download clients/lftp-eprt-v6 lftp eprt 6 || true
	expect_download clients/ftplib-epsv-v4 ftplib epsv 4 || true
	expect_download clients/ftplib-eprt-v4 ftplib eprt 4 || true
fi
fw_load_all none
expect_blocked clients/lftp-nohelper/pasv-v4 lftp pasv 4 || true
expect_blocked clients/lftp-nohelper/eprt-v6 lftp eprt 6 || true
expect_blocked clients/ftplib-nohelper/epsv-v4 ftplib epsv 4 || true
expect_blocked clients/ftplib-nohelper/eprt-v4 ftplib eprt 4 || true
server_stop
fw_load_all

pyftpdlib_start
case_time
e2e_log "pyftpdlib: $E2E_DT"
if [ "$E2E_HELPER" != none ]; then
	expect_download clients/pyftpdlib/curl-pasv-v4 curl pasv 4 || true
	expect_download clients/pyftpdlib/curl-port-v4 curl port 4 || true
	expect_download clients/pyftpdlib/curl-epsv-v6 curl epsv 6 || true
	expect_download clients/pyftpdlib/curl-eprt-v6 curl eprt 6 || true
fi
fw_load_all none
expect_blocked clients/pyftpdlib-nohelper/curl-pasv-v4 curl pasv 4 || true
expect_blocked clients/pyftpdlib-nohelper/curl-port-v4 curl port 4 || true

e2e_finish
