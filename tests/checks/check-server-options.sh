#!/bin/sh
# ecrmock-server's command line: every ecrmock_options field has its flag
# (from the options table, src/core/options.c: --<JSON name in kebab case>);
# what it cannot serve is refused with the exit status (2: the command line,
# 1: the fixture or the port) and the one line it says on stderr, before it
# listens (nothing on stdout); what it can serve, it serves.
build=${1:-build}
server=$build/ecrmock-server
fail=0
tmp=$(mktemp -d)
err=$tmp/err out=$tmp/out
trap 'rm -rf "$tmp"' EXIT
refused() { # STATUS "FIRST LINE OF STDERR" ARGS...
    want_rc=$1 want=$2
    shift 2
    timeout 10 "$server" "$@" </dev/null >"$out" 2>"$err"
    rc=$?
    said=$(head -n 1 "$err")
    if [ $rc != "$want_rc" ] || [ "$said" != "$want" ] || [ -s "$out" ]; then
        echo "check-server-options: ecrmock-server $*: exit $rc (want $want_rc), said '$said' (want '$want')"
        fail=1
    fi
}
# Starts the server, waits for the port it prints, stops it; the port goes to
# $port and the "serving ..." line to $serving.  Fails when it does not listen.
served() { # ARGS...
    : >"$out"
    : >"$err"
    "$server" "$@" </dev/null >"$out" 2>"$err" &
    pid=$!
    port=
    # The port is printed on stdout before the "serving" line on stderr:
    # wait for both (a loaded machine runs the check between the two).
    serving=
    for _ in $(seq 100); do
        port=$(head -n 1 "$out")
        serving=$(grep 'serving' "$err")
        [ -n "$port" ] && [ -n "$serving" ] && break
        sleep 0.1
    done
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    if [ -z "$port" ]; then
        echo "check-server-options: ecrmock-server $*: did not listen: $(head -n 1 "$err")"
        fail=1
    fi
}

# Every row of the options table has its flag: listed by --help, read and
# checked by the table (a value that is no number or no account is refused
# with the flag's name, not as an unknown flag).
json_names=$(sed -n 's/^ *ROW([a-z_0-9]*, "\([A-Za-z0-9]*\)".*/\1/p' src/core/options.c)
[ "$(echo "$json_names" | wc -w)" = "$(grep -c '^ *ROW(' src/core/options.c)" ] && [ -n "$json_names" ] ||
    { echo "check-server-options: cannot read every row of the options table (src/core/options.c)"; fail=1; }
help=$("$server" --help)
for j in $json_names; do
    f=--$(echo "$j" | sed 's/[A-Z]/-\L&/g')
    echo "$help" | grep -q -- "^  $f [SN] .*$j: " || { echo "check-server-options: --help lists no $f ($j)"; fail=1; }
    timeout 10 "$server" "$f" 'x!' </dev/null >"$out" 2>"$err"
    rc=$?
    case "$rc $(head -n 1 "$err")" in
    "2 ecrmock-server: $f 'x!': must "*) ;;
    *) echo "check-server-options: $f 'x!' not refused by the options table: exit $rc, $(head -n 1 "$err")"; fail=1 ;;
    esac
done

refused 2 "ecrmock-server: unknown flag --bogus (--help lists the flags)" --bogus x
refused 2 "ecrmock-server: unknown flag --bogus (--help lists the flags)" --port 0 --bogus
refused 2 "ecrmock-server: unexpected argument 5000 (--help lists the flags)" 5000
refused 2 "ecrmock-server: unknown flag -p (--help lists the flags)" -p 5000
refused 2 "ecrmock-server: --port wants a value (N)" --port
refused 2 "ecrmock-server: --clock '0': must be a time of at least 1 ms since the epoch, or real (the wall clock)" --clock 0
refused 1 "ecrmock-server: ecrmock_server_options.address \"::ffff:127.0.0.1\" is an IPv4 address written as IPv6 (the server's IPv6 sockets take IPv6 only): give the IPv4 address itself, as \"127.0.0.1\"" --address ::ffff:127.0.0.1
refused 2 "ecrmock-server: --timeout '-1': must be a number of 0 to 31536000" --timeout -1
refused 2 "ecrmock-server: --request-timeout '31536001': must be a number of 0 to 31536000" --request-timeout 31536001
refused 2 "ecrmock-server: --max-connections '12x': must be a number of 0 to 4294967295" --max-connections 12x
refused 2 "ecrmock-server: --max-connections '4294967296': must be a number of 0 to 4294967295" --max-connections 4294967296
refused 2 "ecrmock-server: --port '70000': must be a number of 0 to 65535" --port 70000
refused 2 "ecrmock-server: --port ' 1': must be a number of 0 to 65535" --port ' 1'
refused 2 "ecrmock-server: --seed '1x': must be an integer of at least 0 (0: the default)" --seed 1x
refused 2 "ecrmock-server: --seed '-1': must be an integer of at least 0 (0: the default)" --seed -1
refused 2 "ecrmock-server: --seed '18446744073709551616': must be an integer of at least 0 (0: the default)" \
    --seed 18446744073709551616
