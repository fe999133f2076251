#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vmfit-bench's timeline options (--timeline, --per-second, --window,
# --analyze, --fill): every bad argument is refused with a clear message
# and status 2 before anything runs; --analyze refuses a missing, foreign
# or malformed file with status 1 and reads a good one. (A run that writes
# the files: tests/cluster/bench-timeline.sh.)
set -euo pipefail
. "$(dirname "$0")/../lib/unit.sh"

bench=build/bin/vmfit-bench
need_built "$bench"

srv=(--servers 127.0.0.1:9)
expect_exit 2 "--window: '5' is not FROM:TO" "$bench" "${srv[@]}" --window 5
expect_exit 2 "--window: '3' is not FROM:TO" "$bench" "${srv[@]}" --window 5:3
expect_exit 2 "--window: '5' is not FROM:TO" "$bench" "${srv[@]}" --window 5:5
expect_exit 2 "--window: 'a:b' is not FROM:TO" "$bench" "${srv[@]}" --window a:b
expect_exit 2 "--window: '-1:2' is not FROM:TO" "$bench" "${srv[@]}" --window -1:2
expect_exit 2 "--window: '2x' is not FROM:TO" "$bench" "${srv[@]}" --window 1:2x
expect_exit 2 "--fill writes every record once: it cannot be combined" \
	"$bench" "${srv[@]}" --fill --verify
expect_exit 2 "--fill writes every record once: it cannot be combined" \
	"$bench" "${srv[@]}" --fill --sweep
expect_exit 2 "--timeline and --per-second name the same file 'x.csv'" \
	"$bench" "${srv[@]}" --timeline x.csv --per-second x.csv
expect_exit 2 "--analyze reads a timeline: it takes no --servers" \
	"$bench" "${srv[@]}" --analyze x.csv
expect_exit 2 "--analyze reads a timeline: it takes no --servers" \
	"$bench" --analyze x.csv --timeline y.csv
expect_exit 2 "option '--timeline' requires an argument" "$bench" "${srv[@]}" --timeline
expect_exit 2 "--servers is required" "$bench" --timeline x.csv

expect_exit 1 "$tmp/none.csv: No such file or directory" "$bench" --analyze "$tmp/none.csv"
printf 'hello\n' >"$tmp/foreign.csv"
expect_exit 1 "not a vmfit-bench timeline (no #bucket_us line)" "$bench" --analyze "$tmp/foreign.csv"
printf '#bucket_us=10000 end_us=30000\n0.000,1,100,0,0.001,0.001\n0.010,2,200,0,0.019,0.011\n' >"$tmp/bad.csv"
expect_exit 1 "$tmp/bad.csv:3: malformed timeline line" "$bench" --analyze "$tmp/bad.csv"

# A good file: 1 ms steps, a 45 ms hole from 9 ms to 54 ms, the end at 100 ms.
{
	echo "#bucket_us=10000 end_us=100000"
	echo "0.000,10,1000,0,0.000000,0.009000"
	for t in 0.010 0.020 0.030 0.040; do echo "$t,0,0,0,,"; done
	echo "0.050,6,600,0,0.054000,0.059000"
	for t in 0.060 0.070 0.080 0.090; do echo "$t,10,1000,0,${t}000,${t%0}9000"; done
} >"$tmp/good.csv"
expect_exit 0 '"longest_gap_ms": 45.000' "$bench" --analyze "$tmp/good.csv" --json
expect_exit 0 '"longest_gap_at_s": 0.009000' "$bench" --analyze "$tmp/good.csv" --json
expect_exit 0 '"ops": 56' "$bench" --analyze "$tmp/good.csv" --json
expect_exit 0 '"window_gap_ms": 1.000' "$bench" --analyze "$tmp/good.csv" --json --window 0.06:0.1
expect_exit 0 '"window_throughput_ops_s": 1000.0' "$bench" --analyze "$tmp/good.csv" --json --window 0.06:0.1
expect_exit 0 "longest interval without a completion: 45.0 ms from 0.009 s" \
	"$bench" --analyze "$tmp/good.csv"

unit_done
