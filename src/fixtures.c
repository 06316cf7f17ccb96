/*
 * Fixtures and snapshots: a registry described as JSON, loaded in one call,
 * and the instance's state dumped in the same format.
 *
 * A fixture is built in a scratch instance with the same options, through
 * the same actions a client would call (CreateRepository, SetRepositoryPolicy,
 * PutImage), so it passes ECR's own rules; only then is the scratch state
 * swapped in.  A fixture that breaks a rule is refused whole, its error
 * naming the source, the JSON path and the rule, and the instance is left
 * as it was.  fixtures/README.md documents the format.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MT_DOCKER_V2 "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define MT_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar+gzip"

/* The largest layer a fixture may synthesise: 1 GiB. */
#define MAX_SYNTH_BYTES ((json_int_t)1 << 30)

/* A layer synthesised in this load: {"size", "seed"} and its digest. */
typedef struct synth_key {
    uint64_t size, seed;
} synth_key;

typedef struct synth_made {
    synth_key key;
    char digest[ECRMOCK_DIGEST_SIZE];
    UT_hash_handle hh;
} synth_made;

typedef struct loader {
    ecrmock *s;          /* the scratch instance being built */
    const char *source;
    char path[512];
    char *err;
    synth_made *made;    /* each (size, seed) once per load, by key */
    uint64_t synth_bytes; /* what they came to: at most opts.max_synth_bytes */
} loader;

/* ---- errors and paths ---------------------------------------------------------- */

static int refuse(loader *ld, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int refuse(loader *ld, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!ld->err)
        ld->err = em_sprintf("%s: %s: %s", ld->source ? ld->source : "fixture", ld->path, msg);
    return -1;
}

/* Appends ".name" or "[i]" to the path; returns the old length to restore. */
static size_t push_key(loader *ld, const char *key)
{
    size_t n = strlen(ld->path);
    snprintf(ld->path + n, sizeof ld->path - n, ".%s", key);
    return n;
}

static size_t push_index(loader *ld, size_t i)
{
    size_t n = strlen(ld->path);
    snprintf(ld->path + n, sizeof ld->path - n, "[%zu]", i);
    return n;
}

static void pop(loader *ld, size_t n)
{
    ld->path[n] = '\0';
}

/* Refuses the member `key` of the current object; returns -1. */
static int refuse_at(loader *ld, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int refuse_at(loader *ld, const char *key, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t n = push_key(ld, key);
    refuse(ld, "%s", msg);
    pop(ld, n);
    return -1;
}

/* Refuses members other than `allowed` (NULL-terminated). */
static int only_members(loader *ld, json_t *o, const char *const *allowed)
{
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strcmp(*a, key) == 0;
        if (!ok) {
            size_t n = push_key(ld, key);
            refuse(ld, "unknown member");
            pop(ld, n);
            return -1;
        }
    }
    return 0;
}

static int want_type(loader *ld, json_t *o, const char *key, json_type type, const char *noun)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_typeof(v) == type || (type == JSON_TRUE && json_is_boolean(v)))
        return 0;
    size_t n = push_key(ld, key);
    refuse(ld, "must be %s", noun);
    pop(ld, n);
    return -1;
}

/* The times a fixture may give: 1970-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z,
 * epoch seconds (a millisecond count far from int64's edges). */
#define MAX_TIME_S INT64_C(253402300799)

/* Reads `n` digits at *p into *out; false when they are not all digits. */
static bool digits(const char **p, int n, int *out)
{
    *out = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (**p < '0' || **p > '9')
            return false;
        *out = *out * 10 + (**p - '0');
    }
    return true;
}

/* "YYYY-MM-DDTHH:MM:SS[.fff]Z" as epoch milliseconds, or -1: not that form,
 * a field out of its range (month 1-12, the month's days, 23:59:59), or a
 * year before 1970.  Digits of a fraction past the third are dropped. */
static int64_t parse_utc(const char *s)
{
    int y, mo, d, h, mi, sec, frac = 0;
    const char *p = s;
    if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' || !digits(&p, 2, &d) ||
        *p++ != 'T' || !digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi) || *p++ != ':' ||
        !digits(&p, 2, &sec))
        return -1;
    if (*p == '.') {
        int n = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, n++)
            if (n < 3)
                frac = frac * 10 + (*p - '0');
        if (n == 0)
            return -1;
        for (; n < 3; n++)
            frac *= 10;
    }
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (strcmp(p, "Z") != 0 || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap) ||
        h > 23 || mi > 59 || sec > 59)
        return -1;
    /* Days from 1970-01-01 to the date (the proleptic Gregorian calendar). */
    int64_t yy = y - (mo <= 2), era = yy / 400, yoe = yy - era * 400;
    int64_t doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t days = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
    return ((days * 24 + h) * 60 + mi) * 60000 + sec * 1000 + frac;
}

/* A time: epoch seconds (a number) or "YYYY-MM-DDTHH:MM:SS[.fff]Z", from
 * 1970 to the end of 9999 (any other number, 1e300 say, is refused: its
 * milliseconds would not fit an int64). */
static int parse_time(loader *ld, json_t *o, const char *key, int64_t *ms)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return 0;
    int64_t t = -1;
    if (json_is_number(v)) {
        double x = json_number_value(v);
        if (x >= 0 && x < (double)MAX_TIME_S + 1)
            t = (int64_t)(x * 1000.0 + 0.5); /* the nearest millisecond */
        if (t > MAX_TIME_S * 1000 + 999)
            t = MAX_TIME_S * 1000 + 999;
    } else if (json_is_string(v)) {
        t = parse_utc(json_string_value(v));
    }
    if (t >= 0) {
        *ms = t;
        return 0;
    }
    return refuse_at(ld, key,
                     "must be a time from 1970 to 9999: epoch seconds (0 to %lld) or UTC like \"2024-01-01T00:00:00Z\"",
                     (long long)MAX_TIME_S);
}

/* ---- calls on the scratch instance ---------------------------------------------- */

/* Runs an action on the scratch instance; on an error, refuses with ECR's
 * message at the caller's path, or at the member of `src` (the fixture
 * object the request was made from; may be NULL) that the error names. */
static int act(loader *ld, const char *action, json_t *req, json_t *src, json_t **out)
{
    json_t *resp = NULL;
    int status = req ? em_dispatch(ld->s, action, req, &resp, NULL) : -1;
    json_decref(req);
    if (status == 200) {
        if (out)
            *out = resp;
        else
            json_decref(resp);
        return 0;
    }
    if (status < 0)
        return refuse(ld, "out of memory");
    const char *msg = json_string_value(json_object_get(resp, "message"));
    if (!msg)
        msg = json_string_value(json_object_get(resp, "Message"));
    size_t n = strlen(ld->path);
    char member[64];
    if (src && msg && sscanf(msg, "Invalid parameter at '%63[^'.]", member) == 1) {
        /* Point at the fixture member the request member came from. */
        const char *key = strcmp(member, "repositoryName") == 0 ? "name" : member;
        if (json_object_get(src, key))
            push_key(ld, key);
    }
    refuse(ld, "%s: %s", json_string_value(json_object_get(resp, "__type")), msg ? msg : "");
    pop(ld, n);
    json_decref(resp);
    return -1;
}

/* Runs an action at virtual time `ms` (the time the action stamps on what it
 * makes: createdAt, updatedAt, lastArchivedAt...), then puts the scratch
 * clock back. */
static int act_at(loader *ld, int64_t ms, const char *action, json_t *req, json_t *src, json_t **out)
{
    int64_t saved = ld->s->clock_ms;
    ld->s->clock_ms = ms;
    int rc = act(ld, action, req, src, out);
    ld->s->clock_ms = saved;
    return rc;
}

/* ---- layers ---------------------------------------------------------------------- */

/* Deterministic bytes for {"size": n, "seed": s}: the splitmix64 sequence
 * from s, each number little-endian (bytes 8k to 8k+7 are its (k+1)th).
 * Faster than SHA-256 over the same bytes (about 0.8 s per GiB against 1.4
 * here), so that making a layer costs less than its digest. */
