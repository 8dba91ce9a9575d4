# SPDX-License-Identifier: GPL-2.0
#
# make            build module/nf_pinhole_ftp.ko and userspace/pinholectl
# make demo       the main job, in a QEMU guest (see README.md)
# make check      every test: build checks, unit, fuzz, KUnit, e2e in a guest
# make debug-kernel  build (once, cached) the KASAN/lockdep/kmemleak kernel
# make check-debug   the e2e suites on that kernel, with a kmemleak check
# make stress        1000+ FTP sessions under churn and fault injection
#                    (STRESS_KVER=V: on the Debian kernel V instead)
#
# KDIR selects the kernel to build for: by default the running kernel's
# build tree. make demo and make check build against the Debian kernel the
# guest boots, whatever this machine runs.

KVER ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KVER)/build
PREFIX ?= /usr/local
DESTDIR ?=
# One version for the tool (and the module): the top-level VERSION file.
PINHOLE_VERSION ?= $(shell cat $(CURDIR)/VERSION)
export PINHOLE_VERSION

# The kernel the QEMU guest boots; only needed by demo and check.
GUEST_KVER = $(shell scripts/kver.sh)
GUEST_KDIR = /usr/src/linux-headers-$(GUEST_KVER)

.PHONY: all module userspace sparse deps check demo bench fuzz install clean \
	debug-kernel check-debug stress

all: module userspace

module:
	@test -d "$(KDIR)" || { echo "no kernel build tree at $(KDIR):" \
		"install linux-headers-$(KVER) or pass KDIR=/path/to/build" >&2; \
		exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 modules

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

fuzz:
	$(MAKE) -C tests/fuzz fuzz

# Not part of make check: a cold debug kernel build alone takes long.
debug-kernel: deps
	scripts/debug-kernel.sh build

check-debug: deps
	scripts/check-debug.sh

STRESS_KVER ?=
stress: deps
	STRESS_KVER=$(STRESS_KVER) scripts/stress.sh

install: all
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_DIR=extra \
		INSTALL_MOD_PATH=$(DESTDIR) modules_install
	install -D -m 0644 module/nf_pinhole_ftp.8 \
		$(DESTDIR)$(PREFIX)/share/man/man8/nf_pinhole_ftp.8
	$(MAKE) -C userspace install PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null
	-$(MAKE) -C userspace clean
	-$(MAKE) -C tests/unit clean
	-$(MAKE) -C tests/fuzz clean
