# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# tests/lib/cluster.sh - N vmfit "hosts" on one machine, in namespaces.
#
# A cluster test (or the demo, or a benchmark) sources this file and calls
# cl_enter first:
#
#	. "$(dirname "$0")/../lib/cluster.sh"
#	cl_enter "$@"		# re-executes the script inside unshare(1)
#	cl_up 3			# bridge, 3 hosts, corosync ring, vmfitd
#	...
#
# cl_enter re-executes the calling script inside
#
#	unshare --mount --net --pid --fork --propagation private --mount-proc
#
# so nothing touches the host's interfaces or /run, and everything dies with
# the script (the script is PID 1 of the new PID namespace; unshare's
# --kill-child SIGKILLs it when the outer process is killed by a timeout).
# Inside, /run and /dev/shm are private tmpfs mounts, so `ip netns` state is
# private too.
#
# The root network namespace of the unshare holds the bridge vfbr0 with
# 10.99.0.1/24; host i (1..N) is the network namespace vfh<i> with eth0 =
# 10.99.0.(10+i)/24 on the bridge. Clients run in the root namespace and
# connect to 10.99.0.(10+i):CL_PORT. CL_JUNK_ADDR (10.99.0.2) is a second
# address of the bridge, the source of hostile connections in overload tests.
#
# Every command "in host i" runs through cl_exec (foreground) or cl_spawn
# (background daemons), which enter the network namespace and a fresh mount
# namespace where the host's own run directory is bind-mounted on /run
# (corosync's pid file path is fixed). libqb IPC uses abstract unix
# sockets (per network namespace) plus /dev/shm files with PID-unique
# names, so tools started by cl_exec reach host i's corosync and no other.
#
# Files: CL_DIR (default build/test-logs/cluster/<name>, emptied by
# cl_enter; CL_BASE keeps that path when a test points CL_DIR at a
# per-round subdirectory) holds h<i>/ per host: corosync.conf,
# corosync.log, vmfitd.conf, vmfitd.log, vmfitd.status, run/, state/
# (corosync), vstate/ (the replica's state volume); plus the clients'
# outputs (cl_bench). Everything is kept after the test.
#
# Functions: cl_enter, cl_up N, cl_up_unreplicated, cl_down, cl_exec,
# cl_spawn, cl_kill what i, cl_kill_manager i, cl_kill_host i, cl_alive,
# cl_vmfitd_exits, cl_status, cl_stat, cl_wait_stat, cl_probe,
# cl_wait_quiet, cl_checkpoint, cl_wait_checkpoints, cl_volume,
# cl_live_volume, cl_recover, cl_wait_rounds, cl_rss_kb,
# cl_bench/cl_bench_start, cl_bench_wait, cl_load_clean, cl_json,
# cl_assert*.
#
# Environment:
#   CL_NAME       log directory name (default: the script's basename)
#   CL_PORT       client port of vmfitd (default 7400)
#   CL_TOKEN      corosync totem token in ms (default 1000)
#   CL_RING_SECS, CL_READY_SECS  how long cl_up waits for the ring and for
#                 each vmfitd (default 30 s each; more under TCG)
#   CL_RECORDS, CL_RECORD_SIZE   kv service configuration (10000, 1024)
#   CL_REPLICA, CL_REPLICA_<i>   replica program (+ options) in VMFIT_BIN
#   CL_VOLUME     host i's state volume (state_volume; @HOST@ becomes i;
#                 default <host dir>/vstate/state.img through state_dir)
#   CL_JOURNAL, CL_JOURNAL_B  the kv journals of volumes A and B
#                 (state_journal, state_journal_b; @DIR@, @HOST@ as in
#                 CL_VMFITD_EXTRA; default: none, in the volumes); B's
#                 needs a state_volume_b in CL_VMFITD_EXTRA
#   CL_JOURNAL_HOSTS  the hosts that get them (default: all)
#   CL_MANAGERS   node ids of the configured managers (vmfitd.conf
#                 "managers"; default: every host, 1..N)
#   VMFIT_BIN     directory with vmfitd, kv-* and vmfit-bench (build/bin)
#   CL_VMFITD_WRAP  command prefix for vmfitd (valgrind ...); "@DIR@" in it
#                 becomes the host's directory
#   CL_VMFITD_WRAP_HOSTS  hosts whose vmfitd is wrapped (default: all)

CL_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VMFIT_BIN=${VMFIT_BIN:-$CL_TOP/build/bin}
CL_PORT=${CL_PORT:-7400}
CL_TOKEN=${CL_TOKEN:-1000}
CL_RECORDS=${CL_RECORDS:-10000}
CL_RECORD_SIZE=${CL_RECORD_SIZE:-1024}
CL_JUNK_ADDR=10.99.0.2
CL_N=0
CL_PIDS=()

cl_log() {
	printf '%s [%s] %s\n' "$(date +%T.%3N)" "${CL_NAME:-cluster}" "$*" >&2
}

cl_die() {
	cl_log "FAIL: $*"
	exit 1
}

