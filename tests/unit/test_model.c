/*
 * Self-checks of the tables: the action table is sorted, unique, complete
 * for what it claims, and every action is an operation of the model; the
 * error list and the model agree; the README lists exactly the actions
 * served.
 */
#include "helpers.h"

#include "areas/areas.h"

static void test_actions_sorted_unique_and_in_model(void **state)
{
    (void)state;
    /* every operation of the model is served */
    assert_int_equal(em_action_count, EM_OPERATION_COUNT);
    for (size_t i = 0; i < em_action_count; i++) {
        assert_non_null(em_actions[i].handler);
        if (i)
            assert_true(strcmp(em_actions[i - 1].name, em_actions[i].name) < 0);
        bool found = false;
        for (int k = 0; k < EM_OPERATION_COUNT; k++)
            if (strcmp(em_operations[k].name, em_actions[i].name) == 0) {
                found = true;
                assert_int_equal(em_operations[k].input, em_actions[i].input_shape);
            }
        if (!found)
            fail_msg("action %s is not an operation of the model", em_actions[i].name);
        assert_ptr_equal(em_action_find(em_actions[i].name), &em_actions[i]);
    }
    assert_null(em_action_find("putimage"));
    assert_null(em_action_find(""));
}

/* Every error an action's model entry lists is one ecrmock can name. */
static void test_model_errors_have_codes(void **state)
{
    (void)state;
    for (size_t i = 0; i < em_action_count; i++) {
        const em_operation *op = NULL;
        for (int k = 0; k < EM_OPERATION_COUNT; k++)
            if (strcmp(em_operations[k].name, em_actions[i].name) == 0)
                op = &em_operations[k];
        assert_non_null(op);
        for (int e = 0; e < op->n_errors; e++)
            if (ecrmock_error_from_name(op->errors[e]) == ECRMOCK_ERR_UNKNOWN)
                fail_msg("%s may return %s, which ecrmock_error lacks", op->name, op->errors[e]);
    }
}

/* Every exception shape of the model has a code, with the model's status. */
static void test_every_model_exception_has_a_code(void **state)
{
    (void)state;
    for (int i = 0; i < EM_SHAPE_COUNT; i++) {
        if (!(em_shapes[i].flags & EM_EXCEPTION))
            continue;
        ecrmock_error code = ecrmock_error_from_name(em_shapes[i].name);
        if (code == ECRMOCK_ERR_UNKNOWN)
            fail_msg("the model's %s is not in ECRMOCK_ERROR_LIST", em_shapes[i].name);
        assert_int_equal(ecrmock_error_status(code), strcmp(em_shapes[i].name, "ServerException") == 0 ? 500 : 400);
    }
}

static void test_error_list_round_trips(void **state)
{
    (void)state;
    for (int e = 0; e < EM_ERR_COUNT; e++) {
        const char *name = ecrmock_error_name((ecrmock_error)e);
        assert_non_null(name);
        assert_int_equal(ecrmock_error_from_name(name), e);
        int status = ecrmock_error_status((ecrmock_error)e);
        assert_true(status == 200 || status == 400 || status == 500 || status == 503);
    }
    assert_int_equal(ecrmock_error_status(ECRMOCK_ERR_SERVER), 500);
    assert_int_equal(ecrmock_error_status(ECRMOCK_ERR_REPOSITORY_NOT_FOUND), 400);
    assert_null(ecrmock_error_name((ecrmock_error)EM_ERR_COUNT));
    assert_int_equal(ecrmock_error_status((ecrmock_error)EM_ERR_COUNT), 0);
    assert_null(ecrmock_error_name(ECRMOCK_ERR_UNKNOWN));
    assert_int_equal(ecrmock_error_status(ECRMOCK_ERR_UNKNOWN), 0);
}

/* An unknown name is ECRMOCK_ERR_UNKNOWN, -1: a value that stays the same
 * when the list grows (the count it used to be did not). */
static void test_error_from_unknown_name(void **state)
{
    (void)state;
    assert_int_equal(ECRMOCK_ERR_UNKNOWN, -1);
    assert_int_equal(ECRMOCK_ERR_OK, 0);
    assert_int_equal(ecrmock_error_from_name("NoSuchException"), -1);
    assert_int_equal(ecrmock_error_from_name(""), ECRMOCK_ERR_OK);
    assert_int_equal(ecrmock_error_from_name(NULL), -1);
    assert_int_equal(ecrmock_error_from_name("repositorynotfoundexception"), -1);
}

/* The README's list of supported actions is the action table. */
static void test_readme_lists_the_actions(void **state)
{
    (void)state;
    FILE *f = fopen("README.md", "r");
    assert_non_null(f);
    static char text[1 << 20];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    const char *start = strstr(text, "<!-- actions -->");
    const char *end = strstr(text, "<!-- /actions -->");
    assert_non_null(start);
    assert_non_null(end);
    size_t listed = 0;
    for (const char *p = start; p < end; p++)
        if (strncmp(p, "\n- `", 4) == 0)
            listed++;
    assert_int_equal(listed, em_action_count);
    for (size_t i = 0; i < em_action_count; i++) {
        char item[128];
        snprintf(item, sizeof item, "\n- `%s`", em_actions[i].name);
        const char *at = strstr(start, item);
        if (!at || at > end)
            fail_msg("README.md does not list %s between <!-- actions --> markers", em_actions[i].name);
    }
}

static void test_version(void **state)
{
    (void)state;
    assert_string_equal(ecrmock_version(), ECRMOCK_VERSION_STRING);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_actions_sorted_unique_and_in_model),
        cmocka_unit_test(test_model_errors_have_codes),
        cmocka_unit_test(test_every_model_exception_has_a_code),
        cmocka_unit_test(test_error_list_round_trips),
        cmocka_unit_test(test_error_from_unknown_name),
        cmocka_unit_test(test_readme_lists_the_actions),
        cmocka_unit_test(test_version),
    };
    return cmocka_run_group_tests_name("model", tests, NULL, NULL);
}
