#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# recovery-faults: the fault cases of proactive recovery
# (Documentation/protocol.rst "Timeouts and abort rules") on 3 hosts
# (f = 1), file stand-in volumes, under continuous client load
# (vmfit-bench --verify). Each fault ends in a clean abort or a completed
# round, and the next round succeeds:
#
#  1. the shadows die on RESTORE (kv-faulty --fault crash-restore): the
#     round aborts on every host (shadow-restore), the seniors keep
#     serving on volume A;
#  2. the next round is done everywhere;
#  3. host 1 is killed during the chunk transfer: host 2's live volume has
#     a flipped byte, its repair is fetched from host 1 first, which
#     serves half of the chunk and then hangs (test fault stall-chunks);
#     host 1 (vmfitd, replica, corosync) is killed meanwhile. Host 2 gets
#     the chunk from host 3; hosts 2 and 3 either complete the round or
#     abort it (member-left), and one that completes does not wait for
#     the other's abort until the timeout (the abort is multicast);
#  4. host 1 is started again, empty; as a receiver, its shadow dies on
#     RESTORE after it took over the manager state: it exits (it cannot
#     go on with its empty replica), the voters' round is done; started
#     again it catches up; then a round of all three is done; host 1 kept the voted digests as its
#     digest store: its round is delta (only the changed set hashed) and
#     fills its B whole once;
#  5. host 3 is killed while the digests are exchanged (its hash is slow:
#     test fault slow-hash; hosts 1 and 2 wait in phase verify for its
#     root): hosts 1 and 2 abort (member-left); just before, FETCHes of
#     an unknown chunk, an unknown manager state piece and another round
#     to host 1, which serves the round's view: PEER_ERROR CHUNK, CHUNK,
#     ROUND;
#  6. host 3 is started again, catches up, and a round of all three is
#     done (delta on host 3 too; host 1 copies only what it hashed).
#
# Throughout, host 2's recovery events are followed with `vmfit-ctl
# --json events --manager` (vmfitd's control socket): every phase of a
# done round in order, the aborts with their phase and reason, the end of
# each round. At the end: the clients saw no error and no wrong value,
# and after an ordered checkpoint the three live volumes are
# byte-identical.
. "$(dirname "$0")/../lib/cluster.sh"
cl_enter "$@"

export CL_RECORDS=2000 CL_RECORD_SIZE=248	# 256-byte slots, 126 chunks
PEER_PORT=7500
# A loaded machine (other tests, VMs) can starve corosync for seconds: a
# token that outlasts that keeps the ring of three whole (the kills are
# detected a little later).
CL_TOKEN=3000

cl_shadow_wrapper "$CL_BASE/flaky-sqlite"
cl_fault_wrapper "$CL_BASE/with-faults"
# The stalled fetch waits for the kill, not for its own timeout.
CL_VMFITD_EXTRA="peer_listen = @ADDR@:$PEER_PORT
state_volume_b = @DIR@/vstate/state-b.img
shadow_cmd = $CL_BASE/flaky-sqlite @DIR@ --records $CL_RECORDS --record-size $CL_RECORD_SIZE
recovery_timeout_ms = 40000
recovery_fetch_timeout_ms = 30000
test_faults = yes"
CL_VMFITD_WRAP="$CL_BASE/with-faults @DIR@"
CL_VMFITD_WRAP_HOSTS="1 2 3"
mkdir -p "$(cl_hostdir 1)" "$(cl_hostdir 3)"
echo stall-chunks >"$(cl_hostdir 1)/faults"
echo slow-hash >"$(cl_hostdir 3)/faults"

# restart i: host i comes back (corosync, then vmfitd with its replica
# empty) and catches up as a receiver.
restart() {
	local i=$1
	cl_start_corosync "$i"
	cl_wait_ring 3
	cl_start_vmfitd "$i"
	caught_up "$i"
}

caught_up() {
	local i=$1 deadline=$((SECONDS + 60))
	until [ "$(cl_stat "$i" synced)" = 1 ] && [ "$(cl_stat "$i" ready)" = 1 ]; do
		((SECONDS < deadline)) || cl_die "host $i did not catch up in 60 s"
		sleep 0.2
	done
	cl_wait_rounds 1 "$i"	# its part of the round ends after the others'
	cl_assert_eq "host $i caught up once" 1 "$(cl_stat "$i" rcv_caught_up)"
	cl_log "host $i restarted and caught up: $(grep 'recovery: caught up:' "$(cl_hostdir "$i")/vmfitd.log" | tail -n 1)"
}

