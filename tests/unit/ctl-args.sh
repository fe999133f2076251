#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vmfit-ctl misuse, on the host: every bad command line exits 2 with exactly
# one line on stderr and nothing on stdout, before any device access (the
# host has no device-mapper, so a command that got as far as a device would
# exit 1 instead). Also: help is generated for every command, -h works for
# every command, --version.
set -uo pipefail
. "$(dirname "$0")/../lib/unit.sh"

# The ASan/UBSan build: a leak or undefined behaviour on any of these paths
# fails the check (exit status 1 instead of 2, or output on stderr).
ctl=$TOP/build/tests/ctl/vmfit-ctl
need_built "$ctl"

checks=0

run() { # args... -> $rc, $out, $err
	"$ctl" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
}

# misuse PATTERN ARGS... - exit 2, one stderr line matching PATTERN.
misuse() {
	local pat=$1
	shift
	checks=$((checks + 1))
	run "$@"
	local lines
	lines=$(wc -l <"$tmp/err")
	if [ "$rc" != 2 ]; then
		fail "'vmfit-ctl $*': exit $rc, want 2 (stderr: $err)"
	elif [ "$lines" != 1 ]; then
		fail "'vmfit-ctl $*': $lines stderr lines, want 1: $err"
	elif [ -n "$out" ]; then
		fail "'vmfit-ctl $*': wrote to stdout: $out"
	elif ! grep -qE -- "$pat" <<<"$err"; then
		fail "'vmfit-ctl $*': stderr '$err' does not match /$pat/"
	elif [[ "$err" != "vmfit-ctl: "* ]]; then
		fail "'vmfit-ctl $*': stderr does not start with 'vmfit-ctl: ': $err"
	fi
}

# Top level.
misuse '^vmfit-ctl: no command given, try "vmfit-ctl help"\.$'
misuse '^vmfit-ctl: Command "x" is unknown, try "vmfit-ctl help"\.$' x
misuse '^vmfit-ctl: Command "STATUS" is unknown' STATUS
misuse '^vmfit-ctl: Command "nope" is unknown, try "vmfit-ctl help"\.$' help nope
misuse "unknown option '--bogus'" --bogus status
misuse "unknown option '-x'" -x status
misuse "Command \"--json\" is unknown" -- --json

# Argument counts, every command.
misuse 'help: too many arguments' help create view
misuse 'load: too many arguments' load extra
misuse 'create: missing argument' create
misuse 'create: missing argument' create vol
misuse 'create: missing argument' create vol /dev/a
misuse 'create: too many arguments' create vol /dev/a /dev/b /dev/c
misuse 'view: missing argument' view
misuse 'view: too many arguments' view vol v extra
misuse 'remove: missing argument' remove
misuse 'remove: too many arguments' remove a b
for c in snapshot merge drop clear changed; do
	misuse "$c: missing argument \\(usage: vmfit-ctl $c NAME" "$c"
	misuse "$c: too many arguments" "$c" a b
	misuse "$c: unknown option '--nope'" "$c" --nope a
	misuse "$c: unknown option '-q'" "$c" -q a
	misuse "$c: invalid device name 'a/b'" "$c" a/b
done

# Options and their values.
misuse "load: option '--module' needs an argument" load --module
misuse "load: empty module path" load --module ''
misuse "load: unknown option '--force'" load --force
misuse "create: option '--chunk-size' needs an argument" create v /a /b --chunk-size
misuse "create: invalid chunk size '3k': must be a power of two" create v /a /b --chunk-size 3k
misuse "create: invalid chunk size '256': must be between 512 and 1m" create v /a /b --chunk-size 256
misuse "create: invalid chunk size '2m': must be between 512 and 1m" create v /a /b -c 2m
misuse "create: invalid chunk size '0': must be between" create v /a /b -c 0
misuse "create: invalid chunk size '4kb': trailing characters" create v /a /b -c 4kb
misuse "create: invalid chunk size '4t': unknown suffix" create v /a /b -c 4t
misuse "create: invalid chunk size '-4k': expected a decimal number" create v /a /b -c -4k
misuse "create: invalid chunk size 'x': expected a decimal number" create v /a /b --chunk-size=x
misuse "create: invalid chunk size '99999999999999999999': number too large" create v /a /b -c 99999999999999999999
misuse "create: unknown option '--size'" create v /a /b --size 1
misuse "create: unknown option '--ignore-discards'" create v /a /b --ignore-discards
misuse "create: empty device path" create v '' /b
misuse "create: empty device path" create v /a ''
misuse "recover: invalid timeout 'x': expected a decimal number" recover --timeout x
misuse "recover: invalid timeout '0': zero" recover -t 0
misuse "recover: too many arguments|unexpected argument" recover extra
misuse "manager: --config and --status-file exclude each other" manager -c /a -s /b
misuse "manager: too many arguments|unexpected argument" manager extra
misuse "manager: option '--status-file' needs an argument" manager --status-file
misuse "manager: unknown option '--all'" manager --all
misuse "merge: --timeout needs --wait" merge v --timeout 5
misuse "merge: invalid timeout 'x': expected a decimal number" merge v --wait --timeout x
misuse "merge: invalid timeout '5s': trailing characters" merge v -w -t 5s
misuse "merge: invalid timeout '99999999999': number too large" merge v -w -t 99999999999
misuse "merge: option '--timeout' needs an argument" merge v --wait --timeout

