#!/bin/sh
# Installs ecrmock as a packager does (make install DESTDIR=<stage> PREFIX=<p>:
# nothing written outside the stage) and builds programs against the staged
# tree with pkg-config, as a user would (--define-variable=prefix points the
# .pc files, which say PREFIX, at the stage):
#   - ecrmock: the quick start and a split-header program on the shared
#     library (found through LD_LIBRARY_PATH, then through an rpath), the
#     quick start on the static archive, each installed header alone;
#   - ecrmock-curl: a program whose libcurl calls reach ecrmock (--wrap);
#   - ecrmock-server: a program that serves an instance and is answered;
# and runs the installed programs, ecrmock-server (--help, then serving a
# fixture's repository) and ecrmock-run.  Also: build/libecrmock.so's
# soname link, so a program linked against the build tree runs.
# Run by `make test` and CI.  Usage: tests/checks/check-install.sh
set -eu
cd "$(dirname "$0")/../.."
CC=${CC:-cc}
stage=$(mktemp -d)
prefix=/ecrmock-install-check.$$ # never created: everything goes under the stage
pid=
trap 'rm -rf "$stage"; [ -z "$pid" ] || kill "$pid" 2>/dev/null' EXIT
# a make of its own: not the flags of a make (asan, valgrind) that runs this script
MAKEFLAGS= MFLAGS= make -s install DESTDIR="$stage" PREFIX="$prefix" >/dev/null
if [ -e "$prefix" ]; then
    echo "check-install: make install wrote to $prefix, outside DESTDIR"
    exit 1
fi
root=$stage$prefix
for f in bin/ecrmock-server bin/ecrmock-run lib/libecrmock.so.0 lib/libecrmock.so lib/libecrmock.a \
    lib/libecrmock_server.a lib/libecrmock_curl.a lib/libecrmock_curl_preload.so \
    lib/pkgconfig/ecrmock.pc lib/pkgconfig/ecrmock-curl.pc lib/pkgconfig/ecrmock-server.pc; do
    [ -e "$root/$f" ] || { echo "check-install: $f is not installed"; exit 1; }
done
grep -qx "prefix=$prefix" "$root/lib/pkgconfig/ecrmock-curl.pc" ||
    { echo "check-install: ecrmock-curl.pc does not say prefix=$prefix"; exit 1; }
flags() { # PACKAGE pkg-config-ARGS...
    pc=$1
    shift
    PKG_CONFIG_PATH="$root/lib/pkgconfig" pkg-config --define-variable=prefix="$root" "$@" "$pc"
}
libdir=$(flags ecrmock --variable=libdir)
work=$stage/work
mkdir "$work"

# ecrmock: the shared library through LD_LIBRARY_PATH, then through an rpath;
# the static archive.
"$CC" -std=c11 -Wall -Werror examples/quickstart.c -o "$work/quickstart" $(flags ecrmock --cflags --libs)
LD_LIBRARY_PATH="$libdir" "$work/quickstart" >/dev/null
"$CC" -std=c11 -Wall -Werror examples/quickstart.c -o "$work/quickstart-rpath" $(flags ecrmock --cflags --libs) \
    -Wl,-rpath,"$libdir"
"$work/quickstart-rpath" >/dev/null
"$CC" -std=c11 -Wall -Werror examples/quickstart.c -o "$work/quickstart-static" $(flags ecrmock --cflags) \
    "$libdir/libecrmock.a" $(flags ecrmock --static --libs-only-l | sed 's/-lecrmock\b//')
if readelf -d "$work/quickstart-static" | grep -q 'libecrmock'; then
    echo "check-install: the static quick start still needs libecrmock.so"
    exit 1
fi
"$work/quickstart-static" >/dev/null
cat > "$work/split.c" <<'EOF_C'
#include <ecrmock.h>
#include <ecrmock/testing.h>

int main(void)
{
    ecrmock *m = ecrmock_new(NULL);
    int ok = m && ecrmock_clock_set(m, ECRMOCK_DEFAULT_CLOCK_MS + 1000, NULL) == 0 &&
             ecrmock_clock_now(m) == ECRMOCK_DEFAULT_CLOCK_MS + 1000 && ecrmock_call_count(m, NULL) == 0;
    ecrmock_free(m);
    return ok ? 0 : 1;
}
EOF_C
"$CC" -std=c11 -Wall -Werror "$work/split.c" -o "$work/split" $(flags ecrmock --cflags --libs)
LD_LIBRARY_PATH="$libdir" "$work/split"
for h in ecrmock.h ecrmock/http.h ecrmock/testing.h ecrmock/fixtures.h ecrmock/sys/alloc.h ecrmock_server.h \
    ecrmock_curl.h; do
    printf '#include <%s>\n' "$h" | "$CC" -std=c11 -Wall -Werror -fsyntax-only -x c - \
        $(flags ecrmock-curl --cflags) $(flags ecrmock-server --cflags)
