#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The checksum throttle and worker count (dm-vmfit-netlink.rst, "Live I/O
# first: the throttle"):
# - --workers 1, 2 and the default give the same digests as userspace,
#   and each reply says the count the kernel used (the default: one per
#   CPU);
# - csum_speed_max caps an idle device's checksum: 8 MiB at 4096 KiB/s
#   cannot take less than ~2 s;
# - while the live device is written, a checksum runs at csum_speed_min:
#   8 MiB at 2048 KiB/s cannot take less than ~4 s; once the writes stop
#   it runs at full speed again;
# - the parameters refuse what is not a number.
# Only lower bounds on time are asserted: a rate limit can be measured
# from below on any machine, however slow.
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"

need_vmfit
P=/sys/module/dm_vmfit/parameters
MB=64
CHUNK=128			# sectors: 64 KiB
RANGE_MB=8
LAST=$((RANGE_MB * 2048 / CHUNK - 1))

min0=$(cat $P/csum_speed_min)
max0=$(cat $P/csum_speed_max)
restore_params() {
	echo "$min0" >$P/csum_speed_min
	echo "$max0" >$P/csum_speed_max
}
at_exit restore_params
assert_eq 10240 "$min0" "csum_speed_min default (KiB/s)"
assert_eq 0 "$max0" "csum_speed_max default (no limit)"

vmfit_fixture $MB $CHUNK 7
snapshot_ready live
view_create view live
V=$(dm_path view)

now_ms() { echo $(($(date +%s%N) / 1000000)); }

note "workers 1, 2 and the default agree with userspace; the kernel reports the count"
vmfit-csum-ref $CHUNK "$V" >"$TESTDIR/ref"
for w in 1 2 default; do
	if [ "$w" = default ]; then
		args=()
		want=$(nproc)
	else
		args=(--workers "$w")
		want=$w
	fi
	vmfit-ctl checksum "${args[@]}" "$N" >"$TESTDIR/k.$w"
	cmp -s "$TESTDIR/ref" "$TESTDIR/k.$w" ||
		die "--workers $w: digests differ from vmfit-csum-ref"
	json=$(vmfit-ctl --json checksum --quiet "${args[@]}" "$N")
	assert_match "\"workers\":$want[,}]" "$json" "--workers $w: the count the kernel used"
done

note "csum_speed_max=4096 caps an idle device"
echo 4096 >$P/csum_speed_max
t0=$(now_ms)
vmfit-ctl checksum --quiet --last $LAST "$N" >/dev/null
t1=$(now_ms)
note "$RANGE_MB MiB at most 4096 KiB/s: $((t1 - t0)) ms"
assert_le $((RANGE_MB * 1000 / 4 * 8 / 10)) $((t1 - t0)) "ms for $RANGE_MB MiB at <= 4 MiB/s"
echo 0 >$P/csum_speed_max

note "busy live device: csum_speed_min=2048 holds the checksum to it"
echo 2048 >$P/csum_speed_min
fio --name=live --filename="$L" --direct=1 --ioengine=libaio --iodepth=4 \
	--bs=4k --rw=randwrite --size=$((MB / 2))M --time_based --runtime=60 \
	--randrepeat=0 >"$TESTDIR/fio.out" 2>&1 &
fio_pid=$!
sleep 1
t0=$(now_ms)
vmfit-ctl checksum --last $LAST "$N" >"$TESTDIR/busy"
t1=$(now_ms)
kill "$fio_pid" 2>/dev/null
wait "$fio_pid" 2>/dev/null || true
note "$RANGE_MB MiB while busy: $((t1 - t0)) ms"
assert_le $((RANGE_MB * 1000 / 2 * 8 / 10)) $((t1 - t0)) "ms for $RANGE_MB MiB at the 2 MiB/s minimum"
head -n $((LAST + 1)) "$TESTDIR/ref" | cmp -s - "$TESTDIR/busy" ||
	die "digests taken while throttled differ from vmfit-csum-ref"

note "idle again: full speed (well under the throttled time)"
sleep 1
t2=$(now_ms)
vmfit-ctl checksum --quiet --last $LAST "$N" >/dev/null
t3=$(now_ms)
note "$RANGE_MB MiB idle: $((t3 - t2)) ms"
assert_le $((t3 - t2)) $(((t1 - t0) / 2)) "idle checksum ms vs half the throttled one"

note "parameters refuse non-numbers, keep their value"
if echo fast >$P/csum_speed_min 2>/dev/null; then
	die "csum_speed_min accepted 'fast'"
fi
assert_eq 2048 "$(cat $P/csum_speed_min)" "csum_speed_min after a bad write"
restore_params
dm_remove view
dm_msg live drop
note "ok"
