/*
 * The registry plane: the OCI Distribution API (/v2/) as ECR serves it on
 * <account>.dkr.ecr.<region>.amazonaws.com, on the same store as the API.
 *
 * Every request but the /v2/ ping, an upload's status and its cancel runs
 * as the ECR action that authorizes it, through em_dispatch_http(): the
 * same validation and code (a manifest PUT is PutImage, so em_image_push,
 * tag immutability and scan on push), the journal (with "plane":
 * "registry"), the call counters, fault rules and hooks.  The action's
 * answer is then turned into the registry's: its status, headers and
 * {"errors":[{"code","message"}]} (see registry_error()).
 *
 *   GET/HEAD manifest   BatchGetImage (acceptedMediaTypes from Accept; by tag,
 *                       the stored type too when it converts: conversion())
 *   PUT manifest        PutImage
 *   DELETE manifest     BatchDeleteImage
 *   HEAD blob           BatchCheckLayerAvailability
 *   GET blob            GetDownloadUrlForLayer (307 to the URL)
 *   POST uploads/       InitiateLayerUpload (?mount=&from=: GetDownloadUrlForLayer
 *                       on the source, then a mount when BLOB_MOUNTING allows)
 *   PATCH upload        UploadLayerPart (one per 20 MiB of the body)
 *   PUT upload?digest=  UploadLayerPart (a body) then CompleteLayerUpload
 *   GET tags/list       ListImages (tagStatus TAGGED)
 *   GET _catalog        DescribeRepositories
 *   GET referrers/<d>   ListImageReferrers (an OCI image index)
 *
 * Authentication is ECR's: HTTP Basic, user AWS, the password of a token
 * GetAuthorizationToken handed out (em_token_find), for this registry and
 * region, before its expiry on the virtual clock.  On a host that is not a
 * registry host (a loopback base), the token names the registry.
 */
#define _GNU_SOURCE /* strcasecmp, strncasecmp */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fronts/fronts.h"

#define API_VERSION "registry/2.0"
#define ERROR_TYPE "application/json; charset=utf-8"
#define PART_MAX ((size_t)20971520) /* the most bytes one UploadLayerPart carries */

typedef struct reg {
    ecrmock *m;
    const ecrmock_http_request *req;
    ecrmock_http_response *r;
    bool head;
    char account[13];
    char region[EM_REGION_SIZE];
    char base[300]; /* what Location and Link start with: "https://<host>" or "" */
    char *name;     /* the repository (em_malloc'd) */
} reg;

typedef enum { CTX_MANIFEST, CTX_BLOB, CTX_UPLOAD, CTX_LIST } reg_ctx;

static int add(reg *g, const char *name, const char *value)
{
    return em_http_add_header(g->r, name, value);
}

/* A body (NULL: none) and its headers, Content-Length `length`; a HEAD
 * keeps only the headers. */
static int respond_sized(reg *g, int status, const char *type, const char *body, size_t len, long long length)
{
    char n[32];
    snprintf(n, sizeof n, "%lld", length);
    if (add(g, "Docker-Distribution-Api-Version", API_VERSION) < 0 || (type && add(g, "Content-Type", type) < 0) ||
        add(g, "Content-Length", n) < 0)
        return -1;
    g->r->status = status;
    g->r->body = em_strndup(g->head || !body ? "" : body, g->head || !body ? 0 : len);
    g->r->body_len = g->head || !body ? 0 : len;
    return g->r->body ? status : -1;
}

static int respond(reg *g, int status, const char *type, const char *body, size_t len)
{
    return respond_sized(g, status, type, body, len, (long long)len);
}

static int reg_error(reg *g, int status, const char *code, const char *message)
{
    json_t *doc = json_pack("{s:[{s:s, s:s}]}", "errors", "code", code, "message", message);
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!text)
        return -1;
    int st = respond(g, status, ERROR_TYPE, text, strlen(text));
    em_json_free(text);
    return st;
}

/* An action's error document as the registry says it, by context. */
static int registry_error(reg *g, int status, json_t *doc, reg_ctx ctx)
{
    const char *type = json_string_value(json_object_get(doc, "__type"));
    const char *msg = json_string_value(json_object_get(doc, "message"));
    if (!type)
        type = "";
    if (!msg)
        msg = type;
    if (strcmp(type, "RepositoryNotFoundException") == 0)
        return reg_error(g, 404, "NAME_UNKNOWN", msg);
    if (strcmp(type, "ImageNotFoundException") == 0)
        return reg_error(g, 404, "MANIFEST_UNKNOWN", "Requested image not found");
    if (strcmp(type, "ImageTagAlreadyExistsException") == 0)
        return reg_error(g, 400, "TAG_INVALID", msg);
    if (strcmp(type, "LayersNotFoundException") == 0 || strcmp(type, "ReferencedImagesNotFoundException") == 0)
        return ctx == CTX_MANIFEST ? reg_error(g, 400, "MANIFEST_BLOB_UNKNOWN", msg)
                                   : reg_error(g, 404, "BLOB_UNKNOWN", msg);
    if (strcmp(type, "LayerInaccessibleException") == 0)
        return reg_error(g, 404, "BLOB_UNKNOWN", msg);
    if (strcmp(type, "ImageDigestDoesNotMatchException") == 0)
        return reg_error(g, 400, "DIGEST_INVALID", msg);
    if (strcmp(type, "UnsupportedImageTypeException") == 0)
        return reg_error(g, 400, "MANIFEST_INVALID", msg);
    if (strcmp(type, "UploadNotFoundException") == 0)
        return reg_error(g, 404, "BLOB_UPLOAD_UNKNOWN", msg);
    if (strcmp(type, "InvalidLayerPartException") == 0)
        return reg_error(g, 416, "BLOB_UPLOAD_INVALID", msg);
    if (strcmp(type, "InvalidLayerException") == 0 || strcmp(type, "EmptyUploadException") == 0 ||
        strcmp(type, "LayerPartTooSmallException") == 0)
        return reg_error(g, 400, "BLOB_UPLOAD_INVALID", msg);
    if (strcmp(type, "ThrottlingException") == 0 || status == 429)
        return reg_error(g, 429, "TOOMANYREQUESTS", "Rate exceeded");
    if (strcmp(type, "LimitExceededException") == 0 || strcmp(type, "AccessDeniedException") == 0)
        return reg_error(g, 403, "DENIED", msg);
    if (strcmp(type, "InvalidParameterException") == 0 || strcmp(type, "ValidationException") == 0) {
        /* A name no repository can have ("d", upper case): the spec's
         * NAME_INVALID (the fact sheet has no ECR answer for it). */
        if (strstr(msg, "'repositoryName'"))
            return reg_error(g, 400, "NAME_INVALID", msg);
        /* ECR's answer to a manifest it cannot read (the fact sheet, §3),
         * and to a page's n or last (end-8), referrers' too. */
        if (ctx == CTX_LIST || strstr(msg, "'ImageManifest'") || strstr(msg, "'maxResults'") ||
            strstr(msg, "'NextToken'"))
            return reg_error(g, 405, "UNSUPPORTED", msg);
        if (ctx == CTX_MANIFEST)
            return reg_error(g, 400, strstr(msg, "imageTag") ? "TAG_INVALID" : "MANIFEST_INVALID", msg);
        if (ctx == CTX_BLOB)
            return reg_error(g, 400, "DIGEST_INVALID", msg);
        return reg_error(g, 400, "BLOB_UPLOAD_INVALID", msg);
    }
    return reg_error(g, status >= 400 ? status : 500, "UNKNOWN", msg);
}

