#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# recovery-local-checkpoint: the seniors' local checkpoints at the start of
# a round (Documentation/protocol.rst "Recovery", step 2) on 3 hosts
# (f = 1), file volumes, under client load with --verify. Host 2's seniors
# take 0.5 s for every checkpoint (kv-faulty --fault slow-checkpoint;
# the others execute meanwhile, so the load is kept small enough that
# 0.5 s of it stays below replica_lag_max, see protocol.rst):
#
#  1. a round: each senior checkpoints at its own position of the order
#     (the positions differ), one after the other by rank (no two at
#     once: host 2's slow one ends before rank 2's starts), and the round
#     still verifies with nothing repaired anywhere: a checkpoint leaves
#     the same bytes whatever the checkpoint history
#     (kv-service.rst "Checkpoint history"). The ordered capture writes
#     only what changed since the local checkpoint: at most one slot per
#     request ordered in between (the replica logs the slots each
#     checkpoint wrote), and on the last senior of the chain fewer than
#     its local checkpoint wrote;
#  2. host 2's senior is killed during its local checkpoint: the round
#     aborts on every host (checkpoint), the others keep serving;
#  3. host 2's manager restarts and catches up; the next round of all
#     three is done with nothing repaired.
#
# Clients saw no error and no wrong value; after an ordered checkpoint the
# three live volumes are byte-identical.
. "$(dirname "$0")/../lib/cluster.sh"
cl_enter "$@"

export CL_RECORDS=1000 CL_RECORD_SIZE=248	# 256-byte slots
SLOW_MS=500
CL_REPLICA_2="kv-faulty --engine kv-hash --fault slow-checkpoint --fault-delay $SLOW_MS"
export CL_REPLICA_2
# The shadows (kv-sqlite) are slow on host 2 too: it has a file "slow".
cat >"$CL_BASE/sqlite" <<EOS
#!/bin/sh
[ -e "\$1/slow" ] || { shift; exec "$VMFIT_BIN/kv-sqlite" "\$@"; }
shift
exec "$VMFIT_BIN/kv-faulty" --engine kv-sqlite --fault slow-checkpoint \
	--fault-delay $SLOW_MS "\$@"
EOS
chmod +x "$CL_BASE/sqlite"
mkdir -p "$(cl_hostdir 2)"
touch "$(cl_hostdir 2)/slow"
CL_VMFITD_EXTRA="peer_listen = @ADDR@:7500
state_volume_b = @DIR@/vstate/state-b.img
shadow_cmd = $CL_BASE/sqlite @DIR@ --records $CL_RECORDS --record-size $CL_RECORD_SIZE
recovery_timeout_ms = 30000
recovery_local_checkpoint = yes"
cl_up 3

# The load outlasts the rounds and ends by itself: every request answered.
cl_bench_start load --clients 4 --records 1000 --duration 20 \
	--write-ratio 0.5 --verify --timeout 10000
sleep 3

# local_line i: host i's last "local checkpoint of the senior" line.
local_line() {
	grep 'recovery: local checkpoint of the senior at order' \
		"$(cl_hostdir "$1")/vmfitd.log" | tail -n 1
}
# slots i order: the slots host i's senior wrote at its checkpoint of order.
slots() {
	sed -nE "s/.* checkpoint at order $2: ([0-9]+) slots written.*/\\1/p" \
		"$(cl_hostdir "$1")/vmfitd.log" | tail -n 1
}

# 1. a round with the local checkpoints at different positions
out=$(cl_recover 1) || cl_die "round 1 failed: $out"
cl_wait_rounds 1
cl_assert_eq "round 1 done" "done done done" "$(cl_all_stat rcv_last_result)"
cl_assert_eq "round 1: nothing repaired" "0 0 0" "$(cl_all_stat rcv_repaired)"
capture=$(cl_stat 1 rcv_capture_order)
cl_assert_eq "one capture order" "$capture $capture $capture" \
	"$(cl_all_stat rcv_capture_order)"
