# SPDX-License-Identifier: GPL-2.0-only
# tools/vmfit-bench: the client emulator (build/bin/vmfit-bench) and the
# unit test of its pure parts (histogram, timeline and its files, workload),
# under ASan.

VMFIT_BENCH_PURE := tools/vmfit-bench/stats.c tools/vmfit-bench/tlfile.c \
	tools/vmfit-bench/workload.c
VMFIT_BENCH_SRCS := tools/vmfit-bench/bench.c tools/vmfit-bench/junk.c \
	$(VMFIT_BENCH_PURE) \
	userspace/services/kv/kv_op.c
USER_BINS += $(B)/bin/vmfit-bench
UNIT_TESTS += $(B)/tests/unit/vmfit-bench-stats

$(B)/bin/vmfit-bench: $(call obj,$(VMFIT_BENCH_SRCS)) $(LIBVMFIT)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lm -lcrypto -lpthread

$(call sanobj,tools/vmfit-bench/stats-test.c): CPPFLAGS += -Itests/unit

$(B)/tests/unit/vmfit-bench-stats: $(call sanobj,tools/vmfit-bench/stats-test.c \
		$(VMFIT_BENCH_PURE))
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAN_LDFLAGS) -o $@ $^ -lm