# Names.
long=$(printf 'a%.0s' {1..128})
misuse "create: invalid device name '$long': longer than 127" create "$long" /a /b
misuse "create: invalid device name '': empty name" create '' /a /b
misuse "create: invalid device name '..': reserved name" create .. /a /b
misuse "create: invalid device name 'a b'" create 'a b' /a /b
misuse "view: invalid device name 'a/b'" view a/b
misuse "view: invalid device name 'v/1'" view vol v/1
misuse "view: '$(printf 'a%.0s' {1..123})-view' is too long: give VIEWNAME" view "$(printf 'a%.0s' {1..123})"
misuse "remove: invalid device name 'a:b'" remove a:b
misuse "status: invalid device name 'ok/no'" status good ok/no
misuse "status: unknown option '--all'" status --all

# checksum / events (userspace/ctl/cmd_nl.c, generic netlink).
misuse 'checksum: missing argument' checksum
misuse 'checksum: too many arguments' checksum a b
misuse "checksum: unknown algorithm 'md5'" checksum --algo md5 a
misuse "checksum: option '--algo' needs an argument" checksum a --algo
misuse "checksum: invalid chunk 'x': expected a decimal number" checksum --first x a
misuse "checksum: invalid chunk '99999999999': number too large" checksum --last 99999999999 a
misuse 'checksum: --first 9 is after --last 3' checksum --first 9 --last 3 a
misuse "checksum: invalid --workers '0': must be 1 or more" checksum --workers 0 a
misuse "checksum: invalid --workers '65': number too large" checksum --workers 65 a
misuse "checksum: invalid --workers 'two': expected a decimal number" checksum --workers two a
misuse "checksum: invalid device name 'a/b'" checksum a/b
misuse "checksum: invalid device number '0:1'" checksum 0:1
misuse "checksum: invalid device number '253:x'" checksum 253:x
misuse "checksum: unknown option '--all'" checksum --all a
misuse 'events: too many arguments' events a
misuse "events: invalid count '0': zero" events --count 0
misuse "events: invalid timeout 'x'" events --timeout x
misuse "events: invalid timeout '0': zero" events --timeout 0
misuse "events: unknown option '--follow'" events --follow
misuse "events: --config needs --manager" events --config /etc/vmfit/vmfitd.conf

# Help: generated from the table, for every command, via help and -h.
checks=$((checks + 1))
run help
[ "$rc" = 0 ] || fail "help: exit $rc"
cmds=$(awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }' "$tmp/out")
want="help load create view remove snapshot merge drop clear changed status checksum events recover manager"
[ "$(echo $cmds)" = "$want" ] || fail "help lists '$(echo $cmds)', want '$want'"
for c in $cmds; do
	checks=$((checks + 3))
	run help "$c"
	[ "$rc" = 0 ] && [[ "$out" == "usage: vmfit-ctl $c"* ]] ||
		fail "help $c: exit $rc, output: $out"
	h=$out
	run "$c" -h
	[ "$rc" = 0 ] && [ "$out" = "$h" ] || fail "$c -h differs from help $c (exit $rc)"
	run "$c" --help
	[ "$rc" = 0 ] && [ "$out" = "$h" ] || fail "$c --help differs from help $c"
done
checks=$((checks + 2))
run --help
[ "$rc" = 0 ] && grep -q '^commands:' <<<"$out" || fail "--help: exit $rc"
run --version
[ "$rc" = 0 ] && [[ "$out" =~ ^vmfit-ctl\ [0-9]+\.[0-9]+\.[0-9]+$ ]] ||
	fail "--version: exit $rc, '$out'"