done

# ecrmock-curl: `cc test.c $(pkg-config --cflags --libs ecrmock-curl)`, and
# the program's own curl_easy_perform() reaches the instance.
cat > "$work/curl.c" <<'EOF_C'
#include <stdio.h>
#include <string.h>
#include <curl/curl.h>
#include <ecrmock_curl.h>

static size_t sink(char *p, size_t size, size_t n, void *cls)
{
    (void)p;
    *(size_t *)cls += size * n;
    return size * n;
}

int main(void)
{
    ecrmock *m = ecrmock_new(NULL);
    if (!m || ecrmock_curl_attach(m) != 0)
        return 1;
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.CreateRepository");
    h = curl_slist_append(h, "Content-Type: application/x-amz-json-1.1");
    size_t got = 0;
    long status = 0;
    curl_easy_setopt(c, CURLOPT_URL, "https://api.ecr.us-east-1.amazonaws.com/");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, "{\"repositoryName\":\"pc/curl\"}");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &got);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    json_t *resp = NULL;
    int there = ecrmock_call(m, "DescribeRepositories", json_pack("{s:[s]}", "repositoryNames", "pc/curl"), &resp);
    json_decref(resp);
    ecrmock_curl_detach();
    ecrmock_free(m);
    if (rc != CURLE_OK || status != 200 || got == 0 || there != 200) {
        fprintf(stderr, "curl: %d, status %ld, %zu bytes; DescribeRepositories %d\n", (int)rc, status, got, there);
        return 1;
    }
    return 0;
}
EOF_C
"$CC" -std=c11 -Wall -Werror "$work/curl.c" -o "$work/curl" $(flags ecrmock-curl --cflags --libs)
"$work/curl"

# ecrmock-server: `cc test.c $(pkg-config --cflags --libs ecrmock-server)`: a
# request over a socket is answered by the instance.
cat > "$work/server.c" <<'EOF_C'
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <ecrmock_server.h>

int main(void)
{
    ecrmock *m = ecrmock_new(NULL);
    ecrmock_server_options o = ECRMOCK_SERVER_OPTIONS_INIT;
    ecrmock_server *s = NULL;
    ecrmock_err err;
    int port = 0;
    if (!m || ecrmock_server_listen(m, &o, &port, &s, &err) != 0)
        return 1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const char *req = "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                      "X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.DescribeRepositories\r\n"
                      "Content-Type: application/x-amz-json-1.1\r\nContent-Length: 2\r\n\r\n{}";
    char got[64] = "";
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 || write(fd, req, strlen(req)) != (ssize_t)strlen(req) ||
        read(fd, got, sizeof got - 1) < 12)
        return 1;
    close(fd);
    ecrmock_server_stop(s);
    ecrmock_free(m);
    if (strncmp(got, "HTTP/1.1 200", 12) != 0) {
        fprintf(stderr, "server: answered %.12s\n", got);
        return 1;
    }
    return 0;
}
EOF_C
"$CC" -std=c11 -Wall -Werror "$work/server.c" -o "$work/server" $(flags ecrmock-server --cflags --libs) \
    -Wl,-rpath,"$libdir"
"$work/server"

# The installed programs.
"$root/bin/ecrmock-server" --help | grep -q -- '--min-part-size N' ||
    { echo "check-install: the installed ecrmock-server --help lists no --min-part-size"; exit 1; }
"$root/bin/ecrmock-server" --fixture fixtures/multi-arch.json >"$work/port" 2>/dev/null &
pid=$!
# Its port, once it prints it: up to 30 s (a loaded machine may take more
# than the 5 s this waited), or until it has exited.
for _ in $(seq 300); do [ -s "$work/port" ] && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
port=$(head -n 1 "$work/port")
answer=$(curl -s -X POST -H 'X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.DescribeImages' \
    -H 'Content-Type: application/x-amz-json-1.1' -d '{"repositoryName":"tools/cli"}' "http://127.0.0.1:$port/")
kill "$pid"
wait "$pid" 2>/dev/null || true
pid=
case $answer in
*'"imageTags":["2.0","latest"]'*) ;;
*) echo "check-install: the installed ecrmock-server did not serve the fixture's tools/cli: $answer"; exit 1 ;;
esac
"$root/bin/ecrmock-run" -q fixtures/scenarios/*.json >/dev/null

# The build tree's shared library: its soname's link is there.
"$CC" -std=c11 -Wall -Werror examples/quickstart.c -o "$work/quickstart-build" -Iinclude \
    $(pkg-config --cflags jansson) -Lbuild -lecrmock $(pkg-config --libs jansson) -Wl,-rpath,"$PWD/build"
"$work/quickstart-build" >/dev/null
echo "check-install: staged with DESTDIR; programs built with pkg-config ecrmock (shared: LD_LIBRARY_PATH, rpath; static), ecrmock-curl and ecrmock-server run; the installed ecrmock-server and ecrmock-run run"
