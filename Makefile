# SPDX-License-Identifier: GPL-2.0-only
#
# vmfit top-level Makefile.
#
#   make            build the module and all userspace programs
#   make module     build kmod/dm-vmfit.ko against KDIR
#   make deps       install the Debian packages everything needs (idempotent)
#   make check      deps + build + every test; T=name runs one test
#   make demo       the multi-host demo (see README.md)
#   make bench      the benchmarks; results in bench/results/
#   make stress     long-running stress tests (power cuts, many cycles)
#   make install    install userspace, man pages, libvmfit, the systemd unit
#                   (PREFIX=/usr/local, DESTDIR=); make uninstall undoes it
#   make dkms-install  the module's sources into /usr/src for DKMS, and
#                   `dkms install` them unless DESTDIR is set
#
# Userspace is built non-recursively: every component owns a build.mk
# fragment that appends to USER_BINS / UNIT_TESTS and defines its own link
# rules. Objects land in build/obj (normal) and build/san (ASan/UBSan).

KREL ?= $(shell uname -r)
KDIR ?= $(firstword $(wildcard /lib/modules/$(KREL)/build) \
		    $(wildcard /usr/src/linux-headers-*-amd64))

B := build

# The release version, defined once: the DKMS package version of the module.
VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"$$/\1/p' tools/dkms.conf)
V ?= 0
ifeq ($(V),0)
Q := @
else
Q :=
endif

CC := gcc
CSTD := -std=c11 -D_GNU_SOURCE
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wno-unused-parameter
CPPFLAGS := -Iinclude -Iuserspace/lib -MMD -MP \
	-DVMFIT_VERSION='"$(VERSION)"'
CFLAGS := $(CSTD) -O2 -g $(WARN)
SAN_CFLAGS := $(CSTD) -O1 -g $(WARN) -fsanitize=address,undefined \
	-fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS :=
SAN_LDFLAGS := -fsanitize=address,undefined

# Filled in by the build.mk fragments.
USER_BINS :=
UNIT_TESTS :=

# Objects reached only through pattern rules are intermediate to make, which
# would delete them after the link and rebuild them next time: keep them.
.SECONDARY:

.PHONY: all module userspace unit-tests deps check demo bench stress clean \
	checkpatch sparse help man install uninstall dkms-install dkms-uninstall

all: module userspace

help:
	@sed -n '3,16p' Makefile | sed 's/^# \{0,1\}//'

# --------------------------------------------------------------------------
# Kernel module

module:
	@test -n "$(KDIR)" || { echo "make: no kernel build tree; run 'make deps' or set KDIR=" >&2; exit 1; }
	$(Q)$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 modules

sparse:
	$(Q)$(MAKE) -C $(KDIR) M=$(CURDIR) C=2 W=1 modules

checkpatch:
	$(Q)tools/checkpatch.sh

# --------------------------------------------------------------------------
# Userspace

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))
sanobj = $(patsubst %.c,$(B)/san/%.o,$(1))

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(CFLAGS_$(notdir $*)) -c -o $@ $<

$(B)/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS) $(SAN_CFLAGS) $(CFLAGS_$(notdir $*)) -c -o $@ $<

# libvmfit: every .c in userspace/lib.
LIBVMFIT_SRCS := $(wildcard userspace/lib/*.c)
LIBVMFIT := $(B)/lib/libvmfit.a
LIBVMFIT_SAN := $(B)/lib/libvmfit-san.a

$(LIBVMFIT): $(call obj,$(LIBVMFIT_SRCS))
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIBVMFIT_SAN): $(call sanobj,$(LIBVMFIT_SRCS))
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

-include $(sort $(wildcard userspace/*/build.mk userspace/*/*/build.mk \
	tools/build.mk tools/*/build.mk tests/*/build.mk))

userspace: $(USER_BINS)
unit-tests: $(UNIT_TESTS)

-include $(shell find $(B)/obj $(B)/san -name '*.d' 2>/dev/null)

# --------------------------------------------------------------------------
# Installation (README.md, "Installing")
#
# GNU-style directory variables: a Debian package build runs
# `make install PREFIX=/usr DESTDIR=debian/tmp` (with
# LIBDIR=/usr/lib/<multiarch> for the static library).

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
LIBDIR ?= $(PREFIX)/lib
# Programs that only vmfitd starts (replicas), as vmfitd.conf(5) names them.
PKGLIBEXECDIR ?= $(PREFIX)/lib/vmfit
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/vmfit
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
# dkms(8) takes sources from here only, whatever PREFIX is.
DKMS_SRCDIR := /usr/src/dm-vmfit-$(VERSION)
RST2MAN ?= rst2man

