/*
 * ecrmock-run: runs contract scenarios, each on a fresh instance.
 *
 *   ecrmock-run [-q] [--record OUT.json] scenario.json ...
 *
 * Prints a line per step and a summary per file (-q: only the failed steps
 * and the summaries).  --record (with one scenario) writes what the run did
 * as a scenario of its own: every call with its whole answer, replayable.
 * Exit status: 0 when every step passed, 1 when one failed, 2 for a usage
 * error, an invalid scenario or a recording that could not be written.
 */
#define _XOPEN_SOURCE 700 /* realpath */

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecrmock.h"

static int usage(FILE *to, int status)
{
    fputs("usage: ecrmock-run [-q] [--record OUT.json] scenario.json ...\n"
          "  runs each scenario on a fresh ecrmock instance\n"
          "  -q                 print only failed steps and the summaries\n"
          "  --record OUT.json  (one scenario) write the run's calls and answers as a scenario\n"
          "exit status: 0 all passed, 1 a step failed, 2 usage error or invalid scenario\n",
          to);
    return status;
}

/* The directory part of a path, malloc'd ("." when there is none). */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, path, n);
        d[n] = '\0';
    }
    return d;
}

/* `target` relative to directory `from` (both absolute and canonical), malloc'd. */
static char *relative_path(const char *target, const char *from)
{
    size_t fl = strlen(from);
    char *dir = malloc(fl + 2);
    if (!dir)
        return NULL;
    sprintf(dir, fl && from[fl - 1] == '/' ? "%s" : "%s/", from);
    size_t k = 0; /* the common prefix, up to and with a '/' */
    for (size_t i = 0; dir[i] && dir[i] == target[i]; i++)
        if (dir[i] == '/')
            k = i + 1;
    size_t ups = 0;
    for (const char *p = dir + k; *p; p++)
        ups += *p == '/';
    char *r = malloc(ups * 3 + strlen(target + k) + 1);
    if (r) {
        r[0] = '\0';
        for (size_t i = 0; i < ups; i++)
            strcat(r, "../");
        strcat(r, target + k);
    }
    free(dir);
    return r;
}

/* The scenario's fixture path as seen from here (malloc'd). */
static char *fixture_here(const char *scenario_path, const char *f)
{
    char *sdir = dir_of(scenario_path);
    char *joined = sdir ? malloc(strlen(sdir) + strlen(f) + 2) : NULL;
    if (joined) {
        if (f[0] == '/')
            strcpy(joined, f);
        else
            sprintf(joined, "%s/%s", sdir, f);
    }
    free(sdir);
    return joined;
}

/* The same relative to the recording's directory when both exist (malloc'd). */
static char *fixture_from(const char *here, const char *out_path)
{
    char target[PATH_MAX], from[PATH_MAX];
    char *odir = dir_of(out_path);
    char *rel = NULL;
    if (odir && realpath(here, target) && realpath(odir, from))
        rel = relative_path(target, from);
    free(odir);
    return rel ? rel : strdup(here);
}

/* A refused scenario, as "path: text". */
static void print_err(const ecrmock_err *err)
{
    if (err->path[0])
        fprintf(stderr, "%s: %s\n", err->path, err->text);
    else
        fprintf(stderr, "ecrmock-run: %s\n", err->text);
}