static void synth_fill(uint64_t seed, unsigned char *p, size_t n)
{
    uint64_t x = seed;
    for (size_t i = 0; i < n; i += 8) {
        uint64_t z = (x += UINT64_C(0x9E3779B97F4A7C15));
        z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
        z ^= z >> 31;
        if (n - i >= 8) {
            for (int b = 0; b < 8; b++)
                p[i + b] = (unsigned char)(z >> (8 * b));
        } else {
            for (size_t b = 0; b < n - i; b++)
                p[i + b] = (unsigned char)(z >> (8 * b));
        }
    }
}

/* {"size", "seed"}: the layer's digest in `digest`, its bytes in *bytes
 * (em_malloc'd; NULL when empty, or when this load made them already: the
 * blob store has them then).  Each (size, seed) is made once per load, and
 * what is made counts against the instance's max_synth_bytes. */
static int synth_layer(loader *ld, json_t *spec, unsigned char **bytes, size_t *len, char *digest)
{
    json_int_t n = json_integer_value(json_object_get(spec, "size"));
    if (n < 0 || n > MAX_SYNTH_BYTES) {
        return refuse_at(ld, "size", "must be 0 to %lld bytes", (long long)MAX_SYNTH_BYTES);
    }
    synth_key key = {(uint64_t)n, (uint64_t)json_integer_value(json_object_get(spec, "seed"))};
    *len = (size_t)n;
    synth_made *made = NULL;
    HASH_FIND(hh, ld->made, &key, sizeof key, made);
    if (made && em_blob_get(ld->s, made->digest)) {
        memcpy(digest, made->digest, ECRMOCK_DIGEST_SIZE);
        return 0;
    }
    uint64_t budget = ld->s->opts.max_synth_bytes;
    if (!made && key.size > budget - ld->synth_bytes) {
        return refuse_at(ld, "size",
                  "synthesising %llu more bytes would take this load past its budget of %llu synthesised bytes "
                  "(ecrmock_options.max_synth_bytes; %llu made so far)",
                  (unsigned long long)key.size, (unsigned long long)budget, (unsigned long long)ld->synth_bytes);
    }
    *bytes = n ? em_malloc(*len) : NULL;
    if (n && !*bytes)
        return refuse(ld, "out of memory");
    synth_fill(key.seed, *bytes, *len);
    em_sha256_digest(*bytes ? (const void *)*bytes : "", *len, digest);
    if (!made) {
        int oom = 0;
        made = em_calloc(1, sizeof *made);
        if (made) {
            made->key = key;
            memcpy(made->digest, digest, ECRMOCK_DIGEST_SIZE);
            HASH_ADD(hh, ld->made, key, sizeof key, made);
        }
        if (!made || oom) {
            em_free(made);
            em_free(*bytes);
            *bytes = NULL;
            return refuse(ld, "out of memory");
        }
        ld->synth_bytes += key.size;
    }
    return 0;
}

static void synth_forget(loader *ld)
{
    synth_made *made, *tmp;
    HASH_ITER(hh, ld->made, made, tmp) {
        HASH_DEL(ld->made, made);
        em_free(made);
    }
}

/* Reads a layer spec: {"text"}, {"base64"} or {"size", "seed"}; an optional
 * "digest" must be the bytes' digest.  Fills `digest` and *len, and *bytes
 * (em_malloc'd, or NULL: empty, or bytes this load synthesised already). */
static int layer_bytes(loader *ld, json_t *spec, unsigned char **bytes, size_t *len, char *digest)
{
    static const char *const allowed[] = {"text", "base64", "size", "seed", "digest", "mediaType", NULL};
    *bytes = NULL;
    *len = 0;
    if (!json_is_object(spec))
        return refuse(ld, "a layer must be an object with \"text\", \"base64\" or \"size\" and \"seed\"");
    if (only_members(ld, spec, allowed) < 0 || want_type(ld, spec, "text", JSON_STRING, "a string") < 0 ||
        want_type(ld, spec, "base64", JSON_STRING, "a string") < 0 ||
        want_type(ld, spec, "size", JSON_INTEGER, "an integer") < 0 ||
        want_type(ld, spec, "seed", JSON_INTEGER, "an integer") < 0 ||
        want_type(ld, spec, "digest", JSON_STRING, "a string") < 0 ||
        want_type(ld, spec, "mediaType", JSON_STRING, "a string") < 0)
        return -1;
    json_t *text = json_object_get(spec, "text"), *b64 = json_object_get(spec, "base64");
    json_t *size = json_object_get(spec, "size");
    if ((text != NULL) + (b64 != NULL) + (size != NULL) != 1)
        return refuse(ld, "a layer needs exactly one of \"text\", \"base64\" or \"size\" (with \"seed\")");
    if (text) {
        *len = json_string_length(text);
        *bytes = em_malloc(*len);
        if (!*bytes)
            return refuse(ld, "out of memory");
        memcpy(*bytes, json_string_value(text), *len);
    } else if (b64) {
        int r = em_unbase64(json_string_value(b64), json_string_length(b64), bytes, len);
        if (r == -1) {
            return refuse_at(ld, "base64", "is not standard padded base64");
        }
        if (r < 0)
            return refuse(ld, "out of memory");
    } else if (synth_layer(ld, spec, bytes, len, digest) < 0) {
        return -1;
    }
    if (!size)
        em_sha256_digest(*bytes ? (const void *)*bytes : "", *len, digest);
    const char *want = em_str(spec, "digest");
    if (want && strcmp(want, digest) != 0) {
        em_free(*bytes);
        *bytes = NULL;
        return refuse_at(ld, "digest", "does not match the layer's bytes, whose digest is %s", digest);
    }
    return 0;
}

/* Adds a layer to the repository; writes its digest into digest_out. */
static int add_layer(loader *ld, em_repo *repo, json_t *spec, char *digest_out)
{
    unsigned char *bytes;
    size_t len;
    if (layer_bytes(ld, spec, &bytes, &len, digest_out) < 0)
        return -1;
    em_layer *l = em_layer_add(ld->s, repo, digest_out, &bytes, len);
    em_free(bytes);
    if (!l)
        return refuse(ld, "out of memory");
    const char *mt = em_str(spec, "mediaType");
    if (mt && !l->media_type && !(l->media_type = em_strdup(mt)))
        return refuse(ld, "out of memory");
    return 0;
}

/* ---- images ------------------------------------------------------------------------ */

static int load_image(loader *ld, em_repo *repo, json_t *img, bool child, char *digest_out);

/* The profiles an image was signed with at push: ECR records them from the
 * registry's signing configuration of that moment, so the image is pushed
 * under a configuration of one rule per profile (every repository), put
 * before the push (`profiles`) and deleted after it (NULL).  The registry's
 * own configuration is set after every image is in. */
static int signing_for_push(loader *ld, em_repo *repo, json_t *profiles)
{
    size_t n = push_key(ld, "signingProfileArns");
    json_t *req = NULL;
    if (profiles) {
        json_t *rules = json_array();
        req = rules ? json_pack("{s:{s:o}}", "signingConfiguration", "rules", rules) : NULL;
        for (size_t i = 0; req && i < json_array_size(profiles); i++) {
            if (json_array_append_new(rules, json_pack("{s:O}", "signingProfileArn", json_array_get(profiles, i))) < 0) {
                json_decref(req);
                req = NULL;
            }
        }
    } else {
        req = json_object();
    }
    em_view view;
    int rc;
    if (em_view_enter(ld->s, repo->registry->id, NULL, &view) == 0) {
        rc = act(ld, profiles ? "PutSigningConfiguration" : "DeleteSigningConfiguration", req, NULL, NULL);
        em_view_leave(ld->s, &view);
    } else {
        json_decref(req);
        rc = refuse(ld, "out of memory");
    }
    pop(ld, n);
    return rc;
}

/* An image's replicationStatuses, as DescribeImageReplicationStatus shows
 * them ({"region", "registryId", "status", "failureCode"}): what its
 * replication rules did when it was pushed (the rules themselves are set
 * after every image, so a load copies nothing).  Stored as given, each in
 * that member order.  0, or -1 refused. */
