#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The checks of tests/lib/cluster.sh that many cluster tests share, on
# made-up files, each in a shell of its own with CL_DIR=$tmp:
# - cl_load_clean: a clean vmfit-bench summary passes; an error, a bad
#   reply, an unfinished request, a wrong value or a summary without the
#   verify line fails, quoting the line;
# - cl_assert_no_round_timeout: a host log with a round aborted at its
#   timeout fails, naming the host; others pass;
# - cl_vmfitd_exits: a vmfitd gone that said why passes; one that did not
#   say it, or one still running at the deadline, fails.
set -uo pipefail
. "$(dirname "$0")/../lib/unit.sh"

# cl FUNCTION ARGS...: a command (expect_exit runs commands, not
# functions) that runs the cluster.sh function with CL_DIR=$tmp, CL_N=2
cl=(bash -c '. tests/lib/cluster.sh && CL_DIR=$0 && CL_N=2 && "$@"' "$tmp")

summary() { # errors bad unfinished mismatches|none
	echo "load: 20 clients, 20.0 s: 12345 ops (617 ops/s)"
	echo "lost connections 0, failovers 0, timeouts 0, busy 0, errors $1, bad replies $2, unfinished $3"
	[ "$4" = none ] || echo "verify: 5000 reads checked, $4 mismatches"
}

summary 0 0 0 0 >"$tmp/load.log"
expect_exit 0 "" "${cl[@]}" cl_load_clean
summary 0 0 0 0 >"$tmp/other.log"
summary 1 0 0 0 >"$tmp/load.log"
expect_exit 0 "" "${cl[@]}" cl_load_clean other
for bad in "1 0 0 0" "0 1 0 0" "0 0 1 0"; do
	summary $bad >"$tmp/load.log"
	expect_exit 1 "FAIL: clients saw errors: lost connections" "${cl[@]}" cl_load_clean
done
summary 0 0 0 3 >"$tmp/load.log"
expect_exit 1 "FAIL: clients saw a wrong value: verify: 5000 reads checked, 3 mismatches" "${cl[@]}" cl_load_clean
summary 0 0 0 none >"$tmp/load.log"
expect_exit 1 "FAIL: clients saw a wrong value" "${cl[@]}" cl_load_clean

mkdir -p "$tmp/h1" "$tmp/h2"
echo "recovery: round 3 done" >"$tmp/h1/vmfitd.log"
echo "recovery: round 3 aborted (member-left)" >"$tmp/h2/vmfitd.log"
expect_exit 0 "" "${cl[@]}" cl_assert_no_round_timeout
echo "recovery: round 4 aborted (timeout) in phase fetch" >>"$tmp/h2/vmfitd.log"
expect_exit 1 "host 2: a round ran into its timeout: recovery: round 4 aborted (timeout)" \
	"${cl[@]}" cl_assert_no_round_timeout
expect_exit 0 "" "${cl[@]}" cl_assert_no_round_timeout 1

true &
echo $! >"$tmp/h1/vmfitd.pid"
wait
echo "fatal: the shadow died before this manager had caught up" >"$tmp/h1/vmfitd.log"
expect_exit 0 "" "${cl[@]}" cl_vmfitd_exits 1 5 "the shadow died before"
expect_exit 1 "host 1: vmfitd exited without saying 'unknown fault'" \
	"${cl[@]}" cl_vmfitd_exits 1 5 "unknown fault"
sleep 30 &
echo $! >"$tmp/h1/vmfitd.pid"
at_exit "kill $! 2>/dev/null"
expect_exit 1 "host 1: vmfitd still runs after 1 s" \
	"${cl[@]}" cl_vmfitd_exits 1 1 "the shadow died before"
unit_done
