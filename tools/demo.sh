#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# tools/demo.sh - `make demo`: the replicated key-value service on three
# hosts in network namespaces, under 500 emulated clients, with one
# proactive recovery in the middle.
#
#  1. Three hosts (tests/lib/cluster.sh: network namespaces on a private
#     bridge, real corosync, one vmfitd each, f = 1), kv-hash replicas on
#     file state volumes. 500 emulated clients (tools/vmfit-bench,
#     --verify: every read is checked against the last acknowledged
#     write) load it for DEMO_SECONDS (default 60).
#  2. Half-way, one proactive recovery round through host 1's control
#     socket (`vmfit-ctl recover --wait`): every host starts a fresh
#     shadow replica, captures the senior's state at the same point of
#     the order, verifies it chunk by chunk across the hosts and hands
#     over (tests/lib/rcvload.sh). A build without the recovery protocol
#     says so and runs the load alone.
#  3. A table: throughput before, during and after the recovery, the
#     longest interval without a completed request, the recovery's
#     phases, timings and bytes; PNG plots of the throughput per second
#     and per 10 ms around the recovery (the paper's Figures 3 and 4).
#
# Everything runs inside a private mount/network/PID namespace and is gone
# when the demo ends; results stay in build/demo/.
#
# Environment: DEMO_SECONDS (60), DEMO_CLIENTS (500), DEMO_WRITE_RATIO (0.5),
# DEMO_RECORDS (10000), DEMO_RECORD_SIZE (128), DEMO_SHADOW (the shadows'
# program, default kv-hash; kv-sqlite shows a heterogeneous hand-over: the
# shadows restore the abstract state, and the service then runs at
# kv-sqlite's speed, about a third of kv-hash's here).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
export CL_DIR=${CL_DIR:-$top/build/demo}
export CL_NAME=demo
. "$top/tests/lib/cluster.sh"
. "$top/tests/lib/rcvload.sh"

secs=${DEMO_SECONDS:-60}
clients=${DEMO_CLIENTS:-500}
wr=${DEMO_WRITE_RATIO:-0.5}
records=${DEMO_RECORDS:-10000}
rsize=${DEMO_RECORD_SIZE:-128}
shadow=${DEMO_SHADOW:-kv-hash}

for b in vmfitd vmfit-ctl kv-hash "$shadow" vmfit-bench; do
	[ -x "$VMFIT_BIN/$b" ] || {
		echo "demo: $VMFIT_BIN/$b is missing: run 'make demo' (it builds first)" >&2
		exit 1
	}
done
command -v gnuplot >/dev/null || { echo "demo: gnuplot is missing: run 'make deps'" >&2; exit 1; }
[[ "$secs" =~ ^[0-9]+$ ]] && ((secs >= 10)) ||
	{ echo "demo: DEMO_SECONDS must be a whole number >= 10, not '$secs'" >&2; exit 1; }
if [ -z "${VMFIT_CLUSTER_INNER:-}" ]; then
	echo "demo: 3 hosts, $clients clients, ${secs} s, one proactive recovery half-way; results in $CL_DIR"
fi
cl_enter "$@"

CL_RECORDS=$records
CL_RECORD_SIZE=$rsize
have_rcv=0
if rl_available; then
	have_rcv=1
	rl_conf "$shadow"
else
	cl_log "recovery not available in this build: $RL_WHY"
fi
load=(--clients "$clients" --records "$records" --record-size "$rsize"
	--write-ratio "$wr" --duration "$secs" --timeout 10000)
((records >= clients)) && load+=(--verify)

cl_log "1/3: 3 hosts (f = 1), kv-hash replicas, $clients clients for $secs s"
cl_up 3
((have_rcv)) && rl_check_up
rl_load_start run "${load[@]}"
sleep $((secs / 2))
rcv_ok=0
if ((have_rcv)); then
	cl_log "2/3: proactive recovery through host 1 (kv-hash -> $shadow shadows)"
	if rl_recover run; then
		rcv_ok=1
		# vmfit-ctl's last line: host 1's status (rcv_last_ms) may
		# not show this round yet.
		cl_log "recovery done: $(tail -n 1 "$CL_DIR/run-recovery.log" | cut -d' ' -f1) s from trigger to the end of the round"
	else
		cl_log "recovery FAILED: $RL_RESULT (see $CL_DIR/run-recovery.log, h*/vmfitd.log)"
	fi
