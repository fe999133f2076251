#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vmtest: cmdline slub_debug=FZPU
#
# Lifecycle: a vmfit-view is created while a reload of the live device is
# pending (inactive table loaded, not resumed), then the reload is resumed
# and the view read: the view is created and reads the frozen image, or its
# creation (or the reload) fails with a clear error.
#
# Runs with slub_debug=FZPU (poisoned, red-zoned, checked slab objects): a
# use-after-free shows up as a slab report or an oops, which fails the test
# (tools/vmtest/init checks the kernel log; oops=panic ends the guest and
# the host runner fails the test with the console tail in its log).
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"

need_vmfit
vmfit_snapshot_fixture 32 8 7
table=$(dmsetup table "$N")
dmsetup reload "$N" --table "$table" || die "loading an inactive table failed"
if view_create view live 2>"$TESTDIR/view.err"; then
	note "view created with a reload pending"
	if timeout 60 dmsetup resume "$N" 2>"$TESTDIR/resume.err"; then
		note "resume done"
	else
		note "resume refused: $(cat "$TESTDIR/resume.err")"
	fi
	assert_eq "$SUM0" "$(sha_dev "$(dm_path view)")" "view after the pending reload was resumed"
	dm_remove view
else
	note "view refused with a reload pending: $(cat "$TESTDIR/view.err")"
	timeout 60 dmsetup resume "$N" || die "resume failed"
fi
vmfit_status live
assert_eq snapshot "$ST_MODE" "mode after the reload"
view_create view live
assert_eq "$SUM0" "$(sha_dev "$(dm_path view)")" "a new view after the reload"
