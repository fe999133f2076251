# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# tools/bench/recovery/cpu.sh - where the CPU of a benchmark run goes, so
# the results can say why a ratio is what it is on a machine whose cores
# the three hosts, corosync and the clients share. Sourced by
# tools/bench/recovery/run after tools/bench/lib.sh, inside its pid
# namespace (its /proc shows the cluster's processes and vmfit-bench,
# nothing else).
#
#	cpu_start file		# sample every 0.5 s in the background
#	...			# the load, the recovery
#	cpu_stop
#	cpu_json file from_us to_us trig_us	# {"managers": s, ...}
#
# A sample is one line per thread: "<CLOCK_REALTIME us> pid tid ppid comm
# utime+stime (clock ticks)". A window's CPU of a thread is its last value
# in the window minus its first (all of it for a thread born in the
# window, i.e. first seen in it but not in the first sample; a thread that ends loses at most the last half second). Classes:
# managers (vmfitd's event loop: its main thread), manager_workers (its
# other threads: the recovery volume worker), seniors and shadows (children
# of a vmfitd: replicas seen before trig_us, and those started after it),
# corosync, clients (vmfit-bench).

CPU_PERIOD=${CPU_PERIOD:-0.5}

# cpu_sample: one sample on stdout (BENCH_PROC instead of /proc: tests).
cpu_sample() {
	# grep, not awk, opens the files: a thread that ends between the glob
	# and the read makes mawk stop at its file (every later thread was
	# lost from the sample); grep says so on stderr and goes on.
	grep -H '' "${BENCH_PROC:-/proc}"/[0-9]*/task/[0-9]*/stat 2>/dev/null |
		awk -v t="$(rl_us)" '{
		i = index($0, ":")
		# .../PID/task/TID/stat
		np = split(substr($0, 1, i - 1), p, "/")
		s = substr($0, i + 1)
		c = substr(s, index(s, "(") + 1)
		sub(/\)[^)]*$/, "", c)
		gsub(/ /, "_", c)
		sub(/^.*\) /, "", s)
		n = split(s, f, " ")
		# f[1] is field 3 (state): ppid 4, utime 14, stime 15
		if (n >= 13)
			print t, p[np - 3], p[np - 1], f[2], c, f[12] + f[13]
	}' || true
}

# cpu_start file: sample into file until cpu_stop.
cpu_start() {
	: >"$1"
	(
		trap 'exit 0' TERM
		while :; do
			cpu_sample >>"$1"
			sleep "$CPU_PERIOD"
		done
	) &
	CPU_PID=$!
}

cpu_stop() {
	[ -n "${CPU_PID:-}" ] || return 0
	kill "$CPU_PID" 2>/dev/null
	wait "$CPU_PID" 2>/dev/null
	CPU_PID=
}

# cpu_json file from_us to_us [trig_us]: CPU seconds per class in the
# window, a JSON object (trig_us: replicas started after it are shadows;
# default: none is).
cpu_json() {
	awk -v a="$2" -v b="$3" -v trig="${4:-0}" -v hz="$(bench_clk_tck)" '
	# pass 1: when each thread was first seen; the vmfitd processes
	NR == FNR {
		if (FNR == 1)
			t0 = $1
		if (!($3 in born))
			born[$3] = $1
		if ($5 == "vmfitd" && $2 == $3)
			mgr[$2] = 1
		next
	}
	$1 < a || $1 > b { next }
	{
		tid = $3
		if ($5 == "vmfitd")
			cl = ($2 == $3 ? "managers" : "manager_workers")
		else if ($5 == "corosync")
			cl = "corosync"
		else if ($5 == "vmfit-bench")
			cl = "clients"
		else if ($4 in mgr)
			cl = (trig && born[$2] > trig ? "shadows" : "seniors")
		else
			next
		if (!(tid in first))
			first[tid] = (born[tid] > t0 && born[tid] >= a ? 0 : $6)
		last[tid] = $6
		class[tid] = cl
	}
	END {
		split("managers manager_workers seniors shadows corosync clients", k, " ")
		for (tid in last)
			sum[class[tid]] += last[tid] - first[tid]
		printf "{"
		for (i = 1; i <= 6; i++)
			printf "%s\"%s\": %.2f", (i > 1 ? ", " : ""), k[i], sum[k[i]] / hz
		printf "}"
	}' "$1" "$1"
}
