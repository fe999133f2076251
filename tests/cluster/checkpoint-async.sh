#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# checkpoint-async: a checkpoint costs the service the in-memory copy, not
# the volume write. Every replica's checkpoint write takes 3 s (kv-faulty
# --fault slow-checkpoint, not a fault). Under a steady load, during an
# ordered checkpoint's write (from its trigger until checkpoints_done moves)
# the managers' replicas keep executing the requests ordered after it:
# `executed` grows by many requests inside the window (it would not move if
# the managers held the EXECs behind the checkpoint until its DONE), and at
# DONE the three hosts' volumes are equal byte for byte (the state at the
# checkpoint's order, although each replica executed further).
. "$(dirname "$0")/../lib/cluster.sh"
cl_enter "$@"

SLOW_MS=3000
export CL_REPLICA="kv-faulty --fault slow-checkpoint --fault-delay $SLOW_MS"
export CL_RECORDS=1000 CL_RECORD_SIZE=128
export CL_BENCH_LIMIT=60
cl_up 3

# The first checkpoint formats the volumes: written in the foreground.
cl_checkpoint_compare 1 "at the first checkpoint"

cl_bench_start load --clients 8 --records "$CL_RECORDS" --record-size 100 \
	--write-ratio 0.5 --duration 14 --timeout 30000 --verify
sleep 2

# Sample host 1's executed requests while the checkpoint is written.
before=$(cl_stat 1 checkpoints_done)
t0=$SECONDS
cl_checkpoint_compare 2 "at the checkpoint written under load" &
cpid=$!
first= last= samples=0
while :; do
	st=$(cl_status 1)
	done_now=$(echo "$st" | sed -n 's/^checkpoints_done=//p')
	ex=$(echo "$st" | sed -n 's/^executed=//p')
	[ "$done_now" = "$before" ] || break
	# from 1 s after the trigger: the CHECKPOINT frame is out by then
	if ((SECONDS - t0 >= 1)); then
		[ -n "$first" ] || first=$ex
		last=$ex
		samples=$((samples + 1))
	fi
	((SECONDS - t0 < 30)) || cl_die "the checkpoint did not end in 30 s"
	sleep 0.2
done
wait "$cpid" || cl_die "the checkpoint under load failed"
cl_log "during the checkpoint write: executed $first -> $last ($samples samples)"
[ -n "$first" ] || cl_die "no sample inside the checkpoint window"
((last - first >= 20)) ||
	cl_die "host 1 executed only $((last - first)) requests during a $SLOW_MS ms checkpoint write: EXECs held behind it"

cl_bench_wait 60 || cl_die "load failed"
cl_assert_json "$CL_DIR/load.json" unfinished -eq 0
cl_assert_json "$CL_DIR/load.json" verify_mismatches -eq 0
for i in 1 2 3; do
	cl_assert_eq "host $i replica ok" 1 "$(cl_stat "$i" replica_ok)"
	cl_assert_eq "host $i checkpoints failed" 0 "$(cl_stat "$i" checkpoints_failed)"
done
# And once more at rest: still equal.
cl_checkpoint_compare 3 "at a checkpoint at rest"
cl_log "PASS"
