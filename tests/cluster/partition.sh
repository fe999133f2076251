#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# partition: 3 hosts (f = 1, managers 1 2 3). Host 3's link is cut (its
# veth on the bridge goes down), then healed.
#
# While cut off, host 3 is a minority (1 of 3 configured managers): it
# stops executing (its executed count does not move although its clients,
# on host 3 itself, keep sending) and answers every request with
# NOT_PRIMARY ("try another manager"; UNAVAILABLE to a version 1 client);
# hosts 1 and 2 keep serving, verified.
#
# After the heal, host 3 is back in the CPG group but out of sync: the
# merge rule is the primary component's, whoever was outside it is out of
# sync, however many orders either side counted. Hosts 1 and 2 stay in
# sync and keep serving; host 1 (the lowest node id in sync) starts a
# catch-up round (Documentation/protocol.rst "Catching up") in which host
# 3 is a receiver. Until the round hands over, host 3 neither votes nor
# answers with anything but UNAVAILABLE; then it is in sync, answers the
# key written before the cut, and serves a verified load together with
# the others; after an ordered checkpoint its live volume is
# byte-identical to theirs.
. "$(dirname "$0")/../lib/cluster.sh"
cl_enter "$@"
# --v1 requests below: version 1 clients have no session key, and are
# refused unless legacy_clients = yes (protocol.rst "Sessions").
export CL_RECORDS=1000 CL_RECORD_SIZE=128
export CL_VMFITD_EXTRA="legacy_clients = yes
peer_listen = @ADDR@:7500
state_volume_b = @DIR@/vstate/state-b.img
recovery_timeout_ms = 30000"
cl_up 3
for i in 1 2 3; do
	cl_assert_eq "host $i primary at start" 1 "$(cl_stat "$i" primary)"
done
out=$(cl_probe 1 --put 950=before)
[[ "$out" == "REPLY version=3 status=OK kv=OK"* ]] || cl_die "PUT before the cut: $out"

cl_log "cutting host 3's link"
ip link set vfh3b down
cl_wait_stat 3 primary 0
cl_wait_stat 1 members 2
cl_wait_stat 2 members 2
cl_assert_eq "host 1 primary with 2 of 3" 1 "$(cl_stat 1 primary)"
exec3=$(cl_stat 3 executed)

# The minority refuses at once, in the client's protocol version (the
# clients run on host 3: the root namespace cannot reach it now).
cl_bench_start cut --servers "$(cl_servers 1 2)" --clients 20 --records 900 \
	--requests 3000 --verify --timeout 3000
for k in 1 2 3 4 5; do
	out=$(CL_PROBE_LOCAL=1 cl_probe 3 --get 950)
	cl_assert_eq "GET $k through the cut-off host 3" "REPLY version=3 status=NOT_PRIMARY" "$out"
	out=$(CL_PROBE_LOCAL=1 cl_probe 3 --put "951=minority-$k")
	cl_assert_eq "PUT $k through the cut-off host 3" "REPLY version=3 status=NOT_PRIMARY" "$out"
done
out=$(CL_PROBE_LOCAL=1 cl_probe 3 --v1 --get 950)
cl_assert_eq "version 1 GET through host 3" "REPLY version=1 status=UNAVAILABLE" "$out"
cl_bench_wait 60 || { tail -n 20 "$CL_DIR/cut.log"; cl_die "clients of hosts 1-2 failed during the partition"; }
j=$CL_DIR/cut.json
cl_assert_json "$j" ops -eq 3000
cl_assert_json "$j" verify_mismatches -eq 0
sleep 0.5
cl_assert_eq "host 3 executed while cut off" "$exec3" "$(cl_stat 3 executed)"
cl_assert_eq "NOT_PRIMARY replies of host 3" 11 "$(cl_stat 3 not_primary)"
cl_log "cut: 3000 ops through hosts 1-2; host 3 executed nothing and refused 11 requests"

cl_log "healing host 3's link"
ip link set vfh3b up
cl_wait_ring 3
for i in 1 2 3; do
	cl_wait_stat "$i" members 3
done
cl_wait_stat 3 primary 1
# Until it has caught up: UNAVAILABLE, never an answer of its own.
cl_wait_caught_up 3 950 before
cl_log "host 3 caught up: $(grep -m1 'caught up' "$(cl_hostdir 3)/vmfitd.log")"
out=$(cl_probe 3 --get 950)
cl_assert_eq "GET through host 3 after the catch-up" "REPLY version=3 status=OK kv=OK value=before" "$out"
out=$(cl_probe 3 --get 951)
[[ "$out" == "REPLY version=3 status=OK kv=NOT_FOUND"* ]] ||
	cl_die "what the minority was asked to write: '$out', want NOT_FOUND"
votes3=$(cl_stat 3 votes_sent)
cl_bench healed --clients 30 --records 900 --requests 3000 --verify --timeout 3000 ||
	{ tail -n 20 "$CL_DIR/healed.log"; cl_die "clients failed after the heal"; }
j=$CL_DIR/healed.json
cl_assert_json "$j" ops -eq 3000
cl_assert_json "$j" verify_mismatches -eq 0
out=$(cl_probe 1 --get 950)
cl_assert_eq "GET of the key written before the cut" "REPLY version=3 status=OK kv=OK value=before" "$out"
out=$(cl_probe 2 --v1 --get 950)
cl_assert_eq "version 1 GET of that key" "REPLY version=1 status=OK kv=OK value=before" "$out"
for i in 1 2 3; do
	cl_assert_eq "host $i in sync after the catch-up" 1 "$(cl_stat "$i" synced)"
	cl_assert_eq "host $i suspects" 0 "$(cl_stat "$i" suspects)"
done
(($(cl_stat 3 votes_sent) > votes3)) || cl_die "host 3 does not vote after the catch-up"
cl_checkpoint_compare 3 "at the checkpoint after the catch-up"
cl_log "PASS: the minority refused and executed nothing; after the heal host 3 caught up (UNAVAILABLE until then), serves and votes again, its volume identical at the next checkpoint"
