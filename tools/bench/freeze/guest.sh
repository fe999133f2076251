#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The freeze benchmark, guest side: runs inside the tools/vmtest/vmtest VM
# (started by tools/bench/freeze/run) and appends records (see
# tools/bench/freeze/fb.h) to $FB_RESULTS/freeze.records.
#
# Layout on the four scratch disks (each FB_DISK_GIB GiB, sparse on the host):
#   vda1   1 GiB   the volume: raw, dm-linear origin, vmfit origin
#   vdb1   1 GiB   vmfit cow            vdb2  1 GiB   classic cow
#   vdc    whole   dm-thin pool data    vdd   whole   dm-thin pool metadata
# Partitions, not dm-linear slices, so that no configuration gets an extra
# device-mapper layer the others do not have.
#
# Parameters come from $FB_RESULTS/freeze.conf (written by the host):
#   FB_PARTS      "gaps iops fsync"  which parts to run
#   FB_METHODS    "none vmfit classic thin"
#   FB_CONFIGS    "raw linear classic thin vmfit"
#   FB_COUNT      20                 snapshots per method
#   FB_ROUNDS     3                  IOPS rounds
#   FB_NUMBER_IOS 30000              fixed work of each IOPS run (4 KiB
#                                    writes; about 10 s of raw I/O here)
#   FB_IOPS_SECS                     instead: calibrate on raw to this many
#                                    seconds of work (needs FB_NUMBER_IOS=)
#   FB_FSYNC_IOS  8000               fixed work of each fsync run (4 KiB
#                                    synchronous writes, an fsync every 8)
#   FB_WINDOW_MS 1000, FB_PRE_MS 250, FB_FILL 1 (prefill before measuring)
set -uo pipefail

FB_RESULTS=${FB_RESULTS:-/results}
[ -f "$FB_RESULTS/freeze.conf" ] && . "$FB_RESULTS/freeze.conf"
: "${FB_PARTS:=gaps iops fsync}"
: "${FB_METHODS:=none vmfit classic thin}"
: "${FB_CONFIGS:=raw linear classic thin vmfit}"
: "${FB_COUNT:=20}" "${FB_ROUNDS:=3}" "${FB_IOPS_SECS:=10}"
: "${FB_NUMBER_IOS=30000}" "${FB_WINDOW_MS:=1000}" "${FB_PRE_MS:=250}"
: "${FB_FILL:=1}" "${FB_FSYNC_IOS:=8000}"
FSYNC_EVERY=8	# FB_FSYNC_EVERY in fb.h

rec=$FB_RESULTS/freeze.records
: >"$rec"
VOL_SECTORS=$((1024 * 2048))	# 1 GiB
DEPTH=16
P=fb	# dm name prefix

read -r DA DB DC DD <<<"${VMTEST_DISKS:-/dev/vda /dev/vdb /dev/vdc /dev/vdd}"
VOL=${DA}1
VCOW=${DB}1
CCOW=${DB}2

log() {
	echo "freeze: $(date +%T) $*"
}

fail() { # what message...
	local what=$1
	shift
	echo "fail $what $*" >>"$rec"
	log "FAILED: $what: $*"
}

meta() {
	echo "meta $1 $2" >>"$rec"
}

sectors() {
	blockdev --getsz "$1"
}

# le32 N - the four little-endian bytes of N as printf escapes.
le32() {
	printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 & 255)) \
		$((($1 >> 8) & 255)) $((($1 >> 16) & 255)) $((($1 >> 24) & 255))
}

