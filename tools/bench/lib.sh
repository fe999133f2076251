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
