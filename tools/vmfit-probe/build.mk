# SPDX-License-Identifier: GPL-2.0-only
# tools/vmfit-probe: bad-input probe of vmfitd's client endpoint, used by
# tests/cluster/bad-input.sh.

VMFIT_PROBE_SRCS := tools/vmfit-probe/probe.c userspace/services/kv/kv_op.c
USER_BINS += $(B)/bin/vmfit-probe

$(B)/bin/vmfit-probe: $(call obj,$(VMFIT_PROBE_SRCS)) $(LIBVMFIT)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lcrypto
