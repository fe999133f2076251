# SPDX-License-Identifier: GPL-2.0-only
#
# Benchmark tools (tools/bench/*): compiled helpers go to build/bin/, where
# tools/vmtest/vmtest picks them up for the VM.

# freeze-bench: load generator, in-process snapshot timing, report writer.
FREEZE_BENCH_DIR := tools/bench/freeze
FREEZE_BENCH_SRCS := $(FREEZE_BENCH_DIR)/freeze-bench.c $(FREEZE_BENCH_DIR)/fb.c
FREEZE_BENCH := $(B)/bin/freeze-bench
FREEZE_BENCH_TEST := $(B)/tests/unit/freeze-bench-test

USER_BINS += $(FREEZE_BENCH)
UNIT_TESTS += $(FREEZE_BENCH_TEST)

$(call obj,$(FREEZE_BENCH_SRCS)) $(call sanobj,$(FREEZE_BENCH_DIR)/fb.c \
	tests/unit/freeze_bench_test.c): CPPFLAGS += -I$(FREEZE_BENCH_DIR)

$(FREEZE_BENCH): $(call obj,$(FREEZE_BENCH_SRCS)) $(LIBVMFIT)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -ldevmapper -lpthread -lm

$(FREEZE_BENCH_TEST): $(call sanobj,tests/unit/freeze_bench_test.c \
		$(FREEZE_BENCH_DIR)/fb.c) $(LIBVMFIT_SAN)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAN_LDFLAGS) -o $@ $^ -lm
