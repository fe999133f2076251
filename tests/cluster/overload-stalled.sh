#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# overload-stalled: 5,000 connections to one manager that send 4 bytes of
# a frame header and stall, from one address (reopened whenever the
# manager closes them), while real clients from another address use the
# same manager. Before the limits, the stalls took all 4,096 slots and
# locked every real client out, nothing timed them out, and every refusal
# was logged. Now:
#  - the real clients are served throughout (every request answered);
#  - the per-source limit (max_conns_per_source) refuses most stalls,
#    politely (an ERROR frame, then an orderly close), and those it let
#    in are closed by the handshake time-out: every stalled connection
#    was closed by the manager at least once;
#  - refusals are logged rate-limited (a burst, then summaries);
#  - a client that sent a request and then goes silent is closed by the
#    idle time-out.
. "$(dirname "$0")/../lib/cluster.sh"
cl_enter "$@"

export CL_REPLICA=kv-hash CL_RECORDS=1000 CL_RECORD_SIZE=128
export CL_VMFITD_EXTRA="handshake_timeout_ms = 2000
idle_timeout_ms = 3000
max_conns_per_source = 512"
export CL_BENCH_LIMIT=90
cl_up 3
log1=$(cl_hostdir 1)/vmfitd.log

cl_log "5000 stalled connections to host 1, 4 real clients for 8 s"
cl_bench stalled --servers "$(cl_servers 1)" --junk-from "$CL_JUNK_ADDR" \
	--stalled 5000 --clients 4 --duration 8 --records 1000 \
	--timeout 20000 ||
	{ tail -n 20 "$CL_DIR/stalled.log"; cl_die "the real clients were not served"; }
j=$CL_DIR/stalled.json
cl_assert_json "$j" ops -gt 20
cl_assert_json "$j" unfinished -eq 0
cl_assert_json "$j" timeouts -eq 0
cl_assert_json "$j" conn_lost -eq 0
cl_assert_json "$j" junk_closed -ge 5000
cl_alive vmfitd 1 || cl_die "vmfitd on host 1 exited"

ref=$(cl_stat 1 conns_refused)
tmo=$(cl_stat 1 conns_timed_out)
((ref >= 3000)) || cl_die "host 1 refused only $ref connections"
((tmo >= 500)) || cl_die "host 1 timed out only $tmo stalled connections"
lines=$(grep -c 'refusing a client connection' "$log1")
((lines <= 30)) || cl_die "host 1 logged $lines refusals one by one (not rate-limited)"
grep -q 'more client connections refused' "$log1" ||
	cl_die "host 1 logged no summary of the refusals it did not log"
cl_log "host 1: $ref refused ($lines logged one by one), $tmo timed out; $(cl_json "$j" ops) requests served"

# Idle time-out: a client that got its reply and then says nothing.
idle=$(python3 - "$(cl_addr 1)" "$CL_PORT" "$CL_TOP/tests/lib" <<'PY'
import socket, sys, time
sys.path.insert(0, sys.argv[3])
import vfclient as vc
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30)
s.sendall(vc.request(*vc.session(), 1, vc.kv_op(7, 0)))	# kv GET of record 7
t0 = time.monotonic()
got = b''
while True:
	d = s.recv(4096)
	if not d:
		break
	got += d
print('%d %.1f' % (len(got), time.monotonic() - t0))
PY
) || cl_die "idle client: $idle"
read -r bytes secs <<<"$idle"
((bytes > 16)) || cl_die "idle client got no reply ($bytes bytes)"
awk -v s="$secs" 'BEGIN { exit !(s >= 2.5 && s < 25) }' ||
	cl_die "idle client closed after $secs s, expected about 3 s"
cl_log "idle client: reply, then closed after $secs s"
cl_log "PASS"
