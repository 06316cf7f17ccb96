/*
 * A fixture's images: synthesised layers (each (size, seed) once per load),
 * configs, manifests and indexes, pushed as PutImage pushes them (a compact
 * image's config and manifest written straight, its manifest not parsed
 * back), and their replication statuses.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "tooling.h"

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

/* ---- layers ---------------------------------------------------------------------- */

/* Deterministic bytes for {"size": n, "seed": s}: the splitmix64 sequence
 * from s, each number little-endian (bytes 8k to 8k+7 are its (k+1)th),
 * from byte `at` (a multiple of 8) on, n of them.  Several times faster
 * than SHA-256 over the same bytes, so that making a layer costs less than
 * its digest. */
static uint64_t splitmix64_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static void synth_fill(uint64_t seed, uint64_t at, unsigned char *p, size_t n)
{
    const uint64_t gamma = UINT64_C(0x9E3779B97F4A7C15);
    uint64_t x = seed + (at / 8) * gamma;
    size_t i = 0;
    for (; n - i >= 8; i += 8) {
        uint64_t z = splitmix64_mix(x += gamma);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        memcpy(p + i, &z, 8); /* one store, not eight */
#else
        for (int b = 0; b < 8; b++)
            p[i + b] = (unsigned char)(z >> (8 * b));
#endif
    }
    if (i < n) {
        uint64_t z = splitmix64_mix(x + gamma);
        for (size_t b = 0; b < n - i; b++)
            p[i + b] = (unsigned char)(z >> (8 * b));
    }
}

/* Fills the n bytes at p (em_malloc'd, not touched yet) for `seed` and puts
 * their digest in `digest`, in one pass: the memory is prefaulted in one
 * step (em_prefault), then made and hashed a cache-sized piece at a time,
 * each piece hashed while it is still in the cache.  -1: no memory. */
#define SYNTH_PIECE ((size_t)64 * 1024)

static int synth_digest(uint64_t seed, unsigned char *p, size_t n, char *digest)
{
    EVP_MD_CTX *sha = EVP_MD_CTX_new();
    unsigned char md[32];
    if (!sha || !EVP_DigestInit_ex(sha, EVP_sha256(), NULL)) {
        EVP_MD_CTX_free(sha);
        return -1;
    }
    em_prefault(p, n);
    for (size_t at = 0; at < n; at += SYNTH_PIECE) {
        size_t k = n - at < SYNTH_PIECE ? n - at : SYNTH_PIECE;
        synth_fill(seed, at, p + at, k);
        EVP_DigestUpdate(sha, p + at, k);
    }
    EVP_DigestFinal_ex(sha, md, NULL);
    EVP_MD_CTX_free(sha);
    memcpy(digest, "sha256:", 7);
    em_hex(md, 32, digest + 7);
    return 0;
}

/* {"size", "seed"}: the layer's digest in `digest`, its bytes in *bytes
 * (em_malloc'd; NULL when empty, or when this load made them already: the
 * blob store has them then).  Each (size, seed) is made once per load, and
 * what is made counts against the instance's max_synth_bytes. */
static int synth_layer(em_loader *ld, json_t *spec, unsigned char **bytes, size_t *len, char *digest)
{
    json_int_t n = json_integer_value(json_object_get(spec, "size")); /* 0 to 1 GiB: the schema's */
    em_synth_key key = {(uint64_t)n, (uint64_t)json_integer_value(json_object_get(spec, "seed"))};
    *len = (size_t)n;
    em_synth_made *made = NULL;
    HASH_FIND(hh, ld->made, &key, sizeof key, made);
    if (made && em_blob_get(ld->s, made->digest)) {
        memcpy(digest, made->digest, ECRMOCK_DIGEST_SIZE);
        return 0;
    }
    uint64_t budget = ld->s->opts.max_synth_bytes;
    if (!made && key.size > budget - ld->synth_bytes) {
        return em_fx_refuse_at(ld, "size",
                  "synthesising %llu more bytes would take this load past its budget of %llu synthesised bytes "
                  "(ecrmock_options.max_synth_bytes; %llu made so far)",
                  (unsigned long long)key.size, (unsigned long long)budget, (unsigned long long)ld->synth_bytes);
    }
    *bytes = n ? em_malloc(*len) : NULL;
    if (n && !*bytes)
        return em_fx_nomem(ld);
    if (synth_digest(key.seed, *bytes, *len, digest) < 0) {
        em_free(*bytes);
        *bytes = NULL;
        return em_fx_nomem(ld);
    }
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
            return em_fx_nomem(ld);
        }
        ld->synth_bytes += key.size;
    }
    return 0;
}

