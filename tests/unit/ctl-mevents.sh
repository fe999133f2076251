#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vmfit-ctl events --manager against a stand-in for vmfitd's control socket
# (vmfitd(8) "Control socket", "Events"; a small python server): the
# subscription ("events" -> "ok events"), event lines printed as sent or,
# with --json, as one JSON document each (numbers as numbers, the round id
# a string, text= to the end of the line), --count, a refusal ("err ...")
# and the end of the subscription (vmfitd closes: exit 1); recover --wait
# follows its round through the events (others' rounds ignored).
set -uo pipefail
. "$(dirname "$0")/../lib/unit.sh"

ctl=$TOP/build/tests/ctl/vmfit-ctl
need_built "$ctl"
srv=
at_exit '[ -z "$srv" ] || kill "$srv" 2>/dev/null'
checks=0

printf 'service = kv\nnode_id = 1\nmanagers = 1 2 3\nlisten = 127.0.0.1:1\nreplica_cmd = /bin/true\ncontrol_socket = %s\n' \
	"$tmp/ctl.sock" >"$tmp/vmfitd.conf"

# serve mode: one connection at a time; "events" gets the answer of
# $mode: ok (two events, then closed), err (a refusal)
serve() {
	python3 - "$tmp/ctl.sock" "$1" <<'PY' &
import os, socket, sys
path, mode = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(1)
open(path + ".ready", "w").close()
while True:
    c, _ = s.accept()
    try:
        line = c.makefile().readline()
        if line == "recover\n":
            c.sendall(b"ok round=0000000000000123\n")
        elif line != "events\n":
            c.sendall(b"err unknown command\n")
        elif mode == "err":
            c.sendall(b"err unknown command 'events'\n")
        else:
            c.sendall(b"ok events\n")
            c.sendall(b"rcv-phase round=0000000000000123 phase=verify full=0 k=3 "
                      b"receivers=1 receiver=0 hashed=95 verified=0 repaired=0 "
                      b"copied=0 bytes_fetched=0\n")
            c.sendall(b"rcv-aborted round=00000000000000ab phase=verify "
                      b"reason=member-left text=node 3 left the group\n")
            c.sendall(b"rcv-done round=0000000000000123 ms=5 full=0 receiver=0 "
                      b"hashed=95 verified=95 repaired=0 copied=95 "
                      b"bytes_copied=389120 bytes_fetched=0 bytes_served=0\n")
    except BrokenPipeError:
        pass  # a reader that stopped (--count)
    c.close()
PY
	srv=$!
	while [ ! -e "$tmp/ctl.sock.ready" ]; do sleep 0.05; done
}
stop() {
	kill "$srv" 2>/dev/null
	wait "$srv" 2>/dev/null
	srv=
	rm -f "$tmp/ctl.sock" "$tmp/ctl.sock.ready"
}

serve ok
checks=$((checks + 1))
out=$("$ctl" events --manager --config "$tmp/vmfitd.conf" --count 2 2>"$tmp/err")
rc=$?
[ "$rc" = 0 ] && [ "$(sed -n 2p <<<"$out")" = "rcv-aborted round=00000000000000ab phase=verify reason=member-left text=node 3 left the group" ] &&
	grep -q '^vmfit-ctl: events: listening$' "$tmp/err" ||
	fail "events --manager --count 2: exit $rc, '$out', '$(cat "$tmp/err")'"

checks=$((checks + 1))
out=$("$ctl" --json events --manager --config "$tmp/vmfitd.conf" --count 2 2>/dev/null)
rc=$?
python3 - "$out" <<'PY' || fail "--json events --manager: exit $rc, '$out'"
import json, sys
a, b = [json.loads(l) for l in sys.argv[1].splitlines()]
assert a == {"source": "vmfitd", "event": "rcv-phase", "round": "0000000000000123",
             "phase": "verify", "full": 0, "k": 3, "receivers": 1, "receiver": 0,
             "hashed": 95, "verified": 0, "repaired": 0, "copied": 0,
             "bytes_fetched": 0}, a
assert b == {"source": "vmfitd", "event": "rcv-aborted", "round": "00000000000000ab",
             "phase": "verify", "reason": "member-left",
             "text": "node 3 left the group"}, b
PY
[ "$rc" = 0 ] || fail "--json events --manager: exit $rc"

# Without --count: the server closes after two events: exit 1, said why.
checks=$((checks + 1))
out=$("$ctl" events --manager --config "$tmp/vmfitd.conf" 2>"$tmp/err")
rc=$?
[ "$rc" = 1 ] && [ "$(grep -c . <<<"$out")" = 3 ] &&
	grep -q 'vmfitd closed the subscription' "$tmp/err" ||
	fail "events --manager, closed by vmfitd: exit $rc, '$out', '$(cat "$tmp/err")'"

# recover --wait: subscribed first, then the trigger; round 123's phase
# and end, round ab's abort ignored.
checks=$((checks + 1))
out=$("$ctl" recover --wait --config "$tmp/vmfitd.conf" 2>"$tmp/err")
rc=$?
want="round 0000000000000123 started
phase=verify hashed=95 verified=0 repaired=0 copied=0 bytes_copied=0 bytes_fetched=0
done"
[ "$rc" = 0 ] && [ "$out" = "$want" ] ||
	fail "recover --wait through events: exit $rc, '$out', '$(cat "$tmp/err")'"
stop

serve err
checks=$((checks + 1))
out=$("$ctl" events --manager --config "$tmp/vmfitd.conf" 2>"$tmp/err")
rc=$?
[ "$rc" = 1 ] && [ -z "$out" ] &&
	grep -q "vmfit-ctl: events: vmfitd says: err unknown command 'events'" "$tmp/err" ||
	fail "events --manager, refused: exit $rc, '$out', '$(cat "$tmp/err")'"
stop

unit_done "$checks checks"
