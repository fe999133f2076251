#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Crash states (dm-log-writes replay, tests/lib/crash.sh) of a merge with
# writes (and FUA writes) running during it, at 8 KiB chunks: every
# acknowledged write survives at every point of the merge, the merge
# resumes after the crash and ends with the same content.
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"
. "${VMFIT_ROOT:-.}/tests/lib/crash.sh"

need_vmfit
crash_workload merge 16 8 12
