#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# compat-probe-test.sh [KVER]: prove the other side of every feature probe
# in module/Kbuild that no kernel installed here exercises. Each variant
# copies Debian's 6.12 headers (KVER, default: the 6.12 kernel of
# scripts/kernel-matrix.sh), patches them to reproduce one upstream
# declaration exactly (module/compat.h names the commit), compiles every
# object of the module against the copy with W=1 and -Werror, and checks:
#
#   <variant>/build    every object compiles, warning-free
#   <variant>/probes   module/Kbuild's probes set exactly the expected
#                      PINHOLE_HAVE_* flags
#   <variant>/symbols  the objects reference the kernel symbols that this
#                      side of the probe uses, and not the other side's
#   <variant>/control  negative control: a call in the other side's form
#                      does not compile against the patched copy (so the
#                      patch took, and the build above proves compat.h)
#
# Objects only, no modpost: the patched declarations describe symbols this
# kernel does not export. Output: PASS:/FAIL: compat-probe/... lines.
# Work files in ${XDG_CACHE_HOME:-$HOME/.cache}/pinhole/compat-probe/.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
kver=${1:-$("$here/kernel-matrix.sh" --series 6.12 --flavour amd64)} || kver=
hdr=/usr/src/linux-headers-$kver
work=${XDG_CACHE_HOME:-$HOME/.cache}/pinhole/compat-probe
failed=0

pass() { echo "PASS: compat-probe/$1"; }
fail() { echo "FAIL: compat-probe/$1: $2"; failed=1; }

if [ -z "$kver" ] || [ ! -f "$hdr/Makefile" ]; then
	fail setup "no 6.12 headers '$hdr' (scripts/install-deps.sh installs them)"
	exit 1
fi
common=$(sed -n 's|^include \(.*\)/Makefile$|\1|p' "$hdr/Makefile")
[ -d "$common" ] || { fail setup "$hdr/Makefile names no common tree"; exit 1; }

