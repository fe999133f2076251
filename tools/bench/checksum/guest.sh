#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# tools/bench/checksum/guest.sh - runs inside the vmtest VM (started by
# tools/bench/checksum/run) and writes key=value results to
# $CB_RESULTS/checksum.kv:
# - throughput of the in-kernel SHA-256 checksum of a frozen view
#   (vmfit-ctl checksum --quiet) against userspace sha256sum of the same
#   view read with O_DIRECT, median of CB_ROUNDS;
# - 4 KiB random-write IOPS of the live device (snapshot mode) with and
#   without a checksum running, fixed work, interleaved rounds, median.
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"

CB_RESULTS=${CB_RESULTS:-/results}
# Parameters from the host (tools/bench/checksum/run).
[ -f "$CB_RESULTS/checksum.conf" ] && . "$CB_RESULTS/checksum.conf"
CB_MB=${CB_MB:-512}
CB_ROUNDS=${CB_ROUNDS:-3}
CB_NUMBER_IOS=${CB_NUMBER_IOS:-20000}
out=$CB_RESULTS/checksum.kv
: >"$out"

need_vmfit
slice origin "$DISK_A" 0 "$CB_MB"
slice cow "$DISK_B" 0 "$CB_MB"
O=$(dm_path origin)
C=$(dm_path cow)
vmtest-io fill "$O" 1
zero_dev "$C" 0 8
vmfit_create live "$O" "$C" 8
L=$(dm_path live)
N=$(dm_name live)
dm_msg live snapshot
wait_status live VIEW ready 60
view_create view live
V=$(dm_path view)

now() { date +%s%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

kern=() user=()
for r in $(seq "$CB_ROUNDS"); do
	t0=$(now)
	vmfit-ctl checksum --quiet --merkle "$N" >/dev/null
	t1=$(now)
	dd if="$V" bs=1M iflag=direct 2>/dev/null | sha256sum >/dev/null
	t2=$(now)
	kern+=($((CB_MB * 1000000000 / (t1 - t0))))
	user+=($((CB_MB * 1000000000 / (t2 - t1))))
	note "round $r: kernel ${kern[-1]} MB/s, userspace ${user[-1]} MB/s"
done
k=$(printf '%s\n' "${kern[@]}" | median)
u=$(printf '%s\n' "${user[@]}" | median)
echo "view_mb=$CB_MB" >>"$out"
echo "kernel_mb_s=$k" >>"$out"
echo "user_mb_s=$u" >>"$out"

iops() { # -> IOPS of a fixed-work 4k random write run on the live device
	fio --name=w --filename="$L" --direct=1 --ioengine=libaio --iodepth=16 \
		--bs=4k --rw=randwrite --size=256M --number_ios="$CB_NUMBER_IOS" \
		--randrepeat=0 --output-format=terse --minimal 2>/dev/null |
		awk -F';' '{ print $49 }'
}
base=() busy=()
for r in $(seq "$CB_ROUNDS"); do
	base+=($(iops))
	(while [ ! -e "$TESTDIR/stop" ]; do
		vmfit-ctl checksum --quiet "$N" >/dev/null || break
	done) &
	loop=$!
	sleep 1
	busy+=($(iops))
	touch "$TESTDIR/stop"
	wait $loop
	rm -f "$TESTDIR/stop"
	note "round $r: IOPS ${base[-1]} alone, ${busy[-1]} while checksumming"
done
b=$(printf '%s\n' "${base[@]}" | median)
w=$(printf '%s\n' "${busy[@]}" | median)
echo "iops_alone=$b" >>"$out"
echo "iops_checksumming=$w" >>"$out"
echo "rounds=$CB_ROUNDS" >>"$out"
dm_remove view
dm_msg live drop
note "done: $(tr '\n' ' ' <"$out")"
