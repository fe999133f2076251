#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# recovery: proactive recovery with verified state transfer
# (Documentation/protocol.rst "Recovery") on 3 hosts (f = 1), real
# corosync, the file stand-in state volumes (volume_kind file; the VM test
# of the dm-vmfit volumes is still to be written), under continuous client
# load (vmfit-bench --verify):
#
#  1. the shadow fails to start (a wrapper that exits at once, the first
#     time): the round aborts everywhere (shadow-start),
#     the seniors keep serving;
#  2. the next round succeeds, heterogeneous: kv-hash seniors hand over to
#     kv-sqlite shadows (the shadows restore the abstract state); the
#     volume worker runs at recovery_nice, the new replicas do not;
#  3. a byte flipped in host 2's live volume before the capture is found
#     by the vote and repaired from a peer over TCP (host 2 repairs one
#     chunk, hosts 1 and 3 none), and kv-sqlite hands back to kv-hash;
#  4. a full round whose shadows die while replaying the logged requests
#     (after B was written) aborts (shadow-restore) on every host, and
#  5. the next delta round still succeeds (A's changed set was kept:
#     invariant I2), then
#  6. a full round (--full) hashes every chunk;
#  then: no acknowledged operation lost or wrong (--verify, 0 errors, 0
#  unfinished), every host executed every order once (equal executed
#  counts), and after a final ordered checkpoint the three live volumes
#  are byte-identical.
#
# Host 1 cuts off the chunks it serves (a peer link dropping mid-chunk):
# host 2's repair in round 3 comes from host 3 after that failure.
# Hosts 1 and 2 keep kv's journals in files of their own (state_journal,
# state_journal_b), host 3 in its volumes: the volumes vote equal all the
# same (nothing repaired but host 2's flipped chunk; identical at the end).
#
# Part 2, a fresh cluster: host 3 lies about its digests and sends
# malformed recovery messages (truncated, wrong version, wrong round,
# digest of the wrong size, a node that does not exist, an abort of
# another round, an oversized abort text); two rounds still complete with
# nothing repaired, hosts 1 and 2 count and log the refusals. Bad peer
# connections (wrong magic, wrong round, truncated, oversized, wrong type)
# get a PEER_ERROR with the right code, and the manager goes on. Then
# host 3 is killed while a round's shadows start: hosts 1 and 2 abort
# (member-left) and the next round, of two, succeeds.
. "$(dirname "$0")/../lib/cluster.sh"
cl_enter "$@"

export CL_RECORDS=2000 CL_RECORD_SIZE=248	# 256-byte slots, 126 chunks
PEER_PORT=7500

# The shadow command for kv-sqlite, steered by $CL_BASE/shadow-mode
# (cl_shadow_wrapper: fail, slow, crash, crash-restore, ok).
cl_shadow_wrapper "$CL_BASE/flaky-sqlite"

CL_VMFITD_EXTRA="peer_listen = @ADDR@:$PEER_PORT
state_volume_b = @DIR@/vstate/state-b.img
shadow_cmd = $CL_BASE/flaky-sqlite @DIR@ --records $CL_RECORDS --record-size $CL_RECORD_SIZE
recovery_timeout_ms = 30000
test_faults = yes"
CL_JOURNAL=@DIR@/vstate/journal-a CL_JOURNAL_B=@DIR@/vstate/journal-b
CL_JOURNAL_HOSTS="1 2"

# nice_of pid tid: the nice value of a thread (/proc, field 19).
nice_of() {
	sed 's/.*) //' "/proc/$1/task/$2/stat" | cut -d' ' -f17
}

round_ok() { # n: every host has n rounds done, the last one done
	cl_wait_rounds "$(($1 + aborted))"
	cl_assert_eq "rounds done" "$1 $1 $1" "$(cl_all_stat rcv_done)"
	cl_assert_eq "last result" "done done done" "$(cl_all_stat rcv_last_result)"
}

# Host 1 cuts every chunk it serves off halfway (a peer link that drops
# mid-chunk): host 2 must get its repair from host 3.
CL_DIR=$CL_BASE/main
CL_VMFITD_WRAP="env VMFITD_TEST_FAULT=cut-chunks"
CL_VMFITD_WRAP_HOSTS=1
cl_up 3
# The load outlasts the rounds (a few seconds) and ends by itself, so that
# every request has its answer.
cl_bench_start load --clients 20 --records 1500 --duration 20 \
	--write-ratio 0.5 --verify --timeout 10000
