#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-run.sh [OPTIONS] -- CMD [ARGS...]
#
# Run CMD as root inside a throw-away QEMU (TCG) guest booting the kernel
# named by scripts/kver.sh (or the debug kernel, see --kernel), with the
# host's / mounted read-only over 9p and tmpfs on /tmp /run /var/tmp
# /var/log /root. CMD runs in the guest in the same working directory path
# as here (below one of those tmpfs directories, it is shared read-only on
# its own and mounted back over the tmpfs). CMD's stdin is /dev/null. The guest has no network device at all.
#
# CMD's stdout and stderr reach this script's stdout and stderr through
# virtio serial ports; the kernel console goes to the --log file only.
#
# Options:
#   --timeout SECONDS  kill the guest after this long (default 600): exit 124
#   --mem MB           guest memory (default 1024)
#   --log FILE         save the kernel console here (default: a new file
#                      under ${XDG_CACHE_HOME:-$HOME/.cache}/pinhole/logs/)
#   --results DIR      host directory mounted read-write at the same path in
#                      the guest, announced to CMD as $PINHOLE_RESULTS
#                      (default: a new directory under the cache, removed
#                      when the guest leaves it empty)
#   --env NAME=VALUE   set a variable for CMD (repeatable). Variables named
#                      PINHOLE_* are passed through from this environment.
#   --kernel stock|debug  stock (the default): the Debian kernel named by
#                      PINHOLE_GUEST_KVER or else scripts/kver.sh (KVER=
#                      from the environment, else the distribution's
#                      default; any of scripts/kernel-matrix.sh boots, its
#                      initramfs cached per kernel); debug:
#                      the kernel of scripts/debug-kernel.sh (built
#                      beforehand: make debug-kernel). Default: the
#                      environment's PINHOLE_KERNEL, else stock. The debug
#                      kernel runs with panic_on_warn=1 and 2048 MB unless
#                      --mem says otherwise; its modules appear in the guest
#                      at /lib/modules/<release> (a tmpfs over /lib/modules
#                      with the cached modules mounted on it); debugfs is
#                      mounted; CMD runs under scripts/guest/debug-check.sh,
#                      which clears kmemleak before CMD and fails the run when
#                      a leak it finds afterwards involves netfilter or an
#                      unloaded module (PASS:/FAIL: kmemleak/... lines).
#
# The guest has 2 vCPUs (PINHOLE_GUEST_SMP=N overrides it) of QEMU's max
# model without AVX (see guest_cpu; PINHOLE_GUEST_CPU=MODEL overrides it).
#
# A kernel fault on the console before the guest's init has started (a
# rare TCG race at boot, see boot_once below) boots the guest once more;
# the first console is kept next to the log as .bootfault.
#
# Exit status: CMD's own; 124 on timeout; 123 when CMD succeeded but the
# kernel log shows BUG:, WARNING:, Oops, general protection fault, Kernel
# panic, KASAN, UBSAN, a lockdep or RCU splat, list corruption or a debug
# objects report (each offending line is printed, then the first report
# with its context); 125 when the guest could not run CMD at all (see the
# log); 2 on bad usage.
set -euo pipefail

# One compound command: bash reads it whole before running any of it, so
# editing this file cannot disturb an instance that is already running.
{

prog=guest-run.sh
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/pinhole

timeout=600
mem=
kernel_kind=${PINHOLE_KERNEL:-stock}
logfile=
results=
envs=()

usage() {
	sed -n '4,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
	exit 2
}
die() { echo "$prog: $*" >&2; exit 125; }
bad_usage() { echo "$prog: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
	case $1 in
	--timeout) [ $# -ge 2 ] || usage; timeout=$2; shift 2 ;;
	--mem) [ $# -ge 2 ] || usage; mem=$2; shift 2 ;;
	--log) [ $# -ge 2 ] || usage; logfile=$2; shift 2 ;;
	--results) [ $# -ge 2 ] || usage; results=$2; shift 2 ;;
	--env) [ $# -ge 2 ] || usage; envs+=("$2"); shift 2 ;;
	--kernel) [ $# -ge 2 ] || usage; kernel_kind=$2; shift 2 ;;
	--) shift; break ;;
	-h|--help) usage ;;
	*) bad_usage "unknown option '$1' (CMD goes after --)" ;;
	esac
