/*
 * ecrmock-server: a fake ECR on a loopback port, for clients in any
 * language (the AWS CLI, boto3, the Go SDK, ...).
 *
 *   ecrmock-server [--address 127.0.0.1] [--port 0] [--fixture FILE]
 *                  [--access-key ID --secret-key KEY] [--session-token TOKEN] [--sigv4-strict]
 *                  [--s3-urls] [--clock real|MS] [--timeout S] [--request-timeout S]
 *                  [--max-connections N] [--https-port N] [--proxy] [--ca-out FILE]
 *                  [--ca-cert FILE --ca-key FILE] [--no-control] [--OPTION VALUE ...]
 *
 * `--help` lists every flag.  Each ecrmock_options field has one, made from
 * the options table (src/core/options.c): its JSON name in kebab case
 * (minPartSize: --min-part-size, accountId: --account-id, also --account),
 * checked as the table checks it; a fixture's "options" member sets them
 * too, and a flag wins over it.
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
 * --clock MS (or --clock-start-ms MS, or the fixture's clockStartMs) pins
 * it at MS milliseconds since the epoch instead (--clock real: wall mode);
 * SigV4 dates are still checked against the system clock
 * (ecrmock_http_sigv4_system_clock_set), as clients sign with it.  A
 * fixture's clock wins, said on stderr: in wall mode the clock runs on
 * from it.
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
 *
 * HTTPS, for clients whose endpoint is fixed: --https-port N (0: an
 * ephemeral port, printed on a second line of stdout) listens for TLS on the
 * same address; --proxy makes the plain port answer `CONNECT <ecr host>:443`
 * too (HTTPS_PROXY=http://ADDRESS:PORT).  Host certificates are signed by a
 * CA made at start (or --ca-cert/--ca-key); --ca-out FILE writes its PEM,
 * for SSL_CERT_FILE / AWS_CA_BUNDLE.
 *
 * Exit status: 2 for the command line, 1 for the fixture or when it cannot
 * listen (the reason on stderr), 0 after a signal.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <inttypes.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ecrmock.h"
#include "ecrmock_server.h"
#include "core/core.h" /* the options table: this program links the core */

#define SECONDS_MAX 31536000 /* a year: a timeout past it is a typo */

/* What the command line asked for. */
typedef struct config {
    ecrmock_server_options so;
    ecrmock_server_tls_options to; /* HTTPS: any of its flags given starts the server with it */
    const char *fixture, *access, *secret, *token;
    int s3_urls, strict, no_control;
    int clock; /* 0: not said, 1: real (--clock real), 2: pinned (--clock MS) */
    const char **option_text; /* each option's flag value, by the options table's row; NULL: not given */
} config;

/* ---- the server's own flags ----------------------------------------------
 * One row each: its name, what its value is called (NULL: a switch), its
 * help, how its value is read, where it goes in the config and, numbers,
 * the largest accepted.  A new flag is a row (and, when no reader fits, a
 * reader).  The options' flags are not here: they come from the options
 * table (below). */
typedef struct flag flag;
/* Reads `value` into c; NULL, or why it is refused ("must be a number of 0
 * to 65535"), for "--flag 'value': why". */
typedef const char *flag_reader(config *c, const flag *f, const char *value);
struct flag {
    const char *name, *arg, *help;
    flag_reader *read;
    size_t at;         /* offsetof(config, ...) */
    unsigned long max; /* numbers */
};

static const char *read_text(config *c, const flag *f, const char *value)
{
    memcpy((char *)c + f->at, &value, sizeof value);
    return NULL;
}

static const char *read_switch(config *c, const flag *f, const char *value)
{
    (void)value;
    *(int *)(void *)((char *)c + f->at) = 1;
    return NULL;
}

/* Decimal digits only, at most f->max: no sign, no space, nothing after. */
static const char *read_number(const flag *f, const char *value, unsigned long *n)
{
    static char want[64];
    snprintf(want, sizeof want, "must be a number of 0 to %lu", f->max);
    if (!*value || strspn(value, "0123456789") != strlen(value))
        return want;
    errno = 0;
    *n = strtoul(value, NULL, 10);
    return errno || *n > f->max ? want : NULL;
}