void em_fx_synth_forget(em_loader *ld)
{
    em_synth_made *made, *tmp;
    HASH_ITER(hh, ld->made, made, tmp) {
        HASH_DEL(ld->made, made);
        em_free(made);
    }
}

/* Reads a layer spec with bytes: {"text"}, {"base64"} or {"size", "seed"}; an optional
 * "digest" must be the bytes' digest.  Fills `digest` and *len, and *bytes
 * (em_malloc'd, or NULL: empty, or bytes this load synthesised already). */
static int layer_bytes(em_loader *ld, json_t *spec, unsigned char **bytes, size_t *len, char *digest)
{
    *bytes = NULL;
    *len = 0;
    /* exactly one of them, and their types: the schema's */
    json_t *text = json_object_get(spec, "text"), *b64 = json_object_get(spec, "base64");
    json_t *size = json_object_get(spec, "size");
    if (text) {
        *len = json_string_length(text);
        *bytes = em_malloc(*len);
        if (!*bytes)
            return em_fx_nomem(ld);
        memcpy(*bytes, json_string_value(text), *len);
    } else if (b64) {
        int r = em_unbase64(json_string_value(b64), json_string_length(b64), bytes, len);
        if (r == -1) {
            return em_fx_refuse_at(ld, "base64", "is not standard padded base64");
        }
        if (r < 0)
            return em_fx_nomem(ld);
    } else if (synth_layer(ld, spec, bytes, len, digest) < 0) {
        return -1;
    }
    if (!size)
        em_sha256_digest(*bytes ? (const void *)*bytes : "", *len, digest);
    const char *want = em_get_str(spec, "digest");
    if (want && strcmp(want, digest) != 0) {
        em_free(*bytes);
        *bytes = NULL;
        return em_fx_refuse_at(ld, "digest", "does not match the layer's bytes, whose digest is %s", digest);
    }
    return 0;
}

/* {"declaredSize", "digest"}: a layer known by its digest and size only
 * (em_blob_declared).  Its digest must be well formed, and a blob the
 * instance has already under that digest (bytes, or declared before) must
 * have that size.  Fills `digest` and *len. */
