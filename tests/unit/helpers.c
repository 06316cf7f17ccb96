/*
 * The shared helpers of ecrmock's cmocka tests, compiled once; each is
 * described where helpers.h declares it.
 */
#include "helpers.h"

#include <arpa/inet.h>
#include <stdatomic.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

void sha256_digest(const void *p, size_t n, char out[ECRMOCK_DIGEST_SIZE])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    assert_int_equal(EVP_Digest(p, n, md, &md_len, EVP_sha256(), NULL), 1);
    assert_int_equal(md_len, 32);
    memcpy(out, "sha256:", 7);
    for (unsigned int i = 0; i < md_len; i++)
        snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
}

void temp_file(char *path, const char *text)
{
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
}

void build_tool_path(char *out, size_t cap, const char *argv0, const char *name)
{
    snprintf(out, cap, "%s", argv0);
    char *slash = strrchr(out, '/');
    if (slash)
        *slash = '\0';
    slash = strrchr(out, '/');
    if (slash)
        snprintf(slash + 1, cap - (size_t)(slash + 1 - out), "%s", name);
    else
        snprintf(out, cap, "../%s", name);
}

int setup_mock(void **state)
{
    ecrmock_options o = ECRMOCK_OPTIONS_INIT;
    o.min_part_size = 1024;
    *state = ecrmock_new(&o);
    return *state ? 0 : -1;
}

int teardown_mock(void **state)
{
    ecrmock_free(*state);
    return 0;
}

int vcall(ecrmock *m, json_t **out, const char *action, const char *fmt, va_list ap)
{
    char text[65536];
    vsnprintf(text, sizeof text, fmt, ap);
    json_error_t err;
    json_t *req = json_loads(text, 0, &err);
    if (!req)
        fail_msg("test request is not JSON: %s: %s", err.text, text);
    int status = ecrmock_call(m, action, req, out);
    json_decref(req);
    return status;
}

int call(ecrmock *m, json_t **out, const char *action, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int status = vcall(m, out, action, fmt, ap);
    va_end(ap);
    return status;
}

const char *jstr(json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "(absent)";
}

const char *err_type(json_t *resp)
{
    const char *t = json_string_value(json_object_get(resp, "__type"));
    return t ? t : "";
}

const char *err_message(json_t *resp)
{
    const char *t = json_string_value(json_object_get(resp, "message"));
    if (!t)
        t = json_string_value(json_object_get(resp, "Message"));
    return t ? t : "";
}

void assert_fail_msg(int status, json_t **resp, const char *type, const char *msg)
{
    assert_string_equal(err_type(*resp), type);
    assert_string_equal(err_message(*resp), msg);
    assert_int_equal(status, 400);
    json_decref(*resp);
    *resp = NULL;
}

void assert_repo_not_found(int status, json_t **resp, const char *repo, const char *registry)
{
    char msg[512];
    snprintf(msg, sizeof msg, "The repository with name '%s' does not exist in the registry with id '%s'", repo,
             registry);
    assert_fail_msg(status, resp, "RepositoryNotFoundException", msg);
}

void assert_image_not_found(int status, json_t **resp, const char *digest, const char *tag, const char *repo,
                            const char *registry)
{
    char msg[768];
    snprintf(msg, sizeof msg,
             "The image with imageId {imageDigest:'%s', imageTag:'%s'} does not exist within the repository with "
             "name '%s' in the registry with id '%s'",
             digest ? digest : "null", tag ? tag : "null", repo, registry);
    assert_fail_msg(status, resp, "ImageNotFoundException", msg);
}

void call_ok(ecrmock *m, const char *action, const char *fmt, ...)
{
    json_t *r = NULL;
    va_list ap;
    va_start(ap, fmt);
    int status = vcall(m, &r, action, fmt, ap);
    va_end(ap);
    assert_ok(status, r);
    json_decref(r);
}

void create_repo(ecrmock *m, const char *name)
{
    call_ok(m, "CreateRepository", "{\"repositoryName\": \"%s\"}", name);
}

void initiate_upload(ecrmock *m, const char *repo, char *id)
{
    json_t *r = NULL;
    assert_ok(call(m, &r, "InitiateLayerUpload", "{\"repositoryName\": \"%s\"}", repo), r);
    const char *s = json_string_value(json_object_get(r, "uploadId"));
    assert_non_null(s);
    assert_int_equal(strlen(s), 36);
    memcpy(id, s, 37);
    json_decref(r);
}

