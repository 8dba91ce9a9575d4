#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host firewalls: the ruleset (input policy drop, new connections only to
# port 21, data connections only as related) guards the client host, the
# server host, or both, instead of a router between them. With the helper
# attached (in output for the client's own control connection, in
# prerouting for the server's) every mode downloads; the firewall holds an
# expectation for the data connection it filters. Negative control: with no
# helper, the mode whose data connection comes in is blocked, and the mode
# whose data connection goes out still works (the ruleset is not simply
# blocking everything).
set -eu
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

e2e_init hosts

for tp in client server both; do
	topo "$tp"
	[ "$tp" != client ] || vsftpd_start
	case_time
	e2e_log "topology $tp: $E2E_DT"
	if [ "$E2E_HELPER" != none ]; then
		expect_download "hosts/$tp/curl-pasv-v4" curl pasv 4 || true
		expect_download "hosts/$tp/curl-port-v4" curl port 4 || true
		expect_download "hosts/$tp/curl-epsv-v6" curl epsv 6 || true
		expect_download "hosts/$tp/curl-eprt-v6" curl eprt 6 || true
		for m in pasv port; do
			data_filtered "$m" || continue
			expect_pinhole "hosts/$tp/expect-$m-v4" "$m" 4 || true
		done
	fi
	fw_load_all none
	for mf in pasv:4 port:4 epsv:6 eprt:6; do
		m=${mf%:*} f=${mf#*:}
		if data_filtered "$m"; then
			expect_blocked "hosts/$tp-nohelper/curl-$m-v$f" curl "$m" "$f" || true
		else
			expect_download "hosts/$tp-nohelper/curl-$m-v$f" curl "$m" "$f" || true
		fi
	done
done

e2e_finish