# copy_headers DIR: DIR/arch and DIR/common, hard links where possible
# (patching replaces a file, never writes through a link).
copy_headers() {
	local d=$1 t l
	rm -rf "$d"
	mkdir -p "$d"
	for t in arch:"$hdr" common:"$common"; do
		cp -al "${t#*:}" "$d/${t%%:*}" 2>/dev/null ||
			cp -a "${t#*:}" "$d/${t%%:*}" || return 1
		for l in scripts tools; do
			[ -L "${t#*:}/$l" ] &&
				ln -sfn "$(readlink -f "${t#*:}/$l")" "$d/${t%%:*}/$l"
		done
	done
	echo "include $d/common/Makefile" > "$d/arch/Makefile.new" &&
		mv "$d/arch/Makefile.new" "$d/arch/Makefile"
}

# patch_header DIR FILE OLD NEW: replace the exact text OLD (which must be
# there once) by NEW in DIR/common/FILE, as a new file.
patch_header() {
	python3 - "$1/common/$2" "$3" "$4" <<-'EOF'
		import os, sys
		path, old, new = sys.argv[1:4]
		text = open(path).read()
		if text.count(old) != 1:
		    sys.exit("%s: expected text found %d times" % (path, text.count(old)))
		tmp = path + ".new"
		open(tmp, "w").write(text.replace(old, new))
		os.replace(tmp, path)
	EOF
}

# ---------------------------------------------------------------- variants
# Each variant_NAME DIR patches the copy and sets: want (the PINHOLE_HAVE_*
# flags, sorted), uses/avoids (undefined symbols that must / must not
# appear in the objects), control (C statements in the other side's form).

base_flags="CONST_CTL_HANDLER NAT_EXP_FIND_PORT REGISTER_NET_SYSCTL_SZ TIMER_DELETE"
ctl_decls='struct nf_conntrack_helper *h = NULL; struct nf_conntrack_expect *e = NULL; struct timer_list *t = NULL; (void)h; (void)e; (void)t;'

# Debian's 6.12 as it is: the side of each probe a current kernel takes.
variant_base() {
	want=$base_flags
	uses="nf_nat_exp_find_port nf_conntrack_helpers_register"
	avoids=""
	control=""
}

# 5.10, 5.15, RHEL 9's 5.14: before c92c27171040 there is no
# nf_nat_exp_find_port(); compat.h's bounded loop stands in.
variant_no_nat_exp_find_port() {
	patch_header "$1" include/net/netfilter/nf_nat_helper.h \
		$'\nu16 nf_nat_exp_find_port(struct nf_conntrack_expect *exp, u16 port);\n' \
		$'\n' || return 1
	want="CONST_CTL_HANDLER REGISTER_NET_SYSCTL_SZ TIMER_DELETE"
	uses="nf_ct_expect_related_report nf_conntrack_helpers_register"
	avoids="nf_nat_exp_find_port"
	control='nf_nat_exp_find_port(e, 1024);'
}

# Expectations with a timer (every kernel before the expectation GC
# rework), on 6.15 and later where 8fa7292fee5c removed del_timer().
expect_timer() {
	patch_header "$1" include/net/netfilter/nf_conntrack_expect.h \
		$'\t/* jiffies32 when this expectation expires */\n\tu32 timeout;\n' \
		$'\t/* Timer function; deletes the expectation. */\n\tstruct timer_list timeout;\n' &&
	patch_header "$1" include/net/netfilter/nf_conntrack_expect.h \
		$'static inline bool nf_ct_exp_is_expired(const struct nf_conntrack_expect *exp)\n{\n\tif (READ_ONCE(exp->flags) & NF_CT_EXPECT_DEAD)\n\t\treturn true;\n\n\treturn (__s32)(READ_ONCE(exp->timeout) - nfct_time_stamp) <= 0;\n}\n\n' \
		''
}
variant_expect_timer_no_del_timer() {
	expect_timer "$1" &&
	patch_header "$1" include/linux/timer.h \
		"$(sed -n '/^\/\*\*$/{N;/del_timer_sync - /{:a;N;/\n}$/!ba;p}}' "$common/include/linux/timer.h")" '' &&
	patch_header "$1" include/linux/timer.h \
		"$(sed -n '/^\/\*\*$/{N;/del_timer - /{:a;N;/\n}$/!ba;p}}' "$common/include/linux/timer.h")" '' ||
		return 1
	want="CONST_CTL_HANDLER EXPECT_TIMER NAT_EXP_FIND_PORT REGISTER_NET_SYSCTL_SZ TIMER_DELETE"
	uses="timer_delete add_timer"
	avoids="del_timer"
	control='del_timer(t);'
}

# Expectations with a timer before bb663f0f3c39 (6.2; 5.15.y and 6.1.y
# got it later): del_timer() is the exported function, no timer_delete().
variant_expect_timer_no_timer_delete() {
	expect_timer "$1" &&
	patch_header "$1" include/linux/timer.h \
		$'extern int timer_delete(struct timer_list *timer);\n' '' &&
	patch_header "$1" include/linux/timer.h \
		$'static inline int del_timer(struct timer_list *timer)\n{\n\treturn timer_delete(timer);\n}\n' \
		$'extern int del_timer(struct timer_list * timer);\n' || return 1
	want="CONST_CTL_HANDLER EXPECT_TIMER NAT_EXP_FIND_PORT REGISTER_NET_SYSCTL_SZ"
	uses="del_timer add_timer"
	avoids="timer_delete"
	control='timer_delete(t);'
}

# Mainline 7.2 and 7.1.y: 6031487d4e27 registers copies of the helpers.
variant_helpers_register_ptr() {
	patch_header "$1" include/net/netfilter/nf_conntrack_helper.h \
		$'int nf_conntrack_helper_register(struct nf_conntrack_helper *);\nvoid nf_conntrack_helper_unregister(struct nf_conntrack_helper *);\n\nint nf_conntrack_helpers_register(struct nf_conntrack_helper *, unsigned int);\nvoid nf_conntrack_helpers_unregister(struct nf_conntrack_helper *,\n\t\t\t\t     unsigned int);\n' \
		$'int nf_conntrack_helper_register(struct nf_conntrack_helper *, struct nf_conntrack_helper **);\nint __nf_conntrack_helper_register(struct nf_conntrack_helper *);\nvoid nf_conntrack_helper_unregister(struct nf_conntrack_helper *);\n\nint nf_conntrack_helpers_register(struct nf_conntrack_helper *, unsigned int,\n\t\t\t\t  struct nf_conntrack_helper **);\nvoid nf_conntrack_helpers_unregister(struct nf_conntrack_helper **,\n\t\t\t\t     unsigned int);\n' &&
	patch_header "$1" include/net/netfilter/nf_conntrack_helper.h \
		$'#define NF_CT_HELPER_NAME_LEN\t16\n\nstruct nf_conntrack_helper {' \
		$'#define NF_CT_HELPER_NAME_LEN\t16\n\n/* Must be kept in sync with the classes defined by helpers */\n#define NF_CT_MAX_EXPECT_CLASSES\t4\n\nstruct nf_conntrack_helper {' &&
	patch_header "$1" include/net/netfilter/nf_conntrack_helper.h \
		$'\tconst struct nf_conntrack_expect_policy *expect_policy;\n' \
		$'\tstruct nf_conntrack_expect_policy expect_policy[NF_CT_MAX_EXPECT_CLASSES];\n' &&
	patch_header "$1" include/net/netfilter/nf_conntrack_helper.h \
		$'};\n\n/* Must be kept in sync with the classes defined by helpers */\n#define NF_CT_MAX_EXPECT_CLASSES\t4\n' \
		$'};\n' || return 1
	want="CONST_CTL_HANDLER HELPERS_REGISTER_PTR NAT_EXP_FIND_PORT REGISTER_NET_SYSCTL_SZ TIMER_DELETE"
	uses="nf_conntrack_helpers_register nf_conntrack_helper_unregister"
	avoids="nf_conntrack_helpers_unregister"
	control='nf_conntrack_helpers_register(h, 2);'
}

# ---------------------------------------------------------------- checks

objs() {
	sed -n 's/^nf_pinhole_ftp-y := //p; /^\t\t    /p' "$root/module/Kbuild" |
		tr -d '\\' | tr -s ' \t' '\n' | grep '\.o$'
}

# build NAME DIR: the module's objects against DIR's headers, into DIR/m.
build() {
	local name=$1 d=$2 f log=$2/build.log
	mkdir -p "$d/m"
	for f in "$root"/module/*.[ch] "$root"/module/Kbuild; do
		case $f in *.mod.c) continue ;; esac
		ln -sfn "$f" "$d/m/${f##*/}"
	done
	# shellcheck disable=SC2046 # one word per object
	if make -C "$d/arch" M="$d/m" W=1 PINHOLE_WERROR=1 $(objs) > "$log" 2>&1 &&
	   ! grep -qE '(warning|error):' "$log"; then
		pass "$name/build"
		return 0
	fi
	sed 's/^/    /' "$log" | head -n 60
	fail "$name/build" "compiling against the patched headers failed (above)"
	return 1
}

