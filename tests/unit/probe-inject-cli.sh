#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The command lines of vmfit-probe --get/--put and vmfit-inject (test
# tools of the cluster tests): every bad input is rejected with a clear
# message and status 2 before anything is sent; a server that is not there
# is reported, not hung on. (What they send: tests/cluster/partition,
# restart-managers, forged-votes.)
set -euo pipefail
. "$(dirname "$0")/../lib/unit.sh"

probe=build/bin/vmfit-probe
inject=build/bin/vmfit-inject
need_built "$probe" "$inject"

# reject TEXT CMD...: CMD must exit 2 and print TEXT.
reject() {
	expect_exit 2 "$@"
}

srv=(--server 127.0.0.1:9)
reject "expected --get KEY, got 'x'" "$probe" "${srv[@]}" --get x
reject "expected --get KEY, got '1='" "$probe" "${srv[@]}" --get 1=
reject "expected --get KEY, got '4294967296'" "$probe" "${srv[@]}" --get 4294967296
reject "expected --put KEY=VALUE, got '7'" "$probe" "${srv[@]}" --put 7
reject "expected --put KEY=VALUE, got '=v'" "$probe" "${srv[@]}" --put =v
reject "no CASE with --get/--put" "$probe" "${srv[@]}" --get 1 magic
reject "cannot encode the kv op" "$probe" "${srv[@]}" --put "1=$(printf 'v%.0s' {1..300})"
reject "--server is required" "$probe" --get 1

reject "Usage: vmfit-inject" "$inject"
reject "Usage: vmfit-inject" "$inject" --group g
reject "Usage: vmfit-inject" "$inject" --type votes
reject "unknown --type 'bogus'" "$inject" --group g --type bogus
reject "'x' is not a number" "$inject" --group g --type votes --order x
reject "'-1' is not a number" "$inject" --group g --type votes --last-order -1
reject "Usage: vmfit-inject" "$inject" --group g --type votes extra
reject "Usage: vmfit-inject" "$inject" --group "$(printf 'g%.0s' {1..128})" --type votes

# Nothing listens on port 9 (discard) here: one line, status 1, no hang.
rc=0
out=$(timeout 10 "$probe" "${srv[@]}" --timeout 500 --get 1 2>&1) || rc=$?
if ((rc != 1)) || [[ "$out" != CONNECT-FAILED* ]]; then
	fail "probe to a closed port: rc $rc, got: $out"
else
	echo "ok: closed port -> $out"
fi
# No corosync here: vmfit-inject says so and fails.
expect_exit 1 "is corosync running?" timeout 10 "$inject" --group g --type votes

unit_done
