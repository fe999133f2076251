#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# byzantine: 3 hosts (f = 1); host 3's replica is kv-faulty, once per fault
# mode (a fresh cluster each time). In every mode no client ever sees a
# wrong answer (vmfit-bench --verify), the service keeps answering, no
# correct host is ever suspected, and host 3's replica is reported: by the
# other managers' voters (wrong, random: suspect_nodes), or by its own
# manager (late, silent, crash: replica_ok=0, it lags or died).
#
#   wrong          plausible but wrong replies
#   random         random bytes as replies
#   late           every reply 300 ms late (outvoted by the two others)
#   silent         no RESULT at all
#   corrupt-state  checkpoint writes corrupted (replies are right)
#   crash          the replica kills itself after 2000 requests
#
# corrupt-state is visible only in the state: after the load an ordered
# checkpoint is taken; hosts 1 and 2 write byte-identical volumes, host 3's
# differs (what recovery will detect and correct).
#
# Logging stays bounded while a replica loses every vote (wrong, random):
# at most LOG_BURST "suspected faulty replica: node" lines per episode,
# then one summary line per second, and the lines plus the summarised
# counts add up exactly to the suspects counter.
. "$(dirname "$0")/../lib/cluster.sh"
cl_enter "$@"

MODES=${BYZ_MODES:-"wrong random late silent corrupt-state crash"}
SECS=${BYZ_SECS:-4}
LOG_BURST=10		# vmfitd.h

# check_log_rate i: host i's suspicion log lines are rate-limited and
# account for every suspected vote.
check_log_rate() {
	local i=$1 log n_each n_sum n_lines suspects
	log=$(cl_hostdir "$i")/vmfitd.log
	sleep 1.5	# the last summary is due one second after the load
	suspects=$(cl_stat "$i" suspects)
	n_each=$(grep -c 'suspected faulty replica: node ' "$log")
	n_lines=$(grep -c 'more lost votes not logged one by one' "$log")
	n_sum=$(sed -n 's/.*suspected faulty replica: \([0-9]*\) more lost votes.*/\1/p' "$log" |
		awk '{ s += $1 } END { print s + 0 }')
	((suspects > 10 * LOG_BURST)) ||
		cl_die "$mode: host $i suspected only $suspects votes: rate limiting not exercised"
	((n_each <= 2 * LOG_BURST)) ||
		cl_die "$mode: host $i logged $n_each individual suspicion lines (burst $LOG_BURST)"
	((n_lines >= 1 && n_lines <= SECS + 4)) ||
		cl_die "$mode: host $i logged $n_lines summary lines in a ${SECS} s run"
	cl_assert_eq "$mode: host $i logged + summarised suspicions" "$suspects" "$((n_each + n_sum))"
	cl_log "$mode: host $i: $suspects suspected votes in $((n_each + n_lines)) log lines ($n_each single, $n_lines summaries)"
}

for mode in $MODES; do
	CL_DIR=$CL_BASE/$mode
	case "$mode" in
	late) fault="--fault late --fault-delay 300" ;;
	crash) fault="--fault crash --fault-after 2000" ;;
	*) fault="--fault $mode" ;;
	esac
	CL_REPLICA_3="kv-faulty $fault"
	cl_log "== $mode: host 3 runs $CL_REPLICA_3"
	cl_up 3
	cl_bench load --clients 60 --records 3000 --duration "$SECS" \
		--write-ratio 0.5 --verify --timeout 5000 ||
		{ tail -n 20 "$CL_DIR/load.log"; cl_die "$mode: clients failed"; }
	j=$CL_DIR/load.json
	cl_assert_json "$j" verify_mismatches -eq 0
	cl_assert_json "$j" bad_replies -eq 0
	cl_assert_json "$j" verify_checked -gt 500
	# The service kept answering: completions in the last second.
	last=$(awk -F, -v t="$((SECS - 1))" '!/^#/ && $1 >= t { s += $2 } END { print s + 0 }' "$CL_DIR/load.csv")
	((last > 100)) || cl_die "$mode: only $last requests answered in the last second"
	cl_wait_quiet 1 2 >/dev/null
	for i in 1 2; do
		cl_assert_eq "$mode: host $i replica ok" 1 "$(cl_stat "$i" replica_ok)"
	done
	# Nobody suspects a correct host.
	for i in 1 2 3; do
		s=$(cl_stat "$i" suspect_nodes)
		[[ " $s " != *" 1 "* && " $s " != *" 2 "* ]] ||
			cl_die "$mode: host $i suspects a correct host (suspect_nodes='$s')"
	done
	case "$mode" in
	wrong | random)
		# Visible only by voting: both correct managers suspect host 3.
		for i in 1 2; do
			s=$(cl_stat "$i" suspect_nodes)
			[[ " $s " == *" 3 "* ]] ||
				cl_die "$mode: host $i does not suspect host 3 (suspect_nodes='$s', suspects=$(cl_stat "$i" suspects))"
			check_log_rate "$i"
		done
		;;
	late | silent | crash)
		# Either host 3's manager found its replica faulty (lagging,
		# mute or dead) or the others suspect host 3.
		s="$(cl_stat 1 suspect_nodes) $(cl_stat 2 suspect_nodes)"
		[ "$(cl_stat 3 replica_ok)" = 0 ] || [[ " $s " == *" 3 "* ]] ||
			cl_die "$mode: host 3's replica neither reported faulty by host 3 (replica_ok=$(cl_stat 3 replica_ok)) nor suspected (h1/h2: '$s')"
		;;
	corrupt-state)
		# Replies are right; the corruption only shows in checkpoints.
		for i in 1 2; do
			cl_assert_eq "$mode: host $i suspects" 0 "$(cl_stat "$i" suspects)"
		done
		cl_log "$mode: checkpoint $(cl_checkpoint 1)"
		cl_wait_checkpoints 1
		for i in 1 2 3; do
			cl_assert_eq "$mode: host $i checkpoint status" 0 "$(cl_stat "$i" last_checkpoint_status)"
			cl_assert_eq "$mode: host $i checkpoint order" "$(cl_stat 1 last_checkpoint_order)" "$(cl_stat "$i" last_checkpoint_order)"
		done
		v1=$(cl_volume 1)
		[ "$(head -c 8 "$v1")" = VFKVSTAT ] || cl_die "$mode: host 1's volume has no kv state header"
		cmp "$v1" "$(cl_volume 2)" ||
			cl_die "$mode: the correct hosts 1 and 2 wrote different volumes"
		cmp -s "$v1" "$(cl_volume 3)" &&
			cl_die "$mode: host 3's corrupted checkpoint equals the correct ones"
		cl_log "$mode: volumes of hosts 1 and 2 identical, host 3's differs in $(cmp -l "$v1" "$(cl_volume 3)" | wc -l) bytes"
		;;
	esac
	cl_log "$mode: $(cl_json "$j" ops) ops, $(cl_json "$j" verify_checked) reads verified, 0 wrong; suspected by h1 '$(cl_stat 1 suspect_nodes)' h2 '$(cl_stat 2 suspect_nodes)', h3 replica_ok=$(cl_stat 3 replica_ok)"
	cl_down
done
cl_log "PASS"
