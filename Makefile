# SPDX-License-Identifier: GPL-2.0
#
# make            build module/nf_pinhole_ftp.ko and userspace/pinholectl
# make demo       the main job, in a QEMU guest (see README.md)
# make bench      pinhole vs the stock helper vs none, in one guest boot
# make engine-bench  the FTP engine alone, natively, built as the kernel
#                 builds it (MB/s and cycles per byte per line kind)
# make check      every test: build checks, unit, fuzz, KUnit, e2e in a guest
# make check-kernels  the module built and an e2e subset booted on every
#                 kernel of the matrix (Debian 12's 6.1 and 6.12, generic
#                 and PREEMPT_RT: scripts/kernel-matrix.sh)
# make debug-kernel  build (once, cached) the KASAN/lockdep/kmemleak kernel
# make check-debug   the e2e suites on that kernel, with a kmemleak check
# make stress        1000+ FTP sessions under churn and fault injection
#                    (STRESS_KVER=V: on the Debian kernel V instead)
# make deb        Debian packages pinhole-dkms and pinholectl in build/deb/
# make install    the module (for KVER), pinholectl, man pages, completion;
#                 make uninstall removes exactly that (DESTDIR, PREFIX)
# make install-boot   boot-time files (modprobe.d, sysctl.d, nftables,
#                 firewalld, nftables.service drop-in); uninstall-boot
#
# KDIR selects the kernel to build for: by default the running kernel's
# build tree. make demo and make check build against the Debian kernel the
# guest boots, whatever this machine runs: the distribution's default, or
# KVER=<release> (make check KVER=6.12.117+deb12-rt-amd64; scripts/kver.sh;
# KUnit stays UML). A KVER given on the command line reaches the scripts
# through the environment.

KVER ?= $(shell uname -r)
# kbuild's extra warnings, on for developers; DKMS builds pass W= (each
# warning option is probed with a compiler run, which costs a slow machine
# more than the build itself).
W ?= 1
KDIR ?= /lib/modules/$(KVER)/build
PREFIX ?= /usr/local
DESTDIR ?=
# One version for the tool (and the module): the top-level VERSION file.
PINHOLE_VERSION ?= $(shell cat $(CURDIR)/VERSION)
export PINHOLE_VERSION
SYSCONFDIR ?= /etc
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/pinhole
FIREWALLDDIR ?= $(PREFIX)/lib/firewalld
SYSTEMDDIR ?= $(PREFIX)/lib/systemd/system
DEBDIR ?= $(CURDIR)/build/deb
VERSION := $(shell cat $(CURDIR)/VERSION 2>/dev/null)

# Where `make install` puts the module (kbuild's INSTALL_MOD_DIR, plus the
# module/ subdirectory of this tree).
MODULE_DEST = $(DESTDIR)/lib/modules/$(KVER)/extra/module

# Kbuild signs modules at modules_install when the kernel was configured
# with CONFIG_MODULE_SIG_ALL, as Debian's is. Distribution headers carry
# neither the distribution's private key nor System.map: kbuild would only
# print SSL errors and a depmod warning. So `make install` copies the
# module itself, and hands over to kbuild's modules_install (which signs)
# only when the key the kernel's configuration names is there (a
# self-built kernel). DKMS signs with its own MOK key (README.md).
kconf = $(KDIR)/include/config/auto.conf
sig-key = $(shell grep -qx 'CONFIG_MODULE_SIG_ALL=y' $(kconf) 2>/dev/null && \
	sed -n 's/^CONFIG_MODULE_SIG_KEY="\{0,1\}\([^"]*\)"\{0,1\}$$/\1/p' $(kconf))
sig-key-file = $(if $(sig-key),$(firstword $(wildcard $(sig-key) $(KDIR)/$(sig-key))))