bpid=$CL_BENCH_PID
sleep 2

# 1. the shadow does not start
aborted=0
echo fail >"$CL_BASE/shadow-mode"
out=$(cl_recover 1) && cl_die "round 1 did not abort: $out"
cl_log "round 1: $out"
cl_wait_rounds 1
aborted=1
cl_assert_eq "round 1 aborted everywhere" "1 1 1" "$(cl_all_stat rcv_aborted)"
for i in 1 2 3; do
	case "$(cl_stat "$i" rcv_last_abort)" in
	shadow-start*) ;;
	*) cl_die "host $i: abort reason '$(cl_stat "$i" rcv_last_abort)', want shadow-start" ;;
	esac
	cl_assert_eq "host $i still on volume A" "$(cl_volume "$i")" "$(cl_stat "$i" rcv_volume)"
done

# 2. hash -> sqlite
echo ok >"$CL_BASE/shadow-mode"
out=$(cl_recover 2) || cl_die "round 2 failed: $out"
cl_log "round 2: $(echo "$out" | tail -n 2 | head -n 1)"
round_ok 1
for i in 1 2 3; do
	cl_assert_eq "host $i on volume B" "$(cl_hostdir "$i")/vstate/state-b.img" "$(cl_stat "$i" rcv_volume)"
	grep -q "shadow HELLO: kv-sqlite" "$(cl_hostdir "$i")/vmfitd.log" ||
		cl_die "host $i: the shadow was not kv-sqlite"
done
cl_assert_eq "round 2 repaired nothing" "0 0 0" "$(cl_all_stat rcv_repaired)"
# recovery_nice (default 10): the volume worker thread runs 10 lower than
# the manager's loop; the shadow, now the replica, got the manager's
# priority back after its RESTORE.
for i in 1 2 3; do
	p=$(cl_pid vmfitd "$i")
	main=$(nice_of "$p" "$p")
	n=0
	for t in /proc/"$p"/task/*; do
		[ "${t##*/}" != "$p" ] || continue
		cl_assert_eq "host $i: vmfitd thread ${t##*/} at recovery_nice" \
			$((main + 10 > 19 ? 19 : main + 10)) "$(nice_of "$p" "${t##*/}")"
		n=$((n + 1))
	done
	((n >= 1)) || cl_die "host $i: no volume worker thread"
	for k in $(cat "/proc/$p/task/$p/children"); do
		cl_assert_eq "host $i: the replica (pid $k) at the manager's priority" \
			"$main" "$(nice_of "$k" "$k")"
	done
done

# 3. corruption on host 2: a byte in the slot of record 1900 (never
# written by the clients, so no checkpoint rewrites it)
vol=$(cl_live_volume 2)
off=$((4096 + 1900 * 256 + 100))
printf '\x5a' | dd of="$vol" bs=1 seek="$off" conv=notrunc status=none
out=$(cl_recover 3) || cl_die "round 3 failed: $out"
cl_log "round 3: $(echo "$out" | tail -n 2 | head -n 1)"
round_ok 2
cl_assert_eq "round 3 repairs" "0 1 0" "$(cl_all_stat rcv_repaired)"
[ "$(cl_stat 2 rcv_bytes_fetched)" -eq 4096 ] ||
	cl_die "host 2 fetched $(cl_stat 2 rcv_bytes_fetched) bytes, want 4096"
cl_assert_eq "bytes served to host 2 by hosts 1 and 3" "0 4096" \
	"$(cl_stat 1 rcv_bytes_served) $(cl_stat 3 rcv_bytes_served)"
grep -q "from node 1: connection closed before the chunk" "$(cl_hostdir 2)/vmfitd.log" ||
	cl_die "host 2 did not log the chunk cut off by host 1"
grep -q "chunk $(((off) / 4096)) differs" "$(cl_hostdir 2)/vmfitd.log" ||
	cl_die "host 2 did not log the repaired chunk"
# the operator's view of the repair (vmfit-ctl manager)
out=$("$VMFIT_BIN/vmfit-ctl" manager -c "$(cl_hostdir 2)/vmfitd.conf") ||
	cl_die "vmfit-ctl manager on host 2 failed: $out"
grep -qE '^last round [0-9a-f]{16} done in [0-9]+ ms' <<<"$out" &&
	grep -qE '^chunks     [0-9]+ in the volume: [0-9]+ hashed, [0-9]+ verified, 1 repaired' <<<"$out" &&
	grep -q '^bytes      .* 4 KiB fetched from peers' <<<"$out" ||
	cl_die "vmfit-ctl manager on host 2 after round 3: $out"
# delta: only the changed chunks were hashed
h=$(cl_stat 1 rcv_hashed)
n=$(cl_stat 1 rcv_chunks)
((h > 0 && h < n)) || cl_die "round 3 hashed $h of $n chunks on host 1 (delta expected)"
# the delta: exactly the hashed chunks are copied, nothing is fetched
for i in 1 3; do
	cl_assert_eq "host $i copied what it hashed" "$(cl_stat "$i" rcv_hashed) $(( $(cl_stat "$i" rcv_hashed) * 4096 ))" \
		"$(cl_stat "$i" rcv_copied) $(cl_stat "$i" rcv_bytes_copied)"
	cl_assert_eq "host $i fetched nothing" 0 "$(cl_stat "$i" rcv_bytes_fetched)"
done

# 4. a full round whose shadows restore from B, then die replaying: it
# aborts on each host after B was written (shadow-restore); the seniors
# go on, and A's changed set is still whole (invariant I2) ...
echo crash >"$CL_BASE/shadow-mode"
out=$(cl_recover 1 --full) && cl_die "round 4 did not abort: $out"
cl_wait_rounds 4
aborted=2
cl_assert_eq "round 4 aborted everywhere" "2 2 2" "$(cl_all_stat rcv_aborted)"
for i in 1 2 3; do
	case "$(cl_stat "$i" rcv_last_abort)" in
	shadow-restore*) ;;
	*) cl_die "host $i: abort reason '$(cl_stat "$i" rcv_last_abort)', want shadow-restore" ;;
	esac
