#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vmtest: cmdline slub_debug=FZPU
#
# Lifecycle: the cow behind dm-flakey. When the cow starts dropping writes
# with errors, fsync on the live device fails, the status health becomes
# 'fail' and a dm event fires (issue 9: it stays 'ok', no event); removal
# stays clean.
#
# Runs with slub_debug=FZPU (poisoned, red-zoned, checked slab objects): a
# use-after-free shows up as a slab report or an oops, which fails the test
# (tools/vmtest/init checks the kernel log; oops=panic ends the guest and
# the host runner fails the test with the console tail in its log).
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"

need_vmfit
slice origin "$DISK_A" 0 32
slice cowraw "$DISK_B" 0 32
zero_dev "$(dm_path cowraw)" 0 8
S=$((32 * 2048))
dm_create cow "0 $S flakey $(dm_path cowraw) 0 3600 0"
vmfit_create live "$(dm_path origin)" "$(dm_path cow)" 8
L=$(dm_path live)
N=$(dm_name live)
snapshot_ready live
vmtest-io write "$L" 3 100
ev=$(dmsetup info -c --noheadings -o events "$N" | tr -d ' ')
note "cow now fails every write"
dmsetup suspend "$(dm_name cow)"
dmsetup reload "$(dm_name cow)" --table "0 $S flakey $(dm_path cowraw) 0 0 3600 1 error_writes"
dmsetup resume "$(dm_name cow)"
rc=0
vmtest-io write "$L" 4 100 || rc=$?
note "write + fdatasync with a failing cow: rc $rc"
((rc != 0)) || die "fsync succeeded although every cow write fails"
vmfit_status live
assert_eq fail "$ST_HEALTH" "health with a failing cow"
ev2=$(dmsetup info -c --noheadings -o events "$N" | tr -d ' ')
assert_ne "$ev" "$ev2" "dm event counter after the cow failed"
dmsetup suspend "$(dm_name cow)"
dmsetup reload "$(dm_name cow)" --table "0 $S linear $(dm_path cowraw) 0"
dmsetup resume "$(dm_name cow)"
