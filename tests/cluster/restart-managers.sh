#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# restart-managers: 3 hosts (f = 1). Keys are written and read through
# every manager; then f+1 = 2 managers (vmfitd and the replica it started,
# hosts 2 and 3) are killed and vmfitd is started again on both, with
# corosync running all along.
#
# No client may ever get an answer from a fresh state: before this test's
# fix, a GET through a restarted manager answered NOT_FOUND for a key
# written before the restart (the fresh managers started in sync at order
# 0 and their two empty replicas outvoted the survivor). Now a manager
# that starts joins out of sync and neither votes nor answers. Host 1 was
# alone for a moment, but the others' processes died (CPG reason
# PROCDOWN: they cannot have gone on elsewhere), so it keeps the group's
# state, in sync but stopped: one manager in sync cannot decide (f+1 = 2).
# Until state transfer (the recovery issue) brings host 2 or 3 back, every
# manager answers UNAVAILABLE, for reads and for writes; this test says so
# by asserting ready=0 everywhere and synced=1 only on host 1 at the end.
. "$(dirname "$0")/../lib/cluster.sh"
cl_enter "$@"

export CL_RECORDS=1000 CL_RECORD_SIZE=128
cl_up 3
for i in 1 2 3; do
	out=$(cl_probe "$i" --put "$i=written-through-$i")
	[[ "$out" == "REPLY version=3 status=OK kv=OK"* ]] || cl_die "PUT through host $i: $out"
done
for i in 1 2 3; do
	out=$(cl_probe "$i" --get 2)
	cl_assert_eq "GET through host $i before the restart" \
		"REPLY version=3 status=OK kv=OK value=written-through-2" "$out"
done

cl_kill_manager 2
cl_kill_manager 3
cl_wait_stat 1 members 1
cl_start_vmfitd 2
cl_start_vmfitd 3
for i in 1 2 3; do
	cl_wait_stat "$i" members 3
	cl_wait_stat "$i" primary 1
done
cl_log "hosts 2 and 3 restarted; every manager sees 3 members"

# Ask every manager, a few times over 3 s: never an answer from a fresh
# state (NOT_FOUND, another value, or a write accepted).
for round in 1 2 3; do
	for i in 1 2 3; do
		for k in 1 2 3; do
			out=$(cl_probe "$i" --get "$k")
			case "$out" in
			"REPLY version=3 status=OK kv=OK value=written-through-$k") ;;
			"REPLY version=3 status=UNAVAILABLE") ;;
			*) cl_die "round $round: GET $k through host $i answered '$out'" ;;
			esac
		done
		out=$(cl_probe "$i" --put "9=after-restart-$i")
		[ "$out" = "REPLY version=3 status=UNAVAILABLE" ] ||
			cl_die "round $round: PUT through host $i answered '$out' (no state to write on)"
	done
	sleep 1
done
for i in 2 3; do
	cl_assert_eq "restarted host $i synced" 0 "$(cl_stat "$i" synced)"
	cl_assert_eq "restarted host $i votes sent" 0 "$(cl_stat "$i" votes_sent)"
	cl_assert_eq "restarted host $i executed" 0 "$(cl_stat "$i" executed)"
done
cl_assert_eq "host 1 keeps the group's state" 1 "$(cl_stat 1 synced)"
cl_assert_eq "host 1 sees managers in sync" 1 "$(cl_stat 1 managers_synced)"
for i in 1 2 3; do
	cl_assert_eq "host $i ready (no state transfer yet: nobody can be)" 0 "$(cl_stat "$i" ready)"
done
cl_log "PASS: no answer from a fresh state; the group stays unavailable until state transfer exists"
