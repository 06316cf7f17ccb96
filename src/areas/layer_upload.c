/*
 * Layer uploads as ECR runs them: InitiateLayerUpload opens an upload,
 * UploadLayerPart appends contiguous inclusive byte ranges from 0,
 * CompleteLayerUpload checks the bytes against the digest and adds the layer
 * to the repository.  BatchCheckLayerAvailability says which layers a
 * repository has.
 *
 * The SHA-256 of an upload is computed part by part as the bytes arrive, so
 * completing even a large layer costs no second pass over it.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "areas/areas.h"

/* The most bytes one layerPartBlob holds (the model's LayerPartBlob). */
#define MAX_PART_BLOB UINT64_C(20971520)
/* Bytes copied (or base64 text decoded) and hashed a piece at a time (a multiple of 4). */
#define UPLOAD_CHUNK ((size_t)64 * 1024)

/* The request's repository (*repo) and its upload named by uploadId; NULL
 * with the call's failure set (RepositoryNotFound, UploadNotFound). */
static em_upload *upload_of(em_call *c, em_repo **repo)
{
    *repo = em_repo_lookup(c);
    if (!*repo)
        return NULL;
    const char *id = em_get_str(c->req, "uploadId");
    em_upload *u = em_upload_get(c->m, *repo, id);
    if (!u)
        em_fail_text(c, EM_MSG_UPLOAD_NOT_FOUND, id, (*repo)->name, (*repo)->registry->id);
    return u;
}

/*
 * InitiateLayerUpload's partSize, "the size, in bytes, that Amazon ECR
 * expects future layer part uploads to be" (API reference): ECR answers
 * 10485760 with its 5 MiB minimum part (the quota page: parts of 5 to
 * 10 MiB), so twice min_part_size, at most the largest blob a part can carry
 * (20,971,520 bytes) unless min_part_size itself is larger.  A client that
 * sends parts of partSize then goes multi-part as soon as a layer is larger.
 */
static int64_t part_size(uint64_t min)
{
    uint64_t part = min <= MAX_PART_BLOB / 2 ? 2 * min : MAX_PART_BLOB;
    if (part < min)
        part = min;
    return part > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)part;
}

int em_InitiateLayerUpload(em_call *c)
{
    em_repo *repo = em_repo_lookup(c);
    if (!repo)
        return -1;
    em_upload *u = em_calloc(1, sizeof *u);
    if (!u)
        return em_fail_nomem(c);
    u->sha = EVP_MD_CTX_new();
    if (!u->sha || !EVP_DigestInit_ex(u->sha, EVP_sha256(), NULL))
        goto nomem;
    em_uuid(c->m, u->id);
    u->touched_ms = c->m->clock_ms;
    json_int_t part = part_size(c->m->opts.min_part_size);
    if (em_set(c->out, "uploadId", em_json_string(u->id)) < 0 || em_set(c->out, "partSize", json_integer(part)) < 0 ||
        em_upload_insert(repo, u) < 0)
        goto nomem;
    return 0;
nomem:
    EVP_MD_CTX_free(u->sha);
    em_free(u);
    return em_fail_nomem(c);
}

/* InvalidLayerPartException's members, on the error `rc` (-1) just set. */
static int invalid_part(int rc, em_call *c, em_repo *repo, em_upload *u)
{
    json_t *doc = c->errdoc;
    /* all the members or none: an error without them is ServerException */
    if (!doc || em_set(doc, "registryId", em_json_string(repo->registry->id)) < 0 ||
        em_set(doc, "repositoryName", em_json_string(repo->name)) < 0 ||
        em_set(doc, "uploadId", em_json_string(u->id)) < 0 ||
        em_set(doc, "lastValidByteReceived", json_integer((json_int_t)u->bytes.len - 1)) < 0)
        return em_fail_nomem(c);
    return rc;
}