# cl_enter "$@": re-execute the calling script in private namespaces.
# Returns (inside) with the private mounts and the bridge set up.
cl_enter() {
	local script

	script=$(realpath "${BASH_SOURCE[-1]}")
	CL_NAME=${CL_NAME:-$(basename "$script" .sh)}
	export CL_NAME
	if [ -z "${VMFIT_CLUSTER_INNER:-}" ]; then
		[ "$(id -u)" = 0 ] || { echo "$CL_NAME: needs root (namespaces)" >&2; exit 1; }
		for t in unshare ip corosync corosync-quorumtool; do
			command -v "$t" >/dev/null ||
				{ echo "$CL_NAME: $t missing: run 'make deps'" >&2; exit 1; }
		done
		export VMFIT_CLUSTER_INNER=1
		exec unshare --mount --net --pid --fork --propagation private \
			--mount-proc --kill-child -- bash "$script" "$@"
	fi

	CL_BASE=${CL_DIR:-$CL_TOP/build/test-logs/cluster/$CL_NAME}
	CL_DIR=$CL_BASE
	rm -rf "$CL_BASE"
	mkdir -p "$CL_BASE"
	mount -t tmpfs -o mode=755 tmpfs /run || cl_die "private /run"
	mount -t tmpfs -o mode=1777 tmpfs /dev/shm || cl_die "private /dev/shm"
	ip link set lo up
	ip link add vfbr0 type bridge || cl_die "cannot create a bridge"
	ip addr add 10.99.0.1/24 dev vfbr0
	# A second address in the root namespace: the source of hostile
	# connections (vmfit-bench --junk-from), told apart from the clients'.
	ip addr add "$CL_JUNK_ADDR/24" dev vfbr0
	ip link set vfbr0 up
	trap cl_teardown EXIT
	trap 'exit 130' INT TERM
	cd "$CL_TOP" || exit 1
}

cl_hostdir() { # i
	echo "$CL_DIR/h$1"
}

cl_addr() { # i
	echo "10.99.0.$((10 + $1))"
}

