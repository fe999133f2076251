#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# doc-section.sh DOC FRAGMENT - put FRAGMENT (a block that starts with
# "<!-- NAME:begin -->" and ends with "<!-- NAME:end -->") into the
# Markdown file DOC: it replaces the block with the same markers, or is
# appended when DOC has none. DOC is created with a short introduction
# when missing. Everything outside the markers is left as it is.
set -euo pipefail

doc=${1:?usage: doc-section.sh DOC FRAGMENT}
frag=${2:?usage: doc-section.sh DOC FRAGMENT}

begin=$(head -n 1 "$frag")
end=$(tail -n 1 "$frag")
name=${begin#<!-- }
name=${name%:begin -->}
if [ "$begin" != "<!-- $name:begin -->" ] || [ "$end" != "<!-- $name:end -->" ] ||
	[ -z "$name" ]; then
	echo "doc-section.sh: $frag must start with <!-- NAME:begin --> and end with <!-- NAME:end -->" >&2
	exit 1
fi
nb=$(grep -cxF -- "$begin" "$doc" 2>/dev/null || true)
ne=$(grep -cxF -- "$end" "$doc" 2>/dev/null || true)
if [ "${nb:-0}" != "${ne:-0}" ] || [ "${nb:-0}" -gt 1 ]; then
	echo "doc-section.sh: $doc has unbalanced or repeated $name markers; fix it by hand" >&2
	exit 1
fi

if [ ! -f "$doc" ]; then
	cat >"$doc" <<'INTRO'
# Benchmarks

Results of `make bench` (tools/bench.sh), which runs every
tools/bench/*/run; each benchmark writes bench/results/<name>.json and
regenerates its own section below, between its markers. The kernel
benchmarks run in a qemu TCG VM (tools/vmtest/vmtest): absolute numbers
are those of an emulated machine; compare ratios within one run.
INTRO
fi

tmp=$(mktemp "$doc.XXXXXX")
trap 'rm -f "$tmp"' EXIT
if [ "${nb:-0}" = 1 ]; then
	awk -v b="$begin" -v e="$end" -v f="$frag" '
		$0 == b { while ((getline l < f) > 0) print l; skip = 1; next }
		$0 == e && skip { skip = 0; next }
		!skip { print }' "$doc" >"$tmp"
else
	{ cat "$doc"; echo; cat "$frag"; } >"$tmp"
fi
chmod 644 "$tmp"
mv "$tmp" "$doc"
trap - EXIT