# What goes where: the daemon and the root-only tools (section 8 man pages)
# in sbin, the unprivileged client emulator in bin, the replica programs in
# PKGLIBEXECDIR; libvmfit's headers keep their layout under
# INCLUDEDIR/vmfit (vf_nl.h includes "uapi/linux/dm-vmfit.h").
INSTALL_SBIN := $(B)/bin/vmfitd $(B)/bin/vmfit-ctl $(B)/bin/vmfit-stall
INSTALL_BIN := $(B)/bin/vmfit-bench
INSTALL_PKGLIBEXEC := $(B)/bin/kv-hash $(B)/bin/kv-sqlite
INSTALL_HEADERS := $(wildcard userspace/lib/*.h)
UAPI_HEADER := include/uapi/linux/dm-vmfit.h

# Files made from a *.in template at install time (so that the PREFIX & co.
# given to `make install` are the ones written into them), as
# TEMPLATE:DESTINATION (without DESTDIR) pairs.
INSTALL_SUBST := \
	userspace/vmfitd/vmfitd.service.in:$(SYSTEMDUNITDIR)/vmfitd.service \
	userspace/vmfitd/vmfitd.conf.in:$(DOCDIR)/examples/vmfitd.conf \
	userspace/lib/libvmfit.pc.in:$(LIBDIR)/pkgconfig/libvmfit.pc
pair_1st = $(word 1,$(subst :, ,$(1)))
pair_2nd = $(word 2,$(subst :, ,$(1)))
# The .pc file names LIBDIR and INCLUDEDIR relative to ${prefix} where they
# are below PREFIX, as .pc files usually do.
pc_rel = $(patsubst $(PREFIX)/%,$${prefix}/%,$(1))
SUBST := sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@SBINDIR@|$(SBINDIR)|g' \
	-e 's|@PKGLIBEXECDIR@|$(PKGLIBEXECDIR)|g' \
	-e 's|@PC_LIBDIR@|$(call pc_rel,$(LIBDIR))|g' \
	-e 's|@PC_INCLUDEDIR@|$(call pc_rel,$(INCLUDEDIR))|g' \
	-e 's|@VERSION@|$(VERSION)|g'

# Man pages: every Documentation/*.rst with a ":Manual section: N" field
# becomes $(B)/man/manN/NAME.N, NAME being the file's name without .N.rst
# or .rst; MAN_MAP holds RST:N pairs.
MAN_MAP := $(shell awk '/^:Manual section:/ { print FILENAME ":" $$3 }' \
	Documentation/*.rst)
man_page = $(B)/man/man$(2)/$(patsubst %.$(2),%,$(basename $(notdir $(1)))).$(2)
MAN_PAGES :=

# groff 1.22.4 (Debian 12) still breaks man(1)'s continuous rendering into
# 11-inch pages, and a table across such a break loses its rules ("grotty:
# character above first line discarded"): one page as long as needed
# (an-old.tmac shortens it to the text at the end).
define man_rule
MAN_PAGES += $(call man_page,$(1),$(2))
$(call man_page,$(1),$(2)): $(1)
	@command -v $(RST2MAN) >/dev/null || { echo "make: $(RST2MAN) missing: run 'make deps' (python3-docutils)" >&2; exit 1; }
	@mkdir -p $$(dir $$@)
	$(Q)$(RST2MAN) --strict $$< $$@.tmp
	$(Q)sed -i '/^\.TH /a .if n .if \\n[cR] .pl 100000v' $$@.tmp
	$(Q)mv $$@.tmp $$@
endef
$(foreach e,$(MAN_MAP),\
	$(eval $(call man_rule,$(call pair_1st,$(e)),$(call pair_2nd,$(e)))))

man: $(MAN_PAGES)

install: $(INSTALL_SBIN) $(INSTALL_BIN) $(INSTALL_PKGLIBEXEC) $(LIBVMFIT) \
		$(MAN_PAGES)
	$(Q)install -d $(addprefix $(DESTDIR),$(SBINDIR) $(BINDIR) \
		$(PKGLIBEXECDIR) $(LIBDIR) $(INCLUDEDIR)/vmfit/uapi/linux)
	$(Q)install -m 0755 $(INSTALL_SBIN) $(DESTDIR)$(SBINDIR)/
	$(Q)install -m 0755 $(INSTALL_BIN) $(DESTDIR)$(BINDIR)/
	$(Q)install -m 0755 $(INSTALL_PKGLIBEXEC) $(DESTDIR)$(PKGLIBEXECDIR)/
	$(Q)install -m 0644 $(LIBVMFIT) $(DESTDIR)$(LIBDIR)/
	$(Q)install -m 0644 $(INSTALL_HEADERS) $(DESTDIR)$(INCLUDEDIR)/vmfit/
	$(Q)install -m 0644 $(UAPI_HEADER) \
		$(DESTDIR)$(INCLUDEDIR)/vmfit/uapi/linux/
	$(Q)$(foreach m,$(MAN_PAGES),install -D -m 0644 $(m) \
		$(DESTDIR)$(MANDIR)/$(patsubst $(B)/man/%,%,$(m)) &&) true
	$(Q)install -D -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	$(Q)$(foreach e,$(INSTALL_SUBST),\
		install -d $(DESTDIR)$(dir $(call pair_2nd,$(e))) && \
		$(SUBST) $(call pair_1st,$(e)) >$(DESTDIR)$(call pair_2nd,$(e)) && \
		chmod 0644 $(DESTDIR)$(call pair_2nd,$(e)) &&) true

# Removes exactly what `make install` put there (same variables), then
# the directories that were vmfit's alone, if empty.
uninstall:
	$(Q)rm -f $(addprefix $(DESTDIR)$(SBINDIR)/,$(notdir $(INSTALL_SBIN))) \
		$(addprefix $(DESTDIR)$(BINDIR)/,$(notdir $(INSTALL_BIN))) \
		$(addprefix $(DESTDIR)$(PKGLIBEXECDIR)/,\
			$(notdir $(INSTALL_PKGLIBEXEC))) \
		$(DESTDIR)$(LIBDIR)/$(notdir $(LIBVMFIT)) \
		$(addprefix $(DESTDIR)$(INCLUDEDIR)/vmfit/,\
			$(notdir $(INSTALL_HEADERS)) \
			$(patsubst include/%,%,$(UAPI_HEADER))) \
		$(patsubst $(B)/man/%,$(DESTDIR)$(MANDIR)/%,$(MAN_PAGES)) \
		$(DESTDIR)$(DOCDIR)/README.md \
		$(foreach e,$(INSTALL_SUBST),$(DESTDIR)$(call pair_2nd,$(e)))
	$(Q)rmdir --ignore-fail-on-non-empty $(addprefix $(DESTDIR),\
		$(PKGLIBEXECDIR) $(INCLUDEDIR)/vmfit/uapi/linux \
		$(INCLUDEDIR)/vmfit/uapi $(INCLUDEDIR)/vmfit \
		$(DOCDIR)/examples $(DOCDIR)) 2>/dev/null || true

# The module as dkms(8) builds it: the Kbuild files, its sources, the uapi
# header and tools/dkms.conf, in DKMS_SRCDIR. Without DESTDIR, `dkms
# install` then builds and installs it for the running kernel (and, with
# AUTOINSTALL, for every kernel installed later).
DKMS_FILES := Kbuild kmod/Kbuild $(wildcard kmod/*.[ch]) $(UAPI_HEADER)

dkms-install:
	$(Q)$(foreach f,$(DKMS_FILES),install -D -m 0644 $(f) \
		$(DESTDIR)$(DKMS_SRCDIR)/$(f) &&) true
	$(Q)install -m 0644 tools/dkms.conf $(DESTDIR)$(DKMS_SRCDIR)/dkms.conf
	$(Q)if [ -z "$(DESTDIR)" ]; then dkms install dm-vmfit/$(VERSION); fi

dkms-uninstall:
	$(Q)if [ -z "$(DESTDIR)" ] && \
		[ -n "$$(dkms status dm-vmfit/$(VERSION))" ]; then \
		dkms remove dm-vmfit/$(VERSION) --all; fi
	$(Q)rm -rf $(DESTDIR)$(DKMS_SRCDIR)

# --------------------------------------------------------------------------
# Dependencies, tests, demo, benchmarks

deps:
	$(Q)tools/deps.sh

check: deps
	$(Q)$(MAKE) --no-print-directory all unit-tests
	$(Q)tests/run $(T)

demo: deps
	$(Q)$(MAKE) --no-print-directory userspace
	$(Q)tools/demo.sh

bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tools/bench.sh $(BENCH)

stress: deps
	$(Q)$(MAKE) --no-print-directory all unit-tests
	$(Q)VMFIT_STRESS=1 tests/run $(or $(T),kmod)

clean:
	$(Q)if [ -n "$(KDIR)" ]; then $(MAKE) -C $(KDIR) M=$(CURDIR) clean; fi
	$(Q)rm -rf $(B)/obj $(B)/san $(B)/lib $(B)/bin $(B)/tests $(B)/test-logs \
		$(B)/man
