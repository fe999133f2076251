#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# xen-recovery: proactive recovery with real Xen domains. One manager
# (unreplicated: k = 1, f = 0, nothing is voted across hosts; three
# managers with two domains each do not fit the time budget under TCG,
# Documentation/xen-backend.rst), the kv-hash senior and kv-sqlite shadows
# as PV domains on dm-vmfit state volumes A and B attached through blkback.
# Two rounds, a full one and a delta one, under client load with --verify:
# the shadow domain starts while the senior serves (the backend's start is
# asynchronous: its HELLO arrives in the event loop), the capture
# snapshots A, the kernel hashes the frozen view, the verified chunks go
# into B, the shadow restores and takes over, and the senior's domain is
# destroyed. No answer is lost or wrong, the shadow serves afterwards, the
# time to start a domain and get its HELLO is printed. A third round's
# shadow domain destroyed while it boots is a failed start: the round
# aborts, the senior serves on. The kv journals are block devices of
# their own (state_journal, state_journal_b: slices of DISK_C), each
# domain's second disk (xvdb) beside its volume (xvda), swapping with the
# volumes' roles: they are written, and the volumes' journal areas stay
# zero. With the load stopped, a quiet round, then 1 % of the records
# changed and a delta round: the bytes hashed and copied are within 1.1 x
# the changed chunks' bytes, with no allowance for a journal
# (cluster.sh's delta_bounds, as recovery-cluster-faults step 5). No
# domain, vbd, vchan or device-mapper device is left.
. "${VMFIT_ROOT:-.}/tests/lib/xen.sh"
. "${VMFIT_ROOT:-.}/tests/lib/cluster.sh"	# delta_bounds
need_xen
need_vmfit

MB=8
RECORDS=1000
vmfit_ab_volumes $MB
# The journals: 1 MiB each (kv needs 260 KiB for these records).
slice ja "$DISK_C" 0 1
slice jb "$DISK_C" 1 1
JA=$(dm_path ja)
JB=$(dm_path jb)
zero_dev "$JA"
zero_dev "$JB"
# sectors_written SUFFIX - from the kernel's I/O statistics of the
# device-mapper device.
sectors_written() {
	awk '{ print $7 }' "/sys/dev/block/$(dm_devno "$1")/stat"
}
ja_w0=$(sectors_written ja)
jb_w0=$(sectors_written jb)
# disks_are DOMID VOL - the domain's disks are VOL (xvda) and VOL's
# journal (xvdb), attached through blkback.
disks_are() {
	local j=$JA
	[ "$2" = "$A" ] || j=$JB
	assert_eq "$(stat -L -c '%t:%T' "$2")" "$(xen_vbd_dev "$1" xvda)" \
		"domain $1's xvda is $2"
	assert_eq "$(stat -L -c '%t:%T' "$j")" "$(xen_vbd_dev "$1" xvdb)" \
		"domain $1's xvdb is $2's journal $j"
}

conf=$TESTDIR/vmfitd.conf
log=$TESTDIR/vmfitd.log
xen_conf "$conf" \
	"replica_cmd = kv-hash --records $RECORDS --record-size 248" \
	"shadow_cmd = kv-sqlite --records $RECORDS --record-size 248" \
	"volume_kind = vmfit" "state_volume = $A" "state_volume_b = $B" \
	"state_journal = $JA" "state_journal_b = $JB" \
	"xen_start_timeout_ms = 300000" "recovery_timeout_ms = 600000"

note "vmfitd with the xen backend: senior on $A, shadows alternate"
xen_vmfitd_start "$conf" "$log"
xen_wait_ready "$conf" "$log" 330
echo "XEN-REPLICA-HELLO-MS=$(xen_stat "$conf" replica_hello_ms) (vmfitd: start to the replica's HELLO, domain boot included)"
disks_are "$(xen_stat "$conf" replica_domid)" "$A"

# Client load for the whole test: back-to-back verified runs (each with
# fresh client ids, every record written before it is read) until told
# to stop; every run's summary is kept.
stop=$TESTDIR/bench.stop
(
	i=0
	while [ ! -e "$stop" ]; do
		i=$((i + 1))
		vmfit-bench --servers "127.0.0.1:$XEN_PORT" --clients 4 \
			--records $RECORDS --record-size 200 --duration 10 \
			--timeout 60000 --verify --json -q \
			>"$TESTDIR/bench.$i.json" 2>"$TESTDIR/bench.$i.err" ||
			echo "run $i: exit $?" >>"$TESTDIR/bench.failed"
	done
) &
bpid=$!
at_exit "touch $stop; kill $bpid 2>/dev/null || true"

