#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The generic netlink family end to end:
# - status over netlink equals `dmsetup status`, by name and by number;
#   name and number of different devices are refused (-EXDEV);
# - snapshot / merge / drop / clear through netlink, with extack reasons;
# - a checksum whose reader stalls holds back the kernel (back-pressure:
#   progress stays below the total), pins the snapshot (drop -EBUSY) and
#   does not stall live writes; cancel ends it with "cancelled";
# - the events group reports snapshot begin/end (held/drain ns), checksum
#   progress/done, merge done and cow full;
# - removing a device under a running checksum ends it with -ENODEV and
#   frees the session.
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"

need_vmfit
MB=32
NCHUNKS=$((MB * 256))

slice origin "$DISK_A" 0 $MB
slice cow "$DISK_B" 0 $MB
slice origin2 "$DISK_C" 0 $MB
slice cow2 "$DISK_D" 0 1
O=$(dm_path origin)
C=$(dm_path cow)
vmtest-io fill "$O" 3
zero_dev "$C" 0 8
zero_dev "$(dm_path cow2)" 0 8
vmfit_create live "$O" "$C" 8
vmfit_create live2 "$(dm_path origin2)" "$(dm_path cow2)" 8
L=$(dm_path live)
N=$(dm_name live)
N2=$(dm_name live2)
vmtest-io write "$L" 7 200

note "events listener"
vmfit-ctl --json events --timeout 300 >"$TESTDIR/ev.json" 2>"$TESTDIR/ev.err" &
evpid=$!
for i in $(seq 100); do
	grep -q listening "$TESTDIR/ev.err" && break
	sleep 0.1
done
grep -q listening "$TESTDIR/ev.err" || die "events: not listening: $(cat "$TESTDIR/ev.err")"

nlst() { # NAME [MAJ:MIN] -> NL_<key> variables
	local out k v
	out=$(vmfit-nlfuzz status "$@") || die "netlink status $*: $out"
	while IFS='=' read -r k v; do
		printf -v "NL_$k" %s "$v"
	done <<<"$out"
}

same_status() { # SUFFIX
	vmfit_status "$1"
	nlst "$PREFIX$1"
	assert_eq "$ST_MODE" "$NL_mode" "mode"
	assert_eq "$ST_EPOCH" "$NL_epoch" "epoch"
	assert_eq "$ST_CHANGED" "$NL_changed" "changed"
	assert_eq "$ST_COW_USED/$ST_COW_TOTAL" "$NL_cow_used/$NL_cow_total" "cow"
	assert_eq "$ST_VIEW" "$NL_view" "view"
	assert_eq "$ST_HELD_NS $ST_DRAIN_NS" "$NL_held_ns $NL_drain_ns" "held/drain"
	assert_eq "$ST_MERGED/$ST_TO_MERGE" "$NL_merged/$NL_to_merge" "merge"
	assert_eq "$ST_HEALTH" "$NL_health" "health"
	assert_eq "$(dm_devno "$1")" "$NL_dev" "device number"
	assert_eq "$PREFIX$1" "$NL_name" "device name"
}

note "status: netlink equals dmsetup"
same_status live
nlst "$N" "$(dm_devno live)"
assert_eq 8 "$NL_chunk_sectors" "chunk sectors"
assert_eq $NCHUNKS "$NL_origin_chunks" "origin chunks"
assert_eq 0 "$NL_csum_active" "no checksum yet"
out=$(vmfit-nlfuzz status "$N" "$(dm_devno live2)") && die "mismatched name and number accepted"
assert_match "^error $(printf %d 18) .*different devices" "$out" "EXDEV with a reason"
nlst "" "$(dm_devno live2)"
assert_eq "$N2" "$NL_name" "lookup by number alone"

note "control: refusals carry the kernel's reason"
out=$(vmfit-nlfuzz control "$N" drop) && die "drop without a snapshot accepted"
assert_match "^error 22 .*no active snapshot" "$out" "drop reason"
vmfit-nlfuzz control "$N" snapshot
wait_status live VIEW ready 30
same_status live
out=$(vmfit-nlfuzz control "$N" clear) && die "clear in snapshot mode accepted"
assert_match "^error 16 .*normal mode" "$out" "clear reason"

note "a stalled reader: back-pressure, the snapshot pinned, live writes go on"
(vmfit-ctl checksum "$N" 2>"$TESTDIR/slow.err" | { sleep 6; wc -l >"$TESTDIR/slow.count"; }) &
slow=$!
sleep 3
nlst "$N"
assert_eq 1 "$NL_csum_active" "a checksum runs"
assert_eq 1 "$(cat /sys/module/dm_vmfit/parameters/csum_sessions)" "sessions in memory"
assert_le 1 "$NL_csum_done" "progress"
((NL_csum_done < NCHUNKS)) || die "the kernel ran ahead of a stalled reader ($NL_csum_done/$NCHUNKS)"
assert_eq $NCHUNKS "$NL_csum_total" "checksum total"
expect_fail "checksum uses the snapshot" vmfit-nlfuzz control "$N" drop
t0=$SECONDS
vmtest-io write "$L" 8 500
note "500 live writes during the stalled checksum took $((SECONDS - t0))s"
assert_le $((SECONDS - t0)) 20 "live writes while checksumming"
wait $slow
assert_eq $NCHUNKS "$(tr -d ' ' <"$TESTDIR/slow.count")" "digests after the stall"
nlst "$N"
assert_eq 0 "$NL_csum_active" "the checksum ended"