/*
 * The answer to a reference the action could not use, from its output's
 * first failure (BatchGetImage's and BatchDeleteImage's ImageFailure,
 * BatchCheckLayerAvailability's LayerFailure): one mapping for a manifest's
 * GET, HEAD and DELETE and a blob's HEAD, as GET blob's errors map through
 * registry_error() to the same codes.  The codes are the specification's
 * for these endpoints (docker/distribution docs/spec/api.md, kept by OCI's
 * distribution-spec: 400 TAG_INVALID or DIGEST_INVALID for a reference that
 * is none, 404 MANIFEST_UNKNOWN or BLOB_UNKNOWN for one that names nothing);
 * ECR's text for a missing image (the fact sheet, end-9), the failure's
 * reason otherwise.  A HEAD sends the status and headers alone (respond()).
 */
static int lookup_failed(reg *g, json_t *out, reg_ctx ctx)
{
    json_t *f = json_array_get(json_object_get(out, "failures"), 0);
    const char *code = json_string_value(json_object_get(f, "failureCode"));
    const char *reason = json_string_value(json_object_get(f, "failureReason"));
    if (!code)
        code = "";
    if (!reason)
        reason = code;
    if (strcmp(code, "InvalidImageTag") == 0)
        return reg_error(g, 400, "TAG_INVALID", reason);
    if (strcmp(code, "InvalidImageDigest") == 0 || strcmp(code, "InvalidLayerDigest") == 0)
        return reg_error(g, 400, "DIGEST_INVALID", reason);
    if (ctx == CTX_BLOB)
        return reg_error(g, 404, "BLOB_UNKNOWN", *reason ? reason : "Could not find layer");
    return reg_error(g, 404, "MANIFEST_UNKNOWN", "Requested image not found");
}

/* Runs ECR action `action` on `req` (stolen) as the registry plane, with
 * part[0..part_len) its raw layer part (UploadLayerPart; NULL: none),
 * carried on the call (em_via); the status, and its output or error
 * document in *out (new reference). */
static int run_via(reg *g, const char *action, json_t *req, const void *part, size_t part_len, json_t **out)
{
    *out = NULL;
    if (!req || json_object_set_new(req, "registryId", json_string(g->account)) < 0 ||
        (g->name && json_object_set_new(req, "repositoryName", json_string(g->name)) < 0)) {
        json_decref(req);
        return -1;
    }
    em_fault_decision wire = {0}; /* untouched when the dispatch runs out of memory early */
    em_via via = {.http = g->req, .plane = "registry", .raw_part = part, .raw_part_len = part_len};
    int st = em_dispatch_via(g->m, em_action_find(action), action, req, out, &wire, &via);
    json_decref(req);
    /* A transport fault rule: the header that tells the libcurl level which
     * CURLcode to return instead, as on the API (http.c).  TRUNCATE and
     * MALFORM have no registry form: the answer goes out whole. */
    if (st >= 0 && wire.rule && EM_FAULT_IS_TRANSPORT(wire.effect) &&
        !ecrmock_http_response_header(g->r, ECRMOCK_HTTP_TRANSPORT_FAULT_HEADER) &&
        add(g, ECRMOCK_HTTP_TRANSPORT_FAULT_HEADER, em_fault_effect_name(wire.effect)) < 0) {
        json_decref(*out);
        *out = NULL;
        st = -1;
    }
    em_fault_decision_release(&wire);
    return st;
}

static int run(reg *g, const char *action, json_t *req, json_t **out)
{
    return run_via(g, action, req, NULL, 0, out);
}

/* The action's status `st` and *out (run()'s), with an error answered in
 * the registry's form: 0 and the output in *out (new reference; the error
 * document when it is `tolerated`, an error that counts as success), or
 * the status answered (*out NULL), or -1. */
static int checked(reg *g, int st, reg_ctx ctx, const char *tolerated, json_t **out)
{
    if (st < 0)
        return -1;
    const char *type = json_string_value(json_object_get(*out, "__type"));
    if (st == 200 || (tolerated && type && strcmp(type, tolerated) == 0))
        return 0;
    st = registry_error(g, st, *out, ctx);
    json_decref(*out);
    *out = NULL;
    return st;
}

/* run() then checked(). */
static int run_ok(reg *g, const char *action, json_t *req, reg_ctx ctx, const char *tolerated, json_t **out)
{
    return checked(g, run(g, action, req, out), ctx, tolerated, out);
}

/* ---- authentication ------------------------------------------------------------- */

static int challenge(reg *g)
{
    char realm[400];
    snprintf(realm, sizeof realm, "Basic realm=\"https://%s.dkr.ecr.%s.%s/\",service=\"ecr.amazonaws.com\"",
             g->account, g->region, em_dns_suffix(g->region));
    if (add(g, "Sizes", "") < 0 || add(g, "WWW-Authenticate", realm) < 0)
        return -1;
    return respond(g, 401, "text/plain; charset=utf-8", "Not Authorized", 14);
}

/* 0: the request carries a token for this registry (on a loopback base: the
 * token's registry becomes g's); else the answer's status (or -1). */
static int authenticate(reg *g, bool registry_host)
{
    const char *h = em_header(g->req->headers, g->req->n_headers, "Authorization");
    if (!h || strncasecmp(h, "Basic ", 6) != 0)
        return challenge(g);
    h += 6;
    while (*h == ' ')
        h++;
    unsigned char *plain = NULL;
    size_t plen = 0;
    int rc = em_unbase64(h, strlen(h), &plain, &plen);
    if (rc == -2)
        return -1;
    int status = 0;
    em_lock(g->m);
    const em_token *t = rc == 0 && plen > 4 && memcmp(plain, "AWS:", 4) == 0
                            ? em_token_find(g->m, (const char *)plain + 4, plen - 4)
                            : NULL;
    if (t && !registry_host) {
        snprintf(g->account, sizeof g->account, "%s", t->registry);
        snprintf(g->region, sizeof g->region, "%s", t->region);
    }
    if (!t || strcmp(t->registry, g->account) != 0 || strcmp(t->region, g->region) != 0)
        status = 400;
    else if (g->m->clock_ms >= t->expires_ms)
        status = 403;
    em_unlock(g->m);
    em_free(plain);
    if (status == 400)
        return reg_error(g, 400, "DENIED", "Your Authorization Token is invalid.");
    if (status == 403)
        return reg_error(g, 403, "DENIED", "Your authorization token has expired. Reauthenticate and try again.");
    return 0;
}