static int declared_layer(em_loader *ld, json_t *spec, size_t *len, char *digest)
{
    json_int_t n = json_integer_value(json_object_get(spec, "declaredSize")); /* 1 to INT64_MAX: the schema's */
    const char *d = em_get_str(spec, "digest");
    if (!d)
        return em_fx_refuse(ld, "a layer with \"declaredSize\" needs its \"digest\" (it has no bytes to take one from)");
    bool hex = strncmp(d, "sha256:", 7) == 0 && strlen(d) == 71;
    for (const char *p = d + 7; hex && *p; p++)
        hex = (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f');
    if (!hex)
        return em_fx_refuse_at(ld, "digest", "a declared layer's digest must be \"sha256:\" and 64 lower-case hex digits");
    em_blob *b = em_blob_get(ld->s, d);
    if (b && b->len != (uint64_t)n)
        return em_fx_refuse_at(ld, "declaredSize", "declares %lld bytes, but the layer %s %s %zu", (long long)n, d,
                               em_blob_declared(b) ? "is declared elsewhere with" : "holds", b->len);
#if SIZE_MAX < INT64_MAX
    if ((uint64_t)n > SIZE_MAX)
        return em_fx_refuse_at(ld, "declaredSize", "is more than this machine's size_t holds");
#endif
    memcpy(digest, d, ECRMOCK_DIGEST_SIZE);
    *len = (size_t)n;
    return 0;
}

/* Adds a layer to the repository; writes its digest into digest_out. */
int em_fx_add_layer(em_loader *ld, em_repo *repo, json_t *spec, char *digest_out)
{
    unsigned char *bytes = NULL;
    size_t len;
    bool declared = json_object_get(spec, "declaredSize") != NULL;
    if (declared ? declared_layer(ld, spec, &len, digest_out) < 0 : layer_bytes(ld, spec, &bytes, &len, digest_out) < 0)
        return -1;
    /* Bytes for a digest the fixture declared with another size: the same
     * contradiction declared_layer() refuses the other way round. */
    em_blob *had = declared ? NULL : em_blob_get(ld->s, digest_out);
    if (had && em_blob_declared(had) && had->len != len) {
        em_free(bytes);
        return em_fx_refuse(ld, "holds %zu byte%s, but the layer %s is declared elsewhere with %zu", len,
                            len == 1 ? "" : "s", digest_out, had->len);
    }
    em_layer *l = em_layer_add(ld->s, repo, digest_out, &bytes, len);
    em_free(bytes);
    if (!l)
        return em_fx_nomem(ld);
    const char *mt = em_get_str(spec, "mediaType");
    if (mt && !l->media_type && !(l->media_type = em_strdup(mt)))
        return em_fx_nomem(ld);
    return 0;
}

/* ---- images ------------------------------------------------------------------------ */


/* The profiles an image was signed with at push: ECR records them from the
 * registry's signing configuration of that moment, so the image is pushed
 * under a configuration of one rule per profile (every repository), put
 * before the push (`profiles`) and deleted after it (NULL).  The registry's
 * own configuration is set after every image is in. */
static int signing_for_push(em_loader *ld, em_repo *repo, json_t *profiles)
{
    size_t n = em_fx_push_key(ld, "signingProfileArns");
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
        rc = em_fx_act(ld, profiles ? "PutSigningConfiguration" : "DeleteSigningConfiguration", req, NULL, NULL);
        em_view_leave(ld->s, &view);
    } else {
        json_decref(req);
        rc = em_fx_nomem(ld);
    }
    em_fx_pop(ld, n);
    return rc;
}

/* An image's replicationStatuses, as DescribeImageReplicationStatus shows
 * them ({"region", "registryId", "status", "failureCode"}): what its
 * replication rules did when it was pushed (the rules themselves are set
 * after every image, so a load copies nothing).  Stored as given, each in
 * that member order.  0, or -1 refused. */
int em_fx_load_replication_statuses(em_loader *ld, json_t *img, em_image *stored)
{
    json_t *list = json_object_get(img, "replicationStatuses");
    if (!list)
        return 0;
    size_t n = em_fx_push_key(ld, "replicationStatuses");
    json_t *copy = json_array();
    if (!copy)
        return em_fx_nomem(ld);
    for (size_t i = 0; i < json_array_size(list); i++) {
        size_t k = em_fx_push_index(ld, i);
        json_t *st = json_array_get(list, i);
        const char *region = em_get_str(st, "region"), *id = em_get_str(st, "registryId"), *status = em_get_str(st, "status");
        json_t *code = json_object_get(st, "failureCode");
        int rc = 0; /* its members and their values: the schema's */
        if (json_array_append_new(copy, json_pack("{s:s, s:s, s:s, s:O*}", "region", region, "registryId", id,
                                                       "status", status, "failureCode", code)) < 0)
            rc = em_fx_nomem(ld);
        if (rc < 0) {
            json_decref(copy);
            return -1;
        }
        em_fx_pop(ld, k);
    }
    em_fx_pop(ld, n);
    json_decref(stored->replication);
    stored->replication = json_array_size(copy) ? copy : NULL;
    if (!stored->replication)
        json_decref(copy);
    return 0;
}