# mbr DEV START1 SIZE1 [START2 SIZE2] - an MS-DOS label with Linux
# partitions (sectors), then make the kernel read it.
mbr() {
	local dev=$1 e1 e2
	e1="\\x00\\xfe\\xff\\xff\\x83\\xfe\\xff\\xff$(le32 "$2")$(le32 "$3")"
	e2='\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00'
	[ $# -ge 5 ] &&
		e2="\\x00\\xfe\\xff\\xff\\x83\\xfe\\xff\\xff$(le32 "$4")$(le32 "$5")"
	{
		head -c 446 /dev/zero
		printf "$e1$e2"
		head -c 32 /dev/zero
		printf '\x55\xaa'
	} | dd of="$dev" bs=512 count=1 iflag=fullblock conv=notrunc \
		oflag=direct status=none ||
		return 1
	blockdev --rereadpt "$dev"
}

zero4k() {
	dd if=/dev/zero of="$1" bs=4096 count=1 oflag=direct conv=notrunc \
		status=none
}

dm_exists() {
	dmsetup info "$1" >/dev/null 2>&1
}

# Remove our devices, dependents first.
teardown() {
	local d
	for d in $P-origin-snap $P-origin $P-origin-real $P-vmfit $P-thin \
		 $P-pool; do
		dm_exists "$d" && dmsetup remove --retry "$d" >/dev/null 2>&1
	done
	for d in $P-origin-snap $P-origin $P-origin-real $P-vmfit $P-thin \
		 $P-pool; do
		if dm_exists "$d"; then
			dmsetup resume "$d" >/dev/null 2>&1
			dmsetup remove --force "$d" >/dev/null 2>&1 ||
				log "cannot remove $d"
		fi
	done
}
trap teardown EXIT

has_vmfit() {
	dmsetup targets | grep -q '^vmfit '
}

create_vmfit() {
	zero4k "$VCOW" &&
		dmsetup create $P-vmfit --table "0 $VOL_SECTORS vmfit $VOL $VCOW 8"
}

create_thin() {
	local data
	data=$(sectors "$DC")
	zero4k "$DD" &&
	dmsetup create $P-pool --table \
		"0 $data thin-pool $DD $DC 128 0" &&
	dmsetup message $P-pool 0 "create_thin 0" &&
	dmsetup create $P-thin --table "0 $VOL_SECTORS thin /dev/mapper/$P-pool 0"
}

setup() {
	local gib=$(($(sectors "$DA") / 2097152))
	((gib >= 3)) || {
		fail setup "scratch disks of $gib GiB; need 3 (vmtest --disk-size)"
		return 1
	}
	modprobe -a dm-snapshot dm-thin-pool || {
		fail setup "modprobe dm-snapshot dm-thin-pool failed"
		return 1
	}
	mbr "$DA" 2048 "$VOL_SECTORS" &&
		mbr "$DB" 2048 "$VOL_SECTORS" $((2048 + VOL_SECTORS)) "$VOL_SECTORS" || {
		fail setup "partitioning the scratch disks failed"
		return 1
	}
	for p in "$VOL" "$VCOW" "$CCOW"; do
		[ -b "$p" ] && [ "$(sectors "$p")" = "$VOL_SECTORS" ] || {
			fail setup "partition $p missing or of the wrong size"
			return 1
		}
	done
	dmsetup create $P-origin --table "0 $VOL_SECTORS linear $VOL 0" || {
		fail setup "dm-linear over $VOL failed"
		return 1
	}
	if [ "$FB_FILL" = 1 ]; then
		# The host's sparse image files allocate on first write:
		# write everything once before measuring anything.
		log "prefilling the volume and the cow partitions"
		freeze-bench fill "$VOL" && freeze-bench fill "$VCOW" &&
			freeze-bench fill "$CCOW" || {
			fail setup "prefill failed"
			return 1
		}
	fi
	create_thin || {
		fail thin "creating the pool and thin volume failed"
		return 1
	}
	# Provision every block of the thin volume: after that, writes
	# break sharing with the snapshot instead of provisioning.
	log "provisioning the thin volume"
	freeze-bench fill /dev/mapper/$P-thin || {
		fail thin "provisioning the thin volume failed"
		return 1
	}
	log "setup done"
}

gaps() { # method
	local m=$1 args=(--count "$FB_COUNT" --window-ms "$FB_WINDOW_MS"
			 --pre-ms "$FB_PRE_MS" --depth "$DEPTH" --out "$rec")
	log "gaps: $m"
	case "$m" in
	none) freeze-bench gaps --method none --io-dev /dev/mapper/$P-origin \
		"${args[@]}" ;;
	classic) freeze-bench gaps --method classic --dev $P-origin \
		--cow "$CCOW" "${args[@]}" ;;
	thin) freeze-bench gaps --method thin --dev $P-thin --pool $P-pool \
		--snap-id 1 "${args[@]}" ;;
	vmfit)
		if ! has_vmfit; then
			fail vmfit "the vmfit target is not loaded"
			return 1
		fi
		create_vmfit || {
			fail vmfit "creating the vmfit device failed"
			return 1
		}
		freeze-bench gaps --method vmfit --dev $P-vmfit "${args[@]}"
		local rc=$?
		dmsetup status $P-vmfit
		dmsetup remove $P-vmfit
		return $rc
		;;
	esac
}

# fio_iops DEV - fixed work; prints the write IOPS. LOAD=fsync: one
# synchronous writer with an fsync every FSYNC_EVERY writes.
fio_iops() {
	local load

	if [ "$LOAD" = fsync ]; then
		load=(--iodepth=1 --ioengine=psync --fsync=$FSYNC_EVERY
		      --number_ios="$FB_FSYNC_IOS")
	else
		load=(--iodepth=$DEPTH --ioengine=libaio
		      --number_ios="$NUMBER_IOS")
	fi
	fio --name=fb --filename="$1" --rw=randwrite --bs=4k --direct=1 \
		"${load[@]}" --size=$((VOL_SECTORS / 2048))m \
		--output-format=terse --terse-version=3 |
		awk -F';' 'NF > 50 && $5 == 0 { print $49; ok = 1 }
			   END { exit !ok }'
}