refused 2 "ecrmock-server: --min-part-size '-5': must be an integer of at least 0 (0: the default)" --min-part-size -5
refused 2 "ecrmock-server: --upload-lifetime-ms '-5': must not be negative (0 means the default)" --upload-lifetime-ms -5
refused 2 "ecrmock-server: --token-length '100': must be 512 to 65536 characters (0 means ECR's 2368)" --token-length 100
refused 2 "ecrmock-server: --clock '-5': must not be negative (0 means the default)" --clock -5
refused 2 "ecrmock-server: --clock-start-ms '253402300800000': must be at most ECRMOCK_CLOCK_MAX_MS (253402300799999, 9999-12-31T23:59:59.999Z)" \
    --clock-start-ms 253402300800000
refused 2 "ecrmock-server: --access-key and --secret-key go together" --access-key AKIDEXAMPLE
refused 2 "ecrmock-server: --session-token and --sigv4-strict need --access-key and --secret-key" --session-token T
refused 2 "ecrmock-server: --session-token and --sigv4-strict need --access-key and --secret-key" --sigv4-strict
refused 2 'ecrmock-server: --account '"'12345'"': must be 12 digits, like "123456789012"' --account 12345
refused 2 'ecrmock-server: --account-id '"'12345'"': must be 12 digits, like "123456789012"' --account-id 12345
refused 1 'ecrmock-server: ecrmock_server_options.address "localhost" is not an IPv4 or IPv6 literal (no name is looked up): "127.0.0.1", "::1", "0.0.0.0"' \
    --address localhost
refused 2 "ecrmock-server: --https-port '70000': must be a number of 0 to 65535" --https-port 70000
refused 2 "ecrmock-server: --ca-cert and --ca-key go together" --ca-cert /nonexistent/ca.pem
refused 1 "ecrmock-server: ca_out /nonexistent/dir/ca.pem: cannot be written: No such file or directory" --ca-out /nonexistent/dir/ca.pem
refused 1 "ecrmock-server: /nonexistent/ca.pem: cannot be read: No such file or directory" --ca-cert /nonexistent/ca.pem --ca-key /nonexistent/ca.key
case $(timeout 10 "$server" --fixture /nonexistent/x.json 2>&1 </dev/null; echo " exit $?") in
"ecrmock-server: /nonexistent/x.json: cannot be read: "*" exit 1") ;;
*) echo "check-server-options: ecrmock-server --fixture /nonexistent/x.json: not refused with exit 1"; fail=1 ;;
esac

# What it can serve: past the old one-year bound on --max-connections, every
# option at once, a port in use said so.
served --max-connections 100000000
served --account-id 210987654321 --region eu-west-1 --clock-start-ms 1 --seed 18446744073709551615 \
    --min-part-size 1024 --upload-lifetime-ms 1000 --max-repositories 1 --max-images 1 --max-layer-parts 1 \
    --journal-limit 1 --max-layer-bytes 1 --max-layers-per-image 1 --max-tags-per-image 1 --max-resource-tags 1 \
    --token-length 512 --max-synth-bytes 1
[ "$serving" = "ecrmock-server: serving account 210987654321, eu-west-1, on http://127.0.0.1:$port" ] ||
    { echo "check-server-options: every option: said '$serving'"; fail=1; }
# Emptied first: the shell truncates "$out" in the child, which may run
# after the loop below has seen the last server's port still there.
: >"$out"
"$server" </dev/null >"$out" 2>/dev/null &
held=$!
busy=
for _ in $(seq 300); do
    busy=$(head -n 1 "$out")
    [ -n "$busy" ] && break
    sleep 0.1
done
refused 1 "ecrmock-server: cannot listen on 127.0.0.1:$busy: the port is in use (another server holds it): choose another port, or 0 for an ephemeral one" \
    --port "$busy"
kill "$held"
wait "$held" 2>/dev/null

# A fixture's options set the instance's; a flag wins over them; a bad one is
# refused with its path.
printf '{"options": {"accountId": "111111111111", "region": "ap-south-1"}, "registries": []}\n' >"$tmp/fx.json"
served --fixture "$tmp/fx.json"
[ "$serving" = "ecrmock-server: serving account 111111111111, ap-south-1, on http://127.0.0.1:$port" ] ||
    { echo "check-server-options: the fixture's options: said '$serving'"; fail=1; }
served --fixture "$tmp/fx.json" --account 222222222222
[ "$serving" = "ecrmock-server: serving account 222222222222, ap-south-1, on http://127.0.0.1:$port" ] ||
    { echo "check-server-options: a flag over the fixture's options: said '$serving'"; fail=1; }
printf '{"options": {"minPartSize": -1}}\n' >"$tmp/bad.json"
refused 1 "ecrmock-server: $tmp/bad.json: \$.options.minPartSize: must be an integer of at least 0 (0: the default)" \
    --fixture "$tmp/bad.json"

[ $fail = 0 ] && echo "check-server-options: ecrmock-server has a flag for every option, refuses bad ones with the reason, serves good ones"
exit $fail