/*
 * An object of the (key, value) pairs given, ended by a NULL key, in that
 * order; the values are stolen (O: pass json_incref(v)).  NULL when out of
 * memory or a value is NULL (a string that is not UTF-8, as json_pack).
 * For what every compact image builds: json_pack parses its format and
 * checks strings character by character, a sixth of loading a fixture of
 * 100,000 images; em_json_string checks ASCII eight bytes at a time.
 */
static json_t *obj_of(const char *key, ...)
{
    va_list ap;
    va_start(ap, key);
    json_t *o = json_object();
    for (const char *k = key; k; k = va_arg(ap, const char *)) {
        json_t *v = va_arg(ap, json_t *);
        if (!o || em_set(o, k, v) < 0) { /* v released by em_set, or here */
            if (!o)
                json_decref(v);
            json_decref(o);
            o = NULL;
        }
    }
    va_end(ap);
    return o;
}

/* PutImage's request for `text` in repo, tagged `tag` (NULL: untagged). */
static json_t *put_request(em_repo *repo, const char *text, const char *media_type, const char *tag)
{
    json_t *req = obj_of("registryId", em_json_string(repo->registry->id), "repositoryName",
                         em_json_string(repo->name), "imageManifest", em_json_string(text), NULL);
    if (req && ((media_type && em_set(req, "imageManifestMediaType", em_json_string(media_type)) < 0) ||
                (tag && em_set(req, "imageTag", em_json_string(tag)) < 0))) {
        json_decref(req);
        req = NULL;
    }
    return req;
}

/*
 * PutImage of `text` in repo, tagged `tag` (NULL: untagged), its digest in
 * digest_out.  What the dispatcher would do on the scratch instance (no
 * hooks, no faults yet, no journal), without the request and response
 * documents: ECR's checks and the store are em_image_push's, the side
 * effects (scan on push, replication) PutImage's.  A request validation
 * could refuse (a tag or manifest outside ImageTag's or ImageManifest's
 * lengths) goes through the dispatcher, so its error is the same.
 */
static int put_image(em_loader *ld, em_repo *repo, const char *text, const em_manifest *mf, const char *media_type,
                     const char *tag, char *digest_out)
{
    size_t len = strlen(text), tag_len = tag ? strlen(tag) : 1;
    /* byte lengths within the shapes' bounds: so are their character counts */
    if (len < 1 || len > 4194304 || tag_len < 1 || tag_len > 300) {
        json_t *out = NULL;
        if (em_fx_act(ld, "PutImage", put_request(repo, text, media_type, tag), NULL, digest_out ? &out : NULL) < 0)
            return -1;
        if (digest_out)
            snprintf(digest_out, ECRMOCK_DIGEST_SIZE, "%s",
                     json_string_value(
                         json_object_get(json_object_get(json_object_get(out, "image"), "imageId"), "imageDigest")));
        json_decref(out);
        return 0;
    }
    em_call c = {.m = ld->s, .err = ECRMOCK_ERR_OK};
    em_lock(ld->s);
    em_image *img = mf ? em_image_push_manifest(&c, repo, text, len, mf, NULL, tag)
                       : em_image_push(&c, repo, text, len, media_type, NULL, tag);
    if (img) {
        em_replicate(ld->s, repo, img, tag);
        if (digest_out)
            memcpy(digest_out, img->digest, ECRMOCK_DIGEST_SIZE);
    }
    em_unlock(ld->s);
    if (img)
        return 0;
    return em_fx_act_failed(ld, c.errdoc, NULL, c.member);
}

/* Puts a manifest text (mf: what em_manifest_parse makes of it, or NULL)
 * with its tags, then sets the times. */
