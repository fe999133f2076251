# SPDX-License-Identifier: GPL-2.0-only
# tools/vmfit-stall: the libbpf CO-RE stall tool (build/bin/vmfit-stall) and
# the unit test of its pure part (stall.c), under ASan.
#
# The BPF object is compiled against a vmlinux.h dumped from the BTF of the
# guest kernel (gen-vmlinux-h.sh), then embedded through a bpftool
# skeleton. Generated files live in build/vmfit-stall/.

STALL_DIR := tools/vmfit-stall
STALL_OUT := $(B)/vmfit-stall
STALL_BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror \
	-I$(STALL_OUT) -I$(STALL_DIR)
STALL_SRCS := $(STALL_DIR)/vmfit-stall.c $(STALL_DIR)/stall.c
STALL_TEST_SRCS := $(STALL_DIR)/stall-test.c $(STALL_DIR)/stall.c

USER_BINS += $(B)/bin/vmfit-stall
UNIT_TESTS += $(B)/tests/unit/vmfit-stall-test

# Regenerated only when the script changes: dumping BTF takes seconds.
$(STALL_OUT)/vmlinux.h: $(STALL_DIR)/gen-vmlinux-h.sh
	@mkdir -p $(dir $@)
	$(Q)$(STALL_DIR)/gen-vmlinux-h.sh $@

$(STALL_OUT)/vmfit-stall.bpf.o: $(STALL_DIR)/vmfit-stall.bpf.c \
		$(STALL_DIR)/vmfit-stall.h $(STALL_OUT)/vmlinux.h
	$(Q)clang $(STALL_BPF_CFLAGS) -c $< -o $@.tmp
	$(Q)llvm-strip -g $@.tmp
	$(Q)mv $@.tmp $@

$(STALL_OUT)/vmfit-stall.skel.h: $(STALL_OUT)/vmfit-stall.bpf.o
	$(Q)bpftool gen skeleton $< name vmfit_stall_bpf >$@.tmp
	$(Q)mv $@.tmp $@

$(call obj,$(STALL_SRCS)) $(call sanobj,$(STALL_TEST_SRCS)): \
	CPPFLAGS += -I$(STALL_OUT) -I$(STALL_DIR) -Itests/unit
$(call obj,$(STALL_DIR)/vmfit-stall.c): $(STALL_OUT)/vmfit-stall.skel.h

$(B)/bin/vmfit-stall: $(call obj,$(STALL_SRCS))
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lbpf

$(B)/tests/unit/vmfit-stall-test: $(call sanobj,$(STALL_TEST_SRCS))
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAN_LDFLAGS) -o $@ $^
