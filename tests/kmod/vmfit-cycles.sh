#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Snapshot/merge and snapshot/drop cycles under fio load (100, or 1000
# with VMFIT_STRESS=1), each checked through status; fio verifies its data
# at the end; the runner checks the kernel log and unloads the module.
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"

need_vmfit
CYCLES=100
[ "${VMFIT_STRESS:-0}" = 1 ] && CYCLES=1000
vmfit_fixture 128 8
DROP0=$((120 * 256))	# 4 KiB blocks [120 MiB, 128 MiB): drop cycles
DROPN=$((2 * 256))

# Load: fio writes with verification headers for as long as the cycles run
# and verifies each 64 blocks it wrote (verify_backlog) as it goes. The job
# is a thread (--thread), so SIGSTOP to $fio_pid pauses the I/O itself.
fio --name=load --thread --filename="$L" --direct=1 --ioengine=libaio --iodepth=8 \
	--bs=4k --rw=randwrite --size=96M --time_based --runtime=3600 \
	--verify=crc32c --verify_fatal=1 --verify_backlog=64 \
	--verify_state_save=0 \
	--output="$TESTDIR/load.out" &
fio_pid=$!
stop_load() {
	kill -INT "$fio_pid" 2>/dev/null || true
	wait "$fio_pid" || true	# SIGINT makes fio exit non-zero
	grep -q 'err= 0:' "$TESTDIR/load.out" && ! grep -qi 'verify' "$TESTDIR/load.out" ||
		die "fio load failed: $(cat "$TESTDIR/load.out")"
}
sleep 2

epoch=0
for ((i = 1; i <= CYCLES; i++)); do
	kill -0 "$fio_pid" 2>/dev/null || die "fio load died at cycle $i"
	if ! ((i % 2)); then
		kill -STOP "$fio_pid"
		sleep 0.1
		drop_sum=$(sha_dev "$L" $((DROP0 * 8)) $((DROPN * 8)))
	fi
	dm_msg live snapshot
	epoch=$((epoch + 1))
	wait_status live VIEW ready 30
	assert_eq "$epoch" "$ST_EPOCH" "epoch at cycle $i"
	if ((i % 2)); then
		dm_msg live merge
		wait_status live MODE normal 120
	else
		# Drop discards every write since the snapshot, which fio's
		# final verify would flag: fio is paused from before the
		# snapshot to after the drop; vmtest-io writes the data that
		# the drop must discard, above fio's range.
		vmtest-io write "$L" $((1000 + i)) 50 $DROP0 $DROPN
		vmfit_status live
		assert_eq snapshot "$ST_MODE" "mode before drop at cycle $i"
		dm_msg live drop
		vmfit_status live
		assert_eq normal "$ST_MODE" "mode after drop at cycle $i"
		assert_eq "$drop_sum" "$(sha_dev "$L" $((DROP0 * 8)) $((DROPN * 8)))" \
			"drop region after drop at cycle $i"
		kill -CONT "$fio_pid"
	fi
	assert_eq 0 "$ST_COW_USED" "cow used after cycle $i"
	assert_eq ok "$ST_HEALTH" "health after cycle $i"
	((i % 20)) || note "cycle $i/$CYCLES"
done
stop_load
note "fio verified its data after $CYCLES cycles"
vmfit_status live
assert_eq normal "$ST_MODE" "final mode"
assert_eq "$(sha_dev "$O")" "$(sha_dev "$L")" "origin = live at the end"
