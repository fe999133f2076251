#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Crash states (dm-log-writes replay, tests/lib/crash.sh):
# snapshot mode, O_DSYNC (FUA) writes
# only, at 8 KiB chunks; each is marked when it returns. A FUA write's
# mapping must never be durable before its data.
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"
. "${VMFIT_ROOT:-.}/tests/lib/crash.sh"

need_vmfit
crash_workload fua 16 8 8
