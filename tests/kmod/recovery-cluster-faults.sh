#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# recovery-cluster-faults: the fault cases of proactive recovery (issue 10;
# Documentation/protocol.rst "Timeouts and abort rules") on real dm-vmfit
# state volumes: three hosts in the VM as in recovery-cluster.sh (network
# namespaces, each with corosync, vmfitd, kv replicas of the process
# backend and two vmfit devices), f = 1, under client load (vmfit-bench
# --verify). Host 1 cuts off every chunk it serves halfway (test fault
# cut-chunks: the peer link drops mid-chunk); host 3 starts as a liar
# (lie-digests) whose replica also corrupts every block it writes
# (kv-faulty --fault corrupt-state).
#
#  1. the shadows fail to start: aborted everywhere (shadow-start);
#  2. the shadows die on RESTORE: aborted everywhere (shadow-restore);
#     A's snapshot merged back;
#  3. a round is done: host 3's corrupted chunks are repaired from the
#     others (its first source, host 1, cuts each one off: the second
#     sends it); the liar got nothing replaced on hosts 1 and 2 and did
#     not stall the round;
#  4. host 3's manager restarts (now honest, its replica a plain kv-hash,
#     serving chunks that stall halfway: stall-chunks) and rejoins by
#     state transfer (catch-up round); its volume A was left in snapshot
#     mode without a view (a crash between the snapshot and the view's
#     creation): folded back at the start;
#  5. a delta round after 1 % of the records changed (the load is over):
#     the bytes hashed and copied are within 1.1 x the changed chunks'
#     bytes, with no allowance (kv's journal is in a file of its own,
#     state_journal: its chunks are not in the volume's changed set), the
#     bytes sent within 1.1 x (those + digests); the changed chunks found
#     by comparing the volumes with copies taken after round 4
#     (cl_delta_bounds), on hosts 1 and 2 (host 3 fills its B whole in
#     its first round after the catch-up);
#  6. a byte flipped in host 2's live volume; host 2's repair has no good
#     source (host 1 cuts, host 3 stalls) and host 3 is killed during the
#     transfer: host 2 aborts, host 1 completes or aborts;
#  7. the next round, of the two left, is done.
#
# After every round: both volumes of every host in it in normal mode, no
# view device left. The clients (rounds 1 to 3) saw no error and no wrong
# value; at the end, after an ordered checkpoint, the live volumes of
# hosts 1 and 2 are byte-identical.
# The same cases on the file stand-in: tests/cluster/recovery.sh,
# recovery-faults.sh, recovery-loop.sh.
VMFIT_ROOT=${VMFIT_ROOT:-.}
VMFIT_BIN=${VMFIT_BIN:-/vmtest/bin}
CL_DIR=${CL_DIR:-/tmp/recovery-cluster-faults}
. "$VMFIT_ROOT/tests/lib/cluster.sh"
cl_enter "$@"
. "$VMFIT_ROOT/tests/lib/aux.sh"
set +eEu
trap - ERR

need_vmfit
MB=4
export CL_RECORDS=2000 CL_RECORD_SIZE=248	# 256-byte slots
vmfit_cluster_volumes 3 $MB

cl_down_at_exit

PEER_PORT=7500
cl_shadow_wrapper "$CL_BASE/flaky-sqlite"
cl_fault_wrapper "$CL_BASE/with-faults"
CL_VMFITD_EXTRA="volume_kind = vmfit
state_volume_b = $CL_VOLUME_B
peer_listen = @ADDR@:$PEER_PORT
shadow_cmd = $CL_BASE/flaky-sqlite @DIR@ --records $CL_RECORDS --record-size $CL_RECORD_SIZE
recovery_timeout_ms = 120000
recovery_fetch_timeout_ms = 100000
test_faults = yes"
CL_VMFITD_WRAP="$CL_BASE/with-faults @DIR@"
CL_VMFITD_WRAP_HOSTS="1 2 3"
export CL_REPLICA_3="kv-faulty --fault corrupt-state"
mkdir -p "$(cl_hostdir 1)" "$(cl_hostdir 3)"
echo cut-chunks >"$(cl_hostdir 1)/faults"
echo lie-digests >"$(cl_hostdir 3)/faults"
# recovery-cluster.sh: TCG and a busy host need a long token
export CL_TOKEN=10000 CL_RING_SECS=120 CL_READY_SECS=120
modprobe -a veth bridge || die "modprobe veth bridge"
cl_up 3