# iops_one CONFIG ROUND - snapshot (if any), fio, undo.
iops_one() {
	local c=$1 r=$2 dev rc=0 v snap=() undo=()
	case "$c" in
	raw) dev=$VOL ;;
	linear) dev=/dev/mapper/$P-origin ;;
	classic)
		dev=/dev/mapper/$P-origin
		snap=(--method classic --dev $P-origin --cow "$CCOW")
		;;
	thin)
		dev=/dev/mapper/$P-thin
		snap=(--method thin --dev $P-thin --pool $P-pool
		      --snap-id $((1000 + r)))
		;;
	vmfit)
		has_vmfit || {
			fail vmfit "the vmfit target is not loaded"
			return 1
		}
		create_vmfit || {
			fail vmfit "creating the vmfit device failed"
			return 1
		}
		dev=/dev/mapper/$P-vmfit
		snap=(--method vmfit --dev $P-vmfit)
		;;
	esac
	if ((${#snap[@]})); then
		freeze-bench snap "${snap[@]}" || {
			fail "$c" "round $r: taking the snapshot failed"
			rc=1
		}
		undo=("${snap[@]}")
	fi
	if ((rc == 0)); then
		if v=$(fio_iops "$dev"); then
			echo "$LOAD $c $r $v" >>"$rec"
			log "$LOAD: round $r: $c: $v"
		else
			fail "$c" "round $r: fio failed"
			rc=1
		fi
	fi
	if ((${#undo[@]})); then
		[ "$c" = vmfit ] && dmsetup status $P-vmfit
		freeze-bench unsnap "${undo[@]}" || {
			fail "$c" "round $r: undoing the snapshot failed"
			rc=1
		}
	fi
	[ "$c" = vmfit ] && dmsetup remove $P-vmfit
	return $rc
}

calibrate() {
	local v
	if [ -n "$FB_NUMBER_IOS" ]; then
		NUMBER_IOS=$FB_NUMBER_IOS
		return 0
	fi
	v=$(fio --name=cal --filename="$VOL" --rw=randwrite --bs=4k \
		--iodepth=$DEPTH --ioengine=libaio --direct=1 --time_based \
		--runtime=3 --randseed=7 --output-format=terse \
		--terse-version=3 | awk -F';' '{ printf "%d", $49 }')
	[ -n "$v" ] && ((v > 0)) || return 1
	NUMBER_IOS=$((v * FB_IOPS_SECS / 1000 * 1000))
	((NUMBER_IOS >= 1000)) || NUMBER_IOS=1000
	# fio's random map covers each block once: stay within the volume.
	((NUMBER_IOS <= VOL_SECTORS / 8)) || NUMBER_IOS=$((VOL_SECTORS / 8))
	log "calibration: raw $v IOPS -> --number_ios=$NUMBER_IOS"
}

# iops LOAD - the configurations after a snapshot under LOAD (iops: the
# plain load, fsync: with fsyncs), interleaved rounds.
iops() {
	local r i n cfgs rc=0
	LOAD=$1
	if [ "$LOAD" = iops ]; then
		calibrate || {
			fail iops "calibration run failed"
			return 1
		}
		meta number_ios "$NUMBER_IOS"
	else
		meta fsync_number_ios "$FB_FSYNC_IOS"
	fi
	read -r -a cfgs <<<"$FB_CONFIGS"
	n=${#cfgs[@]}
	for ((r = 1; r <= FB_ROUNDS; r++)); do
		# Interleaved, with the order rotated each round.
		for ((i = 0; i < n; i++)); do
			iops_one "${cfgs[$(((i + r - 1) % n))]}" "$r" || rc=1
		done
	done
	return $rc
}

meta kernel "$(uname -r)"
meta date "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
meta fio "$(fio --version)"
meta volume_mib $((VOL_SECTORS / 2048))
meta depth "$DEPTH"
meta window_ms "$FB_WINDOW_MS"
meta pre_ms "$FB_PRE_MS"
meta count "$FB_COUNT"
meta rounds "$FB_ROUNDS"

status=0
setup || exit 1
for part in $FB_PARTS; do
	case "$part" in
	gaps)
		for m in $FB_METHODS; do
			gaps "$m" || status=1
		done
		;;
	iops | fsync) iops "$part" || status=1 ;;
	*) fail setup "unknown part '$part'"; status=1 ;;
	esac
done
log "done (status $status)"
exit $status
