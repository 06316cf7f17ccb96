#!/bin/sh
# Fails when the shared library exports a name without the public prefix,
# when a function declared ECRMOCK_API in <ecrmock.h> or the headers it
# includes (include/ecrmock/, include/ecrmock/sys/) is not exported (a
# prototype that lost its visibility), or when an exported function is
# declared in none of them.  Run from the top directory, or name it second.
lib=${1:-build/libecrmock.so}
inc=${2:-include}
bad=$(nm -D --defined-only "$lib" | awk '$2 ~ /[TDBR]/ {print $3}' | grep -v '^ecrmock_' | grep -v '^_')
if [ -n "$bad" ]; then
    echo "check-exports: $lib exports names without the ecrmock_ prefix:" $bad
    exit 1
fi
declared=$(grep -ho '^ECRMOCK_API [^(]*(' "$inc/ecrmock.h" "$inc"/ecrmock/*.h "$inc"/ecrmock/sys/*.h |
           sed 's/.*[ *]\(ecrmock_[a-z0-9_]*\)($/\1/' | sort -u)
exported=$(nm -D --defined-only "$lib" | awk '$2 == "T" {print $3}' | sort -u)
hidden=$(printf '%s\n' "$declared" | grep -vxF -e "$exported")
undeclared=$(printf '%s\n' "$exported" | grep -vxF -e "$declared")
if [ -z "$declared" ] || [ -n "$hidden" ] || [ -n "$undeclared" ]; then
    [ -z "$declared" ] && echo "check-exports: no ECRMOCK_API function found under $inc/"
    [ -n "$hidden" ] && echo "check-exports: declared in $inc/ but not exported by $lib:" $hidden
    [ -n "$undeclared" ] && echo "check-exports: exported by $lib but declared in no public header:" $undeclared
    exit 1
fi
echo "check-exports: $(nm -D --defined-only "$lib" | grep -c ' T ecrmock_') public functions, nothing else exported, each declared in a public header"
