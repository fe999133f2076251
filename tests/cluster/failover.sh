#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# failover: 3 hosts (f = 1) under load from clients spread over all three
# managers. Mid-load, host 2 crashes (its vmfitd, replica and corosync are
# SIGKILLed). The service keeps answering through hosts 1 and 3; host 2's
# clients fail over to them, re-sending their outstanding (client_id, seq);
# nothing acknowledged is lost (vmfit-bench --verify reads back every
# record's last acknowledged write, before and after the crash); no request
# is executed twice (the survivors' executed counts equal the requests the
# clients issued).
. "$(dirname "$0")/../lib/cluster.sh"
cl_enter "$@"

SECS=12
KILL_AT=3
MAX_STALL=8	# corosync needs ~3.6 s (token 1000 ms + consensus) to drop a node
cl_up 3

cl_log "load for $SECS s over hosts 1-3; host 2 dies at ${KILL_AT} s"
cl_bench_start load --clients 90 --records 9000 --duration $SECS --write-ratio 0.5 \
	--verify --timeout 5000
bpid=$CL_BENCH_PID
sleep $KILL_AT
before=$(cl_stat 2 executed)
cl_kill_host 2
wait $bpid || { tail -n 20 "$CL_DIR/load.log"; cl_die "clients failed"; }

j=$CL_DIR/load.json
cl_assert_json "$j" verify_mismatches -eq 0
cl_assert_json "$j" bad_replies -eq 0
cl_assert_json "$j" unfinished -eq 0
cl_assert_json "$j" conn_lost -ge 30		# host 2's clients (1/3)
cl_assert_json "$j" failovers -ge 30
cl_assert_json "$j" verify_checked -gt 1000
((before > 0)) || cl_die "host 2 executed nothing before the crash"

# The service stalls while corosync reforms the ring (virtual synchrony:
# no order is agreed without a membership), then serves every second.
# Resumed = the end of the longest silence after the kill (requests already
# in flight may still complete just after it, and must not count as service
# resumed: the timeline has 10 ms buckets).
resume=$(awk -F, -v k=$KILL_AT '!/^#/ && $1 >= k && $2 > 0 {
		if (last != "" && $1 - last > gap) { gap = $1 - last; r = $1 }
		last = $1 }
	END { if (r != "") print r }' "$CL_DIR/load.csv")
[ -n "$resume" ] || cl_die "no request answered after the crash"
cl_log "service stalled from ${KILL_AT} s to ${resume} s (ring reconfiguration)"
awk -v r="$resume" -v k=$KILL_AT -v m=$MAX_STALL 'BEGIN { exit !(r - k <= m) }' ||
	cl_die "service stalled $resume - $KILL_AT s, more than $MAX_STALL s"
for ((t = ${resume%.*} + 1; t < SECS; t++)); do
	n=$(awk -F, -v t=$t '!/^#/ && $1 >= t && $1 < t + 1 { s += $2 } END { print s + 0 }' "$CL_DIR/load.csv")
	((n > 100)) || cl_die "only $n requests answered in second $t after the recovery"
done

# Exactly once on the survivors: every request the clients issued was
# executed once (a request resent after the fail-over is not re-executed).
ops=$(cl_json "$j" ops)
executed=$(cl_wait_quiet 1 3)
cl_assert_eq "executed orders on hosts 1 and 3" "$ops" "$executed"
for i in 1 3; do
	cl_assert_eq "host $i suspects" 0 "$(cl_stat "$i" suspects)"
	cl_assert_eq "host $i members" 2 "$(cl_stat "$i" members)"
done

# Still serving afterwards, through the survivors only, with verification.
cl_bench after --servers "$(cl_servers 1 3)" --clients 20 --records 2000 \
	--requests 4000 --verify --timeout 2000 ||
	{ tail -n 20 "$CL_DIR/after.log"; cl_die "service unusable after the crash"; }
cl_assert_json "$CL_DIR/after.json" ops -eq 4000
cl_log "PASS: $ops ops, $(cl_json "$j" failovers) fail-overs, $(cl_json "$j" verify_checked) reads verified, 0 lost"
