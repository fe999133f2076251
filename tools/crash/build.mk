# SPDX-License-Identifier: GPL-2.0-only
# tools/crash: crash-state testing of dm-vmfit with dm-log-writes
# (Documentation/crash-testing.rst).
#
#   build/bin/vmfit-replay            log reader and crash-state builder
#   build/bin/vmfit-crash             workloads with marks + oracle, checker
#   build/tests/unit/crash-replay-test  replay and oracle on synthetic input

CRASH_DIR := tools/crash
REPLAY_SRCS := $(CRASH_DIR)/vmfit-replay.c $(CRASH_DIR)/replay.c \
	$(CRASH_DIR)/lwlog.c
CRASH_SRCS := $(CRASH_DIR)/vmfit-crash.c $(CRASH_DIR)/oracle.c
CRASH_TEST_SRCS := tests/unit/crash-replay-test.c $(CRASH_DIR)/replay.c \
	$(CRASH_DIR)/lwlog.c $(CRASH_DIR)/oracle.c

USER_BINS += $(B)/bin/vmfit-replay $(B)/bin/vmfit-crash
UNIT_TESTS += $(B)/tests/unit/crash-replay-test

CFLAGS_crash-replay-test := -I$(CRASH_DIR)

$(B)/bin/vmfit-replay: $(call obj,$(REPLAY_SRCS))
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

$(B)/bin/vmfit-crash: $(call obj,$(CRASH_SRCS)) $(LIBVMFIT)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(VF_DM_LIBS)

$(B)/tests/unit/crash-replay-test: $(call sanobj,$(CRASH_TEST_SRCS))
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAN_LDFLAGS) -o $@ $^
