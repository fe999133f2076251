# SPDX-License-Identifier: GPL-2.0-only
#
# The netlink fuzzer of dm-vmfit's generic netlink family:
#
#   build/bin/vmfit-nlfuzz          run in the VM by tests/kmod/nl-fuzz.sh
#
# VF_NL_LIBS: what a program linking vf_nl.o from libvmfit must add.

VF_NL_LIBS := $(shell pkg-config --libs libnl-genl-3.0 2>/dev/null || \
		echo -lnl-genl-3 -lnl-3)
VF_NL_CFLAGS := $(shell pkg-config --cflags libnl-genl-3.0 2>/dev/null || \
		  echo -I/usr/include/libnl3)
CFLAGS_vf_nl := $(VF_NL_CFLAGS)
CFLAGS_vmfit-nlfuzz := $(VF_NL_CFLAGS)

NLFUZZ_DIR := tools/vmfit-nlfuzz

USER_BINS += $(B)/bin/vmfit-nlfuzz

$(B)/bin/vmfit-nlfuzz: $(call obj,$(NLFUZZ_DIR)/vmfit-nlfuzz.c) $(LIBVMFIT)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(VF_NL_LIBS)
