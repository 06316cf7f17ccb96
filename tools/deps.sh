#!/bin/sh
# Makes sure the Debian packages ecrmock builds with are installed.  As root
# it installs what is missing with apt-get; otherwise it prints the command.
# Usage: tools/deps.sh [extra-package ...]
set -u
need="gcc make pkg-config libjansson-dev libssl-dev libpcre2-dev uthash-dev libcmocka-dev libmicrohttpd-dev libcurl4-openssl-dev $*"
missing=""
for p in $need; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
    echo "ecrmock: installing$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    # the package lists may be absent on a fresh machine; update once, then install
    apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1 ||
        { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends $missing; } || exit 1
else
    echo "ecrmock: missing Debian packages:$missing" >&2
    echo "install them with: sudo apt-get install$missing" >&2
    exit 1
fi