/* Runs `path` on an instance of its own and writes the recording to out_path. */
static int run_and_record(const char *path, const char *out_path, FILE *out)
{
    json_error_t jerr;
    json_t *sc = json_load_file(path, 0, &jerr);
    ecrmock_options opts = ECRMOCK_OPTIONS_INIT;
    json_t *options = json_object_get(sc, "options");
    int opts_ok = !options || ecrmock_options_from_json(options, &opts, NULL) == 0;
    ecrmock *m = sc && opts_ok ? ecrmock_new(&opts) : NULL;
    ecrmock_err err;
    /* Without an instance the runner itself says what is wrong. */
    int rc = ecrmock_scenario_run_file(m, path, out, &err);
    if (rc < 0 || !m) {
        if (rc < 0)
            print_err(&err);
        else
            fprintf(stderr, "ecrmock-run: out of memory\n");
        ecrmock_free(m);
        json_decref(sc);
        return 2;
    }
    json_t *fixture = json_object_get(sc, "fixture");
    char *where = NULL, *fixture_path = NULL;
    if (json_is_string(fixture)) {
        /* recorded from where it loads now; stored relative to the recording */
        where = fixture_here(path, json_string_value(fixture));
        fixture_path = where ? fixture_from(where, out_path) : NULL;
    }
    json_t *rec = ecrmock_scenario_record(m, where, NULL);
    int status = rc > 0 ? 1 : 0;
    if (rec && fixture_path)
        json_object_set_new(rec, "fixture", json_string(fixture_path));
    if (rec && json_is_object(fixture)) {
        /* An inline fixture sets the clock the first step starts from. */
        json_object_set(rec, "fixture", fixture);
        ecrmock *scratch = ecrmock_new(&opts);
        json_t *first = json_array_get(json_object_get(rec, "steps"), 0);
        if (scratch && first && ecrmock_fixture_load(scratch, fixture, NULL, NULL) == 0) {
            json_int_t start = json_integer_value(json_object_get(json_object_get(rec, "options"), "clockStartMs"));
            json_int_t adv = json_integer_value(json_object_get(first, "advanceClockMs")) + start -
                             ecrmock_clock_now(scratch);
            if (adv)
                json_object_set_new(first, "advanceClockMs", json_integer(adv));
            else
                json_object_del(first, "advanceClockMs");
        }
        ecrmock_free(scratch);
    }
    FILE *f = rec ? fopen(out_path, "w") : NULL;
    if (!f || json_dumpf(rec, f, JSON_INDENT(2)) < 0 || fputc('\n', f) == EOF || fclose(f) != 0) {
        fprintf(stderr, "ecrmock-run: cannot write the recording to %s\n", out_path);
        status = 2;
    }
    json_decref(rec);
    free(fixture_path);
    free(where);
    ecrmock_free(m);
    json_decref(sc);
    return status;
}

/* Copies a run's report to stdout; quiet: without the "ok" lines. */
static void report(const char *text, size_t len, int quiet)
{
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
        if (!quiet || strncmp(p, "ok ", 3) != 0)
            fwrite(p, 1, n, stdout);
        p += n;
    }
    fflush(stdout);
}

int main(int argc, char **argv)
{
    int quiet = 0, i = 1;
    const char *record = NULL;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        } else if (strcmp(argv[i], "-q") == 0) {
            quiet = 1;
        } else if (strcmp(argv[i], "--record") == 0 && i + 1 < argc) {
            record = argv[++i];
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            return usage(stdout, 0);
        } else {
            fprintf(stderr, "ecrmock-run: unknown option or missing argument: %s\n", argv[i]);
            return usage(stderr, 2);
        }
    }
    if (i == argc)
        return usage(stderr, 2);
    if (record && argc - i != 1) {
        fprintf(stderr, "ecrmock-run: --record takes exactly one scenario\n");
        return usage(stderr, 2);
    }
    int status = 0;
    for (; i < argc; i++) {
        char *text = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&text, &len);
        if (!out) {
            fprintf(stderr, "ecrmock-run: out of memory\n");
            return 2;
        }
        int rc;
        if (record) {
            rc = run_and_record(argv[i], record, out);
        } else {
            ecrmock_err err;
            rc = ecrmock_scenario_run_file(NULL, argv[i], out, &err);
            if (rc < 0)
                print_err(&err);
            rc = rc < 0 ? 2 : rc > 0 ? 1 : 0;
        }
        fclose(out);
        report(text, len, quiet);
        free(text);
        if (rc > status)
            status = rc;
    }
    return status;
}
