/*
 * ecrmock-server: a fake ECR on a loopback port, for clients in any
 * language (the AWS CLI, boto3, the Go SDK, ...).
 *
 *   ecrmock-server [--address 127.0.0.1] [--port 0] [--fixture FILE] [--seed N]
 *                  [--account 123456789012] [--region us-east-1]
 *                  [--access-key ID --secret-key KEY] [--s3-urls] [--clock real|MS]
 *                  [--timeout S] [--request-timeout S] [--max-connections N]
 *                  [--session-token TOKEN] [--sigv4-strict] [--no-control]
 *
 * Prints the bound port on its own line on stdout as soon as it listens,
 * then serves until SIGINT or SIGTERM.  With --access-key/--secret-key,
 * every API request must be SigV4-signed with them (--session-token: the
 * X-Amz-Security-Token of temporary credentials; --sigv4-strict: every
 * x-amz-* header and Content-Type signed, see ecrmock_http_sigv4_strict_set).  Download URLs point
 * at the server itself (http://ADDRESS:PORT/...) unless --s3-urls.
 *
 * The clock: by default in wall mode (ECRMOCK_CLOCK_WALL): the system clock
 * plus an offset the control API moves, since a real client expects
 * uploads and URLs to expire in real time; SigV4 dates are checked against
 * the system clock whatever the offset, so real signatures always verify.
 * --clock MS pins it at MS milliseconds since the epoch instead (--clock
 * real: wall mode, the default); SigV4 dates are still checked against the
 * system clock (ecrmock_http_sigv4_system_clock_set), as clients sign with
 * it.  A fixture's clock wins, said on stderr: in wall mode the clock runs
 * on from it.
 *
 * The control API (ecrmock_http_control_set, README.md "The control API")
 * is on under /_ecrmock; --no-control turns it off.  With --access-key, its
 * requests must be signed as the API's are.
 *
 * Connections: a connection that sends nothing for --timeout seconds (30 by
 * default, 0: never) is closed, and so is one whose request has not arrived
 * whole --request-timeout seconds (60 by default, 0: no deadline) after the
 * connection or the previous response; --max-connections (4096 by default)
 * are held at once, as far as the file descriptor limit (ulimit -n) allows.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ecrmock.h"
#include "ecrmock_server.h"

/* Whether the fixture file sets the clock (it was loaded: it parses). */
static int fixture_sets_clock(const char *path)
{
    json_t *fx = json_load_file(path, 0, NULL);
    int has = json_object_get(fx, "clock") != NULL;
    json_decref(fx);
    return has;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: ecrmock-server [--address ADDR] [--port N] [--fixture FILE] [--seed N]\n"
               "                      [--account ID] [--region REGION] [--access-key ID --secret-key KEY]\n"
               "                      [--s3-urls] [--clock real|MS] [--timeout S] [--request-timeout S]\n"
               "                      [--max-connections N]\n"
               "                      [--session-token TOKEN] [--sigv4-strict] [--no-control]\n");
}