/* 201 for what a push stored: Location <base>/v2/<repo>/<kind>/<digest>
 * and Docker-Content-Digest. */
static int pushed(reg *g, const char *repo, const char *kind, const char *digest)
{
    char *loc = em_sprintf("%s/v2/%s/%s/%s", g->base, repo, kind, digest);
    int st = loc && add(g, "Location", loc) == 0 && add(g, "Docker-Content-Digest", digest) == 0
                 ? respond(g, 201, NULL, NULL, 0)
                 : -1;
    em_free(loc);
    return st;
}

/* ---- manifests ------------------------------------------------------------------- */

static json_t *image_id(const char *ref)
{
    return json_pack("{s:s}", strncmp(ref, "sha256:", 7) == 0 ? "imageDigest" : "imageTag", ref);
}

/* The media types of one Accept header's value, without parameters and
 * wildcards, appended to list; -1 when memory runs out. */
static int accepted_one(json_t *list, const char *accept)
{
    while (accept && *accept) {
        accept += strspn(accept, " ,");
        size_t n = strcspn(accept, ",;");
        size_t k = n;
        while (k && accept[k - 1] == ' ')
            k--;
        /* A type that is not UTF-8 is no type ECR knows: left out. */
        json_t *type = k && !memchr(accept, '*', k) ? json_stringn(accept, k) : NULL;
        if (type && json_array_append_new(list, type) < 0)
            return -1;
        accept += n;
        accept += strcspn(accept, ",");
    }
    return 0;
}

/* The media types of every Accept header of the request: Go's net/http (so
 * skopeo, podman, crane) sends one Accept line per type, which is the same
 * list as one comma-joined line (RFC 9110, 5.3). */
static json_t *accepted(const ecrmock_http_request *req)
{
    json_t *list = json_array();
    for (size_t i = 0; list && i < req->n_headers; i++) {
        const ecrmock_http_header *h = &req->headers[i];
        if (h->name && h->value && strcasecmp(h->name, "Accept") == 0 && accepted_one(list, h->value) < 0) {
            json_decref(list);
            list = NULL;
        }
    }
    return list;
}

static bool same_text(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* ---- format conversion on pull by tag ----------------------------------------- */

#define OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define DOCKER_V2 "application/vnd.docker.distribution.manifest.v2+json"

/* The media types with an equivalent in the other format: {OCI, Docker}. */
static const char *const twins[][2] = {
    {OCI_MANIFEST, DOCKER_V2},
    {"application/vnd.oci.image.config.v1+json", "application/vnd.docker.container.image.v1+json"},
    {"application/vnd.oci.image.layer.v1.tar+gzip", "application/vnd.docker.image.rootfs.diff.tar.gzip"},
    {"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
     "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"},
};

/* The other format's name for `mt` (to_docker: OCI's to Docker's), or NULL. */
static const char *twin(const char *mt, bool to_docker)
{
    for (size_t i = 0; mt && i < sizeof twins / sizeof twins[0]; i++)
        if (strcmp(mt, twins[i][!to_docker]) == 0)
            return twins[i][to_docker];
    return NULL;
}

/* Whether every member of o is one of the `n` names. */
static bool only_members(json_t *o, const char *const *names, size_t n)
{
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        size_t i = 0;
        while (i < n && strcmp(key, names[i]) != 0)
            i++;
        if (i == n)
            return false;
    }
    return true;
}

/* Descriptor d in the other format (mediaType, size, digest, urls, in that
 * order), a new reference; NULL when it has a member the other format would
 * lose (annotations, platform) or a media type with no twin. */
