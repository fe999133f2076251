#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vmfit-stall against fio:
# - fio 4k randwrite (O_DIRECT, iodepth 1) on a vmfit device with a
#   per-I/O completion-latency log, vmfit-stall --json watching it, N
#   snapshots (each merged back before the next);
# - exactly one record per snapshot, for our device, epochs 1..N, view
#   ready, nothing lost, histogram counts add up to the completions;
# - the longest completion gap is at least the target's own held_ns;
# - the gap agrees with the longest gap between completions in fio's log
#   over the same window: |tool - fio| <= max(6 ms, 25 %). fio logs
#   milliseconds and times the reaping, not the bio's end: with one I/O in
#   flight the two see the same gaps, shifted by the reaping delay. The
#   floor covers fio's whole-millisecond timestamps (up to 1 ms off at
#   each end of a gap) plus that delay, which on a loaded TCG host (a vCPU
#   descheduled for a few ms) varies: 2 ms and 3 ms floors each failed
#   once in clean-clone runs (12.5 ms against fio's 9 ms);
# - the last snapshot follows a 300 ms dmsetup suspend inside its window:
#   the tool must report a gap of at least 300 ms there (a known stall, so
#   the agreement above is not just two measurements of noise).
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"

need_vmfit
command -v vmfit-stall >/dev/null || die "vmfit-stall is not in PATH (make userspace)"

N=3			# snapshots
STALL_MS=300		# injected suspend before the last snapshot
BEFORE_MS=3000		# vmfit-stall window: room for slow dmsetup execs between
			# the injected suspend and the snapshot on a loaded host
AFTER_MS=1000

slice origin "$DISK_A" 0 64
slice cow "$DISK_B" 0 64
zero_dev "$(dm_path cow)" 0 8
vmfit_create live "$(dm_path origin)" "$(dm_path cow)" 8
L=$(dm_path live)
DEVNO=$(dm_devno live)

note "bad input"
expect_fail "not a device-mapper device" vmfit-stall "$DISK_A"
expect_fail "not a block device" vmfit-stall /dev/null
expect_fail "invalid --after" vmfit-stall -a -1 "$L"

# wait_attached PID ERRFILE - until vmfit-stall says it is tracing.
wait_attached() {
	local i
	for ((i = 0; i < 300; i++)); do
		grep -q "tracing" "$2" && return 0
		kill -0 "$1" 2>/dev/null || die "vmfit-stall exited: $(cat "$2")"
		sleep 0.1
	done
	die "vmfit-stall did not attach: $(cat "$2")"
}

note "vmfit-stall on $L ($DEVNO): JSON for $N snapshots, and a table until SIGINT"
vmfit-stall --json -c $N -b $BEFORE_MS -a $AFTER_MS "$L" \
	>"$TESTDIR/stall.json" 2>"$TESTDIR/stall.err" &
stall_pid=$!
vmfit-stall -b $BEFORE_MS -a $AFTER_MS "$DEVNO" \
	>"$TESTDIR/stall.txt" 2>"$TESTDIR/stall-txt.err" &
txt_pid=$!
wait_attached $stall_pid "$TESTDIR/stall.err"
wait_attached $txt_pid "$TESTDIR/stall-txt.err"

fio --name=stall --filename="$L" --direct=1 --ioengine=libaio --iodepth=1 \
	--bs=4k --rw=randwrite --size=16M --time_based --runtime=600 \
	--write_lat_log="$TESTDIR/fio" --log_unix_epoch=1 \
	--output="$TESTDIR/fio.out" &
fio_pid=$!
# Writes completed on the live device (field 5 of its sysfs stat): the
# first snapshot's window must hold fio's I/O, and on a loaded host fio can
# take seconds to start issuing it, so a fixed sleep is not enough.
STAT=/sys/dev/block/$DEVNO/stat
[ -r "$STAT" ] || die "no $STAT for $L"
for ((i = 0; i < 600; i++)); do
	(($(awk '{ print $5 }' "$STAT") >= 500)) && break
	kill -0 $fio_pid 2>/dev/null || die "fio exited: $(cat "$TESTDIR/fio.out")"
	sleep 0.1
done
(($(awk '{ print $5 }' "$STAT") >= 500)) || die "fio completed fewer than 500 writes in 60 s"
sleep 1

for ((s = 1; s <= N; s++)); do
	if ((s == N)); then
		note "suspend for $STALL_MS ms just before snapshot $s"
		dmsetup suspend "$(dm_name live)"
		sleep "$(awk -v m=$STALL_MS 'BEGIN { print m / 1000 }')"
		dmsetup resume "$(dm_name live)"
	fi
	note "snapshot $s"
	snapshot_ready live 60
	assert_eq "$s" "$ST_EPOCH" epoch
	sleep "$(awk -v m=$AFTER_MS 'BEGIN { print m / 1000 + 0.5 }')"
	dm_msg live merge
	wait_status live MODE normal 120
done

note "waiting for vmfit-stall to print $N records"
for ((i = 0; i < 300; i++)); do
	kill -0 $stall_pid 2>/dev/null || break
	sleep 0.1