check_probes() {
	local name=$1 d=$2 got
	got=$(grep -ho 'PINHOLE_HAVE_[A-Z_]*' "$d"/m/.*.o.cmd | sed 's/PINHOLE_HAVE_//' |
		sort -u | tr '\n' ' ' | sed 's/ $//')
	if [ "$got" = "$want" ]; then
		pass "$name/probes"
	else
		fail "$name/probes" "flags '$got', expected '$want'"
	fi
}

check_symbols() {
	local name=$1 d=$2 und s bad=
	und=$(nm -u "$d"/m/*.o | awk '{print $2}' | sort -u)
	for s in $uses; do
		grep -qx "$s" <<< "$und" || bad+=" missing:$s"
	done
	for s in $avoids; do
		grep -qx "$s" <<< "$und" && bad+=" unexpected:$s"
	done
	if [ -z "$bad" ]; then
		pass "$name/symbols"
	else
		fail "$name/symbols" "undefined symbols of the objects:$bad"
	fi
}

# The other side's call must fail to compile against this copy.
check_control() {
	local name=$1 d=$2 c=$2/control
	[ -n "$control" ] || return 0
	mkdir -p "$c"
	echo 'obj-m := ctl.o' > "$c/Kbuild"
	cat > "$c/ctl.c" <<-EOF
		// SPDX-License-Identifier: GPL-2.0
		#include <linux/module.h>
		#include <linux/timer.h>
		#include <net/netfilter/nf_conntrack_helper.h>
		#include <net/netfilter/nf_nat_helper.h>
		void pinhole_control(void);
		void pinhole_control(void) { $ctl_decls $control }
		MODULE_LICENSE("GPL");
	EOF
	if make -C "$d/arch" M="$c" ctl.o > "$c/log" 2>&1; then
		fail "$name/control" "'$control' compiles against the patched headers: the patch did not take"
	elif grep -q 'error:' "$c/log"; then
		pass "$name/control"
	else
		sed 's/^/    /' "$c/log" | head -n 20
		fail "$name/control" "the control build failed without a compiler error"
	fi
}

mkdir -p "$work"
echo "# compat-probe: Debian headers $kver, copies in $work"
for v in base no_nat_exp_find_port expect_timer_no_del_timer \
	expect_timer_no_timer_delete helpers_register_ptr; do
	name=${v//_/-}
	d=$work/$name
	if ! copy_headers "$d" || ! "variant_$v" "$d"; then
		fail "$name/patch" "cannot reproduce the upstream declaration on $kver's headers"
		continue
	fi
	build "$name" "$d" || continue
	check_probes "$name" "$d"
	check_symbols "$name" "$d"
	check_control "$name" "$d"
done
rm -rf "$work"
exit "$failed"
