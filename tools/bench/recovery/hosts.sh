# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# tools/bench/recovery/hosts.sh - every host's phase timeline of a round,
# so that a gap in the service can be matched with what some host did
# then (host 1's alone, from `vmfit-ctl recover --wait`, does not show
# another host's hand-over or finish). Sourced by tools/bench/recovery/run
# after tests/lib/cluster.sh and tests/lib/rcvload.sh.
#
#	hosts_watch_start prefix	# each host's vmfitd events, stamped
#	rl_recover ...; rl_load_wait ...
#	hosts_watch_stop
#	hosts_phases prefix trig_us	# "host phase from_s to_s" lines
#	hosts_json phases_file		# {"1": [{"phase": ...}, ...], ...}
#	hosts_near phases_file trig_s gap_at_s gap_ms [margin_s]
#
# The events are vmfitd's control socket subscription (`vmfit-ctl events
# --manager`, vmfitd(8) "Control socket"): rcv-phase, rcv-senior-stopped,
# rcv-done, rcv-aborted. Each line gets the CLOCK_REALTIME (us) at which
# it was read: <prefix>-h<i>.txt, "<us> <event line>".

HOSTS_PIDS=()	# the vmfit-ctl pid files
HOSTS_LOOPS=()	# the stamping loops

# hosts_watch_start prefix: follow every host's events in the background
# until hosts_watch_stop (at most HOSTS_WATCH_SECS, 3600).
hosts_watch_start() {
	local i f
	HOSTS_PIDS=()
	HOSTS_LOOPS=()
	for ((i = 1; i <= CL_N; i++)); do
		f=$1-h$i.txt
		: >"$f"
		# vmfit-ctl's pid, not the pipeline's: stopping it ends the
		# stamping loop (end of its input).
		{
			"$VMFIT_BIN/vmfit-ctl" events --manager \
				--config "$(cl_hostdir "$i")/vmfitd.conf" \
				--timeout "${HOSTS_WATCH_SECS:-3600}" 2>>"$f.err" &
			echo $! >"$f.pid"
			wait
		} | while IFS= read -r line; do
			printf '%s %s\n' "$(rl_us)" "$line"
		done >>"$f" &
		HOSTS_LOOPS+=($!)
		HOSTS_PIDS+=("$f.pid")
	done
	# Subscribed before the round is triggered: every pid is there and
	# vmfitd has the subscriber (events before it would be lost).
	for f in "${HOSTS_PIDS[@]}"; do
		while [ ! -s "$f" ]; do sleep 0.05; done
	done
	sleep 0.3
}

hosts_watch_stop() {
	local f
	for f in "${HOSTS_PIDS[@]}"; do
		kill "$(cat "$f")" 2>/dev/null
		rm -f "$f"
	done
	((${#HOSTS_LOOPS[@]})) && wait "${HOSTS_LOOPS[@]}" 2>/dev/null
	HOSTS_PIDS=()
	HOSTS_LOOPS=()
}

# hosts_phases prefix trig_us: from each host's stamped events, its
# phases "host phase from_s to_s" (seconds since trig_us; a phase lasts
# until the next one, the last until rcv-done or rcv-aborted, "(open)"
# ending at the last event seen when neither came), and the points
# "host senior-stopped at_s at_s" (the old replica exited) and "host done
# at_s at_s" (or aborted: the round is over there); by host, then time.
hosts_phases() {
	local f i
	for f in "$1"-h*.txt; do
		[ -e "$f" ] || continue
		i=${f##*-h}
		i=${i%.txt}
		awk -v h="$i" -v t0="$2" '
		function s(us) { return (us - t0) / 1e6 }
		{ t = s($1) }
		$2 == "rcv-phase" {
			for (k = 3; k <= NF; k++)
				if ($k ~ /^phase=/)
					p = substr($k, 7)
			if (p == "idle")
				next
			if (cur != "")
				printf "%s %s %.3f %.3f\n", h, cur, from, t
			cur = p
			from = t
			next
		}
		$2 == "rcv-senior-stopped" {
			printf "%s senior-stopped %.3f %.3f\n", h, t, t
			next
		}
		$2 == "rcv-done" || $2 == "rcv-aborted" {
			if (cur != "")
				printf "%s %s %.3f %.3f\n", h, cur, from, t
			printf "%s %s %.3f %.3f\n", h, substr($2, 5), t, t
			cur = ""
		}
		END {
			if (cur != "")
				printf "%s %s %.3f %.3f\n", h, cur, from, t
		}' "$f"
	done | sort -s -k1,1n -k3,3n
}

# hosts_json phases_file: the hosts' timelines as a JSON object, host
# number -> [{"phase", "from_s", "to_s"}, ...] in their order.
hosts_json() {
	awk '
	{
		if (!($1 in n))
			hosts[++nh] = $1
		e[$1, ++n[$1]] = sprintf("{\"phase\": \"%s\", \"from_s\": %s, \"to_s\": %s}", $2, $3, $4)
	}
	END {
		printf "{"
		for (i = 1; i <= nh; i++) {
			h = hosts[i]
			printf "%s\"%s\": [", (i > 1 ? ", " : ""), h
			for (k = 1; k <= n[h]; k++)
				printf "%s%s", (k > 1 ? ", " : ""), e[h, k]
			printf "]"
		}
		printf "}"
	}' "$1"
}

# hosts_near phases_file trig_s gap_at_s gap_ms [margin_s]: what the gap
# (gap_at_s .. + gap_ms, seconds into the run; the phases are seconds
# since the trigger at trig_s) coincides with: every phase that begins
# (or point event) within margin_s (0.1) of the gap, as "h<host> <phase>
# at <s after the trigger>", separated by "; "; "nothing" when none.
hosts_near() {
	awk -v trig="$2" -v at="$3" -v ms="$4" -v m="${5:-0.1}" '
	BEGIN {
		if (at !~ /^[0-9.]+$/ || ms !~ /^[0-9.]+$/) {
			bad = 1
			exit
		}
		a = at - trig - m
		b = at - trig + ms / 1000 + m
	}
	$3 >= a && $3 <= b {
		out = out (out == "" ? "" : "; ") sprintf("h%s %s at %.3f", $1, $2, $3)
	}
	END {
		if (bad)
			print "-"
		else
			print (out == "" ? "nothing" : out)
	}' "$1"
}
