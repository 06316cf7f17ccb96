/*
 * SigV4 checks at the HTTP level (ecrmock_http_credentials_set): requests
 * signed here, independently of the library (OpenSSL's HMAC and SHA-256, the
 * canonical request written out by hand), the way the public SigV4 test
 * suite builds its vectors; then accepted, and each way to break one answered
 * with AWS's error and text.  The library's signer is also checked against
 * two of the suite's published vectors.
 */
#include "helpers.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "fronts/fronts.h" /* em_sigv4_sign, for the published vectors */

#define AKID "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define HOST "api.ecr.us-east-1.amazonaws.com"
#define DATE "20240101T000000Z" /* the default virtual clock */
#define TARGET "AmazonEC2ContainerRegistry_V20150921.CreateRepository"
#define BODY "{\"repositoryName\":\"signed\"}"
#define EMPTY_HASH "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static int setup_signed(void **state)
{
    *state = ecrmock_new(NULL);
    if (!*state || ecrmock_http_credentials_set(*state, AKID, SECRET, NULL) != 0)
        return -1;
    return 0;
}

static void hex(const unsigned char *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static void sha_hex(const char *s, size_t n, char out[65])
{
    unsigned char md[32];
    EVP_Digest(s, n, md, NULL, EVP_sha256(), NULL);
    hex(md, 32, out);
}

static void mac(const void *key, size_t klen, const char *msg, unsigned char out[32])
{
    unsigned int len = 32;
    HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, strlen(msg), out, &len);
}

/* What a signer does, here written out for one request shape:
 * POST / with content-type, host, x-amz-date and x-amz-target signed. */
typedef struct signed_req {
    char canonical[2048], sts[512], sig[65], auth[512];
} signed_req;

static void sign(signed_req *s, const char *body, const char *date, const char *akid, const char *secret,
                 const char *scope_region, const char *scope_service)
{
    char payload[65], cr_hash[65];
    sha_hex(body, strlen(body), payload);
    snprintf(s->canonical, sizeof s->canonical,
             "POST\n/\n\ncontent-type:application/x-amz-json-1.1\nhost:" HOST "\nx-amz-date:%s\nx-amz-target:" TARGET
             "\n\ncontent-type;host;x-amz-date;x-amz-target\n%s",
             date, payload);
    sha_hex(s->canonical, strlen(s->canonical), cr_hash);
    snprintf(s->sts, sizeof s->sts, "AWS4-HMAC-SHA256\n%s\n%.8s/%s/%s/aws4_request\n%s", date, date, scope_region,
             scope_service, cr_hash);
    char k[128], day[9];
    snprintf(k, sizeof k, "AWS4%s", secret);
    snprintf(day, sizeof day, "%.8s", date);
    unsigned char a[32], b[32];
    mac(k, strlen(k), day, a);
    mac(a, 32, scope_region, b);
    mac(b, 32, scope_service, a);
    mac(a, 32, "aws4_request", b);
    mac(b, 32, s->sts, a);
    hex(a, 32, s->sig);
    snprintf(s->auth, sizeof s->auth,
             "AWS4-HMAC-SHA256 Credential=%s/%.8s/%s/%s/aws4_request, "
             "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=%s",
             akid, date, scope_region, scope_service, s->sig);
}

/* POST / with these headers and body; *out: the answer's JSON document. */
static int post(ecrmock *m, const ecrmock_http_header *h, size_t n, const char *body, json_t **out)
{
    ecrmock_http_request req = ECRMOCK_HTTP_REQUEST_INIT;
    req.method = "POST";
    req.target = "/";
    req.headers = h;
    req.n_headers = n;
    req.body = body;
    req.body_len = strlen(body);
    ecrmock_http_response r;
    int st = ecrmock_http_handle(m, &req, &r);
    assert_int_equal(st, r.status);
    *out = json_loadb(r.body, r.body_len, 0, NULL);
    assert_non_null(*out);
    ecrmock_http_response_release(&r);
    return st;
}

/* Sends BODY (or `body`) with the given Authorization (NULL: none) and date. */
static int send_req(ecrmock *m, const char *auth, const char *date, const char *body, json_t **out)
{
    ecrmock_http_header h[5] = {
        {"Content-Type", "application/x-amz-json-1.1"},
        {"Host", HOST},
        {"X-Amz-Date", date},
        {"X-Amz-Target", TARGET},
        {"Authorization", auth},
    };
    return post(m, h, auth ? 5 : 4, body, out);
}

