#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The recovery benchmark's CPU accounting (tools/bench/recovery/cpu.sh):
# a window's CPU seconds per class from made-up samples (a vmfitd with a
# worker thread, a senior that ends, a shadow started after the trigger,
# corosync, vmfit-bench, and a process that is none of these), and one
# real sample that sees this test's own threads.
set -euo pipefail
. "$(dirname "$0")/../lib/unit.sh"
. tests/lib/rcvload.sh
. tools/bench/lib.sh
. tools/bench/recovery/cpu.sh
hz=$(bench_clk_tck)

# t pid tid ppid comm cs: cs is in hundredths of a second
sample() {
	echo "$1 $2 $3 $4 $5 $(($6 * hz / 100))"
}
{
	sample 1000 10 10 1 vmfitd 100
	sample 1000 10 11 1 vmfitd 50
	sample 1000 20 20 10 kv-hash 200
	sample 1000 30 30 1 corosync 10
	sample 1000 40 40 1 vmfit-bench 5
	sample 1000 50 50 1 bash 999
	sample 2000 10 10 1 vmfitd 150
	sample 2000 10 11 1 vmfitd 80
	sample 2000 20 20 10 kv-hash 260
	sample 2000 21 21 10 kv-sqlite 40
	sample 2000 30 30 1 corosync 30
	sample 2000 40 40 1 vmfit-bench 25
	sample 2000 50 50 1 bash 1999
	sample 3000 10 10 1 vmfitd 200
	sample 3000 10 11 1 vmfitd 100
	sample 3000 21 21 10 kv-sqlite 90
	sample 3000 30 30 1 corosync 50
	sample 3000 40 40 1 vmfit-bench 45
} >"$tmp/s"

expect() { # what want got
	if [ "$2" = "$3" ]; then
		echo "ok: $1"
	else
		fail "$1: got $3, want $2"
	fi
}
expect "whole window, trigger at 1500" \
	'{"managers": 1.00, "manager_workers": 0.50, "seniors": 0.60, "shadows": 0.90, "corosync": 0.40, "clients": 0.40}' \
	"$(cpu_json "$tmp/s" 1000 3000 1500)"
expect "no trigger: every replica is a senior" \
	'{"managers": 1.00, "manager_workers": 0.50, "seniors": 1.50, "shadows": 0.00, "corosync": 0.40, "clients": 0.40}' \
	"$(cpu_json "$tmp/s" 1000 3000)"
expect "the second half" \
	'{"managers": 0.50, "manager_workers": 0.20, "seniors": 0.00, "shadows": 0.90, "corosync": 0.20, "clients": 0.20}' \
	"$(cpu_json "$tmp/s" 2000 3000 1500)"
# A real sample: this shell's own thread, with its pid and comm.
n=$(cpu_sample | awk -v p=$$ '$2 == p && $3 == p && $5 == "bash"' | wc -l)
expect "a real sample holds this shell" 1 "$n"
# A thread that ends between the glob and the read: its stat file is gone
# (here a dangling link, which the glob still lists); the threads listed
# after it must stay in the sample (mawk, opening the files itself, stopped
# at the first one it could not open).
fake=$tmp/proc
for t in 100 150 200; do
	mkdir -p "$fake/$t/task/$t"
done
echo "100 (kv-hash) S 10 1 1 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0" >"$fake/100/task/100/stat"
ln -s "$fake/gone" "$fake/150/task/150/stat"
echo "200 (vmfit bench) S 1 1 1 0 -1 0 0 0 0 0 5 4 0 0 20 0 1 0" >"$fake/200/task/200/stat"
got=$(BENCH_PROC=$fake cpu_sample | cut -d' ' -f2-)
expect "a thread gone mid-sample loses no other" \
	"$(printf '100 100 10 kv-hash 10\n200 200 1 vmfit_bench 9')" "$got"
unit_done