done
out=$("$VMFIT_BIN/vmfit-ctl" manager -c "$(cl_hostdir 1)/vmfitd.conf") ||
	cl_die "vmfit-ctl manager on host 1 failed: $out"
grep -qE '^recovery   phase [a-z]+.*; [0-9]+ rounds: [0-9]+ done, 2 aborted' <<<"$out" &&
	grep -qE '^last round [0-9a-f]{16} aborted \(full\)' <<<"$out" &&
	grep -q '^last abort shadow-restore' <<<"$out" ||
	cl_die "vmfit-ctl manager on host 1 after round 4: $out"
# ... so the next delta round still hands over a state equal everywhere.
echo ok >"$CL_BASE/shadow-mode"
out=$(cl_recover 2) || cl_die "round 5 failed: $out"
round_ok 3
h=$(cl_stat 1 rcv_hashed)
((h > 0 && h < n)) || cl_die "round 5 hashed $h of $n chunks on host 1 (delta expected)"
cl_assert_eq "round 5 repaired nothing" "0 0 0" "$(cl_all_stat rcv_repaired)"

# 6. a full round
out=$(cl_recover 3 --full) || cl_die "round 6 failed: $out"
round_ok 4
cl_assert_eq "round 6 hashed every chunk" "$n $n $n" "$(cl_all_stat rcv_hashed)"
cl_assert_eq "round 6 repaired nothing" "0 0 0" "$(cl_all_stat rcv_repaired)"

wait "$bpid" || cl_die "vmfit-bench failed; see $CL_DIR/load.log"
cl_load_clean
executed=$(cl_wait_quiet)
acked=$(sed -n 's/^load: .*: \([0-9]*\) ops .*/\1/p' "$CL_DIR/load.log")
cl_log "all hosts executed $executed orders, the clients had $acked acknowledged"
cl_assert_eq "every acknowledged operation executed once" "$acked" "$executed"
cl_checkpoint_compare 1 "after the rounds"
for i in 1 2; do
	for v in a b; do
		[ -s "$(cl_hostdir "$i")/vstate/journal-$v" ] ||
			cl_die "host $i: no kv journal file journal-$v"
	done
	! grep -q '^state_journal' "$(cl_hostdir 3)/vmfitd.conf" ||
		cl_die "host 3 was meant to keep its journal in the volume"
done
cl_log "part 1: 6 rounds (2 aborted, 4 done), live volumes identical (hosts 1, 2 with external kv journals, host 3 without)"
cl_down
unset CL_JOURNAL CL_JOURNAL_B CL_JOURNAL_HOSTS

