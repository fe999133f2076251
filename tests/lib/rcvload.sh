# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# tests/lib/rcvload.sh - one proactive recovery under client load, measured:
# what `make demo` (tools/demo.sh) and `make bench BENCH=recovery`
# (tools/bench/recovery/run) share. Source it after tests/lib/cluster.sh.
#
#	rl_available || echo "recovery not available in this build: $RL_WHY"
#	rl_conf kv-sqlite		# CL_VMFITD_EXTRA for recovery (before cl_up)
#	cl_up 3; rl_check_up
#	rl_load_start run --duration 60 ...	# vmfit-bench in the background
#	sleep 30; rl_recover run	# through host 1's control socket, waits
#	rl_load_wait 120
#	rl_windows run			# before / during / after, gaps
#	rl_plots run "title"		# per second and per 10 ms PNGs
#
# The recovery is triggered and followed with `vmfit-ctl recover --wait`
# (vmfit-ctl(8)); each line it prints gets the seconds since the trigger
# ($CL_DIR/<name>-recovery.log), from which the phases are timed (to the
# status file's interval, 200 ms here); the authoritative durations are
# vmfitd's rcv_last_ms (trigger to hand-over) and rcv_capture_ms
# (checkpoint + snapshot) of host 1's status. Nothing is measured twice:
# throughput and the longest interval without a completed request come
# from vmfit-bench's timeline (--timeline, --analyze).
#
# Environment: RL_PEER_PORT (7500), RL_TIMEOUT_MS (recovery_timeout_ms,
# 120000), RL_VOLUME_KIND and RL_VOLUME_B (rl_conf).

RL_PEER_PORT=${RL_PEER_PORT:-7500}

# rl_available: 0 when this build has the recovery protocol (vmfit-ctl
# recover, and per-host settings in cluster.sh's CL_VMFITD_EXTRA); else 1
# with the reason in RL_WHY.
rl_available() {
	RL_WHY=
	if ! "$VMFIT_BIN/vmfit-ctl" recover --help >/dev/null 2>&1; then
		RL_WHY="$VMFIT_BIN/vmfit-ctl has no 'recover' command (the proactive recovery protocol, issue 10, is not in this build)"
	elif ! grep -q '@ADDR@' "$CL_TOP/tests/lib/cluster.sh"; then
		RL_WHY="tests/lib/cluster.sh cannot give each host its own recovery settings (@DIR@, @ADDR@ in CL_VMFITD_EXTRA)"
	fi
	[ -z "$RL_WHY" ]
}

# rl_conf [shadow]: set CL_VMFITD_EXTRA for recovery: the peer port,
# volume B (RL_VOLUME_B, default a file next to A; @HOST@ etc. as in
# CL_VMFITD_EXTRA), their kind (RL_VOLUME_KIND, default file), the shadow
# program (default: the replica's), recovery_timeout_ms. Call after
# CL_RECORDS / CL_RECORD_SIZE (and CL_VOLUME for volume A).
rl_conf() {
	local shadow=${1:-}
	CL_VMFITD_EXTRA="peer_listen = @ADDR@:$RL_PEER_PORT
volume_kind = ${RL_VOLUME_KIND:-file}
state_volume_b = ${RL_VOLUME_B:-@DIR@/vstate/state-b.img}
recovery_timeout_ms = ${RL_TIMEOUT_MS:-120000}"
	[ -z "$shadow" ] || CL_VMFITD_EXTRA+="
shadow_cmd = $VMFIT_BIN/$shadow --records $CL_RECORDS --record-size $CL_RECORD_SIZE"
}

# rl_check_up: every host has recovery configured and idle.
rl_check_up() {
	local i p
	for ((i = 1; i <= CL_N; i++)); do
		p=$(cl_stat "$i" rcv_phase)
		[ "$p" = idle ] ||
			cl_die "host $i: recovery is not ready (rcv_phase=${p:-absent}); see $(cl_hostdir "$i")/vmfitd.log"
	done
}

# rl_us: CLOCK_REALTIME in microseconds.
rl_us() {
	echo "${EPOCHREALTIME/./}"
}