done
[ $# -gt 0 ] || usage
[[ $timeout =~ ^[1-9][0-9]*$ ]] || bad_usage "--timeout wants whole seconds, got '$timeout'"
case $kernel_kind in
stock) : "${mem:=1024}" ;;
debug) : "${mem:=2048}" ;;
*) bad_usage "--kernel wants stock or debug, got '$kernel_kind'" ;;
esac
[[ $mem =~ ^[1-9][0-9]*$ ]] || bad_usage "--mem wants megabytes, got '$mem'"
for e in "${envs[@]+"${envs[@]}"}"; do
	[[ $e =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || bad_usage "--env wants NAME=VALUE, got '$e'"
done

# Directories the guest covers with tmpfs. A working directory below one of
# them (a checkout in /tmp, say) is shared on its own, read-only, and
# mounted back at its path over the tmpfs.
guest_tmpfs_dirs=(/tmp /run /var/tmp /var/log /root)
under_guest_tmpfs() {
	local d
	for d in "${guest_tmpfs_dirs[@]}"; do
		case $1/ in "$d"/*) return 0 ;; esac
	done
	return 1
}
cwd=$(pwd -P)
workdir_share=()

moddir=
if [ "$kernel_kind" = debug ]; then
	# virtio, 9p and the serial ports are built in: no modules in the
	# initramfs; the kernel's own modules come over a share of their own.
	dk=$("$here/debug-kernel.sh" locate) || exit 125
	kver=$("$here/debug-kernel.sh" release) || exit 125
	kernel=$("$here/debug-kernel.sh" image) || exit 125
	moddir=$("$here/debug-kernel.sh" modules)/lib/modules/$kver
	[ -d "$moddir" ] || die "no modules directory $moddir in $dk"
	initrd=$("$here/guest/mkinitramfs.sh" --no-modules "$kver") ||
		die "cannot build the initramfs"
else
	# PINHOLE_GUEST_KVER pins a Debian kernel (make stress STRESS_KVER=).
	kver=${PINHOLE_GUEST_KVER:-$("$here/kver.sh")} || exit 125
	kernel=/boot/vmlinuz-$kver
	initrd=$("$here/guest/mkinitramfs.sh" "$kver") || die "cannot build the initramfs"
fi
[ -r "$kernel" ] || die "cannot read $kernel"
command -v qemu-system-x86_64 >/dev/null ||
	die "qemu-system-x86_64 not found (scripts/install-deps.sh)"

mkdir -p "$cache/run" "$cache/logs" "$cache/results"
tmp=$(mktemp -d "$cache/run/guest.XXXXXX")
ctl=$tmp/ctl
mkdir "$ctl"

qemu_pid=
cat_pids=
# Copy each FIFO to our stdout/stderr. Should our reader go away (| head),
# the second cat drains the rest, so that the guest never blocks on a full
# port. We hold each FIFO open read-write while a guest runs: a reader's
# open never waits for QEMU, and it sees the end only once QEMU is gone
# and we let go (stop_readers), whether or not QEMU ever opened it.
out_hold=
err_hold=
start_readers() {
	exec {out_hold}<>"$tmp/stdout" {err_hold}<>"$tmp/stderr"
	{ cat || true; cat > /dev/null; } < "$tmp/stdout" {out_hold}>&- {err_hold}>&- &
	cat_pids=$!
	{ cat >&2 || true; cat > /dev/null; } < "$tmp/stderr" {out_hold}>&- {err_hold}>&- &
	cat_pids+=" $!"
}
stop_readers() {
	[ -z "$out_hold" ] || exec {out_hold}>&-
	[ -z "$err_hold" ] || exec {err_hold}>&-
	out_hold=
	err_hold=
	# shellcheck disable=SC2086 # two pids
	[ -z "$cat_pids" ] || wait $cat_pids 2>/dev/null || true
	cat_pids=
}

own_results=
# shellcheck disable=SC2317 # runs from the EXIT trap
cleanup() {
	[ -z "$qemu_pid" ] || kill "$qemu_pid" 2>/dev/null
	stop_readers
	rm -rf "$tmp"
	if [ -n "$own_results" ] && [ -d "$results" ]; then
		rmdir "$results" 2>/dev/null ||
			echo "$prog: guest results kept in $results" >&2
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -z "$logfile" ]; then
	logfile=$(mktemp "$cache/logs/guest-$(date +%Y%m%d-%H%M%S).XXXXXX.log")
	# keep the newest 100 files: 50 logs with their .dmesg
	find "$cache/logs" -maxdepth 1 -name 'guest-*.log*' -printf '%T@ %p\n' |
		sort -rn | tail -n +101 | cut -d' ' -f2- |
		while read -r old; do rm -f "$old"; done
fi
: > "$logfile" || die "cannot write the log file $logfile"

if [ -z "$results" ]; then
	results=$(mktemp -d "$cache/results/run.XXXXXX")
	own_results=1
fi
mkdir -p "$results" || die "cannot create the results directory $results"
results=$(cd "$results" && pwd -P)
qemu_paths=("$results" "$ctl" "$logfile" "$initrd" ${moddir:+"$moddir"})
under_guest_tmpfs "$cwd" && qemu_paths+=("$cwd")
for p in "${qemu_paths[@]}"; do
	case $p in
	*,*|*[[:space:]]*) die "QEMU cannot take the path '$p' (comma or blank)" ;;
	esac
done

# The command file: bash runs it in the guest's chroot.
write_cmd() {
	local e
	echo "cd -- $(printf %q "$cwd") || exit 125"
	echo "export PINHOLE_GUEST=1 PINHOLE_KVER=$(printf %q "$kver")"
	echo "export PINHOLE_RESULTS=$(printf %q "$results")"
	while IFS= read -r e; do
		echo "export $(printf %q "$e")"
	done < <(env | grep -E '^PINHOLE_[A-Za-z0-9_]*=' |
		grep -Ev '^PINHOLE_(GUEST|KVER|RESULTS)=' || true)
	for e in "${envs[@]+"${envs[@]}"}"; do
		echo "export ${e%%=*}=$(printf %q "${e#*=}")"
	done
	printf 'exec --'
	printf ' %q' "$@"
	echo
}
virtfs() { # TAG PATH [readonly]
	local ro=
	[ "${3:-}" = readonly ] && ro=,readonly=on
	echo "-fsdev local,id=$1,path=$2,security_model=none,multidevs=remap$ro"
	echo "-device virtio-9p-pci,fsdev=$1,mount_tag=$1"
}

if [ "$kernel_kind" = debug ]; then
	set -- "$here/guest/debug-check.sh" "$@"
fi
write_cmd "$@" > "$ctl/cmd.sh"
echo "$results" > "$ctl/results_path"
modules_share=()
if [ -n "$moddir" ]; then
	echo "$kver" > "$ctl/modules_release"
	# shellcheck disable=SC2207 # virtfs prints option words on purpose
	modules_share=($(virtfs pinholemods "$moddir" readonly))
fi
if under_guest_tmpfs "$cwd"; then
	echo "$cwd" > "$ctl/workdir_path"
	# shellcheck disable=SC2207 # virtfs prints option words on purpose
	workdir_share=($(virtfs pinholecwd "$cwd" readonly))
fi

mkfifo "$tmp/stdout" "$tmp/stderr"
# loglevel=5: the console (our log file) gets warnings and worse; the full
# ring buffer comes back as the guest's dmesg.
append="console=ttyS0 loglevel=5 panic=-1 oops=panic rdinit=/init"
append+=" mitigations=off tsc=reliable"
# A WARN (lockdep, RCU, debug objects, KASAN and UBSAN reports count as
# one) stops the debug kernel at once, with the report on the console.
[ "$kernel_kind" = debug ] && append+=" panic_on_warn=1"

# The guest CPU: QEMU's max model without AVX. QEMU 7.2's TCG emulates
# AVX and AVX2, and glibc then picks its AVX2 string routines, which cost
# more under TCG than the SSE2 ones: building the module in the guest took
# 224 s with -cpu max and 184 s without AVX (qemu64: 189 s, Nehalem: 193 s).
# PINHOLE_GUEST_CPU overrides it.
guest_cpu=${PINHOLE_GUEST_CPU:-max,avx=off,avx2=off}
guest_smp=${PINHOLE_GUEST_SMP:-2}
guest_accel=(-accel tcg)
[ -z "${PINHOLE_GUEST_ICOUNT:-}" ] || guest_accel+=(-icount "$PINHOLE_GUEST_ICOUNT")
[[ $guest_smp =~ ^[1-9][0-9]*$ ]] || bad_usage "PINHOLE_GUEST_SMP wants a vCPU count, got '$guest_smp'"

# boot_once: one guest from power-on to power-off; sets qrc.
boot_once() {
	rm -f "$ctl/booted" "$ctl/rc" "$ctl/dmesg"
	: > "$logfile"
	start_readers
	# shellcheck disable=SC2046 # virtfs prints option words on purpose
	timeout -k 5 "$timeout" qemu-system-x86_64 \
		"${guest_accel[@]}" -cpu "$guest_cpu" -smp "$guest_smp" -m "$mem" \
		-nodefaults -no-reboot -display none -monitor none -nic none \
		-kernel "$kernel" -initrd "$initrd" -append "$append" \
		-chardev "file,id=con,path=$logfile" -serial chardev:con \
		-device virtio-rng-pci \
		$(virtfs hostroot / readonly) \
		$(virtfs pinholectl "$ctl") \
		$(virtfs pinholeres "$results") \
		${workdir_share[@]+"${workdir_share[@]}"} \
		${modules_share[@]+"${modules_share[@]}"} \
		-device virtio-serial-pci \
		-chardev "file,id=out,path=$tmp/stdout" \
		-device virtserialport,chardev=out,name=pinhole.stdout \
		-chardev "file,id=err,path=$tmp/stderr" \
		-device virtserialport,chardev=err,name=pinhole.stderr \
		< /dev/null &
	qemu_pid=$!
	set +e
	wait "$qemu_pid"
	qrc=$?
	set -e
	qemu_pid=
	stop_readers
}

bad='BUG:|WARNING:|Oops|general protection fault|Kernel panic|KASAN|UBSAN'
bad+='|possible recursive locking|inconsistent lock state|suspicious RCU usage'
bad+='|possible circular locking|bad unlock balance|held when returning'
bad+='|list_(add|del) corruption|list corruption|ODEBUG:|kernel BUG'
bad+='|refcount_t:|Unable to handle'
# console_has_problem FILE: does the kernel log FILE report trouble?
console_has_problem() {
	[ -s "$1" ] && tr -d '\r' < "$1" | grep -qaE "$bad"
}

# Under TCG, a Debian kernel very rarely faults while it patches its own
# text at boot (seen once: 6.12-rt, "Oops: int3" in sched_clock_cpu at a
# static key switch, 2 s into boot, no module loaded), a QEMU
# cross-modifying-code race. When the console shows a fault and the
# guest's init never announced itself on the control share, none of our
# code ran: boot once more, say so, and keep the first console. A fault
# after init started is never retried.
boot_once
if [ "$qrc" -ne 124 ] && [ "$qrc" -ne 137 ] && [ ! -e "$ctl/booted" ] &&
	console_has_problem "$logfile"; then
	cp "$logfile" "$logfile.bootfault"
	echo "$prog: the kernel faulted during boot, before the guest's init" \
		"ran (console kept in $logfile.bootfault):" >&2
	tr -d '\r' < "$logfile" | grep -aE "$bad" | head -n 3 | sed 's/^/    /' >&2
	echo "$prog: booting once more" >&2
	boot_once
fi

if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
	echo "$prog: guest killed after the ${timeout}s timeout (console: $logfile)" >&2
	rc=124
elif [ -s "$ctl/rc" ]; then
	rc=$(cat "$ctl/rc")
	[[ $rc =~ ^[0-9]+$ ]] || die "garbled exit status '$rc' from the guest"
else
	echo "$prog: the guest ended (qemu status $qrc) without running the" \
		"command to completion; end of the console ($logfile):" >&2
	tail -n 20 "$logfile" | sed 's/^/    /' >&2
	rc=125
fi

# Kernel trouble fails the run even when the command succeeded.
if [ -s "$ctl/dmesg" ]; then
	cat "$ctl/dmesg" > "$logfile.dmesg"
fi
trouble=0
for f in "$logfile" "$logfile.dmesg"; do
	[ -s "$f" ] || continue
	first=
	while IFS= read -r line; do
		echo "$prog: kernel problem: $f:$line" >&2
		[ -n "$first" ] || first=${line%%:*}
		trouble=1
	done < <(tr -d '\r' < "$f" | grep -naE "$bad" | head -n 50 || true)
	# The first report whole: a few lines before it, its trace after it.
	if [ -n "$first" ]; then
		echo "$prog: first report in $f:" >&2
		tr -d '\r' < "$f" | sed -n "$((first > 5 ? first - 5 : 1)),$((first + 60))p" |
			sed 's/^/    /' >&2
	fi
done
if [ "$trouble" -eq 1 ] && [ "$rc" -eq 0 ]; then
	rc=123
fi
exit "$rc"
}
