# SPDX-License-Identifier: GPL-2.0-only
#
# vmfitd (the replica manager), its backends, and the unit test of its
# group messages (libvmfit's unit tests: tests/unit/build.mk).

VMFITD_SRCS := $(wildcard userspace/vmfitd/*.c) $(wildcard userspace/backends/*.c)
VMFITD_LIBS := -lcpg -lcrypto

# Every part of the daemon includes vmfitd.h, which needs the backends'.
$(foreach f,$(notdir $(basename $(wildcard userspace/vmfitd/*.c))),\
	$(eval CFLAGS_$(f) := -Iuserspace/backends -Iuserspace/vmfitd))
CFLAGS_process := -Iuserspace/backends

USER_BINS += $(B)/bin/vmfitd

$(B)/bin/vmfitd: $(call obj,$(VMFITD_SRCS)) $(LIBVMFIT)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(VMFITD_LIBS)

# Unit test of vmfitd's own group messages (gmsg.c).
UNIT_TESTS += $(B)/tests/unit/vmfitd-gmsg-test

CFLAGS_vmfitd-gmsg-test := -Iuserspace/vmfitd -Itests/unit

$(B)/tests/unit/vmfitd-gmsg-test: $(call sanobj,userspace/vmfitd/tests/vmfitd-gmsg-test.c userspace/vmfitd/gmsg.c) $(LIBVMFIT_SAN)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAN_LDFLAGS) -o $@ $^