# rl_recover name [--full]: one recovery round through host 1's control
# socket, followed to its end. Writes $CL_DIR/<name>-recovery.log ("<s
# since the trigger> <vmfit-ctl's line>") and <name>-phases.txt; sets
# RL_TRIGGER_US (CLOCK_REALTIME of the trigger, us) and RL_RESULT ("done"
# or vmfit-ctl's last line). Returns 0 when the round was done.
rl_recover() {
	local name=$1 log rc t0 ms line
	shift
	log=$CL_DIR/$name-recovery.log
	t0=$(rl_us)
	RL_TRIGGER_US=$t0
	"$VMFIT_BIN/vmfit-ctl" recover --config "$(cl_hostdir 1)/vmfitd.conf" \
		--wait --timeout 900 "$@" 2>&1 |
		while IFS= read -r line; do
			ms=$((($(rl_us) - t0) / 1000))
			printf '%d.%03d %s\n' $((ms / 1000)) $((ms % 1000)) "$line"
		done >"$log"
	rc=${PIPESTATUS[0]}
	RL_RESULT=$(tail -n 1 "$log" | cut -d' ' -f2-)
	rl_phases "$log" >"$CL_DIR/$name-phases.txt"
	return "$rc"
}

# rl_phases log: "phase from_s to_s" for each phase vmfit-ctl showed, from
# the first line that named it to the first line that named another; the
# round ends at the final done/aborted line or when the phase is idle
# again (an idle before the round shows up is skipped).
rl_phases() {
	awk '{ t = $1; p = "" }
	     $2 ~ /^phase=/ { p = substr($2, 7) }
	     $2 == "done" || $2 == "aborted:" || (p == "idle" && cur != "") { p = "(end)" }
	     p == "idle" || p == "" || p == cur || cur == "(end)" { next }
	     { if (cur != "") printf "%s %.3f %.3f\n", cur, from, t
	       cur = p; from = t }' "$1"
}

# rl_load_start name [vmfit-bench options...]: the client load from the
# root namespace against every host, in the background (pid in
# RL_LOAD_PID): $CL_DIR/<name>.{json,csv,png,log} (--out), the 10 ms
# timeline <name>.csv and the per-second one <name>-1s.csv.
rl_load_start() {
	local name=$1
	shift
	"$VMFIT_BIN/vmfit-bench" --servers "$(cl_servers)" --label "$name" \
		--out "$CL_DIR/$name" --per-second "$CL_DIR/$name-1s.csv" \
		--json --quiet "$@" >/dev/null 2>"$CL_DIR/$name.log" </dev/null &
	RL_LOAD_PID=$!
}

# rl_load_wait secs: wait for rl_load_start's vmfit-bench (at most secs,
# then it is interrupted and the caller fails); returns its status.
rl_load_wait() {
	local deadline=$((SECONDS + $1))
	while kill -0 "$RL_LOAD_PID" 2>/dev/null; do
		if ((SECONDS >= deadline)); then
			kill -INT "$RL_LOAD_PID" 2>/dev/null
			wait "$RL_LOAD_PID"
			cl_die "vmfit-bench still running after $1 s: the service stopped answering"
		fi
		sleep 0.5
	done
	wait "$RL_LOAD_PID"
}

# rl_offset_s name us: seconds from the start of run <name>'s measurement
# to the CLOCK_REALTIME instant us.
rl_offset_s() {
	awk -v s="$(cl_json "$CL_DIR/$1.json" start_unix_s)" -v u="$2" \
		'BEGIN { printf "%.3f", u / 1e6 - s }'
}

