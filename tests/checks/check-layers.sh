#!/bin/sh
# The layers of src/ run down only (README.md, "Layout": base, core, store, areas,
# testing, then src/ecrmock.c, fronts, tooling).  Fails when
#   - a file of src/<L>/ includes "<M>/..." for a folder M above L, or
#     src/ecrmock.c includes fronts/ or tooling/;
#   - (given the build directory) an object of src/<L>/ uses a symbol that
#     only an object of a folder above L defines: a call that runs up even
#     though no include says so.
# Usage: tests/checks/check-layers.sh [BUILD]
set -u
cd "$(dirname "$0")/../.." || exit 2
ORDER="base core store areas testing root fronts tooling"

rank() {
    i=0
    for l in $ORDER; do
        [ "$l" = "$1" ] && { echo $i; return; }
        i=$((i + 1))
    done
    echo -1
}

fail=0
for f in src/*.c src/*.h src/*/*.c src/*/*.h; do
    [ -f "$f" ] || continue
    case "$f" in
    src/*/*) layer=${f#src/}; layer=${layer%%/*} ;;
    *) layer=root ;;
    esac
    r=$(rank "$layer")
    if [ "$r" -lt 0 ]; then
        echo "check-layers: $f: folder '$layer' is no layer (add it to ORDER in tests/checks/check-layers.sh)"
        fail=1
        continue
    fi
    for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([a-z_]*\)\/[^"]*".*/\1/p' "$f"); do
        ir=$(rank "$inc")
        if [ "$ir" -gt "$r" ]; then
            echo "check-layers: $f ($layer) includes $inc/, a layer above it"
            fail=1
        fi
    done
done

build=${1:-}
if [ -n "$build" ] && [ -d "$build/obj" ] && command -v nm >/dev/null 2>&1; then
    # "layer object symbol" for each definition and each use, then the uses
    # whose symbol only a higher layer defines.
    for o in "$build"/obj/*.o "$build"/obj/*/*.o; do
        [ -f "$o" ] || continue
        rel=${o#"$build"/obj/}
        case "$rel" in
        server/* | curl/*) continue ;;
        */*) layer=${rel%%/*} ;;
        *) layer=root ;;
        esac
        [ -f "src/${rel%.o}.c" ] || continue # an object of a file that is gone
        nm "$o" | awk -v l="$(rank "$layer")" -v o="$rel" \
            '$1 == "U" { print "U", l, o, $2 } NF == 3 && $2 ~ /^[TDRB]$/ { print "D", l, o, $3 }'
    done | awk '
        $1 == "D" { def[$4] = $2; where[$4] = $3; next }
        { use[NR] = $0 }
        END {
            bad = 0
            for (i in use) {
                split(use[i], u, " ")
                if ((u[4] in def) && def[u[4]] + 0 > u[2] + 0) {
                    printf "check-layers: %s uses %s of %s, a layer above it\n", u[3], u[4], where[u[4]]
                    bad = 1
                }
            }
            exit bad
        }' || fail=1
fi

if [ $fail = 0 ]; then
    echo "check-layers: src/ includes and calls run down only ($ORDER)"
fi
exit $fail
