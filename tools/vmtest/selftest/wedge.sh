#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest half of tests/unit/vmtest-watchdog.sh: wedge the guest so that it
# can no longer end itself. SIGSTOP to every process but init and this
# shell stops the guest's own watchdog and this test's timeout(1); init
# then waits for this shell forever, and only the host can notice.
echo "wedging the guest"
kill -STOP -1
exec sleep 100000
