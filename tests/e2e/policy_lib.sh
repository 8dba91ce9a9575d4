# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034
#
# Helpers for tests/e2e/t_policy.sh (policy knobs, counters, module
# parameters), sourced after lib.sh, inside the test guest.

PH_SYSCTL=/proc/sys/net/netfilter/pinhole_ftp
PH_PROC=/proc/net/pinhole_ftp
PH_MOD=nf_pinhole_ftp
PH_KO=${PINHOLE_KO:-$REPO_ROOT/module/nf_pinhole_ftp.ko}
PH_CTL=$REPO_ROOT/userspace/pinholectl
PH_HOSTILE=$E2E_DIR/hostile_ftp.py
PH_STEP=$REPO_ROOT/scripts/ftp-step.py
PH_KEYS=(active passive allow_third_party active_ports passive_ports
	max_pinholes timeout enforce log)
PH_DEFAULTS=(1 1 0 1024-65535 1024-65535 1 60 0 1)

# ------------------------------------------------------------- sysctl

ph_val() { # NS KEY
	in_ns "$1" cat "$PH_SYSCTL/$2"
}

# ph_write NS KEY VALUE: write VALUE and a newline like `echo`; the error
# text (if any) goes to PH_ERR, the status is the write's.
ph_write() {
	PH_ERR=$(in_ns "$1" bash -c 'printf "%s\n" "$2" > "$1"' sh \
		"$PH_SYSCTL/$2" "$3" 2>&1)
}

ph_set() { # NS KEY VALUE: a write that must work (a setup step)
	ph_write "$@" || die "cannot set $2=$3 in $1: $PH_ERR"
	[ "$(ph_val "$1" "$2")" = "$3" ] ||
		die "$2 reads $(ph_val "$1" "$2") in $1 after writing $3"
}

ph_defaults() { # NS: every knob back to its default
	local i
	for i in "${!PH_KEYS[@]}"; do
		ph_set "$1" "${PH_KEYS[$i]}" "${PH_DEFAULTS[$i]}"
	done
}

# ph_policy NS: "key=value ..." of every knob.
ph_policy() {
	local k out=
	for k in "${PH_KEYS[@]}"; do
		out+="$k=$(ph_val "$1" "$k") "
	done
	echo "${out% }"
}

# ------------------------------------------------------------- counters

# The counters of NS (default fw), without the gauges that follow them
# (sessions_open, pinholes_open: what is open now, not a count of events).
ph_counters() { # [NS]
	in_ns "${1:-$NS_FW}" cat "$PH_PROC" |
		grep -vE '^(sessions_open|pinholes_open) '
}

ph_snap() { # [NS]: remember the counters of NS (default fw)
	PH_SNAP_NS=${1:-$NS_FW}
	PH_SNAP=$(ph_counters "$PH_SNAP_NS")
}

ph_get() { # NAME TEXT
	awk -v n="$1" '$1 == n { print $2 }' <<< "$2"
}

# ph_deltas_ok SPEC...: every SPEC holds for the counters' change since
# ph_snap. SPEC: name=N (grew by exactly N), name>=N (by at least N), or
# "only" (every counter not named must not have changed). PH_WHY tells
# what did not hold.
ph_deltas_ok() {
	local now spec name op want before after d bad="" only=0 named=" "
	now=$(ph_counters "$PH_SNAP_NS")
	for spec; do
		case $spec in
		only) only=1; continue ;;
		*'>='*) name=${spec%%>=*} op='>=' want=${spec#*>=} ;;
		*=*) name=${spec%%=*} op='=' want=${spec#*=} ;;
		*) PH_WHY="bad spec $spec"; return 1 ;;
		esac
		named+="$name "
		before=$(ph_get "$name" "$PH_SNAP")
		after=$(ph_get "$name" "$now")
		if [ -z "$before" ] || [ -z "$after" ]; then
			bad+=" $name missing from $PH_PROC;"
			continue
		fi
		d=$((after - before))
		if [ "$op" = '=' ] && [ "$d" -ne "$want" ]; then
			bad+=" $name +$d (want +$want);"
		elif [ "$op" = '>=' ] && [ "$d" -lt "$want" ]; then
			bad+=" $name +$d (want >= +$want);"
		fi
	done
	if [ "$only" = 1 ]; then
		while read -r name after; do
			case $named in *" $name "*) continue ;; esac
			# vsftpd may give a case a passive port an earlier case's
			# unused pinhole still holds: replacing it is not the
			# case's business (t_reuse.sh tests it)
			[ "$name" != pinholes_superseded ] || continue
			before=$(ph_get "$name" "$PH_SNAP")
			[ "$after" = "$before" ] ||
				bad+=" $name +$((after - before)) (want +0);"
		done <<< "$now"
	fi
	PH_WHY=${bad# }
	[ -z "$bad" ]
}