void push_layer(ecrmock *m, const char *repo, const void *bytes, size_t len, char *digest_out)
{
    assert_int_equal(ecrmock_put_layer(m, NULL, repo, bytes, len, digest_out, NULL), ECRMOCK_ERR_OK);
}

char *make_manifest(ecrmock *m, const char *repo, int n_layers, int salt)
{
    char config[128], digest[ECRMOCK_DIGEST_SIZE];
    int n = snprintf(config, sizeof config, "{\"architecture\":\"amd64\",\"os\":\"linux\",\"salt\":%d}", salt);
    push_layer(m, repo, config, (size_t)n, digest);
    json_t *mf = json_pack("{s:i, s:s, s:{s:s, s:i, s:s}, s:[]}", "schemaVersion", 2, "mediaType",
                           "application/vnd.docker.distribution.manifest.v2+json", "config", "mediaType",
                           "application/vnd.docker.container.image.v1+json", "size", n, "digest", digest, "layers");
    for (int i = 0; i < n_layers; i++) {
        char layer[64];
        int ln = snprintf(layer, sizeof layer, "layer %d of image %d", i, salt);
        push_layer(m, repo, layer, (size_t)ln, digest);
        json_array_append_new(json_object_get(mf, "layers"),
                              json_pack("{s:s, s:i, s:s}", "mediaType",
                                        "application/vnd.docker.image.rootfs.diff.tar.gzip", "size", ln, "digest",
                                        digest));
    }
    char *text = json_dumps(mf, JSON_COMPACT);
    json_decref(mf);
    return text;
}

char *put_image(ecrmock *m, const char *repo, const char *manifest, const char *tag)
{
    json_t *req = json_pack("{s:s, s:s, s:s*}", "repositoryName", repo, "imageManifest", manifest, "imageTag", tag);
    json_t *r = NULL;
    int st = ecrmock_call(m, "PutImage", req, &r);
    json_decref(req);
    assert_ok(st, r);
    char *digest = strdup(json_string_value(json_object_get(json_object_get(json_object_get(r, "image"), "imageId"), "imageDigest")));
    json_decref(r);
    return digest;
}

char *push_new_image(ecrmock *m, const char *repo, int n_layers, int salt, const char *tag)
{
    char *mf = make_manifest(m, repo, n_layers, salt);
    char *d = put_image(m, repo, mf, tag);
    free(mf);
    return d;
}

char *new_repo_with_image(ecrmock *m, const char *repo, int n_layers, const char *tag)
{
    create_repo(m, repo);
    return push_new_image(m, repo, n_layers, 1, tag);
}

char *put_manifest_list(ecrmock *m, const char *repo, size_t n, char *const *children, const char *tag)
{
    json_t *mf = json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType",
                           "application/vnd.docker.distribution.manifest.list.v2+json", "manifests");
    for (size_t i = 0; i < n; i++)
        json_array_append_new(json_object_get(mf, "manifests"),
                              json_pack("{s:s, s:i, s:s, s:{s:s, s:s}}", "mediaType",
                                        "application/vnd.docker.distribution.manifest.v2+json", "size", 400, "digest",
                                        children[i], "platform", "architecture", i ? "arm64" : "amd64", "os", "linux"));
    char *text = json_dumps(mf, JSON_COMPACT);
    json_decref(mf);
    char *d = put_image(m, repo, text, tag);
    free(text);
    return d;
}

size_t repo_count(ecrmock *m, const char *registry)
{
    json_t *req = json_pack("{s:i, s:s*}", "maxResults", 1000, "registryId", registry);
    json_t *r = NULL;
    int st = ecrmock_call(m, "DescribeRepositories", req, &r);
    json_decref(req);
    assert_ok(st, r);
    assert_null(json_object_get(r, "nextToken"));
    size_t n = json_array_size(json_object_get(r, "repositories"));
    json_decref(r);
    return n;
}

