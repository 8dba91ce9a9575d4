#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The Debian packages on a real system: runs INSIDE the test guest
# (tests/run.sh e2e-package builds the .deb files on the host first):
#
#   scripts/guest-run.sh --env PINHOLE_PKG_DIR=DIR \
#       --env PINHOLE_PKG_VERSIONS="V1 V2" -- tests/e2e/t_package.sh
#
# DIR/a holds pinhole-dkms and pinholectl of version V1, DIR/b of V2 (a
# bumped rebuild). The system is a writable overlay of the guest's root
# (overlayfs over the read-only 9p root, upper directory on tmpfs) that
# the script chroots into to run dpkg, apt, DKMS and modprobe; the kernel's
# own module requests (a ruleset naming a helper) go to that system's
# modprobe too. Cases, in order:
#   install    dpkg -i of both packages; DKMS builds and installs the
#              module for the running kernel; modinfo shows version V1
#   modprobe   `modprobe nf_pinhole_ftp`, MODULE_VERSION in sysfs
#   nohelper-* negative control: the base policy alone (lib.sh's router
#              ruleset, no helper) blocks passive and active data
#   snippet-*  the base policy plus the shipped helper snippet
#              (/etc/pinhole/nftables-helper.nft, a second nft -f): curl
#              passive and active, IPv4 and IPv6, through expectations
#   firewalld  the aliases firewalld's module names need resolve to the
#              DKMS-built module
#   upgrade    edited conffiles survive dpkg -i of V2; DKMS rebuilt the
#              module as V2; the edited modprobe.d options line is in force
#   kernel2    a second kernel's headers (.deb files from apt's cache)
#              installed afterwards get the module built by DKMS's hook
#              (not with PINHOLE_PKG_KERNEL2=0, as make check runs it)
#   boot-*     nftables.service's own Exec lines (and the package's
#              drop-in), in order: with the module present FTP works and the
#              module was loaded on demand; with its file deleted the
#              helper snippet fails alone, the base policy is in force and
#              FTP data is blocked
#   replace-*  the commented modprobe.d install line: a ruleset naming the
#              stock "ftp" helper loads nf_pinhole_ftp helper_name=ftp
#              (negative control: without the line it loads nf_conntrack_ftp)
#   purge      apt-get purge leaves no module, tool, source or conffile
#
# Speed (not semantics): depmod under TCG over 9p takes minutes for the
# 4000 modules of Debian's kernel, and DKMS runs it at every install and
# removal. The overlay's module trees (the guest kernel's, and kernel2's
# when its image is installed) therefore hold only the subtrees the guest
# needs (arch crypto fs lib mm net, veth); man-db's trigger is switched
# off.
set -eu
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
E2E_SUITE=e2e-package

PKG_DIR=${PINHOLE_PKG_DIR:?set PINHOLE_PKG_DIR (tests/run.sh e2e-package)}
read -r V1 V2 <<< "${PINHOLE_PKG_VERSIONS:?set PINHOLE_PKG_VERSIONS}"
KV=$PINHOLE_KVER
OV=/tmp/pkgov
R=$OV/root
MODPROBE_SAVED=$(cat /proc/sys/kernel/modprobe)

pkg_cleanup() {
	echo "$MODPROBE_SAVED" > /proc/sys/kernel/modprobe
}

e2e_init package
trap 'rc=$?; pkg_cleanup; (exit $rc); e2e_cleanup' EXIT

# inR CMD...: run CMD in the overlay system, as a root shell would.
inR() {
	chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LANG=C.UTF-8 TERM=dumb DEBIAN_FRONTEND=noninteractive "$@"
}

# step NAME CMD...: run CMD, its output in $E2E_WORK/NAME.log (with
# PINHOLE_PKG_TRACE=1 also, as it happens, in $PINHOLE_RESULTS); on
# failure show the end of it.
step() {
	local name=$1 rc=0 t0=$SECONDS log=$E2E_WORK/$1.log
	shift
	if [ "${PINHOLE_PKG_TRACE:-0}" = 1 ] && [ -d "${PINHOLE_RESULTS:-}" ]; then
		"$@" 2>&1 | tee "$log" > "$PINHOLE_RESULTS/package-$name.log"
		rc=${PIPESTATUS[0]}
	else
		"$@" > "$log" 2>&1 || rc=$?
	fi
	e2e_log "step $name: exit $rc after $((SECONDS - t0)) s"
	if [ "$rc" -ne 0 ]; then
		echo "# $name: exit $rc; end of its output:"
		tail -n 25 "$E2E_WORK/$name.log" | sed 's/^/#   /'
	fi
	return "$rc"
}