done
kill -0 $stall_pid 2>/dev/null && die "vmfit-stall still running after $N snapshots"
wait $stall_pid || die "vmfit-stall failed: $(cat "$TESTDIR/stall.err")"
sleep 1		# the table instance closes the same windows a tick later
kill -INT $txt_pid
wait $txt_pid || die "vmfit-stall (table) failed on SIGINT: $(cat "$TESTDIR/stall-txt.err")"
# fio ends with status 128 on SIGINT, after writing its logs and report.
kill -INT $fio_pid
rc=0
wait $fio_pid || rc=$?
((rc == 0 || rc == 128)) || die "fio failed (rc $rc): $(cat "$TESTDIR/fio.out")"
grep -q "err= 0" "$TESTDIR/fio.out" || die "fio saw I/O errors: $(cat "$TESTDIR/fio.out")"
CLAT=$TESTDIR/fio_clat.1.log
[ -s "$CLAT" ] || die "fio wrote no completion latency log"
note "fio: $(wc -l <"$CLAT") completions logged"
sed 's/^/  stall: /' "$TESTDIR/stall.json"
sed 's/^/  table: /' "$TESTDIR/stall.txt"

assert_eq $N "$(wc -l <"$TESTDIR/stall.json")" "records (one per snapshot)"
assert_match '^DEV +EPOCH +HELD_ms +DRAIN_ms +IOS +MAXGAP_ms +GAP_AT_ms +LOST +FLAGS$' \
	"$(head -n 1 "$TESTDIR/stall.txt")" "table header"
assert_eq $N "$(grep -c "^$DEVNO " "$TESTDIR/stall.txt")" "table rows (one per snapshot)"
assert_eq $N "$(grep -c "usecs" "$TESTDIR/stall.txt")" "table histograms"

# jnum KEY LINE - a number (or null) field of a record.
jnum() {
	sed -n 's/.*"'"$1"'":\(-\{0,1\}[0-9][0-9]*\|null\)[,}].*/\1/p' <<<"$2"
}

s=0
while read -r rec; do
	s=$((s + 1))
	assert_match "^\{\"dev\":\"$DEVNO\",\"epoch\":$s," "$rec" "record $s: device and epoch"
	assert_match '"flags":\[\]' "$rec" "record $s: flags"
	assert_eq 0 "$(jnum lost "$rec")" "record $s: lost events"
	ready=$(jnum view_ready_ns "$rec")
	assert_match '^[0-9]+$' "$ready" "record $s: view ready"
	ios=$(jnum ios "$rec")
	assert_le 10 "$ios" "record $s: completions in the window"
	hsum=$(grep -o '"count":[0-9]*' <<<"$rec" | awk -F: '{ n += $2 } END { print n + 0 }')
	assert_eq "$ios" "$((hsum + $(jnum lat_unknown "$rec")))" \
		"record $s: histogram + unknown = completions"
	gap=$(jnum max_gap_ns "$rec")
	held=$(jnum held_ns "$rec")
	assert_match '^[0-9]+$' "$gap" "record $s: max gap"
	# held_ns is in ns; the assertion is in ms as the brief states it.
	assert_le "$((held / 1000000))" "$((gap / 1000000))" "record $s: gap (ms) >= held (ms)"

	# fio's longest gap over the same window, in wall-clock ms.
	t0=$(jnum begin_realtime_ns "$rec")
	lo=$(((t0 + $(jnum window_start_ns "$rec")) / 1000000))
	hi=$(((t0 + $(jnum window_end_ns "$rec")) / 1000000))
	fgap=$(awk -F, -v lo="$lo" -v hi="$hi" '
		$1 + 0 >= lo && $1 + 0 <= hi {
			if (n++ && $1 - prev > max)
				max = $1 - prev
			prev = $1
		}
		END { if (n < 2) exit 1; printf "%.0f\n", max }' "$CLAT") ||
		die "record $s: fio logged fewer than 2 completions in [$lo, $hi] ms"
	gap_ms=$(awk -v g="$gap" 'BEGIN { printf "%.3f", g / 1e6 }')
	note "snapshot $s: held $held ns, view ready after $ready ns, $ios completions, longest gap $gap_ms ms (fio: $fgap ms)"
	awk -v t="$gap_ms" -v f="$fgap" 'BEGIN {
		d = t - f; if (d < 0) d = -d
		tol = 0.25 * (t > f ? t : f); if (tol < 6) tol = 6
		exit !(d <= tol) }' ||
		die "record $s: vmfit-stall's gap $gap_ms ms and fio's $fgap ms differ by more than max(6 ms, 25 %)"
	if ((s == N)); then
		assert_le $((STALL_MS * 1000000)) "$gap" \
			"record $s: gap across the $STALL_MS ms suspend"
		gstart=$(jnum max_gap_start_ns "$rec")
		assert_le "$(jnum window_start_ns "$rec")" "$gstart" "record $s: gap inside the window"
		assert_le "$gstart" 0 "record $s: the suspend gap starts before the snapshot"
	fi

	# The table: the same snapshot, the same gap (its own probes, so
	# within a millisecond), no flags, a histogram.
	row=$(awk -v d="$DEVNO" -v e=$s '$1 == d && $2 == e' "$TESTDIR/stall.txt")
	[ -n "$row" ] || die "table: no row for epoch $s"
	read -r -a f <<<"$row"
	assert_eq 9 "${#f[@]}" "table: columns of '$row'"
	assert_eq - "${f[8]}" "table: flags of epoch $s"
	awk -v t="${f[5]}" -v j="$gap_ms" 'BEGIN { d = t - j; exit !(d <= 1 && d >= -1) }' ||
		die "table: gap ${f[5]} ms, JSON $gap_ms ms for epoch $s"
done <"$TESTDIR/stall.json"
