#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# overload-descriptors: vmfitd under `ulimit -n 1024` (hard and soft, so it
# cannot raise it) and 1,100 idle TCP connections to its client port, more
# than it has descriptors. It must cap its connections below the limit
# (ppoll() refuses more descriptors than RLIMIT_NOFILE: before the cap,
# vmfitd left its loop and exited with status 0), keep serving a real
# client from another address, and stay up. While 900 of them are held
# open, its main loop must poll a handful of descriptors, not one per
# connection: client connections are watched by epoll sets of their own
# (with one pollfd each, the overload figure of BENCH=kv lost 15-20%).
. "$(dirname "$0")/../lib/cluster.sh"
cl_enter "$@"

export CL_REPLICA=kv-hash CL_RECORDS=1000 CL_RECORD_SIZE=128
# Host 1's vmfitd with 1024 descriptors; the per-source limit out of the
# way so that the descriptor cap is what is tested. The handshake time-out
# is longer than the test: no held connection is closed while the epoll
# sets are counted (the cap is reached by eviction, not by time-outs).
export CL_VMFITD_WRAP="prlimit --nofile=1024:1024 --" CL_VMFITD_WRAP_HOSTS=1
export CL_VMFITD_EXTRA="max_conns_per_source = 100000
handshake_timeout_ms = 120000"
export CL_BENCH_LIMIT=60
cl_up 3

cl_log "1100 idle connections to host 1 and 4 real clients"
cl_bench idle --servers "$(cl_servers 1)" --junk-from "$CL_JUNK_ADDR" \
	--idle 1100 --clients 4 --requests 400 --records 1000 \
	--timeout 20000 ||
	{ tail -n 20 "$CL_DIR/idle.log"; cl_die "the real clients were not served"; }
cl_assert_json "$CL_DIR/idle.json" ops -eq 400
cl_assert_json "$CL_DIR/idle.json" unfinished -eq 0
cl_assert_json "$CL_DIR/idle.json" junk_opened -ge 1100

cl_alive vmfitd 1 || cl_die "vmfitd on host 1 exited; see $(cl_hostdir 1)/vmfitd.log"
cap=$(cl_stat 1 conn_max)
((cap > 0 && cap < 1024)) || cl_die "host 1: conn_max '$cap', expected below 1024"
grep -q 'client connections: at most' "$(cl_hostdir 1)/vmfitd.log" ||
	cl_die "host 1 did not log its connection cap"
cl_assert_eq "host 1 ready" 1 "$(cl_stat 1 ready)"
n=$(cl_stat 1 clients)
((n <= cap)) || cl_die "host 1 holds $n connections, above its cap $cap"
ev=$(cl_stat 1 conns_evicted)
ref=$(cl_stat 1 conns_refused)
((ev + ref > 0)) || cl_die "host 1 neither evicted nor refused a connection"
grep -q 'ppoll' "$(cl_hostdir 1)/vmfitd.log" &&
	cl_die "host 1's event loop failed: $(grep ppoll "$(cl_hostdir 1)/vmfitd.log")"
cl_log "host 1: $n connections (cap $cap), $ev evicted, $ref refused; 400 requests served"

# The main loop's ppoll() while 900 idle connections and a client are held
# open: its nfds (2nd argument in /proc/PID/syscall while it waits) stays
# small, and every client connection (its descriptors of TCP sockets on
# the client port, from /proc/PID/net/tcp) is watched by one of its epoll
# sets (a tfd in their fdinfo). Counted on connections that stand still:
# right after the idle run the status file may still count that run's
# connections (it lags by up to status_interval_ms), and then the sets
# were counted while that run's connections went and the held run's came
# (CI: "epoll sets watch 252 descriptors, it holds 900 connections"). So
# first that run's connections must be gone (a connection nobody watches
# never sees its client close), then all of the held run's be in; none
# closes before the held run ends (the handshake time-out above).
case $(uname -m) in
x86_64) nr_ppoll=271 ;;
aarch64) nr_ppoll=73 ;;
*) cl_die "ppoll's syscall number on $(uname -m) is not known here" ;;
esac
# client_fds pid: pid's descriptors of connections to the client port.
client_fds() {
	find "/proc/$1/fd" -lname 'socket:*' -printf '%f %l\n' |
		awk -v port="$(printf ':%04X' "$CL_PORT")" '
			FNR == NR {
				if ($4 != "0A" && substr($2, length($2) - 4) == port)
					conn["socket:[" $10 "]"]
				next
			}
			$2 in conn { print $1 }' "/proc/$1/net/tcp" - | sort
}
# epoll_watched pid: the descriptors pid's epoll sets watch.
epoll_watched() {
	local fd

	find "/proc/$1/fd" -lname 'anon_inode:\[eventpoll\]' -printf '%f\n' |
		while read -r fd; do
			awk '$1 == "tfd:" { print $2 }' "/proc/$1/fdinfo/$fd"
		done | sort -u
}
idle=900 held=901
deadline=$((SECONDS + 30))
until (($(cl_stat 1 clients) == 0)); do
	((SECONDS < deadline)) ||
		cl_die "host 1 still holds $(cl_stat 1 clients) connections 30 s after their clients closed them"
	sleep 0.2
done
cl_bench_start held --servers "$(cl_servers 1)" --junk-from "$CL_JUNK_ADDR" \
	--idle "$idle" --clients $((held - idle)) --duration 8 --records 1000 \
	--timeout 20000
cl_wait_stat 1 clients "$held"
pid=$(cl_pid vmfitd 1) nfds=
for _ in $(seq 50); do
	read -r nr _ nfds _ <"/proc/$pid/syscall"
	[ "$nr" = "$nr_ppoll" ] && break
	nfds= ; sleep 0.1
done
[ -n "$nfds" ] || cl_die "host 1's vmfitd was never seen waiting in ppoll"
conns=$(client_fds "$pid")
unwatched=$(comm -23 <(echo "$conns") <(epoll_watched "$pid"))
n=$(grep -c . <<<"$conns")
((n == held)) || cl_die "host 1 holds $n connections, the held run $held: one closed or came in meanwhile"
((nfds < 100)) || cl_die "host 1 polls $((nfds)) descriptors with $n connections open"
[ -z "$unwatched" ] ||
	cl_die "host 1's epoll sets do not watch $(grep -c . <<<"$unwatched") of its $n client connections (fds $(head -n 5 <<<"$unwatched" | tr '\n' ' ')...)"
cl_bench_wait 30 || cl_die "the held run failed"
cl_assert_json "$CL_DIR/held.json" errors -eq 0
cl_log "host 1: ppoll over $((nfds)) descriptors, all $n client connections watched by epoll"

# After the flood: a fresh client is served at once.
cl_bench after --servers "$(cl_servers 1)" --clients 2 --requests 100 \
	--records 1000 --timeout 20000 || cl_die "host 1 does not serve after the flood"
cl_assert_json "$CL_DIR/after.json" ops -eq 100
cl_log "PASS"
