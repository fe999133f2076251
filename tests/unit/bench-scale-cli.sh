#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The benchmarks' shared host pieces (tools/bench/lib.sh: sizes, counts,
# the load gate) and tools/bench/scale/run without a VM: bad settings are
# rejected with a clear message, and --report turns guest records into
# scale.json with the right figures and verdicts.
set -uo pipefail
. "$(dirname "$0")/../lib/unit.sh"
run=$TOP/tools/bench/scale/run
. tools/bench/lib.sh

need_cmd jq

# bench_size / bench_count
for c in 1=1 4096=4096 4K=4096 16G=17179869184 1T=1099511627776 \
	 2m=2097152 0010=10; do
	got=$(bench_size "${c%%=*}" 2>&1) || fail "bench_size ${c%%=*} failed: $got"
	[ "$got" = "${c#*=}" ] || fail "bench_size ${c%%=*}: $got, want ${c#*=}"
done
for bad in "" 0 0G -1 1.5G 1TB G 1P 99999999999999999 16385T " 1G"; do
	bench_size "$bad" >/dev/null 2>"$tmp/err" && fail "bench_size accepted '$bad'"
	grep -q "bad size" "$tmp/err" || fail "bench_size '$bad': no clear message"
done
[ "$(bench_count 0)" = 0 ] && [ "$(bench_count 0100)" = 100 ] ||
	fail "bench_count of valid counts"
for bad in "" -1 1k 1.0 1234567890123; do
	bench_count "$bad" >/dev/null 2>&1 && fail "bench_count accepted '$bad'"
done

# The load gate.
gate() { # LOAD PUBLISH FORCE -> status; sets BENCH_FORCED
	echo "$1 0.10 0.10 1/100 1" >"$tmp/loadavg"
	BENCH_LOADAVG=$tmp/loadavg FORCE=$3 bench_gate test "$2" 2>"$tmp/gate"
}
gate 0.50 1 0 && [ "$BENCH_FORCED" = false ] && [ "$BENCH_LOAD_BEFORE" = 0.50 ] ||
	fail "gate: a quiet machine was refused or marked forced"
gate 1.50 1 0 || fail "gate: load 1.50 (the limit) refused"
gate 1.51 1 0 && fail "gate: published at load 1.51 without FORCE"
grep -q "refusing to publish" "$tmp/gate" || fail "gate: no reason given"
gate 3.00 0 0 && [ "$BENCH_FORCED" = false ] || fail "gate: a smoke run was refused"
gate 3.00 1 1 && [ "$BENCH_FORCED" = true ] || fail "gate: FORCE=1 did not force"
BENCH_LOAD_BEFORE=3 BENCH_LOAD_AFTER=2 BENCH_FORCED=true
bench_gate_note | grep -q "forced with FORCE=1" || fail "gate note: forced run not flagged"

# scale/run: settings.
expect_err() { # PATTERN ENV... -- ARGS...
	local pat=$1 e=()
	shift
	while [ "$1" != -- ]; do e+=("$1"); shift; done
	shift
	env "${e[@]}" "$run" "$@" >"$tmp/out" 2>"$tmp/err" &&
		{ fail "scale run ${e[*]} $*: succeeded"; return; }
	grep -q -- "$pat" "$tmp/err" || fail "scale run ${e[*]} $*: stderr lacks '$pat': $(cat "$tmp/err")"
}
expect_err "SC_SIZES must be ascending" SC_SIZES="1T 16G" -- --print-config
expect_err "bad size '1.5T'" SC_SIZES="1.5T" -- --print-config
expect_err "not a multiple of the 4 KiB chunk" SC_SIZES="1000" -- --print-config
expect_err "SC_SIZES is empty" SC_SIZES=" " -- --print-config
expect_err "SC_MAPPED must be ascending" SC_MAPPED="0 10 10" -- --print-config
expect_err "bad count 'x'" SC_MAPPED="0 x" -- --print-config
expect_err "SC_MEM must be a whole number" SC_MEM=2g -- --print-config
expect_err "SC_QUICK must be 0 or 1" SC_QUICK=yes -- --print-config
expect_err "unknown argument '--frob'" -- --frob
expect_err "needs a directory with scale.records" -- --report "$tmp/none"
SC_SIZES="16G 1T" SC_MAPPED="0 1000" "$run" --print-config >"$tmp/conf" ||
	fail "--print-config of a valid setting"