static json_t *convert_descriptor(json_t *d, bool to_docker)
{
    static const char *const known[] = {"mediaType", "size", "digest", "urls"};
    json_t *size = json_object_get(d, "size"), *digest = json_object_get(d, "digest");
    json_t *urls = json_object_get(d, "urls");
    const char *mt = twin(em_get_str(d, "mediaType"), to_docker);
    if (!json_is_object(d) || !only_members(d, known, 4) || !mt || !json_is_integer(size) || !json_is_string(digest))
        return NULL;
    json_t *o = json_pack("{s:s, s:O, s:O}", "mediaType", mt, "size", size, "digest", digest);
    if (o && urls && json_object_set(o, "urls", urls) < 0) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

/* The image manifest text[0..len) of type `from` (OCI's or Docker's v2)
 * as the other format's, as Docker's distribution library writes one (Go's
 * MarshalIndent, three spaces; members schemaVersion, mediaType, config,
 * layers): em_malloc'd text and its length in *out_len; NULL when it does
 * not convert (a member or a media type the other format has not) or
 * memory ran out (then *nomem is set). */
static char *convert_manifest(const char *text, size_t len, const char *from, size_t *out_len, bool *nomem)
{
    static const char *const known[] = {"schemaVersion", "mediaType", "config", "layers"};
    bool to_docker = strcmp(from, OCI_MANIFEST) == 0;
    json_t *doc = json_loadb(text, len, 0, NULL);
    json_t *layers = json_object_get(doc, "layers");
    json_t *out = NULL;
    if (json_is_object(doc) && only_members(doc, known, 4) &&
        json_integer_value(json_object_get(doc, "schemaVersion")) == 2 &&
        same_text(em_get_str(doc, "mediaType"), from) && json_is_array(layers))
        out = json_pack("{s:i, s:s, s:o, s:[]}", "schemaVersion", 2, "mediaType", twin(from, to_docker), "config",
                        convert_descriptor(json_object_get(doc, "config"), to_docker), "layers");
    json_t *list = json_object_get(out, "layers");
    size_t i;
    json_t *l;
    json_array_foreach(layers, i, l) {
        if (out && json_array_append_new(list, convert_descriptor(l, to_docker)) < 0) {
            json_decref(out);
            out = NULL;
        }
    }
    json_decref(doc);
    char *dumped = out ? json_dumps(out, JSON_INDENT(3) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(out);
    char *copy = dumped ? em_strdup(dumped) : NULL;
    *nomem = dumped && !copy;
    em_json_free(dumped);
    *out_len = copy ? strlen(copy) : 0;
    return copy;
}

static bool listed(json_t *types, const char *mt)
{
    size_t i;
    json_t *t;
    json_array_foreach(types, i, t) {
        if (strcmp(json_string_value(t), mt) == 0)
            return true;
    }
    return false;
}

/* A pull by tag whose Accept excludes the stored type (the fact sheet, 4:
 * ECR converts Docker v2 schema 2 to OCI and back, and to schema 1, on a
 * pull by tag, none by digest): when the tagged image (its digest in
 * `from`) converts to a type the client accepts, its converted text
 * (em_malloc'd, *len, *type, its digest) and its stored type added to
 * `asked` (BatchGetImage's acceptedMediaTypes), so that the action finds
 * it and records the pull.  NULL: no conversion (*nomem set when memory ran
 * out). */
static char *conversion(reg *g, const char *ref, json_t *types, json_t *asked, size_t *len, const char **type,
                        char digest[ECRMOCK_DIGEST_SIZE], char from[ECRMOCK_DIGEST_SIZE], bool *nomem)
{
    char *conv = NULL;
    *nomem = false;
    em_lock(g->m);
    em_repo *repo = em_repo_get(em_registry_get(g->m, g->account), g->name);
    em_tag *t = repo ? em_tag_get(repo, ref) : NULL;
    em_image *img = t ? t->image : NULL;
    const char *to = img && img->media_type ? twin(img->media_type, strcmp(img->media_type, OCI_MANIFEST) == 0) : NULL;
    bool stored = img && img->media_type && listed(types, img->media_type);
    if (to && (strcmp(to, OCI_MANIFEST) == 0 || strcmp(to, DOCKER_V2) == 0) && listed(types, to) && !stored &&
        (conv = convert_manifest(img->manifest, img->manifest_len, img->media_type, len, nomem)))
        em_sha256_digest(conv, *len, digest);
    /* Schema 2 to schema 1 (manifest_schema1.c), for a client of schema 1 alone. */
    if (!conv && !*nomem && to && strcmp(to, OCI_MANIFEST) == 0 && !stored &&
        (listed(types, EM_MT_SCHEMA1_SIGNED) || listed(types, EM_MT_SCHEMA1)) &&
        (conv = em_manifest_schema1(g->m, repo, img, ref, len, digest, nomem)))
        to = EM_MT_SCHEMA1_SIGNED;
    if (conv && json_array_append_new(asked, json_string(img->media_type)) < 0) {
        em_free(conv);
        conv = NULL;
        *nomem = true;
    }
    if (conv)
        memcpy(from, img->digest, ECRMOCK_DIGEST_SIZE);
    em_unlock(g->m);
    *type = conv ? to : NULL;
    return conv;
}

static int manifest_get(reg *g, const char *ref)
{
    json_t *types = accepted(g->req);
    json_t *asked = types ? json_copy(types) : NULL;
    size_t conv_len = 0;
    const char *conv_type = NULL;
    bool nomem = false;
    char conv_digest[ECRMOCK_DIGEST_SIZE], conv_from[ECRMOCK_DIGEST_SIZE];
    char *conv = asked && json_array_size(types) && strncmp(ref, "sha256:", 7) != 0
                     ? conversion(g, ref, types, asked, &conv_len, &conv_type, conv_digest, conv_from, &nomem)
                     : NULL;
    if (nomem) {
        json_decref(types);
        json_decref(asked);
        return -1;
    }
    json_t *req = asked ? json_pack("{s:[o]}", "imageIds", image_id(ref)) : NULL;
    if (req && json_array_size(asked) && json_object_set(req, "acceptedMediaTypes", asked) < 0) {
        json_decref(req);
        req = NULL;
    }
    json_decref(types);
    json_decref(asked);
    json_t *out;
    int st = run_ok(g, "BatchGetImage", req, CTX_MANIFEST, NULL, &out);
    if (st != 0) {
        em_free(conv);
        return st;
    }
    json_t *img = json_array_get(json_object_get(out, "images"), 0);
    if (!img) {
        st = lookup_failed(g, out, CTX_MANIFEST);
        json_decref(out);
        em_free(conv);
        return st;
    }
    const char *body = json_string_value(json_object_get(img, "imageManifest"));
    size_t body_len = json_string_length(json_object_get(img, "imageManifest"));
    const char *type = json_string_value(json_object_get(img, "imageManifestMediaType"));
    const char *digest = json_string_value(json_object_get(json_object_get(img, "imageId"), "imageDigest"));
    if (conv && type && strcmp(type, conv_type) != 0 && (!digest || strcmp(digest, conv_from) != 0)) {
        /* A hook moved the tag during the action: what was converted is
         * another image, and the one found is of a type the client does not
         * take. */
        json_decref(out);
        em_free(conv);
        return reg_error(g, 404, "MANIFEST_UNKNOWN", "Requested image not found");
    }
    if (conv && type && strcmp(type, conv_type) != 0) {
        /* The stored type, asked for the client: the converted text goes out. */
        body = conv;
        body_len = conv_len;
        type = conv_type;
        digest = conv_digest;
    }
    /* ECR sends the digest on a HEAD, not on a GET (the fact sheet, end-3). */
    if (g->head && ((digest && add(g, "Docker-Content-Digest", digest) < 0) || add(g, "Sizes", "") < 0)) {
        json_decref(out);
        em_free(conv);
        return -1;
    }
    st = respond(g, 200, type ? type : "application/json", body, body_len);
    json_decref(out);
    em_free(conv);
    return st;
}

/* Create on push (the fact sheet, 3): the first request that names a
 * missing repository for writing, an upload's POST or a manifest PUT,
 * creates it when a repository creation template whose appliedFor holds
 * CREATE_ON_PUSH applies to its name (its prefix, else ROOT), with the
 * template's settings, as ECR does; without one the action answers
 * NAME_UNKNOWN.  The creation is no action of its own: it is not journaled,
 * and stays when the push then fails.  0: go on with the action; else the
 * status answered (the creation refused: a name no repository can have, the
 * quota), or -1. */
static int create_on_push(reg *g, reg_ctx ctx)
{
    json_t *req = json_pack("{s:s, s:s}", "repositoryName", g->name, "registryId", g->account);
    if (!req)
        return -1;
    em_call c = {.m = g->m, .req = req, .err = ECRMOCK_ERR_OK};
    em_repo *repo = NULL;
    int rc = 0;
    em_lock(g->m);
    if (!em_repo_get(em_registry_get(g->m, g->account), g->name))
        rc = em_repo_create_for(&c, "CREATE_ON_PUSH", true, &repo);
    em_unlock(g->m);
    int st = 0;
    if (rc < 0)
        st = c.err != ECRMOCK_ERR_SERVER && c.errdoc ? registry_error(g, 400, c.errdoc, ctx) : -1;
    json_decref(c.errdoc);
    json_decref(req);
    return st;
}

static int manifest_put(reg *g, const char *ref)
{
    int created = create_on_push(g, CTX_MANIFEST);
    if (created != 0)
        return created;
    const char *type = em_header(g->req->headers, g->req->n_headers, "Content-Type");
    json_t *text = json_stringn(g->req->body ? g->req->body : "", g->req->body_len);
    if (!text)
        return reg_error(g, 400, "MANIFEST_INVALID", "The manifest is not UTF-8 text");
    if (type && !em_utf8_ok(type)) {
        json_decref(text);
        return reg_error(g, 400, "MANIFEST_INVALID", "The manifest's Content-Type is not UTF-8 text");
    }
    json_t *req = json_pack("{s:o}", "imageManifest", text);
    if (req && (json_object_set_new(req, strncmp(ref, "sha256:", 7) == 0 ? "imageDigest" : "imageTag",
                                    json_string(ref)) < 0 ||
                (type && *type && json_object_set_new(req, "imageManifestMediaType", json_string(type)) < 0))) {
        json_decref(req);
        req = NULL;
    }
    json_t *out;
    int st = run_ok(g, "PutImage", req, CTX_MANIFEST, "ImageAlreadyExistsException", &out);
    if (st != 0)
        return st;
    json_decref(out);
    char digest[ECRMOCK_DIGEST_SIZE];
    em_sha256_digest(g->req->body ? g->req->body : "", g->req->body_len, digest);
    return pushed(g, g->name, "manifests", digest);
}

static int manifest_delete(reg *g, const char *ref)
{
    json_t *out;
    int st = run_ok(g, "BatchDeleteImage", json_pack("{s:[o]}", "imageIds", image_id(ref)), CTX_MANIFEST, NULL, &out);
    if (st != 0)
        return st;
    if (json_array_size(json_object_get(out, "imageIds")) == 0)
        st = lookup_failed(g, out, CTX_MANIFEST);
    else
        st = respond(g, 202, NULL, NULL, 0);
    json_decref(out);
    return st;
}

/* ---- blobs ------------------------------------------------------------------------- */

static int blob_head(reg *g, const char *digest)
{
    json_t *out;
    int st = run_ok(g, "BatchCheckLayerAvailability", json_pack("{s:[s]}", "layerDigests", digest), CTX_BLOB, NULL,
                    &out);
    if (st != 0)
        return st;
    json_t *layer = json_array_get(json_object_get(out, "layers"), 0);
    if (!layer) {
        st = lookup_failed(g, out, CTX_BLOB);
    } else {
        const char *type = json_string_value(json_object_get(layer, "mediaType"));
        json_int_t size = json_integer_value(json_object_get(layer, "layerSize"));
        st = add(g, "Docker-Content-Digest", digest) == 0
                 ? respond_sized(g, 200, type ? type : "application/octet-stream", NULL, 0, (long long)size)
                 : -1;
    }
    json_decref(out);
    return st;
}

static int blob_get(reg *g, const char *digest)
{
    json_t *out;
    int st = run_ok(g, "GetDownloadUrlForLayer", json_pack("{s:s}", "layerDigest", digest), CTX_BLOB, NULL, &out);
    if (st != 0)
        return st;
    const char *url = json_string_value(json_object_get(out, "downloadUrl"));
    st = add(g, "Location", url) == 0 && add(g, "Docker-Content-Digest", digest) == 0
                 ? respond(g, 307, NULL, NULL, 0)
                 : -1;
    json_decref(out);
    return st;
}

/* Query parameter `name`, decoded as a form's ('+' a space): 1 and its
 * value in *value (new em_malloc'd), 0 absent, -1 no memory (em_query_param()). */
static int query_param(const char *query, const char *name, char **value)
{
    return em_query_param(query, name, true, value, NULL);
}

/* ---- uploads --------------------------------------------------------------------- */

/* Location (and Range, when `range`) of upload `id`. */
static int upload_headers(reg *g, const char *id, bool range, long long last)
{
    char *loc = em_sprintf("%s/v2/%s/blobs/uploads/%s", g->base, g->name, id);
    char r[48];
    snprintf(r, sizeof r, "0-%lld", last < 0 ? 0 : last);
    int rc = loc && add(g, "Location", loc) == 0 && (!range || add(g, "Range", r) == 0) ? 0 : -1;
    em_free(loc);
    return rc;
}

/* Whether the registry's account has BLOB_MOUNTING on (PutAccountSetting). */
static bool mounting_enabled(reg *g)
{
    em_lock(g->m);
    em_registry *r = em_registry_get(g->m, g->account);
    const char *v = r ? em_get_str(r->account_settings, "BLOB_MOUNTING") : NULL;
    bool on = v && strcmp(v, "ENABLED") == 0;
    em_unlock(g->m);
    return on;
}

/* POST ?mount=<digest>&from=<repo> (ug:blob-mounting): with BLOB_MOUNTING
 * on, a layer an image of `from` references, in the same registry and with
 * the same encryption, joins this repository: 201.  The source is read as
 * GetDownloadUrlForLayer (the permission ECR asks there), so that call is
 * journaled; any refusal is no error, only a new session (ECR's 202).
 * Returns the status answered, 0 for "open a session instead", or -1. */
static int upload_mount(reg *g, const char *digest, const char *from)
{
    if (!mounting_enabled(g))
        return 0;
    char *to = g->name;
    g->name = (char *)from;
    json_t *out;
    int st = run(g, "GetDownloadUrlForLayer", json_pack("{s:s}", "layerDigest", digest), &out);
    g->name = to;
    json_decref(out);
    if (st != 200)
        return st < 0 ? -1 : 0;
    bool mounted = false;
    em_lock(g->m);
    em_registry *r = em_registry_get(g->m, g->account);
    em_repo *src = r ? em_repo_get(r, from) : NULL, *dst = r ? em_repo_get(r, to) : NULL;
    em_layer *l = src ? em_layer_get(src, digest) : NULL;
    /* "Blob mounting is not supported for images created via pull through
     * cache" (ug:blob-mounting): nothing mounts from a cache's repository. */
    if (l && dst && !em_ptc_covers(r, from) && same_text(src->encryption_type, dst->encryption_type) &&
        same_text(src->kms_key, dst->kms_key)) {
        unsigned char *none = NULL; /* the blob store has the bytes */
        em_layer *added = em_layer_add(g->m, dst, digest, &none, l->blob->len);
        if (added && !added->media_type && l->media_type)
            added->media_type = em_media_type_intern(l->media_type); /* best effort, as PutImage learns types */
        mounted = added != NULL;
    }
    em_unlock(g->m);
    if (!mounted)
        return 0;
    return pushed(g, to, "blobs", digest);
}

static int upload_start(reg *g, const char *query)
{
    int created = create_on_push(g, CTX_UPLOAD);
    if (created != 0)
        return created;
    char *digest = NULL, *from = NULL;
    int st = query_param(query, "mount", &digest) < 0 || query_param(query, "from", &from) < 0 ? -1 : 0;
    if (st == 0 && digest && from)
        st = upload_mount(g, digest, from);
    em_free(digest);
    em_free(from);
    if (st != 0)
        return st;
    json_t *out;
    st = run_ok(g, "InitiateLayerUpload", json_object(), CTX_UPLOAD, NULL, &out);
    if (st != 0)
        return st;
    st = upload_headers(g, json_string_value(json_object_get(out, "uploadId")), true, 0) == 0
             ? respond(g, 202, NULL, NULL, 0)
             : -1;
    json_decref(out);
    return st;
}

/* Upload `id` of g's repository (its repository in *repo), or NULL; the
 * caller holds the lock. */
static em_upload *upload_of(reg *g, const char *id, em_repo **repo)
{
    em_registry *r = em_registry_get(g->m, g->account);
    *repo = r ? em_repo_get(r, g->name) : NULL;
    return *repo ? em_upload_get(g->m, *repo, id) : NULL;
}

/* The bytes upload `id` holds so far: its length, or -1 (no such upload). */
static long long upload_length(reg *g, const char *id)
{
    long long n = -1;
    em_repo *repo;
    em_lock(g->m);
    em_upload *u = upload_of(g, id, &repo);
    if (u)
        n = (long long)u->bytes.len;
    em_unlock(g->m);
    return n;
}

/* Whether s[0..len) is a decimal integer int64_t holds, an optional '-'
 * and one or more digits, nothing else; its value in *v. */
static bool decimal(const char *s, size_t len, int64_t *v)
{
    bool neg = len && s[0] == '-';
    size_t i = neg;
    uint64_t n = 0, max = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    if (i == len)
        return false;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9' || n > (max - (uint64_t)(s[i] - '0')) / 10)
            return false;
        n = n * 10 + (uint64_t)(s[i] - '0');
    }
    *v = neg ? (n == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)n) : (int64_t)n;
    return true;
}

