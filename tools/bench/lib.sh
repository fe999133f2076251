# SPDX-License-Identifier: GPL-2.0-only
#
# tools/bench/lib.sh - pieces shared by the host side of the benchmarks
# (tools/bench/*/run). Source it; it sets no shell options.
#
# Publication gate: a benchmark run on a busy machine measures the other
# work, not ours. bench_gate refuses a run meant for publication (results
# in bench/results/, a section of Documentation/benchmarks.md) when the
# 1-minute load average before it is above BENCH_MAX_LOAD, unless FORCE=1;
# a forced run says so in its JSON and its report. Smoke runs (results in
# build/ only) are never refused.

# Above this 1-minute load average a benchmark is not published.
BENCH_MAX_LOAD=1.5

# bench_load1 - the 1-minute load average (a decimal number), from
# BENCH_LOADAVG (tests) or /proc/loadavg.
bench_load1() {
	cut -d" " -f1 "${BENCH_LOADAVG:-/proc/loadavg}"
}

# bench_gt A B - true when the decimal A > B.
bench_gt() {
	awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 > b + 0) }'
}

# bench_gate NAME PUBLISH - record the load average before the run in
# BENCH_LOAD_BEFORE and decide whether the run may go on. PUBLISH is 1
# for a run whose results would be published. Sets BENCH_FORCED to true
# when the load was too high and FORCE=1 overrode the gate, false
# otherwise; returns 1 (after saying why) when the run must not start.
bench_gate() {
	local name=$1 publish=$2

	BENCH_LOAD_BEFORE=$(bench_load1)
	BENCH_FORCED=false
	bench_gt "$BENCH_LOAD_BEFORE" "$BENCH_MAX_LOAD" || return 0
	if [ "${FORCE:-0}" = 1 ]; then
		BENCH_FORCED=true
		echo "$name: load average $BENCH_LOAD_BEFORE > $BENCH_MAX_LOAD: FORCE=1, measuring anyway (the report says so)" >&2
		return 0
	fi
	[ "$publish" = 1 ] || return 0
	echo "$name: load average $BENCH_LOAD_BEFORE > $BENCH_MAX_LOAD: refusing to publish results measured on a busy machine (wait, or FORCE=1)" >&2
	return 1
}

# Per-run gate (bench_run_gate): a benchmark of several runs checks before
# each run that other work does not take the cores. The load average
# cannot say it after the first run: it still holds the benchmark's own
# previous run for minutes. So this one measures what the machine's CPUs
# did in a short idle moment (/proc/stat) minus what the benchmark's own
# processes did (every process of its pid namespace), in CPUs.
BENCH_MAX_OTHER_CPU=0.3		# CPUs busy with other work, at most
BENCH_GATE_SECS=${BENCH_GATE_SECS:-5}	# one sample
BENCH_GATE_WAIT=${BENCH_GATE_WAIT:-60}	# then wait at most this long

# bench_clk_tck: clock ticks per second of /proc's CPU times (USER_HZ):
# getconf's, or 100, Linux's USER_HZ, where there is no getconf (the
# vmtest guest).
bench_clk_tck() {
	getconf CLK_TCK 2>/dev/null || echo 100
}

# bench_ticks: "<busy ticks of the machine> <ticks of the processes in
# /proc>" (clock ticks; BENCH_PROC instead of /proc for tests). A
# process's own CPU and that of its reaped children, so a process that
# ends in the window is counted once.
bench_ticks() {
	local busy proc=${BENCH_PROC:-/proc}
	# user nice system idle iowait irq softirq steal: all but idle, iowait
	busy=$(awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' "$proc/stat")
	awk -v b="$busy" 'FNR == 1 {
		s = $0
		sub(/^.*\) /, "", s)
		split(s, f, " ")
		# f[1] is field 3: utime 14, stime 15, cutime 16, cstime 17
		t += f[12] + f[13] + f[14] + f[15]
		nextfile
	} END { print b, t + 0 }' "$proc"/[0-9]*/stat 2>/dev/null
}

