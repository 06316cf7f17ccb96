/*
 * GetAuthorizationToken.
 *
 * ECR's token is base64 of "AWS:<password>", good for 12 hours; the password
 * (what `aws ecr get-login-password` prints) is itself base64 of a JSON
 * envelope {"payload", "datakey", "version": "2", "type": "DATA_KEY",
 * "expiration"}.  ecrmock fills payload and datakey from the seeded
 * generator, so the same seed gives the same token.
 */
#include <stdlib.h>
#include <string.h>

#include "actions.h"

#define TOKEN_LIFETIME_MS (12 * 3600 * INT64_C(1000))

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
    char *p64 = em_base64(payload, sizeof payload, NULL);
    char *d64 = em_base64(datakey, sizeof datakey, NULL);
    json_t *env = json_pack("{s:s?, s:s?, s:s, s:s, s:I}", "payload", p64, "datakey", d64, "version", "2", "type",
                            "DATA_KEY", "expiration", (json_int_t)(expires / 1000));
    char *env_text = p64 && d64 && env ? json_dumps(env, JSON_COMPACT) : NULL;
    char *password = env_text ? em_base64(env_text, strlen(env_text), NULL) : NULL;
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
