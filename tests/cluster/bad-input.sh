#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bad-input: 3 hosts (f = 1).
#
# Part 1, clients: while a well-behaved vmfit-bench (--verify) keeps
# running against all hosts, vmfit-probe sends every kind of bad client
# input to hosts 1 and 2, three times over: wrong magic, wrong version,
# unknown and wrong-direction types, nonzero reserved bits, oversized and
# truncated frames, inner lengths that do not add up, garbage, kv ops with
# a bad opcode / pad / key / length (these must come back through voting as
# a REPLY with kv status BAD_REQUEST or TOO_BIG), a client that pipelines
# requests and never reads (it must be disconnected), and one that never
# reads and then sends a bad frame, so that the manager's ERROR answer is
# stuck behind its unread output (the closing connection must still be
# reset within CONN_LINGER_MS, counted in stuck_closed). After every round
# the managers' connection counts return to the bench's baseline. Each case
# gets its error or close; the bench is served every second without a
# wrong answer; vmfitd's VmRSS stays bounded; host 3 runs kv-faulty
# --fault random (malformed kv replies from a replica) all along.
#
# Part 2, replicas: one fresh cluster per broken replica-channel frame
# (vmfit-probe --fake-replica MODE on host 3): host 3's vmfitd survives,
# stops using its replica and says so; the service keeps answering right.
. "$(dirname "$0")/../lib/cluster.sh"
cl_enter "$@"

PROBE=$VMFIT_BIN/vmfit-probe
ROUNDS=3
RSS_GROWTH_MAX_KB=$((24 * 1024))

CL_DIR=$CL_BASE/clients
CL_REPLICA_3="kv-faulty --fault random"
cl_up 3

cl_bench_start load --clients 30 --records 3000 --duration 120 --write-ratio 0.5 \
	--verify --timeout 5000
bpid=$CL_BENCH_PID
sleep 1
declare -A rss0 conns0
for i in 1 2; do
	rss0[$i]=$(cl_rss_kb "$i")
	conns0[$i]=$(cl_stat "$i" clients)
	((conns0[$i] > 0)) || cl_die "host $i: no bench connections (clients=${conns0[$i]})"
done

# wait_conns i: host i's connection count is back to the baseline.
wait_conns() {
	local k c
	for ((k = 0; k < 25; k++)); do
		c=$(cl_stat "$1" clients)
		[ "$c" = "${conns0[$1]}" ] && return 0
		sleep 0.2
	done
	cl_die "host $1: $c client connections, baseline ${conns0[$1]}: probe connections were not all closed"
}
for ((round = 1; round <= ROUNDS; round++)); do
	for i in 1 2; do
		"$PROBE" --server "$(cl_addr "$i"):$CL_PORT" --verbose \
			--noread-secs 20 >"$CL_DIR/probe-h$i-$round.log" 2>&1 ||
			{ cat "$CL_DIR/probe-h$i-$round.log"; cl_die "round $round: host $i answered bad input wrongly"; }
	done
	for i in 1 2; do
		wait_conns "$i"
		stuck=$(cl_stat "$i" stuck_closed)
		((stuck >= round)) ||
			cl_die "round $round: host $i reset only $stuck stuck connections"
	done
	cl_log "round $round: $(tail -n 1 "$CL_DIR/probe-h1-$round.log") (host 1), $(tail -n 1 "$CL_DIR/probe-h2-$round.log") (host 2); $(grep 'no-read-closing' "$CL_DIR/probe-h1-$round.log" | sed 's/.*: //'); connections back to ${conns0[1]}/${conns0[2]}"
done
for i in 1 2; do
	rss=$(cl_rss_kb "$i")
	cl_log "host $i vmfitd VmRSS: ${rss0[$i]} kB before, $rss kB after $ROUNDS rounds"
	((rss - rss0[$i] <= RSS_GROWTH_MAX_KB)) ||
		cl_die "host $i vmfitd grew by $((rss - rss0[$i])) kB (bound $RSS_GROWTH_MAX_KB kB)"
	cl_assert "host $i vmfitd died" cl_alive vmfitd "$i"
	bad=$(cl_stat "$i" bad_frames)
	((bad >= ROUNDS * 10)) || cl_die "host $i counted only $bad bad frames"
done
sleep 1
kill -INT $bpid
wait $bpid || { tail -n 20 "$CL_DIR/load.log"; cl_die "the well-behaved clients failed"; }
j=$CL_DIR/load.json
cl_assert_json "$j" verify_mismatches -eq 0
cl_assert_json "$j" bad_replies -eq 0
cl_assert_json "$j" timeouts -eq 0
cl_assert_json "$j" conn_lost -eq 0
# Served every second of the probing.
secs=$(cl_json "$j" duration_s)
for ((t = 0; t < ${secs%.*}; t++)); do
	n=$(awk -F, -v t=$t '!/^#/ && $1 >= t && $1 < t + 1 { s += $2 } END { print s + 0 }' "$CL_DIR/load.csv")
	((n > 100)) || cl_die "the well-behaved clients got only $n answers in second $t"
done
s="$(cl_stat 1 suspect_nodes) $(cl_stat 2 suspect_nodes)"
[[ "$s" == "3 3" ]] || cl_die "host 3 (random replies) not suspected by hosts 1 and 2: '$s'"
cl_log "clients: $(cl_json "$j" ops) ops over ${secs} s, 0 wrong, 0 lost connections"
cl_down

for mode in garbage bad-magic bad-version bad-type oversized short wrong-order truncated; do
	CL_DIR=$CL_BASE/replica-$mode
	CL_REPLICA_3="vmfit-probe --fake-replica $mode"
	cl_up 3
	cl_bench load --clients 20 --records 2000 --requests 3000 --verify \
		--timeout 5000 ||
		{ tail -n 20 "$CL_DIR/load.log"; cl_die "replica $mode: clients failed"; }
	cl_assert_json "$CL_DIR/load.json" verify_mismatches -eq 0
	cl_assert_json "$CL_DIR/load.json" ops -eq 3000
	cl_assert "replica $mode: host 3's vmfitd died" cl_alive vmfitd 3
	# Wait for the status file to catch up.
	for ((k = 0; k < 20; k++)); do
		[ "$(cl_stat 3 replica_ok)" = 0 ] && break
		sleep 0.1
	done
	cl_assert_eq "replica $mode: host 3 reports its replica faulty" 0 "$(cl_stat 3 replica_ok)"
	for i in 1 2; do
		cl_assert_eq "replica $mode: host $i replica ok" 1 "$(cl_stat "$i" replica_ok)"
	done
	why=$(grep -m1 'replica .* is faulty' "$(cl_hostdir 3)/vmfitd.log")
	[ -n "$why" ] || cl_die "replica $mode: host 3's vmfitd logged no 'is faulty' line"
	cl_log "replica $mode: host 3: ${why#*err: }"
	cl_down
done
cl_log "PASS"