static int put_manifest(em_loader *ld, em_repo *repo, json_t *img, const char *text, const em_manifest *mf,
                        const char *media_type, char *digest_out)
{
    json_t *tags = json_object_get(img, "tags");
    const char *first = json_string_value(json_array_get(tags, 0));
    json_t *profiles = json_object_get(img, "signingProfileArns");
    if (json_array_size(profiles) && signing_for_push(ld, repo, profiles) < 0)
        return -1;
    if (put_image(ld, repo, text, mf, media_type, first, digest_out) < 0)
        return -1;
    if (json_array_size(profiles) && signing_for_push(ld, repo, NULL) < 0)
        return -1;
    for (size_t i = 1; i < json_array_size(tags); i++) {
        size_t n = em_fx_push_key(ld, "tags");
        size_t k = em_fx_push_index(ld, i);
        int rc = put_image(ld, repo, text, mf, media_type, json_string_value(json_array_get(tags, i)), NULL);
        em_fx_pop(ld, k);
        em_fx_pop(ld, n);
        if (rc < 0)
            return -1;
    }
    em_image *stored = em_image_get(repo, digest_out);
    if (em_fx_parse_time(ld, img, "pushedAt", &stored->pushed_at_ms) < 0 ||
        em_fx_parse_time(ld, img, "lastRecordedPullTime", &stored->pulled_at_ms) < 0 ||
        em_fx_load_replication_statuses(ld, img, stored) < 0)
        return -1;
    const char *want = em_get_str(img, "digest");
    if (want && strcmp(want, digest_out) != 0) {
        size_t n = em_fx_push_key(ld, "digest");
        em_fx_refuse(ld, "does not match the manifest's bytes, whose digest is %s", digest_out);
        em_fx_pop(ld, n);
        return -1;
    }
    return 0;
}

/* Whether v holds a real anywhere (the wire encoder writes reals as ECR's
 * service does, not as json_dumps). */
static bool has_real(json_t *v)
{
    if (json_is_real(v))
        return true;
    size_t i;
    json_t *item;
    if (json_is_array(v))
        json_array_foreach(v, i, item) if (has_real(item)) return true;
    const char *key;
    if (json_is_object(v))
        json_object_foreach(v, key, item) if (has_real(item)) return true;
    return false;
}

char *em_fx_dump_compact(json_t *doc)
{
    /* json_dumps's bytes: the wire encoder writes them for a document
     * without reals, several times faster (it was a sixth of loading a
     * fixture of 100,000 compact images). */
    char *w;
    size_t n;
    if (!has_real(doc) && em_wire_dump(doc, &w, &n) == 0)
        return w;
    char *s = json_dumps(doc, JSON_COMPACT);
    char *copy = s ? em_strdup(s) : NULL;
    em_json_free(s);
    return copy;
}

char *em_fx_policy_text(json_t *v)
{
    return json_is_string(v) ? em_strndup(json_string_value(v), json_string_length(v)) : em_fx_dump_compact(v);
}

/* A compact image's layer as its manifest lists it. */
typedef struct listed_layer {
    char digest[ECRMOCK_DIGEST_SIZE];
    uint64_t size;
    const char *media_type; /* borrowed from the fixture, or a constant */
} listed_layer;

/* Adds a config's bytes as a layer of repo (as the layer {"text": text}
 * would); its digest in `digest`. */
static int add_config(em_loader *ld, em_repo *repo, const char *text, size_t len, char *digest)
{
    unsigned char *bytes = em_malloc(len ? len : 1);
    if (!bytes)
        return em_fx_nomem(ld);
    memcpy(bytes, text, len);
    em_sha256_digest_by(ld->s->sha256, bytes, len, digest);
    em_layer *l = em_layer_add(ld->s, repo, digest, &bytes, len);
    em_free(bytes);
    return l ? 0 : em_fx_nomem(ld);
}

/* Whether s goes into JSON text as it is, between quotes. */
static bool plain(const char *s)
{
    size_t n = strlen(s);
    return em_plain_run((const unsigned char *)s, (const unsigned char *)s + n) == (const unsigned char *)s + n;
}