static int load_replication_statuses(loader *ld, json_t *img, em_image *stored)
{
    static const char *const allowed[] = {"region", "registryId", "status", "failureCode", NULL};
    json_t *list = json_object_get(img, "replicationStatuses");
    if (!list)
        return 0;
    size_t n = push_key(ld, "replicationStatuses");
    if (!json_is_array(list))
        return refuse(ld, "must be a list of replication statuses");
    json_t *copy = json_array();
    if (!copy)
        return refuse(ld, "out of memory");
    for (size_t i = 0; i < json_array_size(list); i++) {
        size_t k = push_index(ld, i);
        json_t *st = json_array_get(list, i);
        const char *region = em_str(st, "region"), *id = em_str(st, "registryId"), *status = em_str(st, "status");
        json_t *code = json_object_get(st, "failureCode");
        int rc = 0;
        if (!json_is_object(st))
            rc = refuse(ld, "a replication status must be an object");
        else if (only_members(ld, st, allowed) < 0)
            rc = -1;
        else if (!region || !em_region_name_ok(region))
            rc = refuse_at(ld, "region", "must be a region name, like \"eu-west-1\"");
        else if (!id || !em_account_id_ok(id))
            rc = refuse_at(ld, "registryId", "must be a registry id of 12 digits");
        else if (!status || (strcmp(status, "COMPLETE") != 0 && strcmp(status, "FAILED") != 0 &&
                             strcmp(status, "IN_PROGRESS") != 0))
            rc = refuse_at(ld, "status", "must be \"COMPLETE\", \"FAILED\" or \"IN_PROGRESS\"");
        else if (code && !json_is_string(code))
            rc = refuse_at(ld, "failureCode", "must be a string");
        else if (json_array_append_new(copy, json_pack("{s:s, s:s, s:s, s:O*}", "region", region, "registryId", id,
                                                       "status", status, "failureCode", code)) < 0)
            rc = refuse(ld, "out of memory");
        if (rc < 0) {
            json_decref(copy);
            return -1;
        }
        pop(ld, k);
    }
    pop(ld, n);
    json_decref(stored->replication);
    stored->replication = json_array_size(copy) ? copy : NULL;
    if (!stored->replication)
        json_decref(copy);
    return 0;
}

/* Puts a manifest text with its tags, then sets the times. */
static int put_manifest(loader *ld, em_repo *repo, json_t *img, const char *text, const char *media_type,
                        char *digest_out)
{
    json_t *tags = json_object_get(img, "tags");
    const char *first = json_string_value(json_array_get(tags, 0));
    json_t *req = json_pack("{s:s, s:s, s:s, s:s*, s:s*}", "registryId", repo->registry->id, "repositoryName",
                            repo->name, "imageManifest", text, "imageManifestMediaType", media_type, "imageTag", first);
    json_t *out = NULL;
    json_t *profiles = json_object_get(img, "signingProfileArns");
    if (json_array_size(profiles) && signing_for_push(ld, repo, profiles) < 0) {
        json_decref(req);
        return -1;
    }
    if (act(ld, "PutImage", req, NULL, &out) < 0)
        return -1;
    if (json_array_size(profiles) && signing_for_push(ld, repo, NULL) < 0) {
        json_decref(out);
        return -1;
    }
    snprintf(digest_out, ECRMOCK_DIGEST_SIZE, "%s",
             json_string_value(json_object_get(json_object_get(json_object_get(out, "image"), "imageId"), "imageDigest")));
    json_decref(out);
    for (size_t i = 1; i < json_array_size(tags); i++) {
        size_t n = push_key(ld, "tags");
        size_t k = push_index(ld, i);
        req = json_pack("{s:s, s:s, s:s, s:s*, s:O}", "registryId", repo->registry->id, "repositoryName", repo->name,
                        "imageManifest", text, "imageManifestMediaType", media_type, "imageTag",
                        json_array_get(tags, i));
        int rc = act(ld, "PutImage", req, NULL, NULL);
        pop(ld, k);
        pop(ld, n);
        if (rc < 0)
            return -1;
    }
    em_image *stored = em_image_get(repo, digest_out);
    if (parse_time(ld, img, "pushedAt", &stored->pushed_at_ms) < 0 ||
        parse_time(ld, img, "lastRecordedPullTime", &stored->pulled_at_ms) < 0 ||
        load_replication_statuses(ld, img, stored) < 0)
        return -1;
    const char *want = em_str(img, "digest");
    if (want && strcmp(want, digest_out) != 0) {
        size_t n = push_key(ld, "digest");
        refuse(ld, "does not match the manifest's bytes, whose digest is %s", digest_out);
        pop(ld, n);
        return -1;
    }
    return 0;
}

static char *dump_compact(json_t *doc)
{
    char *s = json_dumps(doc, JSON_COMPACT);
    char *copy = s ? em_strdup(s) : NULL;
    em_json_free(s);
    return copy;
}

/* A compact image: layers (and a config) synthesised, then a manifest. */
static int synth_image(loader *ld, em_repo *repo, json_t *img, bool oci, char *digest_out)
{
    json_t *layers = json_object_get(img, "layers");
    json_t *platform = json_object_get(img, "platform");
    json_t *descs = json_array();
    json_t *diff_ids = descs ? json_array() : NULL;
    int rc = -1;
    char *text = NULL;
    json_t *config = NULL, *manifest = NULL;
    if (!descs || !diff_ids) {
        refuse(ld, "out of memory");
        goto out;
    }
    size_t n = push_key(ld, "layers");
    for (size_t i = 0; i < json_array_size(layers); i++) {
        size_t k = push_index(ld, i);
        json_t *spec = json_array_get(layers, i);
        char digest[ECRMOCK_DIGEST_SIZE];
        int r = add_layer(ld, repo, spec, digest);
        pop(ld, k);
        if (r < 0) {
            pop(ld, n);
            goto out;
        }
        em_layer *l = em_layer_get(repo, digest);
        const char *mt = em_str(spec, "mediaType");
        json_array_append_new(descs, json_pack("{s:s, s:I, s:s}", "mediaType",
                                               mt ? mt : oci ? MT_OCI_LAYER : MT_DOCKER_LAYER, "size",
                                               (json_int_t)l->blob->len, "digest", digest));
        json_array_append_new(diff_ids, json_string(digest));
    }
    pop(ld, n);
    config = json_object_get(img, "config");
    if (config)
        json_incref(config);
    else
        config = json_pack("{s:s, s:s, s:{s:s, s:O}}", "architecture",
                           platform ? em_str(platform, "architecture") ? em_str(platform, "architecture") : "amd64"
                                    : "amd64",
                           "os", platform && em_str(platform, "os") ? em_str(platform, "os") : "linux", "rootfs", "type",
                           "layers", "diff_ids", diff_ids);
    text = config ? dump_compact(config) : NULL;
    if (!text) {
        refuse(ld, "out of memory");
        goto out;
    }
    char config_digest[ECRMOCK_DIGEST_SIZE];
    json_t *spec = json_pack("{s:s}", "text", text);
    int r = spec ? add_layer(ld, repo, spec, config_digest) : refuse(ld, "out of memory");
    json_decref(spec);
    if (r < 0)
        goto out;
    manifest = json_pack("{s:i, s:s, s:{s:s, s:I, s:s}, s:O}", "schemaVersion", 2, "mediaType",
                         oci ? MT_OCI_MANIFEST : MT_DOCKER_V2, "config", "mediaType",
                         oci ? MT_OCI_CONFIG : MT_DOCKER_CONFIG, "size", (json_int_t)strlen(text), "digest",
                         config_digest, "layers", descs);
    em_free(text);
    text = manifest ? dump_compact(manifest) : NULL;
    if (!text) {
        refuse(ld, "out of memory");
        goto out;
    }
    rc = put_manifest(ld, repo, img, text, NULL, digest_out);
out:
    em_free(text);
    json_decref(config);
    json_decref(manifest);
    json_decref(descs);
    json_decref(diff_ids);
    return rc;
}

