#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Proactive recovery rounds on dm-vmfit state volumes (volume_kind vmfit),
# one manager (vmfitd --unreplicated: k = 1, f = 0, so nothing is voted
# across hosts here; tests/cluster/recovery.sh does that with the file
# stand-in), kv-hash seniors and kv-sqlite shadows, under client load with
# --verify: the capture snapshots the live device, the kernel hashes the
# frozen view (all of it in the first round, the changed set after), the
# verified chunks are copied into the other device, whose changed set is
# cleared, the shadow restores from it and takes over; A is dropped back to
# the captured state. Every round is done, the delta rounds hash fewer
# chunks than the volume has, no acknowledged operation is lost or wrong,
# and after a final checkpoint the replica's volume holds the state.
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"

need_vmfit
MB=8
vmfit_ab_volumes $MB

ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up 2>/dev/null || true
conf=$TESTDIR/vmfitd.conf
cat >"$conf" <<EOC
service = rcvvm
unreplicated = yes
listen = 127.0.0.1:7400
replica_cmd = $(command -v kv-hash) --records 2000 --record-size 248
shadow_cmd = $(command -v kv-sqlite) --records 2000 --record-size 248
volume_kind = vmfit
state_volume = $A
state_volume_b = $B
status_file = $TESTDIR/status
status_interval_ms = 100
control_socket = $TESTDIR/ctl
recovery_timeout_ms = 60000
EOC
vmfitd -f -c "$conf" >"$TESTDIR/vmfitd.log" 2>&1 &
vpid=$!
at_exit "kill $vpid 2>/dev/null; cp $TESTDIR/vmfitd.log /tmp/ 2>/dev/null || true"
for _ in $(seq 100); do
	grep -q '"ready":1' "$TESTDIR/status" 2>/dev/null && break
	sleep 0.2
done
grep -q '"ready":1' "$TESTDIR/status" || {
	cat "$TESTDIR/vmfitd.log" >&2
	die "vmfitd not ready"
}

field() { vmfitd --status -c "$conf" | sed -n "s/^$1=//p"; }

vmfit-bench -s 127.0.0.1:7400 -c 8 -r 1500 -S 200 -d 20 --verify -q \
	>"$TESTDIR/bench.out" 2>&1 &
bpid=$!
sleep 2
for round in 1 2 3; do
	out=$(vmfitd --recover --wait --timeout 60000 -c "$conf" 2>&1) || {
		cat "$TESTDIR/vmfitd.log" >&2
		die "round $round: $out"
	}
	note "round $round: $(tail -n 2 <<<"$out" | head -n 1)"
	assert_eq "$round" "$(field rcv_done)" "rounds done"
	hashed=$(field rcv_hashed)
	chunks=$(field rcv_chunks)
	assert_eq 2048 "$chunks" "chunks of an 8 MiB volume"
	if ((round == 1)); then
		assert_eq 2048 "$hashed" "round 1 (no digest store yet) is full"
	else
		((hashed > 0 && hashed < 2048)) ||
			die "round $round hashed $hashed of 2048 chunks (delta expected)"
	fi
	sleep 1
done
# the replica moved A -> B -> A -> B
assert_eq "$B" "$(field rcv_volume)" "volume after 3 rounds"
wait "$bpid" || { cat "$TESTDIR/bench.out" >&2; die "vmfit-bench failed"; }
grep -q 'errors 0, bad replies 0, unfinished 0' "$TESTDIR/bench.out" ||
	die "clients saw errors: $(cat "$TESTDIR/bench.out")"
grep -q 'verify: [0-9]* reads checked, 0 mismatches' "$TESTDIR/bench.out" ||
	die "clients saw a wrong value: $(cat "$TESTDIR/bench.out")"
note "$(head -n 1 "$TESTDIR/bench.out")"
# A (not in use) holds round 3's captured, verified state: dropped back,
# the view gone, normal mode; B (in use) is in normal mode too.
[ ! -e "${A}-view" ] && [ ! -e "${B}-view" ] || die "a view device is left"
assert_eq normal "$(dmsetup status "$(dm_name A)" | cut -d' ' -f4)" "mode of A"
assert_eq normal "$(dmsetup status "$(dm_name B)" | cut -d' ' -f4)" "mode of B"
[ "$(head -c 8 "$A")" = VFKVSTAT ] || die "A holds no kv state"
vmfitd --checkpoint -c "$conf" >/dev/null || die "final checkpoint"
[ "$(head -c 8 "$B")" = VFKVSTAT ] || die "B holds no kv state"
kill "$vpid"
wait "$vpid" 2>/dev/null || true
note "recovery-vmfit: ok"
