#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# recovery-cluster: proactive recovery (Documentation/protocol.rst
# "Recovery") on three hosts inside the VM, on real dm-vmfit state volumes
# (volume_kind vmfit): tests/lib/cluster.sh's network namespaces, each host
# with its own corosync, vmfitd, kv replicas of the process backend, and
# two vmfit devices (A and B) over slices of the VM's disks and kv's
# checkpoint journals in files of their own, paired with A and B
# (state_journal, state_journal_b: swapped with the volumes at every
# hand-over, discarded by the shadows' RESTORE), under continuous client
# load (vmfit-bench --verify):
#
#  1. round 1 (the digest stores are empty: every chunk hashed): kv-hash
#     seniors hand over to kv-sqlite shadows on B;
#  2. round 2, a delta (fewer chunks hashed than the volume has, exactly
#     those copied): kv-sqlite hands back to kv-hash on A;
#  3. a byte flipped in host 2's ORIGIN device underneath the target (the
#     changed set cannot see it), then a --full round: every chunk hashed,
#     the vote finds the chunk, host 2 repairs it from a peer over TCP;
#  4. round 4, a delta again, nothing repaired;
#  then: no acknowledged operation lost or wrong (--verify: 0 errors, 0
#  unfinished), every host executed every order once (executed =
#  acknowledged), and after a final ordered checkpoint the three live
#  volumes are byte-identical.
#
# The same protocol on the file stand-in, with its faults and bad input:
# tests/cluster/recovery.sh; one manager on dm-vmfit volumes:
# tests/kmod/recovery-vmfit.sh.
VMFIT_ROOT=${VMFIT_ROOT:-.}
VMFIT_BIN=${VMFIT_BIN:-/vmtest/bin}
# The repository is read-only in the guest: logs go to the guest's /tmp.
CL_DIR=${CL_DIR:-/tmp/recovery-cluster}
. "$VMFIT_ROOT/tests/lib/cluster.sh"
cl_enter "$@"
# aux.sh after cl_enter: its teardown (EXIT) removes the devices made in
# here; the hosts are stopped first (at_exit below).
. "$VMFIT_ROOT/tests/lib/aux.sh"
# cluster.sh is written for scripts without -e/-u (polls that fail).
set +eEu
trap - ERR

need_vmfit
MB=4			# each volume; 2000 slots of 256 bytes + header
CHUNKS=$((MB * 256))	# 4 KiB chunks (8 sectors)
export CL_RECORDS=2000 CL_RECORD_SIZE=248
vmfit_cluster_volumes 3 $MB

cl_down_at_exit

CL_VMFITD_EXTRA="volume_kind = vmfit
state_volume_b = $CL_VOLUME_B
peer_listen = @ADDR@:7500
shadow_cmd = $VMFIT_BIN/kv-sqlite --records $CL_RECORDS --record-size $CL_RECORD_SIZE
recovery_timeout_ms = 120000"
# TCG is ~10x slower than the host, and a busy host stops the guest for
# seconds: a 3 s token timed out under load (a spurious partition, one
# manager out of sync). No host fails here: a long token costs nothing.
export CL_TOKEN=10000 CL_RING_SECS=120 CL_READY_SECS=120
modprobe -a veth bridge || die "modprobe veth bridge"
cl_up 3

vol_a() { echo "/dev/mapper/${PREFIX}h$1a"; }
vol_b() { echo "/dev/mapper/${PREFIX}h$1b"; }

# round n [--full]: one round through host n % 3 + 1, done everywhere.
rounds=0
round() {
	local n=$1 out
	shift
	out=$(cl_recover $((n % 3 + 1)) "$@") || cl_die "round $n failed: $out"
	rounds=$((rounds + 1))
	cl_wait_rounds "$rounds"
	cl_assert_eq "round $n done everywhere" "$rounds $rounds $rounds" \
		"$(cl_all_stat rcv_done)"
	cl_log "round $n: hashed $(cl_all_stat rcv_hashed), repaired $(cl_all_stat rcv_repaired), $(cl_stat 1 rcv_last_ms) ms on host 1"
}

# delta_ok n: round n hashed fewer chunks than the volume has, on every
# host, and copied at least those: the copy into the shadow's volume is
# the senior's changed set plus what that volume changed itself since its
# state was verified (invariant I2), which the file stand-in's rounds in
# tests/cluster/recovery.sh happen not to have.
delta_ok() {
	local i h c
	for i in 1 2 3; do
		h=$(cl_stat "$i" rcv_hashed)
		c=$(cl_stat "$i" rcv_copied)
		((h > 0 && h < CHUNKS)) ||
			cl_die "round $1: host $i hashed $h of $CHUNKS chunks (delta expected)"
		((c >= h && c < CHUNKS)) ||
			cl_die "round $1: host $i copied $c chunks, hashed $h of $CHUNKS"
		cl_assert_eq "round $1: host $i copied bytes" $((c * 4096)) \
			"$(cl_stat "$i" rcv_bytes_copied)"
	done
}