/* A multi-arch image: each platform's image, untagged, then the list/index. */
static int synth_index(loader *ld, em_repo *repo, json_t *img, bool oci, char *digest_out)
{
    json_t *children = json_object_get(img, "manifests");
    json_t *descs = json_array();
    if (!descs)
        return refuse(ld, "out of memory");
    size_t n = push_key(ld, "manifests");
    for (size_t i = 0; i < json_array_size(children); i++) {
        size_t k = push_index(ld, i);
        json_t *child = json_array_get(children, i);
        char digest[ECRMOCK_DIGEST_SIZE];
        if (load_image(ld, repo, child, true, digest) < 0) {
            json_decref(descs);
            return -1;
        }
        pop(ld, k);
        em_image *ci = em_image_get(repo, digest);
        json_t *d = json_pack("{s:s, s:I, s:s}", "mediaType", ci->media_type, "size", (json_int_t)ci->manifest_len,
                              "digest", digest);
        json_t *platform = json_object_get(child, "platform");
        if (json_array_append_new(descs, d) < 0 || (platform && json_object_set(d, "platform", platform) < 0)) {
            json_decref(descs);
            return refuse(ld, "out of memory");
        }
    }
    pop(ld, n);
    json_t *list = json_pack("{s:i, s:s, s:o}", "schemaVersion", 2, "mediaType", oci ? MT_OCI_INDEX : MT_DOCKER_LIST,
                             "manifests", descs);
    char *text = list ? dump_compact(list) : NULL;
    json_decref(list);
    if (!text)
        return refuse(ld, "out of memory");
    int rc = put_manifest(ld, repo, img, text, NULL, digest_out);
    em_free(text);
    return rc;
}

static int load_image(loader *ld, em_repo *repo, json_t *img, bool child, char *digest_out)
{
    static const char *const allowed[] = {"manifest", "mediaType", "digest", "tags", "pushedAt",
                                          "lastRecordedPullTime", "format", "layers", "config", "platform",
                                          "manifests", "signingProfileArns", "imageStatus", "lastArchivedAt",
                                          "lastActivatedAt", "replicationStatuses", NULL};
    if (!json_is_object(img))
        return refuse(ld, "an image must be an object");
    if (only_members(ld, img, allowed) < 0 || want_type(ld, img, "mediaType", JSON_STRING, "a string") < 0 ||
        want_type(ld, img, "digest", JSON_STRING, "a string") < 0 ||
        want_type(ld, img, "tags", JSON_ARRAY, "a list of tags") < 0 ||
        want_type(ld, img, "format", JSON_STRING, "\"docker\" or \"oci\"") < 0 ||
        want_type(ld, img, "layers", JSON_ARRAY, "a list of layers") < 0 ||
        want_type(ld, img, "config", JSON_OBJECT, "an object") < 0 ||
        want_type(ld, img, "platform", JSON_OBJECT, "an object") < 0 ||
        want_type(ld, img, "manifests", JSON_ARRAY, "a list of images") < 0 ||
        want_type(ld, img, "signingProfileArns", JSON_ARRAY, "a list of signing profile ARNs") < 0)
        return -1;
    if (child && (json_object_get(img, "imageStatus") || json_object_get(img, "lastArchivedAt") ||
                  json_object_get(img, "lastActivatedAt")))
        return refuse(ld, "the images of a multi-arch image move with it: give the list its storage state");
    json_t *tags = json_object_get(img, "tags");
    for (size_t i = 0; i < json_array_size(tags); i++) {
        if (!json_is_string(json_array_get(tags, i))) {
            size_t n = push_key(ld, "tags");
            size_t k = push_index(ld, i);
            refuse(ld, "must be a string");
            pop(ld, k);
            pop(ld, n);
            return -1;
        }
    }
    if (child && json_array_size(tags))
        return refuse(ld, "the images of a multi-arch image are untagged: tag the list");
    json_t *manifest = json_object_get(img, "manifest");
    json_t *layers = json_object_get(img, "layers"), *children = json_object_get(img, "manifests");
    if ((manifest != NULL) + (layers != NULL) + (children != NULL) != 1)
        return refuse(ld, "an image needs exactly one of \"manifest\", \"layers\" or \"manifests\"");
    const char *format = em_str(img, "format");
    if (format && strcmp(format, "docker") != 0 && strcmp(format, "oci") != 0) {
        size_t n = push_key(ld, "format");
        refuse(ld, "must be \"docker\" or \"oci\"");
        pop(ld, n);
        return -1;
    }
    bool oci = format && strcmp(format, "oci") == 0;
    if (layers)
        return synth_image(ld, repo, img, oci, digest_out);
    if (children)
        return synth_index(ld, repo, img, oci, digest_out);
    if (!json_is_string(manifest) && !json_is_object(manifest)) {
        size_t n = push_key(ld, "manifest");
        refuse(ld, "must be the manifest's text, or the manifest as an object");
        pop(ld, n);
        return -1;
    }
    char *text = json_is_string(manifest) ? em_strndup(json_string_value(manifest), json_string_length(manifest))
                                           : dump_compact(manifest);
    if (!text)
        return refuse(ld, "out of memory");
    int rc = put_manifest(ld, repo, img, text, em_str(img, "mediaType"), digest_out);
    em_free(text);
    return rc;
}

/* ---- storage classes -------------------------------------------------------------------- */

/* One UpdateImageStorageClass (or re-push) the storage state of an image
 * needs, at its time. */
typedef struct storage_step {
    int64_t at;
    size_t image, order;
    enum { STEP_ARCHIVE, STEP_RESTORE, STEP_REPUSH } kind;
} storage_step;

static void add_step(storage_step *steps, size_t *n, int64_t at, size_t image, int kind)
{
    steps[*n] = (storage_step){at, image, *n, kind};
    ++*n;
}

static int step_cmp(const void *a, const void *b)
{
    const storage_step *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* What an image's storage members ask for: imageStatus (default ACTIVE),
 * lastArchivedAt and lastActivatedAt (0: absent).  0: none given; 1: read;
 * -1: refused. */
static int storage_target(loader *ld, json_t *img, const char **status, int64_t *archived, int64_t *activated)
{
    json_t *st = json_object_get(img, "imageStatus");
    *status = "ACTIVE";
    *archived = *activated = 0;
    if (!st && !json_object_get(img, "lastArchivedAt") && !json_object_get(img, "lastActivatedAt"))
        return 0;
    if (st) {
        *status = json_string_value(st);
        if (!*status || (strcmp(*status, "ACTIVE") != 0 && strcmp(*status, "ARCHIVED") != 0 &&
                         strcmp(*status, "ACTIVATING") != 0)) {
            size_t n = push_key(ld, "imageStatus");
            refuse(ld, "must be \"ACTIVE\", \"ARCHIVED\" or \"ACTIVATING\"");
            pop(ld, n);
            return -1;
        }
    }
    if (parse_time(ld, img, "lastArchivedAt", archived) < 0 || parse_time(ld, img, "lastActivatedAt", activated) < 0)
        return -1;
    if (strcmp(*status, "ARCHIVED") == 0 && !*archived)
        *archived = ld->s->clock_ms;
    return 1;
}

/*
 * The images' storage classes, through UpdateImageStorageClass, as a client
 * would have moved them, every call at the time the state says:
 *   - lastActivatedAt V: the latest restore was asked for at V - 20 minutes,
 *     after an archive (at lastArchivedAt when the image is not archived
 *     now and that came first); when lastArchivedAt falls inside those 20
 *     minutes, the image was pushed again at V (which restores at once);
 *   - ARCHIVED: archived at lastArchivedAt (default: the clock).
 * The calls of every image run in time order.  An image a manifest list
 * references moves with the list (ECR refuses to move it alone): it makes
 * no call of its own.  Last, each image's state must be the one asked for:
 * a state no calls reach is refused.
 */
static int load_storage(loader *ld, em_repo *repo, json_t *images, char (*digests)[ECRMOCK_DIGEST_SIZE])
{
    size_t n = json_array_size(images), n_steps = 0;
    storage_step *steps = n ? em_calloc(3 * n, sizeof *steps) : NULL;
    if (n && !steps)
        return refuse(ld, "out of memory");
    int rc = 0;
    size_t p = push_key(ld, "images");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const char *status;
        int64_t a, v;
        size_t k = push_index(ld, i);
        int got = storage_target(ld, json_array_get(images, i), &status, &a, &v);
        pop(ld, k);
        if (got < 0)
            rc = -1;
        em_image *img = em_image_get(repo, digests[i]);
        if (got <= 0 || !img || img->parents)
            continue;
        bool archived_now = strcmp(status, "ARCHIVED") == 0;
        if (v) {
            int64_t asked = v - EM_RESTORE_MS;
            if (!archived_now && a && a > asked && a <= v) {
                add_step(steps, &n_steps, a, i, STEP_ARCHIVE);
                add_step(steps, &n_steps, v, i, STEP_REPUSH);
            } else {
                add_step(steps, &n_steps, !archived_now && a ? a : asked, i, STEP_ARCHIVE);
                add_step(steps, &n_steps, asked, i, STEP_RESTORE);
            }
        }
        if (archived_now || (a && !v))
            add_step(steps, &n_steps, a, i, STEP_ARCHIVE);
    }
    if (n_steps)
        qsort(steps, n_steps, sizeof *steps, step_cmp);
    for (size_t s = 0; rc == 0 && s < n_steps; s++) {
        em_image *img = em_image_get(repo, digests[steps[s].image]);
        json_t *req = steps[s].kind == STEP_REPUSH
                          ? json_pack("{s:s, s:s, s:s%, s:s}", "registryId", repo->registry->id, "repositoryName",
                                      repo->name, "imageManifest", img->manifest, img->manifest_len,
                                      "imageManifestMediaType", img->media_type)
                          : json_pack("{s:s, s:s, s:{s:s}, s:s}", "registryId", repo->registry->id, "repositoryName",
                                      repo->name, "imageId", "imageDigest", img->digest, "targetStorageClass",
                                      steps[s].kind == STEP_ARCHIVE ? "ARCHIVE" : "STANDARD");
        size_t k = push_index(ld, steps[s].image);
        rc = act_at(ld, steps[s].at, steps[s].kind == STEP_REPUSH ? "PutImage" : "UpdateImageStorageClass", req, NULL,
                    NULL);
        pop(ld, k);
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const char *status;
        int64_t a, v;
        if (storage_target(ld, json_array_get(images, i), &status, &a, &v) <= 0)
            continue;
        em_image *img = em_image_get(repo, digests[i]);
        const char *got = img ? em_image_status(ld->s, img) : "no image";
        if (!img || strcmp(got, status) != 0 || img->archived_at_ms != a || img->activated_at_ms != v) {
            size_t k = push_index(ld, i);
            rc = refuse(ld, "imageStatus %s, lastArchivedAt and lastActivatedAt: no UpdateImageStorageClass calls "
                            "reach this state (they give %s)",
                        status, got);
            pop(ld, k);
        }
    }
    if (rc == 0)
        pop(ld, p);
    em_free(steps);
    return rc;
}