for round in 1 2; do
	senior=$(xen_stat "$conf" replica_domid)
	assert_match '^[1-9][0-9]*$' "$senior" "the senior's domain id"
	out=$(vmfitd --recover --wait --timeout 600000 -c "$conf" 2>&1) || {
		cat "$log"
		die "round $round: $out"
	}
	note "round $round: $(tail -n 2 <<<"$out" | head -n 1)"
	assert_eq "$round" "$(xen_stat "$conf" rcv_done)" "rounds done"
	assert_eq 0 "$(xen_stat "$conf" rcv_aborted)" "rounds aborted"
	hashed=$(xen_stat "$conf" rcv_hashed)
	chunks=$(xen_stat "$conf" rcv_chunks)
	assert_eq $((MB * 256)) "$chunks" "chunks of an $MB MiB volume"
	if ((round == 1)); then
		assert_eq "$chunks" "$hashed" "round 1 (no digest store yet) is full"
	else
		((hashed > 0 && hashed < chunks)) ||
			die "round $round hashed $hashed of $chunks chunks (delta expected)"
	fi
	echo "XEN-SHADOW-HELLO-MS=$(xen_stat "$conf" rcv_shadow_hello_ms) round $round (vmfitd: start() to the shadow's HELLO)"
	echo "XEN-SHADOW-CREATED-MS=$(xen_stat "$conf" rcv_shadow_created_ms) round $round (start() to the domain created and unpaused)"
	echo "XEN-SENIOR-STOP-MS=$(xen_stat "$conf" rcv_senior_stop_ms) round $round (hand-over: the senior's domain powered off or destroyed, the loop serving on)"
	grep -E 'recovery: (starting the shadow|shadow HELLO|the shadow .* is the replica|senior \(domain [0-9]+\) (stopped|killed))' "$log" | tail -n 4
	# The round is done once the senior's domain is gone (the commit
	# waits for it), never before.
	assert_eq 0 "$(xen_stat "$conf" rcv_senior_stopping)" "a senior still stopping after round $round"
	grep -Eq "recovery: senior \(domain $senior\) (stopped|killed) in [0-9]+ ms" "$log" ||
		{ cat "$log"; die "round $round: the end of the senior's domain $senior was not logged"; }
	# The senior's domain is gone, the shadow's serves.
	xl domname "$senior" >/dev/null 2>&1 &&
		die "round $round: the senior's domain $senior is still there"
	now=$(xen_stat "$conf" replica_domid)
	assert_match '^[1-9][0-9]*$' "$now" "the new replica's domain id"
	assert_ne "$senior" "$now" "the replica is the shadow's domain"
	assert_eq "vmfit-kv-$((round + 1))" "$(xen_domains)" \
		"exactly one domain, the shadow of round $round"
	assert_eq 1 "$(xen_stat "$conf" replica_ok)" "replica_ok after round $round"
	vol=$B
	((round == 2)) && vol=$A
	assert_eq "$vol" "$(xen_stat "$conf" rcv_volume)" "volume after round $round"
	disks_are "$now" "$vol"
done

note "round 3: the shadow's domain destroyed from outside while it boots"
# The asynchronous start's failure path with a real domain: the round
# aborts (shadow-start), the senior serves on, nothing of the shadow stays.
senior=$(xen_stat "$conf" replica_domid)
vmfitd --recover --wait --timeout 600000 -c "$conf" >"$TESTDIR/round3.out" 2>&1 &
rpid=$!
deadline=$((SECONDS + 300))
# Created, its vchan served, unpaused: booting.
until shadow=$(xl domid vmfit-kv-4 2>/dev/null) &&
	xenstore-exists "/local/domain/$shadow/data/vmfit-vchan/ring-ref" 2>/dev/null; do
	((SECONDS < deadline)) || { cat "$log"; die "no shadow domain vmfit-kv-4 in 300 s"; }
	sleep 0.2
done
xl destroy "$shadow"
if wait "$rpid"; then
	cat "$TESTDIR/round3.out"
	die "round 3 should have aborted"
fi
assert_eq 1 "$(xen_stat "$conf" rcv_aborted)" "rounds aborted"
assert_match '^shadow-start: shadow: ' "$(xen_stat "$conf" rcv_last_abort)" \
	"the abort reason"
grep -Eq "xen: domain vmfit-kv-4 \\($shadow\\).* before its HELLO: failed start" "$log" ||
	{ cat "$log"; die "the destroyed shadow was not a failed start"; }
assert_eq "$senior" "$(xen_stat "$conf" replica_domid)" "the senior serves on"
assert_eq 1 "$(xen_stat "$conf" replica_ok)" "replica_ok after the abort"
assert_eq "vmfit-kv-3" "$(xen_domains)" "only the senior's domain is left"
assert_eq "$A" "$(xen_stat "$conf" rcv_volume)" "the senior's volume"