/* The bytes a chunk's Content-Range names: "<first>-<last>", the
 * specification's form (a "bytes=" or "bytes " before it tolerated), both
 * offsets int64_t holds, first <= last; false for anything else. */
static bool content_range(const char *v, int64_t *first, int64_t *last)
{
    if (strncmp(v, "bytes=", 6) == 0 || strncmp(v, "bytes ", 6) == 0)
        v += 6;
    const char *dash = strchr(v, '-');
    return dash && dash > v && decimal(v, (size_t)(dash - v), first) && decimal(dash + 1, strlen(dash + 1), last) &&
           *first >= 0 && *last >= *first;
}

/* A chunk's Content-Range refused: the specification's 416 (for "Invalid
 * Content-Range header format" as for a chunk out of order) with the
 * upload's Location and true Range, the code ECR gives its 416,
 * BLOB_UPLOAD_INVALID; an unknown upload is 404 BLOB_UPLOAD_UNKNOWN. */
static int range_refused(reg *g, const char *id, const char *message)
{
    long long n = upload_length(g, id);
    if (n < 0)
        return reg_error(g, 404, "BLOB_UPLOAD_UNKNOWN", "Requested upload not found");
    return upload_headers(g, id, true, n - 1) == 0 ? reg_error(g, 416, "BLOB_UPLOAD_INVALID", message) : -1;
}

