# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# tests/lib/unit.sh - the shared preamble of the unit shell tests
# (tests/unit/*.sh), which run on the host through tests/run. Source it
# first, after the test's own `set` line:
#
#	set -uo pipefail	# or -euo: a test that stops at its first error
#	. "$(dirname "$0")/../lib/unit.sh"
#	...
#	expect_exit 2 "unknown option" "$bin" --bogus
#	unit_done
#
# Sourcing it:
#   - sets TOP to the top of the tree (absolute) and changes to it, so the
#     test names build/bin/... and tools/... relative to it;
#   - sets UNIT_NAME (the test's name, for its last line) and tmp, a new
#     temporary directory removed when the test ends, pass or fail, after
#     what at_exit registered.
# It leaves the shell options to the test: a test that counts its failures
# and goes on runs without -e.
#
# A test counts its failed checks with fail (or check, expect_exit,
# expect_jq) and ends with unit_done, which turns the count into the exit
# status tests/run reads: 0 pass, 1 fail (77, a skip, is the test's own
# `exit 77`).

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$TOP" || exit 1
UNIT_NAME=$(basename "$0" .sh)
# A hung command fails its check here, instead of the whole test running
# into tests/run's VMFIT_TEST_TIMEOUT.
UNIT_CMD_TIMEOUT=60
fails=0
_unit_at_exit=()

# at_exit COMMAND - run COMMAND (a shell string, expanded then) when the
# test ends, pass or fail, before tmp is removed; the last registered runs
# first. Use this, not a trap of your own: the trap is the preamble's.
at_exit() {
	_unit_at_exit+=("$1")
}

_unit_exit() {
	local rc=$? i
	set +e
	for ((i = ${#_unit_at_exit[@]} - 1; i >= 0; i--)); do
		eval "${_unit_at_exit[$i]}"
	done
	rm -rf "$tmp"
	exit "$rc"
}

tmp=$(mktemp -d -t "vmfit-$UNIT_NAME.XXXXXX") || exit 1
trap _unit_exit EXIT

# Set-up: what the test needs is missing -> a failure, never a skip.

# need_built FILE... - every FILE (relative to TOP or absolute) must be an
# executable that make built: `make unit-tests` those in build/tests/,
# `make userspace` the others.
need_built() {
	local f target
	for f in "$@"; do
		[ -x "$f" ] && continue
		case "$f" in
		build/tests/* | "$TOP"/build/tests/*) target=unit-tests ;;
		*) target=userspace ;;
		esac
		echo "FAIL: $f not built (make $target)" >&2
		exit 1
	done
}

# need_cmd TOOL... - every TOOL must be on PATH (tools/deps.sh installs
# them).
need_cmd() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null && continue
		echo "FAIL: $t missing: run 'make deps'" >&2
		exit 1
	done
}

# Checks: each failed one is counted and the test goes on.

# fail MESSAGE - count a failed check.
fail() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}

# check WHAT COMMAND... - COMMAND must succeed.
check() {
	local what=$1
	shift
	if "$@"; then
		echo "ok: $what"
	else
		fail "$what"
	fi
}

# expect_exit RC TEXT COMMAND... - COMMAND must exit with status RC and
# print TEXT (a fixed string) on stdout or stderr.
expect_exit() {
	local want=$1 text=$2 out rc=0
	shift 2
	out=$(timeout "$UNIT_CMD_TIMEOUT" "$@" 2>&1) || rc=$?
	if ((rc != want)) || ! grep -qF -- "$text" <<<"$out"; then
		fail "$*: rc $rc, want $want and '$text'; got: $out"
	else
		echo "ok: $* -> $text"
	fi
}

# expect_jq FILE EXPR WHAT - the jq expression EXPR must be true of the
# JSON document FILE.
expect_jq() {
	jq -e "$2" "$1" >/dev/null 2>&1 || fail "${1##*/}: $3 ($2)"
}

# unit_done [NOTE] - the test's last line and its exit status: 1 after
# any failed check, otherwise 0.
# shellcheck disable=SC2120 # NOTE is optional
unit_done() {
	if ((fails)); then
		echo "$UNIT_NAME: $fails check(s) failed${1:+ ($1)}" >&2
		exit 1
	fi
	echo "$UNIT_NAME: ok${1:+ ($1)}"
	exit 0
}
