#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# freeze-bench (tools/bench/freeze) on the host: bad command lines are
# rejected with a clear message, `report` turns records into JSON that jq
# reads back with the right numbers (and refuses malformed records), the
# load generator measures gaps on a regular file, and doc-section.sh
# replaces only its own section of a Markdown file.
set -uo pipefail
. "$(dirname "$0")/../lib/unit.sh"

bin=$TOP/build/bin/freeze-bench
splice=$TOP/tools/bench/freeze/doc-section.sh
need_built "$bin"
need_cmd jq

# expect_err RC PATTERN ARGS... - exit status RC and PATTERN on stderr.
expect_err() {
	local want=$1 pat=$2 rc
	shift 2
	"$bin" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" != "$want" ]; then
		fail "freeze-bench $*: exit $rc, want $want"
	elif ! grep -q -- "$pat" "$tmp/err"; then
		fail "freeze-bench $*: stderr lacks '$pat': $(cat "$tmp/err")"
	fi
}

expect_err 2 "Usage:"
expect_err 2 "unknown command 'frob'" frob
expect_err 2 "method is required" gaps --io-dev /dev/null
expect_err 2 "unknown method 'lvm'" gaps --method lvm
expect_err 2 "dev is required" gaps --method vmfit
expect_err 2 "cow is required" gaps --method classic --dev o
expect_err 2 "pool is required" snap --method thin --dev t
expect_err 2 "io-dev is required" gaps --method none
expect_err 2 "method none takes no snapshot" snap --method none --dev x
expect_err 2 "'0' is not a number" gaps --method none --io-dev x --count 0
expect_err 2 "'12ms' is not a number" gaps --method none --io-dev x --window-ms 12ms
expect_err 2 "'-3' is not a number" gaps --method none --io-dev x --depth -3
expect_err 2 "pre-ms must be shorter" gaps --method none --io-dev x --window-ms 100 --pre-ms 100
expect_err 2 "unexpected argument 'extra'" gaps --method none --io-dev x extra
expect_err 2 "need RECORDS" report --json "$tmp/x.json"
expect_err 2 "need RECORDS" report "$tmp/none"
expect_err 2 "exactly one DEVICE" fill
expect_err 1 "No such file" fill "$tmp/missing"
expect_err 1 "No such file" gaps --method none --io-dev "$tmp/missing" --count 1

# report: a small complete run.
cat >"$tmp/rec" <<'R'
# records as the guest writes them
meta kernel 6.1.0-56-amd64
meta rounds 2
snap none 0 0 -1 2000000 1000000 -1 -1 10
snap none 1 0 -1 3000000 1000000 -1 -1 10
snap vmfit 0 100000 -1 3300000 1000000 0 200000 10
snap classic 0 9000000 5000000 80000000 1000000 -1 -1 10
snap thin 0 7000000 7000000 50000000 1000000 -1 -1 10
iops raw 1 1000
iops raw 2 1100
iops linear 1 900
iops linear 2 990
iops vmfit 1 880
iops vmfit 2 990
iops classic 1 300
iops thin 1 400
fsync raw 1 800
fsync linear 1 720
fsync vmfit 1 600
fsync classic 1 200
fsync thin 1 160
fsync raw 2 1000
fsync linear 2 1000
fsync vmfit 2 900
meta fsync_number_ios 8000
meta loadavg_before 0.42
meta loadavg_after 1.75
meta forced 1
R
"$bin" report --json "$tmp/r.json" --md "$tmp/r.md" "$tmp/rec" ||
	fail "report on valid records failed"
