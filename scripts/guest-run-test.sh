#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-run-test.sh: prove guest-run.sh's verdicts on kernel faults without
# booting anything. A stand-in qemu-system-x86_64, first on PATH, plays one
# scripted boot per call:
#
#   early  the kernel oopses before the guest's init runs: no control
#          share "booted" marker, no exit status
#   late   init announced itself (booted), then the kernel oopses: no
#          exit status
#   ok     init ran the command, which exited 0, on a clean console
#   warn   as ok, with a WARNING on the console
#
# and checks guest-run.sh's exit status, how many boots it made and what it
# kept. Only a fault before init is worth a second boot, and only one.
# Output: PASS:/FAIL: guest-run/... lines.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/guest-run-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
failed=0

pass() { echo "PASS: guest-run/$1"; }
fail() { echo "FAIL: guest-run/$1: $2"; failed=1; }

mkdir -p "$work/bin"
cat > "$work/bin/qemu-system-x86_64" <<'EOF'
#!/bin/bash
# Stand-in for QEMU: plays the next boot of $FAKE_QEMU_PLAN.
log= ctl=
[ -z "${FAKE_QEMU_ARGS:-}" ] || echo "$*" > "$FAKE_QEMU_ARGS"
while [ $# -gt 0 ]; do
	case $1 in
	-chardev) case $2 in file,id=con,path=*) log=${2#file,id=con,path=} ;; esac ;;
	-fsdev) case $2 in *id=pinholectl,*)
		ctl=${2#*path=}; ctl=${ctl%%,*} ;; esac ;;
	esac
	shift
done
[ -n "$log" ] && [ -n "$ctl" ] || { echo "fake qemu: no console or control share" >&2; exit 1; }
n=$(($(cat "$FAKE_QEMU_COUNT" 2>/dev/null || echo 0) + 1))
echo "$n" > "$FAKE_QEMU_COUNT"
read -ra plan <<< "$FAKE_QEMU_PLAN"
oops='[    2.310863] Oops: int3: 0000 [#1] PREEMPT_RT SMP NOPTI'
case ${plan[n - 1]:-none} in
early) printf '%s\r\n' "$oops" > "$log" ;;
late) : > "$ctl/booted"; printf '%s\r\n' "$oops" > "$log" ;;
ok) : > "$ctl/booted"; : > "$ctl/dmesg"; echo 0 > "$ctl/rc" ;;
warn) : > "$ctl/booted"; echo '[ 9.1] WARNING: CPU: 0 at x' > "$log"; echo 0 > "$ctl/rc" ;;
*) echo "fake qemu: boot $n is not in the plan" >&2; exit 1 ;;
esac
EOF
chmod +x "$work/bin/qemu-system-x86_64"

# case NAME PLAN WANT_RC WANT_BOOTS WANT_BOOTFAULT(yes|no)
case_() {
	local name=$1 plan=$2 want_rc=$3 want_boots=$4 want_kept=$5 rc boots kept=no
	rm -f "$work/count" "$work/console.log"*
	PATH=$work/bin:$PATH FAKE_QEMU_PLAN=$plan FAKE_QEMU_COUNT=$work/count \
		"$here/guest-run.sh" --timeout 60 --log "$work/console.log" \
		-- true > "$work/out" 2> "$work/err"
	rc=$?
	boots=$(cat "$work/count" 2>/dev/null || echo 0)
	[ -e "$work/console.log.bootfault" ] && kept=yes
	if [ "$rc" = "$want_rc" ] && [ "$boots" = "$want_boots" ] &&
	   [ "$kept" = "$want_kept" ]; then
		pass "$name"
	else
		fail "$name" "exit $rc boots $boots bootfault-kept $kept, want exit $want_rc boots $want_boots kept $want_kept"
		sed 's/^/# /' "$work/err"
	fi
}

case_ clean ok 0 1 no
case_ warning-fails warn 123 1 no
case_ early-fault-boots-again "early ok" 0 2 yes
case_ early-fault-twice-fails "early early" 125 2 yes
case_ late-fault-no-retry "late ok" 125 1 no
if grep -q 'booting once more' "$work/err"; then
	fail late-fault-silent "a fault after init was retried"
else
	pass late-fault-silent
fi
# The guest's vCPUs and clock (the bench's BENCH_CLOCK=icount sets both):
# PINHOLE_GUEST_SMP and PINHOLE_GUEST_ICOUNT reach QEMU's command line, a
# bad vCPU count stops before any boot.
# vcpus NAME WANT_RC WANT_ARGS_REGEXP [NAME=VALUE...]
vcpus() {
	local name=$1 want_rc=$2 want=$3 rc args
	shift 3
	rm -f "$work/count" "$work/args"
	env "$@" PATH="$work/bin:$PATH" FAKE_QEMU_PLAN=ok \
		FAKE_QEMU_COUNT="$work/count" FAKE_QEMU_ARGS="$work/args" \
		"$here/guest-run.sh" --timeout 60 --log "$work/console.log" \
		-- true > "$work/out" 2> "$work/err"
	rc=$?
	args=$(cat "$work/args" 2>/dev/null)
	if [ "$rc" = "$want_rc" ] && [[ $args =~ $want ]]; then
		pass "$name"
	else
		fail "$name" "exit $rc, want $want_rc; qemu's arguments '${args:0:120}' do not match '$want'"
		sed 's/^/# /' "$work/err"
	fi
}
vcpus vcpus-default 0 ' -smp 2 ' PINHOLE_GUEST_SMP= PINHOLE_GUEST_ICOUNT=
if grep -q -- '-icount' "$work/args"; then
	fail vcpus-default-no-icount "-icount without PINHOLE_GUEST_ICOUNT"
else
	pass vcpus-default-no-icount
fi
vcpus vcpus-icount 0 ' -icount shift=0,align=off,sleep=off .* -smp 1 ' \
	PINHOLE_GUEST_SMP=1 PINHOLE_GUEST_ICOUNT=shift=0,align=off,sleep=off
vcpus vcpus-bad-count 2 '^$' PINHOLE_GUEST_SMP=two
exit "$failed"
