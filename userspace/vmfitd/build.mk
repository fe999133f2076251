# SPDX-License-Identifier: GPL-2.0-only
#
# vmfitd (the replica manager), its backends, and the unit tests of its
# group messages and of the process backend (libvmfit's unit tests:
# tests/unit/build.mk).

VMFITD_SRCS := $(wildcard userspace/vmfitd/*.c) $(wildcard userspace/backends/*.c)
VMFITD_LIBS := -lcpg -lcrypto $(shell pkg-config --libs libsystemd 2>/dev/null || echo -lsystemd)

# Every part of the daemon includes vmfitd.h, which needs the backends'.
$(foreach f,$(notdir $(basename $(wildcard userspace/vmfitd/*.c))),\
	$(eval CFLAGS_$(f) := -Iuserspace/backends -Iuserspace/vmfitd))
CFLAGS_process := -Iuserspace/backends

USER_BINS += $(B)/bin/vmfitd

$(B)/bin/vmfitd: $(call obj,$(VMFITD_SRCS)) $(LIBVMFIT)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(VMFITD_LIBS)

# Unit tests of vmfitd's own group messages (gmsg.c) and of the process
# backend.
UNIT_TESTS += $(B)/tests/unit/vmfitd-gmsg-test $(B)/tests/unit/process-backend-test

CFLAGS_vmfitd-gmsg-test := -Iuserspace/vmfitd -Itests/unit
CFLAGS_process-backend-test := -Iuserspace/backends -Itests/unit

$(B)/tests/unit/process-backend-test: $(call sanobj,userspace/vmfitd/tests/process-backend-test.c userspace/backends/process.c) $(LIBVMFIT_SAN)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAN_LDFLAGS) -o $@ $^

$(B)/tests/unit/vmfitd-gmsg-test: $(call sanobj,userspace/vmfitd/tests/vmfitd-gmsg-test.c userspace/vmfitd/gmsg.c) $(LIBVMFIT_SAN)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAN_LDFLAGS) -o $@ $^