deb() { # a|b NAME VERSION: path of a built package
	local f
	for f in "$PKG_DIR/$1/$2_$3_"*.deb; do
		[ -f "$f" ] && { echo "$f"; return 0; }
	done
	return 1
}

# ------------------------------------------------------------- the system

# trim_modules KVER: the overlay's /lib/modules/KVER/kernel holds only the
# subtrees the guest needs (see the header), when the host has that tree.
trim_modules() {
	local d t=$OV/mods/$1
	[ -d "/lib/modules/$1/kernel" ] || return 0
	for d in arch crypto fs lib mm net; do
		[ -d "/lib/modules/$1/kernel/$d" ] || continue
		mkdir -p "$t/$d"
		mount --bind "/lib/modules/$1/kernel/$d" "$t/$d" || return 1
	done
	if [ -f "/lib/modules/$1/kernel/drivers/net/veth.ko" ]; then
		mkdir -p "$t/drivers/net"
		: > "$t/drivers/net/veth.ko"
		mount --bind "/lib/modules/$1/kernel/drivers/net/veth.ko" \
			"$t/drivers/net/veth.ko" || return 1
	fi
	mount --rbind "$t" "$R/lib/modules/$1/kernel"
}

overlay_setup() {
	local d
	modprobe overlay || return 1
	mkdir -p "$OV/upper" "$OV/work" "$R"
	mount -t overlay overlay \
		-o "lowerdir=/,upperdir=$OV/upper,workdir=$OV/work" "$R" || return 1
	mount -t proc proc "$R/proc"
	mount --rbind /sys "$R/sys"
	mount --rbind /dev "$R/dev"
	for d in tmp run var/tmp var/log root; do
		mount -t tmpfs tmpfs "$R/$d"
	done
	chmod 1777 "$R/tmp" "$R/var/tmp"
	trim_modules "$KV"
	rm -f "$R/var/lib/man-db/auto-update"
	# One kernel installed: the guest's. The build host may have others
	# (make check-kernels installs the matrix), and dkms's postinst
	# builds for the newest kernel of /boot too: each would add a
	# build under TCG (and, were that kernel kernel2's, build its
	# module before its case).
	for d in "$R"/boot/config-*; do
		[ "$d" = "$R/boot/config-$KV" ] || rm -f "$d"
	done
	# The kernel runs its module requests in the initramfs's root, where
	# this chroot is /newroot (scripts/guest/init).
	printf '#!/bin/busybox sh\nexec /bin/busybox chroot /newroot%s /sbin/modprobe "$@"\n' \
		"$R" > "$OV/modprobe"
	chmod 0755 "$OV/modprobe"
	echo "/newroot$OV/modprobe" > /proc/sys/kernel/modprobe
}

# Tracing (a debugging aid): what runs, every 20 s.
if [ "${PINHOLE_PKG_TRACE:-0}" = 1 ] && [ -d "${PINHOLE_RESULTS:-}" ]; then
	while sleep 20; do
		{ echo "== $SECONDS s"; ps -eo etime,args --sort=start_time | tail -n 6; } \
			>> "$PINHOLE_RESULTS/package-ps.log" 2>&1
	done &
fi

if ! step overlay overlay_setup; then
	die "cannot set up the overlay system"
fi
case_time
e2e_log "overlay: $E2E_DT"

# module_file KVER: the DKMS-installed module of KVER, if any.
module_file() {
	find "$R/lib/modules/$1/updates" -name 'nf_pinhole_ftp.ko*' 2>/dev/null | head -n 1
}

# ---------------------------------------------------------------- install

A_DKMS=$(deb a pinhole-dkms "$V1") || die "no pinhole-dkms $V1 in $PKG_DIR/a"
A_CTL=$(deb a pinholectl "$V1") || die "no pinholectl $V1 in $PKG_DIR/a"
B_DKMS=$(deb b pinhole-dkms "$V2") || die "no pinhole-dkms $V2 in $PKG_DIR/b"
B_CTL=$(deb b pinholectl "$V2") || die "no pinholectl $V2 in $PKG_DIR/b"
mkdir -p "$R/tmp/debs"
cp "$A_DKMS" "$A_CTL" "$B_DKMS" "$B_CTL" "$R/tmp/debs/"
inroot() { echo "/tmp/debs/${1##*/}"; }