/*
 * Appends n bytes to upload u as one part and hashes them, from `src`:
 * `srclen` characters of checked base64 text (the JSON level's
 * layerPartBlob) when `b64`, else the n raw bytes themselves (the registry
 * plane's body, em_call.raw_part).  The bytes go straight into the upload's
 * buffer, past its length, a cache-sized chunk at a time, and each chunk is
 * hashed while it is still in the cache: one pass over the source, none over
 * a copy.  The part's room in the buffer is prefaulted in one step first
 * (em_prefault), not a page fault per 4 KiB page during the copy.  The running hash is a copy until every chunk is in, so that a
 * failure leaves the upload as it was.  `out` (stolen) is the call's output.
 */
static int upload_append(em_call *c, em_upload *u, const char *src, size_t srclen, bool b64, size_t n, json_t *out)
{
    EVP_MD_CTX *sha = EVP_MD_CTX_new();
    if (!out || !sha || !EVP_MD_CTX_copy_ex(sha, u->sha) || em_buf_reserve(&u->bytes, b64 ? srclen / 4 * 3 : n) < 0) {
        json_decref(out);
        EVP_MD_CTX_free(sha);
        return em_fail_nomem(c);
    }
    unsigned char *dst = u->bytes.data + u->bytes.len;
    em_prefault(dst, n);
    size_t done = 0, w = 0;
    while (done < srclen) {
        size_t chunk = srclen - done < UPLOAD_CHUNK ? srclen - done : UPLOAD_CHUNK, got = chunk;
        if (b64)
            got = em_base64_decode_valid(src + done, chunk, dst + w);
        else
            memcpy(dst + w, src + done, chunk);
        if (got == SIZE_MAX) {
            json_decref(out);
            EVP_MD_CTX_free(sha);
            return em_fail_text(c, EM_MSG_BASE64_INVALID);
        }
        EVP_DigestUpdate(sha, dst + w, got);
        w += got;
        done += chunk;
    }
    EVP_MD_CTX_free(u->sha);
    u->sha = sha;
    u->bytes.len += n;
    if (u->parts > 0 && u->last_part_len < c->m->opts.min_part_size)
        u->small_part = true; /* the previous part was not the last after all */
    u->parts++;
    u->last_part_len = n;
    u->touched_ms = c->m->clock_ms;
    json_decref(c->out);
    c->out = out;
    return 0;
}

int em_UploadLayerPart(em_call *c)
{
    em_repo *repo;
    em_upload *u = upload_of(c, &repo);
    if (!u)
        return -1;

    /* The validator has checked both are from 0 to INT64_MAX (PartSize's
     * minimum is 0), so the range's size, up to 2^63, is computed unsigned. */
    int64_t first = em_get_int(c->req, "partFirstByte", 0);
    int64_t last = em_get_int(c->req, "partLastByte", 0);
    if (first != (int64_t)u->bytes.len)
        return invalid_part(em_fail_text(c, EM_MSG_LAYER_PART_FIRST_BYTE, (unsigned long long)first,
                                         (unsigned long long)u->bytes.len),
                            c, repo, u);
    if (last < first)
        return invalid_part(
            em_fail_text(c, EM_MSG_LAYER_PART_LAST_BYTE, (unsigned long long)last, (unsigned long long)first), c, repo,
            u);
    /* The bytes: the registry plane's raw body, or layerPartBlob, whose
     * base64 the validator has checked: its length is known without
     * decoding it. */
    bool raw = c->raw_part != NULL;
    json_t *blob = json_object_get(c->req, "layerPartBlob");
    const char *src = raw ? (const char *)c->raw_part : json_string_value(blob);
    size_t srclen = raw ? c->raw_part_len : json_string_length(blob);
    size_t n = raw ? srclen : em_base64_valid_len(src, srclen);
    uint64_t span = (uint64_t)last - (uint64_t)first + 1;
    if (span != n)
        return invalid_part(em_fail_text(c, EM_MSG_LAYER_PART_SIZE, (unsigned long long)span, (unsigned long long)n), c,
                            repo, u);
    if (u->parts >= c->m->opts.max_layer_parts)
        return em_fail_text(c, EM_MSG_LAYER_PART_LIMIT, u->id, repo->name, repo->registry->id,
                            (unsigned long long)c->m->opts.max_layer_parts);
    if ((uint64_t)u->bytes.len + n > c->m->opts.max_layer_bytes)
        return em_fail_text(c, EM_MSG_LAYER_TOO_LARGE, (unsigned long long)c->m->opts.max_layer_bytes);
    json_t *out = json_pack("{s:s, s:s, s:s, s:I}", "registryId", repo->registry->id, "repositoryName",
                            repo->name, "uploadId", u->id, "lastByteReceived", (json_int_t)last);
    return upload_append(c, u, src, srclen, !raw, n, out);
}

