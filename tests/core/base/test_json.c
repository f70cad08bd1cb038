/* test_json.c - the JSON reader (base/json.h): values, escapes, numbers kept as text, and
 * malformed input refused with line and column (never a crash: deep nesting is bounded). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/error.h"
#include "base/json.h"

static cl_json *parse(const char *s)
{
    cl_json *v;
    assert_int_equal(cl_json_parse(&v, s, strlen(s), "t.json"), CL_OK);
    return v;
}

static void test_values(void **state)
{
    (void)state;
    cl_json *v = parse(" {\"a\": [1, -2.5e3, true, false, null], \"b\": {\"c\": \"x\"},"
                       " \"n\": \"[5E-1]\", \"e\": []}\n");
    assert_int_equal(v->type, CL_JSON_OBJECT);
    assert_int_equal(v->n, 4);
    const cl_json *a = cl_json_get(v, "a");
    assert_non_null(a);
    assert_int_equal(a->n, 5);
    double x;
    assert_true(cl_json_num(a->kids + 1, &x));
    assert_true(x == -2500.0);
    assert_int_equal(a->kids[2].type, CL_JSON_TRUE);
    assert_int_equal(a->kids[3].type, CL_JSON_FALSE);
    assert_int_equal(a->kids[4].type, CL_JSON_NULL);
    assert_false(cl_json_num(a->kids + 2, &x));
    assert_string_equal(cl_json_path(v, "b", "c", NULL)->s, "x");
    assert_null(cl_json_path(v, "b", "zz", NULL));
    assert_true(cl_json_num(cl_json_get(v, "n"), &x)); /* XGBoost 2's "[5E-1]" */
    assert_true(x == 0.5);
    assert_int_equal(cl_json_get(v, "e")->n, 0);
    cl_json_free(v);
}

static void test_escapes_and_floats(void **state)
{
    (void)state;
    cl_json *v = parse("[\"q\\\"\\\\\\/\\n\\u00e9\\ud83d\\ude00\", 0.1, 16777217, 1e-45]");
    assert_string_equal(v->kids[0].s, "q\"\\/\n\xc3\xa9\xf0\x9f\x98\x80");
    assert_int_equal(v->kids[0].n, strlen("q\"\\/\n\xc3\xa9\xf0\x9f\x98\x80"));
    float f;
    /* strtof on the text: correctly rounded to float32, not via a double */
    assert_true(cl_json_float(v->kids + 1, &f) && f == 0.1f);
    assert_true(cl_json_float(v->kids + 2, &f) && f == 16777216.0f);
    assert_true(cl_json_float(v->kids + 3, &f) && f > 0); /* a subnormal is a number */
    cl_json_free(v);
}

static void refused(const char *s, const char *msg)
{
    cl_json *v = (cl_json *)1;
    assert_int_equal(cl_json_parse(&v, s, strlen(s), "bad.json"), CL_EFORMAT);
    assert_null(v);
    if (!strstr(cl_last_error(), msg))
        fail_msg("message '%s' lacks '%s'", cl_last_error(), msg);
}

static void test_malformed(void **state)
{
    (void)state;
    refused("", "unexpected end");
    refused("[1, 2", "expected ',' or ']'");
    refused("{\"a\" 1}", "expected ':'");
    refused("{1: 2}", "member name");
    refused("[1,]", "expected a value");
    refused("[01]", "expected ',' or ']'");
    refused("[1.]", "digits expected after '.'");
    refused("[1e]", "exponent");
    refused("\"a\nb\"", "control character");
    refused("\"\\x\"", "invalid escape");
    refused("\"\\ud800\"", "unpaired");
    refused("[tru]", "expected a value");
    refused("[1] x", "text after the value");
    refused("[1,\n  2,\n  ?]", "line 3, column 3");
    char deep[1000];
    memset(deep, '[', sizeof deep - 1);
    deep[sizeof deep - 1] = '\0';
    refused(deep, "nested deeper");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_escapes_and_floats),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
