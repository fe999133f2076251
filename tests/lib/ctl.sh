# SPDX-License-Identifier: GPL-2.0-only
#
# tests/lib/ctl.sh - helpers shared by the vmfit-ctl kernel tests
# (tests/kmod/ctl-*.sh). Source after aux.sh.

# ctl_track NAME - devices vmfit-ctl creates are torn down by aux.sh's
# teardown like dm_create's (newest first).
ctl_track() {
	_dm_created+=("$1")
}

# ctl_fail RC TEXT ARGS... - `vmfit-ctl ARGS` must exit RC with TEXT in its
# stderr.
ctl_fail() {
	local want=$1 text=$2 out rc=0
	shift 2
	out=$(vmfit-ctl "$@" 2>&1 >/dev/null) || rc=$?
	assert_eq "$want" "$rc" "exit status of 'vmfit-ctl $*' (stderr: $out)"
	grep -qF -- "$text" <<<"$out" ||
		die "'vmfit-ctl $*': stderr lacks '$text': $out"
	note "vmfit-ctl $* -> $rc: $(head -n1 <<<"$out")"
}