static const char *read_uint(config *c, const flag *f, const char *value)
{
    unsigned long n;
    const char *want = read_number(f, value, &n);
    if (!want)
        *(unsigned int *)(void *)((char *)c + f->at) = (unsigned int)n;
    return want;
}

static const char *read_int(config *c, const flag *f, const char *value)
{
    unsigned long n;
    const char *want = read_number(f, value, &n);
    if (!want)
        *(int *)(void *)((char *)c + f->at) = (int)n;
    return want;
}

static const char *read_option(config *c, const em_option *r, const char *value);

/* --clock real: the wall clock; --clock MS: the clock pinned at MS (the
 * clockStartMs option). */
static const char *read_clock(config *c, const flag *f, const char *value)
{
    (void)f;
    if (strcmp(value, "real") == 0) {
        c->clock = 1;
        return NULL;
    }
    /* 0 would be the option's "not given" (--clock-start-ms 0: the wall
     * clock), not a time to pin the clock at. */
    if (*value && strspn(value, "0") == strlen(value))
        return "must be a time of at least 1 ms since the epoch, or real (the wall clock)";
    const char *want = read_option(c, em_option_named("clockStartMs"), value);
    if (!want)
        c->clock = 2;
    return want;
}

#define AT(member) offsetof(config, member)
static const flag flags[] = {
    {"--address", "ADDR", "listen on this IPv4 or IPv6 literal (127.0.0.1)", read_text, AT(so.address), 0},
    {"--port", "N", "listen on this port, 0 to 65535 (0: an ephemeral one); printed on stdout", read_int, AT(so.port),
     65535},
    {"--fixture", "FILE", "load this fixture; its \"options\" set the options below (a flag wins)", read_text,
     AT(fixture), 0},
    {"--access-key", "ID", "check SigV4 signatures made with this key id (and --secret-key)", read_text, AT(access), 0},
    {"--secret-key", "KEY", "the secret key of --access-key", read_text, AT(secret), 0},
    {"--session-token", "TOKEN", "the X-Amz-Security-Token of temporary credentials", read_text, AT(token), 0},
    {"--sigv4-strict", NULL, "every x-amz-* header and Content-Type must be signed", read_switch, AT(strict), 0},
    {"--s3-urls", NULL, "download URLs on S3's host, not the server's", read_switch, AT(s3_urls), 0},
    {"--no-control", NULL, "turn the control API (/_ecrmock) off", read_switch, AT(no_control), 0},
    {"--clock", "real|MS", "wall mode (the default: the system clock plus the control API's offset), or pin the clock at MS ms since the epoch", read_clock,
     0, 0},
    {"--timeout", "S", "close a connection silent this long, seconds (30; 0: never)", read_uint, AT(so.timeout_s),
     SECONDS_MAX},
    {"--request-timeout", "S", "close a connection whose request is not whole after this long (60; 0: never)",
     read_uint, AT(so.request_timeout_s), SECONDS_MAX},
    {"--max-connections", "N", "connections held at once (4096), as far as ulimit -n allows", read_uint,
     AT(so.max_connections), UINT_MAX},
    {"--https-port", "N", "also listen for HTTPS on this port (0: an ephemeral one, printed on a second line)",
     read_int, AT(to.https_port), 65535},
    {"--proxy", NULL, "the plain port also answers CONNECT <ecr host>:443 (HTTPS_PROXY)", read_switch, AT(to.proxy),
     0},
    {"--ca-out", "FILE", "write the CA's certificate (PEM) here, for SSL_CERT_FILE / AWS_CA_BUNDLE", read_text,
     AT(to.ca_out), 0},
    {"--ca-cert", "FILE", "sign host certificates with this CA (PEM; with --ca-key), not one made at start",
     read_text, AT(to.ca_cert_file), 0},
    {"--ca-key", "FILE", "the private key of --ca-cert (PEM)", read_text, AT(to.ca_key_file), 0},
};
#undef AT