/* ---- repositories and registries ------------------------------------------------------ */

static int load_repository(loader *ld, const char *registry_id, json_t *r)
{
    static const char *const allowed[] = {"name", "createdAt", "imageTagMutability",
                                          "imageTagMutabilityExclusionFilters", "imageScanningConfiguration",
                                          "encryptionConfiguration", "tags", "policy", "lifecyclePolicy", "layers",
                                          "images", NULL};
    if (!json_is_object(r))
        return refuse(ld, "a repository must be an object");
    if (only_members(ld, r, allowed) < 0)
        return -1;
    if (!json_is_string(json_object_get(r, "name"))) {
        size_t n = push_key(ld, "name");
        refuse(ld, "is required: the repository's name");
        pop(ld, n);
        return -1;
    }
    if (want_type(ld, r, "layers", JSON_ARRAY, "a list of layers") < 0 ||
        want_type(ld, r, "images", JSON_ARRAY, "a list of images") < 0)
        return -1;
    json_t *req = json_pack("{s:s, s:O}", "registryId", registry_id, "repositoryName", json_object_get(r, "name"));
    static const char *const settings[] = {"imageTagMutability", "imageTagMutabilityExclusionFilters",
                                           "imageScanningConfiguration", "encryptionConfiguration", "tags"};
    for (size_t i = 0; req && i < sizeof settings / sizeof settings[0]; i++) {
        json_t *v = json_object_get(r, settings[i]);
        if (v && json_object_set(req, settings[i], v) < 0) {
            json_decref(req);
            req = NULL;
        }
    }
    int64_t created = ld->s->clock_ms;
    if (parse_time(ld, r, "createdAt", &created) < 0) {
        json_decref(req);
        return -1;
    }
    if (act(ld, "CreateRepository", req, r, NULL) < 0)
        return -1;
    em_repo *repo = em_repo_get(em_registry_get(ld->s, registry_id), json_string_value(json_object_get(r, "name")));
    repo->created_ms = created;

    static const struct {
        const char *member, *action, *request_member;
    } policies[] = {{"policy", "SetRepositoryPolicy", "policyText"},
                    {"lifecyclePolicy", "PutLifecyclePolicy", "lifecyclePolicyText"}};
    for (size_t i = 0; i < sizeof policies / sizeof policies[0]; i++) {
        json_t *policy = json_object_get(r, policies[i].member);
        if (!policy)
            continue;
        size_t n = push_key(ld, policies[i].member);
        char *text = json_is_string(policy) ? em_strdup(json_string_value(policy))
                                            : json_is_object(policy) ? dump_compact(policy) : NULL;
        int rc = text ? act(ld, policies[i].action,
                            json_pack("{s:s, s:s, s:s}", "registryId", registry_id, "repositoryName", repo->name,
                                      policies[i].request_member, text),
                            NULL, NULL)
                      : refuse(ld, "must be the policy's text, or the policy as an object");
        em_free(text);
        pop(ld, n);
        if (rc < 0)
            return -1;
    }
    json_t *layers = json_object_get(r, "layers");
    size_t n = push_key(ld, "layers");
    for (size_t i = 0; i < json_array_size(layers); i++) {
        size_t k = push_index(ld, i);
        char digest[ECRMOCK_DIGEST_SIZE];
        if (add_layer(ld, repo, json_array_get(layers, i), digest) < 0)
            return -1;
        pop(ld, k);
    }
    pop(ld, n);
    json_t *images = json_object_get(r, "images");
    size_t n_images = json_array_size(images);
    char(*digests)[ECRMOCK_DIGEST_SIZE] = n_images ? em_calloc(n_images, sizeof *digests) : NULL;
    if (n_images && !digests)
        return refuse(ld, "out of memory");
    n = push_key(ld, "images");
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n_images; i++) {
        size_t k = push_index(ld, i);
        rc = load_image(ld, repo, json_array_get(images, i), false, digests[i]);
        if (rc == 0)
            pop(ld, k);
    }
    if (rc == 0) {
        pop(ld, n);
        rc = load_storage(ld, repo, images, digests);
    }
    em_free(digests);
    return rc;
}

/* createdAt and updatedAt of a rule or template (default: the clock, and
 * createdAt); an update cannot come before the creation. */
static int parse_created_updated(loader *ld, json_t *o, int64_t *created, int64_t *updated)
{
    *created = ld->s->clock_ms;
    if (parse_time(ld, o, "createdAt", created) < 0)
        return -1;
    *updated = *created;
    if (parse_time(ld, o, "updatedAt", updated) < 0)
        return -1;
    if (*updated < *created) {
        size_t n = push_key(ld, "updatedAt");
        refuse(ld, "must not be before createdAt");
        pop(ld, n);
        return -1;
    }
    return 0;
}

/* The request for a Create action: the fixture object without its times. */
static json_t *without_times(json_t *o)
{
    json_t *req = json_deep_copy(o);
    if (req) {
        json_object_del(req, "createdAt");
        json_object_del(req, "updatedAt");
    }
    return req;
}

/* A pull-through cache rule, as DescribePullThroughCacheRules shows it:
 * CreatePullThroughCacheRule at createdAt, and, when updatedAt is later,
 * UpdatePullThroughCacheRule with the same credentials at updatedAt (ECR
 * updates only credentials, so a rule without any is never updated). */
static int load_ptc_rule(loader *ld, json_t *rule)
{
    static const char *const allowed[] = {"ecrRepositoryPrefix", "upstreamRegistryUrl", "upstreamRegistry",
                                          "credentialArn", "customRoleArn", "upstreamRepositoryPrefix",
                                          "createdAt", "updatedAt", NULL};
    int64_t created, updated;
    if (!json_is_object(rule))
        return refuse(ld, "a pull through cache rule must be an object");
    if (only_members(ld, rule, allowed) < 0 || parse_created_updated(ld, rule, &created, &updated) < 0 ||
        act_at(ld, created, "CreatePullThroughCacheRule", without_times(rule), rule, NULL) < 0)
        return -1;
    if (updated == created)
        return 0;
    size_t n = push_key(ld, "updatedAt");
    int rc = act_at(ld, updated, "UpdatePullThroughCacheRule",
                    json_pack("{s:O, s:O*, s:O*}", "ecrRepositoryPrefix", json_object_get(rule, "ecrRepositoryPrefix"),
                              "credentialArn", json_object_get(rule, "credentialArn"), "customRoleArn",
                              json_object_get(rule, "customRoleArn")),
                    NULL, NULL);
    pop(ld, n);
    return rc;
}