note "the load goes on a few seconds on the last shadow, then stops"
sleep 5
touch "$stop"
wait "$bpid" || true
[ ! -e "$TESTDIR/bench.failed" ] || {
	cat "$TESTDIR/bench.failed" "$TESTDIR"/bench.*.err
	die "a client run failed"
}
# One awk for all the summaries: a fork costs 25-40 ms in dom0 under TCG.
read -r runs ops checked gap bad < <(awk '
	FNR == 1 { runs++ }
	match($0, /"(verify_mismatches|errors|bad_replies|kv_errors|unfinished|ops|verify_checked|longest_gap_ms)": *[0-9.]+/) {
		split(substr($0, RSTART, RLENGTH), kv, /": */)
		k = substr(kv[1], 2)
		v = kv[2] + 0
		if (k == "ops") {
			ops += v
			if (!v)
				bad = bad " " FILENAME ":no-request-completed"
		} else if (k == "verify_checked") {
			checked += v
		} else if (k == "longest_gap_ms") {
			if (v > gap)
				gap = v
		} else if (v) {
			bad = bad " " FILENAME ":" k "=" v
		}
	}
	END { printf "%d %d %d %d%s\n", runs, ops, checked, gap, bad }' \
	"$TESTDIR"/bench.*.json)
[ -z "$bad" ] || die "client runs with failures:$bad"
((checked > 0)) || die "no GET was checked against its PUT"
echo "XEN-RECOVERY-CLIENTS: $runs verified runs, $ops requests, $checked reads checked, 0 wrong or lost; longest interval without a completion $gap ms"
((runs >= 2)) || die "only $runs client run(s) during two rounds"
assert_eq "$(xen_stat "$conf" executed)" "$(xen_stat "$conf" orders_delivered)" \
	"every delivered order executed"

# recover_quiet N - round N with no load: done, the shadow on the other
# volume.
recover_quiet() {
	local out
	out=$(vmfitd --recover --wait --timeout 600000 -c "$conf" 2>&1) ||
		{ cat "$log"; die "round $1: $out"; }
	assert_eq "$(($1 - 1))" "$(xen_stat "$conf" rcv_done)" "rounds done"
	assert_eq 1 "$(xen_stat "$conf" rcv_aborted)" "rounds aborted"
	note "round $1: $(tail -n 2 <<<"$out" | head -n 1)"
}
note "round 4, quiet: the base of a delta"
recover_quiet 4
assert_eq "$B" "$(xen_stat "$conf" rcv_volume)" "volume after round 4"
disks_are "$(xen_stat "$conf" replica_domid)" "$B"
dd if="$B" of="$TESTDIR/base" bs=1M iflag=direct status=none ||
	die "copying $B"
note "round 5: 1 % of the records changed, a delta"
out=$(vmfit-bench --servers "127.0.0.1:$XEN_PORT" --clients 2 --records 10 \
	--key-offset 500 --write-ratio 1 --requests 100 --timeout 60000 \
	--json -q) || die "writing 1 % of the records failed: $out"
recover_quiet 5
assert_eq "$A" "$(xen_stat "$conf" rcv_volume)" "volume after round 5"
assert_eq 0 "$(xen_stat "$conf" rcv_full)" "round 5 is a delta"
# B, the senior's, is what round 5 captured (nothing was written since).
msg=$(delta_bounds "round 5" "$(xen_stat "$conf" rcv_chunks)" "$B" \
	"$TESTDIR/base" "$(xen_stat "$conf" rcv_bytes_hashed)" \
	"$(xen_stat "$conf" rcv_bytes_copied)" \
	$(($(xen_stat "$conf" rcv_bytes_msgs) + $(xen_stat "$conf" rcv_bytes_served)))) ||
	die "$msg"
echo "XEN-RECOVERY-DELTA: $msg"

# The journals were written; the volumes' journal areas (kv-service.rst
# "Layout": from data_end, after the header and 256-byte slots) are zero.
((ja_w0 < $(sectors_written ja))) || die "nothing written to A's journal $JA"
((jb_w0 < $(sectors_written jb))) || die "nothing written to B's journal $JB"
joff=$(((4096 + RECORDS * 256 + 4095) / 4096 * 4096))
for v in "$A" "$B"; do
	n=$(dd if="$v" bs=4096 skip=$((joff / 4096)) iflag=direct status=none |
		tr -d '\0' | wc -c)
	assert_eq 0 "$n" "non-zero bytes in $v from its journal area ($joff) on"
done
[ ! -e "${A}-view" ] && [ ! -e "${B}-view" ] || die "a view device is left"
assert_eq normal "$(dmsetup status "$(dm_name A)" | cut -d' ' -f4)" "mode of A"
assert_eq normal "$(dmsetup status "$(dm_name B)" | cut -d' ' -f4)" "mode of B"

note "SIGTERM: the replica's domain powers off, nothing is left"
kill -TERM "$VMFITD_PID"
wait "$VMFITD_PID" || true
grep -E 'xen: |recovery: (round|senior|shadow HELLO)' "$log"
xen_assert_clean
note "PASS"
