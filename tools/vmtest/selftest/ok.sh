#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest half of tests/unit/vmtest-watchdog.sh: a test that passes, run in
# the fresh boot after the wedged one.
echo "vmtest-selftest-ok boot=$(sed -n 's/.*vmtest.boot=\([0-9]*\).*/\1/p' /proc/cmdline)"