# after_catchup i: host i's first round after its catch-up, from the
# digest store it kept: delta (only the changed set hashed), every chunk
# copied into B (the volume its empty replica had: nothing verified).
after_catchup() {
	local h n
	h=$(cl_stat "$1" rcv_hashed)
	n=$(cl_stat "$1" rcv_chunks)
	cl_assert_eq "host $1's round after its catch-up: delta" 0 "$(cl_stat "$1" rcv_full)"
	((h > 0 && h < n)) || cl_die "host $1 hashed $h of $n chunks after its catch-up (delta expected)"
	cl_assert_eq "host $1 filled its B whole" "$n" "$(cl_stat "$1" rcv_copied)"
}

# round_of_three n: a round through host 2 is done on every host (each
# has ended n rounds since its last start)
round_of_three() {
	local out
	# something to hash even when the load is over
	out=$(cl_probe 2 --put "1960=round-$1-$SECONDS")
	[[ "$out" == "REPLY version=3 status=OK kv=OK"* ]] || cl_die "PUT through host 2: $out"
	out=$(cl_recover 2) || cl_die "round through host 2 failed: $out"
	cl_wait_rounds "$1" 1 2 3
	cl_assert_eq "round done everywhere" "done done done" \
		"$(cl_rcv_result 1) $(cl_rcv_result 2) $(cl_rcv_result 3)"
}

cl_up 3
for i in 1 3; do
	grep -q "TEST FAULT $(cat "$(cl_hostdir "$i")/faults")" "$(cl_hostdir "$i")/vmfitd.log" ||
		cl_die "host $i: the test fault is not active"
done

# host 2's events, from here to the end
ev=$CL_DIR/events-h2.json
"$VMFIT_BIN/vmfit-ctl" --json events --manager \
	--config "$(cl_hostdir 2)/vmfitd.conf" >"$ev" 2>"$CL_DIR/events-h2.err" &
evpid=$!
deadline=$((SECONDS + 10))
until grep -qs 'events: listening' "$CL_DIR/events-h2.err"; do
	((SECONDS < deadline)) || cl_die "vmfit-ctl events --manager: $(cat "$CL_DIR/events-h2.err")"
	sleep 0.1
done

cl_bench_start load --clients 12 --records 1500 --duration 45 \
	--write-ratio 0.5 --verify --timeout 10000
bpid=$CL_BENCH_PID
sleep 1

# 1. the shadows die on RESTORE
echo crash-restore >"$CL_BASE/shadow-mode"
out=$(cl_recover 2) && cl_die "round 1 did not abort: $out"
cl_wait_rounds 1
cl_assert_eq "round 1: shadow-restore everywhere" \
	"shadow-restore shadow-restore shadow-restore" \
	"$(cl_rcv_result 1) $(cl_rcv_result 2) $(cl_rcv_result 3)"
for i in 1 2 3; do
	cl_assert_eq "host $i still on volume A" "$(cl_volume "$i")" "$(cl_stat "$i" rcv_volume)"
	grep -q 'restoring the shadow' "$(cl_hostdir "$i")/vmfitd.log" ||
		cl_die "host $i: the shadow was not restoring"
done
cl_log "1. shadows died on RESTORE: aborted everywhere (shadow-restore)"

# 2. the next round, followed by vmfit-ctl recover --wait through host
# 2's events: every phase, in order (a status file sampled every 200 ms
# would miss the short ones)
echo ok >"$CL_BASE/shadow-mode"
out=$("$VMFIT_BIN/vmfit-ctl" recover --wait --config "$(cl_hostdir 2)/vmfitd.conf" 2>&1) ||
	cl_die "round 2 (vmfit-ctl recover --wait) failed: $out"
cl_assert_eq "vmfit-ctl recover --wait: every phase of round 2" \
	"starting ready capture hash verify fetch copy restore handover finish done" \
	"$(sed -n 's/^phase=\([a-z]*\) .*/\1/p; s/^done$/done/p' <<<"$out" | tr '\n' ' ' | sed 's/ $//')"
cl_wait_rounds 2 1 2 3
cl_assert_eq "round 2 done everywhere" "done done done" \
	"$(cl_rcv_result 1) $(cl_rcv_result 2) $(cl_rcv_result 3)"
