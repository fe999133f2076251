#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Crash states (dm-log-writes replay, tests/lib/crash.sh):
# epoch reuse: three snapshots
# dropped right after unflushed writes, then a snapshot with writes. No
# entry of an earlier snapshot may come back (checked again by a new
# snapshot after each recovery).
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"
. "${VMFIT_ROOT:-.}/tests/lib/crash.sh"

need_vmfit
crash_workload reuse 8 8 8