/* ---- the options' flags ---------------------------------------------------
 * One per row of the options table: "--" and its JSON name in kebab case,
 * read and checked as the table reads the environment's text. */

/* Older names of options' flags. */
static const struct {
    const char *name, *json;
} aliases[] = {{"--account", "accountId"}};

static void option_flag_name(const em_option *r, char out[64])
{
    size_t at = 0;
    out[at++] = '-';
    out[at++] = '-';
    for (const char *p = r->json; *p && at < 62; p++) {
        if (*p >= 'A' && *p <= 'Z')
            out[at++] = '-';
        em_ascii_lower(out + at++, p, 1);
    }
    out[at] = '\0';
}

static const em_option *option_flag(const char *name)
{
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcmp(name, aliases[i].name) == 0)
            return em_option_named(aliases[i].json);
    for (size_t i = 0; i < em_option_count; i++) {
        char n[64];
        option_flag_name(&em_option_table[i], n);
        if (strcmp(name, n) == 0)
            return &em_option_table[i];
    }
    return NULL;
}

/* Checks the value as the options table does, and keeps it for after the
 * fixture's options. */
static const char *read_option(config *c, const em_option *r, const char *value)
{
    static char why[96];
    ecrmock_options scratch = ECRMOCK_OPTIONS_INIT;
    const char *kind = em_option_set_text(r, &scratch, value);
    if (kind) {
        snprintf(why, sizeof why, "must be %s", kind);
        return why;
    }
    const char *bad = em_option_why(r, &scratch);
    if (bad)
        return bad;
    c->option_text[r - em_option_table] = value;
    return NULL;
}

/* ---- help ------------------------------------------------------------------ */

static void help_line(FILE *f, const char *name, const char *arg, const char *help, const char *dflt)
{
    char left[96];
    snprintf(left, sizeof left, "%s%s%s", name, arg ? " " : "", arg ? arg : "");
    fprintf(f, "  %-26s %s%s%s%s\n", left, help, dflt ? " (" : "", dflt ? dflt : "", dflt ? ")" : "");
}

static void usage(FILE *f)
{
    fprintf(f, "usage: ecrmock-server [--FLAG VALUE ...]\n"
               "Serves a fake Amazon ECR over HTTP; prints the port, then serves until SIGINT or SIGTERM.\n\n");
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        help_line(f, flags[i].name, flags[i].arg, flags[i].help, NULL);
    fprintf(f, "\nThe options (ecrmock_options; a fixture's \"options\" member by the JSON names):\n");
    ecrmock_options d = ECRMOCK_OPTIONS_INIT;
    em_options_defaults(&d);
    for (size_t i = 0; i < em_option_count; i++) {
        const em_option *r = &em_option_table[i];
        char name[64], dflt[96];
        option_flag_name(r, name);
        if (r->offset == offsetof(ecrmock_options, clock_start_ms))
            snprintf(dflt, sizeof dflt, "the wall clock; given, the clock stays there, as --clock MS");
        else if (r->type == EM_OPT_STRING)
            snprintf(dflt, sizeof dflt, "%s", *(const char *const *)(const void *)((const char *)&d + r->offset));
        else
            snprintf(dflt, sizeof dflt, "%" PRIu64, r->dflt);
        char help[160];
        snprintf(help, sizeof help, "%s: %s", r->json, r->help);
        help_line(f, name, r->type == EM_OPT_STRING ? "S" : "N", help, dflt);
    }
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++) {
        char name[64], help[96];
        option_flag_name(em_option_named(aliases[i].json), name);
        snprintf(help, sizeof help, "the same as %s", name);
        help_line(f, aliases[i].name, "S", help, NULL);
    }
}

/* ---- the command line ------------------------------------------------------ */

