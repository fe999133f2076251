#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Cow space is reused correctly: after a drop and after a merge, the next
# snapshot's writes land where they belong (checked against a reference
# copy that receives the same deterministic writes) and nothing of an
# earlier epoch shows through.
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"

need_vmfit
MB=32
N=$((MB * 256))		# 4 KiB blocks = chunks
origin_cow_ref $MB
zero_dev "$O"
vmtest-io write "$O" 1 500
copy_dev "$O" "$REF" $((MB * 2048))
vmfit_create live "$O" "$C" 8
L=$(dm_path live)

for round in 1 2 3; do
	note "round $round: snapshot, writes to the upper half, drop"
	snapshot_ready live
	vmtest-io write "$L" $((10 + round)) 400 $((N / 2)) $((N / 2))
	dm_msg live drop
	assert_eq "$(sha_dev "$REF")" "$(sha_dev "$L")" "live after drop (round $round)"

	note "round $round: snapshot, writes to the lower half, merge"
	snapshot_ready live
	vmtest-io write "$L" $((20 + round)) 400 0 $((N / 2))
	vmtest-io write "$REF" $((20 + round)) 400 0 $((N / 2))
	assert_eq "$(sha_dev "$REF")" "$(sha_dev "$L")" "live in snapshot mode (round $round)"
	dm_msg live merge
	wait_status live MODE normal 120
	assert_eq "$(sha_dev "$REF")" "$(sha_dev "$L")" "live after merge (round $round)"
	assert_eq "$(sha_dev "$REF")" "$(sha_dev "$O")" "origin after merge (round $round)"
done