# bench_others_cpu SECS - the CPUs (a decimal number) that processes
# outside this pid namespace kept busy during the next SECS seconds.
# Only meaningful in a pid namespace of the benchmark's own processes
# with its own /proc (tests/lib/cluster.sh's cl_enter): refused (status
# 1) where kernel threads are visible, i.e. in the root namespace.
bench_others_cpu() {
	local a b v

	if grep -qs '^2 (kthreadd)' "${BENCH_PROC:-/proc}/2/stat"; then
		echo "bench_others_cpu: needs a pid namespace of its own (this /proc shows the whole machine)" >&2
		return 1
	fi
	a=$(bench_ticks)
	sleep "$1"
	b=$(bench_ticks)
	v=$(awk -v a="$a" -v b="$b" -v s="$1" -v hz="$(bench_clk_tck)" 'BEGIN {
		n = split(a, x, " ") + split(b, y, " ")
		if (n != 4 || s * hz <= 0)
			exit 1
		v = ((y[1] - x[1]) - (y[2] - x[2])) / (s * hz)
		printf "%.2f\n", (v < 0 ? 0 : v)
	}')
	if [[ ! "$v" =~ ^[0-9]+\.[0-9]+$ ]]; then
		echo "bench_others_cpu: cannot read the CPU times ('$a', '$b')" >&2
		return 1
	fi
	echo "$v"
}

# bench_run_gate NAME - before one run of a benchmark (its processes idle):
# sample the others' CPU (bench_others_cpu over BENCH_GATE_SECS) until it
# is at most BENCH_MAX_OTHER_CPU, for at most BENCH_GATE_WAIT seconds.
# Sets BENCH_RUN_OTHERS (the last sample), BENCH_RUN_LOAD (the 1-minute
# load average, which includes the benchmark's previous run: for the
# record only) and BENCH_RUN_HELD (true, or false when the wait ran out:
# the caller measures anyway and marks the run). Returns 1 only when it
# cannot measure.
bench_run_gate() {
	local name=$1 t0=$SECONDS

	BENCH_RUN_LOAD=$(bench_load1)
	BENCH_RUN_HELD=false
	while :; do
		BENCH_RUN_OTHERS=$(bench_others_cpu "$BENCH_GATE_SECS") || return 1
		if ! bench_gt "$BENCH_RUN_OTHERS" "$BENCH_MAX_OTHER_CPU"; then
			BENCH_RUN_HELD=true
			return 0
		fi
		if ((SECONDS - t0 >= BENCH_GATE_WAIT)); then
			echo "$name: other work kept $BENCH_RUN_OTHERS CPUs busy (more than $BENCH_MAX_OTHER_CPU) for ${BENCH_GATE_WAIT} s: measuring anyway, the run is marked" >&2
			return 0
		fi
		echo "$name: other work keeps $BENCH_RUN_OTHERS CPUs busy (more than $BENCH_MAX_OTHER_CPU): waiting" >&2
	done
}

# bench_gate_note - one Markdown sentence about the load, for the reports:
# uses BENCH_LOAD_BEFORE, BENCH_LOAD_AFTER and BENCH_FORCED.
bench_gate_note() {
	local s="1-minute load average ${BENCH_LOAD_BEFORE:-?} before the run, ${BENCH_LOAD_AFTER:-?} after it"

	if [ "${BENCH_FORCED:-false}" = true ]; then
		s+=" (**forced with FORCE=1 above the publication limit of $BENCH_MAX_LOAD: other work competed for the cores, the figures are not trustworthy**)"
	fi
	echo "$s."
}

# bench_size SPEC - SPEC ("512M", "16G", "1T", or bytes) in bytes, on
# stdout; a clear message and status 1 for anything else (zero, junk,
# fractions, overflow).
bench_size() {
	local s=$1 n u

	if [[ ! "$s" =~ ^([0-9]+)([KkMmGgTt]?)$ ]]; then
		echo "bad size '$s': want a whole number with an optional K, M, G or T suffix (binary)" >&2
		return 1
	fi
	n=${BASH_REMATCH[1]}
	u=${BASH_REMATCH[2]}
	# At most 16 digits: no 64-bit overflow below, even times 2^40.
	if ((${#n} > 16)) || ((10#$n == 0)); then
		echo "bad size '$s': must be between 1 byte and 16 PiB" >&2
		return 1
	fi
	n=$((10#$n))
	case "$u" in
	K | k) n=$((n << 10)) ;;
	M | m) n=$((n << 20)) ;;
	G | g) n=$((n << 30)) ;;
	T | t) n=$((n << 40)) ;;
	esac
	if ((n <= 0 || n > (1 << 54))); then
		echo "bad size '$s': must be between 1 byte and 16 PiB" >&2
		return 1
	fi
	echo "$n"
}

# bench_count SPEC - a non-negative whole number (no sign, no junk).
bench_count() {
	if [[ ! "$1" =~ ^[0-9]{1,12}$ ]]; then
		echo "bad count '$1': want a whole number >= 0" >&2
		return 1
	fi
	echo $((10#$1))
}