/* Appends the request body to upload `id` as UploadLayerPart calls of at
 * most PART_MAX bytes each: 0 with the last byte in *last, or the status of
 * the error answered (or -1). */
static int upload_append(reg *g, const char *id, long long *last)
{
    long long first = upload_length(g, id);
    const char *range = em_header(g->req->headers, g->req->n_headers, "Content-Range");
    if (range) { /* the client's claim: its first byte is checked by the action (416) */
        int64_t from, to;
        if (!content_range(range, &from, &to))
            return range_refused(g, id, "The Content-Range header is not <first byte>-<last byte>, two offsets "
                                        "from 0 to 9223372036854775807, the first not past the last");
        if ((uint64_t)(to - from) + 1 != g->req->body_len) {
            char *why = em_sprintf("The Content-Range header names %llu bytes but the body has %zu",
                                   (unsigned long long)(to - from) + 1, g->req->body_len);
            int st = why ? range_refused(g, id, why) : -1;
            em_free(why);
            return st;
        }
        first = from;
    }
    if (first < 0)
        first = 0;
    *last = first - 1;
    const char *p = g->req->body;
    size_t left = g->req->body_len;
    while (left) {
        size_t n = left < PART_MAX ? left : PART_MAX;
        /* The part goes in raw, not as base64, on the call (em_via): its
         * request carries its length, layerPartLength, instead of
         * layerPartBlob; the journal entry has the bytes as layerPartBlob
         * (journal.c), so that a recording replays them (README, "The
         * registry plane"). */
        json_t *req = json_pack("{s:s, s:I, s:I, s:I}", "uploadId", id, "partFirstByte", (json_int_t)first,
                                "partLastByte", (json_int_t)(first + ((long long)n - 1)), "layerPartLength",
                                (json_int_t)n);
        json_t *out;
        int st = checked(g, run_via(g, "UploadLayerPart", req, p, n, &out), CTX_UPLOAD, NULL, &out);
        if (st != 0)
            return st;
        *last = (long long)json_integer_value(json_object_get(out, "lastByteReceived"));
        json_decref(out);
        p += n;
        left -= n;
        if (left) /* then *last is before the range's end: no overflow */
            first = *last + 1;
    }
    return 0;
}

/* The last byte a PATCH's Range names, `last` the true one: ECR's stays at
 * the first PATCH's for every later one, though it stores each chunk
 * (containers-roadmap#2831: "it gets stuck at the first chunk boundary and
 * does not advance for subsequent PATCHes"; the fact sheet, end-5). */
static long long patch_range(reg *g, const char *id, long long last)
{
    em_repo *repo;
    em_lock(g->m);
    em_upload *u = upload_of(g, id, &repo);
    if (u && !u->patched && last >= 0) {
        u->patched = true;
        u->patch_range = last;
    }
    if (u && u->patched)
        last = u->patch_range;
    em_unlock(g->m);
    return last;
}

