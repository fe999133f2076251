#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# tools/bench/recovery/vm-guest.sh - the guest side of `make bench
# BENCH=recovery MODE=vm`: tools/bench/recovery/run boots the vmtest VM
# (tools/vmtest/vmtest run ... this file) with the benchmark's parameters
# in the environment (vmtest --env); this runs the benchmark there on
# dm-vmfit volumes and leaves recovery.json, recovery-section.md and the
# raw outputs (work/) in the results share's bench/ directory.
export MODE=vm OUT=$VMTEST_RESULTS/bench
exec bash "$VMFIT_ROOT/tools/bench/recovery/run"