/* A repository creation template, as DescribeRepositoryCreationTemplates
 * shows it (policies may also be objects): CreateRepositoryCreationTemplate
 * at createdAt, and an UpdateRepositoryCreationTemplate that changes
 * nothing at updatedAt when that is later. */
static int load_template(loader *ld, json_t *t)
{
    static const char *const allowed[] = {"prefix", "description", "encryptionConfiguration", "resourceTags",
                                          "imageTagMutability", "imageTagMutabilityExclusionFilters",
                                          "repositoryPolicy", "lifecyclePolicy", "appliedFor", "customRoleArn",
                                          "createdAt", "updatedAt", NULL};
    static const char *const policies[] = {"repositoryPolicy", "lifecyclePolicy"};
    int64_t created, updated;
    if (!json_is_object(t))
        return refuse(ld, "a repository creation template must be an object");
    if (only_members(ld, t, allowed) < 0 || parse_created_updated(ld, t, &created, &updated) < 0)
        return -1;
    json_t *req = without_times(t);
    for (size_t i = 0; req && i < sizeof policies / sizeof policies[0]; i++) {
        json_t *v = json_object_get(req, policies[i]);
        char *text = json_is_object(v) ? dump_compact(v) : NULL;
        if (json_is_object(v) && (!text || em_set(req, policies[i], json_string(text)) < 0)) {
            json_decref(req);
            req = NULL;
        }
        em_free(text);
    }
    if (act_at(ld, created, "CreateRepositoryCreationTemplate", req, t, NULL) < 0)
        return -1;
    if (updated == created)
        return 0;
    size_t n = push_key(ld, "updatedAt");
    int rc = act_at(ld, updated, "UpdateRepositoryCreationTemplate",
                    json_pack("{s:O}", "prefix", json_object_get(t, "prefix")), NULL, NULL);
    pop(ld, n);
    return rc;
}

/* A pull time update exclusion: the principal's ARN. */
static int load_exclusion(loader *ld, json_t *arn)
{
    return act(ld, "RegisterPullTimeUpdateExclusion", json_pack("{s:O}", "principalArn", arn), NULL, NULL);
}

/* Each item of the list `member` of `o` (absent: none) through `one`. */
static int load_list(loader *ld, json_t *o, const char *member, const char *noun, int (*one)(loader *, json_t *))
{
    json_t *list = json_object_get(o, member);
    if (!list)
        return 0;
    size_t n = push_key(ld, member);
    if (!json_is_array(list))
        return refuse(ld, "must be %s", noun);
    for (size_t i = 0; i < json_array_size(list); i++) {
        size_t k = push_index(ld, i);
        if (one(ld, json_array_get(list, i)) < 0)
            return -1;
        pop(ld, k);
    }
    pop(ld, n);
    return 0;
}

/* {"BLOB_MOUNTING": "ENABLED", ...}: PutAccountSetting for each, in order. */
static int load_account_settings(loader *ld, json_t *reg)
{
    json_t *settings = json_object_get(reg, "accountSettings");
    if (!settings)
        return 0;
    size_t n = push_key(ld, "accountSettings");
    if (!json_is_object(settings))
        return refuse(ld, "must be an object of setting names and values");
    const char *name;
    json_t *value;
    json_object_foreach(settings, name, value) {
        size_t k = push_key(ld, name);
        if (!json_is_string(value))
            return refuse(ld, "must be a string");
        if (act(ld, "PutAccountSetting", json_pack("{s:s, s:O}", "name", name, "value", value), NULL, NULL) < 0)
            return -1;
        pop(ld, k);
    }
    pop(ld, n);
    return 0;
}

/* A registry's settings, set through their actions as the registry's own
 * account (they take no registryId): its policy, replication and scanning
 * configurations, account settings, signing configuration, pull time
 * update exclusions, pull-through cache rules and repository creation
 * templates. */
static int load_registry_settings_here(loader *ld, json_t *reg)
{
    static const struct {
        const char *member, *action, *request_member;
        bool text; /* the request member is a policy text */
    } settings[] = {{"policy", "PutRegistryPolicy", "policyText", true},
                    {"replicationConfiguration", "PutReplicationConfiguration", "replicationConfiguration", false},
                    {"scanningConfiguration", "PutRegistryScanningConfiguration", NULL, false},
                    {"signingConfiguration", "PutSigningConfiguration", "signingConfiguration", false}};
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
        json_t *v = json_object_get(reg, settings[i].member);
        if (!v)
            continue;
        size_t n = push_key(ld, settings[i].member);
        json_t *req = NULL;
        if (settings[i].text) {
            char *text = json_is_string(v) ? em_strdup(json_string_value(v)) : json_is_object(v) ? dump_compact(v) : NULL;
            req = text ? json_pack("{s:s}", settings[i].request_member, text) : NULL;
            em_free(text);
            if (!req)
                return refuse(ld, "must be the policy's text, or the policy as an object");
        } else if (!json_is_object(v)) {
            return refuse(ld, "must be an object");
        } else {
            /* the scanning configuration's members are the request's own */
            req = settings[i].request_member ? json_pack("{s:O}", settings[i].request_member, v) : json_deep_copy(v);
        }
        if (act(ld, settings[i].action, req, NULL, NULL) < 0)
            return -1;
        pop(ld, n);
    }
    if (load_account_settings(ld, reg) < 0 ||
        load_list(ld, reg, "pullTimeUpdateExclusions", "a list of principal ARNs", load_exclusion) < 0 ||
        load_list(ld, reg, "pullThroughCacheRules", "a list of pull through cache rules", load_ptc_rule) < 0 ||
        load_list(ld, reg, "repositoryCreationTemplates", "a list of repository creation templates", load_template) < 0)
        return -1;
    return 0;
}

static int load_registry_settings(loader *ld, json_t *reg)
{
    em_view view;
    if (em_view_enter(ld->s, em_str(reg, "id"), NULL, &view) < 0)
        return refuse(ld, "out of memory");
    int rc = load_registry_settings_here(ld, reg);
    em_view_leave(ld->s, &view);
    return rc;
}

/* The repositories of the registries `regs` (the path is at them) of the
 * current region: each registry is made in the fixture's order, then its
 * repositories.  `home`: the instance's own region. */
static int load_registries(loader *ld, json_t *regs, bool home)
{
    static const char *const reg_allowed[] = {"id", "repositories", "policy", "replicationConfiguration",
                                              "scanningConfiguration", "accountSettings", "signingConfiguration",
                                              "pullTimeUpdateExclusions", "pullThroughCacheRules",
                                              "repositoryCreationTemplates", NULL};
    for (size_t i = 0; i < json_array_size(regs); i++) {
        size_t k = push_index(ld, i);
        json_t *reg = json_array_get(regs, i);
        if (!json_is_object(reg))
            return refuse(ld, "a registry must be an object");
        if (only_members(ld, reg, reg_allowed) < 0 || want_type(ld, reg, "id", JSON_STRING, "a string") < 0 ||
            want_type(ld, reg, "repositories", JSON_ARRAY, "a list of repositories") < 0)
            return -1;
        if (!home && json_object_get(reg, "scanningConfiguration"))
            return refuse_at(ld, "scanningConfiguration",
                             "the scanning configuration is the instance's own: give it in $.registries");
        const char *id = em_str(reg, "id");
        if (id && !em_account_id_ok(id))
            return refuse_at(ld, "id", "must be a registry id of 12 digits");
        /* In the fixture's order (a registry of settings only, too), so
         * that a snapshot lists them as its fixture did. */
        if (!em_registry_ensure(ld->s, id ? id : ld->s->account))
            return refuse(ld, "out of memory");
        json_t *repos = json_object_get(reg, "repositories");
        size_t r = push_key(ld, "repositories");
        for (size_t j = 0; j < json_array_size(repos); j++) {
            size_t q = push_index(ld, j);
            if (load_repository(ld, id ? id : ld->s->account, json_array_get(repos, j)) < 0)
                return -1;
            pop(ld, q);
        }
        pop(ld, r);
        pop(ld, k);
    }
    return 0;
}

