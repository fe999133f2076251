#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Netlink fuzzing of dm-vmfit (tools/vmfit-nlfuzz), bounded in time:
# - fixed bad requests: missing, duplicate, oversized, wrongly typed and
#   unknown attributes, huge and inverted chunk ranges, unknown devices and
#   commands; each gets the expected errno and an extack message;
# - as nobody, and as root without CAP_SYS_ADMIN (CAP_NET_ADMIN kept):
#   every admin command gets -EPERM, status works;
# - random requests from two processes at once (snapshot, checksum dumps
#   abandoned midway, merge, drop, clear, garbage) while the live device is
#   written: every request is answered, errors carry extack messages;
# - afterwards: no oops or warning, no checksum session left in memory
#   (the module's csum_sessions counter, which nl-basic.sh shows counting)
#   and the module's reference count returns to where it was. (Debian's
#   kernel has no kmemleak; the dm_io cache is merged with others.)
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"

need_vmfit
SECS=${VMFIT_NLFUZZ_SECONDS:-20}
[ "${VMFIT_STRESS:-0}" != 1 ] || SECS=600

sessions() {
	cat /sys/module/dm_vmfit/parameters/csum_sessions
}
refcnt() {
	cat /sys/module/dm_vmfit/refcnt
}

ref0=$(refcnt)
assert_eq 0 "$(sessions)" "checksum sessions in memory before"
note "before: dm_vmfit refcnt $ref0"

slice origin "$DISK_A" 0 16
slice cow "$DISK_B" 0 16
O=$(dm_path origin)
C=$(dm_path cow)
vmtest-io fill "$O" 2
zero_dev "$C" 0 8
vmfit_create live "$O" "$C" 8
L=$(dm_path live)
N=$(dm_name live)
kmsg_mark

note "fixed bad requests"
vmfit-nlfuzz cases "$N"

note "without privileges"
vmfit-nlfuzz unpriv "$N"
note "with CAP_NET_ADMIN but without CAP_SYS_ADMIN"
vmfit-nlfuzz netadmin "$N"

note "random requests: 2 processes, ${SECS}s, with a writer"
seed=${VMFIT_SEED:-$RANDOM}
(for i in $(seq 1000); do
	vmtest-io write "$L" $i 50 >/dev/null 2>&1 || true
	[ -e "$TESTDIR/stop" ] && break
done) &
writer=$!
vmfit-nlfuzz random "$N" "$SECS" 2 "$seed" || die "fuzzing failed (seed $seed)"
touch "$TESTDIR/stop"
wait $writer

note "back to normal mode"
for i in $(seq 600); do
	vmfit_status live
	case $ST_MODE in
	normal) break ;;
	snapshot) [ "$ST_VIEW" = ready ] && dm_msg live drop || true ;;
	esac
	sleep 0.1
done
assert_eq normal "$ST_MODE" "mode after fuzzing"
vmfit-nlfuzz status "$N" | grep -qx "csum_active=0" ||
	die "checksum sessions left: $(vmfit-nlfuzz status "$N")"
fio_verify "$L" after-fuzz --size=8M --number_ios=300

log=$(kmsg_since_mark)
if grep -Eq "BUG|WARNING|Oops|general protection|refcount_t|list_(add|del) corruption" <<<"$log"; then
	echo "$log" | tail -n 60
	die "kernel complaints during fuzzing"
fi

dm_remove live
for i in $(seq 50); do
	[ "$(sessions)" = 0 ] && break
	sleep 0.1
done
assert_eq 0 "$(sessions)" "checksum sessions in memory after (leak?)"
# The other devices of this test hold no module reference: only vmfit does.
assert_eq "$ref0" "$(refcnt)" "dm_vmfit module reference count"
note "ok (seed $seed)"