static int put_str(em_buf *b, const char *s)
{
    return em_buf_append(b, s, strlen(s));
}

static int put_u64(em_buf *b, uint64_t v)
{
    char num[24];
    size_t at = sizeof num;
    do
        num[--at] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    return em_buf_append(b, num + at, sizeof num - at);
}

/* The config and manifest texts of a compact image without "config" whose
 * strings are all plain, written straight: the bytes em_fx_dump_compact
 * makes of the documents synth_image_trees builds, without the documents
 * (a third of loading a fixture of 100,000 images).  The config is added
 * as a layer; *manifest new em_malloc'd. */
static int texts_direct(em_loader *ld, em_repo *repo, const listed_layer *ls, size_t n, const char *arch,
                        const char *os, bool oci, char **manifest, char *config_digest)
{
    em_buf b = {0};
    int err = em_buf_reserve(&b, 384 + 200 * n) | put_str(&b, "{\"architecture\":\"") | put_str(&b, arch) | put_str(&b, "\",\"os\":\"") | put_str(&b, os) |
              put_str(&b, "\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[");
    for (size_t i = 0; i < n; i++)
        err |= put_str(&b, i ? ",\"" : "\"") | put_str(&b, ls[i].digest) | put_str(&b, "\"");
    err |= put_str(&b, "]}}");
    if (err) {
        em_buf_release(&b);
        return em_fx_nomem(ld);
    }
    size_t config_len = b.len;
    int rc = add_config(ld, repo, (const char *)b.data, b.len, config_digest);
    b.len = 0;
    if (rc < 0) {
        em_buf_release(&b);
        return -1;
    }
    err = put_str(&b, "{\"schemaVersion\":2,\"mediaType\":\"") | put_str(&b, oci ? MT_OCI_MANIFEST : MT_DOCKER_V2) |
          put_str(&b, "\",\"config\":{\"mediaType\":\"") | put_str(&b, oci ? MT_OCI_CONFIG : MT_DOCKER_CONFIG) |
          put_str(&b, "\",\"size\":") | put_u64(&b, config_len) | put_str(&b, ",\"digest\":\"") |
          put_str(&b, config_digest) | put_str(&b, "\"},\"layers\":[");
    for (size_t i = 0; i < n; i++)
        err |= put_str(&b, i ? ",{\"mediaType\":\"" : "{\"mediaType\":\"") | put_str(&b, ls[i].media_type) |
               put_str(&b, "\",\"size\":") | put_u64(&b, ls[i].size) | put_str(&b, ",\"digest\":\"") |
               put_str(&b, ls[i].digest) | put_str(&b, "\"}");
    err |= put_str(&b, "]}") | em_buf_append(&b, "", 1);
    if (err) {
        em_buf_release(&b);
        return em_fx_nomem(ld);
    }
    *manifest = (char *)b.data;
    return 0;
}

/* The same through JSON documents, for a given "config" or strings that
 * need escapes. */
