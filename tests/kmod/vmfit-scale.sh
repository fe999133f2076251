#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Scale (cow format 3): a 1 TiB origin at 4 KiB chunks (2^28 chunks) is
# created, snapshotted, written sparsely, reloaded, merged and removed in
# the 2 GiB guest. The origin is a dm-zero device (reads zeros, drops
# writes: the target sees a real 1 TiB origin and nothing grows with it);
# the cow is a 1 GiB slice of DISK_B. Asserted outcomes, not timings:
# - kernel memory from vmalloc for the target (/proc/vmallocinfo, the
#   per-origin tables) is at most 2 bits per origin chunk, and what the
#   spread mapped chunks add (kmalloc-512 leaves) stays well under one leaf
#   per mapped chunk (an isolated entry lives in the directory);
# - activation of an idle device (clean, empty changed set) and of one
#   with a snapshot reads neither the whole changed-set bitmap (32 MiB) nor
#   the whole mapping: cow sectors read stay under 4 MiB;
# - status and `changed` report exactly the written chunks in snapshot
#   mode, after a reload, and after the merge folded them into the set;
# - the data of mapped chunks survives the reload; everything is freed
#   at remove.
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"

need_vmfit
modprobe dm-zero 2>/dev/null
dmsetup targets | grep -q '^zero ' || die "no dm-zero target in the guest"

TIB_SECTORS=$((1 << 31))
CHUNKS=$((1 << 28))
N=300

dm_create origin "0 $TIB_SECTORS zero"
slice cow "$DISK_B" 0 1024
O=$(dm_path origin)
C=$(dm_path cow)
zero_dev "$C" 0 8
TABLE="0 $TIB_SECTORS vmfit $O $C 8"

# vmalloc bytes held by dm_vmfit.
vmalloc_vmfit() {
	awk '/\[dm_vmfit\]/ { s += $2 } END { printf "%d", s }' /proc/vmallocinfo
}
kmalloc512() {
	awk '$1 == "kmalloc-512" { print $2 }' /proc/slabinfo
}
# Sectors read from the cow device so far.
cow_reads() {
	awk '{ print $3 }' "/sys/block/dm-$(dm_devno cow | cut -d: -f2)/stat"
}
# create_counted - create "live" and set READ to the cow sectors it read.
create_counted() {
	local before
	before=$(cow_reads)
	dm_create live "$TABLE"
	READ=$(($(cow_reads) - before))
}

vm0=$(vmalloc_vmfit)
note "format and activate a 1 TiB origin ($CHUNKS chunks)"
dm_create live "$TABLE"
L=$(dm_path live)
vm1=$(vmalloc_vmfit)
note "vmalloc for the target: $((vm1 - vm0)) bytes"
assert_le $((vm1 - vm0)) $((CHUNKS / 4)) "vmalloc bytes (2 bits per origin chunk)"
vmfit_status live
assert_eq normal "$ST_MODE" "mode after format"
assert_eq 0 "$ST_CHANGED" "changed chunks after format"

note "activation of the idle device reads little of the cow"
dm_remove live
create_counted
note "cow sectors read: $READ"
assert_le "$READ" 8192 "cow sectors read by an idle activation"

note "snapshot, then $N writes spread over the origin"
snapshot_ready live 60
head -c 4096 /dev/urandom >"$TESTDIR/blk"
want=$(sha256sum <"$TESTDIR/blk" | cut -d' ' -f1)
k0=$(kmalloc512)
: >"$TESTDIR/chunks"
for ((i = 0; i < N; i++)); do
	c=$(((i * 2654435761 + 12345) % CHUNKS))
	echo "$c" >>"$TESTDIR/chunks"
	dd if="$TESTDIR/blk" of="$L" bs=4096 seek="$c" count=1 \
		oflag=direct conv=notrunc 2>/dev/null || die "write to chunk $c failed"
done
sort -n -u "$TESTDIR/chunks" >"$TESTDIR/want"
NW=$(wc -l <"$TESTDIR/want")
k1=$(kmalloc512)
note "kmalloc-512 objects: $k0 -> $k1 for $NW mapped chunks"
assert_le $((k1 - k0)) $((NW / 2 + 500)) "leaves for $NW spread mapped chunks"
vmfit_status live
assert_eq "$NW" "$ST_CHANGED" "changed chunks in snapshot mode"
assert_eq "$NW" "$ST_COW_USED" "cow chunks used"
vmfit_changed live >"$TESTDIR/got"
cmp -s "$TESTDIR/want" "$TESTDIR/got" ||
	die "changed set in snapshot mode differs: $(diff "$TESTDIR/want" "$TESTDIR/got" | head)"

note "reload with the snapshot: the mapping prefix only is read"
dm_remove live
create_counted
note "cow sectors read: $READ"
assert_le "$READ" 8192 "cow sectors read by an activation with $NW mapped"
vmfit_status live
assert_eq snapshot "$ST_MODE" "mode after the reload"
assert_eq "$NW" "$ST_CHANGED" "changed chunks after the reload"
c=$(head -n 1 "$TESTDIR/want")
assert_eq "$want" "$(sha_block "$L" "$c")" "chunk $c after the reload"
c=$(tail -n 1 "$TESTDIR/want")
assert_eq "$want" "$(sha_block "$L" "$c")" "chunk $c after the reload"

note "merge"
dm_msg live merge
wait_status live MODE normal 300
vmfit_status live
assert_eq "$NW" "$ST_CHANGED" "changed chunks after the merge"
assert_eq 0 "$ST_COW_USED" "cow chunks used after the merge"
vmfit_changed live >"$TESTDIR/got"
cmp -s "$TESTDIR/want" "$TESTDIR/got" ||
	die "changed set after the merge differs: $(diff "$TESTDIR/want" "$TESTDIR/got" | head)"

note "clear, remove: the memory is freed"
dm_msg live clear
vmfit_status live
assert_eq 0 "$ST_CHANGED" "changed chunks after clear"
dm_remove live
assert_eq "$vm0" "$(vmalloc_vmfit)" "vmalloc bytes after remove"
note "ok"
