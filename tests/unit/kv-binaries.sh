#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# kv-binaries: the production kv replicas (build/bin) start, print their
# usage, reject bad command lines, and contain no fault-injection code;
# kv-faulty does. The behaviour itself is tested by kv-replica-test.
set -euo pipefail
. "$(dirname "$0")/../lib/unit.sh"

bin=${VMFIT_BIN:-build/bin}
rc_of() { # command... ; prints the exit status
	local rc=0
	"$@" >/dev/null 2>&1 </dev/null || rc=$?
	echo "$rc"
}

for b in kv-hash kv-sqlite kv-faulty; do
	need_built "$bin/$b"
	check "$b --help exits 0" test "$(rc_of "$bin/$b" --help)" = 0
	check "$b --help shows usage" grep -q -- '--record-size' <("$bin/$b" --help)
	check "$b without options is a usage error" \
		test "$(rc_of "$bin/$b")" = 2
	check "$b --records 0 is a usage error" \
		test "$(rc_of "$bin/$b" --fd 3 --state /tmp/x --records 0 --record-size 8)" = 2
	check "$b --fd with --vchan is a usage error" \
		test "$(rc_of "$bin/$b" --fd 3 --vchan data/v --state /tmp/x --records 1 --record-size 8)" = 2
	check "$b --vchan '' is a usage error" \
		test "$(rc_of "$bin/$b" --vchan '' --state /tmp/x --records 1 --record-size 8)" = 2
	# Outside a Xen domain there is no xenstore: a clear error, status 1.
	st=$tmp/$b.state
	: >"$st"
	check "$b --vchan without Xen fails cleanly" \
		test "$(rc_of "$bin/$b" --vchan data/v --state "$st" --records 1 --record-size 8)" = 1
	check "$b --vchan without Xen names the vchan" \
		grep -q "vchan data/v: " <("$bin/$b" --vchan data/v --state "$st" --records 1 --record-size 8 2>&1)
done

for b in kv-hash kv-sqlite; do
	check "$b rejects --fault" \
		test "$(rc_of "$bin/$b" --fault wrong --fd 3 --state /tmp/x --records 1 --record-size 8)" = 2
	check "$b has no fault code" \
		bash -c "! grep -q -a corrupt-state '$bin/$b'"
	check "$b --help does not mention --fault" \
		bash -c "! '$bin/$b' --help | grep -q -- --fault"
done
check "kv-faulty has the fault modes" grep -q -a corrupt-state "$bin/kv-faulty"
check "kv-faulty --help lists --fault" grep -q -- '--fault MODE' <("$bin/kv-faulty" --help)
check "kv-sqlite links libsqlite3" grep -q libsqlite3 <(ldd "$bin/kv-sqlite")
check "kv-hash does not link libsqlite3" bash -c "! ldd '$bin/kv-hash' | grep -q libsqlite3"
unit_done
