#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# checkpoint-timeout: a replica that does not finish a checkpoint within
# checkpoint_timeout_ms is faulty (vmfitd(8)), although it may go on
# answering requests meanwhile now that the write runs in the background
# (a hung writer must not hold a round or a checkpoint forever). Host 2's
# replica takes 3 s per checkpoint, the timeout is 1 s: host 2 declares
# its replica faulty with the reason, hosts 1 and 3 finish the checkpoint,
# and the clients (f + 1 = 2 replies) see no error and no wrong value.
. "$(dirname "$0")/../lib/cluster.sh"
cl_enter "$@"

export CL_RECORDS=200 CL_RECORD_SIZE=128
CL_REPLICA_2="kv-faulty --fault slow-checkpoint --fault-delay 3000"
export CL_REPLICA_2
CL_VMFITD_EXTRA="checkpoint_timeout_ms = 1000"
cl_up 3

cl_bench_start load --clients 4 --records "$CL_RECORDS" --record-size 100 \
	--write-ratio 0.5 --duration 8 --timeout 30000 --verify
sleep 1
b1=$(cl_stat 1 checkpoints_done)
b3=$(cl_stat 3 checkpoints_done)
cl_checkpoint 1 >/dev/null
cl_wait_checkpoints $((b1 + 1)) 1
cl_wait_checkpoints $((b3 + 1)) 3
log=$(cl_hostdir 2)/vmfitd.log
deadline=$((SECONDS + 20))
until grep -q "did not finish the checkpoint of order" "$log"; do
	((SECONDS < deadline)) ||
		cl_die "host 2 did not declare its replica faulty for the 3 s checkpoint (timeout 1 s)"
	sleep 0.2
done
cl_log "host 2: $(grep -m1 -o 'did not finish the checkpoint[^"]*' "$log")"
for i in 1 3; do
	cl_assert_eq "host $i replica ok" 1 "$(cl_stat "$i" replica_ok)"
	cl_assert_eq "host $i checkpoints failed" 0 "$(cl_stat "$i" checkpoints_failed)"
done
cl_bench_wait 60 || cl_die "load failed"
cl_assert_json "$CL_DIR/load.json" unfinished -eq 0
cl_assert_json "$CL_DIR/load.json" errors -eq 0
cl_assert_json "$CL_DIR/load.json" verify_mismatches -eq 0
cl_log "PASS"
