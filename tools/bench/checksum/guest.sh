#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# tools/bench/checksum/guest.sh - runs inside the vmtest VM (started by
# tools/bench/checksum/run) and writes key=value results to
# $CB_RESULTS/checksum.kv. Every figure is the median of CB_ROUNDS rounds;
# within a round the variants run back to back, so each ratio compares
# runs made under the same conditions.
#
# Throughput over the same frozen CB_MB view (O_DIRECT reads, no cache):
#   kernel_1       vmfit-ctl checksum --workers 1 (SHA-256, in the kernel)
#   sha256sum_1    dd | sha256sum                  (userspace, one core)
#   openssl_1      dd | openssl dgst -sha256       (userspace, one core)
#   kernel_all     vmfit-ctl checksum (one worker per CPU)
#   sha256sum_all  one dd | sha256sum per CPU over its share of the view
# Live device, 4 KiB random writes, fixed work, IOPS:
#   iops_alone     no checksum
#   iops_throttled checksums back to back, default throttle
#   iops_unthrottled  the same with csum_speed_min raised to "no limit"
# and the checksum rate reached while the live device was busy.
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"

CB_RESULTS=${CB_RESULTS:-/results}
[ -f "$CB_RESULTS/checksum.conf" ] && . "$CB_RESULTS/checksum.conf"
CB_MB=${CB_MB:-1024}
CB_ROUNDS=${CB_ROUNDS:-3}
CB_NUMBER_IOS=${CB_NUMBER_IOS:-20000}
CB_CHUNK=${CB_CHUNK:-128}		# sectors (64 KiB)
# The live writes' region and one busy-loop checksum pass, within the view.
WRITE_MB=$((CB_MB / 2 < 256 ? CB_MB / 2 : 256))	# the cow holds metadata too
PASS_LAST=$(((CB_MB < 16 ? CB_MB : 16) * 2048 / CB_CHUNK - 1))
out=$CB_RESULTS/checksum.kv
: >"$out"
P=/sys/module/dm_vmfit/parameters
ncpu=$(nproc)

need_vmfit
min0=$(cat $P/csum_speed_min)
at_exit 'echo "$min0" >$P/csum_speed_min'

# The SIMD SHA-256 drivers, as udev loads them on a real machine by CPU
# feature; the crypto API then picks the fastest the CPU has.
modprobe sha256-ssse3 2>/dev/null || note "no sha256-ssse3: the kernel hashes with sha256-generic"
vmfit_fixture "$CB_MB" "$CB_CHUNK"
note "filling the $CB_MB MiB origin through the live device"
dd if=/dev/urandom of="$L" bs=1M count="$CB_MB" oflag=direct status=none
dm_msg live snapshot
wait_status live VIEW ready 60
view_create view live
V=$(dm_path view)

