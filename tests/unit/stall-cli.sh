#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vmfit-stall's command line on the host: every bad input is rejected with
# a clear message and status 1 before any BPF is loaded; --help succeeds.
# (Tracing itself needs the guest: tests/kmod/stall-basic.sh.)
set -euo pipefail
. "$(dirname "$0")/../lib/unit.sh"

bin=build/bin/vmfit-stall
need_built "$bin"

# reject TEXT ARGS... - vmfit-stall ARGS must exit 1 and print TEXT.
reject() {
	expect_exit 1 "$1" "$bin" "${@:2}"
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
	grep -qF -- "$w" <<<"$out" || fail "--help lacks '$w'"
done
unit_done
