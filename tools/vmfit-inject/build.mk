# SPDX-License-Identifier: GPL-2.0-only
# tools/vmfit-inject: a CPG client that is not a manager and multicasts one
# forged manager group message, used by tests/cluster/forged-votes.sh.

VMFIT_INJECT_SRCS := tools/vmfit-inject/inject.c userspace/vmfitd/gmsg.c
USER_BINS += $(B)/bin/vmfit-inject
CFLAGS_inject := -Iuserspace/vmfitd

$(B)/bin/vmfit-inject: $(call obj,$(VMFIT_INJECT_SRCS)) $(LIBVMFIT)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lcpg
