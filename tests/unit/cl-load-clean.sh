#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# cl_load_clean (tests/lib/cluster.sh), the cluster tests' check of their
# clients' summary, on made-up vmfit-bench summaries: a clean one passes;
# an error, a bad reply, an unfinished request, a wrong value or a
# summary without the verify line fails, quoting the line.
set -uo pipefail
. "$(dirname "$0")/../lib/unit.sh"
# cl_load_clean's status and message with CL_DIR=$tmp (expect_exit runs
# a command, not a function)
clean=(bash -c '. tests/lib/cluster.sh && CL_DIR=$0 && cl_load_clean "$@"' "$tmp")

summary() { # errors bad unfinished mismatches|none
	echo "load: 20 clients, 20.0 s: 12345 ops (617 ops/s)"
	echo "lost connections 0, failovers 0, timeouts 0, busy 0, errors $1, bad replies $2, unfinished $3"
	[ "$4" = none ] || echo "verify: 5000 reads checked, $4 mismatches"
}

summary 0 0 0 0 >"$tmp/load.log"
expect_exit 0 "" "${clean[@]}"
summary 0 0 0 0 >"$tmp/other.log"
summary 1 0 0 0 >"$tmp/load.log"
expect_exit 0 "" "${clean[@]}" other
for bad in "1 0 0 0" "0 1 0 0" "0 0 1 0"; do
	summary $bad >"$tmp/load.log"
	expect_exit 1 "FAIL: clients saw errors: lost connections" "${clean[@]}"
done
summary 0 0 0 3 >"$tmp/load.log"
expect_exit 1 "FAIL: clients saw a wrong value: verify: 5000 reads checked, 3 mismatches" "${clean[@]}"
summary 0 0 0 none >"$tmp/load.log"
expect_exit 1 "FAIL: clients saw a wrong value" "${clean[@]}"
unit_done