if step install inR dpkg -i "$(inroot "$A_DKMS")" "$(inroot "$A_CTL")"; then
	ko=$(module_file "$KV")
	st=$(inR dkms status pinhole 2>&1)
	if [ -z "$ko" ]; then
		e2e_fail package/install "no nf_pinhole_ftp.ko under /lib/modules/$KV/updates ($st)"
	elif [ "$(modinfo -F version "$ko")" != "$V1" ]; then
		e2e_fail package/install "module version '$(modinfo -F version "$ko")', not $V1"
	elif ! grep -q "pinhole/$V1, $KV, .*: installed" <<< "$st"; then
		e2e_fail package/install "dkms status: $st"
	else
		e2e_log "dkms status: $st; ${ko#"$R"}"
		e2e_pass package/install
	fi
else
	e2e_fail package/install "dpkg -i failed"
fi

if step modprobe inR modprobe nf_pinhole_ftp &&
   [ "$(cat /sys/module/nf_pinhole_ftp/version 2>/dev/null)" = "$V1" ]; then
	e2e_pass package/modprobe
else
	e2e_fail package/modprobe "modprobe nf_pinhole_ftp failed or sysfs version" \
		"'$(cat /sys/module/nf_pinhole_ftp/version 2>/dev/null)' is not $V1"
fi

# ------------------------------------------- the shipped snippet carries FTP

# The router of lib.sh, its ruleset without a helper: the base policy.
net_build
# shellcheck disable=SC2034 # read by lib.sh
E2E_NET_BUILT=1 E2E_TOPO=router FW_NSES=("$NS_FW") FW_HOOK=forward
E2E_DATA_FILTERED=both
vsftpd_start

base_only() { fw_load "$NS_FW" forward none; }
snippet_load() { # NS: the package's helper snippet, a second nft -f
	in_ns "$1" nft -f "$R/etc/pinhole/nftables-helper.nft"
}

base_only
expect_blocked package/nohelper/curl-pasv-v4 curl pasv 4 || true
expect_blocked package/nohelper/curl-eprt-v6 curl eprt 6 || true
if step snippet snippet_load "$NS_FW"; then
	expect_download package/snippet/curl-pasv-v4 curl pasv 4 || true
	expect_download package/snippet/curl-port-v4 curl port 4 || true
	expect_download package/snippet/curl-epsv-v6 curl epsv 6 || true
	expect_download package/snippet/curl-eprt-v6 curl eprt 6 || true
else
	e2e_fail package/snippet "nft -f /etc/pinhole/nftables-helper.nft failed"
fi

# ---------------------------------------------------------------- firewalld

# firewalld runs `modprobe nf_nat_<x>` for every helper of a service and
# `modprobe nf_conntrack_<x>` for one without ports; the nftables ct helper
# it creates has the type pinhole-ftp (checked on the host, with
# firewalld's own python modules, by tests/run.sh).
fwd_ok=1
for m in nf_conntrack_pinhole_ftp nf_nat_pinhole_ftp; do
	dep=$(inR modprobe --show-depends "$m" 2>&1 | tail -n 1)
	case $dep in
	*/updates/dkms/nf_pinhole_ftp.ko*|"builtin "*) ;;
	*) fwd_ok=0; e2e_log "modprobe --show-depends $m: $dep" ;;
	esac
done
[ -f "$R/usr/lib/firewalld/helpers/pinhole-ftp.xml" ] || fwd_ok=0
[ -f "$R/usr/lib/firewalld/services/ftp-pinhole.xml" ] || fwd_ok=0
if [ "$fwd_ok" = 1 ]; then
	e2e_pass package/firewalld-aliases
else
	e2e_fail package/firewalld-aliases "firewalld's module names do not load nf_pinhole_ftp"
fi

# ------------------------------------------------------------------ upgrade

# The administrator edits two conffiles, then installs the newer version.
HELPER_CONF=$R/etc/pinhole/nftables-helper.nft
MODPROBE_CONF=$R/etc/modprobe.d/pinhole.conf
echo "# edited by the administrator" >> "$HELPER_CONF"
echo "options nf_pinhole_ftp timeout=37" >> "$MODPROBE_CONF"
sum_helper=$(sha256sum < "$HELPER_CONF")
sum_modprobe=$(sha256sum < "$MODPROBE_CONF")

