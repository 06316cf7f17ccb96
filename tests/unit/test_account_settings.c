/*
 * GetAccountSetting and PutAccountSetting: the defaults, a put read back,
 * per setting and per instance, the names and values refused with the
 * stored value unchanged, and ecrmock_reset() bringing the defaults back.
 */
#include "helpers.h"

#define BAD_NAME                                                                                              \
    "Invalid parameter at 'name' failed to satisfy constraint: 'Account setting name must be one of "        \
    "[BASIC_SCAN_TYPE_VERSION, REGISTRY_POLICY_SCOPE, BLOB_MOUNTING]'"

static void assert_setting(ecrmock *m, const char *name, const char *value)
{
    json_t *r = NULL;
    assert_ok(call(m, &r, "GetAccountSetting", "{\"name\": \"%s\"}", name), r);
    assert_int_equal(json_object_size(r), 2);
    assert_string_equal(STR(r, "name"), name);
    assert_string_equal(STR(r, "value"), value);
    json_decref(r);
}

static void test_get_account_setting_defaults(void **state)
{
    ecrmock *m = *state;
    assert_setting(m, "BASIC_SCAN_TYPE_VERSION", "AWS_NATIVE");
    assert_setting(m, "REGISTRY_POLICY_SCOPE", "V2");
    assert_setting(m, "BLOB_MOUNTING", "DISABLED");
}

static void test_put_account_setting_round_trip(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    assert_ok(call(m, &r, "PutAccountSetting", "{\"name\": \"BLOB_MOUNTING\", \"value\": \"ENABLED\"}"), r);
    assert_int_equal(json_object_size(r), 2);
    assert_string_equal(STR(r, "name"), "BLOB_MOUNTING");
    assert_string_equal(STR(r, "value"), "ENABLED");
    json_decref(r);
    assert_setting(m, "BLOB_MOUNTING", "ENABLED");
    assert_setting(m, "BASIC_SCAN_TYPE_VERSION", "AWS_NATIVE");
    call_ok(m, "PutAccountSetting", "{\"name\": \"BLOB_MOUNTING\", \"value\": \"DISABLED\"}");
    assert_setting(m, "BLOB_MOUNTING", "DISABLED");
    call_ok(m, "PutAccountSetting", "{\"name\": \"REGISTRY_POLICY_SCOPE\", \"value\": \"V2\"}");
    call_ok(m, "PutAccountSetting", "{\"name\": \"BASIC_SCAN_TYPE_VERSION\", \"value\": \"AWS_NATIVE\"}");
    assert_setting(m, "REGISTRY_POLICY_SCOPE", "V2");

    /* Another instance has its own account. */
    ecrmock *other = ecrmock_new(NULL);
    call_ok(m, "PutAccountSetting", "{\"name\": \"BLOB_MOUNTING\", \"value\": \"ENABLED\"}");
    assert_setting(other, "BLOB_MOUNTING", "DISABLED");
    ecrmock_free(other);

    ecrmock_reset(m);
    assert_setting(m, "BLOB_MOUNTING", "DISABLED");
}

static void test_account_setting_unknown_name(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    int st = call(m, &r, "GetAccountSetting", "{\"name\": \"SCAN_ON_PUSH\"}");
    assert_fail_msg(st, &r, "InvalidParameterException", BAD_NAME);
    st = call(m, &r, "PutAccountSetting", "{\"name\": \"blob_mounting\", \"value\": \"ENABLED\"}");
    assert_fail_msg(st, &r, "InvalidParameterException", BAD_NAME);
    /* The model's bounds come first. */
    assert_error(call(m, &r, "GetAccountSetting", "{\"name\": \"\"}"), r, 400, "InvalidParameterException");
    assert_error(call(m, &r, "PutAccountSetting", "{\"name\": \"BLOB_MOUNTING\"}"), r, 400,
                 "InvalidParameterException");
}

static void test_put_account_setting_invalid_value_changes_nothing(void **state)
{
    ecrmock *m = *state;
    json_t *r = NULL;
    call_ok(m, "PutAccountSetting", "{\"name\": \"BLOB_MOUNTING\", \"value\": \"ENABLED\"}");
    int st = call(m, &r, "PutAccountSetting", "{\"name\": \"BLOB_MOUNTING\", \"value\": \"enabled\"}");
    assert_fail_msg(st, &r, "InvalidParameterException",
                    "Invalid parameter at 'value' failed to satisfy constraint: 'Account setting "
                    "value for BLOB_MOUNTING must be one of [ENABLED, DISABLED]'");
    assert_setting(m, "BLOB_MOUNTING", "ENABLED");
    /* Retired values. */
    st = call(m, &r, "PutAccountSetting", "{\"name\": \"BASIC_SCAN_TYPE_VERSION\", \"value\": \"CLAIR\"}");
    assert_fail_msg(st, &r, "InvalidParameterException",
                    "Invalid parameter at 'value' failed to satisfy constraint: 'Account setting "
                    "value for BASIC_SCAN_TYPE_VERSION must be one of [AWS_NATIVE]'");
    st = call(m, &r, "PutAccountSetting", "{\"name\": \"REGISTRY_POLICY_SCOPE\", \"value\": \"V1\"}");
    assert_fail_msg(st, &r, "InvalidParameterException",
                    "Invalid parameter at 'value' failed to satisfy constraint: 'Account setting "
                    "value for REGISTRY_POLICY_SCOPE must be one of [V2]'");
    assert_setting(m, "REGISTRY_POLICY_SCOPE", "V2");
    /* A value fit for another setting. */
    assert_error(call(m, &r, "PutAccountSetting", "{\"name\": \"REGISTRY_POLICY_SCOPE\", \"value\": \"ENABLED\"}"), r,
                 400, "InvalidParameterException");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup_mock, teardown_mock)
        T(test_get_account_setting_defaults),
        T(test_put_account_setting_round_trip),
        T(test_account_setting_unknown_name),
        T(test_put_account_setting_invalid_value_changes_nothing),
#undef T
    };
    return cmocka_run_group_tests_name("account_settings", tests, NULL, NULL);
}
