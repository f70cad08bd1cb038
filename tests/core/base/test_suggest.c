/* test_suggest.c - the "did you mean" distance against a brute-force oracle: the optimal
 * string alignment distance by plain recursion over the same three edits and the swap of two
 * neighbours (exponential, fine for names of up to 7 letters), on every pair of random names
 * over a 3-letter alphabet (many near misses), plus the closeness rule, ties and the other
 * libraries' names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/suggest.h"

static int low(char c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c; }

/* OSA distance of a[0..n) and b[0..m) by recursion on the last characters */
static int osa(const char *a, int n, const char *b, int m)
{
    if (n == 0)
        return m;
    if (m == 0)
        return n;
    int best = osa(a, n - 1, b, m) + 1;
    int v = osa(a, n, b, m - 1) + 1;
    best = v < best ? v : best;
    v = osa(a, n - 1, b, m - 1) + (low(a[n - 1]) != low(b[m - 1]));
    best = v < best ? v : best;
    if (n > 1 && m > 1 && low(a[n - 1]) == low(b[m - 2]) && low(a[n - 2]) == low(b[m - 1])) {
        v = osa(a, n - 2, b, m - 2) + 1;
        best = v < best ? v : best;
    }
    return best;
}

static uint64_t state = 88172645463325252ull;
static unsigned next(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (unsigned)(state >> 32);
}

static void random_name(char *s)
{
    int n = (int)(next() % 8); /* 0..7 letters */
    for (int i = 0; i < n; i++)
        s[i] = "abA"[next() % 3];
    s[n] = '\0';
}

static void test_distance_equals_brute_force(void **st)
{
    (void)st;
    char a[8], b[8];
    int checked = 0;
    for (int t = 0; t < 4000; t++) {
        random_name(a);
        random_name(b);
        int want = osa(a, (int)strlen(a), b, (int)strlen(b));
        for (int cap = 0; cap <= 8; cap++) {
            int got = cl_suggest_distance(a, b, cap);
            if (want <= cap)
                assert_int_equal(got, want);
            else
                assert_int_equal(got, CL_SUGGEST_NONE);
            checked++;
        }
    }
    assert_int_equal(checked, 4000 * 9);
}

static void test_closeness_rule(void **st)
{
    (void)st;
    const char *known[] = {"objective", "trees", "lr", "depth", "max_depth", "seed", NULL};
    struct {
        const char *typed, *want;
    } cases[] = {
        {"tres", "trees"},       /* one deletion */
        {"Trees", "trees"},      /* only the case differs */
        {"trees", NULL},         /* an exact match is no hint */
        {"treees", "trees"},     /* one insertion */
        {"max_depht", "max_depth"}, /* a swap */
        {"dpeth", "depth"},      /* a swap in a short name */
        {"C", NULL},             /* nothing close: "lr" is 2 away from a 1-letter name */
        {"ld", NULL},            /* 2 letters: a substitution is no typo ("c" for "a") */
        {"LR", "lr"},            /* ... but a case slip is */
        {"sed", "seed"},
        {"objectiv", "objective"},
        {"xyzzy", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *best = NULL;
        int d = CL_SUGGEST_NONE;
        for (int k = 0; known[k]; k++)
            cl_suggest_consider(cases[i].typed, known[k], &best, &d);
        if (cases[i].want)
            assert_string_equal(best, cases[i].want);
        else
            assert_null(best);
    }
}

static void test_ties_keep_the_first(void **st)
{
    (void)st;
    const char *best = NULL;
    int d = CL_SUGGEST_NONE;
    cl_suggest_consider("cat", "bat", &best, &d);
    cl_suggest_consider("cat", "car", &best, &d);
    assert_string_equal(best, "bat");
    assert_int_equal(d, 1);
}

static void test_long_names_are_not_compared(void **st)
{
    (void)st;
    char a[80];
    memset(a, 'a', sizeof a - 1);
    a[sizeof a - 1] = '\0';
    assert_int_equal(cl_suggest_distance(a, a, 3), CL_SUGGEST_NONE);
    assert_int_equal(cl_suggest_distance("", "abc", 3), 3);
}

static void test_aliases(void **st)
{
    (void)st;
    assert_string_equal(cl_suggest_alias("n_estimators"), "trees");
    assert_string_equal(cl_suggest_alias("learning_rate"), "lr");
    assert_string_equal(cl_suggest_alias("random_state"), "seed");
    assert_null(cl_suggest_alias("trees")); /* churnlab's own name is no alias */
    assert_null(cl_suggest_alias("N_ESTIMATORS")); /* other libraries' names are exact */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_distance_equals_brute_force),
        cmocka_unit_test(test_closeness_rule),
        cmocka_unit_test(test_ties_keep_the_first),
        cmocka_unit_test(test_long_names_are_not_compared),
        cmocka_unit_test(test_aliases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
