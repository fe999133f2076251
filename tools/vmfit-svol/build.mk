# SPDX-License-Identifier: GPL-2.0-only
#
#   build/bin/vmfit-svol   drive a recovery state volume (libvmfit's
#                          vf_svol) by hand, and its self-test of the
#                          semantics both kinds share: tests/unit/svol-file.sh
#                          (the file stand-in), tests/kmod/svol-vmfit.sh
#                          (a dm-vmfit device in the VM)

USER_BINS += $(B)/bin/vmfit-svol

$(B)/bin/vmfit-svol: $(call obj,tools/vmfit-svol/vmfit-svol.c) $(LIBVMFIT)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(VF_MERKLE_LIBS) $(VF_NL_LIBS) $(VF_DM_LIBS)
