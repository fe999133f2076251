# SPDX-License-Identifier: GPL-2.0-only
#
# The unit tests of libvmfit (userspace/lib), all here:
# tests/unit/vf-<module>-test.c -> build/tests/unit/vf-<module>-test,
# sanitizer builds linked with libvmfit-san.a. tests/run runs every binary
# of build/tests/unit/. Assertions: tests/unit/vf_check.h.
#
#   vf-conf-test     vmfitd.conf parser (with the backends' names)
#   vf-csum-test     checksum algorithms and CRCs against published vectors
#   vf-cvote-test    recovery: the chunk vote, f = 1 and f = 2, liars
#   vf-dstore-test   recovery: digest store (memory, file, Merkle)
#   vf-log-test      log rate limiting
#   vf-merkle-test   Merkle tree
#   vf-nl-test       generic netlink attribute encoding/decoding
#   vf-proto-test    client and replica protocol codecs
#   vf-mstate-test   manager state as bytes (reply cache, vote window)
#   vf-rcache-test   reply cache
#   vf-rcv-test      recovery: group entries and peer frames
#   vf-sha256-test   SHA-256, and its users (voter, Merkle tree, checksums)
#                    linked into one program
#   vf-status-test   status / table / changed-set parsers
#   vf-vchan-test    the vchan relay, on a simulated libxenvchan
#   vf-svol-test     recovery: state volumes (the file stand-in; the
#                    vmfit kind must fail cleanly without the module)
#   vf-voter-test    voter
#   vf-wbuf-test     the append buffer: consume, compaction, frame offsets,
#                    limit; bytes moved linear in bytes sent; vf_wb_send()
#                    on a small socket: partial, full, cap, errors
#
# libvmfit's status file reader (vf_jflat, vf_status_read) is tested with
# its user, vmfit-ctl manager: ctl-manager-test (userspace/ctl/build.mk).
#
# The link flags of libvmfit's modules (VF_*_LIBS) come from the build.mk of
# their first user; recursive variables, as those are included after this.

LIBVMFIT_TESTS := vf-conf-test vf-csum-test vf-log-test vf-merkle-test vf-nl-test \
	vf-proto-test vf-rcache-test vf-sha256-test vf-status-test \
	vf-voter-test vf-rcv-test vf-dstore-test vf-cvote-test vf-svol-test \
	vf-mstate-test vf-vchan-test vf-wbuf-test
UNIT_TESTS += $(addprefix $(B)/tests/unit/,$(LIBVMFIT_TESTS))

CFLAGS_vf-conf-test := -Iuserspace/backends
CFLAGS_vf-nl-test = $(VF_NL_CFLAGS)

# vf_split_cmd() is the backends' (userspace/backends), not libvmfit's.
$(B)/tests/unit/vf-conf-test: $(call sanobj,tests/unit/vf-conf-test.c \
	userspace/backends/process.c) $(LIBVMFIT_SAN)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAN_LDFLAGS) -o $@ $^

$(B)/tests/unit/vf-nl-test: $(B)/san/tests/unit/vf-nl-test.o $(LIBVMFIT_SAN)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAN_LDFLAGS) -o $@ $^ $(VF_NL_LIBS)

# vf_svol.o pulls in the vmfit implementation (vf_nl, vf_dm).
$(B)/tests/unit/vf-svol-test: $(B)/san/tests/unit/vf-svol-test.o $(LIBVMFIT_SAN)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAN_LDFLAGS) -o $@ $^ $(VF_MERKLE_LIBS) $(VF_NL_LIBS) $(VF_DM_LIBS)

$(B)/tests/unit/vf-%-test: $(B)/san/tests/unit/vf-%-test.o $(LIBVMFIT_SAN)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAN_LDFLAGS) -o $@ $^ $(VF_MERKLE_LIBS)