static void assert_refused(ecrmock *m, const char *auth, const char *date, const char *body, const char *type,
                           const char *message)
{
    json_t *r = NULL;
    int st = send_req(m, auth, date, body, &r);
    assert_int_equal(st, 400);
    assert_string_equal(err_type(r), type);
    if (message)
        assert_string_equal(err_message(r), message);
    json_decref(r);
    /* nothing reached ECR */
    assert_null(ecrmock_images(m, NULL, "signed", NULL));
    assert_int_equal(ecrmock_call_count(m, NULL), 0);
}

/* ---- the library's signer against the published suite ---------------------------- */

static void test_sigv4_published_vector_get_vanilla(void **state)
{
    (void)state;
    ecrmock_http_header h[] = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
    em_sigv4_input in = {"GET", "/", "", h, 2, NULL, 0};
    char *cr = NULL, *sts = NULL, sig[65];
    assert_int_equal(em_sigv4_sign(&in, "host;x-amz-date", "20150830T123600Z", "us-east-1", "service", SECRET, &cr,
                                   &sts, sig),
                     0);
    assert_string_equal(cr, "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
                            EMPTY_HASH);
    assert_string_equal(sts, "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
                             "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
    assert_string_equal(sig, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    free(cr);
    free(sts);
}

static void test_sigv4_published_vector_query_order(void **state)
{
    (void)state;
    ecrmock_http_header h[] = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
    em_sigv4_input in = {"GET", "/", "Param2=value2&Param1=value1", h, 2, NULL, 0};
    char *cr = NULL, *sts = NULL, sig[65];
    assert_int_equal(em_sigv4_sign(&in, "host;x-amz-date", "20150830T123600Z", "us-east-1", "service", SECRET, &cr,
                                   &sts, sig),
                     0);
    assert_non_null(strstr(cr, "\nParam1=value1&Param2=value2\n"));
    assert_string_equal(sig, "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
    free(cr);
    free(sts);
}

/* ---- acceptance ---------------------------------------------------------------------- */

static void test_sigv4_signed_request_accepted(void **state)
{
    ecrmock *m = *state;
    signed_req s;
    sign(&s, BODY, DATE, AKID, SECRET, "us-east-1", "ecr");
    json_t *r = NULL;
    assert_int_equal(send_req(m, s.auth, DATE, BODY, &r), 200);
    assert_string_equal(json_string_value(json_object_get(json_object_get(r, "repository"), "repositoryName")),
                        "signed");
    json_decref(r);
    assert_int_equal(ecrmock_call_count(m, "CreateRepository"), 1);
}

static void test_sigv4_header_values_trimmed_and_folded(void **state)
{
    ecrmock *m = *state;
    signed_req s;
    sign(&s, BODY, DATE, AKID, SECRET, "us-east-1", "ecr");
    /* the same signature with extra spaces in the header: still verifies */
    ecrmock_http_header h[] = {
        {"content-type", "  application/x-amz-json-1.1 "}, {"HOST", HOST}, {"x-amz-date", DATE},
        {"x-amz-target", TARGET}, {"authorization", s.auth},
    };
    ecrmock_http_request req = ECRMOCK_HTTP_REQUEST_INIT;
    req.method = "POST";
    req.target = "/";
    req.headers = h;
    req.n_headers = 5;
    req.body = BODY;
    req.body_len = strlen(BODY);
    ecrmock_http_response r;
    assert_int_equal(ecrmock_http_handle(m, &req, &r), 200);
    ecrmock_http_response_release(&r);
}

static void test_sigv4_date_within_five_minutes_accepted(void **state)
{
    ecrmock *m = *state;
    ecrmock_clock_advance(m, 300000, NULL); /* 5 minutes after DATE: still good */
    signed_req s;
    sign(&s, BODY, DATE, AKID, SECRET, "us-east-1", "ecr");
    json_t *r = NULL;
    assert_int_equal(send_req(m, s.auth, DATE, BODY, &r), 200);
    json_decref(r);
}

static void test_sigv4_off_by_default(void **state)
{
    (void)state;
    ecrmock *m = ecrmock_new(NULL);
    json_t *r = NULL;
    assert_int_equal(send_req(m, NULL, DATE, BODY, &r), 200);
    json_decref(r);
    /* and off again with NULLs */
    assert_int_equal(ecrmock_http_credentials_set(m, AKID, SECRET, NULL), 0);
    assert_int_equal(send_req(m, NULL, DATE, "{\"repositoryName\":\"x2\"}", &r), 400);
    json_decref(r);
    assert_int_equal(ecrmock_http_credentials_set(m, NULL, NULL, NULL), 0);
    assert_int_equal(send_req(m, NULL, DATE, "{\"repositoryName\":\"x2\"}", &r), 200);
    json_decref(r);
    assert_int_equal(ecrmock_http_credentials_set(m, AKID, NULL, NULL), -1);
    assert_int_equal(ecrmock_http_credentials_set(NULL, AKID, SECRET, NULL), -1);
    ecrmock_free(m);
}

static void test_sigv4_kept_by_reset(void **state)
{
    ecrmock *m = *state;
    ecrmock_reset(m);
    assert_refused(m, NULL, DATE, BODY, "MissingAuthenticationTokenException", "Request is missing Authentication Token");
}

/* ---- each way to break a request ------------------------------------------------------ */

static void test_sigv4_missing_authorization(void **state)
{
    assert_refused(*state, NULL, DATE, BODY, "MissingAuthenticationTokenException",
                   "Request is missing Authentication Token");
    assert_refused(*state, "AWS4", DATE, BODY, "MissingAuthenticationTokenException",
                   "Request is missing Authentication Token");
    assert_refused(*state, "Bearer abc", DATE, BODY, "MissingAuthenticationTokenException",
                   "Request is missing Authentication Token");
}

static void test_sigv4_incomplete_header(void **state)
{
    assert_refused(*state, "AWS4-", DATE, BODY, "IncompleteSignatureException",
                   "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' "
                   "parameter. Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4-");
    const char *a = "AWS4-HMAC-SHA256 Credential=" AKID "/20240101/us-east-1/ecr/aws4_request, Signature=abc";
    char want[512];
    snprintf(want, sizeof want, "Authorization header requires 'SignedHeaders' parameter. Authorization=%s", a);
    assert_refused(*state, a, DATE, BODY, "IncompleteSignatureException", want);
}

static void test_sigv4_missing_date(void **state)
{
    ecrmock *m = *state;
    signed_req s;
    sign(&s, BODY, DATE, AKID, SECRET, "us-east-1", "ecr");
    ecrmock_http_header h[] = {{"Content-Type", "application/x-amz-json-1.1"}, {"Host", HOST},
                               {"X-Amz-Target", TARGET}, {"Authorization", s.auth}};
    ecrmock_http_request req = ECRMOCK_HTTP_REQUEST_INIT;
    req.method = "POST";
    req.target = "/";
    req.headers = h;
    req.n_headers = 4;
    ecrmock_http_response r;
    assert_int_equal(ecrmock_http_handle(m, &req, &r), 400);
    char want[1024];
    snprintf(want, sizeof want,
             "{\"__type\":\"IncompleteSignatureException\",\"message\":\"Authorization header requires existence of "
             "either a 'X-Amz-Date' or a 'Date' header. Authorization=%s\"}",
             s.auth);
    assert_string_equal(r.body, want);
    ecrmock_http_response_release(&r);
}

static void test_sigv4_pair_without_equal_sign(void **state)
{
    const char *a = "AWS4-HMAC-SHA256 Credential=" AKID "/20240101/us-east-1/ecr/aws4_request, SignedHeaders=host;"
                    "x-amz-date, Signature";
    char want[512];
    snprintf(want, sizeof want,
             "'Signature' not a valid key=value pair (missing equal-sign) in Authorization header: '%s'.", a);
    assert_refused(*state, a, DATE, BODY, "IncompleteSignatureException", want);
}

static void test_sigv4_host_and_date_must_be_signed(void **state)
{
    const char *a = "AWS4-HMAC-SHA256 Credential=" AKID "/20240101/us-east-1/ecr/aws4_request, "
                    "SignedHeaders=content-type;x-amz-date, Signature=00";
    assert_refused(*state, a, DATE, BODY, "IncompleteSignatureException",
                   "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
    a = "AWS4-HMAC-SHA256 Credential=" AKID "/20240101/us-east-1/ecr/aws4_request, SignedHeaders=host, Signature=00";
    assert_refused(*state, a, DATE, BODY, "IncompleteSignatureException",
                   "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.");
}

static void test_sigv4_bad_credential_and_date_format(void **state)
{
    const char *a = "AWS4-HMAC-SHA256 Credential=" AKID "/20240101/us-east-1/ecr, SignedHeaders=host;x-amz-date, "
                    "Signature=00";
    assert_refused(*state, a, DATE, BODY, "IncompleteSignatureException",
                   "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '"
                   AKID "/20240101/us-east-1/ecr'");
    a = "AWS4-HMAC-SHA256 Credential=" AKID "/20240101/us-east-1/ecr/aws4_request, SignedHeaders=host;x-amz-date, "
        "Signature=00";
    assert_refused(*state, a, "2024-01-01T00:00:00Z", BODY, "IncompleteSignatureException",
                   "Date must be in ISO-8601 'basic format'. Got '2024-01-01T00:00:00Z'. See "
                   "http://en.wikipedia.org/wiki/ISO_8601");
    a = "AWS4-HMAC-SHA1 Credential=x, SignedHeaders=host, Signature=00";
    assert_refused(*state, a, DATE, BODY, "IncompleteSignatureException",
                   "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA1'.");
}

static void test_sigv4_unknown_access_key(void **state)
{
    signed_req s;
    sign(&s, BODY, DATE, "AKIDOTHER", SECRET, "us-east-1", "ecr");
    assert_refused(*state, s.auth, DATE, BODY, "UnrecognizedClientException",
                   "The security token included in the request is invalid.");
}

static void test_sigv4_wrong_secret_shows_expected_strings(void **state)
{
    signed_req good, bad;
    sign(&good, BODY, DATE, AKID, SECRET, "us-east-1", "ecr");
    sign(&bad, BODY, DATE, AKID, "not the secret", "us-east-1", "ecr");
    char want[4096];
    snprintf(want, sizeof want,
             "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
             "Access Key and signing method. Consult the service documentation for details.\n\nThe Canonical String "
             "for this request should have been\n'%s'\n\nThe String-to-Sign should have been\n'%s'\n",
             good.canonical, good.sts);
    assert_refused(*state, bad.auth, DATE, BODY, "InvalidSignatureException", want);
}

static void test_sigv4_tampered_body(void **state)
{
    signed_req s, truth;
    sign(&s, BODY, DATE, AKID, SECRET, "us-east-1", "ecr");
    const char *other = "{\"repositoryName\":\"signex\"}";
    sign(&truth, other, DATE, AKID, SECRET, "us-east-1", "ecr");
    json_t *r = NULL;
    assert_int_equal(send_req(*state, s.auth, DATE, other, &r), 400);
    assert_string_equal(err_type(r), "InvalidSignatureException");
    /* the expected canonical request carries the hash of what arrived */
    assert_non_null(strstr(err_message(r), truth.canonical));
    json_decref(r);
}

static void test_sigv4_wrong_scope(void **state)
{
    signed_req s;
    sign(&s, BODY, DATE, AKID, SECRET, "eu-west-1", "ecr");
    assert_refused(*state, s.auth, DATE, BODY, "InvalidSignatureException",
                   "Credential should be scoped to a valid region, not 'eu-west-1'.");
    sign(&s, BODY, DATE, AKID, SECRET, "us-east-1", "ecs");
    assert_refused(*state, s.auth, DATE, BODY, "InvalidSignatureException",
                   "Credential should be scoped to correct service: 'ecr'.");
    const char *a = "AWS4-HMAC-SHA256 Credential=" AKID "/20231231/us-east-1/ecr/aws4_request, "
                    "SignedHeaders=host;x-amz-date, Signature=00";
    assert_refused(*state, a, DATE, BODY, "InvalidSignatureException",
                   "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                   "'20231231' != '20240101', from '20240101T000000Z'.");
    a = "AWS4-HMAC-SHA256 Credential=" AKID "/20240101/us-east-1/ecr/aws4_reqest, SignedHeaders=host;x-amz-date, "
        "Signature=00";
    assert_refused(*state, a, DATE, BODY, "InvalidSignatureException",
                   "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws4_reqest'.");
}

static void test_sigv4_clock_skew(void **state)
{
    ecrmock *m = *state;
    signed_req s;
    sign(&s, BODY, DATE, AKID, SECRET, "us-east-1", "ecr");
    ecrmock_clock_advance(m, 301000, NULL); /* 00:05:01 */
    assert_refused(m, s.auth, DATE, BODY, "InvalidSignatureException",
                   "Signature expired: 20240101T000000Z is now earlier than 20240101T000001Z (20240101T000501Z - 5 "
                   "min.)");
    ecrmock_clock_set(m, ECRMOCK_DEFAULT_CLOCK_MS - 301000, NULL); /* 23:54:59 the day before */
    assert_refused(m, s.auth, DATE, BODY, "InvalidSignatureException",
                   "Signature not yet current: 20240101T000000Z is still later than 20231231T235959Z "
                   "(20231231T235459Z + 5 min.)");
}

/* X-Amz-Date of `ms`. */
static void amz_date_of(int64_t ms, char out[17])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

/* In wall mode the date window is the system clock's, whatever the offset:
 * a client signing with the real time passes after the clock was moved two
 * days on, and one signing with the moved time is refused; pinned, the
 * virtual time is the one. */
static void test_sigv4_wall_mode_checks_the_system_clock(void **state)
{
    ecrmock *m = *state;
    assert_int_equal(ecrmock_clock_mode_set(m, ECRMOCK_CLOCK_WALL, NULL), 0);
    assert_int_equal(ecrmock_clock_advance(m, 2 * 86400000, NULL), 0);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char real[17], moved[17];
    amz_date_of((int64_t)ts.tv_sec * 1000, real);
    amz_date_of(ecrmock_clock_now(m), moved);
    signed_req s;
    sign(&s, BODY, real, AKID, SECRET, "us-east-1", "ecr");
    json_t *r = NULL;
    assert_int_equal(send_req(m, s.auth, real, BODY, &r), 200);
    json_decref(r);
    sign(&s, BODY, moved, AKID, SECRET, "us-east-1", "ecr");
    assert_int_equal(send_req(m, s.auth, moved, BODY, &r), 400);
    assert_string_equal(err_type(r), "InvalidSignatureException");
    assert_true(strncmp(err_message(r), "Signature not yet current: ", 27) == 0);
    json_decref(r);
    /* pinned where it is: the moved time passes, the real one is two days old */
    assert_int_equal(ecrmock_clock_mode_set(m, ECRMOCK_CLOCK_PINNED, NULL), 0);
    assert_int_equal(send_req(m, s.auth, moved, BODY, &r), 400); /* signed/created already */
    assert_string_equal(err_type(r), "RepositoryAlreadyExistsException");
    json_decref(r);
    sign(&s, BODY, real, AKID, SECRET, "us-east-1", "ecr");
    assert_int_equal(send_req(m, s.auth, real, BODY, &r), 400);
    assert_true(strncmp(err_message(r), "Signature expired: ", 19) == 0);
    json_decref(r);
}

/* ecrmock_http_sigv4_system_clock_set(): a pinned clock, and the real time
 * is the one signatures are checked against. */
static void test_sigv4_system_clock_with_a_pinned_clock(void **state)
{
    ecrmock *m = *state;
    ecrmock_err err;
    assert_int_equal(ecrmock_http_sigv4_system_clock_set(m, 1, &err), 0);
    assert_int_equal(ecrmock_clock_mode_get(m), ECRMOCK_CLOCK_PINNED);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char real[17];
    amz_date_of((int64_t)ts.tv_sec * 1000, real);
    signed_req s;
    json_t *r = NULL;
    sign(&s, BODY, DATE, AKID, SECRET, "us-east-1", "ecr"); /* the pinned clock's time: too old now */
    assert_int_equal(send_req(m, s.auth, DATE, BODY, &r), 400);
    assert_true(strncmp(err_message(r), "Signature expired: ", 19) == 0);
    json_decref(r);
    sign(&s, BODY, real, AKID, SECRET, "us-east-1", "ecr");
    assert_int_equal(send_req(m, s.auth, real, BODY, &r), 200);
    json_decref(r);
    assert_true(ecrmock_clock_now(m) == ECRMOCK_DEFAULT_CLOCK_MS); /* still pinned */
    /* kept by reset; off again: the pinned clock's time */
    ecrmock_reset(m);
    sign(&s, "{}", real, AKID, SECRET, "us-east-1", "ecr");
    assert_int_equal(send_req(m, s.auth, real, "{}", &r), 400);
    assert_string_equal(err_type(r), "InvalidParameterException"); /* past the signature: the request's own */
    json_decref(r);
    assert_int_equal(ecrmock_http_sigv4_system_clock_set(m, 0, &err), 0);
    assert_int_equal(send_req(m, s.auth, real, "{}", &r), 400);
    assert_string_equal(err_type(r), "InvalidSignatureException");
    json_decref(r);
    assert_int_equal(ecrmock_http_sigv4_system_clock_set(NULL, 1, &err), -1);
    assert_int_equal(err.code, ECRMOCK_ERR_INVALID_PARAMETER);
}

static void test_sigv4_unknown_target_answered_before_auth(void **state)
{
    ecrmock *m = *state;
    ecrmock_http_header h[] = {{"Content-Type", "application/x-amz-json-1.1"},
                               {"X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.Nope"}};
    ecrmock_http_request req = ECRMOCK_HTTP_REQUEST_INIT;
    req.method = "POST";
    req.target = "/";
    req.headers = h;
    req.n_headers = 2;
    ecrmock_http_response r;
    assert_int_equal(ecrmock_http_handle(m, &req, &r), 400);
    assert_string_equal(r.body, "{\"__type\":\"UnknownOperationException\"}");
    ecrmock_http_response_release(&r);
}

/* ---- what arrives need not be well formed ---------------------------------------------- */

/* A request signed by the library's signer (checked against the published
 * vectors above) over `signed_list`, with `extra` headers after the usual
 * four; `target` is the action. */
static int send_signed(ecrmock *m, const char *akid, const char *target, const ecrmock_http_header *extra,
                       size_t n_extra, const char *signed_list, const char *body, json_t **out)
{
    char full_target[128], auth[1024];
    snprintf(full_target, sizeof full_target, "AmazonEC2ContainerRegistry_V20150921.%s", target);
    ecrmock_http_header h[12] = {
        {"Content-Type", "application/x-amz-json-1.1"},
        {"Host", HOST},
        {"X-Amz-Date", DATE},
        {"X-Amz-Target", full_target},
    };
    size_t n = 4;
    for (size_t i = 0; i < n_extra; i++)
        h[n++] = extra[i];
    em_sigv4_input in = {"POST", "/", "", h, n, body, strlen(body)};
    char *canonical = NULL, *sts = NULL, sig[65];
    assert_int_equal(em_sigv4_sign(&in, signed_list, DATE, "us-east-1", "ecr", SECRET, &canonical, &sts, sig), 0);
    free(canonical);
    free(sts);
    snprintf(auth, sizeof auth, "AWS4-HMAC-SHA256 Credential=%s/20240101/us-east-1/ecr/aws4_request, "
                                "SignedHeaders=%s, Signature=%s", akid, signed_list, sig);
    h[n++] = (ecrmock_http_header){"Authorization", auth};
    return post(m, h, n, body, out);
}

static void test_sigv4_non_utf8_answered_400(void **state)
{
    ecrmock *m = *state;
    /* in the credential: an unknown key, quoted back with U+FFFD */
    const char *a = "AWS4-HMAC-SHA256 Credential=AKID\xff/20240101/us-east-1/ecr, SignedHeaders=host;x-amz-date, "
                    "Signature=00";
    assert_refused(m, a, DATE, BODY, "IncompleteSignatureException",
                   "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '"
                   "AKID\xef\xbf\xbd/20240101/us-east-1/ecr'");
    /* in the scope */
    a = "AWS4-HMAC-SHA256 Credential=" AKID "/20240101/us-\xc3\x28" "ast-1/ecr/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=00";
    assert_refused(m, a, DATE, BODY, "InvalidSignatureException",
                   "Credential should be scoped to a valid region, not 'us-\xef\xbf\xbd(ast-1'.");
    /* in the Authorization header's algorithm and in X-Amz-Date */
    assert_refused(m, "AWS4-HMAC-SHA256\xe2\x82 Credential=x", DATE, BODY, "IncompleteSignatureException",
                   "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA256\xef\xbf\xbd\xef\xbf\xbd'.");
    a = "AWS4-HMAC-SHA256 Credential=" AKID "/20240101/us-east-1/ecr/aws4_request, SignedHeaders=host;x-amz-date, "
        "Signature=00";
    assert_refused(m, a, "20240101T00000\xf0Z", BODY, "IncompleteSignatureException",
                   "Date must be in ISO-8601 'basic format'. Got '20240101T00000\xef\xbf\xbdZ'. See "
                   "http://en.wikipedia.org/wiki/ISO_8601");
}

static void test_sigv4_date_must_be_a_real_one(void **state)
{
    ecrmock *m = *state;
    const char *a = "AWS4-HMAC-SHA256 Credential=" AKID "/20231301/us-east-1/ecr/aws4_request, "
                    "SignedHeaders=host;x-amz-date, Signature=00";
    const char *bad[] = {"20231301T000000Z", "20230001T000000Z", "20230229T000000Z", "20240230T000000Z",
                         "20240431T000000Z", "20240101T240000Z", "20240101T006000Z", "20240101T000060Z",
                         "00000101T000000Z", "+2024101T000000Z", "2024 101T000000Z"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char want[256];
        snprintf(want, sizeof want,
                 "Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", bad[i]);
        assert_refused(m, a, bad[i], BODY, "IncompleteSignatureException", want);
    }
    /* a real date, long before 1970: well formed, and expired */
    a = "AWS4-HMAC-SHA256 Credential=" AKID "/19650101/us-east-1/ecr/aws4_request, SignedHeaders=host;x-amz-date, "
        "Signature=00";
    assert_refused(m, a, "19650101T000000Z", BODY, "InvalidSignatureException",
                   "Signature expired: 19650101T000000Z is now earlier than 20231231T235500Z (20240101T000000Z - 5 "
                   "min.)");
    /* 29 February of a leap year, the last second of a day: well formed */
    int64_t t = 0;
    assert_true(em_amz_date_parse("20240229T235959Z", &t));
    assert_int_equal(t, 1709251199);
    assert_true(em_amz_date_parse("19691231T235959Z", &t));
    assert_int_equal(t, -1);
    assert_true(em_amz_date_parse("20000229T000000Z", &t));
    assert_int_equal(t, 951782400);
    assert_false(em_amz_date_parse("21000229T000000Z", &t));
}

static void test_sigv4_strict_signed_headers(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    create_repo(m, "web");
    /* AWS's rule, the default: X-Amz-Target may go unsigned, so a captured
     * DescribeRepositories replayed as DeleteRepository runs */
    assert_int_equal(send_signed(m, AKID, "DeleteRepository", NULL, 0, "host;x-amz-date",
                                 "{\"repositoryName\":\"web\"}", &r),
                     200);
    json_decref(r);
    assert_int_equal(ecrmock_call_count(m, "DeleteRepository"), 1);
    create_repo(m, "web");
    /* strict: refused, nothing ran */
    assert_int_equal(ecrmock_http_sigv4_strict_set(m, 1, NULL), 0);
    assert_int_equal(send_signed(m, AKID, "DeleteRepository", NULL, 0, "content-type;host;x-amz-date",
                                 "{\"repositoryName\":\"web\"}", &r),
                     400);
    assert_string_equal(err_type(r), "IncompleteSignatureException");
    assert_string_equal(err_message(r), "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization.");
    json_decref(r);
    assert_int_equal(send_signed(m, AKID, "DeleteRepository", NULL, 0, "host;x-amz-date;x-amz-target",
                                 "{\"repositoryName\":\"web\"}", &r),
                     400);
    assert_string_equal(err_message(r), "'Content-Type' must be a 'SignedHeader' in the AWS Authorization.");
    json_decref(r);
    ecrmock_http_header extra[] = {{"x-amz-user-agent", "aws-sdk-js/3"}, {"User-Agent", "not signed, fine"}};
    assert_int_equal(send_signed(m, AKID, "DeleteRepository", extra, 2, "content-type;host;x-amz-date;x-amz-target",
                                 "{\"repositoryName\":\"web\"}", &r),
                     400);
    assert_string_equal(err_message(r), "'x-amz-user-agent' must be a 'SignedHeader' in the AWS Authorization.");
    json_decref(r);
    assert_int_equal(ecrmock_call_count(m, "DeleteRepository"), 1);
    json_t *images = ecrmock_images(m, NULL, "web", NULL);
    assert_non_null(images);
    json_decref(images);
    /* what an SDK signs passes */
    assert_int_equal(send_signed(m, AKID, "DeleteRepository", extra, 2,
                                 "content-type;host;x-amz-date;x-amz-target;x-amz-user-agent",
                                 "{\"repositoryName\":\"web\"}", &r),
                     200);
    json_decref(r);
    assert_null(ecrmock_images(m, NULL, "web", NULL));
    /* kept by reset, off again with 0 */
    ecrmock_reset(m);
    assert_int_equal(send_signed(m, AKID, "DescribeRepositories", NULL, 0, "host;x-amz-date", "{}", &r), 400);
    json_decref(r);
    assert_int_equal(ecrmock_http_sigv4_strict_set(m, 0, NULL), 0);
    assert_int_equal(send_signed(m, AKID, "DescribeRepositories", NULL, 0, "host;x-amz-date", "{}", &r), 200);
    json_decref(r);
    assert_int_equal(ecrmock_http_sigv4_strict_set(NULL, 1, NULL), -1);
}

/* ---- temporary credentials ----------------------------------------------------------- */

#define TOKEN_REFUSED "The security token included in the request is invalid."

static void assert_token_answer(ecrmock *m, const char *akid, const char *token, const char *signed_list,
                                int want_status)
{
    ecrmock_http_header extra[] = {{"X-Amz-Security-Token", token}};
    json_t *r = NULL;
    unsigned long before = ecrmock_call_count(m, NULL);
    int st = send_signed(m, akid, "DescribeRepositories", extra, token ? 1 : 0, signed_list, "{}", &r);
    assert_int_equal(st, want_status);
    if (want_status == 400) {
        assert_string_equal(err_type(r), "UnrecognizedClientException");
        assert_string_equal(err_message(r), TOKEN_REFUSED);
        assert_int_equal(ecrmock_call_count(m, NULL), before);
    }
    json_decref(r);
}

static void test_sigv4_session_token(void **state)
{
    ecrmock *m = *state;
    const char *with = "content-type;host;x-amz-date;x-amz-security-token;x-amz-target";
    const char *without = "content-type;host;x-amz-date;x-amz-target";
    /* long-term key: no token */
    assert_token_answer(m, AKID, NULL, without, 200);
    assert_token_answer(m, AKID, "IQoJb3JpZ2luX2VjEXAMPLE", with, 400);
    /* a temporary key, no token set here: it needs one, any */
    assert_int_equal(ecrmock_http_credentials_set(m, "ASIAEXAMPLE", SECRET, NULL), 0);
    assert_token_answer(m, "ASIAEXAMPLE", NULL, without, 400);
    assert_token_answer(m, "ASIAEXAMPLE", "IQoJb3JpZ2luX2VjEXAMPLE", with, 200);
    /* the token set: this one, signed or not (strict: signed) */
    assert_int_equal(ecrmock_http_session_token_set(m, "IQoJb3JpZ2luX2VjEXAMPLE", NULL), 0);
    assert_token_answer(m, "ASIAEXAMPLE", NULL, without, 400);
    assert_token_answer(m, "ASIAEXAMPLE", "IQoJb3JpZ2luX2VjOTHER", with, 400);
    assert_token_answer(m, "ASIAEXAMPLE", "IQoJb3JpZ2luX2VjEXAMPLE", with, 200);
    assert_token_answer(m, "ASIAEXAMPLE", "IQoJb3JpZ2luX2VjEXAMPLE", without, 200);
    assert_int_equal(ecrmock_http_sigv4_strict_set(m, 1, NULL), 0);
    ecrmock_http_header extra[] = {{"X-Amz-Security-Token", "IQoJb3JpZ2luX2VjEXAMPLE"}};
    json_t *r = NULL;
    assert_int_equal(send_signed(m, "ASIAEXAMPLE", "DescribeRepositories", extra, 1, without, "{}", &r), 400);
    assert_string_equal(err_message(r), "'X-Amz-Security-Token' must be a 'SignedHeader' in the AWS Authorization.");
    json_decref(r);
    assert_token_answer(m, "ASIAEXAMPLE", "IQoJb3JpZ2luX2VjEXAMPLE", with, 200);
    /* kept by reset; NULL: none again */
    ecrmock_reset(m);
    assert_token_answer(m, "ASIAEXAMPLE", "IQoJb3JpZ2luX2VjOTHER", with, 400);
    assert_int_equal(ecrmock_http_session_token_set(m, NULL, NULL), 0);
    assert_token_answer(m, "ASIAEXAMPLE", "IQoJb3JpZ2luX2VjOTHER", with, 200);
    assert_int_equal(ecrmock_http_session_token_set(NULL, "x", NULL), -1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_signed, teardown_mock)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigv4_published_vector_get_vanilla),
        cmocka_unit_test(test_sigv4_published_vector_query_order),
        T(test_sigv4_signed_request_accepted),
        T(test_sigv4_header_values_trimmed_and_folded),
        T(test_sigv4_date_within_five_minutes_accepted),
        cmocka_unit_test(test_sigv4_off_by_default),
        T(test_sigv4_kept_by_reset),
        T(test_sigv4_missing_authorization),
        T(test_sigv4_incomplete_header),
        T(test_sigv4_missing_date),
        T(test_sigv4_pair_without_equal_sign),
        T(test_sigv4_host_and_date_must_be_signed),
        T(test_sigv4_bad_credential_and_date_format),
        T(test_sigv4_unknown_access_key),
        T(test_sigv4_wrong_secret_shows_expected_strings),
        T(test_sigv4_tampered_body),
        T(test_sigv4_wrong_scope),
        T(test_sigv4_clock_skew),
        T(test_sigv4_wall_mode_checks_the_system_clock),
        T(test_sigv4_system_clock_with_a_pinned_clock),
        T(test_sigv4_unknown_target_answered_before_auth),
        T(test_sigv4_non_utf8_answered_400),
        T(test_sigv4_date_must_be_a_real_one),
        T(test_sigv4_strict_signed_headers),
        T(test_sigv4_session_token),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