json_t *describe_repo(ecrmock *m, const char *name)
{
    json_t *r = NULL;
    assert_ok(call(m, &r, "DescribeRepositories", "{\"repositoryNames\": [\"%s\"]}", name), r);
    json_t *repo = json_incref(json_array_get(json_object_get(r, "repositories"), 0));
    json_decref(r);
    return repo;
}

json_t *describe_image(ecrmock *m, const char *repo, const char *digest)
{
    json_t *r = NULL;
    assert_ok(call(m, &r, "DescribeImages", "{\"repositoryName\": \"%s\", \"imageIds\": [{\"imageDigest\": \"%s\"}]}",
                   repo, digest),
              r);
    json_t *details = json_object_get(r, "imageDetails");
    assert_int_equal(json_array_size(details), 1);
    json_t *d = json_incref(json_array_get(details, 0));
    json_decref(r);
    return d;
}

json_t *one_tag(const char *key, const char *value)
{
    return json_pack("[{s:s, s:s}]", "Key", key, "Value", value);
}

json_t *repo_view(ecrmock *m, const char *repo)
{
    json_t *l = NULL, *d = NULL;
    assert_ok(call(m, &l, "ListImages", "{\"repositoryName\": \"%s\"}", repo), l);
    assert_ok(call(m, &d, "DescribeImages", "{\"repositoryName\": \"%s\"}", repo), d);
    return json_pack("{s:o, s:o}", "list", l, "describe", d);
}

void assert_repo_unchanged(ecrmock *m, const char *repo, json_t *before)
{
    json_t *now = repo_view(m, repo);
    if (!json_equal(before, now)) {
        char *a = json_dumps(before, JSON_COMPACT), *b = json_dumps(now, JSON_COMPACT);
        fail_msg("the repository changed:\nbefore %s\nafter  %s", a, b);
    }
    json_decref(now);
    json_decref(before);
}

void assert_state_is(ecrmock *m, json_t *before, const char *what)
{
    json_t *now = ecrmock_snapshot(m, NULL);
    assert_non_null(now);
    char *a = json_dumps(before, JSON_COMPACT), *b = json_dumps(now, JSON_COMPACT);
    assert_non_null(a);
    assert_non_null(b);
    if (strcmp(a, b) != 0)
        fail_msg("%s changed the state:\nbefore %.2000s\nafter  %.2000s", what, a, b);
    free(a);
    free(b);
    json_decref(now);
}

json_t *answer_of(ecrmock *m, const char *action, const char *request)
{
    json_t *r = NULL;
    assert_ok(call(m, &r, action, "%s", request), r);
    return r;
}

void assert_answer_unchanged(ecrmock *m, const char *action, const char *request, json_t *before)
{
    json_t *now = answer_of(m, action, request);
    if (!json_equal(before, now)) {
        char *a = json_dumps(before, JSON_COMPACT), *b = json_dumps(now, JSON_COMPACT);
        fail_msg("%s answers differently:\nbefore %s\nafter  %s", action, a, b);
    }
    json_decref(now);
    json_decref(before);
}

void assert_same_answer(ecrmock *a, ecrmock *b, const char *action, const char *request)
{
    json_t *ra = answer_of(a, action, request), *rb = answer_of(b, action, request);
    if (!json_equal(ra, rb)) {
        char *x = json_dumps(ra, JSON_COMPACT), *y = json_dumps(rb, JSON_COMPACT);
        fail_msg("%s differs between the instances:\n%s\n%s", action, x, y);
    }
    json_decref(ra);
    json_decref(rb);
}

void assert_tag_refused(ecrmock *m, const char *repo, const char *manifest, const char *tag)
{
    json_t *before = repo_view(m, repo);
    json_t *req = json_pack("{s:s, s:s, s:s}", "repositoryName", repo, "imageManifest", manifest, "imageTag", tag);
    json_t *r = NULL;
    int st = ecrmock_call(m, "PutImage", req, &r);
    json_decref(req);
    char msg[512];
    snprintf(msg, sizeof msg,
             "The image tag '%s' already exists in the '%s' repository and cannot be overwritten because the "
             "repository is immutable.",
             tag, repo);
    assert_fail_msg(st, &r, "ImageTagAlreadyExistsException", msg);
    assert_repo_unchanged(m, repo, before);
}