if step upgrade inR dpkg -i "$(inroot "$B_DKMS")" "$(inroot "$B_CTL")"; then
	ko=$(module_file "$KV")
	st=$(inR dkms status pinhole 2>&1)
	why=
	[ "$(sha256sum < "$HELPER_CONF")" = "$sum_helper" ] ||
		why+=" nftables-helper.nft changed;"
	[ "$(sha256sum < "$MODPROBE_CONF")" = "$sum_modprobe" ] ||
		why+=" modprobe.d/pinhole.conf changed;"
	[ -n "$ko" ] && [ "$(modinfo -F version "$ko")" = "$V2" ] ||
		why+=" module is not version $V2 (${ko:-none});"
	! grep -q "pinhole/$V1," <<< "$st" || why+=" $V1 still known to dkms;"
	[ "$(inR pinholectl --version 2>/dev/null | head -n 1 | cut -d' ' -f1-2)" = "pinholectl $V2" ] ||
		why+=" pinholectl --version: $(inR pinholectl --version 2>&1 | head -n 1);"
	# reload: the new module, with the administrator's options line
	fw_clear
	in_ns "$NS_FW" nft delete table inet pinhole_helper 2>/dev/null || true
	wait_until 10 sh -c '[ "$(cat /sys/module/nf_pinhole_ftp/refcnt)" = 0 ]' || true
	if ! rmmod nf_pinhole_ftp || ! inR modprobe nf_pinhole_ftp; then
		why+=" cannot reload the module;"
	elif [ "$(cat /sys/module/nf_pinhole_ftp/version)" != "$V2" ] ||
	     [ "$(cat /sys/module/nf_pinhole_ftp/parameters/timeout)" != 37 ]; then
		why+=" loaded module: version $(cat /sys/module/nf_pinhole_ftp/version),"
		why+=" timeout $(cat /sys/module/nf_pinhole_ftp/parameters/timeout);"
	fi
	if [ -z "$why" ]; then
		e2e_log "dkms status: $st"
		e2e_pass package/upgrade-keeps-conffiles
	else
		e2e_fail package/upgrade-keeps-conffiles "$why"
	fi
else
	e2e_fail package/upgrade-keeps-conffiles "dpkg -i of $V2 failed"
fi

# ------------------------------------------------------------ second kernel

