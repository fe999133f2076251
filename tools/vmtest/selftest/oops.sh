#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest half of tests/unit/vmtest-watchdog.sh: crash the guest kernel
# (a sysrq crash: a panic with its stack on the console), so that the
# runner's report of the first kernel problem can be checked.
echo "crashing the guest kernel"
echo c >/proc/sysrq-trigger
sleep 100000