/* Reads argv into *c: 0, 1 after --help, or 2 with the reason on stderr. */
static int parse(int argc, char **argv, config *c)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 1;
        }
        const flag *f = NULL;
        for (size_t k = 0; !f && k < sizeof flags / sizeof flags[0]; k++)
            if (strcmp(a, flags[k].name) == 0)
                f = &flags[k];
        const em_option *r = f ? NULL : option_flag(a);
        if (!f && !r) {
            fprintf(stderr, "ecrmock-server: %s %s (--help lists the flags)\n",
                    a[0] == '-' ? "unknown flag" : "unexpected argument", a);
            return 2;
        }
        if (f && !f->arg) {
            f->read(c, f, NULL);
            continue;
        }
        if (i + 1 == argc) {
            fprintf(stderr, "ecrmock-server: %s wants a value (%s)\n", a,
                    f ? f->arg : r->type == EM_OPT_STRING ? "S" : "N");
            return 2;
        }
        const char *v = argv[++i];
        const char *why = f ? f->read(c, f, v) : read_option(c, r, v);
        if (why) {
            fprintf(stderr, "ecrmock-server: %s '%s': %s\n", a, v, why);
            return 2;
        }
    }
    if (!c->access != !c->secret) {
        fprintf(stderr, "ecrmock-server: --access-key and --secret-key go together\n");
        return 2;
    }
    if (!c->to.ca_cert_file != !c->to.ca_key_file) {
        fprintf(stderr, "ecrmock-server: --ca-cert and --ca-key go together\n");
        return 2;
    }
    if ((c->token || c->strict) && !c->access) {
        fprintf(stderr, "ecrmock-server: --session-token and --sigv4-strict need --access-key and --secret-key\n");
        return 2;
    }
    return 0;
}

/* The fixture file as JSON (a new reference), or NULL with the reason on stderr. */
static json_t *fixture_read(const char *path)
{
    json_error_t jerr;
    FILE *f = fopen(path, "rb");
    json_t *fx = f ? json_loadf(f, 0, &jerr) : NULL;
    if (!f)
        fprintf(stderr, "ecrmock-server: %s: cannot be read: %s\n", path, strerror(errno));
    else if (!fx)
        fprintf(stderr, "ecrmock-server: %s: line %d, column %d: not valid JSON: %s\n", path, jerr.line, jerr.column,
                jerr.text);
    if (f)
        fclose(f);
    return fx;
}

/* The instance's options: the fixture's "options" member, then the flags.
 * 0, or 1 with the reason on stderr (strings borrowed from fx and argv). */
