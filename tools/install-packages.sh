#!/bin/bash
# Installs what tools/packages.txt lists and this machine lacks (Debian/Ubuntu, apt-get; sudo
# when not root). Quiet when everything is there already.
# Usage: tools/install-packages.sh
set -eu

list=$(dirname "$0")/packages.txt

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

command -v apt-get >/dev/null || {
	echo "install-packages: no apt-get here: install the packages of $list by hand" >&2
	exit 1
}

missing=()
for pkg in $(sed 's/#.*//' "$list"); do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing+=("$pkg")
done
[ ${#missing[@]} = 0 ] && exit 0
echo "install-packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
as_root apt-get update -qq
as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
