#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# forged-votes: 4 corosync nodes; managers run on hosts 1-3 only
# (managers = 1 2 3, f = 1). While verified clients load the service,
# vmfit-inject joins the managers' CPG group and multicasts forged group
# messages:
#
#   from host 4, a corosync node that is not a configured manager: VOTES
#     for order 2^64-1 (once put every manager out of sync), VOTES for
#     order 1, REQUESTS, a CHECKPOINT;
#   from host 3, a second process beside its manager (what a replica with
#     access to corosync could do): VOTES for order 2^64-1 with header
#     last_order 2^64-1, and REQUESTS.
#
# Every message is rejected and logged ("rejected ... from node N pid P");
# every manager stays in sync and keeps serving; the forged requests are
# never executed and the forged checkpoint never taken (executed = the
# clients' requests, checkpoints = 0); no wrong answer.
. "$(dirname "$0")/../lib/cluster.sh"
cl_enter "$@"

INJECT=$VMFIT_BIN/vmfit-inject
GROUP=vmfit-$CL_NAME
export CL_RECORDS=1000 CL_RECORD_SIZE=128 CL_MANAGERS="1 2 3"
CL_NO_VMFITD=1 cl_up 4
for i in 1 2 3; do
	cl_start_vmfitd "$i"
done
cl_wait_vmfitd 1 2 3
cl_log "vmfitd ready on hosts 1-3; host 4 runs corosync only"

cl_bench_start load --servers "$(cl_servers 1 2 3)" --clients 20 \
	--records 900 --requests 6000 --verify --timeout 5000
sleep 1

inject() { # host args...
	local i=$1 out
	shift
	out=$(cl_exec "$i" "$INJECT" --group "$GROUP" "$@" 2>&1) ||
		cl_die "vmfit-inject on host $i $*: $out"
	cl_log "host $i: $out"
}
inject 4 --type votes
inject 4 --type votes --order 1
inject 4 --type requests
inject 4 --type checkpoint
inject 3 --type votes --last-order 18446744073709551615
inject 3 --type requests
n_forged=6

cl_bench_wait 60 || { tail -n 20 "$CL_DIR/load.log"; cl_die "clients failed"; }
j=$CL_DIR/load.json
cl_assert_json "$j" ops -eq 6000
cl_assert_json "$j" verify_mismatches -eq 0
cl_assert_json "$j" unfinished -eq 0
executed=$(cl_wait_quiet 1 2 3)
cl_assert_eq "orders executed (the clients' requests, no forged one)" 6000 "$executed"
for i in 1 2 3; do
	log=$(cl_hostdir "$i")/vmfitd.log
	cl_assert_eq "host $i in sync" 1 "$(cl_stat "$i" synced)"
	cl_assert_eq "host $i ready" 1 "$(cl_stat "$i" ready)"
	cl_assert_eq "host $i checkpoints" 0 "$(cl_stat "$i" checkpoints)"
	cl_assert_eq "host $i rejected group messages" "$n_forged" "$(cl_stat "$i" rejected_msgs)"
	n4=$(grep -c 'rejected .* from node 4 pid ' "$log")
	n3=$(grep -c 'rejected .* from node 3 pid ' "$log")
	((n4 == 4 && n3 == 2)) ||
		cl_die "host $i logged $n4 rejections from node 4 (want 4) and $n3 from node 3 (want 2); see $log"
	grep -q 'node 4 (pid [0-9]*) joined the group but is not a configured manager' "$log" ||
		cl_die "host $i did not log the unconfigured node joining"
done
cl_log "PASS: $n_forged forged messages rejected and logged by every manager; all in sync, 6000 ops verified"