/* The settings of the registries `regs` of the current region. */
static int load_settings(loader *ld, json_t *regs, bool home)
{
    (void)home;
    for (size_t i = 0; i < json_array_size(regs); i++) {
        size_t k = push_index(ld, i);
        if (load_registry_settings(ld, json_array_get(regs, i)) < 0)
            return -1;
        pop(ld, k);
    }
    /* A registry the fixture names but gives nothing stays unmade. */
    em_registry *r, *tmp;
    HASH_ITER(hh, ld->s->registries, r, tmp) em_registry_drop_if_empty(ld->s, r);
    return 0;
}

/* Checks the fixture's "regions": a list of {"name", "registries"}, each a
 * region ecrmock_call_as() can name, given once, not the instance's own. */
static int check_regions(loader *ld, json_t *regions)
{
    static const char *const allowed[] = {"name", "registries", NULL};
    size_t n = push_key(ld, "regions");
    if (regions && !json_is_array(regions))
        return refuse(ld, "must be a list of regions");
    for (size_t i = 0; i < json_array_size(regions); i++) {
        size_t k = push_index(ld, i);
        json_t *rg = json_array_get(regions, i);
        if (!json_is_object(rg))
            return refuse(ld, "a region must be an object: {\"name\": \"eu-west-1\", \"registries\": [...]}");
        if (only_members(ld, rg, allowed) < 0 ||
            want_type(ld, rg, "registries", JSON_ARRAY, "a list of registries") < 0)
            return -1;
        const char *name = em_str(rg, "name");
        size_t p = push_key(ld, "name");
        if (!name || !em_region_name_ok(name))
            return refuse(ld, "must be a region name of 1 to 63 characters of a-z, 0-9 and '-', like \"eu-west-1\"");
        if (strcmp(name, ld->s->region) == 0)
            return refuse(ld, "is the instance's own region: give its registries in $.registries");
        for (size_t j = 0; j < i; j++)
            if (strcmp(name, em_str(json_array_get(regions, j), "name")) == 0)
                return refuse(ld, "%s is given twice", name);
        pop(ld, p);
        pop(ld, k);
    }
    pop(ld, n);
    return 0;
}

/* Runs `pass` over the registries of the instance's own region ("registries"),
 * then over those of each region of "regions", in that region's view. */
static int each_region(loader *ld, json_t *fx, int (*pass)(loader *, json_t *, bool))
{
    size_t n = push_key(ld, "registries");
    if (pass(ld, json_object_get(fx, "registries"), true) < 0)
        return -1;
    pop(ld, n);
    json_t *regions = json_object_get(fx, "regions");
    n = push_key(ld, "regions");
    for (size_t i = 0; i < json_array_size(regions); i++) {
        size_t k = push_index(ld, i);
        json_t *rg = json_array_get(regions, i);
        em_view view;
        if (em_view_enter(ld->s, NULL, em_str(rg, "name"), &view) < 0)
            return refuse(ld, "out of memory");
        size_t q = push_key(ld, "registries");
        int rc = pass(ld, json_object_get(rg, "registries"), false);
        em_view_leave(ld->s, &view);
        if (rc < 0)
            return -1;
        pop(ld, q);
        pop(ld, k);
    }
    pop(ld, n);
    return 0;
}

static int load(loader *ld, json_t *fx)
{
    static const char *const allowed[] = {"$schema", "description", "clock", "faults", "registries", "regions", NULL};
    snprintf(ld->path, sizeof ld->path, "$");
    if (!json_is_object(fx))
        return refuse(ld, "a fixture must be a JSON object");
    if (only_members(ld, fx, allowed) < 0 || want_type(ld, fx, "registries", JSON_ARRAY, "a list of registries") < 0 ||
        want_type(ld, fx, "faults", JSON_ARRAY, "a list of fault rules") < 0 ||
        check_regions(ld, json_object_get(fx, "regions")) < 0 || parse_time(ld, fx, "clock", &ld->s->clock_ms) < 0)
        return -1;
    /* Registry settings last, once every image of every region is in: a
     * replication rule must not copy the fixture's images (a snapshot holds
     * the copies). */
    if (each_region(ld, fx, load_registries) < 0 || each_region(ld, fx, load_settings) < 0)
        return -1;
    json_t *faults = json_object_get(fx, "faults");
    size_t n = push_key(ld, "faults");
    for (size_t i = 0; i < json_array_size(faults); i++) {
        size_t k = push_index(ld, i);
        char *why = NULL;
        if (ecrmock_fault_add_json(ld->s, json_array_get(faults, i), &why) < 0) {
            /* "fault rule: probability must be ..." -> the rule part only */
            const char *text = why && strncmp(why, "fault rule: ", 12) == 0 ? why + 12 : why;
            refuse(ld, "%s", text ? text : "out of memory");
            em_free(why);
            return -1;
        }
        pop(ld, k);
    }
    pop(ld, n);
    return 0;
}

/* Moves the scratch instance's state into m, and m's old state into the
 * scratch instance (to be freed with it): the registries of every region
 * and the layer store they share, whatever view m is in (a hook inside
 * ecrmock_call_as may load a fixture).  -1 when out of memory, with nothing
 * changed. */
static int swap_state(ecrmock *m, ecrmock *s)
{
    if (em_view_mirror(s, m) < 0)
        return -1;
#define SWAP(field)                  \
    do {                             \
        __typeof__(m->field) t_ = m->field; \
        m->field = s->field;         \
        s->field = t_;               \
    } while (0)
    SWAP(registries);
    SWAP(regions);
    SWAP(blobs);
    SWAP(faults);
    SWAP(fault_ids);
    SWAP(scan_config);
#undef SWAP
    m->clock_ms = s->clock_ms;
    if (s->seq > m->seq)
        m->seq = s->seq;
    return 0;
}

int ecrmock_fixture_load(ecrmock *m, json_t *fixture, const char *source, char **err)
{
    if (err)
        *err = NULL;
    if (!m)
        return -1;
    /* m->opts never changes: its account and region are the instance's own,
     * not those of a view ecrmock_call_as() has open on another thread or
     * around a hook calling this. */
    ecrmock *s = ecrmock_new(&m->opts);
    if (!s) {
        if (err)
            *err = em_strdup("out of memory");
        return -1;
    }
    s->journal_on = false;
    em_lock(m);
    s->clock_ms = m->clock_ms;
    s->seq = m->seq; /* new items sort after any page token the instance handed out */
    s->fault_ids = m->fault_ids; /* and the fixture's rules never take an id handed out before */
    em_unlock(m);
    loader ld = {.s = s, .source = source};
    int rc = load(&ld, fixture);
    if (rc == 0) {
        em_lock(m);
        rc = swap_state(m, s);
        em_unlock(m);
        if (rc < 0 && !ld.err)
            ld.err = em_strdup("out of memory");
    }
    synth_forget(&ld);
    if (err)
        *err = ld.err;
    else
        em_free(ld.err);
    ecrmock_free(s);
    return rc;
}

int ecrmock_fixture_load_string(ecrmock *m, const char *text, const char *source, char **err)
{
    if (err)
        *err = NULL;
    if (!text)
        return -1;
    json_error_t jerr;
    json_t *fx = json_loads(text, 0, &jerr);
    if (!fx) {
        if (err)
            *err = em_sprintf("%s: line %d, column %d: not valid JSON: %s", source ? source : "fixture", jerr.line,
                              jerr.column, jerr.text);
        return -1;
    }
    int rc = ecrmock_fixture_load(m, fx, source, err);
    json_decref(fx);
    return rc;
}

int ecrmock_fixture_load_file(ecrmock *m, const char *path, char **err)
{
    if (err)
        *err = NULL;
    if (!path)
        return -1;
    json_error_t jerr;
    json_t *fx = json_load_file(path, 0, &jerr);
    if (!fx) {
        if (err)
            *err = jerr.line < 1 ? em_sprintf("%s: cannot be read: %s", path, jerr.text)
                                 : em_sprintf("%s: line %d, column %d: not valid JSON: %s", path, jerr.line,
                                              jerr.column, jerr.text);
        return -1;
    }
    int rc = ecrmock_fixture_load(m, fx, path, err);
    json_decref(fx);
    return rc;
}

