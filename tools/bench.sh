#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# tools/bench.sh [NAME...] - `make bench`: run every benchmark
# tools/bench/<name>/run (or only the NAMEs given, e.g.
# `make bench BENCH=freeze`), each of which writes
# bench/results/<name>.json and its section of Documentation/benchmarks.md.
# A failing benchmark does not stop the others; the exit status is non-zero
# if any failed, and a summary is printed at the end.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

all=()
for r in tools/bench/*/run; do
	[ -x "$r" ] && all+=("$(basename "$(dirname "$r")")")
done

if (($#)); then
	names=()
	for n in "$@"; do
		[ -x "tools/bench/$n/run" ] || {
			echo "bench: no benchmark '$n' (have: ${all[*]:-none})" >&2
			exit 2
		}
		names+=("$n")
	done
else
	names=("${all[@]}")
fi
((${#names[@]})) || { echo "bench: no benchmarks in tools/bench/*/run" >&2; exit 2; }

summary=()
failed=0
for n in "${names[@]}"; do
	echo "==== bench: $n"
	t0=$SECONDS
	"tools/bench/$n/run"
	rc=$?
	t=$((SECONDS - t0))
	if ((rc == 0)); then
		summary+=("$(printf 'ok   %-20s %5ss  bench/results/%s.json' "$n" "$t" "$n")")
	else
		summary+=("$(printf 'FAIL %-20s %5ss  (exit %s)' "$n" "$t" "$rc")")
		failed=$((failed + 1))
	fi
done
echo "==== bench summary"
printf '%s\n' "${summary[@]}"
echo "$((${#names[@]} - failed)) ok, $failed failed"
((failed == 0))