( . "$tmp/conf" && [ "$SC_SIZES" = "17179869184 1099511627776" ] &&
  [ "$SC_MAPPED" = "0 1000" ] && [ "$SC_CHUNK" = 8 ] ) ||
	fail "--print-config: $(cat "$tmp/conf")"

# scale/run --report: 16 GiB works, 1 TiB fails at activation.
mkdir -p "$tmp/r"
m() { # slab vmalloc -> the memory members of a record
	echo "\"slab\": $1, \"vmalloc\": $2, \"vmalloc_vmfit\": $2, \"percpu\": 0, \"memfree\": $((1000000000 - $1 - $2))"
}
G=17179869184 T=1099511627776
cat >"$tmp/r/scale.records" <<R
{"meta": {"kernel": "6.1.0-57-amd64", "date": "2026-12-04T21:00:00Z", "mem_total": 2000000000, "cpus": 2, "cow_bytes": 4294967296, "chunk_bytes": 4096}}
{"origin_bytes": $G, "step": "before", "dmsetup_exec_ms": 5, $(m 1000000 0)}
{"origin_bytes": $G, "step": "format", "activation_ms": 300, $(m 1100000 33554432)}
{"origin_bytes": $G, "step": "idle", "activation_ms": 120, "status_ms": 6, "changed_ms": 7, $(m 1100000 33554432)}
{"origin_bytes": $G, "step": "snapshot", "cmd_ms": 8, $(m 1100000 33554432)}
{"origin_bytes": $G, "step": "mapped", "mapped_chunks": 0, "changed_chunks": 0, "status_ms": 6, "changed_ms": 7, $(m 1100000 33554432)}
{"origin_bytes": $G, "step": "mapped", "mapped_chunks": 1000, "changed_chunks": 1000, "status_ms": 6, "changed_ms": 9, $(m 1132000 33554432)}
{"origin_bytes": $G, "step": "reload", "activation_ms": 130, "mapped_chunks": 1000, $(m 1100000 33554432)}
{"origin_bytes": $G, "step": "merge", "merge_ms": 50, $(m 1100000 33554432)}
{"origin_bytes": $G, "step": "remove", "removed": true, $(m 1000000 0)}
{"origin_bytes": $T, "step": "before", "dmsetup_exec_ms": 5, $(m 1000000 0)}
{"origin_bytes": $T, "step": "format", "error": "activation failed: vmfit: Cannot allocate memory"}
R
echo "0.40 0.60 false" >"$tmp/r/load"
: >"$tmp/r/guest.log"
SC_SIZES="16G 1T" SC_MAPPED="0 1000" "$run" --report "$tmp/r" >"$tmp/out" 2>&1 ||
	fail "--report: $(cat "$tmp/out")"
check_json() { expect_jq "$tmp/r/scale.json" "$@"; }
check_json '.origin_bytes == 1099511627776 and .origin_chunks == 268435456 and .chunk_bytes == 4096' "goal size"
check_json '.kernel_bytes_idle == null and .activation_ms_idle == null' "failed size has no figures"
check_json '.error == "format: activation failed: vmfit: Cannot allocate memory"' "failed size: the reason"
check_json '.largest_ok == 17179869184' "largest size that worked"
check_json '.sizes[0].ok and .sizes[0].kernel_bytes_idle == 33654432' "16 GiB idle memory"
check_json '.sizes[0].bits_per_origin_chunk_idle == 64.191' "16 GiB bits per chunk"
check_json '.sizes[0].kernel_bytes_per_mapped_chunk == 32' "16 GiB bytes per mapped chunk"
check_json '.sizes[0].activation_ms_idle == 120 and .sizes[0].kernel_bytes_after_remove == 0' "16 GiB activation, leak"
check_json '.sizes[0].mapped[1].changed_ms == 9' "changed cost series"
check_json '.goals.idle_memory.met == false and .goals.activation_ms_idle.met == false' "goals fail at a failed size"
check_json '.machine.loadavg_before == 0.40 and .machine.forced == false' "load"
grep -q '^| 1 TiB | 268435456 | format: activation failed: vmfit: Cannot allocate memory |' "$tmp/r/section.md" ||
	fail "section: no failed row for 1 TiB"
grep -q '^- activation of the idle device < 1000 ms: - ms, \*\*fail\*\*' "$tmp/r/section.md" ||
	fail "section: no activation verdict"
[ "$(head -n 1 "$tmp/r/section.md")" = "<!-- scale:begin -->" ] || fail "section: no begin marker"

unit_done
