# SPDX-License-Identifier: GPL-2.0-only
#
# vmfitd (the replica manager), its backends, and the unit tests of the
# codec, voter, reply cache, config parser and group messages.

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

# Unit tests: userspace/vmfitd/tests/<name>.c -> build/tests/unit/<name>
VMFITD_TESTS := vf-proto-test vf-voter-test vf-rcache-test vf-conf-test vf-log-test \
	vmfitd-gmsg-test
UNIT_TESTS += $(addprefix $(B)/tests/unit/,$(VMFITD_TESTS))

CFLAGS_vmfitd-gmsg-test := -Iuserspace/vmfitd
CFLAGS_vf-conf-test := -Iuserspace/backends

$(B)/tests/unit/vmfitd-gmsg-test: $(call sanobj,userspace/vmfitd/tests/vmfitd-gmsg-test.c userspace/vmfitd/gmsg.c) $(LIBVMFIT_SAN)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAN_LDFLAGS) -o $@ $^

$(B)/tests/unit/vf-conf-test: $(call sanobj,userspace/vmfitd/tests/vf-conf-test.c userspace/backends/process.c) $(LIBVMFIT_SAN)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAN_LDFLAGS) -o $@ $^

$(B)/tests/unit/vf-%-test: $(B)/san/userspace/vmfitd/tests/vf-%-test.o $(LIBVMFIT_SAN)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAN_LDFLAGS) -o $@ $^ -lcrypto
