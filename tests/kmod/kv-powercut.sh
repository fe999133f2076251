#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vmtest: powercut 3 60
#
# kv checkpoints under power cuts (Documentation/kv-service.rst, "Crash
# safety"). Phase 1: the kv state code checkpoints a seeded workload, one
# checkpoint per batch, onto a vmfit device in normal mode, logging each
# checkpoint begun and done (O_DIRECT|O_DSYNC) on another disk; the host
# kills qemu at a random moment. Phase 2 (next boot): a restore with the
# other engine yields exactly the checkpoint logged done or the one begun
# after it, byte for byte equal to the same checkpoint computed afresh.
# The volume carries over from one iteration to the next: phase 1 goes on
# from the restored state, every third iteration as a replica that
# restarted without RESTORE (its first checkpoint compares the volume).
# From the second iteration on the journal is on a device of its own
# (kv --journal: the commit made durable on it before the in-place
# writes; kv-service.rst "External journal"); both phases of an iteration
# use the same placement, and the volume's journal area stays zero (the
# byte comparison with the afresh checkpoint covers it).
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"

need_vmfit
SEED=4242
powercut_volumes 16
slice journal "$DISK_D" 8 8	# DISK_D's first MiB: state_save
J=$(dm_path journal)
if ((ITER % 3 != 1)); then
	export KV_POWERCUT_JOURNAL=$J
else
	unset KV_POWERCUT_JOURNAL
fi

engine() { # ITER -> the engine that writes in that iteration
	if (($1 % 2)); then echo kv-hash; else echo kv-sqlite; fi
}

if [ "$PHASE" = 1 ]; then
	eng=$(engine "$ITER")
	restart=
	((ITER % 3 == 0)) && restart=restart
	vmfit_create live "$O" "$C" 8
	state_save "iter=$ITER"
	note "iteration $ITER: $eng checkpointing ${restart:+(restarted) }on $L${KV_POWERCUT_JOURNAL:+, journal on $J}"
	kv-powercut write "$eng" "$L" "$LOG" "$SEED" $restart &
	writer=$!
	# Cut only once a checkpoint is logged done (the restore before it
	# and a format take a while under TCG; a cut during the very first
	# format is the unit tests' business).
	for ((i = 0; i < 600; i++)); do
		dd if="$LOG" bs=512 count=1 iflag=direct 2>/dev/null | tr -d '\0' |
			grep -q -E '^kvpc begun=[0-9]+ done=[0-9]{1,19}$' && break
		kill -0 $writer 2>/dev/null || die "the writer failed to start"
		sleep 0.2
	done
	((i < 600)) || die "no checkpoint done within 120 s"
	powercut_arm
	rc=0
	wait $writer || rc=$?
	die "the writer stopped before the power cut (rc $rc)"
fi

assert_eq "$ITER" "$(state_get iter)" "iteration recorded before the power cut"
vmfit_create live "$O" "$C" 8
other=kv-hash
[ "$(engine "$ITER")" = kv-hash ] && other=kv-sqlite
out=$(kv-powercut verify "$other" "$L" "$LOG" "$SEED" "$TESTDIR/ref") ||
	die "after the power cut: $out"
note "$(tr '\n' ';' <<<"$out")"
assert_match 'restored=[1-9]' "$out" "checkpoints completed before the cut"
