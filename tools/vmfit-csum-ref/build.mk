# SPDX-License-Identifier: GPL-2.0-only
#
#   build/bin/vmfit-csum-ref   reference digests of a device's chunks
#                              (sha256, blake2b-256, xxhash64, crc32c) with
#                              libvmfit's vf_csum, to compare with what
#                              dm-vmfit computes (tests/kmod/csum-*.sh)

USER_BINS += $(B)/bin/vmfit-csum-ref

$(B)/bin/vmfit-csum-ref: $(call obj,tools/vmfit-csum-ref/vmfit-csum-ref.c) \
	$(LIBVMFIT)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(VF_MERKLE_LIBS)
