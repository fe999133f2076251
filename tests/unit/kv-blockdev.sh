#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# kv-blockdev: the kv abstract state on a real block device (a loop device
# over a 1 MiB file): kv-state-test --blockdev. Needs root and loop devices
# (present on the test machines; their absence is a failure, not a skip).
set -euo pipefail
. "$(dirname "$0")/../lib/unit.sh"

t=build/tests/unit/kv-state-test
need_built "$t"
img=$tmp/img
dev=
at_exit '[ -z "$dev" ] || losetup -d "$dev"'
truncate -s 1M "$img"
dev=$(losetup --find --show "$img")
echo "kv-blockdev: $dev over $img"
"$t" --blockdev "$dev"
