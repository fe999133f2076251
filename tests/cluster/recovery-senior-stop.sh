#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# recovery-senior-stop: the hand-over stops the senior without stopping
# the service (Documentation/protocol.rst "Recovery", step 6). One host
# (unreplicated), file volumes, under client load with --verify:
#
#  1. a kv-hash senior hands over to a kv-sqlite shadow and exits at
#     once when asked (stopped, not killed);
#  2. that kv-sqlite, now the senior, ignores SIGTERM and lingers 30 s
#     after its channel closed: it is killed after SENIOR_STOP_MS (2 s),
#     and meanwhile the new replica executes requests (the event loop
#     never waits for the old one); the round is done only once it is
#     gone, and it is gone.
#
# No answer is lost or wrong; rcv_senior_stopping is 0 after each round.
# With recovery_local_checkpoint = no (vmfitd.conf(5)) the seniors take no
# local checkpoint (cluster/recovery-local-checkpoint has them).
. "$(dirname "$0")/../lib/cluster.sh"
cl_enter "$@"

export CL_RECORDS=1000 CL_RECORD_SIZE=248
cl_shadow_wrapper "$CL_BASE/flaky-sqlite"
echo linger >"$CL_BASE/shadow-mode"
CL_VMFITD_EXTRA="state_volume_b = @DIR@/vstate/state-b.img
shadow_cmd = $CL_BASE/flaky-sqlite @DIR@ --records $CL_RECORDS --record-size $CL_RECORD_SIZE
recovery_timeout_ms = 30000
recovery_local_checkpoint = no"
cl_up_unreplicated
log=$(cl_hostdir 1)/vmfitd.log

cl_bench_start load --clients 4 --records 1000 --duration 20 \
	--write-ratio 0.5 --verify --timeout 10000
sleep 1

# 1. kv-hash -> kv-sqlite: the senior exits when asked.
out=$(cl_recover 1) || cl_die "round 1 failed: $out"
cl_wait_rounds 1
cl_assert_eq "round 1 done" done "$(cl_rcv_result 1)"
grep -qE 'recovery: senior \(pid [0-9]+\) stopped in [0-9]+ ms' "$log" ||
	cl_die "round 1: the senior was not stopped: $(grep 'recovery: .*senior' "$log")"
cl_assert_eq "nothing stopping after round 1" 0 "$(cl_stat 1 rcv_senior_stopping)"
lingering=$(cl_stat 1 replica_pid)
[ -n "$lingering" ] && kill -0 "$lingering" ||
	cl_die "no replica process after round 1 (pid '$lingering')"

# 2. the lingering kv-sqlite senior: killed after 2 s, the replica serves.
out=$(cl_recover 1) || cl_die "round 2 failed: $out"
cl_wait_rounds 2
cl_assert_eq "round 2 done" done "$(cl_rcv_result 1)"
grep -q "recovery: the senior (pid $lingering) did not exit within 2000 ms: killing it" "$log" ||
	cl_die "round 2: the lingering senior was not killed: $(grep 'recovery: .*senior' "$log")"
line=$(grep -E "recovery: senior \\(pid $lingering\\) killed in [0-9]+ ms; the replica executed [0-9]+ request" "$log") ||
	cl_die "round 2: no end of the lingering senior: $(grep 'recovery: .*senior' "$log")"
ms=$(sed -E 's/.* killed in ([0-9]+) ms.*/\1/' <<<"$line")
meanwhile=$(sed -E 's/.* executed ([0-9]+) request.*/\1/' <<<"$line")
cl_log "round 2: senior killed after $ms ms; the replica executed $meanwhile requests meanwhile"
((ms >= 2000)) || cl_die "the senior was killed after $ms ms, before SENIOR_STOP_MS"
((meanwhile > 0)) ||
	cl_die "the replica executed nothing while the senior was being stopped: the loop waited for it"
cl_assert_eq "rcv_senior_stop_ms" "$ms" "$(cl_stat 1 rcv_senior_stop_ms)"
cl_assert_eq "nothing stopping after round 2" 0 "$(cl_stat 1 rcv_senior_stopping)"
kill -0 "$lingering" 2>/dev/null && cl_die "the lingering senior $lingering is still there"

# recovery_local_checkpoint = no: RCV_READY at HELLO, no local checkpoint.
! grep -q 'recovery: local checkpoint' "$log" ||
	cl_die "a local checkpoint although recovery_local_checkpoint = no"
cl_assert_eq "rcv_local_ms" 0 "$(cl_stat 1 rcv_local_ms)"

cl_bench_wait 60 || cl_die "vmfit-bench failed; see $CL_DIR/load.log"
cl_load_clean
cl_log "PASS"