static int upload_patch(reg *g, const char *id)
{
    long long last;
    int st = upload_append(g, id, &last);
    if (st != 0)
        return st;
    if (!g->req->body_len && upload_length(g, id) < 0)
        return reg_error(g, 404, "BLOB_UPLOAD_UNKNOWN", "Requested upload not found");
    last = patch_range(g, id, last);
    /* ECR answers a chunk 201, not the specification's 202 (the fact sheet, end-5). */
    return upload_headers(g, id, true, last) == 0 ? respond(g, 201, NULL, NULL, 0) : -1;
}

static int upload_put(reg *g, const char *id, const char *query)
{
    char *digest;
    if (query_param(query, "digest", &digest) < 0)
        return -1;
    if (!digest || !*digest) {
        em_free(digest);
        return reg_error(g, 400, "DIGEST_INVALID", "The digest parameter is missing");
    }
    long long last;
    int st = upload_append(g, id, &last);
    if (st != 0) {
        em_free(digest);
        return st;
    }
    json_t *out;
    st = run_ok(g, "CompleteLayerUpload", json_pack("{s:s, s:[s]}", "uploadId", id, "layerDigests", digest),
                CTX_UPLOAD, "LayerAlreadyExistsException", &out);
    if (st == 0)
        st = pushed(g, g->name, "blobs", digest);
    json_decref(out);
    em_free(digest);
    return st;
}

/* GET (status) or DELETE (cancel) of an upload: no ECR action, answered from the store. */
static int upload_state(reg *g, const char *id, bool cancel)
{
    long long n = upload_length(g, id);
    if (n < 0)
        return reg_error(g, 404, "BLOB_UPLOAD_UNKNOWN", "Requested upload not found");
    if (cancel) {
        em_repo *repo;
        em_lock(g->m);
        em_upload *u = upload_of(g, id, &repo);
        if (u)
            em_upload_remove(repo, u);
        em_unlock(g->m);
        return respond(g, 204, NULL, NULL, 0);
    }
    return upload_headers(g, id, true, n - 1) == 0 ? respond(g, 204, NULL, NULL, 0) : -1;
}

/* ---- listings ---------------------------------------------------------------------- */

/* Link: <...?last=<token>>; rel="next" for `path`, from the output's nextToken. */
static int link_next(reg *g, json_t *out, const char *path)
{
    const char *token = json_string_value(json_object_get(out, "nextToken"));
    if (!token)
        return 0;
    em_buf b = {0};
    char *head = em_sprintf("<%s%s?last=", g->base, path);
    static const char tail[] = ">; rel=\"next\""; /* with its NUL */
    int rc = head && em_buf_append(&b, head, strlen(head)) == 0 &&
                     em_uri_encode(&b, token, strlen(token), false) == 0 && em_buf_append(&b, tail, sizeof tail) == 0
                 ? add(g, "Link", (const char *)b.data)
                 : -1;
    em_free(head);
    em_buf_release(&b);
    return rc;
}

/* Sets req's maxResults and nextToken from the query's n and last: 0, the
 * status answered, or -1 (req NULL: no memory before).  An integer n that
 * maxResults (a 32-bit integer in the model) holds is maxResults whatever
 * its value, so that the action's constraint answers (ECR's n over 1000 is
 * the maxResults text as UNSUPPORTED: the fact sheet, end-8); any other n
 * ("", "abc", "5x", past 32 bits) is distribution's 400
 * PAGINATION_NUMBER_INVALID ("invalid number of results requested"): ECR's
 * answer is not known. */
static int paged(reg *g, json_t *req, const char *query)
{
    char *n = NULL, *last = NULL;
    size_t n_len = 0, last_len = 0;
    int64_t count = 0;
    int st = 0;
    if (!req || em_query_param(query, "n", true, &n, &n_len) < 0 ||
        em_query_param(query, "last", true, &last, &last_len) < 0)
        st = -1;
    else if (n && (!decimal(n, n_len, &count) || count < INT32_MIN || count > INT32_MAX))
        st = reg_error(g, 400, "PAGINATION_NUMBER_INVALID",
                       "invalid number of results requested: n is not an integer from -2147483648 to 2147483647");
    else if ((n && json_object_set_new(req, "maxResults", json_integer((json_int_t)count)) < 0) ||
             (last && json_object_set_new(req, "nextToken", json_stringn(last, last_len)) < 0))
        st = -1;
    em_free(n);
    em_free(last);
    return st;
}

/* The `key` member of each object of `list` that has one (new reference;
 * NULL: no memory). */
static json_t *members(json_t *list, const char *key)
{
    json_t *out = json_array();
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item) {
        json_t *v = json_object_get(item, key);
        if (out && v && json_array_append(out, v) < 0) {
            json_decref(out);
            out = NULL;
        }
    }
    return out;
}

static int tags_list(reg *g, const char *query)
{
    json_t *out;
    json_t *req = json_pack("{s:{s:s}}", "filter", "tagStatus", "TAGGED");
    int st = paged(g, req, query);
    if (st != 0) {
        json_decref(req);
        return st;
    }
    st = run_ok(g, "ListImages", req, CTX_LIST, NULL, &out);
    if (st != 0)
        return st;
    json_t *tags = members(json_object_get(out, "imageIds"), "imageTag");
    json_t *doc = tags ? json_pack("{s:s, s:o}", "name", g->name, "tags", tags) : NULL;
    char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    char *path = em_sprintf("/v2/%s/tags/list", g->name);
    st = text && path && link_next(g, out, path) == 0
             ? respond(g, 200, "text/plain; charset=utf-8", text, strlen(text))
             : -1;
    em_free(path);
    em_json_free(text);
    json_decref(doc);
    json_decref(out);
    return st;
}

static int catalog(reg *g, const char *query)
{
    json_t *out;
    json_t *req = json_object();
    int st = paged(g, req, query);
    if (st != 0) {
        json_decref(req);
        return st;
    }
    st = run_ok(g, "DescribeRepositories", req, CTX_LIST, NULL, &out);
    if (st != 0)
        return st;
    json_t *names = members(json_object_get(out, "repositories"), "repositoryName");
    json_t *doc = names ? json_pack("{s:o}", "repositories", names) : NULL;
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    st = text && link_next(g, out, "/v2/_catalog") == 0 ? respond(g, 200, ERROR_TYPE, text, strlen(text)) : -1;
    em_json_free(text);
    json_decref(doc);
    json_decref(out);
    return st;
}

/* ---- referrers (OCI 1.1) ------------------------------------------------------------ */

#define OCI_INDEX "application/vnd.oci.image.index.v1+json"

/* GET /v2/<name>/referrers/<digest>: ListImageReferrers (its JSON twin; the
 * IAM action ECR checks is not documented), its page as an OCI image index;
 * ?artifactType= as the filter (OCI-Filters-Applied), a next page by Link. */