static int texts_from_trees(em_loader *ld, em_repo *repo, json_t *img, const listed_layer *ls, size_t n,
                            const char *arch, const char *os, bool oci, char **manifest_out)
{
    json_t *descs = json_array();
    json_t *diff_ids = descs ? json_array() : NULL;
    int rc = -1;
    char *text = NULL;
    json_t *config = NULL, *manifest = NULL;
    if (!descs || !diff_ids) {
        em_fx_nomem(ld);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        /* each append checked: a descriptor missing for want of memory would
         * be a manifest of other bytes, not a failure */
        if (json_array_append_new(descs, obj_of("mediaType", em_json_string(ls[i].media_type), "size",
                                                json_integer((json_int_t)ls[i].size), "digest",
                                                em_json_string(ls[i].digest), NULL)) < 0 ||
            json_array_append_new(diff_ids, em_json_string(ls[i].digest)) < 0) {
            em_fx_nomem(ld);
            goto out;
        }
    }
    config = json_object_get(img, "config");
    if (config)
        json_incref(config);
    else
        config = obj_of("architecture", em_json_string(arch), "os", em_json_string(os), "rootfs",
                        obj_of("type", em_json_string("layers"), "diff_ids", json_incref(diff_ids), NULL), NULL);
    text = config ? em_fx_dump_compact(config) : NULL;
    if (!text) {
        em_fx_nomem(ld);
        goto out;
    }
    char config_digest[ECRMOCK_DIGEST_SIZE];
    if (add_config(ld, repo, text, strlen(text), config_digest) < 0)
        goto out;
    manifest = obj_of("schemaVersion", json_integer(2), "mediaType", em_json_string(oci ? MT_OCI_MANIFEST : MT_DOCKER_V2),
                      "config",
                      obj_of("mediaType", em_json_string(oci ? MT_OCI_CONFIG : MT_DOCKER_CONFIG), "size",
                             json_integer((json_int_t)strlen(text)), "digest", em_json_string(config_digest), NULL),
                      "layers", json_incref(descs), NULL);
    em_free(text);
    text = manifest ? em_fx_dump_compact(manifest) : NULL;
    if (!text) {
        em_fx_nomem(ld);
        goto out;
    }
    *manifest_out = text;
    text = NULL;
    rc = 0;
out:
    em_free(text);
    json_decref(config);
    json_decref(manifest);
    json_decref(descs);
    json_decref(diff_ids);
    return rc;
}

/* A compact image: layers (and a config) synthesised, then a manifest. */
static int synth_image(em_loader *ld, em_repo *repo, json_t *img, bool oci, char *digest_out)
{
    json_t *layers = json_object_get(img, "layers");
    json_t *platform = json_object_get(img, "platform");
    size_t n_layers = json_array_size(layers);
    listed_layer *ls = n_layers ? em_calloc(n_layers, sizeof *ls) : NULL;
    if (n_layers && !ls)
        return em_fx_nomem(ld);
    const char *arch = platform ? em_get_str(platform, "architecture") : NULL;
    const char *os = platform ? em_get_str(platform, "os") : NULL;
    arch = arch ? arch : "amd64";
    os = os ? os : "linux";
    bool direct = !json_object_get(img, "config") && plain(arch) && plain(os);
    size_t n = em_fx_push_key(ld, "layers");
    for (size_t i = 0; i < n_layers; i++) {
        size_t k = em_fx_push_index(ld, i);
        json_t *spec = json_array_get(layers, i);
        int r = em_fx_add_layer(ld, repo, spec, ls[i].digest);
        em_fx_pop(ld, k);
        if (r < 0) {
            em_free(ls);
            return -1;
        }
        const char *mt = em_get_str(spec, "mediaType");
        ls[i].size = em_layer_get(repo, ls[i].digest)->blob->len;
        ls[i].media_type = mt ? mt : oci ? MT_OCI_LAYER : MT_DOCKER_LAYER;
        direct = direct && plain(ls[i].media_type);
    }
    em_fx_pop(ld, n);
    char *text = NULL, config_digest[ECRMOCK_DIGEST_SIZE];
    int rc = direct ? texts_direct(ld, repo, ls, n_layers, arch, os, oci, &text, config_digest)
                    : texts_from_trees(ld, repo, img, ls, n_layers, arch, os, oci, &text);
    /* What em_manifest_parse would make of the text written straight; past
     * the layer limit it is parsed, and refused as PutImage refuses it. */
    em_manifest mf = {0};
    bool parsed = rc == 0 && direct && n_layers <= ld->s->opts.max_layers_per_image;
    if (parsed) {
        mf.media_type = oci ? MT_OCI_MANIFEST : MT_DOCKER_V2;
        mf.config_digest = config_digest;
        mf.config_media_type = oci ? MT_OCI_CONFIG : MT_DOCKER_CONFIG;
        em_mf_blob *blobs = n_layers < EM_MF_INLINE_BLOBS ? mf.inline_layers
                                                          : em_malloc((n_layers + 1) * sizeof *blobs);
        if (blobs) {
            mf.heap = blobs == mf.inline_layers ? NULL : blobs;
            mf.layers = blobs;
            blobs[mf.n_layers++] = (em_mf_blob){mf.config_digest, mf.config_media_type};
            for (size_t i = 0; i < n_layers; i++)
                if (!em_media_type_non_distributable(ls[i].media_type))
                    blobs[mf.n_layers++] = (em_mf_blob){ls[i].digest, ls[i].media_type};
        } else {
            rc = em_fx_nomem(ld);
        }
    }
    if (rc == 0)
        rc = put_manifest(ld, repo, img, text, parsed ? &mf : NULL, NULL, digest_out);
    em_manifest_release(&mf); /* its layers point into ls */
    em_free(ls);
    em_free(text);
    return rc;
}

