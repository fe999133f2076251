# SPDX-License-Identifier: GPL-2.0-only
#
# userspace/services/kv: the key-value micro-benchmark service.
#
#   build/bin/kv-hash      replica over an in-memory hash table
#   build/bin/kv-sqlite    replica over SQLite
#   build/bin/kv-faulty    both engines, built with -DKV_FAULT_INJECTION
#                          (--fault ...); only this binary can misbehave
#   build/tests/kv/*       ASan/UBSan builds of the three, driven by the
#                          unit tests
#   build/bin/kv-powercut  the state code under power cuts, for
#                          tests/kmod/kv-powercut.sh (runs in the test VM)
#   build/tests/unit/kv-*  unit tests
#
# KV_OP_SRCS is the op codec (kv_op.c), for other programs that speak the
# kv op format (tools/vmfit-bench).

KV_DIR := userspace/services/kv
KV_OP_SRCS := $(KV_DIR)/kv_op.c
KV_COMMON_SRCS := $(KV_OP_SRCS) $(KV_DIR)/kv_exec.c $(KV_DIR)/kv_state.c
KV_REPLICA_SRCS := $(KV_COMMON_SRCS) $(KV_DIR)/replica_main.c \
	$(KV_DIR)/kv_vchan.c
# --vchan: the replica channel over a Xen vchan (replica in a Xen domain)
KV_REPLICA_LIBS := -lxenvchan -lpthread
KV_HASH_SRCS := $(KV_REPLICA_SRCS) $(KV_DIR)/kv_hash.c $(KV_DIR)/main_hash.c
KV_SQLITE_SRCS := $(KV_REPLICA_SRCS) $(KV_DIR)/kv_sqlite.c \
	$(KV_DIR)/main_sqlite.c
KV_FAULTY_SRCS := $(KV_REPLICA_SRCS) $(KV_DIR)/kv_hash.c \
	$(KV_DIR)/kv_sqlite.c $(KV_DIR)/main_faulty.c
KV_SQLITE_LIBS := -lsqlite3

# The fault-injection build: every kv source again, with the flag, in its
# own object trees (normal and sanitized).
kvfobj = $(patsubst %.c,$(B)/kvfault/obj/%.o,$(1))
kvfsanobj = $(patsubst %.c,$(B)/kvfault/san/%.o,$(1))

$(B)/kvfault/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -DKV_FAULT_INJECTION -c -o $@ $<

$(B)/kvfault/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS) $(SAN_CFLAGS) -DKV_FAULT_INJECTION -c -o $@ $<

-include $(shell find $(B)/kvfault -name '*.d' 2>/dev/null)

USER_BINS += $(B)/bin/kv-hash $(B)/bin/kv-sqlite $(B)/bin/kv-faulty

$(B)/bin/kv-hash: $(call obj,$(KV_HASH_SRCS)) $(LIBVMFIT)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(KV_REPLICA_LIBS)

$(B)/bin/kv-sqlite: $(call obj,$(KV_SQLITE_SRCS)) $(LIBVMFIT)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(KV_SQLITE_LIBS) $(KV_REPLICA_LIBS)

$(B)/bin/kv-faulty: $(call kvfobj,$(KV_FAULTY_SRCS)) $(LIBVMFIT)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(KV_SQLITE_LIBS) $(KV_REPLICA_LIBS)

# Sanitized replicas for the tests.
KV_TEST_BINS := $(B)/tests/kv/kv-hash $(B)/tests/kv/kv-sqlite \
	$(B)/tests/kv/kv-faulty

$(B)/tests/kv/kv-hash: $(call sanobj,$(KV_HASH_SRCS)) $(LIBVMFIT_SAN)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAN_LDFLAGS) -o $@ $^ $(KV_REPLICA_LIBS)

$(B)/tests/kv/kv-sqlite: $(call sanobj,$(KV_SQLITE_SRCS)) $(LIBVMFIT_SAN)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAN_LDFLAGS) -o $@ $^ $(KV_SQLITE_LIBS) $(KV_REPLICA_LIBS)

$(B)/tests/kv/kv-faulty: $(call kvfsanobj,$(KV_FAULTY_SRCS)) $(LIBVMFIT_SAN)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAN_LDFLAGS) -o $@ $^ $(KV_SQLITE_LIBS) $(KV_REPLICA_LIBS)

# Unit tests.
KV_TEST_DIR := $(KV_DIR)/tests
UNIT_TESTS += $(B)/tests/unit/kv-op-test $(B)/tests/unit/kv-state-test \
	$(B)/tests/unit/kv-replica-test

$(call sanobj,$(wildcard $(KV_TEST_DIR)/*.c)): CPPFLAGS += -Itests/unit

$(B)/tests/unit/kv-op-test: $(call sanobj,$(KV_TEST_DIR)/kv-op-test.c \
	$(KV_OP_SRCS))
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAN_LDFLAGS) -o $@ $^

$(B)/tests/unit/kv-state-test: $(call sanobj,$(KV_TEST_DIR)/kv-state-test.c \
	$(KV_COMMON_SRCS) $(KV_DIR)/kv_hash.c $(KV_DIR)/kv_sqlite.c) \
	$(LIBVMFIT_SAN)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAN_LDFLAGS) -o $@ $^ $(KV_SQLITE_LIBS)

$(B)/tests/unit/kv-replica-test: $(call sanobj,$(KV_TEST_DIR)/kv-replica-test.c \
	$(KV_COMMON_SRCS)) $(LIBVMFIT_SAN) | $(KV_TEST_BINS)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAN_LDFLAGS) -o $@ $(filter-out |,$^)

# The guest side of tests/kmod/kv-powercut.sh (shipped into the test VM
# with everything else in build/bin).
USER_BINS += $(B)/bin/kv-powercut

$(B)/bin/kv-powercut: $(call obj,$(KV_TEST_DIR)/kv-powercut.c \
	$(KV_COMMON_SRCS) $(KV_DIR)/kv_hash.c $(KV_DIR)/kv_sqlite.c) \
	$(LIBVMFIT)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(KV_SQLITE_LIBS)
