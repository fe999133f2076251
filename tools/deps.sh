#!/usr/bin/env bash
# Install the Debian packages listed in tools/deps.txt that are missing.
# A fast no-op when everything is present.
set -euo pipefail
cd "$(dirname "$0")"
mapfile -t want < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' deps.txt)
missing=()
for p in "${want[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
	exit 0
fi
echo "deps: installing ${missing[*]}"
if [ "$(id -u)" != 0 ]; then
	echo "deps: need root to install packages (try: sudo make deps)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
# corosync's package starts a system instance where systemd runs; tests
# start their own instances in namespaces and need none on the host.