else
	cl_log "2/3: no recovery: not available in this build"
fi
rl_load_wait $((secs + 180))
load_rc=$?

cl_log "3/3: results"
j=$CL_DIR/run.json
[ -s "$j" ] || cl_die "vmfit-bench wrote no summary (see $CL_DIR/run.log)"
((rcv_ok)) && rl_windows run
title="vmfit demo: 3 hosts, $clients clients"
rl_plots run "$title" || cl_log "warning: gnuplot failed, no plots"

ms() { awk -v u="$1" 'BEGIN { printf "%.2f", u / 1000 }'; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
row() { # label from to "rate gap at"
	local rate gap
	read -r rate gap _ <<<"$4"
	printf '  %-18s %6.1f-%-6.1f s %14.0f %18s\n' "$1" "$2" "$3" "$rate" "$gap"
}
# report: the table, from the run's files and the hosts' status.
report() {
	echo "vmfit demo: 3 hosts (f = 1), $clients clients, ${secs} s, write ratio $wr, $records records of $rsize bytes"
	printf '  %-18s %15s %14s %18s\n' "" "window" "throughput/s" "longest gap (ms)"
	if ((rcv_ok)); then
		row "before recovery" 0 "$RL_T_TRIG" "$RL_BEFORE"
		row "during recovery" "$RL_T_TRIG" "$RL_T_HAND" "$RL_DURING"
		row "after recovery" "$RL_T_HAND" "$RL_T_END" "$RL_AFTER"
	fi
	printf '  %-18s %6.1f-%-6.1f s %14.0f %18s\n' "whole run" 0 "$(cl_json "$j" duration_s)" \
		"$(cl_json "$j" throughput_ops_s)" "$(cl_json "$j" longest_gap_ms)"
	echo "  latency p50 $(ms "$(cl_json "$j" p50)") ms, p99 $(ms "$(cl_json "$j" p99)") ms;" \
		"wrong answers (--verify): $(cl_json "$j" verify_mismatches); unfinished: $(cl_json "$j" unfinished)"
	if ((rcv_ok)); then
		read -r gap at <<<"$RL_GAP"
		echo "recovery: done, $(cl_stat 1 rcv_last_ms) ms from trigger to hand-over;" \
			"capture (checkpoint + snapshot) $(cl_stat 1 rcv_capture_ms) ms"
		echo "  longest interval without a completed request from the trigger to 1 s after the hand-over: $gap ms (from $at s)"
		echo "  phases seen by vmfit-ctl (200 ms resolution):" \
			"$(awk '{ printf "%s%s %.1f-%.1f s", (NR > 1 ? ", " : ""), $1, $2, $3 }' "$CL_DIR/run-phases.txt")"
		echo "  host 1: $(cl_stat 1 rcv_chunks) chunks, $(cl_stat 1 rcv_hashed) hashed ($(mib "$(cl_stat 1 rcv_bytes_hashed)")," \
			"full round: $(cl_stat 1 rcv_full)), $(cl_stat 1 rcv_verified) verified, $(cl_stat 1 rcv_repaired) repaired," \
			"$(cl_stat 1 rcv_copied) copied ($(mib "$(cl_stat 1 rcv_bytes_copied)")), sent to peers $(mib "$(cl_stat 1 rcv_bytes_served)")"
		for i in 1 2 3; do
			echo "  host $i: replica now on $(basename "$(cl_stat "$i" rcv_volume)"), rounds done $(cl_stat "$i" rcv_done), aborted $(cl_stat "$i" rcv_aborted)"
		done
	elif ((have_rcv)); then
		echo "recovery: FAILED: $RL_RESULT"
	else
		echo "recovery: not available in this build ($RL_WHY)"
	fi
	echo "plots: $CL_DIR/run-per-second.png, $CL_DIR/run-10ms.png"
	echo "details: $CL_DIR/: result.txt, run.{json,csv,log}, run-1s.csv, run-recovery.log, h*/vmfitd.log"
}
report >"$CL_DIR/result.txt"
cl_down
echo
cat "$CL_DIR/result.txt"
((load_rc == 0)) || cl_die "vmfit-bench failed (status $load_rc): see $CL_DIR/run.log"
((have_rcv == 0 || rcv_ok)) || exit 1
exit 0