# What DKMS builds from: /usr/src/pinhole-$(VERSION)/.
DKMS_SRC = Makefile Kbuild VERSION $(wildcard module/*.[ch]) module/Kbuild

# The kernel the QEMU guest boots; only needed by demo and check.
GUEST_KVER = $(shell scripts/kver.sh)
GUEST_KDIR = /usr/src/linux-headers-$(GUEST_KVER)

.PHONY: all module clean-module userspace sparse deps check demo bench fuzz \
	engine-bench \
	install uninstall install-boot uninstall-boot install-dkms-src \
	uninstall-dkms-src deb clean debug-kernel check-debug stress \
	check-package check-kernels

all: module userspace

module:
	@test -d "$(KDIR)" || { echo "no kernel build tree at $(KDIR):" \
		"install linux-headers-$(KVER) or pass KDIR=/path/to/build" >&2; \
		exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=$(W) modules

# The module's objects only (DKMS's CLEAN: the rest of the tree is not in
# /usr/src/pinhole-$(VERSION)).
clean-module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean

# Sparse over every source file, warnings are errors.
sparse:
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 C=2 CF="-Wsparse-error" modules

userspace:
	$(MAKE) -C userspace

deps:
	scripts/install-deps.sh

check: deps
	tests/run.sh

demo: deps
	scripts/demo.sh

# Side by side with the stock nf_conntrack_ftp, in one guest boot.
bench: deps
	scripts/bench.sh

# No kernel, no guest: the engine's throughput on this machine (ENGINE_MB,
# ENGINE_SEGS, ENGINE_ROUNDS, ENGINE_KINDS; tests/bench/Makefile).
engine-bench:
	$(MAKE) -C tests/bench run

fuzz:
	$(MAKE) -C tests/fuzz fuzz

# Every kernel of the matrix: installs their images and headers first.
check-kernels:
	scripts/install-deps.sh --kernels
	scripts/check-kernels.sh

# Not part of make check: a cold debug kernel build alone takes long.
debug-kernel: deps
	scripts/debug-kernel.sh build

check-debug: deps
	scripts/check-debug.sh

# The Debian packages installed, upgraded, booted and purged in the guest
# (part of make check too), alone, and with a second kernel's DKMS build,
# which make check leaves out for time.
check-package: deps
	PINHOLE_PKG_KERNEL2=1 tests/run.sh e2e-package

STRESS_KVER ?=
stress: deps
	STRESS_KVER=$(STRESS_KVER) scripts/stress.sh

install: all
	@if [ -n "$(sig-key-file)" ]; then \
		echo "signing with $(sig-key-file)"; \
		$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_DIR=extra \
			INSTALL_MOD_PATH=$(DESTDIR) modules_install; \
	else \
		install -D -m 0644 module/nf_pinhole_ftp.ko \
			$(MODULE_DEST)/nf_pinhole_ftp.ko; \
	fi
	install -D -m 0644 module/nf_pinhole_ftp.8 \
		$(DESTDIR)$(MANDIR)/man8/nf_pinhole_ftp.8
	$(MAKE) -C userspace install PREFIX=$(PREFIX) DESTDIR=$(DESTDIR) \
		MANDIR=$(MANDIR)
	$(if $(DESTDIR),,depmod -a $(KVER))

uninstall:
	rm -f $(MODULE_DEST)/nf_pinhole_ftp.ko $(MODULE_DEST)/nf_pinhole_ftp.ko.xz
	-rmdir $(MODULE_DEST) $(DESTDIR)/lib/modules/$(KVER)/extra 2>/dev/null
	rm -f $(DESTDIR)$(MANDIR)/man8/nf_pinhole_ftp.8
	$(MAKE) -C userspace uninstall PREFIX=$(PREFIX) DESTDIR=$(DESTDIR) \
		MANDIR=$(MANDIR)
	$(if $(DESTDIR),,depmod -a $(KVER))

# Boot-time files (README.md, "Installing on a firewall host"). The
# nftables.service drop-in and the helper snippet name /etc/pinhole/.
BOOT_FILES = \
	packaging/modprobe.d/pinhole.conf:$(SYSCONFDIR)/modprobe.d/pinhole.conf \
	packaging/modules-load.d/pinhole.conf:$(SYSCONFDIR)/modules-load.d/pinhole.conf \
	packaging/sysctl.d/60-pinhole-ftp.conf:$(SYSCONFDIR)/sysctl.d/60-pinhole-ftp.conf \
	packaging/nftables/helper.nft:$(SYSCONFDIR)/pinhole/nftables-helper.nft \
	packaging/nftables/nftables.conf:$(DOCDIR)/examples/nftables.conf \
	packaging/systemd/nftables-pinhole.conf:$(SYSTEMDDIR)/nftables.service.d/pinhole-dkms.conf \
	packaging/firewalld/helpers/pinhole-ftp.xml:$(FIREWALLDDIR)/helpers/pinhole-ftp.xml \
	packaging/firewalld/services/ftp-pinhole.xml:$(FIREWALLDDIR)/services/ftp-pinhole.xml

install-boot:
	@set -e; for f in $(BOOT_FILES); do \
		echo "install $${f%%:*} $(DESTDIR)$${f#*:}"; \
		install -D -m 0644 $${f%%:*} $(DESTDIR)$${f#*:}; \
	done

uninstall-boot:
	@for f in $(BOOT_FILES); do \
		echo "rm -f $(DESTDIR)$${f#*:}"; rm -f $(DESTDIR)$${f#*:}; \
	done
	-rmdir $(DESTDIR)$(SYSCONFDIR)/pinhole $(DESTDIR)$(DOCDIR)/examples \
		$(DESTDIR)$(SYSTEMDDIR)/nftables.service.d 2>/dev/null

# The module's source as DKMS wants it (dh_dkms installs dkms.conf in
# the Debian package; `make install-dkms-src` alone installs it too).
install-dkms-src:
	@test -n "$(VERSION)" || { echo "no VERSION file" >&2; exit 1; }
	@set -e; d=$(DESTDIR)/usr/src/pinhole-$(VERSION); \
	for f in $(DKMS_SRC); do install -D -m 0644 $$f $$d/$$f; done; \
	sed 's/#MODULE_VERSION#/$(VERSION)/' dkms.conf > $$d/dkms.conf

uninstall-dkms-src:
	rm -rf $(DESTDIR)/usr/src/pinhole-$(VERSION)

# Debian packages, with Debian's tools only (dpkg-buildpackage, debhelper,
# dh-dkms), from a copy of this tree: build/deb/*.deb.
deb:
	packaging/mkdeb.sh $(DEBDIR)

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null
	-$(MAKE) -C userspace clean
	-$(MAKE) -C tests/unit clean
	-$(MAKE) -C tests/fuzz clean
	-$(MAKE) -C tests/bench clean
	rm -rf build