# vols_clean i...: both vmfit devices of each host in normal mode (an
# aborted round's merge has ended), no view device left.
vols_clean() {
	local i s
	cl_log "volumes of hosts $*: waiting for normal mode, no views"
	for i in "$@"; do
		for s in a b; do
			wait_status "h$i$s" MODE normal 60
			[ ! -e "$(dm_path "h$i$s")-view" ] ||
				cl_die "host $i: the view of volume $s is left"
		done
	done
}

# aborted_all reason: the last round aborted for this reason everywhere,
# every host still on the volume it served on.
aborted_all() {
	local i
	for i in 1 2 3; do
		cl_assert_eq "host $i: last round" "$1" "$(cl_rcv_result "$i")"
		cl_assert_eq "host $i on the volume it served on" \
			"$(cl_volume "$i")" "$(cl_stat "$i" rcv_volume)"
	done
}

# caught_up i: host i (restarted) caught up by state transfer once, and
# answers with the others
caught_up() {
	local deadline=$((SECONDS + 60))
	# (started just now: its client port opens in a moment)
	while [[ "$(cl_probe "$1" --get 1960)" == CONNECT-FAILED* ]]; do
		((SECONDS < deadline)) || cl_die "host $1 does not listen after 60 s"
		sleep 0.2
	done
	cl_wait_caught_up "$1" 1960 ck 120
	cl_wait_rounds 1 "$1"
	cl_assert_eq "host $1 caught up once" 1 "$(cl_stat "$1" rcv_caught_up)"
	cl_log "host $1: $(grep 'recovery: caught up:' "$(cl_hostdir "$1")/vmfitd.log" | tail -n 1)"
}

# A light load (TCG): it runs through rounds 1 to 3 and ends by itself.
cl_bench_start load --clients 3 --records 1500 --duration 60 \
	--write-ratio 0.5 --verify --timeout 30000
sleep 3

# 1. the shadows do not start
echo fail >"$CL_BASE/shadow-mode"
out=$(cl_recover 1) && cl_die "round 1 did not abort: $out"
cl_log "round 1: $(tail -n 1 <<<"$out")"
cl_wait_rounds 1
aborted_all shadow-start
vols_clean 1 2 3
cl_log "1. the shadows did not start: aborted everywhere (shadow-start)"

# 2. the shadows die on RESTORE (after the capture: A is merged back)
echo crash-restore >"$CL_BASE/shadow-mode"
out=$(cl_recover 2) && cl_die "round 2 did not abort: $out"
cl_wait_rounds 2
# Host 3 (its corrupted chunks to fetch, slow in TCG) may still be
# fetching when the others' shadows die: its next source has no round any
# more, and host 3 aborts the round for that (fetch) before the others'
# abort reaches it.
if [ "$(cl_rcv_result 3)" = fetch ]; then
	grep -q 'peer said not the current recovery round' "$(cl_hostdir 3)/vmfitd.log" ||
		cl_die "host 3 aborted round 2 (fetch) while its sources still had the round"
	cl_log "host 3 aborted round 2 in its repairs: the others had ended it"
	cl_assert_eq "round 2 on hosts 1 and 2" "shadow-restore shadow-restore" \
		"$(cl_rcv_result 1) $(cl_rcv_result 2)"
else
	aborted_all shadow-restore
fi
vols_clean 1 2 3
cl_log "2. the shadows died on RESTORE: aborted everywhere (shadow-restore), A merged back"