static int options_of(const config *c, json_t *fx, ecrmock_options *o)
{
    json_t *fo = json_object_get(fx, "options");
    ecrmock_err e;
    if (fo && ecrmock_options_from_json(fo, o, &e) < 0) {
        fprintf(stderr, "ecrmock-server: %s: %s: %s\n", c->fixture, e.path, e.text);
        return 1;
    }
    for (size_t i = 0; i < em_option_count; i++)
        if (c->option_text[i])
            em_option_set_text(&em_option_table[i], o, c->option_text[i]); /* read_option() checked it */
    if (ecrmock_options_check(o, &e) < 0) {
        fprintf(stderr, "ecrmock-server: %s\n", e.text);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    config c = {.so = ECRMOCK_SERVER_OPTIONS_INIT, .to = ECRMOCK_SERVER_TLS_OPTIONS_INIT};
    c.so.address = "127.0.0.1";
    const char *texts[64] = {0};
    if (em_option_count > sizeof texts / sizeof texts[0])
        abort(); /* a table past 64 options: make texts[] larger */
    c.option_text = texts;
    int rc = parse(argc, argv, &c);
    if (rc)
        return rc == 1 ? 0 : rc;
    json_t *fx = c.fixture ? fixture_read(c.fixture) : NULL;
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    if ((c.fixture && !fx) || options_of(&c, fx, &o) != 0) {
        json_decref(fx);
        return 1;
    }
    char who[128]; /* o's strings may be the fixture's, gone once it is loaded */
    snprintf(who, sizeof who, "account %s, %s", o.account_id ? o.account_id : ECRMOCK_DEFAULT_ACCOUNT,
             o.region ? o.region : ECRMOCK_DEFAULT_REGION);
    /* Pinned when said so, or when a start was given (a flag, the fixture's options). */
    int real_clock = c.clock == 1 || (c.clock == 0 && o.clock_start_ms == 0);
    ecrmock *m = ecrmock_new(&o);
    if (!m) {
        fprintf(stderr, "ecrmock-server: out of memory\n");
        json_decref(fx);
        return 1;
    }
    ecrmock_err err;
    /* Wall mode before the fixture, whose clock then becomes the offset. */
    if ((real_clock && ecrmock_clock_mode_set(m, ECRMOCK_CLOCK_WALL, NULL) != 0) ||
        ecrmock_http_control_set(m, !c.no_control, NULL) != 0 ||
        ecrmock_http_sigv4_system_clock_set(m, 1, NULL) != 0) {
        fprintf(stderr, "ecrmock-server: out of memory\n");
        json_decref(fx);
        ecrmock_free(m);
        return 1;
    }
    int fixture_clock = fx && json_object_get(fx, "clock") != NULL;
    if (fx) {
        json_object_del(fx, "options"); /* the instance's, not its state's */
        rc = ecrmock_fixture_load(m, fx, c.fixture, &err);
        json_decref(fx);
        if (rc != 0) {
            fprintf(stderr, "ecrmock-server: %s%s%s\n", err.path, err.path[0] ? ": " : "", err.text);
            ecrmock_free(m);
            return 1;
        }
    }
    if (fixture_clock) {
        char when[32];
        time_t t = (time_t)(ecrmock_clock_now(m) / 1000);
        struct tm tm;
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
        fprintf(stderr, "ecrmock-server: the clock is the fixture's, %s%s\n", when,
                real_clock ? ", and runs on from it (SigV4 dates are checked against the system clock)"
                           : ", pinned there");
    }
    if (c.access && (ecrmock_http_credentials_set(m, c.access, c.secret, NULL) != 0 ||
                     ecrmock_http_session_token_set(m, c.token, NULL) != 0 ||
                     ecrmock_http_sigv4_strict_set(m, c.strict, NULL) != 0)) {
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
    const char *address = c.so.address;
    int tls = c.to.https_port >= 0 || c.to.proxy || c.to.ca_out || c.to.ca_cert_file;
    if ((tls ? ecrmock_server_start_tls(m, &c.so, &c.to, &bound, &s, &err)
             : ecrmock_server_listen(m, &c.so, &bound, &s, &err)) != 0) {
        fprintf(stderr, "ecrmock-server: %s\n", err.text);
        ecrmock_free(m);
        return 1;
    }
    if (!c.s3_urls) {
        char base[128];
        snprintf(base, sizeof base, strchr(address, ':') ? "http://[%s]:%d" : "http://%s:%d", address, bound);
        ecrmock_http_base_url_set(m, base, NULL);
    }
    printf("%d\n", bound);
    if (ecrmock_server_https_port(s) >= 0)
        printf("%d\n", ecrmock_server_https_port(s));
    fflush(stdout);
    fprintf(stderr, "ecrmock-server: serving %s, on http://%s:%d%s\n", who, address, bound,
            c.access ? " (SigV4 checked)" : "");
    if (ecrmock_server_https_port(s) >= 0)
        fprintf(stderr, "ecrmock-server: HTTPS for ECR's hosts on port %d\n", ecrmock_server_https_port(s));
    if (c.to.proxy)
        fprintf(stderr, "ecrmock-server: CONNECT proxy for ECR's hosts on port %d (HTTPS_PROXY)\n", bound);
    if (tls)
        fprintf(stderr, "ecrmock-server: the CA's certificate: %s\n", c.to.ca_out ? c.to.ca_out : "not written (--ca-out)");

    int sig;
    sigwait(&set, &sig);
    ecrmock_server_stop(s);
    ecrmock_free(m);
    return 0;
}
