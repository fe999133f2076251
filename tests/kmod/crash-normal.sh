#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Crash states (dm-log-writes replay, tests/lib/crash.sh) of normal mode:
# random writes, FUA writes and fsyncs, a clear in the middle. Every
# acknowledged write survives, no block reads data never written to it,
# the changed set reports every durable write since the clear.
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"
. "${VMFIT_ROOT:-.}/tests/lib/crash.sh"

need_vmfit
crash_workload normal 8 8 8
