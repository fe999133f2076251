# SPDX-License-Identifier: GPL-2.0-only
#
# tests/lib/crash.sh - crash-state testing of dm-vmfit with dm-log-writes
# (Documentation/crash-testing.rst). Source after aux.sh.
#
# crash_workload WORKLOAD CHUNK ORIGIN_MB COW_MB
#	Origin and cow are linear segments of ONE log-writes device over
#	DISK_A (log on DISK_B), so one log orders every write and flush of
#	both. vmfit-crash runs WORKLOAD on the vmfit device with a mark at
#	every acknowledged fsync/FUA write and records the oracle; then
#	vmfit-replay rebuilds the data device at CRASH_MARKS marks and
#	CRASH_RANDOM random points (a random subset of the unflushed writes
#	applied) in a tmpfs image, and vmfit-crash check loads each state on
#	two loop devices (offset, size limit) and checks it. Fails on any
#	violation; the seed (VMFIT_CRASH_SEED to force one) and the command
#	reproducing each failed state are in the log.
#
# Bounded for `make check`; VMFIT_STRESS=1 (`make stress`) checks every
# mark and thousands of random points (raise VMFIT_KMOD_TIMEOUT).

if [ "${VMFIT_STRESS:-0}" = 1 ]; then
	CRASH_STEPS=${CRASH_STEPS:-120}
	CRASH_MARKS=${CRASH_MARKS:-0}		# 0: every mark
	CRASH_RANDOM=${CRASH_RANDOM:-2000}
else
	CRASH_STEPS=${CRASH_STEPS:-24}
	CRASH_MARKS=${CRASH_MARKS:-8}
	CRASH_RANDOM=${CRASH_RANDOM:-12}
fi

crash_seed() {
	if [ -n "${VMFIT_CRASH_SEED:-}" ]; then
		echo "$VMFIT_CRASH_SEED"
	else
		od -An -N4 -tu4 /dev/urandom | tr -d ' '
	fi
}

# crash_save WORKLOAD LOG INFO - keep the log (the part in use) and the
# oracle of a failed run next to the test's log, for vmfit-replay --only.
crash_save() {
	local base bytes
	[ -n "${VMTEST_RESULTS:-}" ] || return 0
	base=$VMTEST_RESULTS/${VMTEST_NAME:-crash}.$1
	bytes=$(sed -n 's/.* log_bytes \([0-9]*\).*/\1/p' <<<"$3")
	[ -n "$bytes" ] || return 0
	dd if="$2" of="$base.lwlog" bs=1M iflag=count_bytes count="$bytes" \
		2>/dev/null || return 0
	cp "$TESTDIR/oracle.$1" "$base.oracle"
	note "saved $base.lwlog and $base.oracle (vmfit-replay run $base.lwlog --only K ...)"
}

# crash_failures OUT - from the output OUT of `vmfit-replay run`, what a
# failed state showed: its header, the mode it loaded in and the first
# VIOLATION (or set-up error) lines, in at most CRASH_SHOWN lines. CI shows
# a failed test's last lines only: the cause has to be among them.
CRASH_SHOWN=${CRASH_SHOWN:-14}
crash_failures() {
	awk -v max="$CRASH_SHOWN" '
	/^state [0-9]+: (mark|random)/ { n = 0; hdr = $0; next }
	/^state [0-9]+: FAILED$/ {
		if (shown < max) { print "  " hdr; shown++ }
		for (i = 0; i < n && shown < max; i++) { print "    " buf[i]; shown++ }
		next
	}
	/^  \[/ || /^vmfit-crash: mark / { next }
	hdr != "" && n < max { buf[n++] = $0 }
	' "$1"
}

# crash_first_violation OUT - the first VIOLATION line (or vmfit-crash
# error) of the first failed state, for the die message.
crash_first_violation() {
	crash_failures "$1" | sed -n 's/^    \(VIOLATION: .*\|vmfit-crash: .*\)/\1/p' |
		head -n 1
}

crash_workload() {
	local wl=$1 chunk=$2 osz=$(($3 * 2048)) csz=$(($4 * 2048))
	local sz seed log=$DISK_B img=$TESTDIR/state.img lo lc rc=0 out
	sz=$((osz + csz))
	seed=$(crash_seed)
	note "crash $wl: chunk $chunk sectors, origin $3 MiB, cow $4 MiB, seed $seed"
	zero_dev "$DISK_A" 0 "$sz"
	zero_dev "$log" 0 8
	dm_create lw "0 $sz log-writes $DISK_A $log"
	dm_create origin "0 $osz linear $(dm_path lw) 0"
	dm_create cow "0 $csz linear $(dm_path lw) $osz"
	vmfit_create live "$(dm_path origin)" "$(dm_path cow)" "$chunk"
	vmfit-crash run "$wl" --live "$(dm_name live)" --log "$(dm_name lw)" \
		--oracle "$TESTDIR/oracle.$wl" --seed "$seed" \
		--steps "$CRASH_STEPS" || die "workload $wl failed (seed $seed)"
	dm_remove live
	dm_remove cow
	dm_remove origin
	dm_remove lw
	out=$(vmfit-replay info "$log") || die "cannot read the log: $out"
	echo "$out"
	rm -f "$img"
	truncate -s $((sz * SECTOR)) "$img"
	lo=$(losetup -f --show --sizelimit $((osz * SECTOR)) "$img")
	_loops+=("$lo")
	lc=$(losetup -f --show -o $((osz * SECTOR)) --sizelimit $((csz * SECTOR)) "$img")
	_loops+=("$lc")
	vmfit-replay run "$log" --size $((sz * SECTOR)) --image "$img" \
		--seed "$seed" --marks "$CRASH_MARKS" --random "$CRASH_RANDOM" \
		--mark-prefix vmfit- \
		--exec "vmfit-crash check --oracle $TESTDIR/oracle.$wl --mark \"\$REPLAY_MARK\" --origin $lo --cow $lc --chunk $chunk --name ${PREFIX}chk || { dmesg | tail -n 5; exit 1; }" \
		2>&1 | tee "$TESTDIR/replay.$wl" || rc=$?
	losetup -d "$lc" "$lo"
	_loops=("${_loops[@]:0:${#_loops[@]}-2}")
	rm -f "$img"
	if ((rc != 0)); then
		crash_save "$wl" "$log" "$out"
		note "crash $wl: failed states (workload and replay seed $seed, chunk $chunk, $CRASH_MARKS marks, $CRASH_RANDOM random points):"
		out=$(crash_failures "$TESTDIR/replay.$wl")
		# No failed state: the replay itself failed (bad log, I/O).
		[ -n "$out" ] || out=$(tail -n 5 "$TESTDIR/replay.$wl")
		echo "$out"
		die "crash states of workload $wl fail their checks (seed $seed): $(crash_first_violation "$TESTDIR/replay.$wl")"
	fi
	note "crash $wl: every state passed"
}