# The newest linux-headers-*-amd64 in apt's cache for a kernel other than
# the guest's (scripts/install-deps.sh downloads one), with its -common.
second_headers() {
	local f v
	for f in /var/cache/apt/archives/linux-headers-*-amd64_*_amd64.deb; do
		[ -f "$f" ] || continue
		v=${f##*/linux-headers-}
		v=${v%%_*}
		[ "$v" != "$KV" ] || continue
		ls /var/cache/apt/archives/linux-headers-"${v%-amd64}"-common_*_all.deb \
			>/dev/null 2>&1 || continue
		echo "$v"
	done | sort -V | tail -n 1
}
# A third DKMS build under TCG (about 270 s): make check-package runs it;
# make check leaves it out for time (PINHOLE_PKG_KERNEL2=0), says so and
# counts nothing for it.
K2=$(second_headers)
if [ "${PINHOLE_PKG_KERNEL2:-1}" = 0 ]; then
	echo "# package/kernel2: not run (PINHOLE_PKG_KERNEL2=0: make check-package runs it)"
elif [ -z "$K2" ]; then
	e2e_fail package/kernel2 "no second linux-headers .deb in /var/cache/apt/archives" \
		"(scripts/install-deps.sh downloads one)"
elif [ -n "$(module_file "$K2")" ]; then
	e2e_fail package/kernel2 "a module for $K2 exists before its headers" \
		"are installed: the case would prove nothing"
else
	# The arch package alone when its -common is installed already (the
	# build host's matrix headers): its postinst runs DKMS's hook, and
	# unpacking -common's 10000 more files under TCG takes minutes.
	k2debs="/tmp/debs/linux-headers-${K2}_*_amd64.deb"
	cp /var/cache/apt/archives/linux-headers-"$K2"_*_amd64.deb "$R/tmp/debs/"
	if ! inR dpkg-query -W -f '${Status}\n' "linux-headers-${K2%-amd64}-common" 2>/dev/null |
	     grep -q ' installed$'; then
		cp /var/cache/apt/archives/linux-headers-"${K2%-amd64}"-common_*_all.deb "$R/tmp/debs/"
		k2debs="/tmp/debs/linux-headers-${K2%-amd64}-common_*_all.deb $k2debs"
	fi
	# K2's module tree, when its image is installed here (the build
	# host's kernel matrix), is trimmed like the guest's: DKMS runs
	# depmod for K2 at this install and at the purge.
	trim_modules "$K2" || e2e_log "cannot trim /lib/modules/$K2"
	if step kernel2 inR sh -c "dpkg -i $k2debs"; then
		ko=$(module_file "$K2")
		if [ -n "$ko" ] && [ "$(modinfo -F vermagic "$ko" | cut -d' ' -f1)" = "$K2" ] &&
		   [ "$(modinfo -F version "$ko")" = "$V2" ]; then
			e2e_log "${ko#"$R"}: $(inR dkms status pinhole -k "$K2" 2>&1)"
			e2e_pass package/kernel2
		else
			e2e_fail package/kernel2 "no module for $K2 after its headers were" \
				"installed ($(inR dkms status pinhole 2>&1 | tr '\n' ' '))"
		fi
	else
		e2e_fail package/kernel2 "dpkg -i linux-headers-$K2 failed"
	fi
fi

# --------------------------------------------------------------- boot story

# What nftables.service does at boot, from its own unit file and the
# drop-ins next to it: ExecStart, then each ExecStartPost, a "-" prefix
# making a failure non-fatal. Runs in fw; prints each command's status.
service_cmds() {
	cat "$R/lib/systemd/system/nftables.service" \
		"$R"/lib/systemd/system/nftables.service.d/*.conf 2>/dev/null |
		sed -n 's/^ExecStart=//p; s/^ExecStartPost=//p'
}
boot_nftables() {
	local cmd ok=0
	while IFS= read -r cmd; do
		case $cmd in
		-*) cmd=${cmd#-}; ok=1 ;;
		*) ok=0 ;;
		esac
		if in_ns "$NS_FW" chroot "$R" /bin/sh -c "$cmd"; then
			echo "boot: ok: $cmd"
		else
			echo "boot: FAILED: $cmd"
			[ "$ok" = 1 ] || return 1
		fi
	done < <(service_cmds)
}

# The administrator's /etc/nftables.conf: lib.sh's router policy, no
# helper, after Debian's usual `flush ruleset`.
{
	echo "flush ruleset"
	fw_ruleset forward none
} > "$R/etc/nftables.conf"

# "Reboot": no ruleset, no module loaded.
unload_all() {
	in_ns "$NS_FW" nft flush ruleset
	ct_flush "$NS_FW"
	wait_until 10 sh -c '[ ! -e /sys/module/nf_pinhole_ftp ] ||
		[ "$(cat /sys/module/nf_pinhole_ftp/refcnt)" = 0 ]' || true
	[ ! -e /sys/module/nf_pinhole_ftp ] || rmmod nf_pinhole_ftp
}

if step boot-unload unload_all && step boot-present boot_nftables; then
	if [ -e /sys/module/nf_pinhole_ftp ] &&
	   in_ns "$NS_FW" nft list table inet pinhole_helper >/dev/null 2>&1; then
		e2e_pass package/boot-present/helper-loaded
		expect_download package/boot-present/curl-pasv-v4 curl pasv 4 || true
		expect_download package/boot-present/curl-port-v4 curl port 4 || true
	else
		e2e_fail package/boot-present/helper-loaded "the module was not loaded" \
			"on demand or the helper table is missing: $(tr '\n' ' ' < "$E2E_WORK/boot-present.log")"
	fi
else
	e2e_fail package/boot-present "nftables.service's commands failed"
fi

# ---------------------------------- replacement of nf_conntrack_ftp (modprobe.d)

# A ruleset naming the stock helper in a fresh namespace: which module does
# the kernel's request for nfct-helper-ftp load?
stock_ruleset_loads() {
	local out
	ip netns add ph || return 1
	out=$(printf 'table inet t {\n\tct helper f {\n\t\ttype "ftp" protocol tcp\n\t}\n}\n' |
		ip netns exec ph nft -f - 2>&1)
	local rc=$?
	ip netns exec ph nft flush ruleset 2>/dev/null
	ip netns delete ph
	[ "$rc" -eq 0 ] || { echo "nft: $out"; return 1; }
	if [ -e /sys/module/nf_conntrack_ftp ]; then
		echo nf_conntrack_ftp
	elif [ -e /sys/module/nf_pinhole_ftp ]; then
		echo "nf_pinhole_ftp:$(cat /sys/module/nf_pinhole_ftp/parameters/helper_name)"
	else
		echo none
	fi
}
unload_stock() {
	local m
	for m in nf_conntrack_ftp nf_pinhole_ftp; do
		[ -e "/sys/module/$m" ] || continue
		wait_until 10 sh -c "[ \"\$(cat /sys/module/$m/refcnt)\" = 0 ]" || true
		rmmod "$m" || return 1
	done
}

step replace-unload unload_all || true
got=$(stock_ruleset_loads)
if [ "$got" = nf_conntrack_ftp ]; then
	e2e_pass package/replace-off/stock-loads
else
	e2e_fail package/replace-off/stock-loads "without the install line: $got"
fi
unload_stock || e2e_log "cannot unload $got"
sed -i 's/^#install nf_conntrack_ftp /install nf_conntrack_ftp /' "$MODPROBE_CONF"
got=$(stock_ruleset_loads)
if [ "$got" = nf_pinhole_ftp:ftp ]; then
	e2e_pass package/replace-on/pinhole-loads-as-ftp
else
	e2e_fail package/replace-on/pinhole-loads-as-ftp "with the install line: $got"
fi
unload_stock || e2e_log "cannot unload $got"
sed -i 's/^install nf_conntrack_ftp /#install nf_conntrack_ftp /' "$MODPROBE_CONF"

# ------------------------------------------ boot without the module (fail closed)

# The module's file goes away (a kernel upgraded without DKMS has none);
# put back before the purge, which should find everything in place.
ko=$(module_file "$KV")
if [ -n "$ko" ] && step boot-missing-unload unload_all && mv "$ko" "$OV/saved.ko" &&
   { step boot-missing boot_nftables || true; } &&
   grep -q '^boot: FAILED: .*nftables-helper.nft' "$E2E_WORK/boot-missing.log"; then
	if in_ns "$NS_FW" nft list chain inet "$E2E_TABLE" filter 2>/dev/null |
	   grep -q 'policy drop' &&
	   ! in_ns "$NS_FW" nft list table inet pinhole_helper >/dev/null 2>&1; then
		e2e_pass package/boot-missing/base-policy-in-force
	else
		e2e_fail package/boot-missing/base-policy-in-force \
			"$(in_ns "$NS_FW" nft list ruleset 2>&1 | tr '\n' ' ' | cut -c1-300)"
	fi
	expect_blocked package/boot-missing/curl-pasv-v4 curl pasv 4 || true
	expect_blocked package/boot-missing/curl-port-v4 curl port 4 || true
	e2e_log "pinholectl doctor: $(in_ns "$NS_FW" chroot "$R" pinholectl doctor 2>&1 |
		tr '\n' ' ' | cut -c1-300)"
else
	e2e_fail package/boot-missing "could not boot without the module:" \
		"$(tr '\n' ' ' < "$E2E_WORK/boot-missing.log" 2>/dev/null)"
fi

[ ! -f "$OV/saved.ko" ] || mv "$OV/saved.ko" "$ko"

# -------------------------------------------------------------------- purge

leftovers() {
	local f
	for f in "$R"/usr/src/pinhole-* "$R/var/lib/dkms/pinhole" "$R/usr/sbin/pinholectl" \
		"$R/etc/pinhole" "$R/etc/modprobe.d/pinhole.conf" \
		"$R/etc/modules-load.d/pinhole.conf" "$R/etc/sysctl.d/60-pinhole-ftp.conf" \
		"$R/usr/lib/firewalld/helpers/pinhole-ftp.xml" \
		"$R/lib/systemd/system/nftables.service.d/pinhole-dkms.conf" \
		"$R"/usr/share/man/man8/pinholectl.8* "$R"/usr/share/man/man8/nf_pinhole_ftp.8* \
		"$R/usr/share/doc/pinhole-dkms" "$R/usr/share/doc/pinholectl"; do
		[ ! -e "$f" ] || echo "${f#"$R"}"
	done
	find "$R/lib/modules" -name 'nf_pinhole_ftp.ko*' 2>/dev/null | sed "s|^$R||"
	inR dpkg-query -W -f '${Package} ${Status}\n' pinhole-dkms pinholectl 2>/dev/null |
		grep -v 'not-installed' || true
}
if step purge inR apt-get purge -y pinhole-dkms pinholectl; then
	left=$(leftovers)
	if [ -z "$left" ]; then
		e2e_pass package/purge
	else
		e2e_fail package/purge "left behind: $(tr '\n' ' ' <<< "$left")"
	fi
else
	e2e_fail package/purge "apt-get purge failed"
fi

e2e_finish