note "cancel"
(rc=0
 vmfit-ctl checksum "$N" 2>"$TESTDIR/cancel.err" >"$TESTDIR/cancel.out" || rc=$?
 echo $rc >"$TESTDIR/cancel.rc") &
cpid=$!
# Stall the reader: stop it, cancel, let it go on.
for i in $(seq 50); do
	nlst "$N"
	((NL_csum_active)) && break
	sleep 0.1
done
vmfit-nlfuzz control "$N" cancel || true
wait $cpid || true
if [ "$(cat "$TESTDIR/cancel.rc")" = 0 ]; then
	# It may have finished before the cancel arrived: then nothing ran.
	assert_eq $NCHUNKS "$(wc -l <"$TESTDIR/cancel.out")" "uncancelled digests"
	note "the checksum finished before the cancel"
else
	grep -q "cancelled" "$TESTDIR/cancel.err" ||
		die "cancelled checksum without the reason: $(cat "$TESTDIR/cancel.err")"
fi
out=$(vmfit-nlfuzz control "$N" cancel) && die "cancel with nothing running accepted"
assert_match "^error 2 " "$out" "cancel with nothing running"

note "merge through netlink"
vmtest-io write "$L" 9 100
vmfit-nlfuzz control "$N" merge
wait_status live MODE normal 60
same_status live

note "cow full"
vmfit-nlfuzz control "$N2" snapshot
wait_status live2 VIEW ready 30
vmtest-io write "$(dm_path live2)" 4 2000 >/dev/null 2>&1 || true
wait_status live2 HEALTH cow_full 10

note "removing a device ends its checksum (-ENODEV), nothing leaks"
(rc=0
 vmfit-ctl checksum "$N2" 2>"$TESTDIR/gone.err" | { sleep 4; cat >/dev/null; } || rc=$?
 echo $rc >"$TESTDIR/gone.rc") &
gone=$!
for i in $(seq 50); do
	nlst "$N2"
	((NL_csum_active)) && break
	sleep 0.1
done
assert_eq 1 "$NL_csum_active" "checksum on live2 runs"
dm_remove live2
wait $gone || true
grep -q "went away" "$TESTDIR/gone.err" ||
	die "checksum of a removed device: $(cat "$TESTDIR/gone.err")"
for i in $(seq 50); do
	[ "$(cat /sys/module/dm_vmfit/parameters/csum_sessions)" = 0 ] && break
	sleep 0.1
done
assert_eq 0 "$(cat /sys/module/dm_vmfit/parameters/csum_sessions)" "sessions after the removal"

note "events"
sleep 1
kill -TERM $evpid
wait $evpid || die "events exited with an error: $(cat "$TESTDIR/ev.err")"
cat "$TESTDIR/ev.json"
ev() { # EVENT DEVICE -> count
	grep -c "\"event\":\"$1\",\"device\":\"$2\"" "$TESTDIR/ev.json" || true
}
assert_eq 1 "$(ev snapshot-begin "$N")" "snapshot-begin events"
assert_eq 1 "$(ev snapshot-end "$N")" "snapshot-end events"
grep -q "\"event\":\"snapshot-end\",\"device\":\"$N\",.*\"epoch\":1,\"held_ns\":[0-9]*,\"drain_ns\":[1-9]" "$TESTDIR/ev.json" ||
	die "snapshot-end lacks epoch/held_ns/drain_ns"
assert_le 2 "$(ev checksum-done "$N")" "checksum-done events"
if [ "$(cat "$TESTDIR/cancel.rc")" != 0 ]; then
	grep -q "\"event\":\"checksum-done\",\"device\":\"$N\",.*\"error\":125" "$TESTDIR/ev.json" ||
		die "no checksum-done event with ECANCELED"
fi
grep -q "\"event\":\"checksum-done\",\"device\":\"$N\",.*\"checksum_done\":$NCHUNKS,\"checksum_total\":$NCHUNKS,\"error\":0" "$TESTDIR/ev.json" ||
	die "no successful checksum-done event"
assert_le 1 "$(ev checksum-progress "$N")" "checksum-progress events"
assert_eq 1 "$(ev merge-done "$N")" "merge-done events"
assert_eq 1 "$(ev cow-full "$N2")" "cow-full events"
note "ok"
