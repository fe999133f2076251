# SPDX-License-Identifier: GPL-2.0-only
# tools/vmtest: the guest-side I/O tool of the kernel tests. Everything in
# build/bin/ is shipped into the test VM by tools/vmtest/vmtest.

VMTEST_IO_SRCS := tools/vmtest/vmtest-io.c
USER_BINS += $(B)/bin/vmtest-io

$(B)/bin/vmtest-io: $(call obj,$(VMTEST_IO_SRCS))
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^
