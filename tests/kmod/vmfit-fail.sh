#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Commit protocol, rule 4: a metadata I/O error sets health to `fail`,
# raises a dm event and a netlink "health" event, and fails every flush
# from then on, even once the cow device works again.
#   A: normal mode, cow writes failing under dm-flakey (error_writes): the
#      changed-set write of a first write to a region fails.
#   B: snapshot mode, the cow replaced by dm-error: the data write fails,
#      then the commit of the next fsync.
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"

need_vmfit
MB=16
SZ=$((MB * 2048))
slice origin "$DISK_A" 0 $MB
slice cow "$DISK_B" 0 $MB
slice origin2 "$DISK_C" 0 $MB
slice cow2 "$DISK_D" 0 $MB
zero_dev "$(dm_path cow)" 0 8
zero_dev "$(dm_path cow2)" 0 8
vmfit_create live "$(dm_path origin)" "$(dm_path cow)" 8
vmfit_create live2 "$(dm_path origin2)" "$(dm_path cow2)" 8
L=$(dm_path live)
L2=$(dm_path live2)
N=$(dm_name live)
N2=$(dm_name live2)
head -c 4096 /dev/urandom >"$TESTDIR/blk"

vmfit-ctl --json events --timeout 300 >"$TESTDIR/ev.json" 2>"$TESTDIR/ev.err" &
evpid=$!
for i in $(seq 100); do
	grep -q listening "$TESTDIR/ev.err" && break
	sleep 0.1
done
grep -q listening "$TESTDIR/ev.err" || die "events: not listening: $(cat "$TESTDIR/ev.err")"

dm_events() { # SUFFIX -> the dm event counter
	dmsetup info -c --noheadings -o events "$PREFIX$1" | tr -d ' '
}

# fsync_dev DEV - an empty fsync (a REQ_PREFLUSH bio); fails on EIO.
fsync_dev() {
	dd if=/dev/zero of="$1" bs=4k count=0 conv=fsync 2>/dev/null
}

note "A: normal mode, cow writes fail (dm-flakey error_writes)"
fsync_dev "$L" || die "fsync of a healthy device failed"
ev0=$(dm_events live)
dmsetup reload "$PREFIX"cow --table "0 $SZ flakey $DISK_B 0 0 60 1 error_writes"
dmsetup resume "$PREFIX"cow
if put_block "$L" 3 "$TESTDIR/blk"; then
	die "a write that needs a failing changed-set write succeeded"
fi
vmfit_status live
assert_eq fail "$ST_HEALTH" "health after a failed changed-set write"
assert_le $((ev0 + 1)) "$(dm_events live)" "dm event counter"
if fsync_dev "$L"; then
	die "a flush succeeded after a metadata error"
fi
dmsetup reload "$PREFIX"cow --table "0 $SZ linear $DISK_B 0"
dmsetup resume "$PREFIX"cow
if fsync_dev "$L"; then
	die "a flush succeeded on a failed device once the cow works again"
fi

note "B: snapshot mode, the cow replaced by dm-error"
snapshot_ready live2
put_block "$L2" 1 "$TESTDIR/blk" dsync
fsync_dev "$L2" || die "fsync of a healthy snapshot failed"
ev0=$(dm_events live2)
dmsetup reload "$PREFIX"cow2 --table "0 $SZ error"
dmsetup resume "$PREFIX"cow2
if put_block "$L2" 7 "$TESTDIR/blk"; then
	die "a write to a failing cow succeeded"
fi
if fsync_dev "$L2"; then
	die "fsync succeeded while the cow fails"
fi
vmfit_status live2
assert_eq fail "$ST_HEALTH" "health after a failed commit"
assert_le $((ev0 + 1)) "$(dm_events live2)" "dm event counter"
dmsetup reload "$PREFIX"cow2 --table "0 $SZ linear $DISK_D 0"
dmsetup resume "$PREFIX"cow2
if fsync_dev "$L2"; then
	die "a flush succeeded on a failed snapshot once the cow works again"
fi
vmfit_status live2
assert_eq fail "$ST_HEALTH" "health stays fail"

note "events"
sleep 1
kill -TERM $evpid
wait $evpid || die "events exited with an error: $(cat "$TESTDIR/ev.err")"
cat "$TESTDIR/ev.json"
for n in "$N" "$N2"; do
	assert_eq 1 "$(grep -c "\"event\":\"health\",\"device\":\"$n\",.*\"health\":\"fail\"" "$TESTDIR/ev.json" || true)" \
		"health events of $n"
done
note "ok"
