#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# checkpatch --strict must be clean on kmod/*.[ch] and the uapi header.
# First prove that the checker reports a known problem (so a broken or
# missing checkpatch cannot pass silently), then check the real sources.
set -euo pipefail
. "$(dirname "$0")/../lib/unit.sh"

# A C file with a trailing-whitespace error and a C99 comment.
printf '// SPDX-License-Identifier: GPL-2.0-only\nint x; \n' >"$tmp/bad.c"
if out=$(tools/checkpatch.sh "$tmp/bad.c" 2>&1); then
	echo "FAIL: checkpatch accepted a file with trailing whitespace" >&2
	exit 1
fi
grep -q TRAILING_WHITESPACE <<<"$out" || {
	echo "FAIL: checkpatch self-test: unexpected output: $out" >&2
	exit 1
}

ls kmod/dm-vmfit-target.c kmod/dm-vmfit-cow.c kmod/dm-vmfit.h >/dev/null
if ! out=$(tools/checkpatch.sh 2>&1); then
	echo "FAIL: checkpatch --strict reports problems:" >&2
	printf '%s\n' "$out" >&2
	exit 1
fi
echo "checkpatch: kmod/ and include/uapi/linux/dm-vmfit.h are clean"