/* The digest of what an upload holds, without closing its running hash. */
static int upload_digest(em_upload *u, char *out)
{
    EVP_MD_CTX *copy = EVP_MD_CTX_new();
    unsigned char md[32];
    if (!copy || !EVP_MD_CTX_copy_ex(copy, u->sha) || !EVP_DigestFinal_ex(copy, md, NULL)) {
        EVP_MD_CTX_free(copy);
        return -1;
    }
    EVP_MD_CTX_free(copy);
    memcpy(out, "sha256:", 7);
    em_hex(md, 32, out + 7);
    return 0;
}

int em_CompleteLayerUpload(em_call *c)
{
    em_repo *repo;
    em_upload *u = upload_of(c, &repo);
    if (!u)
        return -1;
    if (u->bytes.len == 0)
        return em_fail_text(c, EM_MSG_EMPTY_UPLOAD, u->id, repo->name, repo->registry->id);
    if (u->small_part) {
        uint64_t min = c->m->opts.min_part_size;
        if (min % (1024 * 1024) == 0)
            return em_fail_text(c, EM_MSG_LAYER_PART_TOO_SMALL_MB, (unsigned long long)(min / (1024 * 1024)));
        return em_fail_text(c, EM_MSG_LAYER_PART_TOO_SMALL_BYTES, (unsigned long long)min);
    }
    char digest[ECRMOCK_DIGEST_SIZE];
    if (upload_digest(u, digest) < 0)
        return em_fail_nomem(c);
    json_t *digests = json_object_get(c->req, "layerDigests");
    bool match = false;
    size_t i;
    json_t *d;
    json_array_foreach(digests, i, d) match = match || strcmp(json_string_value(d), digest) == 0;
    if (!match)
        return em_fail_text(c, EM_MSG_INVALID_LAYER);
    if (em_layer_get(repo, digest))
        return em_fail_text(c, EM_MSG_LAYER_ALREADY_EXISTS, digest, repo->name, repo->registry->id);

    json_t *out = json_pack("{s:s, s:s, s:s, s:s}", "registryId", repo->registry->id, "repositoryName",
                            repo->name, "uploadId", u->id, "layerDigest", digest);
    if (!out)
        return em_fail_nomem(c);
    unsigned char *data = u->bytes.data;
    if (!em_layer_add(c->m, repo, digest, &data, u->bytes.len)) {
        json_decref(out);
        return em_fail_nomem(c);
    }
    if (!data) /* the blob store took the bytes */
        u->bytes.data = NULL;
    em_upload_remove(repo, u);
    json_decref(c->out);
    c->out = out;
    return 0;
}

/* ---- BatchCheckLayerAvailability ------------------------------------------------ */

