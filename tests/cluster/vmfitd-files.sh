#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vmfitd-files: what vmfitd does with its files, its start and a hostile
# replica's strings (one unreplicated host, no corosync needed).
#
# - Readiness: READY=1 reaches $NOTIFY_SOCKET (sd_notify) once the client
#   port and the control socket are open; the replica is not given
#   NOTIFY_SOCKET.
# - The control socket is created 0600 even under umask 000, the status
#   file 0644.
# - Links planted at the status file's path and at its old temporary name
#   are not followed: the files they point to stay intact, the status file
#   is a regular file again at the next rewrite.
# - The replica's HELLO strings (terminal escapes, a new line forging a log
#   line, 0xff, 1000 bytes) are logged escaped and cut short.
# - Without -f, vmfitd forks into the background only once its sockets are
#   open: a taken port is a failed start (exit status 1), and a good start
#   leaves a daemon that is the parent of its replica.
. "$(dirname "$0")/../lib/cluster.sh"
cl_enter "$@"
command -v python3 >/dev/null || cl_die "python3 missing: run 'make deps'"

# A datagram socket standing for systemd's notification socket: prints each
# message as one line (new lines as '|'), with the time it came.
notify=$CL_DIR/notify.sock
python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("bound", flush=True)
while True:
    m = s.recv(4096).decode(errors="replace")
    print("%.3f %s" % (time.time(), m.replace("\n", "|")), flush=True)
' "$notify" >"$CL_DIR/notify.log" 2>&1 &
for ((k = 0; k < 50; k++)); do
	grep -q bound "$CL_DIR/notify.log" && break
	sleep 0.1
done
grep -q bound "$CL_DIR/notify.log" || cl_die "notification listener did not start"

umask 000
export NOTIFY_SOCKET=$notify
export CL_REPLICA="vmfit-probe --fake-replica hostile-hello"
cl_up_unreplicated
unset NOTIFY_SOCKET
d=$(cl_hostdir 1)
log=$d/vmfitd.log

# Readiness.
for ((k = 0; k < 50; k++)); do
	grep -q 'READY=1' "$CL_DIR/notify.log" && break
	sleep 0.1
done
ready=$(grep -m1 'READY=1' "$CL_DIR/notify.log") ||
	cl_die "no READY=1 on NOTIFY_SOCKET: $(cat "$CL_DIR/notify.log")"
pid=$(cl_stat 1 pid)
[[ "$ready" == *"MAINPID=$pid"* ]] || cl_die "READY=1 without MAINPID=$pid: $ready"
cl_assert "control socket missing at READY=1" test -S "$d/vmfitd.ctl"
cl_assert "client port closed" cl_exec 1 bash -c "exec 3<>/dev/tcp/$(cl_addr 1)/$CL_PORT"
rpid=$(cl_stat 1 replica_pid)
[ -n "$rpid" ] && [ "$rpid" != 0 ] || cl_die "no replica pid in the status"
if tr '\0' '\n' <"/proc/$rpid/environ" | grep -q '^NOTIFY_SOCKET='; then
	cl_die "the replica (pid $rpid) was given NOTIFY_SOCKET"
fi
cl_log "READY=1 after the sockets opened; replica without NOTIFY_SOCKET"

# Modes, under umask 000.
cl_assert_eq "control socket mode" 600 "$(stat -c %a "$d/vmfitd.ctl")"
cl_assert_eq "status file mode" 644 "$(stat -c %a "$d/vmfitd.status")"

# Planted links.
printf 'precious 1\n' >"$CL_DIR/victim1"
printf 'precious 2\n' >"$CL_DIR/victim2"
ln -s "$CL_DIR/victim1" "$d/vmfitd.status.tmp"
ln -s "$CL_DIR/victim2" "$d/planted"
mv -T "$d/planted" "$d/vmfitd.status"	# atomically, over the status file
sleep 1	# five status intervals
cl_assert_eq "file behind the temporary name's link" "precious 1" "$(cat "$CL_DIR/victim1")"
cl_assert_eq "file behind the status path's link" "precious 2" "$(cat "$CL_DIR/victim2")"
[ -f "$d/vmfitd.status" ] && [ ! -L "$d/vmfitd.status" ] ||
	cl_die "the status file is not a regular file again"
