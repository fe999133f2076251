#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# tools/demo.sh - `make demo`: the replicated key-value service on three
# hosts in network namespaces, against the same service unreplicated.
#
#  1. Three hosts (tests/lib/cluster.sh: network namespaces on a private
#     bridge, real corosync, one vmfitd each) with heterogeneous replicas:
#     host 1 runs kv-sqlite, hosts 2 and 3 kv-hash. 500 emulated clients
#     (tools/vmfit-bench, --verify) load it for DEMO_SECONDS (default 60).
#  2. The cluster is stopped; one host runs vmfitd --unreplicated with one
#     kv-hash, and the same 500 clients load it for DEMO_SECONDS.
#  3. A table: throughput, latency p50/p99 of both, their ratio, and the
#     plot of both throughput timelines.
#
# Everything runs inside a private mount/network/PID namespace and is gone
# when the demo ends; results stay in build/demo/.
#
# Environment: DEMO_SECONDS (60), DEMO_CLIENTS (500), DEMO_WRITE_RATIO (0.5),
# DEMO_RECORDS (10000), DEMO_RECORD_SIZE (128).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
export CL_DIR=${CL_DIR:-$top/build/demo}
export CL_NAME=demo
. "$top/tests/lib/cluster.sh"

secs=${DEMO_SECONDS:-60}
clients=${DEMO_CLIENTS:-500}
wr=${DEMO_WRITE_RATIO:-0.5}
records=${DEMO_RECORDS:-10000}
rsize=${DEMO_RECORD_SIZE:-128}

for b in vmfitd kv-hash kv-sqlite vmfit-bench; do
	[ -x "$VMFIT_BIN/$b" ] || {
		echo "demo: $VMFIT_BIN/$b is missing: run 'make demo' (it builds first)" >&2
		exit 1
	}
done
if [ -z "${VMFIT_CLUSTER_INNER:-}" ]; then
	echo "demo: 3 hosts + unreplicated baseline, $clients clients, ${secs} s each; results in $CL_DIR"
fi
cl_enter "$@"

CL_RECORDS=$records
CL_RECORD_SIZE=$((rsize > 1024 ? rsize : 1024))
load=(--clients "$clients" --records "$records" --record-size "$rsize"
	--write-ratio "$wr" --duration "$secs" --timeout 10000)
((records >= clients)) && load+=(--verify)

# run_load name: the load against the current cluster, progress on stderr.
run_load() {
	local name=$1 rc
	"$VMFIT_BIN/vmfit-bench" --servers "$(cl_servers)" --label "$name" \
		--out "$CL_BASE/$name" "${load[@]}" >"$CL_BASE/$name.txt" \
		2> >(tee "$CL_BASE/$name.log" | sed "s/^/  $name /" >&2)
	rc=$?
	sed "s/^/  /" "$CL_BASE/$name.txt"
	return $rc
}

cl_log "1/3: replicated: host 1 kv-sqlite, hosts 2-3 kv-hash (f = 1)"
CL_DIR=$CL_BASE/replicated
CL_REPLICA_1=kv-sqlite
cl_up 3
run_load replicated || cl_die "the replicated run failed (see $CL_BASE/replicated.log)"
for i in 1 2 3; do
	cl_log "host $i: $(cl_status "$i" | grep -E '^(executed|suspects|avg_batch|cpg_sent)=' | tr '\n' ' ')"
done
cl_down

cl_log "2/3: unreplicated: vmfitd --unreplicated, one kv-hash"
CL_DIR=$CL_BASE/unreplicated
CL_REPLICA_1=kv-hash
cl_up_unreplicated
run_load unreplicated || cl_die "the unreplicated run failed (see $CL_BASE/unreplicated.log)"
cl_down

cl_log "3/3: results"
CL_DIR=$CL_BASE
plot=$CL_DIR/timeline.png
"$VMFIT_BIN/vmfit-bench" --plot-only "$plot" \
	"$CL_DIR/replicated.csv=replicated (3 hosts, f = 1)" \
	"$CL_DIR/unreplicated.csv=unreplicated (1 replica)" ||
	plot="(plot failed: is gnuplot installed?)"

j() { cl_json "$CL_DIR/$1.json" "$2"; }
ms() { awk -v u="$1" 'BEGIN { printf "%.2f", u / 1000 }'; }
rt=$(j replicated throughput_ops_s)
ut=$(j unreplicated throughput_ops_s)
ratio=$(awk -v r="$rt" -v u="$ut" 'BEGIN { printf "%.2f", (u > 0 ? r / u : 0) }')
echo
printf '%-34s %14s %10s %10s %8s\n' "vmfit demo ($clients clients, ${secs} s)" \
	"throughput/s" "p50 ms" "p99 ms" "wrong"
for r in replicated unreplicated; do
	printf '%-34s %14.0f %10s %10s %8s\n' "$r" "$(j $r throughput_ops_s)" \
		"$(ms "$(j $r p50)")" "$(ms "$(j $r p99)")" "$(j $r verify_mismatches)"
done
printf '%-34s %14s\n' "ratio replicated / unreplicated" "$ratio"
echo "(3 replicas share this machine's $(nproc) cores: 1/3 is the proportional reference)"
echo "timeline plot: $plot"
echo "details: $CL_DIR/{replicated,unreplicated}.{json,csv,png,log}"
