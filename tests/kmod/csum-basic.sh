#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# In-kernel checksums of the frozen view (vmfit-ctl checksum, generic
# netlink), while the live device is being written:
# - every SHA-256 digest equals userspace's of the same chunk read from the
#   view (vmfit-csum-ref over all chunks; sha256sum and openssl dgst on
#   sampled chunks), full and changed-set modes;
# - blake2b-256, xxhash64 and crc32c equal the reference implementations
#   (themselves checked against published vectors by vf-csum-test);
# - the Merkle root equals a userspace recomputation; one flipped byte in
#   one chunk of the frozen origin changes exactly that leaf and the root;
# - a chunk range returns exactly that range.
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"

need_vmfit
MB=32
CHUNK=8				# sectors
NCHUNKS=$((MB * 2048 / CHUNK))

vmfit_fixture $MB $CHUNK 5

note "a changed set: 300 random blocks"
vmtest-io write "$L" 11 300
changed=$(dm_msg live changed)
nchanged=$(expand_ranges "$changed" | wc -l)
assert_le 100 "$nchanged" "changed chunks"
note "changed set: $nchanged chunks"

ctl_fail_rc() { # WANT ARGS...
	local want=$1 rc=0
	shift
	vmfit-ctl "$@" >"$TESTDIR/err.out" 2>&1 || rc=$?
	assert_eq "$want" "$rc" "exit status of vmfit-ctl $* ($(cat "$TESTDIR/err.out"))"
}
note "no snapshot: refused with the kernel's reason"
ctl_fail_rc 1 checksum "$N"
grep -q "no active snapshot" "$TESTDIR/err.out" ||
	die "no extack message: $(cat "$TESTDIR/err.out")"

snapshot_ready live
view_create view live
V=$(dm_path view)

note "full view, sha256, while the live device is written"
vmtest-io write "$L" 12 3000 &
writer=$!
vmfit-ctl checksum "$N" >"$TESTDIR/k.sha256"
wait $writer || die "the live writes failed during the checksum"
assert_eq $NCHUNKS "$(wc -l <"$TESTDIR/k.sha256")" "digests"
vmfit-csum-ref $CHUNK "$V" >"$TESTDIR/r.sha256"
cmp "$TESTDIR/k.sha256" "$TESTDIR/r.sha256" ||
	die "kernel sha256 digests differ from userspace's"
for c in 0 1 $((NCHUNKS / 2)) $((NCHUNKS - 1)); do
	want=$(dd if="$V" bs=4096 skip=$c count=1 iflag=direct 2>/dev/null |
		sha256sum | cut -d' ' -f1)
	got=$(awk -v c=$c '$1 == c { print $2 }' "$TESTDIR/k.sha256")
	assert_eq "$want" "$got" "chunk $c vs sha256sum"
	want=$(dd if="$V" bs=4096 skip=$c count=1 iflag=direct 2>/dev/null |
		openssl dgst -sha256 -r | cut -d' ' -f1)
	assert_eq "$want" "$got" "chunk $c vs openssl dgst"
done

note "changed set only"
vmfit-ctl checksum --changed "$N" >"$TESTDIR/k.changed"
assert_eq "$nchanged" "$(wc -l <"$TESTDIR/k.changed")" "changed digests"
vmfit-csum-ref --changed "$changed" $CHUNK "$V" >"$TESTDIR/r.changed"
cmp "$TESTDIR/k.changed" "$TESTDIR/r.changed" ||
	die "changed-set digests differ from userspace's"
# The same chunks as the full run, with the same digests.
assert_eq "$nchanged" "$(grep -cFxf "$TESTDIR/k.changed" "$TESTDIR/k.sha256")" \
	"changed digests found in the full list"

note "other algorithms against the references (chunks 100-2099)"
for algo in blake2b-256 xxhash64 crc32c; do
	vmfit-ctl checksum --algo $algo --first 100 --last 2099 "$N" \
		>"$TESTDIR/k.$algo"
	vmfit-csum-ref --algo $algo --changed 100-2099 $CHUNK "$V" \
		>"$TESTDIR/r.$algo"
	assert_eq 2000 "$(wc -l <"$TESTDIR/k.$algo")" "$algo digests"
	cmp "$TESTDIR/k.$algo" "$TESTDIR/r.$algo" ||
		die "$algo digests differ from the reference"
	assert_eq 100 "$(head -n1 "$TESTDIR/k.$algo" | cut -d' ' -f1)" "$algo first chunk"
done

note "Merkle root"
vmfit-ctl checksum --merkle --quiet "$N" >"$TESTDIR/k.root"
vmfit-csum-ref --merkle --quiet $CHUNK "$V" >"$TESTDIR/r.root"
assert_match '^merkle-root [0-9a-f]{64}$' "$(cat "$TESTDIR/k.root")" "root line"
assert_eq "$(cat "$TESTDIR/r.root")" "$(cat "$TESTDIR/k.root")" "merkle root"
vmfit-ctl --json checksum --merkle "$N" >"$TESTDIR/k.json"
assert_eq "$(cut -d' ' -f2 "$TESTDIR/k.root")" \
	"$(jq -r .merkle_root "$TESTDIR/k.json" 2>/dev/null ||
	   sed 's/.*"merkle_root":"\([0-9a-f]*\)".*/\1/' "$TESTDIR/k.json")" "json root"

note "one flipped byte in chunk 777 of the frozen origin"
byte=$(dd if="$O" bs=1 skip=$((777 * 4096 + 100)) count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
printf "\\$(printf '%03o' $(((byte + 1) % 256)))" |
	dd of="$O" bs=1 seek=$((777 * 4096 + 100)) conv=notrunc oflag=sync 2>/dev/null
vmfit-ctl checksum --merkle "$N" >"$TESTDIR/k.flip"
grep -v merkle-root "$TESTDIR/k.flip" >"$TESTDIR/k.flip.digests"
diff "$TESTDIR/k.sha256" "$TESTDIR/k.flip.digests" >"$TESTDIR/d" || true
assert_eq 2 "$(grep -c '^[<>]' "$TESTDIR/d" || true)" "changed digest lines"
grep -q '^< 777 ' "$TESTDIR/d" || die "the changed leaf is not chunk 777: $(cat "$TESTDIR/d")"
assert_ne "$(cat "$TESTDIR/k.root")" "$(grep merkle-root "$TESTDIR/k.flip")" "root after the flip"

dm_remove view
dm_msg live drop
note "ok"
