/*
 * GetAuthorizationToken.
 *
 * ECR's token is base64 of "AWS:<password>", good for 12 hours; the password
 * (what `aws ecr get-login-password` prints) is itself base64 of a JSON
 * envelope {"payload", "datakey", "version": "2", "type": "DATA_KEY",
 * "expiration"}.  ecrmock fills payload and datakey from the seeded
 * generator, so the same seed gives the same token.  The payload is as long
 * as makes the token ECR's size: ecrmock_options.token_length characters,
 * 2,368 by default (a token ECR gave an IAM user, in
 * github.com/aws/aws-sdk-js-v3/issues/6580), or the next length the layers
 * of base64 allow, at most 11 more.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "areas/areas.h"

#define TOKEN_LIFETIME_MS (12 * 3600 * INT64_C(1000))

/* The token's length for a payload of n bytes, when the envelope is `rest`
 * characters without the payload: base64 of the envelope, then of "AWS:"
 * and that password. */
static size_t token_chars(size_t rest, size_t n)
{
    size_t envelope = rest + 4 * ((n + 2) / 3);
    size_t password = 4 * ((envelope + 2) / 3);
    return 4 * ((4 + password + 2) / 3);
}

/* The fewest payload bytes that make a token of at least `want` characters.
 * A byte is about (4/3)^3 characters of token: start a little below. */
static size_t payload_size(size_t rest, uint64_t want)
{
    size_t below = 3 * rest / 4 + 16, n = (size_t)(want * 27 / 64);
    n = n > below ? n - below : 0;
    while (n > 0 && token_chars(rest, n - 1) >= want)
        n--;
    while (token_chars(rest, n) < want)
        n++;
    return n;
}

/* The payload, base64: as many bytes as the token's length needs, expanded
 * from the 64 drawn bytes `key` (HMAC-SHA-256 of a block counter), so that a
 * token takes three draws of the generator whatever its size.  `env` is the
 * envelope with an empty payload. */
static char *payload_text(ecrmock *m, json_t *env, const unsigned char key[64])
{
    char *bare = json_dumps(env, JSON_COMPACT);
    if (!bare)
        return NULL;
    size_t n = payload_size(strlen(bare), m->opts.token_length);
    em_json_free(bare);
    unsigned char *bytes = em_malloc(n + 32);
    if (!bytes)
        return NULL;
    for (size_t at = 0, block = 0; at < n; at += 32, block++) {
        unsigned char counter[8];
        for (int i = 0; i < 8; i++)
            counter[i] = (unsigned char)(block >> (8 * i));
        em_hmac_sha256(key, 64, counter, sizeof counter, bytes + at);
    }
    char *text = em_base64(bytes, n, NULL);
    em_free(bytes);
    return text;
}

/* Remembers a password handed out (its SHA-256, not the text), so that the
 * registry plane knows its own tokens without changing a byte of them. */
static int remember(ecrmock *m, const char *password, const char *registry, int64_t expires)
{
    if (!m->tokens && !(m->tokens = em_calloc(EM_MAX_TOKENS, sizeof *m->tokens)))
        return -1;
    em_token *t = &m->tokens[m->tokens_next];
    em_sha256_digest(password, strlen(password), t->sha);
    snprintf(t->registry, sizeof t->registry, "%s", registry);
    snprintf(t->region, sizeof t->region, "%s", m->region);
    t->expires_ms = expires;
    m->tokens_next = (m->tokens_next + 1) % EM_MAX_TOKENS;
    if (m->n_tokens < EM_MAX_TOKENS)
        m->n_tokens++;
    return 0;
}

const em_token *em_token_find(ecrmock *m, const char *password, size_t len)
{
    char sha[ECRMOCK_DIGEST_SIZE];
    em_sha256_digest(password, len, sha);
    for (size_t i = 0; i < m->n_tokens; i++)
        if (strcmp(m->tokens[i].sha, sha) == 0)
            return &m->tokens[i];
    return NULL;
}

static json_t *authorization(em_call *c, const char *registry)
{
    ecrmock *m = c->m;
    unsigned char payload[64], datakey[32];
    em_random(m, payload);
    em_random(m, payload + 32);
    em_random(m, datakey);
    /* The clock is at most ECRMOCK_CLOCK_MAX_MS; the sum is guarded anyway,
     * for a clock a fixture set. */
    int64_t expires = m->clock_ms <= INT64_MAX - TOKEN_LIFETIME_MS ? m->clock_ms + TOKEN_LIFETIME_MS : INT64_MAX;
    char *d64 = em_base64(datakey, sizeof datakey, NULL);
    json_t *env = json_pack("{s:s, s:s?, s:s, s:s, s:I}", "payload", "", "datakey", d64, "version", "2", "type",
                            "DATA_KEY", "expiration", (json_int_t)(expires / 1000));
    char *p64 = d64 && env ? payload_text(m, env, payload) : NULL;
    char *env_text = p64 && json_object_set_new(env, "payload", json_string(p64)) == 0
                         ? json_dumps(env, JSON_COMPACT)
                         : NULL;
    char *password = env_text ? em_base64(env_text, strlen(env_text), NULL) : NULL;
    if (password && remember(m, password, registry, expires) < 0) {
        em_free(password);
        password = NULL;
    }
    char *userpass = password ? em_sprintf("AWS:%s", password) : NULL;
    char *token = userpass ? em_base64(userpass, strlen(userpass), NULL) : NULL;
    char *endpoint = em_sprintf("https://%s.dkr.ecr.%s.%s", registry, m->region,
                                em_dns_suffix(m->region));
    json_t *out = token && endpoint ? json_pack("{s:s, s:o, s:s}", "authorizationToken", token, "expiresAt",
                                                em_time(expires), "proxyEndpoint", endpoint)
                                    : NULL;
    em_free(p64);
    em_free(d64);
    json_decref(env);
    em_json_free(env_text);
    em_free(password);
    em_free(userpass);
    em_free(token);
    em_free(endpoint);
    return out;
}

int em_GetAuthorizationToken(em_call *c)
{
    json_t *list = json_array();
    if (em_set(c->out, "authorizationData", list) < 0)
        return em_fail_nomem(c);
    json_t *ids = json_object_get(c->req, "registryIds");
    if (!ids)
        return json_array_append_new(list, authorization(c, c->m->account)) < 0 ? em_fail_nomem(c) : 0;
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id) {
        if (json_array_append_new(list, authorization(c, json_string_value(id))) < 0)
            return em_fail_nomem(c);
    }
    return 0;
}
