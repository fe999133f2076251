#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# recovery-catchup-faults: faults while a manager catches up
# (Documentation/protocol.rst "Catching up"), 5 hosts (f = 2), file
# stand-in volumes, under continuous client load (vmfit-bench --verify).
# Host 2 hashes slowly (test fault slow-hash: 4 s), so that every round
# spends seconds in its digest exchange, where the kills below land:
#
#  1. the receiver is killed during its catch-up (host 5, its vmfitd and
#     replica, while it waits for the voters' digests): the voters'
#     round is done all the same; host 5 started again catches up;
#  2. a voter is killed during a catch-up (host 3, while host 5 catches
#     up again): the round aborts on the voters and on the receiver
#     (member-left); the next catch-up, by the 3 = f+1 managers left in
#     sync, brings host 5 back;
#  3. two managers catch up at once (hosts 3 and 4 started while a round
#     runs, so that both are present at the next RECOVER): one round with
#     two receivers brings both back (3 in sync = f+1: the rules allow it);
#  4. a round of all five is done.
#
# Then: the clients saw no error and no wrong value, and after an ordered
# checkpoint the five live volumes are byte-identical.
. "$(dirname "$0")/../lib/cluster.sh"
cl_enter "$@"

export CL_RECORDS=1000 CL_RECORD_SIZE=128
PEER_PORT=7500
CL_TOKEN=3000	# recovery-faults.sh: a loaded machine starves corosync
cl_fault_wrapper "$CL_BASE/with-faults"
CL_VMFITD_EXTRA="peer_listen = @ADDR@:$PEER_PORT
state_volume_b = @DIR@/vstate/state-b.img
recovery_timeout_ms = 40000
test_faults = yes"
CL_VMFITD_WRAP="$CL_BASE/with-faults @DIR@"
CL_VMFITD_WRAP_HOSTS="1 2 3 4 5"
mkdir -p "$(cl_hostdir 2)"
echo slow-hash >"$(cl_hostdir 2)/faults"

# killed_abort i node: host i's last round aborted because of the killed
# node: member-left, or the abort that node multicast when it saw its
# own shadow die a moment before itself (the kill takes the children
# first)
killed_abort() {
	local a
	a=$(cl_stat "$1" rcv_last_abort)
	[ "$(cl_stat "$1" rcv_last_result)" = aborted ] &&
		[[ "$a" == member-left* || "$a" == *"node $2: "* ]] ||
		cl_die "host $1: last round '$(cl_stat "$1" rcv_last_result)' ($a), want aborted for node $2"
}

# caught_up i n: host i is in sync, ready, idle, caught up n times
caught_up() {
	local deadline=$((SECONDS + 60))
	until [ "$(cl_stat "$1" synced)" = 1 ] && [ "$(cl_stat "$1" ready)" = 1 ] &&
		[ "$(cl_stat "$1" rcv_phase)" = idle ]; do
		((SECONDS < deadline)) || cl_die "host $1 did not catch up in 60 s"
		sleep 0.2
	done
	cl_assert_eq "host $1 caught up" "$2" "$(cl_stat "$1" rcv_caught_up)"
}

# members_all n: every live manager sees n members
members_all() {
	local i
	for i in "$@"; do
		cl_wait_stat "$i" members 5
	done
}

# rounds i: rounds host i has ended (done + aborted) since its start
rounds() {
	echo $(($(cl_stat "$1" rcv_done) + $(cl_stat "$1" rcv_aborted)))
}

cl_up 5
cl_bench_start load --clients 10 --records 900 --duration 50 \
	--write-ratio 0.5 --verify --timeout 10000
bpid=$CL_BENCH_PID
sleep 1

# 1. the receiver killed during its catch-up
for i in 1 2 3 4; do
	r0[$i]=$(rounds "$i")
done
cl_kill_manager 5
cl_wait_stat 1 members 4
cl_start_vmfitd 5
cl_wait_phase 5 verify	# it keeps the stream, waits for the digests
cl_wait_phase 2 hash	# (status files lag by 200 ms)
cl_kill_manager 5
for i in 1 2 3 4; do
	cl_wait_rounds $((r0[i] + 1)) "$i"
done
cl_assert_eq "1. the voters' round is done" "done done done done" \
	"$(cl_rcv_result 1) $(cl_rcv_result 2) $(cl_rcv_result 3) $(cl_rcv_result 4)"
cl_start_vmfitd 5
caught_up 5 1
cl_log "1. receiver killed mid-catch-up: the voters' round done; host 5 caught up when started again"

# 2. a voter killed during a catch-up
for i in 1 2 4; do
	r0[$i]=$(rounds "$i")
done
cl_kill_manager 5
cl_wait_stat 1 members 4
cl_start_vmfitd 5
cl_wait_phase 5 verify
cl_wait_phase 2 hash
cl_kill_manager 3
for i in 1 2 4; do
	cl_wait_rounds $((r0[i] + 1)) "$i"
done
for i in 1 2 4; do
	killed_abort "$i" 3
done
grep -qE 'round .* aborted \((member-left\): node 3 left the group|[a-z-]+\): node 3: )' \
	"$(cl_hostdir 5)/vmfitd.log" ||
	cl_die "the receiver did not abort when voter 3 died"
caught_up 5 1	# by the next catch-up, with 1, 2 and 4 in sync
cl_log "2. voter killed mid-catch-up: aborted (member-left); host 5 caught up in the next round"

# 3. two catch up at once: hosts 3 and 4 start while a round runs
cl_kill_manager 4
cl_wait_stat 1 members 3
"$VMFIT_BIN/vmfitd" --recover -c "$(cl_hostdir 1)/vmfitd.conf" >/dev/null ||
	cl_die "round 3 not started"
cl_wait_phase 1 verify	# host 2 hashes for 4 s
cl_start_vmfitd 3
cl_start_vmfitd 4
members_all 1 2 3 4 5
cl_assert_eq "the round still runs when both are present" verify "$(cl_stat 1 rcv_phase)"
caught_up 3 1
caught_up 4 1
cl_assert_eq "3. one round caught up two receivers" 2 "$(cl_stat 1 rcv_receivers)"
cl_log "3. hosts 3 and 4 caught up in one round"

# 4. a round of five
for i in 1 2 3 4 5; do
	r0[$i]=$(rounds "$i")
done
out=$(cl_recover 1) || cl_die "round of five failed: $out"
for i in 1 2 3 4 5; do
	cl_wait_rounds $((r0[i] + 1)) "$i"
done
cl_assert_eq "4. a round of five done" "done done done done done" \
	"$(cl_rcv_result 1) $(cl_rcv_result 2) $(cl_rcv_result 3) $(cl_rcv_result 4) $(cl_rcv_result 5)"

# A manager still finishing its previous round refuses the next one
# (busy): the round must end at once, never at its timeout.
cl_assert_no_round_timeout
wait "$bpid" || cl_die "vmfit-bench failed; see $CL_DIR/load.log"
cl_load_clean
cl_checkpoint_compare 1
cl_log "PASS: receiver and voter killed during catch-ups, two receivers in one round, a round of five; nothing lost, volumes identical"