/* A multi-arch image: each platform's image, untagged, then the list/index. */
static int synth_index(em_loader *ld, em_repo *repo, json_t *img, bool oci, char *digest_out)
{
    json_t *children = json_object_get(img, "manifests");
    json_t *descs = json_array();
    if (!descs)
        return em_fx_nomem(ld);
    size_t n = em_fx_push_key(ld, "manifests");
    for (size_t i = 0; i < json_array_size(children); i++) {
        size_t k = em_fx_push_index(ld, i);
        json_t *child = json_array_get(children, i);
        char digest[ECRMOCK_DIGEST_SIZE];
        if (em_fx_load_image(ld, repo, child, true, digest) < 0) {
            json_decref(descs);
            return -1;
        }
        em_fx_pop(ld, k);
        em_image *ci = em_image_get(repo, digest);
        json_t *d = json_pack("{s:s, s:I, s:s}", "mediaType", ci->media_type, "size", (json_int_t)ci->manifest_len,
                              "digest", digest);
        json_t *platform = json_object_get(child, "platform");
        if (json_array_append_new(descs, d) < 0 || (platform && json_object_set(d, "platform", platform) < 0)) {
            json_decref(descs);
            return em_fx_nomem(ld);
        }
    }
    em_fx_pop(ld, n);
    json_t *list = json_pack("{s:i, s:s, s:o}", "schemaVersion", 2, "mediaType", oci ? MT_OCI_INDEX : MT_DOCKER_LIST,
                             "manifests", descs);
    char *text = list ? em_fx_dump_compact(list) : NULL;
    json_decref(list);
    if (!text)
        return em_fx_nomem(ld);
    int rc = put_manifest(ld, repo, img, text, NULL, NULL, digest_out);
    em_free(text);
    return rc;
}

int em_fx_load_image(em_loader *ld, em_repo *repo, json_t *img, bool child, char *digest_out)
{
    /* Its members, their types, values and exactly one of "manifest", "layers"
     * and "manifests": the schema's; what it cannot say, here. */
    if (child && (json_object_get(img, "imageStatus") || json_object_get(img, "lastArchivedAt") ||
                  json_object_get(img, "lastActivatedAt")))
        return em_fx_refuse(ld, "the images of a multi-arch image move with it: give the list its storage state");
    json_t *tags = json_object_get(img, "tags");
    if (child && json_array_size(tags))
        return em_fx_refuse(ld, "the images of a multi-arch image are untagged: tag the list");
    json_t *manifest = json_object_get(img, "manifest");
    json_t *layers = json_object_get(img, "layers"), *children = json_object_get(img, "manifests");
    const char *format = em_get_str(img, "format");
    bool oci = format && strcmp(format, "oci") == 0;
    if (layers)
        return synth_image(ld, repo, img, oci, digest_out);
    if (children)
        return synth_index(ld, repo, img, oci, digest_out);
    char *text = em_fx_policy_text(manifest);
    if (!text)
        return em_fx_nomem(ld);
    int rc = put_manifest(ld, repo, img, text, NULL, em_get_str(img, "mediaType"), digest_out);
    em_free(text);
    return rc;
}
