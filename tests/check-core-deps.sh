#!/bin/sh
# The core library must not depend on the server's HTTP library: libecrmock.so
# does not load libmicrohttpd and libecrmock.a names no MHD_ symbol, while
# libecrmock_server.a does (so that this check would notice a move).
build=${1:-build}
fail=0
if ldd "$build/libecrmock.so" | grep -qi microhttpd; then
    echo "check-core-deps: $build/libecrmock.so loads libmicrohttpd"; fail=1
fi
if nm "$build/libecrmock.a" 2>/dev/null | grep -q ' MHD_'; then
    echo "check-core-deps: $build/libecrmock.a refers to MHD_ symbols"; fail=1
fi
if ! nm "$build/libecrmock_server.a" | grep -q ' U MHD_start_daemon'; then
    echo "check-core-deps: $build/libecrmock_server.a does not use libmicrohttpd?"; fail=1
fi
[ $fail = 0 ] && echo "check-core-deps: libecrmock does not depend on libmicrohttpd; libecrmock_server does"
exit $fail