# A device command without device-mapper: a failure (1), not misuse, with
# the documented error shape and the load hint.
if [ ! -e /dev/mapper/control ]; then
	checks=$((checks + 2))
	run snapshot vol0
	[ "$rc" = 1 ] || fail "snapshot without dm: exit $rc, want 1"
	[ "$(head -n1 <<<"$err")" = "vmfit-ctl: snapshot: vol0: No such device or address" ] ||
		fail "snapshot without dm: '$err'"
	grep -q '^  hint: is dm-vmfit loaded? try: vmfit-ctl load$' <<<"$err" ||
		fail "snapshot without dm: no load hint: '$err'"
	run --json status
	[ "$rc" = 1 ] && [ -z "$out" ] || fail "--json status without dm: exit $rc, out '$out'"
fi

# Without dm-vmfit's netlink family (the host has no module): a failure
# with the hint, for both netlink commands.
if ! grep -qw dm_vmfit /proc/modules 2>/dev/null; then
	for c in "checksum vol0" "events"; do
		checks=$((checks + 1))
		run $c
		[ "$rc" = 1 ] && grep -q 'is dm-vmfit loaded?' <<<"$err" ||
			fail "$c without the module: exit $rc, '$err'"
	done
fi

# manager: a status file that is missing, corrupt, stale, of the wrong
# shape is a failure (1) saying what to do; a good one prints the summary
# or (--json) itself. The formatter's own cases: ctl-manager-test.
# expect_fail PATTERN ARGS...: exit 1, nothing on stdout, stderr matching.
expect_fail() {
	local pat=$1
	shift
	checks=$((checks + 1))
	run "$@"
	[ "$rc" = 1 ] && [ -z "$out" ] && grep -qE -- "$pat" <<<"$err" ||
		fail "'vmfit-ctl $*': exit $rc, out '$out', err '$err' !~ /$pat/"
}
st=$tmp/vmfitd.status
expect_fail "vmfit-ctl: manager: $st: No such file or directory" manager -s "$st"
expect_fail "hint: is vmfitd running\\? \\(vmfitd writes $st every status_interval_ms\\)" manager -s "$st"
printf 'service = kv\nnode_id = 1\nmanagers = 1 2 3\nlisten = 127.0.0.1:1\nreplica_cmd = /bin/true\nstatus_file = %s\n' "$st" >"$tmp/vmfitd.conf"
expect_fail "hint: is vmfitd running" manager -c "$tmp/vmfitd.conf"
expect_fail "manager: .*/nope.conf" manager -c "$tmp/nope.conf"
expect_fail "events: .*/nope.conf" events --manager -c "$tmp/nope.conf"
sed "s|^status_file = .*|control_socket = $tmp/nope.ctl|" "$tmp/vmfitd.conf" >"$tmp/ctl.conf"
expect_fail "events: $tmp/nope.ctl: No such file or directory" events --manager -c "$tmp/ctl.conf"
expect_fail "hint: is vmfitd running with $tmp/ctl.conf\\?" events --manager -c "$tmp/ctl.conf"
good='{"pid":PID,"service":"kv","node_id":1,"ready":1,"synced":1,"unreplicated":0,"cpg_connected":1,"members":3,"f":1,"primary":1,"managers":3,"managers_present":3,"managers_synced":3,"membership":"synced","views":2,"orders_delivered":7,"executed":7,"decided":7,"expired":0,"suspects":0,"clients":0,"pending":0,"rcv_phase":"off","replica_pid":9,"replica_domid":-1,"replica_ok":1,"suspect_nodes":""}'
echo "${good/PID/$$}" | head -c 100 >"$st"
expect_fail "not a valid status file: ends early at byte 100 \\(truncated\\?\\)" manager -s "$st"
expect_fail "not a valid status file" --json manager -s "$st"
echo '{"pid":1,"x":{"y":2}}' >"$st"
expect_fail "not a valid status file: byte 13: nested value" manager -s "$st"
echo "{\"pid\":$$}" >"$st"
expect_fail "no integer \"node_id\": not a vmfitd status file" manager -s "$st"
expect_fail "no integer \"node_id\"" --json manager -s "$st"
# A pid that is surely not running: above pid_max.
echo "${good/PID/2147483647}" >"$st"
expect_fail "is stale: vmfitd \\(pid 2147483647\\) is not running" manager -s "$st"
echo "${good/PID/$$}" >"$st"
checks=$((checks + 2))
run manager -s "$st"
[ "$rc" = 0 ] && grep -q '^sync       in sync:' <<<"$out" &&
	grep -q '^managers   3 configured, 3 present, 3 in sync' <<<"$out" ||
	fail "manager: exit $rc, '$out' '$err'"
run --json manager -s "$st"
[ "$rc" = 0 ] && [ "$out" = "${good/PID/$$}" ] ||
	fail "--json manager: exit $rc, '$out' '$err'"

unit_done "$checks checks"
