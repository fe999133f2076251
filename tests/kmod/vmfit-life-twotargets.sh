#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vmtest: cmdline slub_debug=FZPU
#
# Lifecycle: two vmfit targets in one table (two origins, two cows). Either
# the table is refused with a clear error, or each target keeps its own
# state: a snapshot of one (message at its sector) freezes that one only,
# and removal is clean.
#
# Runs with slub_debug=FZPU (poisoned, red-zoned, checked slab objects): a
# use-after-free shows up as a slab report or an oops, which fails the test
# (tools/vmtest/init checks the kernel log; oops=panic ends the guest and
# the host runner fails the test with the console tail in its log).
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"

need_vmfit
slice o1 "$DISK_A" 0 16
slice o2 "$DISK_A" 16 16
slice c1 "$DISK_B" 0 16
slice c2 "$DISK_B" 16 16
zero_dev "$(dm_path c1)" 0 8
zero_dev "$(dm_path c2)" 0 8
vmtest-io fill "$(dm_path o1)" 1
vmtest-io fill "$(dm_path o2)" 2
S=$((16 * 2048))
t="0 $S vmfit $(dm_path o1) $(dm_path c1) 8
$S $S vmfit $(dm_path o2) $(dm_path c2) 8"
if ! dmsetup create "${PREFIX}two" --table "$t" 2>"$TESTDIR/two.err"; then
	note "two targets in one table refused: $(cat "$TESTDIR/two.err"; dmesg | tail -n 2)"
	exit 0
fi
_dm_created+=("${PREFIX}two")
T=$(dm_path two)
sum1=$(sha_dev "$T" 0 $S)
sum2=$(sha_dev "$T" $S $S)
dmsetup message "${PREFIX}two" 0 snapshot
dmsetup message "${PREFIX}two" $S snapshot
sleep 2
dmsetup status "${PREFIX}two"
vmtest-io write "$T" 9 500
dmsetup message "${PREFIX}two" 0 drop
assert_eq "$sum1" "$(sha_dev "$T" 0 $S)" "first target after its drop"
dmsetup message "${PREFIX}two" $S drop
assert_eq "$sum2" "$(sha_dev "$T" $S $S)" "second target after its drop"
dmsetup suspend "${PREFIX}two"
dmsetup resume "${PREFIX}two"
dm_remove two
