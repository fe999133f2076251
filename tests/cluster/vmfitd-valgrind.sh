#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vmfitd-valgrind: vmfitd is valgrind-clean. Host 1 of 3 (f = 1) runs its
# vmfitd under memcheck while clients use every host and vmfit-probe sends
# it every kind of bad client input (the error paths allocate and free
# too) and idle and stalled connections that the handshake time-out closes
# (the connection lists and epoll sets); then it is stopped with SIGTERM. Passes when the clients got only
# right answers, the daemon shut down cleanly (exit 0) and memcheck saw no
# error and no definitely or indirectly lost block. The other two hosts
# keep the service going while host 1 runs ~20x slower.
. "$(dirname "$0")/../lib/cluster.sh"
cl_enter "$@"
command -v valgrind >/dev/null || cl_die "valgrind missing: run 'make deps'"

export CL_REPLICA=kv-hash CL_RECORDS=500 CL_RECORD_SIZE=64
export CL_VMFITD_WRAP=$CL_MEMCHECK
export CL_VMFITD_WRAP_HOSTS=1 CL_READY_SECS=120
export CL_VMFITD_EXTRA="handshake_timeout_ms = 5000"
cl_up 3
vlog=$(cl_hostdir 1)/valgrind.log

out=$("$VMFIT_BIN/vmfit-bench" --servers "$(cl_servers)" --clients 10 \
	--requests 600 --records 500 --record-size 64 --verify --timeout 20000 --quiet \
	--json 2>"$CL_DIR/bench.err") ||
	cl_die "vmfit-bench failed: $out"
mism=$(echo "$out" | sed -n 's/.*"verify_mismatches": *\([0-9]*\).*/\1/p')
cl_assert_eq "verify mismatches" 0 "$mism"
# Every request must have been served normally (no TOO_BIG, no error).
if [ -s "$CL_DIR/bench.err" ]; then
	head "$CL_DIR/bench.err"
	cl_die "vmfit-bench reported errors"
fi
ops=$(echo "$out" | sed -n 's/.*"ops": *\([0-9]*\).*/\1/p')
cl_log "served $ops requests with host 1 under memcheck"

"$VMFIT_BIN/vmfit-probe" --server "$(cl_addr 1):$CL_PORT" --timeout 20000 \
	--noread-secs 20 >"$CL_DIR/probe.log" 2>&1 ||
	{ cat "$CL_DIR/probe.log"; cl_die "host 1 under valgrind answered bad input wrongly"; }
cl_log "probe: $(tail -n 1 "$CL_DIR/probe.log")"

cl_bench junk --servers "$(cl_servers 1)" --junk-from "$CL_JUNK_ADDR" \
	--idle 40 --stalled 20 --clients 2 --duration 8 --records 500 \
	--record-size 64 --timeout 20000 || cl_die "the run with junk connections failed"
tmo=$(cl_stat 1 conns_timed_out)
((tmo >= 60)) || cl_die "host 1 timed out only $tmo of 60 junk connections"
cl_log "junk: host 1 timed out $tmo connections"

cl_memcheck_stop 1
# Proof that memcheck watched the work: a leak check ran at exit over
# thousands of allocations (valgrind 3.19 does not know pidfd_open, so the
# process backend uses its SIGCHLD fallback here).
allocs=$(sed -n 's/.*total heap usage: \([0-9,]*\) allocs.*/\1/p' "$vlog" | tr -d ,)
((${allocs:-0} >= 1000)) || cl_die "only ${allocs:-0} allocations under memcheck: did vmfitd do the work?"
cl_log "PASS"