# 3. a round with the corrupting replica, the liar and the cut link
echo ok >"$CL_BASE/shadow-mode"
out=$(cl_recover 1) || cl_die "round 3 failed: $out"
cl_wait_rounds 3
cl_assert_eq "round 3 done" "done done done" "$(cl_all_stat rcv_last_result)"
read -r rep1 rep2 rep3 <<<"$(cl_all_stat rcv_repaired)"
cl_assert_eq "the liar got nothing replaced on hosts 1 and 2" "0 0" "$rep1 $rep2"
((rep3 > 0)) || cl_die "host 3's corrupted state was not repaired"
cl_assert_liar_refuted 1 2
grep -q "from node 1: connection closed before the chunk" "$(cl_hostdir 3)/vmfitd.log" ||
	cl_die "host 3 did not log a chunk cut off by host 1"
vols_clean 1 2 3
cl_log "3. done: host 3 repaired $rep3 corrupted chunks (host 1 cut each off), the liar got nothing replaced"

# The load is over; every request has had its answer.
cl_bench_wait 180 || cl_die "vmfit-bench failed; see $CL_DIR/load.log"
cl_load_clean
cl_log "$(grep -m 1 '^load: ' "$CL_DIR/load.log")"

# a value for cl_wait_caught_up to read through a host catching up
out=$(cl_probe 1 --put 1960=ck)
[[ "$out" == "REPLY version=3 status=OK kv=OK"* ]] || cl_die "PUT through host 1: $out"

# 4. host 3's manager restarts and rejoins by state transfer. Its volume A
# is left in snapshot mode without a view, as by a crash between the
# capture's snapshot and the view's creation: vmfitd folds it back at
# its start.
cl_kill_manager 3
cl_wait_stat 1 members 2 60
dm_msg h3a snapshot || cl_die "snapshot of host 3's volume A"
vmfit_status h3a
cl_assert_eq "host 3's volume A" snapshot "$ST_MODE"
echo stall-chunks >"$(cl_hostdir 3)/faults"
unset CL_REPLICA_3
cl_start_vmfitd 3
caught_up 3
cl_wait_rounds 4 1 2
cl_assert_eq "the voters' catch-up round is done" "done done" \
	"$(cl_rcv_result 1) $(cl_rcv_result 2)"
vols_clean 1 2 3
grep -q "recovery: volume .*h3a: a snapshot left by a crash, folded back" \
	"$(cl_hostdir 3)/vmfitd.log" ||
	cl_die "host 3 did not log the snapshot it folded back"
cl_log "4. host 3's manager restarted (a snapshot without its view folded back) and caught up"
# the base of the delta: each volume as the round left it
declare -a cap
for i in 1 2 3; do
	cap[i]=$(cl_live_volume "$i")
	dd if="${cap[i]}" of="$TESTDIR/base-$i" bs=1M iflag=direct status=none ||
		cl_die "copying host $i's volume"
done

# 5. 1 % of the records (20 of 2000) changed, then a delta round
cl_bench delta --records 20 --key-offset 1000 --write-ratio 1 \
	--requests 100 --clients 2 || cl_die "writing 1 % of the records failed"
out=$(cl_recover 2) || cl_die "round 5 failed: $out"
cl_wait_rounds 5 1 2
cl_wait_rounds 2 3
cl_assert_eq "round 5 done" "done done done" "$(cl_all_stat rcv_last_result)"
cl_assert_eq "round 5 delta" "0 0 0" "$(cl_all_stat rcv_full)"
cl_assert_eq "round 5 repaired nothing" "0 0 0" "$(cl_all_stat rcv_repaired)"
vols_clean 1 2 3
# On dm-vmfit the changed set is every chunk written: kv's checkpoint
# journal (written, then zeroed) is in its own file (state_journal), so
# the changed set is the chunks whose content changed, and no allowance
# is left (Documentation/protocol.rst "Delta and the kv journal").
for i in 1 2; do
	for v in a b; do
		[ -s "$(cl_hostdir "$i")/journal-$v" ] ||
			cl_die "host $i: no kv journal file journal-$v"
	done
	cl_delta_bounds "$i" "${cap[i]}" "$TESTDIR/base-$i"
