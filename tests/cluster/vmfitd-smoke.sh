#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vmfitd-smoke: 3 hosts (corosync + vmfitd + kv-hash each, f = 1). Clients
# spread over all managers get verified replies; every manager delivers the
# same number of orders and decides them all, nobody is suspected;
# `vmfit-ctl manager` says so (in sync, primary, 3 managers; --json valid);
# then one host's vmfitd dies, the other two keep answering, and
# `vmfit-ctl manager` on the dead host refuses its stale status file.
. "$(dirname "$0")/../lib/cluster.sh"
cl_enter "$@"

export CL_REPLICA=kv-hash CL_RECORDS=1000 CL_RECORD_SIZE=128
cl_up 3

st() { # host key
	cl_status "$1" | sed -n "s/^$2=//p"
}

out=$("$VMFIT_BIN/vmfit-bench" --servers "$(cl_servers)" --clients 30 \
	--requests 3000 --records 1000 --verify --json) ||
	cl_die "vmfit-bench failed: $out"
mism=$(echo "$out" | sed -n 's/.*"verify_mismatches": *\([0-9]*\).*/\1/p')
cl_assert_eq "verify mismatches" 0 "$mism"
sleep 1	# status files are rewritten every 500 ms

d1=$(st 1 orders_delivered)
((d1 >= 3000)) || cl_die "host 1 delivered only $d1 orders"
for i in 1 2 3; do
	cl_assert_eq "host $i orders" "$d1" "$(st "$i" orders_delivered)"
	cl_assert_eq "host $i decided" "$d1" "$(st "$i" decided)"
	cl_assert_eq "host $i suspects" 0 "$(st "$i" suspects)"
	cl_assert_eq "host $i members" 3 "$(st "$i" members)"
	cl_log "host $i: $(cl_status "$i" | grep -E '^(executed|replies|avg_batch|cpg_sent)=' | tr '\n' ' ')"
done

# The operator's view (vmfit-ctl manager) of each live manager.
for i in 1 2 3; do
	conf=$(cl_hostdir "$i")/vmfitd.conf
	out=$("$VMFIT_BIN/vmfit-ctl" manager --config "$conf") ||
		cl_die "vmfit-ctl manager on host $i failed: $out"
	grep -q '^sync       in sync:' <<<"$out" ||
		cl_die "host $i: manager not in sync: $out"
	grep -q '^primary    yes:' <<<"$out" ||
		cl_die "host $i: manager not primary: $out"
	grep -q '^managers   3 configured, 3 present, 3 in sync' <<<"$out" ||
		cl_die "host $i: not 3 managers present and in sync: $out"
	grep -q "^service    kv on node $i " <<<"$out" ||
		cl_die "host $i: wrong service line: $out"
	json=$("$VMFIT_BIN/vmfit-ctl" --json manager -c "$conf") ||
		cl_die "vmfit-ctl --json manager on host $i failed: $json"
	cl_assert_eq "host $i --json is one valid document with node_id" "$i" \
		"$(jq -e .node_id <<<"$json")"
	cl_assert_eq "host $i --json managers_synced" 3 \
		"$(jq -e .managers_synced <<<"$json")"
done
cl_log "vmfit-ctl manager, host 3: $(head -n 5 <<<"$out" | tr -s ' ' | tr '\n' '|')"

# f = 1: losing one manager (and its replica) changes nothing for clients.
# The status file names the daemon's own pid (cl_kill's pid file may name a
# wrapper process).
p3=$(st 3 pid)
[ -n "$p3" ] && kill -KILL "$p3" || cl_die "cannot kill vmfitd of host 3"
cl_log "killed vmfitd of host 3 (pid $p3)"
out=$("$VMFIT_BIN/vmfit-bench" --servers "$(cl_servers 1 2)" --clients 10 \
	--requests 500 --records 1000 --verify --json) ||
	cl_die "vmfit-bench with host 3 down failed: $out"
mism=$(echo "$out" | sed -n 's/.*"verify_mismatches": *\([0-9]*\).*/\1/p')
cl_assert_eq "verify mismatches with host 3 down" 0 "$mism"
sleep 1
cl_assert_eq "members after host 3 died" 2 "$(st 1 members)"
cl_assert_eq "host 1 vs 2 orders" "$(st 1 orders_delivered)" "$(st 2 orders_delivered)"
# SIGKILL left host 3's last status file: vmfit-ctl manager must not
# present it as a live manager.
if out=$("$VMFIT_BIN/vmfit-ctl" manager -c "$(cl_hostdir 3)/vmfitd.conf" 2>&1); then
	cl_die "vmfit-ctl manager on dead host 3 succeeded: $out"
fi
grep -q "is stale: vmfitd (pid $p3) is not running" <<<"$out" ||
	cl_die "vmfit-ctl manager on dead host 3: $out"
out=$("$VMFIT_BIN/vmfit-ctl" manager -c "$(cl_hostdir 1)/vmfitd.conf") ||
	cl_die "vmfit-ctl manager on host 1 after host 3 died: $out"
grep -q '^managers   3 configured, 2 present, 2 in sync' <<<"$out" ||
	cl_die "host 1 after host 3 died: $out"
cl_log "PASS"
