#!/bin/sh
# Fails when a public function of the headers is not in README.md, by name or
# in a grouped form such as `ecrmock_clock_now/set/advance`.
cd "$(dirname "$0")/../.." || exit 1
missing=0
for f in $(grep -ho 'ECRMOCK_API [^(]*(' include/*.h include/ecrmock/*.h include/ecrmock/sys/*.h | grep -o 'ecrmock_[a-z0-9_]*' | sort -u); do
    grep -q "$f" README.md && continue
    found=0
    prefix=ecrmock
    rest=${f#ecrmock_}
    while [ "$rest" != "${rest#*_}" ]; do
        head=${rest%%_*}
        prefix=${prefix}_$head
        rest=${rest#*_}
        # the wildcard form <prefix>_*, or the group form <prefix>_<something>/.../<rest>
        if grep -q "${prefix}_\*" README.md ||
           grep -Eq "${prefix}_[a-z0-9_]+(/[a-z0-9_]+)*/${rest}([^a-z0-9_]|$)" README.md; then
            found=1
            break
        fi
    done
    [ $found = 1 ] || { echo "check-readme-api: README.md does not mention $f"; missing=1; }
done
[ $missing = 0 ] && echo "check-readme-api: every public function is in README.md"
exit $missing