/* ---- snapshots -------------------------------------------------------------------------- */

/* Sets o[key] to `v` (a new reference) when it is a non-empty array or
 * object; drops it otherwise.  -1 only when `v` is NULL (no memory). */
static int set_if_any(json_t *o, const char *key, json_t *v)
{
    if (!v)
        return -1;
    if ((json_is_array(v) && json_array_size(v) == 0) || (json_is_object(v) && json_object_size(v) == 0)) {
        json_decref(v);
        return 0;
    }
    return em_set(o, key, v);
}

/* An image's storage class, when it ever left the standard one: imageStatus,
 * lastArchivedAt, and lastActivatedAt (when its latest restore completed,
 * or, ACTIVATING, will complete).  0, or -1: no memory. */
static int snapshot_storage(ecrmock *m, const em_image *img, json_t *item)
{
    if (!img->archived && !img->archived_at_ms && !img->activated_at_ms)
        return 0;
    if (em_set(item, "imageStatus", json_string(em_image_status(m, img))) < 0 ||
        (img->archived_at_ms && em_set(item, "lastArchivedAt", em_time(img->archived_at_ms)) < 0) ||
        (img->activated_at_ms && em_set(item, "lastActivatedAt", em_time(img->activated_at_ms)) < 0))
        return -1;
    return 0;
}

static json_t *snapshot_repo(ecrmock *m, em_repo *repo)
{
    json_t *r = em_repo_json(NULL, repo);
    if (!r)
        return NULL;
    /* The fixture names: the repository's own fields, without derived ones. */
    json_object_del(r, "repositoryArn");
    json_object_del(r, "registryId");
    json_object_del(r, "repositoryUri");
    json_t *name = json_object_get(r, "repositoryName");
    json_t *o = json_pack("{s:O}", "name", name);
    json_object_del(r, "repositoryName");
    if (!o || json_object_update(o, r) < 0 || em_set(o, "tags", json_deep_copy(repo->tags)) < 0 ||
        (repo->policy && em_set(o, "policy", json_string(repo->policy)) < 0) ||
        (repo->lifecycle_policy && em_set(o, "lifecyclePolicy", json_string(repo->lifecycle_policy)) < 0) ||
        em_set(o, "layers", json_array()) < 0 || em_set(o, "images", json_array()) < 0) {
        json_decref(r);
        json_decref(o);
        return NULL;
    }
    json_decref(r);
    json_t *layers = json_object_get(o, "layers"), *images = json_object_get(o, "images");
    em_layer *l, *tmp;
    HASH_ITER(hh, repo->layers, l, tmp) {
        char *b64 = em_base64(l->blob->data ? (const void *)l->blob->data : "", l->blob->len, NULL);
        json_t *item = b64 ? json_pack("{s:s, s:s*, s:s}", "digest", l->blob->digest, "mediaType", l->media_type,
                                       "base64", b64)
                           : NULL;
        em_free(b64);
        if (json_array_append_new(layers, item) < 0)
            goto fail;
    }
    for (size_t i = 0; i < repo->order.n; i++) {
        em_image *img = repo->order.v[i].item;
        if (!img)
            continue;
        json_t *tags = em_image_tags_json(img);
        json_t *item = tags ? json_pack("{s:s, s:s%, s:s, s:o, s:o}", "digest", img->digest, "manifest", img->manifest,
                                        img->manifest_len, "mediaType", img->media_type, "tags", tags, "pushedAt",
                                        em_time(img->pushed_at_ms))
                            : NULL;
        if (item && ((img->pulled_at_ms && em_set(item, "lastRecordedPullTime", em_time(img->pulled_at_ms)) < 0) ||
                     (img->signing && set_if_any(item, "signingProfileArns", json_deep_copy(img->signing)) < 0) ||
                     (img->replication && set_if_any(item, "replicationStatuses", json_deep_copy(img->replication)) < 0) ||
                     snapshot_storage(m, img, item) < 0)) {
            json_decref(item);
            item = NULL;
        }
        if (json_array_append_new(images, item) < 0)
            goto fail;
    }
    return o;
fail:
    json_decref(o);
    return NULL;
}

/* The principals of the registry's pull time update exclusions, in
 * registration order (a new reference; NULL: no memory). */
static json_t *exclusions_json(const em_registry *r)
{
    json_t *list = json_array();
    for (size_t i = 0; list && i < r->n_exclusions; i++) {
        if (json_array_append_new(list, json_string(r->exclusions[i].principal)) < 0) {
            json_decref(list);
            list = NULL;
        }
    }
    return list;
}

/* One registry in the fixture format (a new reference; NULL: no memory).
 * The scanning configuration is the instance's, shown on the caller's
 * registry of the instance's own region (`with_scan`). */
static json_t *snapshot_registry(ecrmock *m, em_registry *r, bool with_scan)
{
    json_t *repos = json_array();
    json_t *reg = repos ? json_pack("{s:s, s:o}", "id", r->id, "repositories", repos) : NULL;
    if (!reg)
        return NULL;
    for (size_t i = 0; i < r->order.n; i++) {
        em_repo *repo = r->order.v[i].item;
        if (repo && json_array_append_new(repos, snapshot_repo(m, repo)) < 0)
            goto fail;
    }
    if ((r->policy && em_set(reg, "policy", json_string(r->policy)) < 0) ||
        (r->replication && em_set(reg, "replicationConfiguration", json_deep_copy(r->replication)) < 0) ||
        (with_scan && m->scan_config && em_set(reg, "scanningConfiguration", json_deep_copy(m->scan_config)) < 0) ||
        (r->account_settings && set_if_any(reg, "accountSettings", json_deep_copy(r->account_settings)) < 0) ||
        (r->signing_config && em_set(reg, "signingConfiguration", json_deep_copy(r->signing_config)) < 0) ||
        (r->n_exclusions && em_set(reg, "pullTimeUpdateExclusions", exclusions_json(r)) < 0) ||
        (r->ptc && set_if_any(reg, "pullThroughCacheRules", em_ptc_rules_json(r)) < 0) ||
        (r->templates && set_if_any(reg, "repositoryCreationTemplates", em_templates_json(r)) < 0))
        goto fail;
    return reg;
fail:
    json_decref(reg); /* and repos, which it holds */
    return NULL;
}

/* The registries of one region, from `head` on (a new reference; NULL: no
 * memory).  `home`: the instance's own region. */
static json_t *snapshot_registries(ecrmock *m, em_registry *head, bool home)
{
    json_t *regs = json_array();
    em_registry *r, *tmp;
    HASH_ITER(hh, head, r, tmp) {
        if (regs && json_array_append_new(regs, snapshot_registry(m, r, home && strcmp(r->id, m->opts.account_id) == 0)) < 0) {
            json_decref(regs);
            regs = NULL;
        }
    }
    return regs;
}

/* The regions other than the instance's own that hold a registry, by name:
 * [{"name", "registries"}] (a new reference; NULL: no memory). */
static json_t *snapshot_regions(ecrmock *m)
{
    const char **names;
    size_t n;
    json_t *regions = em_region_names(m, &names, &n) == 0 ? json_array() : NULL;
    for (size_t i = 0; regions && i < n; i++) {
        if (strcmp(names[i], m->opts.region) == 0)
            continue;
        json_t *regs = snapshot_registries(m, em_region_registries(m, names[i]), false);
        if (json_array_append_new(regions, regs ? json_pack("{s:s, s:o}", "name", names[i], "registries", regs) : NULL) < 0) {
            json_decref(regions);
            regions = NULL;
        }
    }
    em_free(names);
    return regions;
}

json_t *ecrmock_snapshot(ecrmock *m)
{
    if (!m)
        return NULL;
    em_lock(m);
    /* The instance's own region first, whatever view a hook runs in. */
    json_t *snap = json_object();
    if (snap && (em_set(snap, "clock", em_time(m->clock_ms)) < 0 ||
                 em_set(snap, "registries",
                        snapshot_registries(m, em_region_registries(m, m->opts.region), true)) < 0 ||
                 set_if_any(snap, "regions", snapshot_regions(m)) < 0)) {
        json_decref(snap);
        snap = NULL;
    }
    em_unlock(m);
    return snap;
}
