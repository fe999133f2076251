# SPDX-License-Identifier: GPL-2.0-only
#
# tests/lib/aux.sh - helpers for the kernel tests (tests/kmod/*.sh), which
# run as root inside the vmtest guest (tools/vmtest/vmtest). Source it
# first:  . "${VMFIT_ROOT:-.}/tests/lib/aux.sh"
#
# It sets -eu -o pipefail, names every device with a per-test prefix and
# removes whatever the test created on exit (trap teardown EXIT).
#
# Devices: DISK_A DISK_B DISK_C DISK_D are the guest's scratch disks
# (virtio-blk, 2 GiB by default); their contents are undefined at the start
# of a test, except across the phases of a power-cut test.

set -eEu -o pipefail

PREFIX=vt_${VMTEST_NAME:-$(basename "$0" .sh)}_
PREFIX=${PREFIX//-/_}
TESTDIR=$(mktemp -d /tmp/vmtest-XXXXXX)
VMTEST_IO=vmtest-io
SECTOR=512

_dm_created=()
_loops=()
_at_exit=()

note() {
	echo "## [${SECONDS}s] $*"
}

die() {
	echo "FAIL: $*" >&2
	exit 1
}

trap 'echo "FAIL: ${BASH_SOURCE[0]}:$LINENO: command failed (rc $?): $BASH_COMMAND" >&2' ERR

# Assertions ---------------------------------------------------------------

assert_eq() { # WANT GOT WHAT
	[ "$1" = "$2" ] || die "$3: expected '$1', got '$2'"
}

assert_ne() { # A B WHAT
	[ "$1" != "$2" ] || die "$3: both are '$1'"
}

assert_le() { # A B WHAT  (integers)
	(($1 <= $2)) || die "$3: expected $1 <= $2"
}

assert_match() { # REGEX STRING WHAT
	[[ "$2" =~ $1 ]] || die "$3: '$2' does not match /$1/"
}

# Setup --------------------------------------------------------------------

need_guest() {
	[ -n "${VMTEST_DISKS:-}" ] ||
		die "not inside the vmtest guest: run tools/vmtest/vmtest run (or make check T=kmod)"
	read -r DISK_A DISK_B DISK_C DISK_D <<<"$VMTEST_DISKS"
	export DISK_A DISK_B DISK_C DISK_D
}

# need_vmfit - the module is ours and must be loaded: never a skip.
need_vmfit() {
	need_guest
	dmsetup targets | grep -q '^vmfit ' ||
		die "the vmfit target is not registered (dmsetup targets: $(dmsetup targets | tr '\n' ' '))"
	dmsetup targets | grep -q '^vmfit-view ' ||
		die "the vmfit-view target is not registered"
}

dev_sectors() { # DEV
	blockdev --getsz "$1"
}

# Device-mapper ------------------------------------------------------------

dm_name() { # SUFFIX
	echo "$PREFIX$1"
}

dm_path() { # SUFFIX
	echo "/dev/mapper/$PREFIX$1"
}

# dm_create SUFFIX TABLE [dmsetup create options] - remembered for teardown.
dm_create() {
	local n=$PREFIX$1 t=$2
	shift 2
	dmsetup create "$n" --table "$t" "$@" || return
	_dm_created+=("$n")
}

dm_remove() { # SUFFIX
	local n=$PREFIX$1 i
	dmsetup remove "$n" || return
	for i in "${!_dm_created[@]}"; do
		[ "${_dm_created[$i]}" = "$n" ] && unset "_dm_created[$i]"
	done
	return 0
}

# dm_create_lines SUFFIX LINE... - like dm_create, one table line an
# argument.
dm_create_lines() {
	local n=$PREFIX$1
	shift
	printf '%s\n' "$@" | dmsetup create "$n" || return
	_dm_created+=("$n")
}

# dm_hold SUFFIX - queue every new bio of a device (suspend --noflush):
# what it holds is "in flight", not on the disk below, as at a power cut.
# dm_release SUFFIX lets them go; teardown releases what is still held.
dm_hold() {
	dmsetup suspend --noflush "$PREFIX$1" || return
	at_exit "dmsetup resume $PREFIX$1 2>/dev/null"
}

dm_release() { # SUFFIX
	dmsetup resume "$PREFIX$1"
}

dm_exists() { # SUFFIX
	dmsetup info "$PREFIX$1" >/dev/null 2>&1
}

# dm_ls - our devices, sorted (for "nothing was created" assertions).
dm_ls() {
	dmsetup ls 2>/dev/null | awk -v p="$PREFIX" 'index($1, p) == 1 { print $1 }' | sort
}

dm_msg() { # SUFFIX MESSAGE...
	dmsetup message "$PREFIX$1" 0 "${@:2}"
}

# devno DEV -> major:minor of a block device (as dm tables print it).
devno() {
	local t
	t=$(stat -Lc '%t %T' "$1") || return
	set -- $t
	echo "$((16#$1)):$((16#$2))"
}

dm_devno() { # SUFFIX -> major:minor
	dmsetup info -c --noheadings -o major,minor --separator : "$PREFIX$1" |
		tr -d ' '
}

# slice SUFFIX DEV START_MB SIZE_MB - a dm-linear piece of DEV.
slice() {
	dm_create "$1" "0 $(($4 * 2048)) linear $2 $(($3 * 2048))"
}

# origin_cow_ref MB - the usual three slices of MB MiB at the start of
# DISK_A, DISK_B and DISK_C: origin, cow (its header zeroed: the target
# formats it) and ref (for a copy of the frozen origin); O, C and REF are
# their paths.
origin_cow_ref() {
	slice origin "$DISK_A" 0 "$1"
	slice cow "$DISK_B" 0 "$1"
	slice ref "$DISK_C" 0 "$1"
	O=$(dm_path origin)
	C=$(dm_path cow)
	REF=$(dm_path ref)
	zero_dev "$C" 0 8
}

# vmfit_create SUFFIX ORIGIN COW CHUNK_SECTORS [FEATURE...] - the live
# device over the whole ORIGIN.
vmfit_create() {
	local sfx=$1 origin=$2 cow=$3 chunk=$4 sz
	shift 4
	sz=$(dev_sectors "$origin")
	if (($#)); then
		dm_create "$sfx" "0 $sz vmfit $origin $cow $chunk $# $*"
	else
		dm_create "$sfx" "0 $sz vmfit $origin $cow $chunk"
	fi
}

# vmfit_ab_volumes MB - recovery's two state volumes: live devices "A" and
# "B" of MB MiB each (origins on DISK_A, cows on DISK_B, zeroed, 4 KiB
# chunks); sets A and B to their paths; their views are removed at exit.
vmfit_ab_volumes() {
	local mb=$1 s
	slice oa "$DISK_A" 0 "$mb"
	slice ob "$DISK_A" $((mb * 2)) "$mb"
	slice ca "$DISK_B" 0 "$mb"
	slice cb "$DISK_B" $((mb * 2)) "$mb"
	for s in oa ob ca cb; do
		zero_dev "$(dm_path $s)" 0 $((mb * 2048))
	done
	vmfit_create A "$(dm_path oa)" "$(dm_path ca)" 8
	vmfit_create B "$(dm_path ob)" "$(dm_path cb)" 8
	A=$(dm_path A)
	B=$(dm_path B)
	at_exit "dmsetup remove $(dm_name A)-view 2>/dev/null || true"
	at_exit "dmsetup remove $(dm_name B)-view 2>/dev/null || true"
}

# vmfit_cluster_volumes N MB - the state volumes of tests/lib/cluster.sh's
# hosts 1..N in the VM: two vmfit devices per host, "h<i>a" (origin on
# DISK_A, cow on DISK_C) and "h<i>b" (DISK_B, DISK_D), MB MiB each from
# 16*i MiB on (DISK_D's first MiB is the power-cut tests' state), zeroed,
# 4 KiB chunks. Exports CL_VOLUME and sets CL_VOLUME_B (paths with @HOST@,
# for vmfitd.conf's state_volume and state_volume_b); views are removed
# at exit. The kv journals are files in the host directories, off the
# verified volumes (CL_JOURNAL, CL_JOURNAL_B: state_journal, _b).
vmfit_cluster_volumes() {
	local n=$1 mb=$2 i s
	((mb <= 16)) || die "vmfit_cluster_volumes: at most 16 MiB per volume"
	for ((i = 1; i <= n; i++)); do
		# (|| die: the cluster tests run without -e)
		slice "h${i}oa" "$DISK_A" $((16 * i)) "$mb" || die "slice"
		slice "h${i}ca" "$DISK_C" $((16 * i)) "$mb" || die "slice"
		slice "h${i}ob" "$DISK_B" $((16 * i)) "$mb" || die "slice"
		slice "h${i}cb" "$DISK_D" $((16 * i)) "$mb" || die "slice"
		for s in oa ob ca cb; do
			zero_dev "$(dm_path "h$i$s")" || die "zeroing h$i$s"
		done
		vmfit_create "h${i}a" "$(dm_path "h${i}oa")" \
			"$(dm_path "h${i}ca")" 8 || die "vmfit device A of host $i"
		vmfit_create "h${i}b" "$(dm_path "h${i}ob")" \
			"$(dm_path "h${i}cb")" 8 || die "vmfit device B of host $i"
		at_exit "dmsetup remove $(dm_name "h${i}a")-view 2>/dev/null || true"
		at_exit "dmsetup remove $(dm_name "h${i}b")-view 2>/dev/null || true"
	done
	export CL_VOLUME="/dev/mapper/${PREFIX}h@HOST@a"
	CL_VOLUME_B="/dev/mapper/${PREFIX}h@HOST@b"
	export CL_JOURNAL="@DIR@/journal-a" CL_JOURNAL_B="@DIR@/journal-b"
}

# csum_hold_start NAME - a checksum session on live device NAME held open
# (vmfit-nlfuzz csumhold) until csum_hold_end; its output in
# $TESTDIR/hold.out.
csum_hold_start() {
	local i
	rm -f "$TESTDIR/hold.in"
	mkfifo "$TESTDIR/hold.in"
	vmfit-nlfuzz csumhold "$1" <"$TESTDIR/hold.in" \
		>"$TESTDIR/hold.out" 2>&1 &
	CSUM_HOLDER=$!
	exec 7>"$TESTDIR/hold.in"
	for i in $(seq 100); do
		grep -q held "$TESTDIR/hold.out" && return 0
		sleep 0.1
	done
	die "csumhold did not start: $(cat "$TESTDIR/hold.out")"
}

# csum_hold_end - let the held session go (not in a subshell: it closes
# the shell's own end of the fifo); its "end ..." line goes to CSUM_END.
csum_hold_end() {
	exec 7>&-
	wait "$CSUM_HOLDER" || die "csumhold failed: $(cat "$TESTDIR/hold.out")"
	CSUM_END=$(grep '^end ' "$TESTDIR/hold.out")
}

# vmfit_fixture SIZE_MB[/COW_MB] CHUNK_SECTORS [FILL_SEED] - the usual
# set-up: the first SIZE_MB of DISK_A as "origin" (filled by vmtest-io with
# FILL_SEED when given), the first COW_MB (default SIZE_MB) of DISK_B as
# "cow" (header zeroed), and the vmfit device "live" over them. Sets O, C,
# L (paths) and N (the live device's name).
vmfit_fixture() {
	slice origin "$DISK_A" 0 "${1%/*}"
	slice cow "$DISK_B" 0 "${1#*/}"
	O=$(dm_path origin)
	C=$(dm_path cow)
	[ -z "${3:-}" ] || vmtest-io fill "$O" "$3"
	zero_dev "$C" 0 8
	vmfit_create live "$O" "$C" "$2"
	L=$(dm_path live)
	N=$(dm_name live)
}

# snapshot_ready SUFFIX [SECS] - the snapshot message to the vmfit device
# SUFFIX, then wait (at most SECS, default 30) for its view to be ready.
snapshot_ready() {
	dm_msg "$1" snapshot
	wait_status "$1" VIEW ready "${2:-30}"
}

# vmfit_snapshot_fixture SIZE_MB[/COW_MB] CHUNK_SECTORS [FILL_SEED] -
# vmfit_fixture, then a snapshot of "live" with its view ready. Sets SUM0
# too: the origin's SHA-256 at the snapshot, what a view of it reads.
vmfit_snapshot_fixture() {
	vmfit_fixture "$@"
	SUM0=$(sha_dev "$O")
	snapshot_ready live
}

# view_create SUFFIX LIVE_SUFFIX - the frozen view of a live device.
view_create() {
	dm_create "$1" "0 $(dev_sectors "$(dm_path "$2")") vmfit-view $(dm_path "$2")"
}

# Privilege ----------------------------------------------------------------

# as_nobody CMDLINE - run the shell command line CMDLINE as nobody:nogroup
# (no capabilities, no supplementary groups), from /; stdin, stdout and
# stderr are the caller's.
as_nobody() {
	su -s /bin/bash nobody -c "cd / && $1"
}

# Loop devices -------------------------------------------------------------

# loop_create VAR SIZE_MB [LOGICAL_BLOCK_SIZE] - set VAR to a new loop
# device (remembered for teardown); the backing file lives in the test's
# tmpfs directory.
loop_create() {
	local f dev
	f=$(mktemp "$TESTDIR/loop.XXXXXX")
	truncate -s "${2}M" "$f"
	if [ -n "${3:-}" ]; then
		dev=$(losetup -f --show -b "$3" "$f") || return
	else
		dev=$(losetup -f --show "$f") || return
	fi
	_loops+=("$dev")
	printf -v "$1" %s "$dev"
}

# Kernel log ---------------------------------------------------------------

kmsg_mark() {
	_kmsg_lines=$(dmesg | wc -l)
}

kmsg_since_mark() {
	dmesg | tail -n +$((${_kmsg_lines:-0} + 1))
}

# expect_fail TEXT CMD... - CMD must fail and TEXT must appear in its output
# or in the kernel log it produced (ti->error, DMERR).
expect_fail() {
	local text=$1 out rc=0
	shift
	kmsg_mark
	out=$("$@" 2>&1) || rc=$?
	((rc != 0)) || die "expected failure of '$*', but it succeeded: $out"
	out+=$'\n'$(kmsg_since_mark)
	grep -qF -- "$text" <<<"$out" ||
		die "'$*' failed (rc $rc) but without '$text'; got: $out"
	note "rejected as expected: $* -> $text"
}

# Data ---------------------------------------------------------------------

# sha_dev DEV [START_SECTOR COUNT_SECTORS] - sha256 of a device range read
# with O_DIRECT (no stale page cache between stacked devices).
sha_dev() {
	local dev=$1 start=${2:-0} count=${3:-}
	[ -n "$count" ] || count=$(($(dev_sectors "$dev") - start))
	dd if="$dev" bs=1M iflag=direct,skip_bytes,count_bytes \
		skip=$((start * SECTOR)) count=$((count * SECTOR)) 2>/dev/null |
		sha256sum | cut -d' ' -f1
}

# zero_dev DEV [START_SECTOR COUNT_SECTORS] - zero a range (default: all).
zero_dev() {
	local dev=$1 start=${2:-0} count=${3:-}
	[ -n "$count" ] || count=$(($(dev_sectors "$dev") - start))
	dd if=/dev/zero of="$dev" bs=1M oflag=direct,seek_bytes conv=notrunc \
		seek=$((start * SECTOR)) count=$((count * SECTOR)) \
		iflag=count_bytes 2>/dev/null
}

# copy_dev SRC DST SECTORS - copy the first SECTORS of SRC to DST.
copy_dev() {
	dd if="$1" of="$2" bs=1M iflag=direct,count_bytes oflag=direct \
		conv=notrunc count=$(($3 * SECTOR)) 2>/dev/null
}

# fio_verify DEV NAME [fio options...] - write with verification headers,
# then read everything back and verify; fails on any mismatch or I/O error.
fio_verify() {
	local dev=$1 name=$2
	shift 2
	fio --name="$name" --filename="$dev" --direct=1 --ioengine=libaio \
		--iodepth=16 --bs=4k --rw=randwrite --verify=crc32c \
		--verify_fatal=1 --do_verify=1 --randrepeat=0 \
		--verify_state_save=0 \
		--output-format=terse --minimal "$@" >"$TESTDIR/fio-$name.out" ||
		die "fio $name on $dev failed: $(cat "$TESTDIR/fio-$name.out")"
}

# put_block DEV BLOCK FILE [DD_OFLAGS] - write the 4 KiB FILE to 4 KiB block
# BLOCK of DEV with O_DIRECT (DD_OFLAGS, e.g. "dsync" for a REQ_FUA write,
# are added to oflag=direct).
put_block() {
	dd if="$3" of="$1" bs=4k seek="$2" count=1 conv=notrunc \
		oflag=direct${4:+,$4} 2>/dev/null
}

# sha_block DEV BLOCK - sha256 of 4 KiB block BLOCK.
sha_block() {
	sha_dev "$1" $(($2 * 8)) 8
}

# vmfit status ---------------------------------------------------------------

# Fields of `dmsetup status` for the vmfit target, in order (contract):
#   <mode> <epoch> <#changed chunks> <cow used>/<cow total> <view>
#   <held_ns> <drain_ns> <merged>/<to merge> <health>
VMFIT_STATUS_FIELDS=9

# vmfit_status SUFFIX - set ST_MODE ST_EPOCH ST_CHANGED ST_COW_USED
# ST_COW_TOTAL ST_VIEW ST_HELD_NS ST_DRAIN_NS ST_MERGED ST_TO_MERGE
# ST_HEALTH; dies unless the line has exactly the documented fields.
vmfit_status() {
	local line f
	line=$(dmsetup status "$PREFIX$1") || die "dmsetup status $PREFIX$1 failed"
	vmfit_parse_status "$line"
}

vmfit_parse_status() { # "START LEN vmfit FIELDS..."
	local f
	read -r -a f <<<"$1"
	[ "${f[2]:-}" = vmfit ] || die "status is not from a vmfit target: '$1'"
	((${#f[@]} == VMFIT_STATUS_FIELDS + 3)) ||
		die "status has $((${#f[@]} - 3)) fields, want $VMFIT_STATUS_FIELDS: '$1'"
	ST_MODE=${f[3]}
	ST_EPOCH=${f[4]}
	ST_CHANGED=${f[5]}
	ST_COW_USED=${f[6]%/*}
	ST_COW_TOTAL=${f[6]#*/}
	ST_VIEW=${f[7]}
	ST_HELD_NS=${f[8]}
	ST_DRAIN_NS=${f[9]}
	ST_MERGED=${f[10]%/*}
	ST_TO_MERGE=${f[10]#*/}
	ST_HEALTH=${f[11]}
	assert_match '^(normal|snapshot|merging)$' "$ST_MODE" "status mode"
	assert_match '^(ready|draining|-)$' "$ST_VIEW" "status view"
	assert_match '^(ok|cow_full|fail)$' "$ST_HEALTH" "status health"
	for f in "$ST_EPOCH" "$ST_CHANGED" "$ST_COW_USED" "$ST_COW_TOTAL" \
		 "$ST_HELD_NS" "$ST_DRAIN_NS" "$ST_MERGED" "$ST_TO_MERGE"; do
		assert_match '^[0-9]+$' "$f" "numeric status field in '$1'"
	done
}

# wait_status SUFFIX VAR VALUE [SECONDS] - poll until ST_<VAR> = VALUE.
wait_status() {
	local i tries=$((${4:-60} * 10)) v
	for ((i = 0; i < tries; i++)); do
		vmfit_status "$1"
		v=ST_$2
		[ "${!v}" = "$3" ] && return 0
		sleep 0.1
	done
	die "timed out waiting for status $2=$3 on $PREFIX$1 (now '${!v}')"
}

# vmfit_sb_u64 DEV OFFSET - a little-endian u64 of the cow superblock
# (offsets: admin guide, "On-disk format"; 56 mapping start, 64 data start).
vmfit_sb_u64() {
	dd if="$1" bs=512 count=1 iflag=direct 2>/dev/null |
		od -An -t u8 -j "$2" -N 8 | tr -d ' '
}

# vmfit_sb_u32 DEV OFFSET - the same for a u32 (32 mode, 8 version).
vmfit_sb_u32() {
	dd if="$1" bs=512 count=1 iflag=direct 2>/dev/null |
		od -An -t u4 -j "$2" -N 4 | tr -d ' '
}

# vmfit_split_cow SUFFIX DEV SECTORS ORIGIN CHUNK - format a cow device for
# ORIGIN on the first SECTORS of DEV (a vmfit device is created and removed
# on it), then build the cow device SUFFIX from three pieces that dm_hold
# can hold apart: SUFFIXsb (the superblock block), SUFFIXmd (bitmap and
# mapping) and SUFFIXdata (the data chunks). Sets CS_DATA (data start,
# sectors) and CS_MAP (mapping start).
vmfit_split_cow() {
	local sfx=$1 dev=$2 sz=$3 origin=$4 chunk=$5 fmt
	dm_create "${sfx}fmt" "0 $sz linear $dev 0"
	fmt=$(dm_path "${sfx}fmt")
	zero_dev "$fmt" 0 8
	vmfit_create "${sfx}probe" "$origin" "$fmt" "$chunk"
	dm_remove "${sfx}probe"
	CS_DATA=$(vmfit_sb_u64 "$fmt" 64)
	CS_MAP=$(vmfit_sb_u64 "$fmt" 56)
	dm_remove "${sfx}fmt"
	dm_create "${sfx}sb" "0 8 linear $dev 0"
	dm_create "${sfx}md" "0 $((CS_DATA - 8)) linear $dev 8"
	dm_create "${sfx}data" "0 $((sz - CS_DATA)) linear $dev $CS_DATA"
	dm_create_lines "$sfx" "0 8 linear $(dm_path "${sfx}sb") 0" \
		"8 $((CS_DATA - 8)) linear $(dm_path "${sfx}md") 0" \
		"$CS_DATA $((sz - CS_DATA)) linear $(dm_path "${sfx}data") 0"
}

# vmfit_changed SUFFIX - the changed set, one chunk number a line, sorted.
# Pages with `changed <start>` while the output ends with ",+".
vmfit_changed() {
	local out start=0 all=""
	while :; do
		if ((start)); then
			out=$(dm_msg "$1" changed "$start")
		else
			out=$(dm_msg "$1" changed)
		fi
		if [[ "$out" == *",+" || "$out" == "+" ]]; then
			out=${out%+}
			out=${out%,}
			all+=${all:+${out:+,}}$out
			[ -n "$out" ] || die "changed: empty page at $start"
			start=$(($(expand_ranges "$out" | tail -n 1) + 1))
			continue
		fi
		all+=${all:+${out:+,}}$out
		break
	done
	expand_ranges "$all"
}

# expand_ranges "0-3,17" - print 0 1 2 3 17, one a line.
expand_ranges() {
	local r
	[ -n "$1" ] || return 0
	for r in ${1//,/ }; do
		if [[ "$r" =~ ^([0-9]+)-([0-9]+)$ ]]; then
			seq "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
		elif [[ "$r" =~ ^[0-9]+$ ]]; then
			echo "$r"
		else
			die "malformed changed-set range '$r' in '$1'"
		fi
	done
}

# Power cuts ----------------------------------------------------------------

# powercut_arm - tell the host that the workload is running: it kills the
# VM after a random delay. The caller keeps the workload going.
powercut_arm() {
	echo "VMTEST-POWERCUT-ARMED $VMTEST_NAME" >/dev/console
}

# powercut_volumes SIZE_MB - the power-cut tests' set-up: PHASE (1 before
# the cut, 2 after it) and ITER, the iteration (tools/vmtest/vmtest sets
# both); the first SIZE_MB of DISK_A as "origin" and of DISK_B as "cow"
# (paths O and C), DISK_C as the writer's log (LOG), L the path of "live".
# Phase 1 starts blank: no saved state, the headers of cow and log zeroed.
powercut_volumes() {
	PHASE=${VMTEST_PHASE:?run this test through tools/vmtest/vmtest}
	ITER=${VMTEST_ITER:-1}
	case "$PHASE" in
	1 | 2) ;;
	*) die "unknown phase $PHASE" ;;
	esac
	slice origin "$DISK_A" 0 "$1"
	slice cow "$DISK_B" 0 "$1"
	O=$(dm_path origin)
	C=$(dm_path cow)
	LOG=$DISK_C
	L=$(dm_path live)
	[ "$PHASE" = 1 ] || return 0
	state_clear
	zero_dev "$C" 0 8
	zero_dev "$LOG" 0 8
}

# powercut_write DEV LOGDEV SEED BATCH NBLOCKS - phase 1's workload: the
# flushing writer (vmtest-io pcwrite) on DEV, logging each flushed batch
# on LOGDEV, with the power cut armed once it runs. Never returns: the cut
# ends the boot, and a writer that stops before it fails the test.
powercut_write() {
	local writer
	vmtest-io pcwrite "$1" "$2" "$3" "$4" "$5" 1000000 &
	writer=$!
	sleep 0.5
	kill -0 $writer 2>/dev/null || die "the writer failed to start"
	powercut_arm
	wait $writer || die "the writer failed (rc $?)"
	sleep 60
	die "the power cut did not happen"
}

# State that must survive a power cut lives on DISK_D: a small key=value
# area in its first MiB (the rest of DISK_D is free for logs).
STATE_SECTORS=2048

state_save() { # KEY=VALUE...
	local kv
	{
		state_load_raw | grep -v -E "^($(printf '%s|' "${@%%=*}")-)=" || true
		for kv in "$@"; do echo "$kv"; done
	} >"$TESTDIR/state"
	[ "$(stat -c %s "$TESTDIR/state")" -lt $((STATE_SECTORS * SECTOR)) ] ||
		die "state too large"
	zero_dev "$DISK_D" 0 "$STATE_SECTORS"
	dd if="$TESTDIR/state" of="$DISK_D" bs=4k oflag=direct,sync conv=notrunc,sync 2>/dev/null
}

state_load_raw() {
	dd if="$DISK_D" bs=4k count=$((STATE_SECTORS / 8)) iflag=direct 2>/dev/null |
		tr -d '\0' | grep -E '^[A-Za-z_][A-Za-z0-9_]*=' || true
}

state_clear() {
	zero_dev "$DISK_D" 0 "$STATE_SECTORS"
}

# state_get KEY - print the value (dies if missing).
state_get() {
	local v
	v=$(state_load_raw | awk -F= -v k="$1" '$1 == k { sub(/^[^=]*=/, ""); print; found = 1 } END { exit !found }') ||
		die "no saved state '$1' on $DISK_D"
	echo "$v"
}

# Teardown -------------------------------------------------------------------

# at_exit COMMAND - run COMMAND (a shell string) when the test ends, pass or
# fail, before its devices are removed; the last registered runs first.
# Use this, not a trap of your own: teardown keeps the test's exit status.
at_exit() {
	_at_exit+=("$1")
}

teardown() {
	local rc=$? i n tries j
	set +e
	trap - ERR
	for ((i = ${#_at_exit[@]} - 1; i >= 0; i--)); do
		eval "${_at_exit[$i]}"
	done
	# Background workers (fio, writers) hold devices open: end them.
	for j in $(jobs -p); do
		kill -KILL "$j" 2>/dev/null
	done
	wait 2>/dev/null
	# Newest first: views before the devices they hold.
	for ((i = ${#_dm_created[@]} - 1; i >= 0; i--)); do
		n=${_dm_created[$i]:-}
		[ -n "$n" ] || continue
		for tries in 1 2 3 4 5; do
			dmsetup info "$n" >/dev/null 2>&1 || break
			dmsetup remove "$n" >/dev/null 2>&1 && break
			sleep 0.5
		done
		if dmsetup info "$n" >/dev/null 2>&1; then
			echo "teardown: cannot remove $n" >&2
			((rc == 0)) && rc=1
		fi
	done
	for n in "${_loops[@]}"; do
		losetup -d "$n" 2>/dev/null
	done
	rm -rf "$TESTDIR"
	exit $rc
}
trap teardown EXIT
