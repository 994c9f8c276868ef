/* Declared parameters without a config file: defaults, key=value pairs, spec-table checks. */
#include "pvx-private/core.h"
#include <string.h>

static const char *const colors[] = {"red", "green", NULL};

static const PvxParamSpec every_type[] = {
    {"flag", PVX_PARAM_BOOL, "true", 0, 0, 0, NULL, "a bool"},
    {"count", PVX_PARAM_INT, "3", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 1, 64, NULL, "an int"},
    {"rate", PVX_PARAM_DOUBLE, "1", PVX_PARAM_HAS_MIN, 0, 0, NULL, "an int literal as double"},
    {"title", PVX_PARAM_STRING, "\"007\"", 0, 0, 0, NULL, "a quoted number is a string"},
    {"color", PVX_PARAM_CHOICE, "green", 0, 0, 0, colors, "a choice"},
    {"rates", PVX_PARAM_INT_LIST, "[2, 4, 8]", PVX_PARAM_HAS_MIN, 2, 0, NULL, "ints"},
    {"probs", PVX_PARAM_DOUBLE_LIST, "[]", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 0, 1, NULL,
     "doubles"},
    {"names", PVX_PARAM_STRING_LIST, "[a, 'b c']", 0, 0, 0, NULL, "strings"},
    {"dir", PVX_PARAM_PATH, "sub/dir", 0, 0, 0, NULL, "a relative path"},
    {"cache", PVX_PARAM_PATH, NULL, PVX_PARAM_NULLABLE, 0, 0, NULL, "nullable, unset"},
    PVX_PARAM_SPEC_END,
};

static void params_defaults_of_every_type(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxParams) p = pvx_params_new_defaults(every_type, "test t", &error);
    g_assert_no_error(error);
    g_assert_cmpstr(pvx_params_owner(p), ==, "test t");
    g_assert_true(pvx_params_get_bool(p, "flag"));
    g_assert_cmpint(pvx_params_get_int(p, "count"), ==, 3);
    g_assert_cmpfloat(pvx_params_get_double(p, "rate"), ==, 1.0);
    g_assert_cmpstr(pvx_params_get_string(p, "title"), ==, "007");
    g_assert_cmpstr(pvx_params_get_string(p, "color"), ==, "green");
    gsize n = 0;
    const int64_t *rates = pvx_params_get_int_list(p, "rates", &n);
    g_assert_cmpuint(n, ==, 3);
    g_assert_cmpint(rates[0], ==, 2);
    g_assert_cmpint(rates[2], ==, 8);
    pvx_params_get_double_list(p, "probs", &n);
    g_assert_cmpuint(n, ==, 0);
    const char *const *names = pvx_params_get_string_list(p, "names", &n);
    g_assert_cmpuint(n, ==, 2);
    g_assert_cmpstr(names[1], ==, "b c");
    g_assert_null(names[2]);
    g_autofree char *cwd = g_get_current_dir();
    g_autofree char *dir = g_build_filename(cwd, "sub", "dir", NULL);
    g_assert_cmpstr(pvx_params_get_string(p, "dir"), ==, dir);
    g_assert_false(pvx_params_has_value(p, "cache"));
    g_assert_null(pvx_params_get_string(p, "cache"));
    g_assert_false(pvx_params_is_set(p, "count"));
    g_assert_cmpstr(pvx_params_where(p, "count"), ==, "default");
}

static void params_from_pairs_overrides_defaults(void)
{
    const char *pairs[] = {"count=64", "rates=[3, 5]", "cache=/tmp/c.h5", "title=hello world",
                           NULL};
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxParams) p = pvx_params_new_from_pairs(every_type, "test t", pairs, &error);
    g_assert_no_error(error);
    g_assert_cmpint(pvx_params_get_int(p, "count"), ==, 64);
    g_assert_true(pvx_params_is_set(p, "count"));
    g_assert_cmpstr(pvx_params_where(p, "count"), ==, "--set #1");
    gsize n = 0;
    const int64_t *rates = pvx_params_get_int_list(p, "rates", &n);
    g_assert_cmpuint(n, ==, 2);
    g_assert_cmpint(rates[1], ==, 5);
    g_assert_cmpstr(pvx_params_where(p, "rates"), ==, "--set #2");
    g_assert_true(pvx_params_has_value(p, "cache"));
    g_assert_cmpstr(pvx_params_get_string(p, "cache"), ==, "/tmp/c.h5");
    g_assert_cmpstr(pvx_params_get_string(p, "title"), ==, "hello world");
}