now() { date +%s%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
mb_s() { echo $((CB_MB * 1000000000 / ($2 - $1))); }	# T0 T1 -> MB/s

# Userspace over the whole view with one reader and one hasher.
user_one() { # HASHCMD...
	dd if="$V" bs=1M iflag=direct status=none | "$@" >/dev/null
}
# One reader+hasher per CPU, each over its share of the view.
user_all() {
	local i share=$((CB_MB / ncpu)) pids=()
	for ((i = 0; i < ncpu; i++)); do
		dd if="$V" bs=1M iflag=direct skip=$((i * share)) count=$share \
			status=none | sha256sum >/dev/null &
		pids+=($!)
	done
	wait "${pids[@]}"
}

declare -A tp
names=(kernel_1 sha256sum_1 openssl_1 kernel_all sha256sum_all)
for r in $(seq "$CB_ROUNDS"); do
	t0=$(now); vmfit-ctl checksum --quiet --workers 1 "$N" >/dev/null
	t1=$(now); user_one sha256sum
	t2=$(now); user_one openssl dgst -sha256
	t3=$(now); vmfit-ctl checksum --quiet "$N" >/dev/null
	t4=$(now); user_all
	t5=$(now)
	tp[kernel_1]+=" $(mb_s "$t0" "$t1")"
	tp[sha256sum_1]+=" $(mb_s "$t1" "$t2")"
	tp[openssl_1]+=" $(mb_s "$t2" "$t3")"
	tp[kernel_all]+=" $(mb_s "$t3" "$t4")"
	tp[sha256sum_all]+=" $(mb_s "$t4" "$t5")"
	note "round $r/$CB_ROUNDS (MB/s): kernel 1 worker $(mb_s "$t0" "$t1"), sha256sum $(mb_s "$t1" "$t2"), openssl $(mb_s "$t2" "$t3"), kernel $ncpu workers $(mb_s "$t3" "$t4"), $ncpu x sha256sum $(mb_s "$t4" "$t5")"
done
for n in "${names[@]}"; do
	echo "${n}_mb_s=$(tr ' ' '\n' <<<"${tp[$n]}" | grep . | median)" >>"$out"
done

iops() { # -> IOPS of a fixed-work 4k random write run on the live device
	fio --name=w --filename="$L" --direct=1 --ioengine=libaio --iodepth=16 \
		--bs=4k --rw=randwrite --size="${WRITE_MB}M" --number_ios="$CB_NUMBER_IOS" \
		--randrepeat=0 --output-format=terse --minimal 2>/dev/null |
		awk -F';' '{ print $49 }'
}
# busy_iops MIN_KIB_S -> IOPS while checksums run back to back. The
# checksum rate while busy (kB/s, over the passes that began and ended
# while fio ran) goes to $TESTDIR/busy_rate.
busy_iops() {
	local loop n t0 t1 a b
	echo "$1" >$P/csum_speed_min
	rm -f "$TESTDIR/stop" "$TESTDIR/passes"
	(
		while [ ! -e "$TESTDIR/stop" ]; do
			# --last bounds one pass (16 MiB).
			a=$(now)
			c=$(vmfit-ctl checksum --last "$PASS_LAST" "$N" | wc -l) || break
			echo "$a $(now) $c" >>"$TESTDIR/passes"
		done
	) &
	loop=$!
	sleep 0.5
	t0=$(now)
	n=$(iops)
	t1=$(now)
	touch "$TESTDIR/stop"
	wait $loop
	awk -v t0="$t0" -v t1="$t1" -v cb=$((CB_CHUNK * 512)) '
		$1 >= t0 && $2 <= t1 { c += $3; ns += $2 - $1 }
		END { print ns ? int(c * cb * 1000000 / ns) : 0 }' \
		"$TESTDIR/passes" >"$TESTDIR/busy_rate"
	echo "$min0" >$P/csum_speed_min
	echo "$n"
}
# The first write to a chunk after the snapshot allocates it in the cow
# (and a partial one copies the origin chunk first): map the whole region
# once, so that every measured run is the same steady-state overwrite.
note "mapping the $WRITE_MB MiB write region in the cow"
dd if=/dev/zero of="$L" bs=1M count="$WRITE_MB" oflag=direct status=none
declare -A io
for r in $(seq "$CB_ROUNDS"); do
	# Rotate the order, so no variant always runs first.
	case $((r % 3)) in
	1) order="alone throttled unthrottled" ;;
	2) order="throttled unthrottled alone" ;;
	0) order="unthrottled alone throttled" ;;
	esac
	for v in $order; do
		case $v in
		alone) io[alone]+=" $(iops)" ;;
		throttled)
			io[throttled]+=" $(busy_iops "$min0")"
			io[busy_kb_s]+=" $(cat "$TESTDIR/busy_rate")"
			;;
		unthrottled) io[unthrottled]+=" $(busy_iops 4294967295)" ;;
		esac
	done
	note "round $r/$CB_ROUNDS: IOPS alone ${io[alone]##* }, checksumming (throttled) ${io[throttled]##* }, checksumming (unthrottled) ${io[unthrottled]##* }; checksum rate while busy ${io[busy_kb_s]##* } kB/s"
done
for n in alone throttled unthrottled; do
	echo "iops_$n=$(tr ' ' '\n' <<<"${io[$n]}" | grep . | median)" >>"$out"
done
echo "busy_csum_kb_s=$(tr ' ' '\n' <<<"${io[busy_kb_s]}" | grep . | median)" >>"$out"
{
	echo "view_mb=$CB_MB"
	echo "chunk_kib=$((CB_CHUNK / 2))"
	echo "cpus=$ncpu"
	echo "speed_min_kib_s=$min0"
	# The implementation the crypto API picks: the highest priority.
	echo "kernel_driver=$(awk -F': ' '/^name/ { n = $2 } /^driver/ { d = $2 }
		/^priority/ && n == "sha256" && $2 + 0 > best { best = $2 + 0; bd = d }
		END { print bd }' /proc/crypto)"
	echo "rounds=$CB_ROUNDS"
} >>"$out"
dm_remove view
dm_msg live drop
note "done: $(tr '\n' ' ' <"$out")"