# ph_case CASE SPEC...: PASS when the counters moved as SPEC says.
ph_case() {
	local c=$1
	shift
	if ph_deltas_ok "$@"; then
		e2e_pass "$c"
	else
		e2e_fail "$c" "counters in $PH_SNAP_NS: $PH_WHY"
	fi
}

# ------------------------------------------------------------- expectations

# ph_exps NS: our helper's expectations in NS, one a line, both families.
ph_exps() {
	fw_expectations "$1" | grep -E "helper=$E2E_HELPER( |\$)" || true
}

ph_exp_count() { # NS
	ph_exps "$1" | grep -c . || true
}

# ph_exps_of NS PORT: our expectations whose master is the control
# connection from client port PORT.
ph_exps_of() {
	ph_exps "$1" | grep -E "master-src=[^ ]+ master-dst=[^ ]+ sport=$2 dport=21 " || true
}

# ---------------------------------------------------------------- clients

# ph_hostile NAME HOST [--timeout S] LINE...: run the crafted client in cl
# to completion; its transcript is $E2E_WORK/h.NAME; status is its own.
ph_hostile() {
	local name=$1 host=$2
	shift 2
	PH_OUT=$E2E_WORK/h.$name
	timeout -k 2 $((60 * E2E_SCALE)) ip netns exec "$NS_CL" /usr/bin/python3 "$PH_HOSTILE" \
		client --host "$host" "$@" > "$PH_OUT" 2>&1
}

# ph_hostile_bg NAME HOST [--timeout S] LINE...: the same in the
# background, holding the connection open once its lines are through
# (until ph_release). Status 1 unless it got to "holding".
ph_hostile_bg() {
	local name=$1 host=$2
	shift 2
	PH_OUT=$E2E_WORK/h.$name
	PH_HOLD=$E2E_WORK/h.$name.release
	rm -f "$PH_HOLD"
	timeout -k 2 $((150 * E2E_SCALE)) ip netns exec "$NS_CL" /usr/bin/python3 "$PH_HOSTILE" \
		client --host "$host" --hold "$PH_HOLD" "$@" > "$PH_OUT" 2>&1 &
	PH_PID=$!
	wait_until $((30 * E2E_SCALE)) ph_held "$PH_OUT" && grep -q '^holding$' "$PH_OUT"
}

ph_held() { # OUT: the client is holding or gave up
	grep -qE '^(holding|< TIMEOUT|error:)' "$1" ||
		! kill -0 "$PH_PID" 2>/dev/null
}

ph_release() { # release the background client, reap it
	[ -n "${PH_PID:-}" ] || return 0
	touch "$PH_HOLD"
	wait "$PH_PID" 2>/dev/null
	PH_PID=
}

# ph_local_port OUT: the client's local port from its transcript.
ph_local_port() {
	sed -n 's/^local [^ ]* \([0-9]*\)$/\1/p' "$1"
}

ph_transcript() { # OUT: one line, for FAIL messages
	tr '\n' ' ' < "$1" | cut -c1-300
}

# ph_step_bg NAME MODE HOST TIMEOUT: ftp-step.py in cl, paused after the
# negotiation until ph_step_go. Status 1 unless it negotiated. TIMEOUT is
# stretched by PINHOLE_TIMEOUT_SCALE like the library's own waits: it also
# bounds the pause, and under KASAN on a loaded host the checks a case
# makes between the negotiation and ph_step_go took longer than 20 s.
ph_step_bg() {
	local name=$1 mode=$2 host=$3 t=$(($4 * E2E_SCALE))
	PH_STEP_OUT=$E2E_WORK/step.$name
	PH_STEP_GO=$E2E_WORK/step.$name.go
	rm -f "$PH_STEP_GO"
	timeout -k 2 $((t + 60)) ip netns exec "$NS_CL" /usr/bin/python3 \
		"$PH_STEP" --mode "$mode" --wait-file "$PH_STEP_GO" \
		--timeout "$t" "$host" "$FTP_FILE" > "$PH_STEP_OUT" 2>&1 &
	PH_STEP_PID=$!
	wait_until 30 ph_step_ready && grep -q '^negotiated:' "$PH_STEP_OUT"
}