done
# Host 3's first round since its catch-up: a delta too (it kept the voted
# digests), but it fills its B whole once (nothing in it was verified).
cl_assert_eq "host 3 hashed what host 1 did" "$(cl_stat 1 rcv_bytes_hashed)" \
	"$(cl_stat 3 rcv_bytes_hashed)"
cl_assert_eq "host 3 filled its B whole" "$(cl_stat 3 rcv_chunks)" \
	"$(cl_stat 3 rcv_copied)"
cl_log "5. delta round within 1.1 x the changed chunks' bytes (no journal allowance) on hosts 1 and 2; host 3 filled its B"

# 6. host 3 killed during the transfer: a byte flipped in host 2's live
# volume, in record 1900's slot (never written by the clients), through
# the target (in its changed set); its repair has no good source (host 1
# cuts the chunk off, host 3 sends half and holds the connection)
vol=$(cl_live_volume 2)
off=$((4096 + 1900 * 256 + 100))
blk=$((off / 4096))
dd if="$vol" of="$TESTDIR/orig" bs=4096 skip="$blk" count=1 iflag=direct \
	status=none || cl_die "reading host 2's volume"
cp "$TESTDIR/orig" "$TESTDIR/flip"
printf '\x5a' | dd of="$TESTDIR/flip" bs=1 seek=$((off % 4096)) conv=notrunc status=none
cmp -s "$TESTDIR/orig" "$TESTDIR/flip" && cl_die "the flip changed nothing"
put_block "$vol" "$blk" "$TESTDIR/flip" || cl_die "writing host 2's volume"
"$VMFIT_BIN/vmfitd" --recover -c "$(cl_hostdir 2)/vmfitd.conf" >/dev/null ||
	cl_die "round 6 not started"
cl_wait_phase 2 fetch 90
sleep 3	# host 1 cuts at once; host 3 (first or second) holds on
cl_assert_eq "host 2 still fetching (host 3 stalls)" fetch "$(cl_stat 2 rcv_phase)"
cl_kill_host 3
cl_wait_rounds 6 1 2
r1=$(cl_rcv_result 1)
r2=$(cl_rcv_result 2)
cl_log "6. host 3 killed mid-chunk: host 1 $r1, host 2 $r2 ($(cl_stat 2 rcv_last_abort))"
[[ "$r2" == fetch || "$r2" == member-left ]] ||
	cl_die "round 6 on host 2: '$r2', want aborted (fetch or member-left)"
if [ "$r2" = fetch ]; then
	# its chunk: cut off by host 1, lost with host 3
	for w in "from node 1: connection closed before the chunk" "from node 3: "; do
		grep -q "chunk $blk $w" "$(cl_hostdir 2)/vmfitd.log" ||
			cl_die "host 2 did not log 'chunk $blk $w'"
	done
fi
[[ "$r1" == "done" || "$r1" == fetch || "$r1" == member-left ]] ||
	cl_die "round 6 on host 1: '$r1', want done or aborted for host 2 or 3"
cl_assert_eq "host 2 on the volume it served on" "$vol" "$(cl_stat 2 rcv_volume)"
vols_clean 1 2
# Host 2's flipped byte could not be repaired (no source sent it): put it
# back, or the next round of two (f = 1) could not decide.
put_block "$vol" "$blk" "$TESTDIR/orig" || cl_die "restoring host 2's volume"

# 7. the next round, of the two left
out=$(cl_recover 1) || cl_die "round 7 failed: $out"
cl_wait_rounds 7 1 2
cl_assert_eq "round 7 done" "done done" "$(cl_all_stat rcv_last_result 1 2)"
vols_clean 1 2
cl_log "7. the next round, of two, is done"

cl_checkpoint_compare 1
[ "$(head -c 8 "$(cl_live_volume 1)")" = VFKVSTAT ] ||
	cl_die "the live volume holds no kv state"
cl_passed
cl_log "PASS: shadow start and restore failures, a corrupting liar, a cut and a stalled link, a manager restart, a delta within 1.1 x of the changed chunks (kv journal off the volume, no allowance), a host killed mid-chunk: each a clean end, the next round done, live volumes identical"