cl_log "2. the next round is done"

# 3. host 1 killed during the chunk transfer
vol=$(cl_live_volume 2)
off=$((4096 + 1900 * 256 + 100))	# record 1900: the load never writes it
printf '\x5a' | dd of="$vol" bs=1 seek="$off" conv=notrunc status=none
"$VMFIT_BIN/vmfitd" --recover --full -c "$(cl_hostdir 2)/vmfitd.conf" >/dev/null ||
	cl_die "round 3 not started"
cl_wait_phase 2 fetch
sleep 1	# the FETCH reaches host 1, half the chunk comes back
cl_assert_eq "host 2 still fetching (host 1 stalls)" fetch "$(cl_stat 2 rcv_phase)"
cl_kill_host 1
cl_wait_rounds 3 2 3
r2=$(cl_rcv_result 2)
r3=$(cl_rcv_result 3)
cl_log "3. host 1 killed mid-chunk: host 2 $r2, host 3 $r3"
# done, or aborted for host 1: member-left, or the abort host 1
# multicast when it saw its shadow die a moment before itself (the kill
# takes the children first)
for i in 2 3; do
	a=$(cl_stat "$i" rcv_last_abort)
	[ "$(cl_rcv_result "$i")" = done ] || [[ "$a" == member-left* || "$a" == *"node 1: "* ]] ||
		cl_die "round 3 on host $i: '$(cl_rcv_result "$i")' ($a), want done or aborted for node 1"
done
# host 2 completed: its repair came from host 3 after host 1's death
if [ "$r2" = done ]; then
	grep -q "from node 1: connection closed before the chunk" "$(cl_hostdir 2)/vmfitd.log" ||
		cl_die "host 2 did not log the chunk cut off by host 1's death"
fi
if [ "$r2" != "$r3" ]; then
	# one aborted, the other had fetched: it learnt of the abort at once
	grep -q 'aborted the round (.*), this host has all it needs' \
		"$(cl_hostdir "$([ "$r2" = done ] && echo 2 || echo 3)")/vmfitd.log" ||
		cl_die "the host that completed round 3 did not hear the other's abort"
fi

# 4. host 1 comes back; its first shadow dies on RESTORE, after host 1
# took over the manager state (in sync everywhere from there): it must
# not go on with its empty replica, it exits; the others' round is done.
# Started again, it catches up; then a round of three.
rm -f "$(cl_hostdir 1)/faults"
echo crash-restore >"$(cl_hostdir 1)/shadow-mode"
r0_2=$(($(cl_stat 2 rcv_done) + $(cl_stat 2 rcv_aborted)))
r0_3=$(($(cl_stat 3 rcv_done) + $(cl_stat 3 rcv_aborted)))
cl_start_corosync 1
cl_wait_ring 3
cl_start_vmfitd 1
cl_vmfitd_exits 1 60 'the shadow died before this manager had caught up'
cl_wait_rounds $((r0_2 + 1)) 2
cl_wait_rounds $((r0_3 + 1)) 3
cl_assert_eq "the voters' round is done" "done done" "$(cl_rcv_result 2) $(cl_rcv_result 3)"
cl_log "4a. host 1's shadow died on RESTORE while it caught up: it exited, the voters' round is done"
rm -f "$(cl_hostdir 1)/shadow-mode"
cl_start_vmfitd 1
caught_up 1
round_of_three 2
after_catchup 1
cl_log "4. host 1 caught up; the next round of three is done"

# 5. host 3 killed while the digests are exchanged
"$VMFIT_BIN/vmfitd" --recover -c "$(cl_hostdir 2)/vmfitd.conf" >/dev/null ||
	cl_die "round 5 not started"
cl_wait_phase 3 hash	# 4 s (slow-hash)
cl_wait_phase 1 verify
cl_wait_phase 2 verify
# Bad FETCHes to host 1 while it serves this round's view: a chunk past
# the volume, a piece of a manager state it does not have (no receiver),
# another round; host 1 answers each with PEER_ERROR and goes on.
rd=$(cl_stat 1 rcv_round)
cl_peer_error 1 "$PEER_PORT" "unknown chunk" 8 \
	"$(cl_peer_hdr 32 16)$(cl_peer_u64 "0x$rd")$(cl_peer_u64 999999)"