static bool digest_well_formed(const char *d)
{
    if (strncmp(d, "sha256:", 7) != 0 || strlen(d) != 71)
        return false;
    for (const char *p = d + 7; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

static json_t *layer_failure(const char *digest, const char *code, const char *reason)
{
    return json_pack("{s:s, s:s, s:s}", "layerDigest", digest, "failureCode", code, "failureReason", reason);
}

int em_BatchCheckLayerAvailability(em_call *c)
{
    em_repo *repo = em_repo_lookup(c);
    if (!repo)
        return -1;
    if (em_set(c->out, "layers", json_array()) < 0 || em_set(c->out, "failures", json_array()) < 0)
        return em_fail_nomem(c);
    json_t *layers = json_object_get(c->out, "layers"), *failures = json_object_get(c->out, "failures");
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(c->req, "layerDigests"), i, d) {
        const char *digest = json_string_value(d);
        json_t *item;
        em_layer *l = NULL;
        if (!*digest)
            item = layer_failure(digest, "MissingLayerDigest", "Missing layer digest");
        else if (!digest_well_formed(digest))
            item = layer_failure(digest, "InvalidLayerDigest", "Invalid layer digest");
        else if (!(l = em_layer_get(repo, digest)))
            item = layer_failure(digest, "MissingLayerDigest", "Could not find layer");
        else if ((item = json_object()) &&
                 (em_set(item, "layerDigest", em_json_string(digest)) < 0 ||
                  em_set(item, "layerAvailability", em_json_string("AVAILABLE")) < 0 ||
                  em_set(item, "layerSize", json_integer((json_int_t)l->blob->len)) < 0 ||
                  (l->media_type && em_set(item, "mediaType", em_json_string(l->media_type)) < 0))) {
            json_decref(item);
            item = NULL;
        }
        if (json_array_append_new(l ? layers : failures, item) < 0)
            return em_fail_nomem(c);
    }
    return 0;
}

/* ---- the tree-free form (areas.h; issue 19) ---------------------------------------------
 *
 * BatchCheckLayerAvailability's answer, the handler's bytes, for the requests
 * it is sure of; anything else it declines with nothing changed. */

/* A LayerFailure, after a comma unless the first of b. */
static int fast_layer_failure(em_buf *b, const char *digest, size_t len, const char *code, const char *reason)
{
    return (b->len && EM_JW_LIT(b, ",") < 0) || EM_JW_LIT(b, "{\"layerDigest\":") < 0 ||
                   em_jw_string(b, digest, len) < 0 || EM_JW_STR_AFTER(b, ",\"failureCode\":", code) < 0 ||
                   EM_JW_STR_AFTER(b, ",\"failureReason\":", reason) < 0 || EM_JW_LIT(b, "}") < 0
               ? -1
               : 0;
}

int em_fast_BatchCheckLayerAvailability(em_fast *f)
{
    em_repo *repo = em_fast_repo(f);
    size_t digests = em_jget(f->req, 0, "layerDigests");
    if (!repo || !digests || f->req->t[digests].type != EM_J_ARRAY)
        return EM_FAST_DECLINED;
    em_buf failures = {0};
    size_t n_layers = 0, k = digests + 1, used = f->used;
    int err = EM_JW_LIT(f->out, "{\"layers\":[");
    for (uint32_t i = 0; !err && i < f->req->t[digests].count; i++, k = f->req->t[k].next) {
        bool full = false;
        size_t len = 0;
        f->used = used;
        const char *digest = em_fast_tok_str(f, k, &len, &full);
        em_layer *l = NULL;
        if (!digest) {
            err = -1; /* not a string, or longer than the scratch: the handler's */
        } else if (!*digest) {
            err = fast_layer_failure(&failures, digest, len, "MissingLayerDigest", "Missing layer digest");
        } else if (!digest_well_formed(digest)) {
            err = fast_layer_failure(&failures, digest, len, "InvalidLayerDigest", "Invalid layer digest");
        } else if (!(l = em_layer_get(repo, digest))) {
            err = fast_layer_failure(&failures, digest, len, "MissingLayerDigest", "Could not find layer");
        } else {
            err = (n_layers++ && EM_JW_LIT(f->out, ",") < 0) || EM_JW_LIT(f->out, "{\"layerDigest\":") < 0 ||
                  em_jw_string(f->out, digest, len) < 0 ||
                  EM_JW_LIT(f->out, ",\"layerAvailability\":\"AVAILABLE\",\"layerSize\":") < 0 ||
                  em_jw_int(f->out, (int64_t)l->blob->len) < 0 ||
                  (l->media_type && EM_JW_STR_AFTER(f->out, ",\"mediaType\":", l->media_type) < 0) ||
                  EM_JW_LIT(f->out, "}") < 0;
        }
    }
    err = err || EM_JW_LIT(f->out, "],\"failures\":[") < 0 || em_buf_append(f->out, failures.data, failures.len) < 0 ||
          EM_JW_LIT(f->out, "]}") < 0 || em_buf_reserve(f->out, 1) < 0;
    em_buf_release(&failures);
    return err ? EM_FAST_DECLINED : 0;
}