int main(int argc, char **argv)
{
    const char *address = "127.0.0.1", *fixture = NULL, *access = NULL, *secret = NULL, *token = NULL;
    int port = 0, s3_urls = 0, real_clock = 1, strict = 0, control = 1;
    ecrmock_server_options so = ECRMOCK_SERVER_OPTIONS_INIT;
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(a, "--s3-urls") == 0) {
            s3_urls = 1;
            continue;
        }
        if (strcmp(a, "--sigv4-strict") == 0) {
            strict = 1;
            continue;
        }
        if (strcmp(a, "--no-control") == 0) {
            control = 0;
            continue;
        }
        if (!v) {
            usage(stderr);
            return 2;
        }
        char *end = NULL;
        errno = 0;
        if (strcmp(a, "--address") == 0)
            address = v;
        else if (strcmp(a, "--port") == 0)
            port = (int)strtol(v, &end, 10);
        else if (strcmp(a, "--fixture") == 0)
            fixture = v;
        else if (strcmp(a, "--seed") == 0)
            o.seed = strtoull(v, &end, 10);
        else if (strcmp(a, "--account") == 0)
            o.account_id = v;
        else if (strcmp(a, "--region") == 0)
            o.region = v;
        else if (strcmp(a, "--clock") == 0 && strcmp(v, "real") == 0)
            real_clock = 1;
        else if (strcmp(a, "--clock") == 0) {
            real_clock = 0;
            o.clock_start_ms = strtoll(v, &end, 10);
        } else if (strcmp(a, "--timeout") == 0 || strcmp(a, "--request-timeout") == 0 ||
                   strcmp(a, "--max-connections") == 0) {
            unsigned long n = strtoul(v, &end, 10);
            if (*v == '-' || n > 86400 * 365)
                errno = ERANGE;
            *(a[2] == 't' ? &so.timeout_s : a[2] == 'r' ? &so.request_timeout_s : &so.max_connections) =
                (unsigned int)n;
        } else if (strcmp(a, "--session-token") == 0)
            token = v;
        else if (strcmp(a, "--access-key") == 0)
            access = v;
        else if (strcmp(a, "--secret-key") == 0)
            secret = v;
        else {
            fprintf(stderr, "ecrmock-server: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
        if (end && (*end || errno)) {
            fprintf(stderr, "ecrmock-server: %s wants a number, not '%s'\n", a, v);
            return 2;
        }
        i++;
    }
    if (!access != !secret) {
        fprintf(stderr, "ecrmock-server: --access-key and --secret-key go together\n");
        return 2;
    }
    if ((token || strict) && !access) {
        fprintf(stderr, "ecrmock-server: --session-token and --sigv4-strict need --access-key and --secret-key\n");
        return 2;
    }
    ecrmock_err why;
    if (ecrmock_options_check(&o, &why) < 0) {
        fprintf(stderr, "ecrmock-server: %s\n", why.text);
        return 2;
    }
    ecrmock *m = ecrmock_new(&o);
    if (!m) {
        fprintf(stderr, "ecrmock-server: out of memory\n");
        return 1;
    }
    ecrmock_err err;
    /* Wall mode before the fixture, whose clock then becomes the offset. */
    if ((real_clock && ecrmock_clock_mode_set(m, ECRMOCK_CLOCK_WALL, NULL) != 0) ||
        ecrmock_http_control_set(m, control, NULL) != 0 || ecrmock_http_sigv4_system_clock_set(m, 1, NULL) != 0) {
        fprintf(stderr, "ecrmock-server: out of memory\n");
        ecrmock_free(m);
        return 1;
    }
    if (fixture && ecrmock_fixture_load_file(m, fixture, &err) != 0) {
        fprintf(stderr, "ecrmock-server: %s%s%s\n", err.path, err.path[0] ? ": " : "", err.text);
        ecrmock_free(m);
        return 1;
    }
    if (fixture && fixture_sets_clock(fixture)) {
        char when[32];
        time_t t = (time_t)(ecrmock_clock_now(m) / 1000);
        struct tm tm;
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
        fprintf(stderr, "ecrmock-server: the clock is the fixture's, %s%s\n", when,
                real_clock ? ", and runs on from it (SigV4 dates are checked against the system clock)"
                           : ", pinned there");
    }
    if (access && (ecrmock_http_credentials_set(m, access, secret, NULL) != 0 ||
                   ecrmock_http_session_token_set(m, token, NULL) != 0 ||
                   ecrmock_http_sigv4_strict_set(m, strict, NULL) != 0)) {
        fprintf(stderr, "ecrmock-server: out of memory\n");
        ecrmock_free(m);
        return 1;
    }

    /* The server's thread must not take the signals: block them first. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    ecrmock_server *s = NULL;
    int bound = 0;
    so.address = address;
    so.port = port;
    if (ecrmock_server_start_with(m, &so, &bound, &s) != 0) {
        fprintf(stderr, "ecrmock-server: cannot listen on %s port %d\n", address, port);
        ecrmock_free(m);
        return 1;
    }
    if (!s3_urls) {
        char base[128];
        snprintf(base, sizeof base, strchr(address, ':') ? "http://[%s]:%d" : "http://%s:%d", address, bound);
        ecrmock_http_base_url_set(m, base, NULL);
    }
    printf("%d\n", bound);
    fflush(stdout);
    fprintf(stderr, "ecrmock-server: serving account %s, %s, on http://%s:%d%s\n",
            o.account_id ? o.account_id : ECRMOCK_DEFAULT_ACCOUNT, o.region ? o.region : ECRMOCK_DEFAULT_REGION,
            address, bound, access ? " (SigV4 checked)" : "");

    int sig;
    sigwait(&set, &sig);
    ecrmock_server_stop(s);
    ecrmock_free(m);
    return 0;
}