# The load outlasts the rounds and ends by itself, so that every request
# has its answer.
LOAD_SECS=${RC_LOAD_SECS:-170}
cl_bench_start load --clients 12 --records 1500 --duration "$LOAD_SECS" \
	--write-ratio 0.5 --verify --timeout 20000
sleep 3

# 1. every chunk hashed (no digest store yet); hash -> sqlite, on B
round 1
cl_assert_eq "round 1 hashed every chunk" "$CHUNKS $CHUNKS $CHUNKS" \
	"$(cl_all_stat rcv_chunks)"
cl_assert_eq "round 1 hashed every chunk" "$CHUNKS $CHUNKS $CHUNKS" \
	"$(cl_all_stat rcv_hashed)"
cl_assert_eq "round 1 repaired nothing" "0 0 0" "$(cl_all_stat rcv_repaired)"
for i in 1 2 3; do
	cl_assert_eq "host $i on volume B" "$(vol_b "$i")" "$(cl_stat "$i" rcv_volume)"
	grep -q "shadow HELLO: kv-sqlite" "$(cl_hostdir "$i")/vmfitd.log" ||
		cl_die "host $i: the shadow was not kv-sqlite"
done

# 2. a delta round; sqlite -> hash, back on A
round 2
delta_ok 2
cl_assert_eq "round 2 repaired nothing" "0 0 0" "$(cl_all_stat rcv_repaired)"
for i in 1 2 3; do
	cl_assert_eq "host $i on volume A" "$(vol_a "$i")" "$(cl_stat "$i" rcv_volume)"
done

# 3. bit rot under the target: a byte of record 1900's slot (never written
# by the clients) flipped in host 2's origin, O_DIRECT, around dm-vmfit.
# Its changed set does not see it; a --full round hashes every chunk.
origin=$(dm_path h2oa)
off=$((4096 + 1900 * 256 + 100))
blk=$((off / 4096))
dd if="$origin" of="$TESTDIR/blk" bs=4096 skip="$blk" count=1 iflag=direct \
	status=none || cl_die "reading host 2's origin"
before=$(sha256sum <"$TESTDIR/blk")
printf '\x5a' | dd of="$TESTDIR/blk" bs=1 seek=$((off % 4096)) conv=notrunc \
	status=none
[ "$(sha256sum <"$TESTDIR/blk")" != "$before" ] || cl_die "the flip changed nothing"
put_block "$origin" "$blk" "$TESTDIR/blk" || cl_die "writing host 2's origin"
round 3 --full
cl_assert_eq "round 3 hashed every chunk" "$CHUNKS $CHUNKS $CHUNKS" \
	"$(cl_all_stat rcv_hashed)"
cl_assert_eq "round 3 repairs" "0 1 0" "$(cl_all_stat rcv_repaired)"
cl_assert_eq "host 2 fetched one chunk" 4096 "$(cl_stat 2 rcv_bytes_fetched)"
grep -q "chunk $blk differs" "$(cl_hostdir 2)/vmfitd.log" ||
	cl_die "host 2 did not log the repaired chunk $blk"

# 4. a delta round again, nothing to repair
round 4
delta_ok 4
cl_assert_eq "round 4 repaired nothing" "0 0 0" "$(cl_all_stat rcv_repaired)"
kill -0 "$CL_BENCH_PID" 2>/dev/null ||
	cl_log "warning: the load ended before round 4 did (RC_LOAD_SECS=$LOAD_SECS is short for this machine)"

cl_bench_wait $((LOAD_SECS + 120)) || cl_die "vmfit-bench failed; see $CL_DIR/load.log"
cl_load_clean
executed=$(cl_wait_quiet) || exit 1
acked=$(sed -n 's/^load: .*: \([0-9]*\) ops .*/\1/p' "$CL_DIR/load.log")
cl_log "every host executed $executed orders, the clients had $acked acknowledged"
cl_assert_eq "every acknowledged operation executed once" "$acked" "$executed"
c0=$(cl_stat 1 checkpoints_done)
cl_checkpoint 1 >/dev/null
cl_wait_checkpoints $((c0 + 1))
sum1=$(sha_dev "$(cl_live_volume 1)")
for i in 2 3; do
	cl_assert_eq "live volume of host $i equals host 1's" "$sum1" \
		"$(sha_dev "$(cl_live_volume "$i")")"
done
[ "$(head -c 8 "$(cl_live_volume 1)")" = VFKVSTAT ] ||
	cl_die "the live volume holds no kv state"
cl_passed
cl_log "PASS: 4 rounds on dm-vmfit volumes, 1 repair, live volumes identical"