cl_assert_eq "status after the links" 1 "$(cl_stat 1 ready)"
left=$(find "$d" -maxdepth 1 -name 'vmfitd.status.??????' | wc -l)
cl_assert_eq "temporary status files left behind" 0 "$left"
cl_log "links at the status paths not followed"

# The hostile HELLO.
hello=$(grep -a 'replica HELLO:' "$log") || cl_die "no HELLO line in $log"
if LC_ALL=C grep -qaP '[\x00-\x08\x0b-\x1f\x7f-\xff]' "$log"; then
	cl_die "raw control or high bytes in the log"
fi
if grep -qa '^vmfitd: forged line' "$log"; then
	cl_die "the replica forged a log line"
fi
[[ "$hello" == *'evil\x1b[2J\x1b[31m\x0d\x0avmfitd: forged line\x7f\xff\x5c'* ]] ||
	cl_die "HELLO not escaped as expected: $hello"
[[ "$hello" == *'AAA... version 1\x0a2'* ]] || cl_die "HELLO not cut short: $hello"
((${#hello} < 300)) || cl_die "HELLO line of ${#hello} characters"
cl_log "HELLO logged escaped and bounded (${#hello} characters)"

# Daemon mode: a taken port fails the start, in the foreground.
conf2=$CL_DIR/second.conf
sed -e "s|^control_socket = .*|control_socket = $CL_DIR/second.ctl|" \
	-e "s|^status_file = .*|status_file = $CL_DIR/second.status|" \
	-e "s|^state_dir = .*|state_dir = $CL_DIR/second-vstate|" \
	-e "s|^replica_cmd = .*|replica_cmd = $VMFIT_BIN/kv-hash --records 100 --record-size 64|" \
	"$d/vmfitd.conf" >"$conf2"
mkdir -p "$CL_DIR/second-vstate"
rc=0
cl_exec 1 timeout 20 "$VMFIT_BIN/vmfitd" -c "$conf2" || rc=$?
cl_assert_eq "exit status of a start on a taken port" 1 "$rc"
[ ! -e "$CL_DIR/second.ctl" ] || cl_die "the failed start left its control socket"

# ... and a good start daemonises with its replica as its child.
sed -i "s|^listen = \(.*\):$CL_PORT|listen = \1:$((CL_PORT + 1))|" "$conf2"
rc=0
cl_exec 1 timeout 20 "$VMFIT_BIN/vmfitd" -c "$conf2" || rc=$?
cl_assert_eq "exit status of a start in the background" 0 "$rc"
st2() { "$VMFIT_BIN/vmfitd" --status -c "$conf2" 2>/dev/null | sed -n "s/^$1=//p"; }
for ((k = 0; k < 100; k++)); do
	[ "$(st2 ready)" = 1 ] && break
	sleep 0.1
done
cl_assert_eq "background daemon ready" 1 "$(st2 ready)"
dpid=$(st2 pid)
rpid=$(st2 replica_pid)
cl_assert_eq "parent of the background daemon's replica" "$dpid" \
	"$(sed -n 's/^PPid:[[:space:]]*//p' "/proc/$rpid/status")"
kill -TERM "$dpid"
for ((k = 0; k < 50; k++)); do
	kill -0 "$dpid" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$dpid" 2>/dev/null && cl_die "the background daemon ignored SIGTERM"
[ ! -e "$CL_DIR/second.ctl" ] || cl_die "the background daemon left its control socket"
cl_log "daemon(): after the sockets; failed start exits 1; replica is the daemon's child"
cl_log "PASS"
