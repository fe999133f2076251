#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# tools/bench/scale/guest.sh - the scale benchmark, guest side: runs inside
# the vmtest VM (started by tools/bench/scale/run) and writes one JSON
# object a line to $SC_RESULTS/scale.records (the host assembles them).
#
# For each origin size of SC_SIZES (bytes, from $SC_RESULTS/scale.conf):
# the origin is a dm-zero device of that size (reads return zeros, writes
# are accepted and dropped: the target sees a real origin of that size and
# nothing on the host grows with it); the cow is the whole of DISK_B. Steps:
#   format     dmsetup create over a cow with a zeroed header (formats it)
#   idle       remove, create again: activation of the idle device
#   snapshot   the `snapshot` message
#   mapped     4 KiB random writes (fio, fixed number, random map) until
#              each count of SC_MAPPED chunks is mapped in the cow;
#              status and `changed` timed at each
#   reload     remove, create again with the mapped chunks (activation)
#   merge      the `merge` message, until the mode is normal again
#   remove     dmsetup remove
# Kernel memory (slab from /proc/slabinfo, vmalloc from /proc/vmallocinfo,
# per-cpu and free memory from /proc/meminfo, after dropping caches) is
# read before the device is created and after each step. A step that
# fails ends that size with the reason (the kernel's error line when
# there is one); the next size still runs.
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"
set +e

SC_RESULTS=${SC_RESULTS:-/results}
[ -f "$SC_RESULTS/scale.conf" ] && . "$SC_RESULTS/scale.conf"
: "${SC_SIZES:=$((16 << 30))}" "${SC_MAPPED:=0 1000}" "${SC_CHUNK:=8}"
: "${SC_REPEAT:=5}"
rec=$SC_RESULTS/scale.records
: >"$rec"

need_vmfit
modprobe dm-zero 2>/dev/null
dmsetup targets | grep -q '^zero ' || die "no dm-zero target in the guest"
COW=$DISK_B

now() { date +%s%N; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e6 }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# mem - kernel memory now, as JSON members: slab bytes (sum of
# num_objs x objsize over /proc/slabinfo), vmalloc bytes (sum over
# /proc/vmallocinfo, and the part allocated from dm_vmfit), per-cpu and
# free bytes from /proc/meminfo. Caches are dropped first so that the
# free memory moves with what the kernel holds.
mem() {
	local slab vm vmf pcpu free
	sync
	echo 3 >/proc/sys/vm/drop_caches
	slab=$(awk 'NR > 2 { s += $3 * $4 } END { printf "%d", s }' /proc/slabinfo)
	vm=$(awk '{ s += $2 } END { printf "%d", s }' /proc/vmallocinfo)
	vmf=$(awk '/\[dm_vmfit\]/ { s += $2 } END { printf "%d", s }' \
		/proc/vmallocinfo)
	pcpu=$(awk '$1 == "Percpu:" { print $2 * 1024 }' /proc/meminfo)
	free=$(awk '$1 == "MemFree:" { print $2 * 1024 }' /proc/meminfo)
	printf '"slab": %d, "vmalloc": %d, "vmalloc_vmfit": %d, "percpu": %d, "memfree": %d' \
		"$slab" "$vm" "$vmf" "${pcpu:-0}" "${free:-0}"
}

# emit SIZE STEP MSFIELD... - one record: the step, its figures, memory.
emit() {
	local size=$1 step=$2
	shift 2
	printf '{"origin_bytes": %s, "step": "%s"%s, %s}\n' "$size" "$step" \
		"$(printf ', %s' "$@")" "$(mem)" >>"$rec"
}

# fail_size SIZE STEP REASON - the size ends here.
fail_size() {
	printf '{"origin_bytes": %s, "step": "%s", "error": "%s"}\n' "$1" "$2" \
		"$(echo "$3" | tr -d '"\\' | tr '\n' ' ' | sed 's/ *$//')" >>"$rec"
	note "size $1: $2 failed: $3"
}

# The kernel's reason for a failed table load: its last device-mapper
# lines.
kerr() {
	dmesg | grep -E 'device-mapper|vmfit' | tail -n 2 |
		sed 's/^\[[^]]*\] *//' | tr '\n' ';' | sed 's/;$//'
}

# dm_time CMD... - run a dmsetup (or other) command, print its ms.
dm_time() {
	local t0 t1
	t0=$(now)
	"$@" >/dev/null 2>"$TESTDIR/err" || return 1
	t1=$(now)
	ms "$t0" "$t1"
}

# med_time N CMD... - the median ms of N runs of CMD.
med_time() {
	local n=$1 i v out=()
	shift
	for ((i = 0; i < n; i++)); do
		v=$(dm_time "$@") || return 1
		out+=("$v")
	done
	printf '%s\n' "${out[@]}" | median
}

create_live() { # SECTORS
	dm_time dmsetup create "$(dm_name live)" --table \
		"0 $1 vmfit $(dm_path origin) $COW $SC_CHUNK"
}

remove_live() {
	dmsetup remove "$(dm_name live)"
}

