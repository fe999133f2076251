#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# tools/bench/freeze/run publishes only a full run: with FB_PARTS,
# FB_CONFIGS, FB_METHODS, FB_OUT or FB_QUICK set the results stay in the
# output directory and bench/results and benchmarks.md are left alone (a
# partial fsync run once replaced the published tables with n/a). Runs
# the real script in a copy of the tree's layout with a stub VM that
# writes fixed records, so nothing of the real tree is touched.
set -uo pipefail
. "$(dirname "$0")/../lib/unit.sh"

need_built build/bin/freeze-bench

t=$tmp/top
mkdir -p "$t/tools/bench/freeze" "$t/tools/vmtest" "$t/build/bin" \
	"$t/bench/results" "$t/Documentation" "$t/kmod"
cp "$TOP/tools/bench/freeze/run" "$TOP/tools/bench/freeze/doc-section.sh" \
	"$t/tools/bench/freeze/"
cp "$TOP/tools/bench/lib.sh" "$t/tools/bench/"
ln -s "$TOP/build/bin/freeze-bench" "$t/build/bin/freeze-bench"
cp "$TOP/Documentation/benchmarks.md" "$t/Documentation/"
echo '{"published": true}' >"$t/bench/results/freeze.json"
: >"$t/kmod/dm-vmfit.ko"
# The stub VM: fixed fsync records into --results, the guest succeeded.
cat >"$t/tools/vmtest/vmtest" <<'STUB'
#!/usr/bin/env bash
while [ $# -gt 0 ]; do
	[ "$1" = --results ] && res=$2
	shift
done
printf 'meta fsync_number_ios 8000\nfsync linear 1 3000\nfsync vmfit 1 2400\n' \
	>"$res/freeze.records"
echo 0 >"$res/guest.rc"
STUB
chmod +x "$t/tools/vmtest/vmtest"

sum() { md5sum "$t/bench/results/freeze.json" "$t/Documentation/benchmarks.md"; }
before=$(sum)

for v in FB_PARTS=fsync FB_CONFIGS=linear FB_METHODS=vmfit \
	 "FB_OUT=$tmp/out" FB_QUICK=1; do
	out=$(env FORCE=1 "$v" "$t/tools/bench/freeze/run" 2>&1)
	grep -q "is set: a partial run, not published" <<<"$out" ||
		fail "$v: no 'not published' line: $out"
	[ "$(sum)" = "$before" ] || fail "$v: the published results changed"
done
[ -s "$tmp/out/freeze.json" ] || fail "FB_OUT: no freeze.json in the output directory"

# A full run (nothing set) publishes: the test can fail both ways.
out=$(env FORCE=1 "$t/tools/bench/freeze/run" 2>&1)
grep -q "not published" <<<"$out" && fail "a full run said 'not published'"
[ "$(sum)" != "$before" ] || fail "a full run did not publish: $out"
expect_jq "$t/bench/results/freeze.json" '.fsync_number_ios == 8000' \
	"a full run's freeze.json has the records' figures"

unit_done
