# SPDX-License-Identifier: GPL-2.0-only
#
# vmfitd (the replica manager), its backends, and the unit tests of its
# group messages and of the process backend (libvmfit's unit tests:
# tests/unit/build.mk).

VMFITD_SRCS := $(wildcard userspace/vmfitd/*.c) $(wildcard userspace/backends/*.c)
# vf_svol (recovery's state volumes) pulls in vf_nl and vf_dm.
VMFITD_LIBS = -lcpg -lcrypto $(shell pkg-config --libs libsystemd 2>/dev/null || echo -lsystemd) \
	$(VF_NL_LIBS) $(VF_DM_LIBS) -lxenlight -lxentoollog -lxenstore -lxenvchan -lpthread

# Every part of the daemon includes vmfitd.h, which needs the backends'.
$(foreach f,$(notdir $(basename $(wildcard userspace/vmfitd/*.c))),\
	$(eval CFLAGS_$(f) := -Iuserspace/backends -Iuserspace/vmfitd))
CFLAGS_process := -Iuserspace/backends
CFLAGS_backend := -Iuserspace/backends
CFLAGS_xen := -Iuserspace/backends

USER_BINS += $(B)/bin/vmfitd

$(B)/bin/vmfitd: $(call obj,$(VMFITD_SRCS)) $(LIBVMFIT)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(VMFITD_LIBS)

# Unit tests of vmfitd's own group messages (gmsg.c), of membership
# (membership.c), of who is heard in the ordered stream (delivery.c with
# the rest of the manager stubbed), of a recovery's hand-over
# (recovery_shadow.c with replica.c), of its hash in the volume worker
# (recovery_volume.c over file volumes) and of the process backend.
UNIT_TESTS += $(B)/tests/unit/vmfitd-gmsg-test $(B)/tests/unit/process-backend-test \
	$(B)/tests/unit/vmfitd-membership-test $(B)/tests/unit/vmfitd-delivery-test \
	$(B)/tests/unit/vmfitd-handover-test $(B)/tests/unit/vmfitd-volume-test

CFLAGS_vmfitd-gmsg-test := -Iuserspace/vmfitd -Itests/unit
CFLAGS_process-backend-test := -Iuserspace/backends -Itests/unit
CFLAGS_vmfitd-membership-test := -Iuserspace/vmfitd -Itests/unit
CFLAGS_vmfitd-delivery-test := -Iuserspace/vmfitd -Iuserspace/backends -Itests/unit

$(B)/tests/unit/vmfitd-membership-test: $(call sanobj,userspace/vmfitd/tests/vmfitd-membership-test.c userspace/vmfitd/membership.c) $(LIBVMFIT_SAN)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAN_LDFLAGS) -o $@ $^

$(B)/tests/unit/vmfitd-delivery-test: $(call sanobj,userspace/vmfitd/tests/vmfitd-delivery-test.c userspace/vmfitd/delivery.c userspace/vmfitd/membership.c userspace/vmfitd/gmsg.c) $(LIBVMFIT_SAN)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAN_LDFLAGS) -o $@ $^ -lcrypto

# The hand-over of a recovery round: recovery_shadow.c with replica.c, the
# rest of the manager and the backend stubbed.
CFLAGS_vmfitd-handover-test := -Iuserspace/vmfitd -Iuserspace/backends -Itests/unit
$(B)/tests/unit/vmfitd-handover-test: $(call sanobj,userspace/vmfitd/tests/vmfitd-handover-test.c userspace/vmfitd/recovery_shadow.c userspace/vmfitd/replica.c userspace/backends/backend.c) $(LIBVMFIT_SAN)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAN_LDFLAGS) -o $@ $^

# A round's hash in the volume worker: recovery_volume.c over file
# volumes, the rest of the manager stubbed.
CFLAGS_vmfitd-volume-test := -Iuserspace/vmfitd -Iuserspace/backends -Itests/unit
$(B)/tests/unit/vmfitd-volume-test: $(call sanobj,userspace/vmfitd/tests/vmfitd-volume-test.c userspace/vmfitd/recovery_volume.c) $(LIBVMFIT_SAN)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAN_LDFLAGS) -o $@ $^ -lcrypto $(VF_NL_LIBS) $(VF_DM_LIBS) -lpthread

$(B)/tests/unit/process-backend-test: $(call sanobj,userspace/vmfitd/tests/process-backend-test.c userspace/backends/process.c) $(LIBVMFIT_SAN)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAN_LDFLAGS) -o $@ $^

$(B)/tests/unit/vmfitd-gmsg-test: $(call sanobj,userspace/vmfitd/tests/vmfitd-gmsg-test.c userspace/vmfitd/gmsg.c) $(LIBVMFIT_SAN)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAN_LDFLAGS) -o $@ $^ -lcrypto