ph_step_ready() {
	grep -q '^negotiated:' "$PH_STEP_OUT" ||
		! kill -0 "$PH_STEP_PID" 2>/dev/null
}

# ph_step_go: let it transfer; status is ftp-step.py's, and 1 when the
# file it received is not the served one.
ph_step_go() {
	local rc=0
	touch "$PH_STEP_GO"
	wait "$PH_STEP_PID" || rc=$?
	PH_STEP_PID=
	[ "$rc" -eq 0 ] || return "$rc"
	grep -q "^received: .* sha256=$FTP_SUM\$" "$PH_STEP_OUT"
}

# ----------------------------------------------------------------- kernel log

ph_dmesg_mark() { PH_DMESG_MARK=$(dmesg | wc -l); }

ph_dmesg_new() { # the kernel log lines since ph_dmesg_mark
	dmesg | tail -n +$((PH_DMESG_MARK + 1))
}

# ----------------------------------------------------------------- module

ph_loaded() { [ -d "/sys/module/$PH_MOD" ]; }

ph_param() { cat "/sys/module/$PH_MOD/parameters/$1" 2>/dev/null; }

# ph_module_is_default: loaded with every parameter at its default.
ph_module_is_default() {
	ph_loaded &&
		[ "$(ph_param helper_name)" = pinhole-ftp ] &&
		[ "$(ph_param active)$(ph_param passive)" = YY ] &&
		[ "$(ph_param allow_third_party)$(ph_param enforce)" = NN ] &&
		[ "$(ph_param active_ports)" = 1024-65535 ] &&
		[ "$(ph_param passive_ports)" = 1024-65535 ] &&
		[ "$(ph_param max_pinholes)" = 1 ] &&
		[ "$(ph_param timeout)" = 60 ] &&
		[ "$(ph_param log)" = 1 ] &&
		[ ! -e "/sys/module/$PH_MOD/parameters/test_window" ]
}

ph_refcnt_zero() { [ "$(cat "/sys/module/$PH_MOD/refcnt" 2>/dev/null)" = 0 ]; }

# ph_drop_rulesets: delete our tables everywhere (they hold the module),
# without flushing conntrack.
ph_drop_rulesets() {
	local ns
	for ns in "${E2E_NSES[@]}"; do
		ip netns list | grep -qw "^$ns" || continue
		in_ns "$ns" nft delete table inet "$E2E_TABLE" 2>/dev/null || true
	done
}

# ph_unload: rmmod the module once nothing holds it; PH_ERR has rmmod's
# complaint.
ph_unload() {
	ph_loaded || return 0
	wait_until 15 ph_refcnt_zero
	PH_ERR=$(rmmod "$PH_MOD" 2>&1)
}

ph_insmod() { # PARAM=VALUE...: status and PH_ERR are insmod's
	PH_ERR=$(insmod "$PH_KO" "$@" 2>&1)
}

# ph_swap KO PARAM...: reload the module from KO (rulesets go first: they
# hold it). Returns 1 when KO does not load.
ph_swap() {
	local ko=$1
	shift
	ph_drop_rulesets
	ph_unload || return 1
	PH_ERR=$(insmod "$ko" "$@" 2>&1)
}

# The test build of the module (scripts/build-test-module.sh): windows of
# the packet path can be widened, old behaviours brought back for a
# negative control (module/testhooks.c).
PH_HOOKS_KO=${PINHOLE_HOOKS_KO:-$REPO_ROOT/tests/e2e/build/hooks/nf_pinhole_ftp.ko}
ph_hooks_present() {
	[ -f "$PH_HOOKS_KO" ] || { PH_ERR="no test module at $PH_HOOKS_KO"; return 1; }
}

# ph_restore_module: the module loaded as run.sh loads it (default
# parameters, no stock helper). Used at the end and on any exit.
ph_restore_module() {
	ph_module_is_default && return 0
	ph_drop_rulesets
	ph_unload
	if lsmod | grep -qw '^nf_conntrack_ftp'; then
		rmmod nf_nat_ftp 2>/dev/null
		rmmod nf_conntrack_ftp 2>/dev/null
	fi
	ph_insmod
}