void join_member(json_t *list, const char *member, char *out, size_t cap)
{
    size_t i, used = 0;
    json_t *item;
    out[0] = '\0';
    json_array_foreach(list, i, item) {
        const char *v = json_string_value(json_object_get(item, member));
        used += (size_t)snprintf(out + used, cap - used, "%s%s", i ? "," : "", v ? v : "(absent)");
        assert_true(used < cap);
    }
}

void assert_listed(ecrmock *m, const char *action, const char *request, const char *list, const char *member,
                   const char *want)
{
    json_t *r = NULL;
    assert_ok(call(m, &r, action, "%s", request), r);
    char got[4096];
    join_member(json_object_get(r, list), member, got, sizeof got);
    json_decref(r);
    assert_string_equal(got, want);
}

const option_case option_cases[] = {
    {"accountId", "\"111122223333\"", "ECRMOCK_CURL_ACCOUNT", "1111"},
    {"region", "\"eu-west-2\"", "ECRMOCK_CURL_REGION", "EU"},
    {"clockStartMs", "1100000000000", "ECRMOCK_CURL_CLOCK_START_MS", "253402300800000"},
    {"seed", "-5", "ECRMOCK_CURL_SEED", "-5"},
    {"minPartSize", "1024", "ECRMOCK_CURL_MIN_PART_SIZE", "1k"},
    {"uploadLifetimeMs", "60000", "ECRMOCK_CURL_UPLOAD_LIFETIME_MS", "-1"},
    {"maxRepositories", "3", "ECRMOCK_CURL_MAX_REPOSITORIES", "x"},
    {"maxImages", "5", "ECRMOCK_CURL_MAX_IMAGES", "-5"},
    {"maxLayerParts", "7", "ECRMOCK_CURL_MAX_LAYER_PARTS", "7.5"},
    {"journalLimit", "9", "ECRMOCK_CURL_JOURNAL_LIMIT", "18446744073709551616"},
    {"maxLayerBytes", "1048576", "ECRMOCK_CURL_MAX_LAYER_BYTES", "1e6"},
    {"maxLayersPerImage", "4", "ECRMOCK_CURL_MAX_LAYERS_PER_IMAGE", " 4"},
    {"maxTagsPerImage", "6", "ECRMOCK_CURL_MAX_TAGS_PER_IMAGE", "+6"},
    {"maxResourceTags", "2", "ECRMOCK_CURL_MAX_RESOURCE_TAGS", "0x2"},
    {"tokenLength", "1000", "ECRMOCK_CURL_TOKEN_LENGTH", "511"},
    {"maxSynthBytes", "4096", "ECRMOCK_CURL_MAX_SYNTH_BYTES", "-"},
    {"journalMaxBytes", "65536", "ECRMOCK_CURL_JOURNAL_MAX_BYTES", "64M"},
};
const size_t option_case_count = sizeof option_cases / sizeof option_cases[0];

ecrmock_err test_err;

int err_code_checked(long rc, const ecrmock_err *err)
{
    if (rc < 0) {
        assert_int_equal(rc, -1);
        assert_int_not_equal(err->code, ECRMOCK_ERR_OK);
        assert_true(err->text[0] != '\0');
    } else {
        assert_int_equal(err->code, ECRMOCK_ERR_OK);
        assert_string_equal(err->path, "");
        assert_string_equal(err->text, "");
    }
    return (int)err->code;
}

ecrmock_err *dirty_err(void)
{
    test_err.code = ECRMOCK_ERR_SERVER;
    snprintf(test_err.path, sizeof test_err.path, "old.json: $.old");
    snprintf(test_err.text, sizeof test_err.text, "an old failure");
    return &test_err;
}

long add_fault(ecrmock *m, const char *text)
{
    json_t *rule = json_loads(text, 0, NULL);
    assert_non_null(rule);
    ecrmock_err err;
    long id = ecrmock_fault_add_json(m, rule, &err);
    json_decref(rule);
    if (id < 0)
        fail_msg("rule refused: %s", err.text);
    return id;
}

