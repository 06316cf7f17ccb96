#!/bin/sh
# ecrmock-server refuses what it cannot serve: the exit status (2: the
# command line, 1: the fixture) and the one line it says on stderr, before it
# listens (nothing on stdout).
build=${1:-build}
server=$build/ecrmock-server
fail=0
err=$(mktemp) out=$(mktemp)
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
refused 2 "ecrmock-server: unknown option --bogus" --bogus x
refused 2 "ecrmock-server: --timeout wants a number, not '-1'" --timeout -1
refused 2 "ecrmock-server: --request-timeout wants a number, not '31536001'" --request-timeout 31536001
refused 2 "ecrmock-server: --max-connections wants a number, not '12x'" --max-connections 12x
refused 2 "ecrmock-server: --seed wants a number, not '1x'" --seed 1x
refused 2 "ecrmock-server: --access-key and --secret-key go together" --access-key AKIDEXAMPLE
refused 2 "ecrmock-server: --session-token and --sigv4-strict need --access-key and --secret-key" --session-token T
refused 2 "ecrmock-server: --session-token and --sigv4-strict need --access-key and --secret-key" --sigv4-strict
refused 2 'ecrmock-server: ecrmock_options.account_id must be 12 digits, like "123456789012"' --account 12345
refused 1 "ecrmock-server: cannot listen on 127.0.0.1 port 70000" --port 70000
refused 2 "ecrmock-server: --https-port wants a number, not '70000'" --https-port 70000
refused 2 "ecrmock-server: --ca-cert and --ca-key go together" --ca-cert /nonexistent/ca.pem
refused 1 "ecrmock-server: ca_out /nonexistent/dir/ca.pem: cannot be written: No such file or directory" --ca-out /nonexistent/dir/ca.pem
refused 1 "ecrmock-server: /nonexistent/ca.pem: cannot be read: No such file or directory" --ca-cert /nonexistent/ca.pem --ca-key /nonexistent/ca.key
case $(timeout 10 "$server" --fixture /nonexistent/x.json 2>&1 </dev/null; echo " exit $?") in
"ecrmock-server: /nonexistent/x.json: cannot be read: "*" exit 1") ;;
*) echo "check-server-options: ecrmock-server --fixture /nonexistent/x.json: not refused with exit 1"; fail=1 ;;
esac
rm -f "$err" "$out"
[ $fail = 0 ] && echo "check-server-options: ecrmock-server refuses bad options, each with its reason"
exit $fail
