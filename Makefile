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
#
# Userspace is built non-recursively: every component owns a build.mk
# fragment that appends to USER_BINS / UNIT_TESTS and defines its own link
# rules. Objects land in build/obj (normal) and build/san (ASan/UBSan).

KREL ?= $(shell uname -r)
KDIR ?= $(firstword $(wildcard /lib/modules/$(KREL)/build) \
		    $(wildcard /usr/src/linux-headers-*-amd64))

B := build
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
CPPFLAGS := -Iinclude -Iuserspace/lib -MMD -MP
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
	checkpatch sparse help

all: module userspace

help:
	@sed -n '3,12p' Makefile | sed 's/^# \{0,1\}//'

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
	$(Q)rm -rf $(B)/obj $(B)/san $(B)/lib $(B)/bin $(B)/tests $(B)/test-logs
