#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# recovery-loop: a recovery costs the service only its capture, and its
# work is proportional to what changed (issue 10; protocol.rst "Recovery
# and the event loop"). 3 hosts (f = 1), file volumes of 128 MiB (16384
# records of 4 KiB and the kv journal), kv-hash seniors and shadows.
#
#  1. Under continuous client load (vmfit-bench --verify, --timeline), a
#     full round: every chunk hashed and copied. The volume worker's time
#     on the hash and the copy, S (the least of the hosts'), is what a
#     synchronous controller would have blocked its event loop for. On
#     every host the longest call from the loop into the controller
#     (rcv_loop_max_ms, the capture aside) stays below S / 4, and the
#     longest interval without a completed request from the trigger to 1 s
#     after the hand-over stays below the longest capture (checkpoint +
#     snapshot, rcv_capture_ms) + S / 4. No lost or wrong answer.
#  2. Delta: after a round that takes up the load's changes, 1 % of the
#     records (164) are written, and a delta round is run. Its changed
#     chunks are found independently, by comparing each host's captured
#     volume with the copy the previous round left (<volume>.base). The
#     bytes hashed and copied are within 1.1 x those chunks' bytes, and the
#     bytes sent to other hosts (recovery group messages, rcv_bytes_msgs,
#     and chunks served, rcv_bytes_served) within 1.1 x (those bytes + the
#     digests of the Merkle descent to them: levels x 16 x 32 bytes per
#     chunk); the changed chunks are a small part of the volume.
. "$(dirname "$0")/../lib/cluster.sh"
. "$CL_TOP/tests/lib/rcvload.sh"
cl_enter "$@"

export CL_RECORDS=16384 CL_RECORD_SIZE=4088	# 4 KiB slots: 128 MiB
RL_TIMEOUT_MS=120000
rl_conf
cl_up 3
rl_check_up

# 1. A full round under load.
rl_load_start run --clients 8 --records 4096 --record-size 128 \
	--duration 40 --write-ratio 0.5 --verify --timeout 20000
sleep 3
rl_recover run || cl_die "round 1: $RL_RESULT (see $CL_DIR/run-recovery.log)"
cl_wait_rounds 1
cl_assert_eq "round 1 done" "1 1 1" "$(cl_all_stat rcv_done)"
cl_assert_eq "round 1 full" "1 1 1" "$(cl_all_stat rcv_full)"
chunks=$(cl_stat 1 rcv_chunks)
((chunks >= 32768)) || cl_die "only $chunks chunks: the state is not 128 MiB"
cl_assert_eq "every chunk hashed" "$chunks $chunks $chunks" "$(cl_all_stat rcv_hashed)"
rl_load_wait 120 || cl_die "vmfit-bench failed: $(tail -n 3 "$CL_DIR/run.log")"
cl_assert_json "$CL_DIR/run.json" errors -eq 0
cl_assert_json "$CL_DIR/run.json" unfinished -eq 0
cl_assert_json "$CL_DIR/run.json" verify_mismatches -eq 0
rl_windows run

read -r sync_ms capture loop <<<"$(for i in 1 2 3; do
	echo "$(cl_stat "$i" rcv_hash_ms) $(cl_stat "$i" rcv_copy_ms) $(cl_stat "$i" rcv_capture_ms) $(cl_stat "$i" rcv_loop_max_ms)"
done | awk '{ s = $1 + $2; if (NR == 1 || s < smin) smin = s
	      if ($3 > cmax) cmax = $3; if ($4 > lmax) lmax = $4 }
	    END { print smin, cmax, lmax }')"
gap_ms=${RL_GAP%% *}
cl_log "synchronous cost S = $sync_ms ms (hash + copy, least host); capture <= $capture ms; loop blocked <= $loop ms; longest gap $gap_ms ms"
((sync_ms >= 100)) ||
	cl_die "hash + copy took only $sync_ms ms: the state is too small to tell a blocked loop from a free one"
((loop * 4 < sync_ms)) ||
	cl_die "the event loop spent up to $loop ms in one recovery call, S / 4 = $((sync_ms / 4)) ms"
awk -v g="$gap_ms" -v c="$capture" -v s="$sync_ms" 'BEGIN { exit !(g < c + s / 4) }' ||
	cl_die "clients waited $gap_ms ms for a completion during the round, more than the capture ($capture ms) + S / 4 ($((sync_ms / 4)) ms)"

# 2. Delta: a round takes up the load's changes, then 1 % of the records.
out=$(cl_recover 1) || cl_die "round 2 failed: $out"
cl_wait_rounds 2
declare -a vol
for i in 1 2 3; do
	vol[i]=$(cl_stat "$i" rcv_volume)
done
cl_bench delta --records 164 --key-offset 10000 --record-size 4088 \
	--write-ratio 1 --requests 500 --clients 4 ||
	cl_die "writing 1 % of the records failed"
out=$(cl_recover 1) || cl_die "round 3 failed: $out"
cl_wait_rounds 3
cl_assert_eq "round 3 delta" "0 0 0" "$(cl_all_stat rcv_full)"
for i in 1 2 3; do
	# The captured volume is now the captured state again (drop); its
	# .base is what the previous round copied into it.
	cl_delta_bounds "$i" "${vol[i]}" "${vol[i]}.base"
done
cl_log "PASS"