declare -A at done_at start_at
for i in 1 2 3; do
	line=$(local_line "$i")
	rank=$(sed -E 's/.*\(rank ([0-9]+)\).*/\1/' <<<"$line")
	order=$(cl_stat "$i" rcv_local_order)
	[[ "$line" == *"at order $order (rank"* ]] ||
		cl_die "host $i: status rcv_local_order $order, log: $line"
	at[$rank]=$order
	start_at[$rank]=${line%% *}
	done_at[$rank]=$(grep "recovery: local checkpoint at order $order done" \
		"$(cl_hostdir "$i")/vmfitd.log" | tail -n 1 | cut -d' ' -f1)
	[ -n "${done_at[$rank]}" ] || cl_die "host $i: no end of its local checkpoint"
	lslots=$(slots "$i" "$order")
	cslots=$(slots "$i" "$capture")
	[ -n "$lslots" ] && [ -n "$cslots" ] ||
		cl_die "host $i: no slot count for orders $order / $capture"
	cl_log "host $i (rank $rank): local checkpoint at order $order wrote $lslots slots in $(cl_stat "$i" rcv_local_ms) ms; capture at $capture wrote $cslots"
	((cslots <= capture - order)) ||
		cl_die "host $i: the capture wrote $cslots slots, more than the $((capture - order)) requests since the local checkpoint"
	# The last in the chain checkpoints just before the capture.
	((rank < 2 || cslots < lslots)) ||
		cl_die "host $i: the capture wrote $cslots slots, the local checkpoint just before it only $lslots"
done
((at[0] <= at[1] && at[1] <= at[2])) ||
	cl_die "local checkpoints not in rank order: ${at[0]} ${at[1]} ${at[2]}"
((at[0] < at[2])) ||
	cl_die "every local checkpoint at order ${at[0]}: not at different positions"
for r in 1 2; do
	[[ ! "${start_at[$r]}" < "${done_at[$((r - 1))]}" ]] ||
		cl_die "rank $r started its local checkpoint at ${start_at[$r]}, before rank $((r - 1)) finished (${done_at[$((r - 1))]})"
done
(($(cl_stat 2 rcv_local_ms) >= SLOW_MS)) ||
	cl_die "host 2's local checkpoint took $(cl_stat 2 rcv_local_ms) ms: not the slow senior"

# 2. host 2's senior dies during its local checkpoint
before=$(grep -c 'recovery: local checkpoint of the senior' "$(cl_hostdir 2)/vmfitd.log")
senior=$(cl_stat 2 replica_pid)
"$VMFIT_BIN/vmfitd" --recover --timeout 60000 \
	-c "$(cl_hostdir 1)/vmfitd.conf" >/dev/null 2>&1 ||
	cl_die "cannot trigger round 2"
deadline=$((SECONDS + 30))
until (($(grep -c 'recovery: local checkpoint of the senior' "$(cl_hostdir 2)/vmfitd.log") > before)); do
	((SECONDS < deadline)) || cl_die "host 2 did not start its local checkpoint in 30 s"
	sleep 0.1
done
kill -KILL "$senior"
cl_log "round 2: killed host 2's senior (pid $senior) during its local checkpoint"
cl_wait_rounds 2
cl_assert_eq "round 2 aborted" "checkpoint checkpoint checkpoint" \
	"$(cl_rcv_result 1) $(cl_rcv_result 2) $(cl_rcv_result 3)"
grep -q "the senior's local checkpoint failed" "$(cl_hostdir 2)/vmfitd.log" ||
	cl_die "host 2 does not say its local checkpoint failed"

# 3. host 2 restarts, catches up; a round of all three
cl_kill_manager 2
cl_start_vmfitd 2
cl_wait_stat 2 synced 1 60
cl_wait_stat 2 ready 1 60
for i in 1 2 3; do cl_wait_stat "$i" rcv_phase idle; done
out=$(cl_recover 1) || cl_die "round after the catch-up failed: $out"
for i in 1 2 3; do cl_wait_stat "$i" rcv_phase idle; done
cl_assert_eq "last round done" "done done done" "$(cl_all_stat rcv_last_result)"
cl_assert_eq "last round: nothing repaired" "0 0 0" "$(cl_all_stat rcv_repaired)"

cl_bench_wait 60 || cl_die "vmfit-bench failed; see $CL_DIR/load.log"
cl_load_clean
cl_checkpoint_compare 1 "after the rounds"
cl_log "PASS"
