# SPDX-License-Identifier: GPL-2.0-only
#
# The generic netlink client of libvmfit (userspace/lib/vf_nl.c) and its
# tests:
#
#   build/bin/vmfit-nlfuzz          netlink fuzzer for dm-vmfit (run in the
#                                   VM by tests/kmod/nl-fuzz.sh)
#   build/bin/vmfit-csum-ref        reference digests of a device's chunks
#                                   (sha256, blake2b-256, xxhash64, crc32c)
#
# VF_NL_LIBS: what a program linking vf_nl.o from libvmfit must add.

VF_NL_LIBS := $(shell pkg-config --libs libnl-genl-3.0 2>/dev/null || \
		echo -lnl-genl-3 -lnl-3)
VF_NL_CFLAGS := $(shell pkg-config --cflags libnl-genl-3.0 2>/dev/null || \
		  echo -I/usr/include/libnl3)
CFLAGS_vf_nl := $(VF_NL_CFLAGS)
CFLAGS_vmfit-nlfuzz := $(VF_NL_CFLAGS)

NLFUZZ_DIR := tools/vmfit-nlfuzz

USER_BINS += $(B)/bin/vmfit-nlfuzz $(B)/bin/vmfit-csum-ref

$(B)/bin/vmfit-nlfuzz: $(call obj,$(NLFUZZ_DIR)/vmfit-nlfuzz.c) $(LIBVMFIT)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(VF_NL_LIBS)

$(B)/bin/vmfit-csum-ref: $(call obj,$(NLFUZZ_DIR)/vmfit-csum-ref.c \
	$(NLFUZZ_DIR)/csum_ref.c) $(LIBVMFIT)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lcrypto

UNIT_TESTS += $(B)/tests/unit/csum-ref-test

$(B)/tests/unit/csum-ref-test: $(call sanobj,tests/unit/csum-ref-test.c \
	$(NLFUZZ_DIR)/csum_ref.c) $(LIBVMFIT_SAN)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAN_LDFLAGS) -o $@ $^ -lcrypto

CFLAGS_csum-ref-test := -I$(NLFUZZ_DIR)
CFLAGS_vmfit-csum-ref := -I$(NLFUZZ_DIR)
