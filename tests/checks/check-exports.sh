#!/bin/sh
# Fails when the shared library exports a name without the public prefix.
lib=${1:-build/libecrmock.so}
bad=$(nm -D --defined-only "$lib" | awk '$2 ~ /[TDBR]/ {print $3}' | grep -v '^ecrmock_' | grep -v '^_')
if [ -n "$bad" ]; then
    echo "check-exports: $lib exports names without the ecrmock_ prefix:" $bad
    exit 1
fi
echo "check-exports: $(nm -D --defined-only "$lib" | grep -c ' T ecrmock_') public functions, nothing else exported"