static void params_pair_errors_name_the_pair(void)
{
    struct {
        const char *pair;
        int code;
        const char *message;
    } cases[] = {
        {"count=65", PVX_ERROR_CONFIG_RANGE,
         "--set #1 'count=65': test t: 'count' must be <= 64, got 65"},
        {"count=x", PVX_ERROR_CONFIG_TYPE,
         "--set #1 'count=x': test t: 'count' must be an int, got string \"x\""},
        {"colour=red", PVX_ERROR_CONFIG_UNKNOWN_KEY,
         "--set #1 'colour=red': unknown key 'colour' in params of test t; valid keys: cache, "
         "color, count, dir, flag, names, probs, rate, rates, title"},
        {"color=blue", PVX_ERROR_CONFIG_RANGE,
         "--set #1 'color=blue': test t: 'color' must be one of: red, green; got string \"blue\""},
        {"rates=[2, 1]", PVX_ERROR_CONFIG_RANGE,
         "--set #1 'rates=[2, 1]': test t: 'rates'[1] must be >= 2, got 1"},
        {"flag=yes", PVX_ERROR_CONFIG_TYPE,
         "--set #1 'flag=yes': test t: 'flag' must be a bool (true or false), got string \"yes\""},
        {"count", PVX_ERROR_CONFIG_OVERRIDE,
         "--set #1 'count': expected KEY.PATH=VALUE (e.g. train.epochs=1)"},
        {"rates=[1,", PVX_ERROR_CONFIG_OVERRIDE, NULL},
        {"count=99999999999999999999", PVX_ERROR_CONFIG_RANGE,
         "--set #1 'count=99999999999999999999': test t: 'count' does not fit a 64-bit int, got "
         "99999999999999999999"},
        {"rate=.nan", PVX_ERROR_CONFIG_RANGE,
         "--set #1 'rate=.nan': test t: 'rate' must not be NaN"},
    };
    for (guint k = 0; k < G_N_ELEMENTS(cases); k++) {
        const char *pairs[] = {cases[k].pair, NULL};
        g_autoptr(GError) error = NULL;
        g_autoptr(PvxParams) p = pvx_params_new_from_pairs(every_type, "test t", pairs, &error);
        g_assert_null(p);
        g_assert_error(error, PVX_ERROR, cases[k].code);
        if (cases[k].message)
            g_assert_cmpstr(error->message, ==, cases[k].message);
        else
            g_assert_true(
                g_str_has_prefix(error->message, "--set #1 'rates=[1,': YAML syntax error: "));
    }
}

static void params_required_without_value_is_missing(void)
{
    static const PvxParamSpec specs[] = {
        {"root", PVX_PARAM_PATH, NULL, PVX_PARAM_REQUIRED, 0, 0, NULL, "required"},
        PVX_PARAM_SPEC_END,
    };
    g_assert_true(pvx_param_specs_check(specs, NULL));
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxParams) p = pvx_params_new_defaults(specs, "dataset idx", &error);
    g_assert_null(p);
    g_assert_error(error, PVX_ERROR, PVX_ERROR_CONFIG_MISSING);
    g_assert_cmpstr(error->message, ==, "dataset idx: missing required key 'root'");
    g_clear_error(&error);
    const char *pairs[] = {"root=/data", NULL};
    g_autoptr(PvxParams) q = pvx_params_new_from_pairs(specs, "dataset idx", pairs, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(pvx_params_get_string(q, "root"), ==, "/data");
}

static void params_explicit_null_is_unset_only_when_nullable(void)
{
    const char *pairs[] = {"cache=null", NULL};
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxParams) p = pvx_params_new_from_pairs(every_type, "t", pairs, &error);
    g_assert_no_error(error);
    g_assert_false(pvx_params_has_value(p, "cache"));
    g_assert_false(pvx_params_is_set(p, "cache"));
    g_assert_cmpstr(pvx_params_where(p, "cache"), ==, "--set #1");

    const char *bad[] = {"count=~", NULL};
    g_autoptr(PvxParams) q = pvx_params_new_from_pairs(every_type, "t", bad, &error);
    g_assert_null(q);
    g_assert_error(error, PVX_ERROR, PVX_ERROR_CONFIG_TYPE);
    g_assert_cmpstr(error->message, ==, "--set #1 'count=~': t: 'count' must be an int, got null");
}

