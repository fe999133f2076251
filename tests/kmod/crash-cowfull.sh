#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Crash states (dm-log-writes replay, tests/lib/crash.sh) of a snapshot
# whose cow fills up: writes needing a new chunk fail, the others and
# every acknowledged write before survive; a failed write never shows.
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"
. "${VMFIT_ROOT:-.}/tests/lib/crash.sh"

need_vmfit
crash_workload cowfull 8 8 1
