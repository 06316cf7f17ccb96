#!/bin/sh
# The core library must not depend on the server's HTTP library nor on
# libcurl (see the end): libecrmock.so
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
# Nor on libcurl: only libecrmock_curl (and its preload object) does.
if ldd "$build/libecrmock.so" | grep -qi libcurl; then
    echo "check-core-deps: $build/libecrmock.so loads libcurl"; fail=1
fi
if nm "$build/libecrmock.a" 2>/dev/null | grep -q ' U curl_'; then
    echo "check-core-deps: $build/libecrmock.a refers to curl_ symbols"; fail=1
fi
if ! nm "$build/libecrmock_curl.a" | grep -q ' U __real_curl_easy_perform'; then
    echo "check-core-deps: $build/libecrmock_curl.a does not wrap curl_easy_perform?"; fail=1
fi
[ $fail = 0 ] && echo "check-core-deps: libecrmock depends on neither libmicrohttpd nor libcurl; libecrmock_server and libecrmock_curl do"
exit $fail