int http_post(ecrmock *m, ecrmock_http_response *resp, const char *action, const char *body, ...)
{
    ecrmock_http_header h[16];
    char target[128];
    snprintf(target, sizeof target, "AmazonEC2ContainerRegistry_V20150921.%s", action);
    h[0] = (ecrmock_http_header){"Content-Type", "application/x-amz-json-1.1"};
    h[1] = (ecrmock_http_header){"X-Amz-Target", target};
    size_t n = 2;
    va_list ap;
    va_start(ap, body);
    for (const char *name; (name = va_arg(ap, const char *));) {
        assert_true(n < 16);
        h[n].name = name;
        h[n].value = va_arg(ap, const char *);
        n++;
    }
    va_end(ap);
    ecrmock_http_response own;
    int st = http_send(m, resp ? resp : &own, "POST", "/", h, n, body);
    if (!resp)
        ecrmock_http_response_release(&own);
    return st;
}

char *login(ecrmock *m)
{
    json_t *out = NULL;
    assert_int_equal(call(m, &out, "GetAuthorizationToken", "{}"), 200);
    const char *token = STR(json_array_get(json_object_get(out, "authorizationData"), 0), "authorizationToken");
    assert_non_null(token);
    size_t n = strlen(token) + 7;
    char *basic = malloc(n);
    snprintf(basic, n, "Basic %s", token);
    json_decref(out);
    return basic;
}

void assert_header(const ecrmock_http_response *r, const char *name, const char *want)
{
    const char *v = ecrmock_http_response_header(r, name);
    if (!want) {
        assert_null(v);
        return;
    }
    assert_non_null(v);
    assert_string_equal(v, want);
}

int dial(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

double seconds_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int http_send(ecrmock *m, ecrmock_http_response *resp, const char *method, const char *target,
              const ecrmock_http_header *h, size_t n, const char *body)
{
    ecrmock_http_request req = ECRMOCK_HTTP_REQUEST_INIT;
    req.method = method;
    req.target = target;
    req.headers = h;
    req.n_headers = n;
    req.body = body;
    req.body_len = body ? strlen(body) : 0;
    return ecrmock_http_handle(m, &req, resp);
}

json_t *nested(const char *repo, size_t depth)
{
    json_t *top = json_pack("{s:s, s:[]}", "repositoryName", repo, "x"), *at = json_object_get(top, "x");
    for (size_t level = 2; level < depth; level++) { /* the top object is level 1, "x" level 2 */
        json_t *next = json_array();
        json_array_append_new(at, next);
        at = next;
    }
    return top;
}

/* Releases nested()'s tree from the bottom up (jansson's release recurses too). */
void release_nested(json_t *top)
{
    size_t n = 0;
    for (json_t *at = json_object_get(top, "x"); at; at = json_array_get(at, 0))
        n++;
    json_t **levels = malloc(n * sizeof *levels);
    assert_non_null(levels);
    n = 0;
    for (json_t *at = json_object_get(top, "x"); at; at = json_array_get(at, 0))
        levels[n++] = at;
    while (n-- > 0)
        json_array_clear(levels[n]); /* frees levels[n + 1], emptied before */
    free(levels);
    json_decref(top);
}

/* ---- a marked allocator ---------------------------------------------------------- */

#define MARK "ecrmock!"
static atomic_long marked_blocks, marked_freed;

void *marked_malloc(size_t n)
{
    unsigned char *p = malloc(n + 16);
    if (!p)
        return NULL;
    memcpy(p, MARK, 8);
    atomic_fetch_add(&marked_blocks, 1);
    return p + 16;
}

/* The block under q, which must be one of marked_malloc's. */
static unsigned char *marked_block(void *q)
{
    unsigned char *p = (unsigned char *)q - 16;
    if (memcmp(p, MARK, 8) != 0)
        abort(); /* not one of ours: freed with the wrong function */
    return p;
}

void *marked_realloc(void *q, size_t n)
{
    if (!q)
        return marked_malloc(n);
    unsigned char *p = realloc(marked_block(q), n + 16);
    return p ? p + 16 : NULL;
}

void marked_free(void *q)
{
    if (!q)
        return;
    unsigned char *p = marked_block(q);
    memset(p, 0, 8);
    atomic_fetch_sub(&marked_blocks, 1);
    atomic_fetch_add(&marked_freed, 1);
    free(p);
}

long marked_live(void)
{
    return atomic_load(&marked_blocks);
}

long marked_frees(void)
{
    return atomic_load(&marked_freed);
}
