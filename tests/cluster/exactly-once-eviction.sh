#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# exactly-once-eviction: the reply cache holds max_clients client ids (256
# here). Before, 4,096 requests under fresh client ids evicted a victim's
# entry and a replay of the victim's old request was executed again. Now:
#  - a request under an evicted client id is refused (ERROR VF_ERR_STALE,
#    "evicted"), on every manager alike, and not executed;
#  - a request older than the client's last seq is refused the same way
#    (it used to be ignored silently) and not executed;
#  - sessions (client protocol 3): a client_id is the hash of its
#    session key, which every request carries; another client cannot send
#    under the victim's id (e.g. seq 2^64-1, which used to silence the
#    victim for good): wrong key -> ERROR VF_ERR_AUTH, no key (version 2)
#    -> ERROR VF_ERR_VERSION; the victim goes on undisturbed;
#  - vmfitd refuses a vote_window that does not cover replica_lag_max +
#    (2f+1) x max_outstanding (an order must never leave the window while
#    a correct replica may still vote on it).
. "$(dirname "$0")/../lib/cluster.sh"
cl_enter "$@"

export CL_REPLICA=kv-hash CL_RECORDS=1000 CL_RECORD_SIZE=128
export CL_VMFITD_EXTRA="max_clients = 256"
cl_up 3

# The configuration cross-check.
bad=$CL_DIR/bad-window.conf
{ cl_vmfitd_conf 1; echo "replica_lag_max = 8192"; echo "vote_window = 8192"; } >"$bad"
out=$("$VMFIT_BIN/vmfitd" --check-config -c "$bad" 2>&1) &&
	cl_die "vmfitd accepted vote_window = replica_lag_max: $out"
[[ "$out" == *"vote_window (8192) must be >= replica_lag_max"* ]] ||
	cl_die "unclear error for a short vote window: $out"
cl_log "short vote window refused: $out"

delivered() { # host: orders delivered, once the hosts are quiet
	cl_wait_quiet 1 2 3 >/dev/null
	cl_stat "$1" orders_delivered
}

scenario() { # step
	python3 - "$1" "$(cl_addr 1)" "$(cl_addr 2)" "$CL_PORT" "$CL_DIR" <<'PY'
import json, os, sys
sys.path.insert(0, os.path.join(os.environ['CL_TOP'], 'tests/lib'))
import vfclient as vc
step, h1, h2, port, d = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
state = os.path.join(d, 'victims.json')
v = json.load(open(state)) if os.path.exists(state) else {
	'victim': os.urandom(32).hex(), 'other': os.urandom(32).hex(),
	'victim2': os.urandom(32).hex()}
def sess(name):
	key = bytes.fromhex(v[name])
	return key, vc.session_id(key)
put = lambda key, b: vc.kv_op(key, 0) if b is None else \
	vc.struct.pack('<BxxxII', vc.KV_PUT, key, len(b)) + b
out = []
if step == 'victim':
	out.append(vc.call((h1, port), *sess('victim'), 1, put(5, b'victim-1')))
	out.append(vc.call((h1, port), *sess('other'), 1, put(6, b'other-1')))
	out.append(vc.call((h1, port), *sess('other'), 2, put(6, b'other-2')))
elif step == 'evict':
	# 400 requests under fresh client ids through host 2 (send-and-close)
	for i in range(400):
		out.append(vc.call((h2, port), *vc.session(), 1, put(100 + i % 100, b'x'))[0])
	out = [out.count('reply')]
elif step == 'replay':
	out.append(vc.call((h1, port), *sess('victim'), 1, put(5, b'victim-1')))
elif step == 'stale':
	s3 = vc.session()
	out.append(vc.call((h1, port), *s3, 1, put(7, b'third-1')))
	out.append(vc.call((h1, port), *s3, 2, put(7, b'third-2')))
	out.append(vc.call((h1, port), *s3, 1, put(7, b'third-1')))
elif step == 'takeover':
	# another client sends under the victim's id: without its key, with
	# a key of its own, with no key at all (version 2)
	key, cid = sess('victim2')
	out.append(vc.call((h1, port), *sess('victim2'), 1, put(8, b'v2-1')))
	out.append(vc.call((h2, port), os.urandom(32), cid, 2**64 - 1, put(8, b'evil')))
	out.append(vc.call((h2, port), None, cid, 2**64 - 1, put(8, b'evil')))
	out.append(vc.call((h1, port), *sess('victim2'), 2, put(8, b'v2-2')))
json.dump(v, open(state, 'w'))
print(json.dumps(out))
PY
}
export CL_TOP

r=$(scenario victim) || cl_die "victim: $r"
cl_log "victim and other client: $r"
[[ "$r" == '[["reply", 0, '*'["reply", 0, '*'["reply", 0, '* ]] ||
	cl_die "the victims' first requests were not answered OK: $r"
r=$(scenario evict) || cl_die "evict: $r"
cl_assert_eq "fresh clients answered" "[400]" "$r"
cl_wait_quiet 1 2 3 >/dev/null
ev=$(cl_stat 1 cache_evictions)
((ev >= 100)) || cl_die "only $ev reply cache evictions on host 1"
cl_log "400 fresh client ids: $ev evictions on host 1"

before=$(delivered 1)
r=$(scenario replay) || cl_die "replay: $r"
cl_log "replay of the evicted victim's request: $r"
[[ "$r" == '[["error", 10, '*evicted* ]] ||
	cl_die "the evicted victim's replayed request was not refused: $r"
cl_assert_eq "orders after the replay" "$before" "$(delivered 1)"

r=$(scenario stale) || cl_die "stale: $r"
cl_log "a new client: seq 1, seq 2, then seq 1 again: $r"
[[ "$r" == '[["reply", 0, '*'["reply", 0, '*'["error", 10, '*older* ]] ||
	cl_die "a request older than the client's last seq was not refused: $r"
after=$(delivered 1)
cl_assert_eq "orders after the stale request" "$((before + 2))" "$after"
for i in 2 3; do
	cl_assert_eq "host $i orders" "$after" "$(cl_stat "$i" orders_delivered)"
done

# Sessions: nobody else can send under a client_id (protocol version 3).
r=$(scenario takeover) || cl_die "takeover: $r"
cl_log "victim seq 1; another client's seq 2^64-1 with a wrong key, then without one; victim seq 2: $r"
[[ "$r" == '[["reply", 0, '*'["error", 11, '*'["error", 2, '*'["reply", 0, '* ]] ||
	cl_die "a client could send under another's client_id: $r"
cl_log "PASS"