# The --servers list for vmfit-bench: "10.99.0.11:7400,..." for the given
# hosts (default: all); vmfit-bench spreads its clients over the list.
cl_servers() { # [i...]
	local i out=
	(($#)) || set -- $(seq 1 "$CL_N")
	for i in "$@"; do
		out+="${out:+,}$(cl_addr "$i"):$CL_PORT"
	done
	echo "$out"
}

# cl_exec i cmd...: run cmd in host i (its network namespace, its /run).
cl_exec() {
	local i=$1 d
	shift
	d=$(cl_hostdir "$i")
	ip netns exec "vfh$i" unshare --mount --propagation private -- \
		bash -c 'mount --bind "$0" /run && exec "$@"' "$d/run" "$@"
}

# cl_spawn i log cmd...: start cmd in host i in the background, output
# appended to log; its pid (the command's own, not a wrapper's) is in
# CL_SPAWNED and in CL_PIDS.
cl_spawn() {
	local i=$1 log=$2 d
	shift 2
	d=$(cl_hostdir "$i")
	(
		exec ip netns exec "vfh$i" unshare --mount --propagation private -- \
			bash -c 'mount --bind "$0" /run && exec "$@"' "$d/run" "$@" \
			>>"$log" 2>&1 </dev/null
	) &
	CL_SPAWNED=$!
	CL_PIDS+=("$CL_SPAWNED")
}

# cl_add_host i: network namespace vfh<i> joined to the bridge.
cl_add_host() {
	local i=$1 d
	d=$(cl_hostdir "$i")
	mkdir -p "$d/run" "$d/state"
	ip netns add "vfh$i" || cl_die "ip netns add vfh$i"
	ip link add "vfh${i}b" type veth peer name "vfh${i}x" || cl_die "veth for host $i"
	ip link set "vfh${i}x" netns "vfh$i"
	ip link set "vfh${i}b" master vfbr0 up
	ip -n "vfh$i" link set "vfh${i}x" name eth0
	ip -n "vfh$i" addr add "$(cl_addr "$i")/24" dev eth0
	ip -n "vfh$i" link set eth0 up
	ip -n "vfh$i" link set lo up
}

cl_corosync_conf() { # i n
	local i=$1 n=$2 j d
	d=$(cl_hostdir "$i")
	cat <<EOF
# generated by tests/lib/cluster.sh for host $i of $n
totem {
	version: 2
	cluster_name: vmfit-$CL_NAME
	transport: knet
	crypto_cipher: none
	crypto_hash: none
	token: $CL_TOKEN
	interface {
		linknumber: 0
		knet_transport: udp
	}
}

nodelist {
EOF
	for ((j = 1; j <= n; j++)); do
		cat <<EOF
	node {
		ring0_addr: $(cl_addr "$j")
		name: h$j
		nodeid: $j
	}
EOF
	done
	cat <<EOF
}

quorum {
	provider: corosync_votequorum
}

logging {
	to_logfile: yes
	logfile: $d/corosync.log
	to_stderr: no
	to_syslog: no
	timestamp: on
}

system {
	sched_rr: no
	move_to_root_cgroup: no
	state_dir: $d/state
}
EOF
}

cl_start_corosync() { # i
	local i=$1 d
	d=$(cl_hostdir "$i")
	cl_corosync_conf "$i" "$CL_N" >"$d/corosync.conf"
	cl_spawn "$i" "$d/corosync.out" corosync -f -c "$d/corosync.conf"
	echo "$CL_SPAWNED" >"$d/corosync.pid"
}

# cl_members i: number of members host i's corosync currently sees.
cl_members() {
	cl_exec "$1" corosync-quorumtool -s 2>/dev/null |
		sed -n 's/^Total votes:[ \t]*\([0-9]*\).*/\1/p'
}

# cl_wait_ring n [hosts...]: wait until every given host sees n members.
cl_wait_ring() {
	local want=$1 i m deadline ok
	shift
	(($#)) || set -- $(seq 1 "$CL_N")
	deadline=$((SECONDS + ${CL_RING_SECS:-30}))
	while :; do
		ok=1
		for i in "$@"; do
			m=$(cl_members "$i")
			[ "${m:-0}" = "$want" ] || { ok=0; break; }
		done
		((ok)) && return 0
		((SECONDS < deadline)) || cl_die "corosync ring of $want not formed in ${CL_RING_SECS:-30} s (host $i sees ${m:-none}); see $CL_DIR/h*/corosync.log"
		sleep 0.2
	done
}

# ---------------------------------------------------------------------------
# vmfitd

# cl_vmfitd_conf i: print host i's vmfitd configuration
# (Documentation/vmfitd.conf.5.rst). The replica program comes from
# CL_REPLICA_<i> (default CL_REPLICA, default kv-hash), with its options;
# vmfitd appends --fd and --state. CL_VMFITD_EXTRA adds lines; in them
# @DIR@ becomes the host's directory, @ADDR@ its address, @BIN@ VMFIT_BIN,
# @HOST@ its number. The state volume is <host dir>/vstate/state.img
# (state_dir), or CL_VOLUME (state_volume, @HOST@ replaced) when set;
# CL_JOURNAL, CL_JOURNAL_B add state_journal, state_journal_b.
cl_subst() { # i text
	local t=$2
	t=${t//@DIR@/$(cl_hostdir "$1")}
	t=${t//@ADDR@/$(cl_addr "$1")}
	t=${t//@BIN@/$VMFIT_BIN}
	echo "${t//@HOST@/$1}"
}

cl_vmfitd_conf() {
	local i=$1 d var replica extra vol
	d=$(cl_hostdir "$i")
	var=CL_REPLICA_$i
	replica=${!var:-${CL_REPLICA:-kv-hash}}
	extra=$(cl_subst "$i" "${CL_VMFITD_EXTRA:-}")
	if [ -n "${CL_VOLUME:-}" ]; then
		vol="state_volume = $(cl_volume "$i")"
	else
		vol="state_dir = $d/vstate"
	fi
	if [[ " ${CL_JOURNAL_HOSTS:-$i} " == *" $i "* ]]; then
		[ -z "${CL_JOURNAL:-}" ] ||
			vol+=$'\n'"state_journal = $(cl_subst "$i" "$CL_JOURNAL")"
		[ -z "${CL_JOURNAL_B:-}" ] ||
			vol+=$'\n'"state_journal_b = $(cl_subst "$i" "$CL_JOURNAL_B")"
	fi
	cat <<EOF
# generated by tests/lib/cluster.sh for host $i of $CL_N
service = kv
node_id = $i
f = $(((CL_N - 1) / 2))
managers = ${CL_MANAGERS:-$(seq -s ' ' 1 "$CL_N")}
listen = $(cl_addr "$i"):$CL_PORT
cpg_group = vmfit-$CL_NAME
backend = process
replica_cmd = $VMFIT_BIN/$replica --records $CL_RECORDS --record-size $CL_RECORD_SIZE
$vol
status_file = $d/vmfitd.status
status_interval_ms = 200
control_socket = $d/vmfitd.ctl
$extra
EOF
}

cl_start_vmfitd() { # i
	local i=$1 d
	d=$(cl_hostdir "$i")
	mkdir -p "$d/vstate"
	rm -f "$d/vmfitd.status"
	cl_vmfitd_conf "$i" >"$d/vmfitd.conf"
	local wrap=()
	if [ -n "${CL_VMFITD_WRAP:-}" ] &&
		[[ " ${CL_VMFITD_WRAP_HOSTS:-$i} " == *" $i "* ]]; then
		read -r -d "" -a wrap <<<"${CL_VMFITD_WRAP//@DIR@/$d}" || true
	fi
	cl_spawn "$i" "$d/vmfitd.log" "${wrap[@]}" "$VMFIT_BIN/vmfitd" -f -c "$d/vmfitd.conf"
	echo "$CL_SPAWNED" >"$d/vmfitd.pid"
}

# cl_status i: host i's vmfitd status (key=value lines, vmfitd --status).
cl_status() {
	"$VMFIT_BIN/vmfitd" --status -c "$(cl_hostdir "$1")/vmfitd.conf" 2>/dev/null
}

# cl_stat i key: one value from host i's status.
cl_stat() {
	cl_status "$1" | sed -n "s/^$2=//p" | head -n 1
}

# cl_wait_vmfitd [hosts...]: wait until each vmfitd accepts clients.
cl_wait_vmfitd() {
	local i deadline
	(($#)) || set -- $(seq 1 "$CL_N")
	deadline=$((SECONDS + ${CL_READY_SECS:-30}))
	for i in "$@"; do
		until cl_status "$i" 2>/dev/null | grep -q '^ready=1'; do
			cl_alive vmfitd "$i" ||
				cl_die "vmfitd on host $i died; see $(cl_hostdir "$i")/vmfitd.log"
			((SECONDS < deadline)) ||
				cl_die "vmfitd on host $i not ready in ${CL_READY_SECS:-30} s; see $(cl_hostdir "$i")/vmfitd.log"
			sleep 0.2
		done
	done
}

# ---------------------------------------------------------------------------
# Whole cluster, processes

# cl_up n: n hosts with corosync (ring formed) and vmfitd (ready).
# CL_NO_VMFITD=1 brings up corosync only.
cl_up() {
	local n=$1 i
	CL_N=$n
	mkdir -p "$CL_DIR"
	for ((i = 1; i <= n; i++)); do
		cl_add_host "$i"
	done
	for ((i = 1; i <= n; i++)); do
		cl_start_corosync "$i"
	done
	cl_wait_ring "$n"
	cl_log "corosync ring of $n formed"
	[ -n "${CL_NO_VMFITD:-}" ] && return 0
	for ((i = 1; i <= n; i++)); do
		cl_start_vmfitd "$i"
	done
	cl_wait_vmfitd
	cl_log "vmfitd ready on $n hosts"
}

# cl_up_unreplicated: the baseline, one host (host 1) running vmfitd
# --unreplicated (no corosync, no voting) with one replica.
cl_up_unreplicated() {
	CL_N=1
	mkdir -p "$CL_DIR"
	cl_add_host 1
	CL_VMFITD_EXTRA="unreplicated = yes${CL_VMFITD_EXTRA:+
$CL_VMFITD_EXTRA}" cl_start_vmfitd 1
	cl_wait_vmfitd 1
	cl_log "unreplicated vmfitd ready on host 1"
}

cl_pid() { # what i
	cat "$(cl_hostdir "$2")/$1.pid" 2>/dev/null
}

cl_alive() { # what i
	local p
	p=$(cl_pid "$1" "$2")
	[ -n "$p" ] && kill -0 "$p" 2>/dev/null &&
		! grep -q '^State:[[:space:]]*Z' "/proc/$p/status" 2>/dev/null
}

# cl_vmfitd_exits i secs text: host i's vmfitd exits within secs seconds
# and its log says why in text (a fixed string); dies otherwise.
cl_vmfitd_exits() {
	local deadline=$((SECONDS + $2))
	while cl_alive vmfitd "$1"; do
		((SECONDS < deadline)) ||
			cl_die "host $1: vmfitd still runs after $2 s (expected to exit: $3)"
		sleep 0.1
	done
	grep -qF -- "$3" "$(cl_hostdir "$1")/vmfitd.log" ||
		cl_die "host $1: vmfitd exited without saying '$3'"
}

# cl_kill what i [signal]: kill host i's vmfitd or corosync (default KILL).
cl_kill() {
	local p
	p=$(cl_pid "$1" "$2")
	[ -n "$p" ] || cl_die "no $1 on host $2"
	kill -"${3:-KILL}" "$p" 2>/dev/null
	{ wait "$p"; } 2>/dev/null
	rm -f "$(cl_hostdir "$2")/$1.pid"
	cl_log "killed $1 of host $2 (pid $p)"
}

# cl_kill_manager i: host i's vmfitd and the replica it started die at once
# (corosync stays up).
cl_kill_manager() {
	local p kids
	p=$(cl_pid vmfitd "$1")
	[ -n "$p" ] || cl_die "no vmfitd on host $1"
	kids=$(cat "/proc/$p/task/$p/children" 2>/dev/null)
	kill -KILL $kids 2>/dev/null
	cl_kill vmfitd "$1"
}

# cl_kill_host i: the host crashes: its vmfitd, the replica it started, and
# corosync, all at once.
cl_kill_host() {
	local p kids=
	p=$(cl_pid vmfitd "$1")
	if [ -n "$p" ]; then
		kids=$(cat "/proc/$p/task/$p/children" 2>/dev/null)
		kill -KILL $kids "$(cl_pid corosync "$1")" 2>/dev/null
		cl_kill vmfitd "$1"
	fi
	cl_kill corosync "$1"
}

# cl_probe i args...: one request to host i's vmfitd (vmfit-probe --get KEY
# or --put KEY=VALUE, [--v1]); prints vmfit-probe's answer line, e.g.
# "REPLY version=3 status=OK kv=OK value=x" or "REPLY version=3
# status=NOT_PRIMARY". The client runs in the root namespace, or in host
# i itself with CL_PROBE_LOCAL=1 (reaches a host whose link is cut).
cl_probe() {
	local i=$1 in=()
	shift
	[ -z "${CL_PROBE_LOCAL:-}" ] || in=(cl_exec "$i")
	"${in[@]}" "$VMFIT_BIN/vmfit-probe" --server "$(cl_addr "$i"):$CL_PORT" \
		--timeout "${CL_PROBE_MS:-3000}" "$@"
}

# cl_wait_stat i key value [secs]: wait until host i's status has key=value.
cl_wait_stat() {
	local deadline=$((SECONDS + ${4:-30}))
	until [ "$(cl_stat "$1" "$2")" = "$3" ]; do
		((SECONDS < deadline)) ||
			cl_die "host $1: $2=$(cl_stat "$1" "$2"), not $3, after ${4:-30} s"
		sleep 0.2
	done
}

# cl_wait_caught_up i key value [secs]: wait until host i is synced and
# ready (at most secs, default 60); meanwhile a GET of key through it must
# answer value or UNAVAILABLE, never anything else (no answer of its own
# while it catches up).
cl_wait_caught_up() {
	local i=$1 key=$2 out deadline=$((SECONDS + ${4:-60}))
	local want="REPLY version=3 status=OK kv=OK value=$3"

	until [ "$(cl_stat "$i" synced)" = 1 ] && [ "$(cl_stat "$i" ready)" = 1 ]; do
		((SECONDS < deadline)) || cl_die "host $i did not catch up in ${4:-60} s"
		out=$(cl_probe "$i" --get "$key")
		case "$out" in
		"$want" | "REPLY version=3 status=UNAVAILABLE") ;;
		*) cl_die "GET $key through host $i while it catches up answered '$out'" ;;
		esac
	done
}

# CL_MEMCHECK: a CL_VMFITD_WRAP that runs vmfitd under valgrind memcheck
# (exit status 99 on an error or a definite or indirect leak), its report
# in the host's valgrind.log; cl_memcheck_stop checks it.
CL_MEMCHECK="valgrind --tool=memcheck --leak-check=full
	--errors-for-leak-kinds=definite,indirect --error-exitcode=99
	--track-origins=yes --log-file=@DIR@/valgrind.log"

# cl_memcheck_stop i: SIGTERM host i's vmfitd (started with CL_MEMCHECK by
# this shell) and fail unless it exits 0 after a leak check with no
# memcheck error and no definite or indirect leak.
cl_memcheck_stop() {
	local p rc=0 vlog
	vlog=$(cl_hostdir "$1")/valgrind.log
	p=$(cl_pid vmfitd "$1")
	kill -TERM "$p"
	wait "$p" || rc=$?
	rm -f "$(cl_hostdir "$1")/vmfitd.pid"
	grep -E "ERROR SUMMARY|definitely lost|indirectly lost|All heap blocks" "$vlog" |
		sed 's/^==[0-9]*== */valgrind: /'
	cl_assert_eq "host $1: vmfitd exit status under valgrind (99: memcheck errors)" 0 "$rc"
	grep -q "LEAK SUMMARY:\|All heap blocks were freed" "$vlog" ||
		cl_die "no leak check in $vlog"
	grep -q "ERROR SUMMARY: 0 errors" "$vlog" ||
		{ cat "$vlog"; cl_die "memcheck reported errors"; }
	if grep -qE "(definitely|indirectly) lost: [1-9]" "$vlog"; then
		cat "$vlog"
		cl_die "memcheck found leaks"
	fi
}

# cl_rss_kb i: VmRSS of host i's vmfitd in KiB.
cl_rss_kb() {
	sed -n 's/^VmRSS:[ \t]*\([0-9]*\) kB/\1/p' "/proc/$(cl_pid vmfitd "$1")/status"
}

# cl_down: stop every process and remove the hosts, keeping the logs; a
# later cl_up builds a fresh cluster (set CL_DIR to a new directory first).
# The replicas go first: they hold the state volumes open (a dm-vmfit
# device cannot be removed before they are gone).
cl_down() {
	local p i
	for ((i = 1; i <= CL_N; i++)); do
		p=$(cl_pid vmfitd "$i")
		[ -n "$p" ] || continue
		kill -KILL $(cat "/proc/$p/task/$p/children" 2>/dev/null) 2>/dev/null
	done
	for p in "${CL_PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	for p in "${CL_PIDS[@]}"; do
		{ wait "$p"; } 2>/dev/null
	done
	CL_PIDS=()
	for ((i = 1; i <= CL_N; i++)); do
		rm -f "$(cl_hostdir "$i")"/*.pid
		ip link del "vfh${i}b" 2>/dev/null
		ip netns del "vfh$i" 2>/dev/null
	done
	CL_N=0
}

cl_teardown() {
	local rc=$? p
	trap - EXIT
	# Background jobs of the test (clients) first, then the hosts. The
	# rest dies with this PID namespace when the script exits.
	p=$(jobs -p)
	[ -z "$p" ] || kill -KILL $p 2>/dev/null
	for p in "${CL_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	sleep 0.3
	for p in "${CL_PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	if ((rc)); then
		cl_log "exit status $rc; logs in $CL_DIR"
	fi
	exit "$rc"
}

# cl_wait_quiet [hosts...]: wait until the given vmfitds (default: all
# alive ones) executed the same number of orders, unchanged over two status
# intervals. Prints that number.
cl_wait_quiet() {
	local i v first prev= deadline=$((SECONDS + 30)) same
	if ((!$#)); then
		for ((i = 1; i <= CL_N; i++)); do
			cl_alive vmfitd "$i" && set -- "$@" "$i"
		done
	fi
	while ((SECONDS < deadline)); do
		same=1
		first=
		for i in "$@"; do
			v=$(cl_stat "$i" executed)
			[ -n "$first" ] || first=$v
			[ "$v" = "$first" ] || same=0
		done
		if ((same)) && [ "$first" = "$prev" ]; then
			echo "$first"
			return 0
		fi
		prev=$( ((same)) && echo "$first")
		sleep 0.5
	done
	for i in "$@"; do
		cl_log "host $i: executed=$(cl_stat "$i" executed) delivered=$(cl_stat "$i" orders_delivered)"
	done
	cl_die "hosts $* did not converge on one executed count in 30 s"
}

# cl_checkpoint_try i [timeout_s]: trigger an ordered checkpoint through
# host i's control socket (vmfitd --checkpoint); prints "order=N status=0
# id=..." once host i's replica has taken it, retrying while host i's
# group send queue is congested, within timeout_s (default 30). Returns 1
# with the reason logged otherwise.
cl_checkpoint_try() {
	local out t=${2:-30} deadline
	deadline=$((SECONDS + t))
	# "group send queue congested" is a transient refusal: try again.
	until out=$("$VMFIT_BIN/vmfitd" --checkpoint --timeout $((t * 1000)) \
		-c "$(cl_hostdir "$1")/vmfitd.conf" 2>&1); do
		if [[ "$out" != *congested* ]] || ((SECONDS >= deadline)); then
			cl_log "checkpoint through host $1 failed: $out"
			return 1
		fi
		sleep 0.2
	done
	echo "$out"
}

# cl_checkpoint i: cl_checkpoint_try i; fails the test otherwise.
cl_checkpoint() {
	cl_checkpoint_try "$1" || cl_die "checkpoint through host $1 failed"
}

# cl_wait_checkpoints n [hosts...]: wait until each host has finished n
# checkpoints (checkpoints_done in its status).
cl_wait_checkpoints() {
	local want=$1 i deadline=$((SECONDS + 30))
	shift
	(($#)) || set -- $(seq 1 "$CL_N")
	for i in "$@"; do
		until [ "$(cl_stat "$i" checkpoints_done)" = "$want" ]; do
			((SECONDS < deadline)) ||
				cl_die "host $i finished $(cl_stat "$i" checkpoints_done) checkpoints, not $want, in 30 s"
			sleep 0.2
		done
	done
}

# cl_checkpoint_all src [timeout_s]: an ordered checkpoint through host
# src (cl_checkpoint_try), waited for on every host whose vmfitd runs
# (one more in checkpoints_done), all within timeout_s (default 30).
# Returns 1 with the reason logged otherwise.
cl_checkpoint_all() {
	local src=$1 t=${2:-30} i deadline
	local -a before hosts=()
	deadline=$((SECONDS + t))
	for i in $(seq 1 "$CL_N"); do
		cl_alive vmfitd "$i" && hosts+=("$i")
	done
	for i in "${hosts[@]}"; do
		before[i]=$(cl_stat "$i" checkpoints_done)
	done
	cl_checkpoint_try "$src" "$t" >/dev/null || return 1
	local n
	for i in "${hosts[@]}"; do
		until n=$(cl_stat "$i" checkpoints_done) &&
			((${n:-0} > ${before[i]:-0})); do
			if ((SECONDS >= deadline)); then
				cl_log "host $i did not finish the checkpoint through host $src in $t s"
				return 1
			fi
			sleep 0.2
		done
	done
}

# cl_checkpoint_compare src [when]: an ordered checkpoint through host
# src, waited for on every host whose vmfitd runs, then each such host's
# live volume must equal host src's, byte for byte (dies naming the host
# and @when otherwise).
cl_checkpoint_compare() {
	local src=$1 when=${2:-at an ordered checkpoint} i
	cl_checkpoint_all "$src" ||
		cl_die "the ordered checkpoint through host $src was not taken everywhere"
	for i in $(seq 1 "$CL_N"); do
		((i == src)) || ! cl_alive vmfitd "$i" && continue
		cmp "$(cl_live_volume "$src")" "$(cl_live_volume "$i")" ||
			cl_die "live volumes of hosts $src and $i differ $when"
	done
}

# cl_volume i: path of host i's replica state volume.
cl_volume() {
	if [ -n "${CL_VOLUME:-}" ]; then
		cl_subst "$1" "$CL_VOLUME"
	else
		echo "$(cl_hostdir "$1")/vstate/state.img"
	fi
}

# cl_u32 file offset, cl_u64 file offset: a little-endian integer of a file
# (a kv state volume's header: kv-service.rst; the order is cl_u64 at 32).
cl_u32() { od -An -v -t u4 -j "$2" -N 4 "$1" | tr -d ' '; }
cl_u64() { od -An -v -t u8 -j "$2" -N 8 "$1" | tr -d ' '; }

# cl_live_volume i: the volume host i's replica runs on now: recovery
# alternates between state_volume and state_volume_b (rcv_volume).
cl_live_volume() {
	local v
	v=$(cl_stat "$1" rcv_volume)
	[ -n "$v" ] && echo "$v" || cl_volume "$1"
}

# cl_recover i [--full]: start a recovery round through host i and wait
# until host i has finished it; prints vmfitd --recover --wait's output.
# Returns its status (0 done, 1 aborted or not over in time).
cl_recover() {
	local i=$1
	shift
	"$VMFIT_BIN/vmfitd" --recover --wait "$@" --timeout 60000 \
		-c "$(cl_hostdir "$i")/vmfitd.conf" 2>&1
}

# cl_wait_rounds n [hosts...]: wait until each host has ended n rounds
# (done + aborted) and is idle again.
cl_wait_rounds() {
	local want=$1 i deadline=$((SECONDS + 60)) d a
	shift
	(($#)) || set -- $(seq 1 "$CL_N")
	for i in "$@"; do
		while :; do
			d=$(cl_stat "$i" rcv_done)
			a=$(cl_stat "$i" rcv_aborted)
			(( ${d:-0} + ${a:-0} >= want )) &&
				[ "$(cl_stat "$i" rcv_phase)" = idle ] && break
			((SECONDS < deadline)) ||
				cl_die "host $i ended $d + $a rounds, not $want, in 60 s"
			sleep 0.2
		done
	done
}

# cl_peer_error i port name code bytes: send bytes (printf escapes) to
# host i's peer port (Documentation/protocol.rst "Peer connections") and
# expect a PEER_ERROR with this code back.
cl_peer_error() {
	local i=$1 port=$2 name=$3 want=$4 got
	got=$(timeout 5 bash -c '
		exec 5<>/dev/tcp/'"$(cl_addr "$i")"'/'"$port"' || exit 9
		printf "$1" >&5
		od -An -v -tu1 -N 38 <&5' _ "$5" | tr -s ' \n' ' ')
	set -- $got
	[ "$#" -ge 33 ] || cl_die "peer $name: no PEER_ERROR (got: $got)"
	cl_assert_eq "peer $name: magic" "86 77 70 80" "$1 $2 $3 $4"
	cl_assert_eq "peer $name: type" 34 "$7"
	cl_assert_eq "peer $name: code" "$want" "${33}"
	cl_log "peer $name: PEER_ERROR code $want"
}

# cl_peer_hdr type len: a peer frame header, as printf escapes.
cl_peer_hdr() {
	printf 'VMFP\\x01\\x00\\x%02x\\x00\\x%02x\\x00\\x00\\x00\\x00\\x00\\x00\\x00' "$1" "$2"
}

# cl_peer_u64 n: a little-endian u64 (decimal or 0x hex), as printf escapes.
cl_peer_u64() {
	local n=$(($1)) k
	for ((k = 0; k < 8; k++)); do
		printf '\\x%02x' $(((n >> (8 * k)) & 255))
	done
}
CL_PEER_Z8='\x00\x00\x00\x00\x00\x00\x00\x00'

# cl_shadow_wrapper path: write a shadow_cmd wrapper ("path @DIR@ args...":
# the host directory is dropped) steered by <host dir>/shadow-mode, or
# without one by $CL_BASE/shadow-mode: "fail" exits at once (the shadow
# does not start), "slow" starts 4 s late, "crash" runs kv-faulty (sqlite
# engine) that kills itself on its first EXEC (it restores, then dies
# replaying the logged requests), "crash-restore" one that kills itself
# on RESTORE, "linger" a kv-sqlite slow to exit once it is the senior
# (SIGTERM ignored, 30 s more after its channel closed); anything else
# (or no file) runs kv-sqlite.
cl_shadow_wrapper() {
	cat >"$1" <<EOS
#!/bin/sh
mode=\$(cat "\$1/shadow-mode" 2>/dev/null || cat "$CL_BASE/shadow-mode" 2>/dev/null)
shift
case "\$mode" in
fail)
	echo "flaky-sqlite: failing on purpose" >&2
	exit 1 ;;
slow)
	sleep 4 ;;
crash)
	exec "$VMFIT_BIN/kv-faulty" --engine kv-sqlite --fault crash \
		--fault-after 0 "\$@" ;;
crash-restore)
	exec "$VMFIT_BIN/kv-faulty" --engine kv-sqlite --fault crash-restore "\$@" ;;
linger)
	trap '' TERM
	"$VMFIT_BIN/kv-sqlite" "\$@"
	exec sleep 30 ;;
esac
exec "$VMFIT_BIN/kv-sqlite" "\$@"
EOS
	chmod +x "$1"
}

# cl_fault_wrapper path: write a vmfitd wrapper (CL_VMFITD_WRAP="path
# @DIR@") that sets VMFITD_TEST_FAULT from the host's <dir>/faults at each
# start (no file: none); the hosts need test_faults = yes.
cl_fault_wrapper() {
	cat >"$1" <<'EOS'
#!/bin/sh
d=$1
shift
VMFITD_TEST_FAULT=$(cat "$d/faults" 2>/dev/null) exec "$@"
EOS
	chmod +x "$1"
}

# ---------------------------------------------------------------------------
# Load

# cl_bench name [vmfit-bench options...]: run the client emulator from the
# root namespace against every host (unless -s/--servers is given), with
# outputs in $CL_DIR/name.{csv,json,png} and its log in $CL_DIR/name.log.
# Returns vmfit-bench's exit status. With CL_BENCH_LIMIT=SECS, a run still
# going after SECS gets SIGINT (it ends with complete outputs, its
# unfinished requests counted). cl_bench_start does the same in the
# background and leaves vmfit-bench's own pid in CL_BENCH_PID (SIGINT ends
# the measurement early, with complete outputs).
cl_bench_start() {
	local name=$1 servers=(--servers "$(cl_servers)") a
	shift
	for a in "$@"; do
		case "$a" in -s | --servers | --servers=*) servers=() ;; esac
	done
	${CL_BENCH_LIMIT:+timeout -s INT -k 10 "$CL_BENCH_LIMIT"} \
		"$VMFIT_BIN/vmfit-bench" "${servers[@]}" --out "$CL_DIR/$name" \
		--label "$name" "$@" >"$CL_DIR/$name.log" 2>&1 </dev/null &
	CL_BENCH_PID=$!
}

cl_bench() {
	cl_bench_start "$@"
	wait "$CL_BENCH_PID"
}

# cl_bench_wait secs: wait for the vmfit-bench of cl_bench_start, at most
# secs seconds (then it is interrupted and the test fails): a service that
# stopped answering must fail the test, not hang it.
cl_bench_wait() {
	local deadline=$((SECONDS + $1))
	while kill -0 "$CL_BENCH_PID" 2>/dev/null; do
		if ((SECONDS >= deadline)); then
			kill -INT "$CL_BENCH_PID" 2>/dev/null
			wait "$CL_BENCH_PID"
			tail -n 5 "$CL_DIR"/*.log >&2
			cl_die "vmfit-bench still running after $1 s: the service stopped answering"
		fi
		sleep 0.2
	done
	wait "$CL_BENCH_PID"
}

# cl_load_clean [name]: the clients of cl_bench_start name (default load),
# run with --verify and finished, saw no error, bad reply or unfinished
# request and read no wrong value; dies otherwise, quoting their summary.
cl_load_clean() {
	local log=$CL_DIR/${1:-load}.log
	grep -q 'errors 0, bad replies 0, unfinished 0' "$log" ||
		cl_die "clients saw errors: $(grep errors "$log")"
	grep -q 'verify: [0-9]* reads checked, 0 mismatches' "$log" ||
		cl_die "clients saw a wrong value: $(grep verify "$log")"
}

# cl_json file key: a number or string from a flat JSON summary.
cl_json() {
	sed -n "s/.*\"$2\": *\"\{0,1\}\([^,\"}]*\).*/\1/p" "$1" | head -n 1
}

# ---------------------------------------------------------------------------
# Assertions

cl_assert() { # message command...
	local msg=$1
	shift
	"$@" || cl_die "$msg"
}

cl_assert_eq() { # message expected actual
	[ "$2" = "$3" ] || cl_die "$1: expected '$2', got '$3'"
}

# cl_assert_json file key op value: e.g. cl_assert_json b.json ops -gt 0
cl_assert_json() {
	local v
	v=$(cl_json "$1" "$2")
	[ -n "$v" ] || cl_die "$1: no '$2'"
	[ "${v%.*}" "$3" "$4" ] || cl_die "$(basename "$1"): $2 = $v, expected $3 $4"
}

# cl_all_stat key [hosts...]: the key's value on each host (default
# 1..CL_N), space-separated: "v1 v2 v3".
cl_all_stat() {
	local k=$1 i out=
	shift
	(($#)) || set -- $(seq 1 "$CL_N")
	for i in "$@"; do
		out+="$(cl_stat "$i" "$k") "
	done
	echo "${out% }"
}

# cl_rcv_result i: "done", or the abort reason of host i's last recovery
# round.
cl_rcv_result() {
	local r
	r=$(cl_stat "$1" rcv_last_result)
	if [ "$r" = done ]; then
		echo done
	else
		r=$(cl_stat "$1" rcv_last_abort)
		echo "${r%%:*}"
	fi
}

# cl_wait_phase i phase [secs]: wait until host i's recovery round is in
# this phase (default 30 s at most).
cl_wait_phase() {
	local deadline=$((SECONDS + ${3:-30}))
	until [ "$(cl_stat "$1" rcv_phase)" = "$2" ]; do
		((SECONDS < deadline)) ||
			cl_die "host $1 not in phase $2 in ${3:-30} s (phase $(cl_stat "$1" rcv_phase))"
		sleep 0.1
	done
}

# cl_keep_logs: copy the hosts' files (no sockets) into the VM test's
# results ($VMTEST_RESULTS/<name>-logs), for a kmod test that failed: the
# guest's /tmp goes with the VM.
cl_keep_logs() {
	local out f
	[ -d "${VMTEST_RESULTS:-}" ] || return 0
	out=$VMTEST_RESULTS/$CL_NAME-logs
	rm -rf "$out"
	(cd "$CL_BASE" && find . -type f) | while read -r f; do
		mkdir -p "$out/${f%/*}" && cp "$CL_BASE/$f" "$out/$f"
	done
	cl_log "logs of the hosts: $CL_NAME-logs/ in the results"
}

# delta_bounds WHO CHUNKS CAPTURED BASE HASHED COPIED SENT [EXTRA] - a
# recovery round of WHO was a delta after a small change (issue 10): its
# changed chunks, found independently by comparing the volume it captured
# (CAPTURED) with a copy taken after the previous round (BASE), are a
# small part (under 1/20) of its CHUNKS 4 KiB chunks; the bytes it HASHED
# are at least those chunks' bytes and at most 1.1 x, the bytes it COPIED
# at most 1.1 x, and the bytes it SENT at most 1.1 x (those bytes + the
# digests of the Merkle descent to them: levels x 16 x 32 bytes per
# chunk). EXTRA: chunks allowed on top of the changed ones for hashing
# and copying (default 0). Prints the counts, and why if a bound does not
# hold (then returns 1). Needs no cluster: tests/xen uses it too.
delta_bounds() {
	local chunks=$2 hashed=$5 copied=$6 sent=$7 extra=${8:-0} changed levels
	levels=$(awk -v n="$chunks" 'BEGIN { l = 1; while (n > 1) { n = int((n + 15) / 16); l++ } print l }')
	changed=$(cmp -l "$3" "$4" |
		awk '{ c = int(($1 - 1) / 4096); if (!(c in s)) { s[c] = 1; n++ } }
		     END { print n + 0 }')
	echo "$1: $changed chunks changed; bytes hashed $hashed, copied $copied, sent $sent"
	((changed > 0 && changed * 20 < chunks)) || {
		echo "$1: $changed of $chunks chunks changed: not a delta of 1 % of the records"
		return 1
	}
	awk -v c="$changed" -v h="$hashed" -v k="$copied" -v s="$sent" -v l="$levels" -v x="$extra" '
		BEGIN { b = c * 4096; d = c * l * 16 * 32; e = x * 4096
			exit !(h >= b && h <= 1.1 * b + e && k <= 1.1 * b + e &&
			       s <= 1.1 * (b + d)) }' || {
		echo "$1: hashed $hashed, copied $copied, sent $sent bytes for $changed changed chunks of 4096 bytes (+ $extra allowed)"
		return 1
	}
}

# cl_delta_bounds i captured base [extra]: host i's last round was a
# delta after 1 % of the records changed (issue 10): delta_bounds with
# its counts (sent: recovery group messages, rcv_bytes_msgs, and chunks
# served, rcv_bytes_served). extra: chunks
# allowed on top of the changed ones (default 0), for chunks a volume's
# changed set holds by design although a content comparison cannot see
# them (the caller says which; kv's in-volume journal was one:
# CL_JOURNAL takes it off).
cl_delta_bounds() {
	local i=$1 msg
	msg=$(delta_bounds "host $i" "$(cl_stat "$i" rcv_chunks)" "$2" "$3" \
		"$(cl_stat "$i" rcv_bytes_hashed)" \
		"$(cl_stat "$i" rcv_bytes_copied)" \
		$(($(cl_stat "$i" rcv_bytes_msgs) + $(cl_stat "$i" rcv_bytes_served))) \
		"${4:-0}") || cl_die "$msg"
	cl_log "$msg"
}

# cl_down_at_exit: at the test's exit (aux.sh's at_exit) every host process
# is stopped (cl_down: the replicas first, they hold the volumes open); on
# failure, first (a timeout may end cl_down) their logs are kept with the
# test's results. cl_passed marks success.
cl_down_at_exit() {
	CL_FAILED=1
	at_exit cl_down_keep_logs
}
cl_down_keep_logs() {
	[ -z "${CL_FAILED:-}" ] || cl_keep_logs
	cl_down
}
cl_passed() {
	CL_FAILED=
}

# cl_assert_no_round_timeout [i...]: no recovery round on hosts i...
# (default: every host) ran into its timeout (recovery_timeout_ms): a
# round that cannot go on must end at once, by an abort with its reason.
cl_assert_no_round_timeout() {
	local i log
	(($#)) || set -- $(seq "$CL_N")
	for i in "$@"; do
		log=$(cl_hostdir "$i")/vmfitd.log
		! grep -q 'aborted (timeout)' "$log" ||
			cl_die "host $i: a round ran into its timeout: $(grep 'aborted (timeout)' "$log")"
	done
}

# cl_assert_liar_refuted i...: hosts i... ran rounds with a manager that
# lies about its digests (test fault lie-digests): the lie was told (they
# descended to the chunks: every node of every level differed), and no
# round ran into its timeout. (Nothing repaired: the caller's check.)
cl_assert_liar_refuted() {
	local i
	for i in "$@"; do
		grep -q 'node(s) differ; descending to level 0' "$(cl_hostdir "$i")/vmfitd.log" ||
			cl_die "host $i never descended to the chunks: the liar did not lie"
	done
	cl_assert_no_round_timeout "$@"
}