check_json() { expect_jq "$tmp/r.json" "$@"; }
check_json '.baseline.gap_ms_max == 3' "baseline max gap"
check_json '.snapshot.vmfit.gap_ms_max == 3.3' "vmfit max gap"
check_json '.snapshot.vmfit.held_ns == [0]' "held_ns list"
check_json '.snapshot.classic.cmd_ms_median == 9' "classic command"
check_json '.snapshot.thin.pause_ms_max == 7' "thin pause"
check_json '.iops_ratio_to_raw.linear == 0.9' "linear ratio"
check_json '.iops_ratio_to_raw.classic == 0.3' "classic ratio"
check_json '.targets.vmfit_gap_to_baseline.met == true' "gap target"
check_json '.targets.held_ns_zero.met == true and .targets.held_ns_zero.of == 1' "held target, 1 of 1"
check_json '.targets.vmfit_iops_to_linear.ratio > 0.97' "vmfit/linear"
check_json '.kernel == "6.1.0-56-amd64" and .rounds == 2 and .date == null' "meta"
check_json '.failures == []' "no failures"
check_json '.fsync_iops_ratio_to_raw.linear == 0.95' "fsync linear ratio (median of 0.9, 1.0)"
check_json '.fsync_iops_ratio_to_raw.classic == 0.25 and .fsync_iops_ratio_to_raw.thin == 0.2' "fsync classic/thin ratios"
check_json '.fsync_iops_median.raw == 900' "fsync raw median"
check_json '.iops_ratio_to_raw.linear == 0.9' "plain ratios unchanged by fsync records"
check_json '.targets.vmfit_fsync_iops_to_linear.ratio == 0.867 and .targets.vmfit_fsync_iops_to_linear.met == true' "fsync target (median of 0.833, 0.9)"
check_json '.fsync_number_ios == 8000 and .loadavg_before == 0.42 and .loadavg_after == 1.75 and .forced == true' "load meta"
grep -q 'fsync every 8 writes >= 0.80x dm-linear: 0.87x, met' "$tmp/r.md" || fail "markdown: no fsync target line"
grep -q 'load average 0.42 before the run, 1.75 after it (\*\*forced' "$tmp/r.md" || fail "markdown: no forced-load note"
expect_err 1 "bad record" report --json "$tmp/b.json" <(printf 'fsync vmfit 1 0\n')
printf 'fsync vmfit 1 10\nfsync vmfit 1 20\n' >"$tmp/dup"
expect_err 1 "dup:2" report --json "$tmp/b.json" "$tmp/dup"
printf 'iops vmfit 1 10\nfsync vmfit 1 20\n' >"$tmp/both"
"$bin" report --json "$tmp/both.json" "$tmp/both" || fail "iops and fsync records of the same round rejected"
for bad in 'meta loadavg_before -1' 'meta loadavg_before 1.5x' 'meta forced 2' 'meta loadavg_after .5'; do
	echo "$bad" >"$tmp/badmeta"
	expect_err 1 "bad record" report --json "$tmp/b.json" "$tmp/badmeta"
done
grep -q '^<!-- freeze:begin -->$' "$tmp/r.md" || fail "markdown: no begin marker"

# Malformed records: a clear error with the line number, no output.
printf 'meta rounds 2\nsnap vmfit 0 1 -1 2 3 0 4\n' >"$tmp/bad"
rm -f "$tmp/b.json"
expect_err 1 "bad:2: bad record" report --json "$tmp/b.json" "$tmp/bad"
[ -e "$tmp/b.json" ] && fail "report wrote JSON from bad records"
expect_err 1 "No such file" report --json "$tmp/b.json" "$tmp/nothere"

# The load generator itself, on a regular file (no device-mapper here).
truncate -s 64M "$tmp/vol"
if "$bin" gaps --method none --io-dev "$tmp/vol" --count 2 --warmup-ms 100 \
	--window-ms 200 --pre-ms 50 --settle-ms 50 --out "$tmp/g" 2>"$tmp/err"; then
	n=$(grep -c '^snap none ' "$tmp/g")
	[ "$n" = 2 ] || fail "gaps: $n records, want 2"
	"$bin" report --json "$tmp/g.json" "$tmp/g" || fail "report of gaps"
	expect_jq "$tmp/g.json" \
		'.baseline.windows == 2 and .baseline.gap_ms_max > 0' \
		"gaps: the baseline in JSON"
	awk '$1 == "snap" && ($10 < 1 || $6 <= 0) { bad = 1 } END { exit bad }' \
		"$tmp/g" || fail "gaps: no completions or no gap: $(cat "$tmp/g")"
else
	fail "gaps on a regular file: $(cat "$tmp/err")"
fi

# doc-section.sh: create, replace in place, keep the rest.
doc=$tmp/bench.md
printf '<!-- freeze:begin -->\none\n<!-- freeze:end -->\n' >"$tmp/f1"
printf '<!-- freeze:begin -->\ntwo\nlines\n<!-- freeze:end -->\n' >"$tmp/f2"
"$splice" "$doc" "$tmp/f1" || fail "doc-section: create"
grep -q '^# Benchmarks' "$doc" || fail "doc-section: no introduction"
printf '\n<!-- other:begin -->\nkeep\n<!-- other:end -->\n' >>"$doc"
"$splice" "$doc" "$tmp/f2" || fail "doc-section: replace"
[ "$(grep -c 'freeze:begin' "$doc")" = 1 ] || fail "doc-section: duplicated block"
grep -q '^one$' "$doc" && fail "doc-section: old content left"
grep -q '^lines$' "$doc" || fail "doc-section: new content missing"
grep -q '^keep$' "$doc" || fail "doc-section: other section lost"
printf 'no markers\n' >"$tmp/f3"
"$splice" "$doc" "$tmp/f3" 2>/dev/null && fail "doc-section: accepted a fragment without markers"
printf '<!-- freeze:begin -->\n' >>"$doc"
"$splice" "$doc" "$tmp/f2" 2>/dev/null && fail "doc-section: accepted unbalanced markers"

unit_done
