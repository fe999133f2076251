#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# restart-managers: 3 hosts (f = 1), recovery configured (file stand-in
# volumes, Documentation/protocol.rst "Catching up"). No client may ever
# get an answer from a fresh state: before the membership fix, a GET
# through a restarted manager answered NOT_FOUND for a key written before
# the restart (the fresh managers started in sync at order 0 and their two
# empty replicas outvoted the survivor).
#
# Part 1: f+1 = 2 managers (vmfitd and the replica it started, hosts 2 and
# 3) are killed and started again, corosync running all along. Host 1 was
# alone for a moment, but the others' processes died (CPG reason PROCDOWN:
# they cannot have gone on elsewhere), so it keeps the group's state, in
# sync but stopped. One manager in sync cannot give f+1 = 2 matching
# digests, so no round can bring hosts 2 and 3 back: the group stays
# unavailable, for reads and for writes, and no round starts. That is the
# correct outcome of the fault model (more than f managers lost their
# state at once); the test asserts it: ready=0 everywhere, synced=1 only
# on host 1, no round.
#
# Part 2, a fresh cluster: f = 1 manager (host 3) is killed and started
# again, under load; it comes back as a receiver of a catch-up round
# started by host 1 (the lowest node id in sync) and, while it catches up,
# sends digests and a RCV_READY it has no business sending (test fault
# "receiver-digests"): hosts 1 and 2 refuse them (logged, counted) and
# the catch-up succeeds. Probes through host 3 from the restart on get
# UNAVAILABLE or the right value, never NOT_FOUND or an old one; once in
# sync, host 3 reads the keys written before the restart, writes through
# it are read back everywhere, its clients' load ends with 0 errors and 0
# mismatches, and after an ordered checkpoint its live volume is
# byte-identical to the others'.
. "$(dirname "$0")/../lib/cluster.sh"
cl_enter "$@"

export CL_RECORDS=1000 CL_RECORD_SIZE=128
PEER_PORT=7500
CL_VMFITD_EXTRA="peer_listen = @ADDR@:$PEER_PORT
state_volume_b = @DIR@/vstate/state-b.img
recovery_timeout_ms = 30000
test_faults = yes"

put_all() { # tag key-base: key base+i through host i
	local i out
	for i in 1 2 3; do
		out=$(cl_probe "$i" --put "$(($2 + i))=$1-$i")
		[[ "$out" == "REPLY version=3 status=OK kv=OK"* ]] ||
			cl_die "PUT through host $i: $out"
	done
}

# ---------------------------------------------------------------------------
# Part 1: 2 of 3 restarted: unavailable for good

CL_DIR=$CL_BASE/two
cl_up 3
put_all written-through 0
for i in 1 2 3; do
	out=$(cl_probe "$i" --get 2)
	cl_assert_eq "GET through host $i before the restart" \
		"REPLY version=3 status=OK kv=OK value=written-through-2" "$out"
done

cl_kill_manager 2
cl_kill_manager 3
cl_wait_stat 1 members 1
cl_start_vmfitd 2
cl_start_vmfitd 3
for i in 1 2 3; do
	cl_wait_stat "$i" members 3
	cl_wait_stat "$i" primary 1
done
cl_log "hosts 2 and 3 restarted; every manager sees 3 members"

# Ask every manager, a few times over 3 s: never an answer from a fresh
# state (NOT_FOUND, another value, or a write accepted).
for round in 1 2 3; do
	for i in 1 2 3; do
		for k in 1 2 3; do
			out=$(cl_probe "$i" --get "$k")
			case "$out" in
			"REPLY version=3 status=OK kv=OK value=written-through-$k") ;;
			"REPLY version=3 status=UNAVAILABLE") ;;
			*) cl_die "round $round: GET $k through host $i answered '$out'" ;;
			esac
		done
		out=$(cl_probe "$i" --put "9=after-restart-$i")
		[ "$out" = "REPLY version=3 status=UNAVAILABLE" ] ||
			cl_die "round $round: PUT through host $i answered '$out' (no state to write on)"
	done
	sleep 1
done
for i in 2 3; do
	cl_assert_eq "restarted host $i synced" 0 "$(cl_stat "$i" synced)"
	cl_assert_eq "restarted host $i votes sent" 0 "$(cl_stat "$i" votes_sent)"
	cl_assert_eq "restarted host $i executed" 0 "$(cl_stat "$i" executed)"
done
cl_assert_eq "host 1 keeps the group's state" 1 "$(cl_stat 1 synced)"
cl_assert_eq "host 1 sees managers in sync" 1 "$(cl_stat 1 managers_synced)"
for i in 1 2 3; do
	cl_assert_eq "host $i ready (f+1 = 2 in sync needed: nobody can be)" 0 "$(cl_stat "$i" ready)"
	cl_assert_eq "host $i rounds (1 in sync cannot verify anything)" 0 "$(cl_stat "$i" rcv_rounds)"
done
cl_log "part 1: 2 of 3 restarted: no answer from a fresh state, no round, unavailable (fault model: more than f lost)"
cl_down

# ---------------------------------------------------------------------------
# Part 2: 1 of 3 restarted: it catches up

CL_DIR=$CL_BASE/one
cl_up 3
put_all before-restart 950	# keys 951-953: outside the load's 0-899
cl_bench_start load --servers "$(cl_servers 1 2)" --clients 10 --records 900 \
	--duration 12 --write-ratio 0.5 --verify --timeout 10000
bpid=$CL_BENCH_PID
sleep 1

cl_kill_manager 3
cl_wait_stat 1 members 2
CL_VMFITD_WRAP="env VMFITD_TEST_FAULT=receiver-digests"
CL_VMFITD_WRAP_HOSTS=3
cl_start_vmfitd 3
CL_VMFITD_WRAP=
cl_wait_stat 3 members 3

# From the restart on: UNAVAILABLE or the right value, never another.
cl_wait_caught_up 3 952 before-restart-2
cl_log "host 3 in sync again: $(grep -m1 'caught up' "$(cl_hostdir 3)/vmfitd.log")"
for k in 1 2 3; do
	out=$(cl_probe 3 --get "$((950 + k))")
	cl_assert_eq "GET $((950 + k)) through the restarted host 3" \
		"REPLY version=3 status=OK kv=OK value=before-restart-$k" "$out"
done
out=$(cl_probe 3 --put "957=through-3")
[[ "$out" == "REPLY version=3 status=OK kv=OK"* ]] || cl_die "PUT through host 3: $out"
for i in 1 2 3; do
	out=$(cl_probe "$i" --get 957)
	cl_assert_eq "GET 957 through host $i" \
		"REPLY version=3 status=OK kv=OK value=through-3" "$out"
done
cl_assert_eq "host 3 caught up once" 1 "$(cl_stat 3 rcv_caught_up)"
for i in 1 2; do
	grep -q 'from node 3 refused: it catches up' "$(cl_hostdir "$i")/vmfitd.log" ||
		cl_die "host $i did not refuse the receiver's digests"
	(($(cl_stat "$i" rcv_bad_msgs) > 0)) || cl_die "host $i counted no refused message"
done

wait "$bpid" || cl_die "vmfit-bench failed; see $CL_DIR/load.log"
cl_load_clean
(($(cl_stat 3 votes_sent) > 0)) || cl_die "host 3 does not vote after the catch-up"

cl_checkpoint_compare 3 "after the catch-up"
cl_log "PASS: 2 of 3 restarted stay unavailable; 1 of 3 restarted catches up, answers with the group's state, volume identical"
