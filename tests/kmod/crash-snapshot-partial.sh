#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Crash states (dm-log-writes replay, tests/lib/crash.sh):
# snapshot mode with partial-chunk
# writes (4 KiB writes, 16 KiB chunks: the first write to a chunk copies
# the rest of it from the origin), FUA writes and fsyncs.
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"
. "${VMFIT_ROOT:-.}/tests/lib/crash.sh"

need_vmfit
crash_workload snapshot 32 8 8
