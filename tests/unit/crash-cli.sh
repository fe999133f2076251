#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vmfit-replay and vmfit-crash on the host: bad logs (bad magic, truncated,
# missing), bad options and bad oracles are refused with a clear message and
# status 2; a small synthetic log is listed and replayed (the states reach
# --exec with their environment). Device checks need the guest:
# tests/kmod/crash-*.sh.
set -euo pipefail
. "$(dirname "$0")/../lib/unit.sh"

replay=build/bin/vmfit-replay
crash=build/bin/vmfit-crash
need_built "$replay" "$crash"

# le64 N - 8 little-endian bytes, as printf escapes.
le64() {
	local v=$1 i s=""
	for ((i = 0; i < 8; i++)); do
		s+=$(printf '\\x%02x' $(((v >> (8 * i)) & 255)))
	done
	printf '%s' "$s"
}

# A log: write 'A' to sector 1, flush, mark "vmfit-0", FUA 'B' to sector 2.
# shellcheck disable=SC2059 # the format holds the escapes of the header
sector() { # HEADER-ESCAPES - one 512-byte sector starting with them
	printf "$1" >"$tmp/s"
	truncate -s 512 "$tmp/s"
	cat "$tmp/s"
}
{
	sector "$(le64 0x6a736677736872)$(le64 1)$(le64 4)\x00\x02\x00\x00"
	sector "$(le64 1)$(le64 1)$(le64 0)$(le64 0)"
	head -c 512 /dev/zero | tr '\0' A
	sector "$(le64 0)$(le64 0)$(le64 1)$(le64 0)"
	sector "$(le64 0)$(le64 0)$(le64 8)$(le64 7)vmfit-0"
	sector "$(le64 2)$(le64 1)$(le64 2)$(le64 0)"
	head -c 512 /dev/zero | tr '\0' B
} >"$tmp/log"

out=$("$replay" info "$tmp/log")
grep -qF "entries 4 sectorsize 512 marks 1 flushes 1 fua 1 writes 2 bytes 1024 log_bytes 3584" <<<"$out" ||
	fail "info: $out"
out=$("$replay" list "$tmp/log")
grep -qF "2 mark 0 0 vmfit-0" <<<"$out" || fail "list: $out"
# The one mark state reaches --exec with its environment and image.
out=$("$replay" run "$tmp/log" --size 2048 --image "$tmp/img" --seed 5 \
	--exec "test \"\$REPLAY_KIND\" = mark && test \"\$REPLAY_MARK\" = vmfit-0 && test \"\$(head -c 513 $tmp/img | tail -c 1)\" = A")
grep -qF "1 states checked, 0 failed (seed 5)" <<<"$out" ||
	fail "run with a passing check: $out"
expect_exit 1 "reproduce: vmfit-replay run $tmp/log --size 2048" \
	"$replay" run "$tmp/log" --size 2048 --image "$tmp/img" --seed 5 --exec false

# A failed state's VIOLATION lines reach the summary that tests/lib/crash.sh
# prints last (CI shows a failed test's last lines only); progress stamps
# and passing states do not.
"$replay" run "$tmp/log" --size 2048 --image "$tmp/img" --seed 5 \
	--exec 'echo "  [0.00s] load"; echo "VIOLATION: block 7 reads gen 1; expected gen 2"; echo "vmfit-crash: mark $REPLAY_MARK: 1 violations"; exit 1' \
	>"$tmp/replay.out" 2>&1 || true
out=$(. tests/lib/crash.sh && crash_failures "$tmp/replay.out")
want="  state 1: mark, before entry 2, last mark 'vmfit-0', 0/0 unflushed writes applied
    VIOLATION: block 7 reads gen 1; expected gen 2"
[ "$out" = "$want" ] ||
	fail "crash_failures: '$out', want '$want'"
out=$(. tests/lib/crash.sh && crash_first_violation "$tmp/replay.out")
[ "$out" = "VIOLATION: block 7 reads gen 1; expected gen 2" ] ||
	fail "crash_first_violation: '$out'"
out=$(. tests/lib/crash.sh && "$replay" run "$tmp/log" --size 2048 \
	--image "$tmp/img" --seed 5 --exec true >"$tmp/replay.out" &&
	crash_failures "$tmp/replay.out")
[ -z "$out" ] || fail "crash_failures of a passing run: '$out'"

# Bad logs.
printf 'not a log' >"$tmp/bad"
truncate -s 4096 "$tmp/bad"
expect_exit 2 "bad magic" "$replay" info "$tmp/bad"
head -c 1500 "$tmp/log" >"$tmp/short"
expect_exit 2 "truncated log" "$replay" info "$tmp/short"
expect_exit 2 "truncated log" "$replay" run "$tmp/short" --size 2048 --image "$tmp/img"
head -c 10 "$tmp/log" >"$tmp/tiny"
expect_exit 2 "truncated log" "$replay" info "$tmp/tiny"
expect_exit 2 "cannot open" "$replay" info "$tmp/none"
expect_exit 2 "beyond the data device" "$replay" run "$tmp/log" --size 1024 --image "$tmp/img"

# Bad options.
expect_exit 2 "usage:" "$replay"
expect_exit 2 "unknown command 'x'" "$replay" x y
expect_exit 2 "needs --size (non-zero) and --image" "$replay" run "$tmp/log"
expect_exit 2 "--seed: 'x' is not a number" "$replay" run "$tmp/log" --seed x
expect_exit 2 "--random: '-1' is not a number" "$replay" run "$tmp/log" --random -1
expect_exit 2 "--only needs a value" "$replay" run "$tmp/log" --only
expect_exit 2 "unknown option '--bogus'" "$replay" run "$tmp/log" --bogus 1
expect_exit 2 "usage:" "$crash"
expect_exit 2 "unknown workload 'bogus'" "$crash" run bogus --live x --log y --oracle "$tmp/o"
expect_exit 2 "run needs --live, --log and --oracle" "$crash" run normal
expect_exit 2 "check needs --oracle" "$crash" check --mark vmfit-1
expect_exit 2 "is not a mark of vmfit-crash" "$crash" check --oracle "$tmp/o" --mark m1 \
	--origin a --cow b --chunk 8 --name n
expect_exit 2 "--chunk 12: the check needs a power of two" "$crash" check --oracle "$tmp/o" \
	--mark vmfit-1 --origin a --cow b --chunk 12 --name n
expect_exit 2 "No such file or directory" "$crash" check --oracle "$tmp/none" \
	--mark vmfit-1 --origin a --cow b --chunk 8 --name n
printf 'vmfit-crash-oracle 1\nblocks 1 seed 3\nw 0 1 ok\nf ok\nm 0\n' >"$tmp/o"
expect_exit 2 "no mark 4 in the oracle" "$crash" check --oracle "$tmp/o" \
	--mark vmfit-4 --origin a --cow b --chunk 8 --name n
printf 'vmfit-crash-oracle 1\nblocks 1 seed 3\nw 0 1 perhaps\n' >"$tmp/o"
expect_exit 2 "oracle line 3: result 'perhaps' is neither ok nor fail" "$crash" check \
	--oracle "$tmp/o" --mark vmfit-0 --origin a --cow b --chunk 8 --name n

unit_done