# rl_window name from to: "<ops/s> <longest gap ms> <gap start s>" inside
# [from, to) seconds of run <name>'s timeline ("0 - -" when empty, or when
# from >= to: a recovery that ended after the load has no "after").
rl_window() {
	local j
	if awk -v a="$2" -v b="$3" 'BEGIN { exit !(a + 0 >= b + 0) }'; then
		echo "0 - -"
		return 0
	fi
	j=$("$VMFIT_BIN/vmfit-bench" --analyze "$CL_DIR/$1.csv" \
		--window "$2:$3" --json) || cl_die "vmfit-bench --analyze $1.csv failed"
	printf '%s %s %s\n' "$(sed -n 's/.*"window_throughput_ops_s": \([0-9.]*\).*/\1/p' <<<"$j")" \
		"$(sed -n 's/.*"window_gap_ms": \([0-9.]*\).*/\1/p' <<<"$j" | grep . || echo -)" \
		"$(sed -n 's/.*"window_gap_at_s": \([0-9.]*\).*/\1/p' <<<"$j" | grep . || echo -)"
}

# rl_windows name: after a recovery of run <name> (rl_recover) and the end
# of its load: RL_T_TRIG / RL_T_HAND (s into the run: the trigger and the
# hand-over, from host 1's rcv_last_ms), RL_T_END, and "rate gap at" of
# the windows before, during (trigger to hand-over) and after in
# RL_BEFORE, RL_DURING, RL_AFTER; RL_GAP: the longest interval without a
# completed request from the trigger to 1 s after the hand-over (it holds
# the capture), "ms at".
rl_windows() {
	local name=$1 last
	last=$(cl_stat 1 rcv_last_ms)
	RL_T_TRIG=$(rl_offset_s "$name" "$RL_TRIGGER_US")
	RL_T_HAND=$(awk -v t="$RL_T_TRIG" -v l="${last:-0}" 'BEGIN { printf "%.3f", t + l / 1000 }')
	RL_T_END=$(cl_json "$CL_DIR/$name.json" duration_s)
	RL_BEFORE=$(rl_window "$name" 0 "$RL_T_TRIG")
	RL_DURING=$(rl_window "$name" "$RL_T_TRIG" "$RL_T_HAND")
	RL_AFTER=$(rl_window "$name" "$RL_T_HAND" "$RL_T_END")
	RL_GAP=$(rl_window "$name" "$RL_T_TRIG" \
		"$(awk -v t="$RL_T_HAND" 'BEGIN { printf "%.3f", t + 1 }')" | cut -d' ' -f2-)
}

# rl_plots name title: $CL_DIR/<name>-per-second.png (the whole run) and
# <name>-10ms.png (from 2 s before the trigger to 3 s after the hand-over,
# or the whole run without RL_T_TRIG), with the trigger and the hand-over
# marked: the paper's Figures 3 and 4. Returns gnuplot's status.
rl_plots() {
	local name=$1 title=$2 marks= from to
	if [ -n "${RL_T_TRIG:-}" ]; then
		marks="set arrow from $RL_T_TRIG, graph 0 to $RL_T_TRIG, graph 1 nohead lc rgb '#d55e00' dt 2
set label 'recovery' at $RL_T_TRIG, graph 0.97 offset 0.5,0 tc rgb '#d55e00'
set arrow from $RL_T_HAND, graph 0 to $RL_T_HAND, graph 1 nohead lc rgb '#009e73' dt 2
set label 'hand-over' at $RL_T_HAND, graph 0.90 offset 0.5,0 tc rgb '#009e73'"
		from=$(awk -v t="$RL_T_TRIG" 'BEGIN { t -= 2; printf "%.3f", (t < 0 ? 0 : t) }')
		to=$(awk -v t="$RL_T_HAND" 'BEGIN { printf "%.3f", t + 3 }')
	fi
	gnuplot <<EOF
set terminal pngcairo size 1200,450 noenhanced
set datafile separator ','
set grid
set yrange [0:*]
set key below
set xlabel 'time since the start of the load (s)'
$marks
set output '$CL_DIR/$name-per-second.png'
set title '$title: completed requests per second'
set ylabel 'requests/s'
plot '$CL_DIR/$name-1s.csv' using 1:3 with steps lw 2 lc rgb '#0072b2' title 'per second'
set output '$CL_DIR/$name-10ms.png'
set title '$title: completed requests per 10 ms'
set ylabel 'requests per 10 ms'
${from:+set xrange [$from:$to]}
plot '$CL_DIR/$name.csv' using 1:2 with impulses lc rgb '#0072b2' title 'per 10 ms'
EOF
}
