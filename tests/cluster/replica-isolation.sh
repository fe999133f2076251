#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# replica-isolation: the process backend runs the untrusted replica as an
# unprivileged user (replica_user, default nobody) in its own network, IPC,
# mount and UTS namespaces. Host 1's replica is kv-faulty
# --probe-isolation: before its HELLO it tries to connect to corosync's
# CPG socket (libqb: an abstract unix socket, per network namespace), to
# its manager's client port and to 127.0.0.1, and reports what it reached
# in HELLO's version string. The same probe run directly in host 1 (not
# isolated) reaches CPG and the client port: the probe can tell. Before,
# the replica ran as root in the host's namespaces and reached both.
. "$(dirname "$0")/../lib/cluster.sh"
cl_enter "$@"

export CL_REPLICA=kv-hash CL_RECORDS=1000 CL_RECORD_SIZE=128
CL_NO_VMFITD=1 cl_up 3

# corosync's CPG socket in host 1: an abstract unix socket named after cpg.
# (/proc/net/unix shows the NUL padding of libqb's names as '@'.)
cpg=$(cl_exec 1 awk '$8 ~ /^@cpg/ { sub(/@+$/, "", $8); print "@" substr($8, 2); exit }' /proc/net/unix)
[ -n "$cpg" ] || cl_die "no abstract CPG socket of corosync in host 1: $(cl_exec 1 cat /proc/net/unix | head)"
targets="$cpg,$(cl_addr 1):$CL_PORT,127.0.0.1:$CL_PORT"
cl_log "probe targets: $targets"

export CL_REPLICA_1="kv-faulty --probe-isolation $targets"
for i in 1 2 3; do
	cl_start_vmfitd "$i"
done
cl_wait_vmfitd
log1=$(cl_hostdir 1)/vmfitd.log

# Positive control: the same probe, not isolated, as root in host 1.
ctl=$(cl_exec 1 "$VMFIT_BIN/kv-faulty" --probe-isolation "$targets")
cl_log "not isolated: $ctl"
[[ "$ctl" == *"$cpg=ok"* && "$ctl" == *"$(cl_addr 1):$CL_PORT=ok"* ]] ||
	cl_die "the probe cannot reach CPG or the client port even from host 1: $ctl"

hello=$(sed -n 's/.*replica HELLO: kv-hash version \(uid=.*\)$/\1/p' "$log1" | tail -n 1)
[ -n "$hello" ] || cl_die "no probe report in host 1's replica HELLO; see $log1"
cl_log "isolated replica: $hello"
nobody=$(id -u nobody)
[[ "$hello" == "uid=$nobody "* ]] || cl_die "the replica does not run as nobody: $hello"
[[ "$hello" == *"$cpg="* && "$hello" != *"$cpg=ok"* ]] ||
	cl_die "the replica reached corosync's CPG socket: $hello"
[[ "$hello" != *"=ok"* ]] || cl_die "the replica reached the network: $hello"

# Its process: another network and IPC namespace than its manager's, no
# groups, no new privileges.
vpid=$(cl_stat 1 pid)
rpid=$(cl_stat 1 replica_pid)
[ -n "$rpid" ] && [ "$rpid" != 0 ] || cl_die "no replica pid on host 1"
for ns in net ipc mnt; do
	[ "$(readlink "/proc/$rpid/ns/$ns")" != "$(readlink "/proc/$vpid/ns/$ns")" ] ||
		cl_die "the replica shares its manager's $ns namespace"
done
grep -q "^Uid:[[:space:]]*$nobody[[:space:]]" "/proc/$rpid/status" ||
	cl_die "replica process: $(grep ^Uid "/proc/$rpid/status")"
grep -q '^Groups:[[:space:]]*$' "/proc/$rpid/status" ||
	cl_die "replica process keeps groups: $(grep ^Groups "/proc/$rpid/status")"
grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$rpid/status" ||
	cl_die "replica process may gain privileges"
[ "$(stat -c %u "$(cl_volume 1)")" = "$nobody" ] ||
	cl_die "the state volume was not handed to the replica's user"

# And the isolated replicas serve: verified reads through every host.
cl_bench serve --clients 10 --requests 500 --records 1000 --verify \
	--timeout 20000 || cl_die "the cluster with isolated replicas does not serve"
cl_assert_json "$CL_DIR/serve.json" verify_mismatches -eq 0
cl_assert_json "$CL_DIR/serve.json" ops -eq 500
cl_assert_eq "host 1 replica ok" 1 "$(cl_stat 1 replica_ok)"
cl_log "PASS"