# Part 2: a lying manager that also sends malformed messages
CL_DIR=$CL_BASE/liar
CL_VMFITD_WRAP="env VMFITD_TEST_FAULT=lie-digests,bad-msgs"
CL_VMFITD_WRAP_HOSTS=3
CL_VMFITD_EXTRA="peer_listen = @ADDR@:$PEER_PORT
state_volume_b = @DIR@/vstate/state-b.img
shadow_cmd = $CL_BASE/flaky-sqlite @DIR@ --records $CL_RECORDS --record-size $CL_RECORD_SIZE
recovery_timeout_ms = 30000
test_faults = yes"
echo ok >"$CL_BASE/shadow-mode"
cl_up 3
cl_bench_start load --clients 8 --records 1500 --duration 25 \
	--write-ratio 0.5 --verify --timeout 10000
bpid=$CL_BENCH_PID
sleep 1
aborted=0
out=$(cl_recover 1) || cl_die "round with a liar failed: $out"
round_ok 1
# this one through vmfit-ctl
out=$("$VMFIT_BIN/vmfit-ctl" recover --wait --config "$(cl_hostdir 2)/vmfitd.conf" 2>&1) ||
	cl_die "second round with a liar (vmfit-ctl recover) failed: $out"
grep -q '^done$' <<<"$out" || cl_die "vmfit-ctl recover --wait: no 'done': $out"
round_ok 2
cl_assert_eq "the liar got nothing replaced" "0 0 0" "$(cl_all_stat rcv_repaired)"
# ... although its digests differed everywhere (the lie was told: every
# node of every level differs, down to the chunks), and neither round
# ran into its timeout (each was done).
cl_assert_liar_refuted 1 2
for i in 1 2; do
	b=$(cl_stat "$i" rcv_bad_msgs)
	((b >= 8)) || cl_die "host $i refused only $b malformed recovery messages"
	for what in "digest of the wrong size" "not the current recovery round" \
		"unknown chunk or tree node" "frame or field too big" \
		"unsupported protocol version" "malformed frame"; do
		grep -q "refused: $what" "$(cl_hostdir "$i")/vmfitd.log" ||
			cl_die "host $i did not log a refusal '$what'"
	done
done

# Bad peer connections to host 1 (no round running: FETCH is refused
# with ROUND; framing errors close the connection).
z8=$CL_PEER_Z8
cl_peer_error 1 "$PEER_PORT" magic 6 'GARBAGEGARBAGE!!'
cl_peer_error 1 "$PEER_PORT" round 7 "$(cl_peer_hdr 32 16)\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00$z8"
cl_peer_error 1 "$PEER_PORT" truncated 1 "$(cl_peer_hdr 32 15)\\x01\\x00\\x00\\x00\\x00\\x00\\x00$z8"
cl_peer_error 1 "$PEER_PORT" type 3 "$(cl_peer_hdr 17 16)\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00$z8"
cl_peer_error 1 "$PEER_PORT" oversized 4 'VMFP\x01\x00\x20\x00\x00\x00\x20\x00\x00\x00\x00\x00'
cl_alive vmfitd 1 || cl_die "vmfitd on host 1 died from bad peer input"
# A host dies during a round (its shadows start slowly): the others abort
# (member-left) and go on serving; the next round, with the two left
# (k = 2 >= f+1), succeeds.
echo slow >"$CL_BASE/shadow-mode"
"$VMFIT_BIN/vmfitd" --recover -c "$(cl_hostdir 1)/vmfitd.conf" >/dev/null ||
	cl_die "round 3 not started"
sleep 1
cl_assert_eq "round 3 is starting" "starting starting" \
	"$(cl_stat 1 rcv_phase) $(cl_stat 2 rcv_phase)"
cl_kill_host 3
aborted=1
cl_wait_rounds 3 1 2
for i in 1 2; do
	case "$(cl_stat "$i" rcv_last_abort)" in
	member-left*) ;;
	*) cl_die "host $i: abort reason '$(cl_stat "$i" rcv_last_abort)', want member-left" ;;
	esac
done
echo ok >"$CL_BASE/shadow-mode"
out=$(cl_recover 2) || cl_die "round 4 (2 hosts) failed: $out"
cl_wait_rounds 4 1 2
cl_assert_eq "round 4 done" "done done" \
	"$(cl_stat 1 rcv_last_result) $(cl_stat 2 rcv_last_result)"
wait "$bpid" || cl_die "vmfit-bench failed; see $CL_DIR/load.log"
cl_load_clean
cl_log "part 2: liar and bad input refused in 2 rounds; a host killed mid-round: abort, then a round of 2"
cl_log "PASS"