# The live device's status and the whole changed set (vmfit-ctl pages).
status_ms() { med_time "$SC_REPEAT" dmsetup status "$(dm_name live)"; }
changed_ms() { med_time "$SC_REPEAT" vmfit-ctl changed "$(dm_name live)"; }

one_size() { # BYTES
	local b=$1 sect=$(($1 / 512)) t n want have v s c
	local chunk_bytes=$((SC_CHUNK * 512))

	note "origin $b bytes ($((b >> 30)) GiB), $((b / chunk_bytes)) chunks"
	dm_create origin "0 $sect zero" || {
		fail_size "$b" origin "dm-zero of $sect sectors failed"
		return 1
	}
	zero_dev "$COW" 0 8
	emit "$b" before '"dmsetup_exec_ms": '"$(med_time "$SC_REPEAT" dmsetup version)"
	if ! t=$(create_live "$sect"); then
		fail_size "$b" format "activation failed: $(kerr) ($(tr '\n' ' ' <"$TESTDIR/err"))"
		dm_remove origin
		return 1
	fi
	_dm_created+=("$(dm_name live)")
	emit "$b" format "\"activation_ms\": $t"
	remove_live
	if ! t=$(create_live "$sect"); then
		fail_size "$b" idle "activation failed: $(kerr) ($(tr '\n' ' ' <"$TESTDIR/err"))"
		dm_remove origin
		return 1
	fi
	emit "$b" idle "\"activation_ms\": $t" "\"status_ms\": $(status_ms)" \
		"\"changed_ms\": $(changed_ms)"
	t=$(dm_time dmsetup message "$(dm_name live)" 0 snapshot) || {
		fail_size "$b" snapshot "$(cat "$TESTDIR/err")"
		return 1
	}
	emit "$b" snapshot "\"cmd_ms\": $t"
	for want in $SC_MAPPED; do
		vmfit_status live
		have=$ST_COW_USED
		# fio's random map writes distinct blocks within one run; an
		# unrepeatable seed each run, and a few more runs if blocks of
		# two runs coincided.
		while ((have < want)); do
			n=$((want - have))
			fio --name=sc --filename="$(dm_path live)" --rw=randwrite \
				--bs="$chunk_bytes" --ioengine=libaio --iodepth=16 \
				--direct=1 --number_ios="$n" --randrepeat=0 \
				--output=/dev/null || {
				fail_size "$b" mapped "fio failed writing $n chunks"
				return 1
			}
			vmfit_status live
			((ST_COW_USED > have)) || {
				fail_size "$b" mapped "writes mapped no chunk (status: mode $ST_MODE, health $ST_HEALTH, cow $ST_COW_USED/$ST_COW_TOTAL)"
				return 1
			}
			have=$ST_COW_USED
		done
		s=$(status_ms) && c=$(changed_ms) || {
			fail_size "$b" mapped "status or changed failed: $(cat "$TESTDIR/err")"
			return 1
		}
		emit "$b" mapped "\"mapped_chunks\": $have" \
			"\"changed_chunks\": $ST_CHANGED" "\"status_ms\": $s" \
			"\"changed_ms\": $c"
	done
	remove_live
	if ! t=$(create_live "$sect"); then
		fail_size "$b" reload "activation failed: $(kerr) ($(tr '\n' ' ' <"$TESTDIR/err"))"
		return 1
	fi
	vmfit_status live
	emit "$b" reload "\"activation_ms\": $t" "\"mapped_chunks\": $ST_COW_USED"
	t=$(now)
	dmsetup message "$(dm_name live)" 0 merge || {
		fail_size "$b" merge "the merge message failed"
		return 1
	}
	for ((v = 0; v < 36000; v++)); do
		vmfit_status live
		[ "$ST_MODE" = normal ] && break
		sleep 0.05
	done
	[ "$ST_MODE" = normal ] || {
		fail_size "$b" merge "still $ST_MODE after 30 minutes"
		return 1
	}
	emit "$b" merge "\"merge_ms\": $(ms "$t" "$(now)")"
	dm_remove live || {
		fail_size "$b" remove "dmsetup remove failed"
		return 1
	}
	dm_remove origin
	emit "$b" remove '"removed": true'
}

printf '{"meta": {"kernel": "%s", "date": "%s", "mem_total": %d, "cpus": %d, "cow_bytes": %d, "chunk_bytes": %d}}\n' \
	"$(uname -r)" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
	"$(awk '$1 == "MemTotal:" { print $2 * 1024 }' /proc/meminfo)" \
	"$(nproc)" "$(($(dev_sectors "$COW") * 512))" "$((SC_CHUNK * 512))" >>"$rec"
for size in $SC_SIZES; do
	one_size "$size" && continue
	# Leave nothing behind for the next size.
	dmsetup remove --force "$(dm_name live)" >/dev/null 2>&1
	dmsetup remove "$(dm_name origin)" >/dev/null 2>&1
done
note "done"
# A size that does not fit is a result, not a failure of the run.
exit 0
