#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# order-exactly-once: 3 hosts (f = 1), real corosync. Under load from many
# concurrent clients, every acknowledged operation is applied exactly once
# and in the same order on every replica:
#  - 40 verifying clients (vmfit-bench --verify) on records 0..3999: every
#    GET returns the last acknowledged PUT of its record (per-client
#    histories), every request completes;
#  - 20 contending writers on records 4000..5999, all writing the same
#    records (PUT only): replicas that applied these conflicting writes in
#    different orders would end with different values;
#  - 20 readers on records 0..3999;
#  - every host delivered and executed exactly the number of requests the
#    clients issued (no loss, no duplicate execution), nobody is suspected;
#  - then every record 0..5999 is read once through each host's voter
#    (--sweep): all three replicas must answer each read identically (a
#    diverged replica would be outvoted and suspected), so the final
#    states agree record by record.
. "$(dirname "$0")/../lib/cluster.sh"
cl_enter "$@"

W_REQ=30000		# verifying clients' requests
C_REQ=10000		# contending writers' requests
R_REQ=10000		# readers' requests
cl_up 3

cl_log "load: 40 verifying clients, 20 contending writers, 20 readers"
cl_bench_start writers --clients 40 --records 4000 --requests $W_REQ \
	--write-ratio 0.6 --verify --timeout 10000
wpid=$CL_BENCH_PID
cl_bench_start contenders --clients 20 --key-offset 4000 --records 2000 \
	--requests $C_REQ --write-ratio 1 --timeout 10000
cpid=$CL_BENCH_PID
cl_bench_start readers --clients 20 --records 4000 --requests $R_REQ \
	--write-ratio 0 --timeout 10000
rpid=$CL_BENCH_PID
for b in writers:$wpid contenders:$cpid readers:$rpid; do
	wait "${b#*:}" || { tail -n 20 "$CL_DIR/${b%:*}.log"; cl_die "${b%:*} failed"; }
done

for b in writers contenders readers; do
	cl_assert_json "$CL_DIR/$b.json" verify_mismatches -eq 0
	cl_assert_json "$CL_DIR/$b.json" bad_replies -eq 0
	cl_assert_json "$CL_DIR/$b.json" kv_errors -eq 0
	cl_assert_json "$CL_DIR/$b.json" unfinished -eq 0
	cl_assert_json "$CL_DIR/$b.json" timeouts -eq 0
done
cl_assert_json "$CL_DIR/writers.json" ops -eq $W_REQ
cl_assert_json "$CL_DIR/contenders.json" ops -eq $C_REQ
cl_assert_json "$CL_DIR/readers.json" ops -eq $R_REQ
cl_assert_json "$CL_DIR/writers.json" verify_checked -gt 3000
cl_log "clients: $(cl_json "$CL_DIR/writers.json" verify_checked) reads verified, 0 mismatches"

# Exactly once, everywhere: same count of delivered and executed orders
# on every host, equal to the requests issued.
total=$((W_REQ + C_REQ + R_REQ))
executed=$(cl_wait_quiet 1 2 3)
cl_assert_eq "executed orders (all hosts)" "$total" "$executed"
for i in 1 2 3; do
	cl_assert_eq "host $i orders delivered" "$total" "$(cl_stat "$i" orders_delivered)"
	cl_assert_eq "host $i orders decided" "$total" "$(cl_stat "$i" decided)"
	cl_assert_eq "host $i duplicate requests" 0 "$(cl_stat "$i" dup_requests)"
	cl_assert_eq "host $i suspects" 0 "$(cl_stat "$i" suspects)"
	cl_assert_eq "host $i replica ok" 1 "$(cl_stat "$i" replica_ok)"
done
cl_log "all hosts: $executed orders delivered, executed and decided once, no suspect"

# Final states, record by record: every record read once through each
# host; each read is voted over the three replicas' answers.
for i in 1 2 3; do
	cl_bench "sweep-h$i" --servers "$(cl_servers "$i")" --clients 20 \
		--records 6000 --sweep --timeout 10000 ||
		{ tail -n 20 "$CL_DIR/sweep-h$i.log"; cl_die "final read through host $i failed"; }
	cl_assert_json "$CL_DIR/sweep-h$i.json" ops -eq 6000
	cl_assert_json "$CL_DIR/sweep-h$i.json" timeouts -eq 0
done
total=$((total + 3 * 6000))
executed=$(cl_wait_quiet 1 2 3)
cl_assert_eq "executed orders after the sweeps" "$total" "$executed"
for i in 1 2 3; do
	cl_assert_eq "host $i decided after the sweeps" "$total" "$(cl_stat "$i" decided)"
	cl_assert_eq "host $i suspects after the sweeps" 0 "$(cl_stat "$i" suspects)"
done
cl_log "PASS: 6000 records read through each host, all replicas agreed"