static void params_specs_check_refuses_bad_tables(void)
{
    static const char *const none[] = {NULL};
    struct {
        PvxParamSpec specs[3];
        const char *message;
    } cases[] = {
        {{{"", PVX_PARAM_INT, "1", 0, 0, 0, NULL, ""}, PVX_PARAM_SPEC_END},
         "parameter #0: empty name"},
        {{{"a", PVX_PARAM_INT, "1", 0, 0, 0, NULL, ""},
          {"a", PVX_PARAM_INT, "1", 0, 0, 0, NULL, ""},
          PVX_PARAM_SPEC_END},
         "parameter 'a': declared twice"},
        {{{"a", 42, "1", 0, 0, 0, NULL, ""}, PVX_PARAM_SPEC_END}, "parameter 'a': unknown type 42"},
        {{{"a", PVX_PARAM_CHOICE, "x", 0, 0, 0, NULL, ""}, PVX_PARAM_SPEC_END},
         "parameter 'a': a choice parameter without choices"},
        {{{"a", PVX_PARAM_CHOICE, "x", 0, 0, 0, none, ""}, PVX_PARAM_SPEC_END},
         "parameter 'a': a choice parameter without choices"},
        {{{"a", PVX_PARAM_INT, "1", PVX_PARAM_REQUIRED, 0, 0, NULL, ""}, PVX_PARAM_SPEC_END},
         "parameter 'a': a required parameter cannot have a default"},
        {{{"a", PVX_PARAM_INT, NULL, 0, 0, 0, NULL, ""}, PVX_PARAM_SPEC_END},
         "parameter 'a': no default (and neither required nor nullable)"},
        {{{"a", PVX_PARAM_INT, "0.5", 0, 0, 0, NULL, ""}, PVX_PARAM_SPEC_END},
         "parameter 'a': invalid default \"0.5\": default: 'a' must be an int, got number 0.5"},
        {{{"a", PVX_PARAM_INT, "0", PVX_PARAM_HAS_MIN, 1, 0, NULL, ""}, PVX_PARAM_SPEC_END},
         "parameter 'a': invalid default \"0\": default: 'a' must be >= 1, got 0"},
        {{{"a", PVX_PARAM_INT_LIST, "[1, [2]]", 0, 0, 0, NULL, ""}, PVX_PARAM_SPEC_END},
         "parameter 'a': invalid default \"[1, [2]]\": default: 'a'[1] must be an int, got a list"},
        {{{"a", PVX_PARAM_DOUBLE, "[1", 0, 0, 0, NULL, ""}, PVX_PARAM_SPEC_END}, NULL},
        {{{"a", PVX_PARAM_STRING, "x", PVX_PARAM_HAS_MIN, 0, 0, NULL, ""}, PVX_PARAM_SPEC_END},
         "parameter 'a': min/max given for a non-numeric type"},
        {{{"a", PVX_PARAM_INT, "1", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 5, 2, NULL, ""},
          PVX_PARAM_SPEC_END},
         "parameter 'a': min 5 is above max 2"},
    };
    for (guint k = 0; k < G_N_ELEMENTS(cases); k++) {
        g_autoptr(GError) error = NULL;
        g_assert_false(pvx_param_specs_check(cases[k].specs, &error));
        g_assert_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT);
        if (cases[k].message)
            g_assert_cmpstr(error->message, ==, cases[k].message);
        else
            g_assert_true(strstr(error->message, "is not valid YAML"));
    }
    g_assert_true(pvx_param_specs_check(every_type, NULL));
    g_assert_true(pvx_param_specs_check(NULL, NULL));
}

static void params_type_describe_names_choices(void)
{
    g_autofree char *c = pvx_param_type_describe(&every_type[4]);
    g_assert_cmpstr(c, ==, "one of {red, green}");
    g_autofree char *l = pvx_param_type_describe(&every_type[5]);
    g_assert_cmpstr(l, ==, "list of int");
    g_autofree char *d = pvx_param_type_describe(&every_type[2]);
    g_assert_cmpstr(d, ==, "double");
}

static void params_undeclared_name_is_programmer_error(void)
{
    if (g_test_subprocess()) {
        g_autoptr(PvxParams) p = pvx_params_new_defaults(every_type, "t", NULL);
        pvx_params_get_int(p, "nope");
        return;
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_failed();
    g_test_trap_assert_stderr("*declares no parameter 'nope'*");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/params/defaults_of_every_type", params_defaults_of_every_type);
    g_test_add_func("/params/from_pairs_overrides_defaults", params_from_pairs_overrides_defaults);
    g_test_add_func("/params/pair_errors_name_the_pair", params_pair_errors_name_the_pair);
    g_test_add_func("/params/required_without_value_is_missing",
                    params_required_without_value_is_missing);
    g_test_add_func("/params/explicit_null_is_unset_only_when_nullable",
                    params_explicit_null_is_unset_only_when_nullable);
    g_test_add_func("/params/specs_check_refuses_bad_tables",
                    params_specs_check_refuses_bad_tables);
    g_test_add_func("/params/type_describe_names_choices", params_type_describe_names_choices);
    g_test_add_func("/params/undeclared_name_is_programmer_error",
                    params_undeclared_name_is_programmer_error);
    return g_test_run();
}
