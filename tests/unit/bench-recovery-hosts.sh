#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The recovery benchmark's per-host phase timelines
# (tools/bench/recovery/hosts.sh): made-up stamped vmfitd events of three
# hosts (host 2's hand-over and finish later than host 1's, host 3's
# round cut off) become each host's phases in seconds after the trigger,
# the JSON object recovery.json holds as host_phases, and what a gap
# coincides with: the phase changes of any host within 0.1 s of it.
set -euo pipefail
. "$(dirname "$0")/../lib/unit.sh"
. tests/lib/rcvload.sh
. tools/bench/recovery/hosts.sh

t0=1000000000000000	# the trigger, us
ev() { # host s-after-trigger event...
	local h=$1 us
	us=$(awk -v t="$t0" -v s="$2" 'BEGIN { printf "%.0f", t + s * 1e6 }')
	shift 2
	echo "$us $*" >>"$tmp/ev-h$h.txt"
}
for h in 1 2 3; do
	ev $h 0.010 rcv-phase round=00000000000000ab phase=starting full=0
	ev $h 2.000 rcv-phase round=00000000000000ab phase=restore full=0
done
ev 1 20.898 rcv-phase round=00000000000000ab phase=handover full=0
ev 1 20.900 rcv-phase round=00000000000000ab phase=finish full=0
ev 1 21.300 rcv-senior-stopped round=00000000000000ab ms=400 killed=0
ev 1 22.050 rcv-done round=00000000000000ab ms=20898 full=0
ev 2 20.440 rcv-phase round=00000000000000ab phase=handover full=0
ev 2 20.441 rcv-phase round=00000000000000ab phase=finish full=0
ev 2 21.000 rcv-phase round=00000000000000ab phase=idle full=0
ev 2 21.001 rcv-done round=00000000000000ab ms=20440 full=0
ev 3 5.000 rcv-aborted round=00000000000000ab reason=timeout text=x
: >"$tmp/ev-h4.txt"	# a host that said nothing: no phases

hosts_phases "$tmp/ev" "$t0" >"$tmp/ph"
check "host 1's phases and points, seconds after the trigger" \
	grep -qxF "1 restore 2.000 20.898" "$tmp/ph"
check "host 1's hand-over and finish" \
	grep -qzF $'1 handover 20.898 20.900\n1 finish 20.900 22.050\n' "$tmp/ph"
check "host 1's senior exit" grep -qxF "1 senior-stopped 21.300 21.300" "$tmp/ph"
check "host 1's end" grep -qxF "1 done 22.050 22.050" "$tmp/ph"
check "host 2's finish ends at its done, idle is no phase" \
	grep -qxF "2 finish 20.441 21.001" "$tmp/ph"
check "no idle phase" bash -c "! grep -q ' idle ' '$tmp/ph'"
check "host 3's restore ends at its abort" \
	grep -qzF $'3 restore 2.000 5.000\n3 aborted 5.000 5.000\n' "$tmp/ph"
check "host 4 has no phases" bash -c "! grep -q '^4 ' '$tmp/ph'"

hosts_json "$tmp/ph" >"$tmp/j"
expect_jq "$tmp/j" 'keys == ["1", "2", "3"]' "one timeline per host that had a round"
expect_jq "$tmp/j" '.["1"] | map(.phase) == ["starting", "restore", "handover", "finish", "senior-stopped", "done"]' "host 1's phases in order"
expect_jq "$tmp/j" '.["2"][2] == {"phase": "handover", "from_s": 20.44, "to_s": 20.441}' "host 2's hand-over"
expect_jq "$tmp/j" '[.[][] | .to_s >= .from_s] | all' "no phase ends before it begins"

# The trigger 120 s into the run: a gap of 43 ms at 140.420 s is host 2's
# hand-over and finish (20.44, 20.441), not host 1's (20.898).
near=$(hosts_near "$tmp/ph" 120 140.420 43)
check "the gap names host 2's hand-over ($near)" \
	test "$near" = "h2 handover at 20.440; h2 finish at 20.441"
near=$(hosts_near "$tmp/ph" 120 140.850 20)
check "a gap at 20.85 s: host 1's hand-over and finish ($near)" \
	test "$near" = "h1 handover at 20.898; h1 finish at 20.900"
# The margin counts from both ends of the gap: 20.781 + 20 ms + 0.1 s
# reaches 20.900; a gap at 20.770 of 5 ms misses both.
near=$(hosts_near "$tmp/ph" 120 140.781 20)
check "the margin after the gap's end ($near)" \
	test "$near" = "h1 handover at 20.898; h1 finish at 20.900"
near=$(hosts_near "$tmp/ph" 120 140.770 5)
check "nothing within 0.1 s ($near)" test "$near" = nothing
near=$(hosts_near "$tmp/ph" 120 - 5)
check "no gap measured ($near)" test "$near" = -
near=$(hosts_near "$tmp/ph" 120 120.400 1 0.5)
check "a margin given ($near)" test "$near" = "h1 starting at 0.010; h2 starting at 0.010; h3 starting at 0.010"

unit_done
