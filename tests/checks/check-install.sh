#!/bin/sh
# Installs the library into a scratch prefix (make install PREFIX=...) and
# builds programs against the installed tree with pkg-config, as a user
# would: the quick start, a program that names <ecrmock/testing.h> after
# <ecrmock.h>, and each installed header alone.  Run by `make test` and CI.
# Usage: tests/checks/check-install.sh
set -eu
cd "$(dirname "$0")/../.."
CC=${CC:-cc}
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
# a make of its own: not the flags of a make (asan, valgrind) that runs this script
MAKEFLAGS= MFLAGS= make -s install PREFIX="$prefix" >/dev/null
flags() { PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config "$@" ecrmock; }
"$CC" -std=c11 -Wall -Werror examples/quickstart.c -o "$prefix/quickstart" $(flags --cflags --libs)
LD_LIBRARY_PATH="$prefix/lib" "$prefix/quickstart" >/dev/null
cat > "$prefix/split.c" <<'EOF_C'
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
"$CC" -std=c11 -Wall -Werror "$prefix/split.c" -o "$prefix/split" $(flags --cflags --libs)
LD_LIBRARY_PATH="$prefix/lib" "$prefix/split"
for h in ecrmock.h ecrmock/http.h ecrmock/testing.h ecrmock/fixtures.h ecrmock/sys/alloc.h; do
    printf '#include <%s>\n' "$h" | "$CC" -std=c11 -Wall -Werror -fsyntax-only -x c - $(flags --cflags)
done
echo "check-install: installed under a scratch prefix; the quick start, a split-header program and each header build against it with pkg-config"