cl_peer_error 1 "$PEER_PORT" "unknown piece" 8 \
	"$(cl_peer_hdr 32 16)$(cl_peer_u64 "0x$rd")$(cl_peer_u64 $(((1 << 63) + 7)))"
cl_peer_error 1 "$PEER_PORT" "another round" 7 \
	"$(cl_peer_hdr 32 16)$(cl_peer_u64 $((0x$rd ^ 1)))$(cl_peer_u64 1)"
cl_kill_host 3
cl_wait_rounds 3 1
cl_wait_rounds 5 2
# member-left, or what host 3 multicast when it saw its shadow die a
# moment before itself (the kill takes the children first)
for i in 1 2; do
	a=$(cl_stat "$i" rcv_last_abort)
	[ "$(cl_stat "$i" rcv_last_result)" = aborted ] &&
		[[ "$a" == member-left* || "$a" == *"node 3: "* ]] ||
		cl_die "host $i: round 5 ended '$(cl_stat "$i" rcv_last_result)' ($a), want aborted for node 3"
done
r5=$(cl_rcv_result 2)
for i in 1 2; do
	cl_assert_eq "host $i on the volume it served on" "$(cl_stat "$i" rcv_volume)" "$(cl_live_volume "$i")"
done
cl_log "5. host 3 killed during the digest exchange: aborted (member-left)"

# 6. host 3 comes back, catches up; then a round of three
restart 3
round_of_three 2
after_catchup 3
# host 1's second round since: B holds the verified state again
cl_assert_eq "host 1 copies only what it hashed" "$(cl_stat 1 rcv_hashed)" "$(cl_stat 1 rcv_copied)"
cl_log "6. host 3 caught up; the next round of three is done"

# A manager still finishing its previous round refuses the next one
# (busy): the round must end at once, never at its timeout.
cl_assert_no_round_timeout
wait "$bpid" || cl_die "vmfit-bench failed; see $CL_DIR/load.log"
cl_load_clean
cl_checkpoint_compare 2

# Host 2's events: one document per line; aborts with their phase and
# reason; every phase of a done round in order; an end for each round.
kill -INT "$evpid"
wait "$evpid" || cl_die "vmfit-ctl events --manager failed: $(cat "$CL_DIR/events-h2.err")"
python3 - "$ev" "$r2" "$r5" <<'EOF' || cl_die "host 2's events are wrong; see $ev"
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
assert all(e["source"] == "vmfitd" for e in evs)
ends = [e for e in evs if e["event"] in ("rcv-done", "rcv-aborted")]
# rounds 1, 2, 3, host 1's catch-up whose receiver died (done for the
# voters), host 1's catch-up, rounds 4, 5, host 3's catch-up, round 6
want = ["shadow-restore", "done", sys.argv[2], "done", "done", "done",
        sys.argv[3], "done", "done"]
got = [e.get("reason", "done") for e in ends]
assert got == want, f"round ends {got}, want {want}"
assert ends[0]["phase"] == "restore", ends[0]
assert ends[6]["phase"] == "verify", ends[6]
for i, n in enumerate([0, 0, 0, 1, 1, 0, 0, 1, 0]):
    st = [e for e in evs if e["event"] == "rcv-phase" and
          e["round"] == ends[i]["round"] and e["phase"] == "starting"]
    assert len(st) == 1 and st[0]["receivers"] == n, (i, st)
for e in evs:
    assert len(e["round"]) == 16, e
# the phases of the first done round, in order
r = ends[1]["round"]
ph = [e["phase"] for e in evs if e["event"] == "rcv-phase" and e["round"] == r]
assert ph == ["starting", "ready", "capture", "hash", "verify", "fetch",
              "copy", "restore", "handover", "finish"], ph
assert ends[1]["hashed"] > 0 and ends[1]["ms"] > 0, ends[1]
# host 2 repaired its flipped byte in round 3 if it completed it
if sys.argv[2] == "done":
    assert ends[2]["repaired"] == 1 and ends[2]["bytes_fetched"] == 4096, ends[2]
print(f"{len(evs)} events, round ends {got}")
EOF
cl_log "host 2's events: $(grep -c . "$ev") documents, every round's phases and end"
cl_log "PASS: shadow crash on RESTORE, a host killed mid-chunk and one during the digest exchange: clean ends, catch-ups, next rounds done, nothing lost"
