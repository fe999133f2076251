#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vmfit-stall's command line on the host: every bad input is rejected with
# a clear message and status 1 before any BPF is loaded; --help succeeds.
# (Tracing itself needs the guest: tests/kmod/stall-basic.sh.)
set -euo pipefail
cd "$(dirname "$0")/../.."

bin=build/bin/vmfit-stall
[ -x "$bin" ] || { echo "FAIL: $bin not built (make userspace)" >&2; exit 1; }
fails=0

# reject TEXT ARGS... - vmfit-stall ARGS must exit 1 and print TEXT.
reject() {
	local text=$1 out rc=0
	shift
	out=$("$bin" "$@" 2>&1) || rc=$?
	if ((rc != 1)) || ! grep -qF -- "$text" <<<"$out"; then
		echo "FAIL: vmfit-stall $*: rc $rc, want 1 and '$text'; got: $out" >&2
		fails=$((fails + 1))
	else
		echo "ok: vmfit-stall $* -> $text"
	fi
}

reject "missing DEVICE"
reject "too many arguments" 1:2 3:4
reject "Try 'vmfit-stall --help'" --bogus 1:2
reject "/nonexistent: No such file or directory" /nonexistent
reject "/dev/null: not a block device" /dev/null
reject "device number out of range" 4096:0
reject "device number out of range" 1:1048576
reject "invalid --before 'x'" -b x 1:2
reject "invalid --before '60001'" --before=60001 1:2
reject "invalid --after '-1'" -a -1 1:2
reject "invalid --after '5ms'" -a 5ms 1:2
reject "invalid --timeout '0'" -t 0 1:2
reject "invalid --count '0'" -c 0 1:2
reject "invalid --count ''" -c '' 1:2
reject "invalid --duration '99999999999999999999'" -d 99999999999999999999 1:2
reject "--timeout must not be shorter than --after" -a 2000 -t 1000 1:2
# A device that exists but is not device-mapper: loop0's number, 7:0.
reject "(7:0): not a device-mapper device" 7:0

out=$("$bin" --help)
for w in "Usage: vmfit-stall" "--json" "EXAMPLES:"; do
	grep -qF -- "$w" <<<"$out" || {
		echo "FAIL: --help lacks '$w'" >&2
		fails=$((fails + 1))
	}
done
((fails == 0)) || exit 1
echo "vmfit-stall command line: all rejections as expected"
