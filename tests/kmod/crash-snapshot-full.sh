#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Crash states (dm-log-writes replay, tests/lib/crash.sh):
# snapshot mode with full-chunk
# writes (4 KiB writes, 4 KiB chunks), FUA writes and fsyncs. Every
# acknowledged write survives, the view equals the frozen image, no block
# reads data never written to it.
. "${VMFIT_ROOT:-.}/tests/lib/aux.sh"
. "${VMFIT_ROOT:-.}/tests/lib/crash.sh"

need_vmfit
crash_workload snapshot 8 8 8
