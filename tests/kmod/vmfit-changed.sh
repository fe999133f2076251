#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The changed set (`dmsetup message X 0 changed`) covers exactly the chunks
# written since `clear`: single chunks, ranges, partial-chunk writes, a
# large random set (which needs paging), across a clean reload, in snapshot
# mode, and with a chunk size larger than the write size.
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"

need_vmfit
vmfit_fixture 256/64 8
NCHUNKS=$((256 * 256))
LAST=$((NCHUNKS - 1))

# write_chunk DEV BYTE_OFFSET BYTES
write_at() {
	dd if=/dev/urandom of="$1" bs="$3" count=1 seek="$2" oflag=direct,seek_bytes \
		conv=notrunc 2>/dev/null
}

changed_list() {
	vmfit_changed live | tr '\n' ' ' | sed 's/ $//'
}

note "clear gives an empty set"
dm_msg live clear
assert_eq "" "$(dm_msg live changed)" "changed output after clear"
vmfit_status live
assert_eq 0 "$ST_CHANGED" "#changed after clear"

note "single chunks and ranges"
for c in 0 1 2 3 17 20 21 $LAST; do
	write_at "$L" $((c * 4096)) 4096
done
assert_eq "0-3,17,20-21,$LAST" "$(dm_msg live changed)" "changed ranges"
vmfit_status live
assert_eq 8 "$ST_CHANGED" "#changed"

note "a partial-chunk write marks its chunk; a two-chunk write marks both"
write_at "$L" $((40 * 4096 + 1024)) 512
write_at "$L" $((50 * 4096 + 2048)) 4096
assert_eq "0 1 2 3 17 20 21 40 50 51 $LAST" "$(changed_list)" "changed after partial writes"

note "reads mark nothing"
dd if="$L" of=/dev/null bs=1M count=16 iflag=direct 2>/dev/null
assert_eq "0 1 2 3 17 20 21 40 50 51 $LAST" "$(changed_list)" "changed after reads"

note "a large random set (paged output) is exact"
dm_msg live clear
assert_eq "" "$(changed_list)" "changed after the second clear"
vmtest-io write "$L" 31 2000 0 $NCHUNKS
want=$(vmtest-io list 31 2000 0 $NCHUNKS | sort -n -u | tr '\n' ' ' | sed 's/ $//')
assert_eq "$want" "$(changed_list)" "changed set of 2000 random writes"
vmfit_status live
assert_eq "$(wc -w <<<"$want")" "$ST_CHANGED" "#changed of the random set"

note "paging: changed <start> starts at a chunk"
mid=$(cut -d" " -f1000 <<<"$want")
page=$(dm_msg live changed "$mid")
first=${page%%[,-]*}
assert_eq "$mid" "$first" "first chunk of a page that starts at $mid"

note "the changed set survives a clean remove/create"
dm_remove live
vmfit_create live "$O" "$C" 8
assert_eq "$want" "$(changed_list)" "changed set after reload"

note "snapshot mode: bitmap plus cow-mapped chunks"
snapshot_ready live
vmtest-io write "$L" 32 200 0 $NCHUNKS
want2=$({ tr ' ' '\n' <<<"$want"; vmtest-io list 32 200 0 $NCHUNKS; } |
	sort -n -u | tr '\n' ' ' | sed 's/ $//')
assert_eq "$want2" "$(changed_list)" "changed set in snapshot mode"
expect_fail "Device or resource busy" dm_msg live clear
assert_eq "$want2" "$(changed_list)" "changed set after a rejected clear"
dm_msg live drop
dm_remove live

note "chunk size 16 sectors: a 4 KiB write marks its 8 KiB chunk"
slice cow2 "$DISK_B" 100 64
zero_dev "$(dm_path cow2)" 0 8
vmfit_create live2 "$O" "$(dm_path cow2)" 16
dm_msg live2 clear
for blk in 1 6 7 8 1001; do
	write_at "$(dm_path live2)" $((blk * 4096)) 4096
done
assert_eq "0,3-4,500" "$(dm_msg live2 changed)" "changed with 8 KiB chunks"
dm_remove live2
