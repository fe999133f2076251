#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench-timeline: vmfit-bench's timeline files against a real service (one
# host, vmfitd --unreplicated, kv-hash):
#
#  1. --fill writes every record exactly once (ops = records, timeline sum
#     = ops) and a --sweep afterwards finds every record (not_found 0);
#  2. a timed run with --timeline, --per-second and --window: the 10 ms
#     timeline sums to timeline_ops, at most one request per client short
#     of "ops" (the drain after the end); the per-second file sums to the
#     same; --analyze of the written file reports the run's own longest
#     gap, window gap and throughput; an unwritable --timeline fails the
#     run (status 1) with the path named.
. "$(dirname "$0")/../lib/cluster.sh"
cl_enter "$@"

export CL_RECORDS=600 CL_RECORD_SIZE=120
cl_up_unreplicated
B=$VMFIT_BIN/vmfit-bench
srv=(--servers "$(cl_addr 1):$CL_PORT")

# sum FILE: the ops column (2) of a timeline file.
sum() {
	awk -F, '!/^#/ { s += $2 } END { print s + 0 }' "$1"
}

# 1. --fill, then --sweep
"$B" "${srv[@]}" --clients 20 --records 600 --record-size 120 --fill \
	--timeline "$CL_DIR/fill.csv" --json --quiet >"$CL_DIR/fill.json" ||
	cl_die "--fill failed: $(cat "$CL_DIR/fill.json")"
cl_assert_json "$CL_DIR/fill.json" ops -eq 600
cl_assert_json "$CL_DIR/fill.json" writes -eq 600
cl_assert_eq "fill: timeline sum" 600 "$(sum "$CL_DIR/fill.csv")"
cl_assert_json "$CL_DIR/fill.json" timeline_ops -eq 600
"$B" "${srv[@]}" --clients 20 --records 600 --sweep --json --quiet \
	>"$CL_DIR/sweep.json" || cl_die "--sweep failed"
cl_assert_json "$CL_DIR/sweep.json" reads -eq 600
cl_assert_json "$CL_DIR/sweep.json" not_found -eq 0

# 2. a timed run
clients=50
"$B" "${srv[@]}" --clients $clients --records 600 --record-size 120 \
	--duration 3 --timeline "$CL_DIR/run.csv" \
	--per-second "$CL_DIR/run-1s.csv" --window 1:2 --json --quiet \
	>"$CL_DIR/run.json" || cl_die "the timed run failed"
j=$CL_DIR/run.json
ops=$(cl_json "$j" ops)
tops=$(cl_json "$j" timeline_ops)
cl_assert_eq "timeline sum = timeline_ops" "$tops" "$(sum "$CL_DIR/run.csv")"
cl_assert_eq "per-second sum = timeline_ops" "$tops" "$(sum "$CL_DIR/run-1s.csv")"
((tops > 0 && tops <= ops && ops - tops <= clients)) ||
	cl_die "timeline_ops $tops vs ops $ops ($clients clients)"
# One row per 10 ms bucket up to the end of the measurement (3 s, and
# however late a loaded machine noticed it).
end_us=$(sed -n 's/^#bucket_us=10000 end_us=\([0-9]*\)$/\1/p' "$CL_DIR/run.csv")
[ -n "$end_us" ] && ((end_us >= 3000000)) || cl_die "run.csv: no #bucket_us=10000 line with an end >= 3 s"
cl_assert_eq "rows of run.csv" $(((end_us + 9999) / 10000)) "$(grep -vc '^#' "$CL_DIR/run.csv")"
# Per second: every second a bucket starts in (3 s and a few us: the
# bucket holding the end opens a 4th, partial second).
cl_assert_eq "rows of run-1s.csv" $((((end_us + 9999) / 10000 * 10000 + 999999) / 1000000)) \
	"$(grep -vc '^#' "$CL_DIR/run-1s.csv")"

"$B" --analyze "$CL_DIR/run.csv" --window 1:2 --json >"$CL_DIR/analyze.json" ||
	cl_die "--analyze failed"
a=$CL_DIR/analyze.json
for k in longest_gap_ms longest_gap_at_s window_gap_ms window_throughput_ops_s \
	throughput_ops_s; do
	cl_assert_eq "--analyze $k = the run's" "$(cl_json "$j" "$k")" "$(cl_json "$a" "$k")"
done
cl_assert_json "$a" ops -eq "$tops"
# Some gap exists and lies inside the run.
awk -v g="$(cl_json "$j" longest_gap_ms)" -v at="$(cl_json "$j" longest_gap_at_s)" \
	'BEGIN { exit !(g > 0 && at >= 0 && at < 3.1) }' ||
	cl_die "longest gap $(cl_json "$j" longest_gap_ms) ms at $(cl_json "$j" longest_gap_at_s) s"
cl_log "run: $ops ops, timeline $tops, longest gap $(cl_json "$j" longest_gap_ms) ms, window 1-2 s: $(cl_json "$j" window_throughput_ops_s) ops/s, gap $(cl_json "$j" window_gap_ms) ms"

# An unwritable timeline fails the run, naming the path.
rc=0
out=$("$B" "${srv[@]}" --clients 5 --records 600 --duration 0.3 --quiet \
	--timeline "$CL_DIR/no/such/dir/t.csv" 2>&1) || rc=$?
cl_assert_eq "unwritable --timeline: status" 1 "$rc"
grep -qF "$CL_DIR/no/such/dir/t.csv: No such file or directory" <<<"$out" ||
	cl_die "unwritable --timeline: got: $out"
cl_log "PASS"
