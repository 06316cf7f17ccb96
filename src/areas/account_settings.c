/*
 * Account settings: GetAccountSetting, PutAccountSetting.
 *
 * The settings and values the API reference lists, per account (the
 * caller's registry):
 *   BASIC_SCAN_TYPE_VERSION  AWS_NATIVE          (default AWS_NATIVE)
 *   REGISTRY_POLICY_SCOPE    V2                  (default V2)
 *   BLOB_MOUNTING            ENABLED, DISABLED   (default DISABLED)
 * The current reference no longer lists CLAIR nor V1, which ECR retired.
 * A setting never put reads as its default.  Any other name or value is
 * InvalidParameterException.
 */
#include <string.h>

#include "areas/areas.h"

static const struct {
    const char *name;
    const char *dflt;
    const char *values[3];
} settings[] = {
    {"BASIC_SCAN_TYPE_VERSION", "AWS_NATIVE", {"AWS_NATIVE"}},
    {"REGISTRY_POLICY_SCOPE", "V2", {"V2"}},
    {"BLOB_MOUNTING", "DISABLED", {"ENABLED", "DISABLED"}},
};
#define N_SETTINGS (sizeof settings / sizeof settings[0])

/* The setting's index, or -1 with InvalidParameterException set. */
static int find_setting(em_call *c, const char *name)
{
    for (size_t i = 0; i < N_SETTINGS; i++)
        if (strcmp(settings[i].name, name) == 0)
            return (int)i;
    return em_fail_rule(c, "name", EM_RULE_ACCOUNT_SETTING_NAME);
}

static int setting_output(em_call *c, const char *name, const char *value)
{
    if (em_set(c->out, "name", json_string(name)) < 0 || em_set(c->out, "value", json_string(value)) < 0)
        return em_fail_nomem(c);
    return 0;
}

int em_GetAccountSetting(em_call *c)
{
    const char *name = em_get_str(c->req, "name");
    int i = find_setting(c, name);
    if (i < 0)
        return -1;
    em_registry *r = em_registry_get(c->m, c->m->account);
    const char *value = r ? em_get_str(r->account_settings, name) : NULL;
    return setting_output(c, name, value ? value : settings[i].dflt);
}

int em_PutAccountSetting(em_call *c)
{
    const char *name = em_get_str(c->req, "name"), *value = em_get_str(c->req, "value");
    int i = find_setting(c, name);
    if (i < 0)
        return -1;
    bool ok = false;
    for (size_t k = 0; k < 3 && settings[i].values[k]; k++)
        ok = ok || strcmp(settings[i].values[k], value) == 0;
    if (!ok) {
        char values[128];
        snprintf(values, sizeof values, "%s%s%s", settings[i].values[0], settings[i].values[1] ? ", " : "",
                 settings[i].values[1] ? settings[i].values[1] : "");
        return em_fail_rule(c, "value", EM_RULE_ACCOUNT_SETTING_VALUE, name, values);
    }

    em_registry_mark mark = em_registry_mark_of(c->m, c->m->account);
    em_registry *r = em_registry_ensure(c->m, c->m->account);
    if (!r)
        return em_fail_nomem(c);
    json_t *copy = r->account_settings ? json_copy(r->account_settings) : json_object();
    if (!copy || json_object_set_new(copy, name, json_string(value)) < 0 || setting_output(c, name, value) < 0) {
        json_decref(copy);
        em_registry_abandon(&mark); /* a registry made for this call goes again */
        return em_fail_nomem(c);
    }
    json_decref(r->account_settings);
    r->account_settings = copy;
    return 0;
}
