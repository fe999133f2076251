#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# recovery-period: rounds started by the timer (recovery_period_s) in
# --unreplicated mode (one manager, k = 1: every group message is
# delivered inside its own send, the controller's re-entrant path), with
# recovery_full_every = 2 and kv-hash / kv-sqlite alternating, under
# --verify load: at least 4 rounds within 20 s, all done, every 2nd one
# full (all chunks hashed), the others delta; no wrong or lost answer.
#
# Test faults are off without test_faults = yes: the manager started with
# VMFITD_TEST_FAULT=lie-digests logs that it ignores it (its rounds are
# done, k = 1 would not notice a lie, the log says it all); started again
# with test_faults = yes and an unknown fault name, vmfitd refuses to
# start.
. "$(dirname "$0")/../lib/cluster.sh"
cl_enter "$@"

export CL_RECORDS=2000 CL_RECORD_SIZE=248
export CL_VMFITD_EXTRA="state_volume_b = @DIR@/vstate/state-b.img
shadow_cmd = @BIN@/kv-sqlite --records $CL_RECORDS --record-size $CL_RECORD_SIZE
recovery_period_s = 2
recovery_full_every = 2"
CL_VMFITD_WRAP="env VMFITD_TEST_FAULT=lie-digests"
cl_up_unreplicated
grep -q 'VMFITD_TEST_FAULT ignored: test_faults is not set' "$(cl_hostdir 1)/vmfitd.log" &&
	! grep -q 'TEST FAULT' "$(cl_hostdir 1)/vmfitd.log" ||
	cl_die "VMFITD_TEST_FAULT without test_faults = yes was not ignored"
cl_bench_start load --servers "$(cl_addr 1):$CL_PORT" --clients 8 \
	--records 1500 --duration 12 --write-ratio 0.5 --verify --timeout 10000
bpid=$CL_BENCH_PID

declare -A seen
deadline=$((SECONDS + 20))
# One status snapshot per look: separate reads can straddle the start of
# the next round (the period is 2 s).
st_field() {
	sed -n "s/^$1=//p" <<<"$st" | head -n 1
}
while ((SECONDS < deadline)); do
	st=$(cl_status 1)
	d=$(st_field rcv_done)
	if [ "$(st_field rcv_phase)" = idle ] && [ -n "$d" ] && ((d > 0)) &&
		[ -z "${seen[$d]:-}" ]; then
		seen[$d]="$(st_field rcv_full) $(st_field rcv_hashed) $(st_field rcv_chunks)"
		cl_log "round $d: full hashed chunks = ${seen[$d]}"
	fi
	((${d:-0} >= 4)) && break
	sleep 0.1
done
((${d:-0} >= 4)) || cl_die "only ${d:-0} periodic rounds done in 20 s"
cl_assert_eq "aborted rounds" 0 "$(cl_stat 1 rcv_aborted)"
for r in "${!seen[@]}"; do
	read -r full hashed chunks <<<"${seen[$r]}"
	if ((full)); then
		cl_assert_eq "round $r (full) hashed" "$chunks" "$hashed"
	else
		((hashed < chunks)) || cl_die "round $r (delta) hashed $hashed of $chunks"
	fi
done
grep -q "shadow HELLO: kv-sqlite" "$(cl_hostdir 1)/vmfitd.log" &&
	grep -q "shadow HELLO: kv-hash" "$(cl_hostdir 1)/vmfitd.log" ||
	cl_die "the shadows did not alternate between kv-sqlite and kv-hash"
wait "$bpid" || cl_die "vmfit-bench failed; see $CL_DIR/load.log"
cl_load_clean

cl_kill vmfitd 1
CL_VMFITD_WRAP="env VMFITD_TEST_FAULT=lie-digests,no-such-fault"
CL_VMFITD_EXTRA+="
unreplicated = yes
test_faults = yes"
cl_start_vmfitd 1
cl_vmfitd_exits 1 10 "VMFITD_TEST_FAULT: unknown fault 'no-such-fault'"
cl_log "PASS"
