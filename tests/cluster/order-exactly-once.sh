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
#    states agree record by record;
#  - heterogeneous replicas (host 1 kv-sqlite, hosts 2-3 kv-hash) and
#    ordered checkpoints: one triggered in the middle of the load, one at
#    the end. Each is taken at the same order on every host, and the three
#    state volumes (the abstract state layout of kv-service.rst) are
#    byte-identical, non-empty, and carry the records the clients wrote.
. "$(dirname "$0")/../lib/cluster.sh"
cl_enter "$@"

export CL_REPLICA_1=kv-sqlite CL_REPLICA_2=kv-hash CL_REPLICA_3=kv-hash

# check_volumes tag order: the hosts' volumes (copied to $CL_DIR/tag-h<i>)
# are identical and hold the abstract state at @order with records in it.
check_volumes() {
	local tag=$1 order=$2 i v slot present
	for i in 1 2 3; do
		cp "$(cl_volume "$i")" "$CL_DIR/$tag-h$i.img" ||
			cl_die "$tag: no state volume on host $i"
	done
	v=$CL_DIR/$tag-h1.img
	for i in 2 3; do
		cmp "$v" "$CL_DIR/$tag-h$i.img" ||
			cl_die "$tag: state volumes of host 1 (kv-sqlite) and host $i (kv-hash) differ"
	done
	[ "$(head -c 8 "$v")" = VFKVSTAT ] || cl_die "$tag: volume has no kv state header"
	cl_assert_eq "$tag: order in the volume" "$order" "$(cl_u64 "$v" 32)"
	cl_assert_eq "$tag: records in the volume header" "$CL_RECORDS" "$(cl_u32 "$v" 16)"
	slot=$(cl_u32 "$v" 24)
	present=$(od -An -v -t u4 -w"$slot" -j 4096 -N $((6000 * slot)) "$v" |
		awk '{ p += $1 } END { print p + 0 }')
	((present > 1000)) || cl_die "$tag: only $present records present in the volume"
	cl_log "$tag: 3 volumes identical ($(stat -c %s "$v") bytes, order $order, $present records)"
}

# Every host finished checkpoint number n at the same order, status 0.
check_checkpoint() { # n
	local i order
	cl_wait_checkpoints "$1"
	order=$(cl_stat 1 last_checkpoint_order)
	for i in 1 2 3; do
		cl_assert_eq "host $i checkpoint status" 0 "$(cl_stat "$i" last_checkpoint_status)"
		cl_assert_eq "host $i checkpoints failed" 0 "$(cl_stat "$i" checkpoints_failed)"
		cl_assert_eq "host $i checkpoint order" "$order" "$(cl_stat "$i" last_checkpoint_order)"
	done
	echo "$order"
}

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

# An ordered checkpoint in the middle of the load (through host 2):
# requests keep flowing, every host takes it at the same order.
sleep 2
cl_log "mid-load checkpoint: $(cl_checkpoint 2)"
order=$(check_checkpoint 1)
((order > 0)) || cl_die "mid-load checkpoint at order 0: no load yet?"
check_volumes mid-load "$order"
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
cl_log "6000 records read through each host, all replicas agreed"

# The final state, byte by byte: a checkpoint after everything (through
# host 1), at the last order.
cl_log "final checkpoint: $(cl_checkpoint 1)"
order=$(check_checkpoint 2)
cl_assert_eq "final checkpoint order" "$total" "$order"
check_volumes final "$order"
cmp -s "$CL_DIR/mid-load-h1.img" "$CL_DIR/final-h1.img" &&
	cl_die "the final checkpoint wrote the same volume as the mid-load one"
cl_log "PASS"
