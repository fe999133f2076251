# SPDX-License-Identifier: GPL-2.0-only
#
# Unit tests of the recovery building blocks in libvmfit (ASan/UBSan):
#   build/tests/unit/vf-rcv-test     recovery group entries, peer frames
#   build/tests/unit/vf-dstore-test  digest store (memory, file, Merkle)
#   build/tests/unit/vf-cvote-test   the chunk vote, f = 1 and f = 2
#   build/tests/unit/vf-svol-test    state volumes: the file stand-in

RCV_UNIT_TESTS := vf-rcv-test vf-dstore-test vf-cvote-test vf-svol-test
UNIT_TESTS += $(addprefix $(B)/tests/unit/,$(RCV_UNIT_TESTS))

$(addprefix $(B)/tests/unit/,$(RCV_UNIT_TESTS)): $(B)/tests/unit/%: \
	$(B)/san/tests/unit/%.o $(LIBVMFIT_SAN)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAN_LDFLAGS) -o $@ $^ -lcrypto $(RCV_TEST_LIBS_$*)

# vf_svol.o pulls in the vmfit implementation (vf_nl, vf_dm).
RCV_TEST_LIBS_vf-svol-test = $(VF_NL_LIBS) $(VF_DM_LIBS)
