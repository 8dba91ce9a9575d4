#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Passive port reuse through the router firewall. A client gives up right
# after PASV/EPSV, leaving an unused pinhole in fw; vsftpd, whose passive
# range is a single port (as small ranges make it happen within seconds),
# announces that same port to the next session from the same client. The
# new session's pinhole must supersede the stale one (pinholes_superseded):
# nf_ct_expect_related() alone refuses it with EBUSY, and the data
# connection then depends on the stale pinhole, which here expires first.
# Negative control: with no helper the download is blocked.
set -eu
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

REUSE_PORT=45000

# abandon MODE FAMILY: negotiate a passive data port, then quit.
abandon() {
	client_run "$E2E_T_XFER" /usr/bin/python3 "$E2E_DIR/nat_ftp.py" \
		--host "$(sv_addr "$2")" --mode "$1" --file "$FTP_FILE" --abandon
}

fw_timeout() { # SECONDS: pinhole lifetime in fw
	in_ns "$NS_FW" sysctl -qw net.netfilter.pinhole_ftp.timeout="$1"
}

# reuse CASE MODE FAMILY: a stale pinhole to REUSE_PORT that lives 30 s
# (the next session's PASV must reach fw while it lives, also when a loaded
# TCG guest takes seconds to start python), then a new session that is
# given the same port and waits 35 s before it connects: only its own
# pinhole (60 s) can let the data connection in.
reuse() {
	local case=$1 mode=$2 fam=$3 sup0 fail0 exp0 sum
	fw_timeout 30
	if ! abandon "$mode" "$fam"; then
		fw_timeout 60
		e2e_fail "$case" "abandoned $mode session failed: $(client_error)"
		return 1
	fi
	fw_timeout 60
	if ! fw_expectations "$NS_FW" | grep -q "dport=$REUSE_PORT "; then
		e2e_fail "$case" "no stale pinhole to port $REUSE_PORT in fw:" \
			"$(fw_expectations "$NS_FW" | tr '\n' ' ')"
		return 1
	fi
	sup0=$(pin_counter pinholes_superseded) fail0=$(pin_counter alloc_failures)
	exp0=$(fw_counter_sum data_expected)
	if ! client_run $((E2E_T_XFER + 35)) /usr/bin/python3 "$E2E_DIR/nat_ftp.py" \
		--host "$(sv_addr "$fam")" --mode "$mode" --file "$FTP_FILE" \
		--timeout $((E2E_T_XFER + 35)) --hold 35; then
		e2e_fail "$case/download" "$mode IPv$fam download failed: $(client_error)"
		return 1
	fi
	sum=$(client_sum)
	if [ "$sum" != "$FTP_SUM" ] || [ "$(fw_counter_sum data_expected)" -le "$exp0" ]; then
		e2e_fail "$case/download" "file differs or no expected data connection"
		return 1
	fi
	e2e_pass "$case/download"
	if [ "$(pin_counter pinholes_superseded)" != $((sup0 + 1)) ] ||
	   [ "$(pin_counter alloc_failures)" != "$fail0" ]; then
		e2e_fail "$case/superseded" "pinholes_superseded $sup0 -> $(pin_counter pinholes_superseded)," \
			"alloc_failures $fail0 -> $(pin_counter alloc_failures)"
		return 1
	fi
	e2e_pass "$case/superseded"
}

e2e_init reuse
topo router
vsftpd_start "" pasv_min_port=$REUSE_PORT pasv_max_port=$REUSE_PORT
if [ "$E2E_HELPER" = pinhole-ftp ]; then
	reuse reuse/pasv-v4 pasv 4 || true
	reuse reuse/epsv-v6 epsv 6 || true
else
	e2e_skip reuse "counts pinhole's own counter: pinhole-ftp only"
fi
fw_load_all none
abandon pasv 4 || true
expect_blocked reuse-nohelper/curl-pasv-v4 curl pasv 4 || true
e2e_finish
