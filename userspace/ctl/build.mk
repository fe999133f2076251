# SPDX-License-Identifier: GPL-2.0-only
#
# userspace/ctl: the operator CLI and the unit test of its own parsers
# (libvmfit's unit tests: tests/unit/build.mk).
#
#   build/bin/vmfit-ctl
#   build/tests/unit/ctl-parse-test   sizes, names, JSON writer
#   build/tests/unit/ctl-manager-test status file reader (vf_jflat) and
#                                     the `manager` summary
#
# The CLI's misuse tests are tests/unit/ctl-args.sh (host), the device tests
# tests/kmod/ctl-*.sh (VM).
#
# VF_DM_LIBS / VF_KMOD_LIBS / VF_MERKLE_LIBS: what a program linking
# vf_dm.o, vf_kmod.o or vf_merkle.o from libvmfit must add.

VF_DM_LIBS := -ldevmapper
VF_KMOD_LIBS := -lkmod
VF_MERKLE_LIBS := -lcrypto

CTL_DIR := userspace/ctl
CTL_PURE_SRCS := $(CTL_DIR)/ctl_parse.c $(CTL_DIR)/ctl_json.c \
	$(CTL_DIR)/ctl_manager.c
CTL_SRCS := $(CTL_DIR)/vmfit-ctl.c $(CTL_DIR)/ctl_cmdtable.c $(CTL_DIR)/ctl_util.c \
	$(wildcard $(CTL_DIR)/cmd_*.c) $(CTL_DIR)/ctl_dm.c $(CTL_PURE_SRCS)

USER_BINS += $(B)/bin/vmfit-ctl

$(B)/bin/vmfit-ctl: $(call obj,$(CTL_SRCS)) $(LIBVMFIT)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(VF_DM_LIBS) $(VF_KMOD_LIBS) $(VF_NL_LIBS) $(VF_MERKLE_LIBS) -lm

# An ASan/UBSan build of the CLI for tests/unit/ctl-args.sh (built with
# the unit tests; not itself a test, so not in build/tests/unit/).
CTL_SAN_BIN := $(B)/tests/ctl/vmfit-ctl

$(CTL_SAN_BIN): $(call sanobj,$(CTL_SRCS)) $(LIBVMFIT_SAN)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAN_LDFLAGS) -o $@ $^ $(VF_DM_LIBS) $(VF_KMOD_LIBS) $(VF_NL_LIBS) $(VF_MERKLE_LIBS) -lm

UNIT_TESTS += $(B)/tests/unit/ctl-parse-test

$(B)/tests/unit/ctl-parse-test: $(call sanobj,tests/unit/ctl-parse-test.c \
	$(CTL_PURE_SRCS)) $(LIBVMFIT_SAN) | $(CTL_SAN_BIN)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAN_LDFLAGS) -o $@ $^ -lm

CFLAGS_ctl-parse-test := -I$(CTL_DIR)

UNIT_TESTS += $(B)/tests/unit/ctl-manager-test

$(B)/tests/unit/ctl-manager-test: $(call sanobj,tests/unit/ctl-manager-test.c \
	$(CTL_PURE_SRCS)) $(LIBVMFIT_SAN)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAN_LDFLAGS) -o $@ $^ -lm

CFLAGS_ctl-manager-test := -I$(CTL_DIR)
