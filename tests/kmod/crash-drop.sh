#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Crash states (dm-log-writes replay, tests/lib/crash.sh):
# snapshot, writes, drop, writes,
# snapshot, writes, drop. Around each drop the device shows the
# snapshot's writes or the frozen image, never a mix with other data.
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"
. "${VMFIT_ROOT:-.}/tests/lib/crash.sh"

need_vmfit
crash_workload drop 8 8 8
