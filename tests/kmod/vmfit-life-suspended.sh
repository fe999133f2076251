#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vmtest: cmdline slub_debug=FZPU
#
# Lifecycle: every message while the live device is suspended (snapshot,
# drop, merge, clear, changed) returns within 30 s (done or refused with an
# error); after resume the status is consistent and the device works.
#
# Runs with slub_debug=FZPU (poisoned, red-zoned, checked slab objects): a
# use-after-free shows up as a slab report or an oops, which fails the test
# (tools/vmtest/init checks the kernel log; oops=panic ends the guest and
# the host runner fails the test with the console tail in its log).
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"

need_vmfit
vmfit_fixture 32 8 7
vmtest-io write "$L" 3 200
dmsetup suspend "$N"
for m in snapshot changed clear drop merge; do
	if out=$(timeout 30 dmsetup message "$N" 0 $m 2>&1); then
		note "suspended: '$m' accepted: ${out:0:60}"
	else
		rc=$?
		((rc != 124)) || die "message '$m' to a suspended device hung (30 s)"
		note "suspended: '$m' refused (rc $rc): ${out:0:80}"
	fi
done
timeout 60 dmsetup resume "$N" || die "resume hung or failed"
vmfit_status live
note "after resume: mode $ST_MODE view $ST_VIEW health $ST_HEALTH"
assert_eq ok "$ST_HEALTH" health
if [ "$ST_MODE" = snapshot ]; then
	wait_status live VIEW ready 30
	dm_msg live drop
fi
wait_status live MODE normal 60
fio_verify "$L" after --size=16M --number_ios=300
