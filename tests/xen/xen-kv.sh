#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# xen-kv: vmfitd (one host, f = 0) with the xen backend runs the kv
# replica as a PV domain on a vmfit state volume attached through
# blkback, with the replica channel over a vchan. Clients get verified
# answers; the time to start the domain and get its HELLO is printed; a
# domain destroyed from outside (xl destroy) is noticed at once; a vmfitd
# killed while its domain runs finds the stale domain by name at its next
# start and destroys it; nothing is left in Xen or device-mapper.
. "${VMFIT_ROOT:-.}/tests/lib/xen.sh"
need_xen
need_vmfit

vmfit_fixture 64 8
conf=$TESTDIR/vmfitd.conf
log=$TESTDIR/vmfitd.log
xen_conf "$conf" "replica_cmd = kv-hash --records 1000 --record-size 128" \
	"state_volume = $L" "xen_start_timeout_ms = 300000"

note "vmfitd with the xen backend, state volume $L"
t0=$EPOCHREALTIME
xen_vmfitd_start "$conf" "$log"
xen_wait_ready "$conf" "$log" 330
ready_ms=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }')
hello_ms=$(sed -n 's/.*up: first HELLO bytes \([0-9]*\) ms after the start.*/\1/p' "$log")
[ -n "$hello_ms" ] || { cat "$log"; die "no start time in vmfitd's log"; }
echo "XEN-DOMAIN-START-HELLO-MS=$hello_ms (domain create to HELLO, in vmfitd)"
echo "XEN-VMFITD-READY-MS=$ready_ms (vmfitd exec to serving clients)"
grep -E 'image verified|created and unpaused|up: first HELLO' "$log"

domid=$(xen_stat "$conf" replica_domid)
assert_match '^[1-9][0-9]*$' "$domid" "replica_domid in the status"
assert_eq "vmfit-kv-1" "$(xl domname "$domid")" "domain name"
xenstore-exists "/local/domain/$domid/data/vmfit-vchan/ring-ref" ||
	die "no vchan in the domain's xenstore home"
assert_eq "$(dm_devno live | awk -F: '{ printf "%x:%x", $1, $2 }')" \
	"$(xen_vbd_dev "$domid" xvda)" \
	"blkback's physical-device is the vmfit volume"
assert_eq "" "$(xen_vbd_dev "$domid" xvdb)" "no journal disk without state_journal"

note "clients"
out=$(vmfit-bench --servers "127.0.0.1:$XEN_PORT" --clients 4 \
	--requests 400 --records 1000 --verify --json) ||
	die "vmfit-bench failed: $out"
echo "$out"
mism=$(sed -n 's/.*"verify_mismatches": *\([0-9]*\).*/\1/p' <<<"$out")
checked=$(sed -n 's/.*"verify_checked": *\([0-9]*\).*/\1/p' <<<"$out")
assert_eq 0 "$mism" "verify mismatches"
((${checked:-0} > 0)) || die "vmfit-bench checked no answer: $out"
assert_eq "$(xen_stat "$conf" executed)" "$(xen_stat "$conf" orders_delivered)" \
	"every delivered order executed by the domain"

note "xl destroy from outside"
t1=$EPOCHREALTIME
xl destroy "$domid"
t2=$EPOCHREALTIME
deadline=$((SECONDS + 20))
until grep -q "replica (domain $domid) killed by signal 9" "$log"; do
	((SECONDS < deadline)) || { cat "$log"; die "vmfitd did not notice the destroyed domain in 20 s"; }
	sleep 0.05
done
t3=$EPOCHREALTIME
echo "XEN-DESTROY-NOTICED: xl destroy ran $(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%d", (b - a) * 1000 }') ms; vmfitd had noticed $(awk -v a="$t2" -v b="$t3" 'BEGIN { printf "%d", (b - a) * 1000 }') ms after it returned (polled every 50 ms)"
grep -q "xen: domain vmfit-kv-1 ($domid) destroyed" "$log"
# Reaped, the replica is still named by its domain (not "pid 0").
grep -q "replica (domain $domid) is faulty: it exited" "$log" ||
	{ cat "$log"; die "the faulty replica was not named by its domain"; }
grep -q "it closed its channel" "$log" &&
	die "the destroy was seen as a closed channel, not as the domain's end"
kill -0 "$VMFITD_PID" || die "vmfitd died with its replica"
assert_eq 0 "$(xen_stat "$conf" replica_ok)" "replica_ok after the destroy"
kill -TERM "$VMFITD_PID"
wait "$VMFITD_PID" || true
xen_assert_clean

note "vmfitd killed while its domain runs; the next one cleans up"
: >"$log"
xen_vmfitd_start "$conf" "$log"
xen_wait_ready "$conf" "$log" 330
old=$(xen_stat "$conf" replica_domid)
kill -KILL "$VMFITD_PID"
wait "$VMFITD_PID" || true
assert_eq "vmfit-kv-1" "$(xen_domains)" "the orphan domain runs on"
: >"$log"
xen_vmfitd_start "$conf" "$log"
xen_wait_ready "$conf" "$log" 330
grep -q "destroying stale domain vmfit-kv-1 ($old) left by an earlier vmfitd" "$log" ||
	{ cat "$log"; die "the stale domain was not cleaned up"; }
new=$(xen_stat "$conf" replica_domid)
assert_ne "$old" "$new" "a fresh domain"
assert_eq "vmfit-kv-1" "$(xen_domains)" "exactly one domain"
out=$(vmfit-bench --servers "127.0.0.1:$XEN_PORT" --clients 2 \
	--requests 100 --records 1000 --verify --json) ||
	die "vmfit-bench after the restart failed: $out"
assert_eq 0 "$(sed -n 's/.*"verify_mismatches": *\([0-9]*\).*/\1/p' <<<"$out")" \
	"verify mismatches after the restart"

note "polite stop: SIGTERM, the replica sees EOF and its domain powers off"
kill -TERM "$VMFITD_PID"
wait "$VMFITD_PID" || true
cat "$log"
xen_assert_clean
note "PASS"