static int referrers(reg *g, const char *digest, const char *query)
{
    char *type;
    if (query_param(query, "artifactType", &type) < 0)
        return -1;
    json_t *req = json_pack("{s:{s:s}}", "subjectId", "imageDigest", digest);
    int st = paged(g, req, query);
    if (st == 0 && type && json_object_set_new(req, "filter", json_pack("{s:[s]}", "artifactTypes", type)) < 0)
        st = -1;
    if (st != 0) {
        json_decref(req);
        em_free(type);
        return st;
    }
    json_t *out;
    st = run_ok(g, "ListImageReferrers", req, CTX_BLOB, NULL, &out);
    if (st != 0) {
        em_free(type);
        return st;
    }
    json_t *list = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(out, "referrers"), i, r) {
        json_t *d = json_pack("{s:O, s:O, s:O}", "mediaType", json_object_get(r, "mediaType"), "digest",
                              json_object_get(r, "digest"), "size", json_object_get(r, "size"));
        json_t *at = json_object_get(r, "artifactType"), *an = json_object_get(r, "annotations");
        if (!d || (at && json_object_set(d, "artifactType", at) < 0) ||
            (an && json_object_set(d, "annotations", an) < 0) || json_array_append_new(list, d) < 0) {
            json_decref(list);
            list = NULL;
            break;
        }
    }
    json_t *doc = list ? json_pack("{s:i, s:s, s:o}", "schemaVersion", 2, "mediaType", OCI_INDEX, "manifests", list)
                       : NULL;
    char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    char *path = em_sprintf("/v2/%s/referrers/%s", g->name, digest);
    st = text && path && link_next(g, out, path) == 0 && (!type || add(g, "OCI-Filters-Applied", "artifactType") == 0)
             ? respond(g, 200, OCI_INDEX, text, strlen(text))
             : -1;
    em_free(path);
    em_json_free(text);
    json_decref(doc);
    json_decref(out);
    em_free(type);
    return st;
}

/* ---- routing ------------------------------------------------------------------------- */

/* What ECR serves nothing for (a blob DELETE): the fact sheet's choice, the
 * specification's 405. */
static int unsupported(reg *g)
{
    return reg_error(g, 405, "UNSUPPORTED", "The operation is unsupported.");
}

/* The last occurrence of `what` in s, or NULL. */
static const char *last_of(const char *s, const char *what)
{
    const char *found = NULL;
    for (const char *p = strstr(s, what); p; p = strstr(p + 1, what))
        found = p;
    return found;
}

static int route(reg *g, const char *path, const char *query)
{
    const char *meth = g->req->method;
    bool get = strcmp(meth, "GET") == 0 || g->head;
    /* Names, references and page tokens are all UTF-8 text at the API. */
    char *plain = em_uri_decode(query, strlen(query), false); /* its values must be text once decoded too */
    if (!plain)
        return -1;
    bool text = em_utf8_ok(path) && em_utf8_ok(query) && em_utf8_ok(plain);
    em_free(plain);
    if (!text)
        return reg_error(g, 400, "NAME_INVALID", "The request's path or query is not UTF-8 text");
    if (strcmp(path, "/v2/") == 0 || strcmp(path, "/v2") == 0)
        return get ? respond(g, 200, ERROR_TYPE, "{}", 2) : unsupported(g);
    if (strcmp(path, "/v2/_catalog") == 0 && get)
        return catalog(g, query);
    const char *rest = path + 4, *mark;
    const char *kinds[] = {"/manifests/", "/blobs/uploads", "/blobs/", "/tags/list", "/referrers/"};
    int kind = -1;
    for (int k = 0; k < 5 && kind < 0; k++)
        if ((mark = last_of(rest, kinds[k])) && mark > rest)
            kind = k;
    if (kind < 0 || !(g->name = em_strndup(rest, (size_t)(mark - rest))))
        return kind < 0 ? reg_error(g, 404, "NAME_UNKNOWN", "The requested path is not a registry endpoint") : -1;
    const char *arg = mark + strlen(kinds[kind]);
    switch (kind) {
    case 0:
        if (get)
            return manifest_get(g, arg);
        if (strcmp(meth, "PUT") == 0)
            return manifest_put(g, arg);
        if (strcmp(meth, "DELETE") == 0)
            return manifest_delete(g, arg);
        break;
    case 1:
        if (*arg == '\0' || strcmp(arg, "/") == 0)
            return strcmp(meth, "POST") == 0 ? upload_start(g, query) : unsupported(g);
        arg++;
        if (strcmp(meth, "PATCH") == 0)
            return upload_patch(g, arg);
        if (strcmp(meth, "PUT") == 0)
            return upload_put(g, arg, query);
        if (strcmp(meth, "GET") == 0 || strcmp(meth, "DELETE") == 0)
            return upload_state(g, arg, strcmp(meth, "DELETE") == 0);
        break;
    case 2:
        if (g->head)
            return blob_head(g, arg);
        if (get)
            return blob_get(g, arg);
        break;
    case 3:
        if (get && *arg == '\0')
            return tags_list(g, query);
        break;
    case 4:
        if (get)
            return referrers(g, arg, query);
        break;
    }
    return unsupported(g);
}

bool em_registry_wants(ecrmock *m, const char *host, size_t host_len, const char *path)
{
    (void)m;
    char account[13], region[EM_REGION_SIZE];
    if (host && em_registry_host(host, host_len, account, region))
        return true;
    bool v2 = strcmp(path, "/v2") == 0 || strncmp(path, "/v2/", 4) == 0;
    return v2 && !(host && em_ecr_host(host, host_len, region) != EM_HOST_OTHER);
}

int em_registry_handle(ecrmock *m, const ecrmock_http_request *req, const char *host, size_t host_len,
                       const char *path, const char *query, ecrmock_http_response *r)
{
    reg g = {.m = m, .req = req, .r = r, .head = strcmp(req->method, "HEAD") == 0};
    bool registry_host = host && em_registry_host(host, host_len, g.account, g.region);
    if (registry_host) {
        snprintf(g.base, sizeof g.base, "https://%.*s", (int)(host_len < 256 ? host_len : 256), host);
    } else {
        em_lock(m);
        snprintf(g.account, sizeof g.account, "%s", m->account);
        snprintf(g.region, sizeof g.region, "%s", m->region);
        em_unlock(m);
    }
    int st = authenticate(&g, registry_host);
    if (st != 0)
        return st;
    /* The registry's region is entered for the whole request, as the API's
     * endpoint is (http.c). */
    em_lock(m);
    em_view v;
    bool moved = strcmp(g.region, m->region) != 0;
    if (moved && em_view_enter(m, NULL, g.region, &v) < 0) {
        em_unlock(m);
        return -1;
    }
    st = route(&g, path, query);
    if (moved)
        em_view_leave(m, &v);
    em_unlock(m);
    em_free(g.name);
    return st;
}
