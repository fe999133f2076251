#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# checkpoint-timeout: a replica that does not finish a checkpoint within
# checkpoint_timeout_ms is faulty (vmfitd(8)), although it may go on
# answering requests meanwhile now that the write runs in the background
# (a hung writer must not hold a round or a checkpoint forever). Host 2's
# replica takes 3 s for a checkpoint, the timeout is 1 s, in two cases:
#
#   foreground  every checkpoint is slow, the first one too, which a
#               fresh replica writes in the foreground: it answers
#               nothing from the CHECKPOINT on;
#   writer      the first checkpoint is quick (--fault-after 1: host 2
#               finishes it like the others), the second one's background
#               writer is slow: the replica goes on answering the EXECs
#               ordered after that checkpoint (host 2's `executed` passes
#               its order), only its CHECKPOINT_DONE does not come.
#
# In both, host 2 declares its replica faulty with the reason, hosts 1 and
# 3 finish the checkpoints, and the clients (f + 1 = 2 replies) see no
# error and no wrong value. The slow checkpoint's delay comes before its
# write in both (kv-service.rst): killed during it, host 2's replica
# leaves the volume as it was before that checkpoint (no state at all in
# the first case, the first checkpoint's in the second).
. "$(dirname "$0")/../lib/cluster.sh"
cl_enter "$@"

export CL_RECORDS=200 CL_RECORD_SIZE=128
export CL_VMFITD_EXTRA="checkpoint_timeout_ms = 1000"

# checkpoint case: one ordered checkpoint through host 1, waited for on
# hosts 1 and 3 (and 2 unless it is the one host 2 times out).
checkpoint() {
	local case=$1 slow=$2 i b=()

	for i in 1 2 3; do
		b[i]=$(cl_stat "$i" checkpoints_done)
	done
	cl_checkpoint 1 >/dev/null
	cl_wait_checkpoints $((b[1] + 1)) 1
	cl_wait_checkpoints $((b[3] + 1)) 3
	((slow)) && return
	cl_wait_checkpoints $((b[2] + 1)) 2
	cl_assert_eq "$case: host 2 replica ok after a quick checkpoint" 1 \
		"$(cl_stat 2 replica_ok)"
}

for case in foreground writer; do
	CL_DIR=$CL_BASE/$case
	CL_REPLICA_2="kv-faulty --fault slow-checkpoint --fault-delay 3000"
	[ "$case" = writer ] && CL_REPLICA_2+=" --fault-after 1"
	export CL_REPLICA_2
	cl_up 3
	log=$(cl_hostdir 2)/vmfitd.log

	cl_bench_start load --clients 4 --records "$CL_RECORDS" \
		--record-size 100 --write-ratio 0.5 --duration 8 \
		--timeout 30000 --verify
	sleep 1
	kept=
	if [ "$case" = writer ]; then
		checkpoint "$case" 0
		kept=$(cl_stat 2 last_checkpoint_order)
	fi
	checkpoint "$case" 1
	deadline=$((SECONDS + 20))
	until grep -q "did not finish the checkpoint of order" "$log"; do
		((SECONDS < deadline)) ||
			cl_die "$case: host 2 did not declare its replica faulty for the 3 s checkpoint (timeout 1 s)"
		sleep 0.2
	done
	why=$(grep -m1 -o 'did not finish the checkpoint[^;"]*' "$log")
	cl_log "$case: host 2: $why"
	order=$(sed -n 's/.*checkpoint of order \([0-9]*\) .*/\1/p' <<<"$why")
	cl_wait_stat 2 replica_ok 0 5
	executed=$(cl_stat 2 executed)
	if [ "$case" = writer ]; then
		# The CHECKPOINT reached the replica, which answered the
		# EXECs after it while its writer was stuck.
		[[ "$why" != *"no answer to the earlier requests"* ]] ||
			cl_die "writer: host 2's replica had not been sent the CHECKPOINT"
		((executed > order)) ||
			cl_die "writer: host 2's replica executed up to order $executed, not past the checkpoint's $order, while its writer was stuck"
	else
		((executed <= order)) ||
			cl_die "foreground: host 2's replica executed up to order $executed, past the checkpoint's $order it was writing"
	fi
	cl_log "$case: host 2's replica executed up to order $executed"
	v=$(cl_volume 2)
	if [ -z "$kept" ]; then
		[ "$(head -c 8 "$v")" != VFKVSTAT ] ||
			cl_die "$case: host 2's volume holds a checkpoint (order $(cl_u64 "$v" 32)): the slow one was written before its delay"
	else
		cl_assert_eq "$case: host 2's volume: the order of its last finished checkpoint" \
			"$kept" "$(cl_u64 "$v" 32)"
	fi
	for i in 1 3; do
		cl_assert_eq "$case: host $i replica ok" 1 \
			"$(cl_stat "$i" replica_ok)"
		cl_assert_eq "$case: host $i checkpoints failed" 0 \
			"$(cl_stat "$i" checkpoints_failed)"
	done
	cl_bench_wait 60 || cl_die "$case: load failed"
	cl_assert_json "$CL_DIR/load.json" unfinished -eq 0
	cl_assert_json "$CL_DIR/load.json" errors -eq 0
	cl_assert_json "$CL_DIR/load.json" verify_mismatches -eq 0
	cl_down
done
cl_log "PASS"
