#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# overload-backpressure: load piles up behind a checkpoint that every
# replica takes slowly (kv-faulty --fault slow-checkpoint: 6 s each, not a
# fault), on every host at the same order. Before back-pressure, the
# managers queued whatever clients sent and declared their replicas faulty
# ("too many requests held behind a checkpoint", "lags too far behind"),
# all of them at once. Now they stop reading from clients until the
# backlog drains; no replica is declared faulty, every checkpoint is
# taken, every request of the waiting clients is answered.
#  1. a checkpoint while 40 clients send 64 KiB writes and send-and-close
#     clients churn 64 KiB writes (the replicas' first checkpoint: written
#     before they execute anything else; later ones are written in the
#     background and hold nothing, tests/cluster/checkpoint-async.sh);
#  2. a checkpoint during 8,300 send-and-close requests.
. "$(dirname "$0")/../lib/cluster.sh"
cl_enter "$@"

export CL_REPLICA="kv-faulty --fault slow-checkpoint --fault-delay 6000"
export CL_RECORDS=64 CL_RECORD_SIZE=65000
export CL_VMFITD_EXTRA="max_outstanding = 256
replica_lag_max = 4096"
export CL_BENCH_LIMIT=120
cl_up 3

churn() { # name count size
	timeout -s KILL 120 python3 "$CL_TOP/tests/lib/vfclient.py" churn \
		"$(cl_addr 1):$CL_PORT" --from "$CL_JUNK_ADDR" --count "$2" \
		--size "$3" --records "$CL_RECORDS" >"$CL_DIR/$1.out" 2>&1
}

# No replica declared faulty, every checkpoint taken, same order count.
check_hosts() { # tag checkpoints
	local i
	cl_wait_checkpoints "$2"
	for i in 1 2 3; do
		cl_assert_eq "$1: host $i replica ok" 1 "$(cl_stat "$i" replica_ok)"
		cl_assert_eq "$1: host $i checkpoints failed" 0 "$(cl_stat "$i" checkpoints_failed)"
		! grep -E 'is faulty|left the vote window' "$(cl_hostdir "$i")/vmfitd.log" ||
			cl_die "$1: host $i declared its replica faulty or lost an order"
	done
	cl_wait_quiet 1 2 3 >/dev/null
}

cl_log "1. checkpoint under 64 KiB writes and send-and-close churn"
cl_bench_start writers --clients 40 --records "$CL_RECORDS" --record-size 65000 \
	--write-ratio 1 --duration 14 --timeout 30000
wpid=$CL_BENCH_PID
sleep 2
churn churn1 3000 65000 &
cpid=$!
sleep 1
cl_log "checkpoint: $(cl_checkpoint 2)"
wait "$cpid"
cl_log "churn: $(cat "$CL_DIR/churn1.out")"
wait "$wpid" || { tail -n 20 "$CL_DIR/writers.log"; cl_die "writers failed"; }
cl_assert_json "$CL_DIR/writers.json" unfinished -eq 0
cl_assert_json "$CL_DIR/writers.json" timeouts -eq 0
cl_assert_json "$CL_DIR/writers.json" ops -gt 100
check_hosts "64 KiB writes" 1
p=0
for i in 1 2 3; do
	p=$((p + $(cl_stat "$i" client_pauses)))
done
((p > 0)) || cl_die "no manager paused its clients: the load did not pile up"
cl_log "no replica faulty; managers paused their clients $p times"

cl_log "2. checkpoint during 8,300 send-and-close requests"
churn churn2 8300 8 &
cpid=$!
sleep 1
cl_log "checkpoint: $(cl_checkpoint 3)"
wait "$cpid"
cl_log "churn: $(cat "$CL_DIR/churn2.out")"
read -r _ sent _ <"$CL_DIR/churn2.out"
((sent > 4096)) || cl_die "only $sent send-and-close requests sent"
check_hosts "send-and-close" 2
# Every order is delivered and decided everywhere (votes may trail).
deadline=$((SECONDS + 30))
while :; do
	d1=$(cl_stat 1 orders_delivered)
	ok=1
	for i in 1 2 3; do
		[ "$(cl_stat "$i" orders_delivered)" = "$d1" ] &&
			[ "$(cl_stat "$i" decided)" = "$d1" ] || ok=0
	done
	((ok)) && break
	((SECONDS < deadline)) || cl_die "orders not all delivered and decided everywhere: $(for i in 1 2 3; do echo "host $i $(cl_stat "$i" orders_delivered)/$(cl_stat "$i" decided)"; done)"
	sleep 0.5
done
cl_log "no replica faulty after $sent send-and-close requests; $d1 orders everywhere"
cl_log "PASS"
