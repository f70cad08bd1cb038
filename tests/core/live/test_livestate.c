/* test_livestate.c - the live state against a brute-force oracle (every feature recomputed by
 * scanning the accepted events), refusals, canonical images (replay, restore, corruption),
 * allocation failures leaving the state unchanged, and the SQLite log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/fileio.h"
#include "base/rng.h"
#include "live/livelog.h"
#include "live/livestate.h"

#define NU 40   /* customers */
#define NT 60   /* titles */
#define NE 6000 /* events offered */

static const char *const PLANS[] = {"basic", "standard", "premium"};
static const double PRICES[] = {7.99, NAN, 19.99};
static int16_t GENRE[NT];

static cl_livestate_config config(void)
{
    for (int t = 0; t < NT; t++)
        GENRE[t] = (int16_t)(t % 7 == 0 ? -1 : t % 5);
    cl_livestate_config c = {3, PLANS, PRICES, NT, GENRE, 100};
    return c;
}

/* Random events: time mostly moves forward, with some late events (up to 120 days) and a few
 * malformed ones, customers interleaved. */
static void make_events(cl_live_event *ev, int n, uint64_t seed)
{
    cl_rng r;
    cl_rng_seed(&r, seed);
    int day = 0;
    for (int i = 0; i < n; i++) {
        cl_live_event *e = &ev[i];
        memset(e, 0, sizeof *e);
        if (cl_rng_uniform(&r) < 0.03)
            day += 1 + (int)cl_rng_below(&r, 6);
        e->user = 1 + (int32_t)cl_rng_below(&r, NU);
        e->day = day - (cl_rng_uniform(&r) < 0.1 ? (int32_t)cl_rng_below(&r, 120) : 0);
        double u = cl_rng_uniform(&r);
        if (i < NU) { /* everyone gets a profile first */
            e->user = i + 1;
            e->kind = CL_LIVE_PROFILE;
            e->day = -(int32_t)cl_rng_below(&r, 300);
            e->plan = (int32_t)cl_rng_below(&r, 3);
            e->value = 5 + (double)cl_rng_below(&r, 20);
            e->value2 = (double)cl_rng_below(&r, 3) * 10;
        } else if (u < 0.70) {
            e->kind = CL_LIVE_WATCH;
            e->title = 1 + (int32_t)cl_rng_below(&r, NT);
            e->minutes = (double)cl_rng_below(&r, 200);
            e->completion = cl_rng_uniform(&r);
        } else if (u < 0.76) {
            e->kind = CL_LIVE_TICKET;
        } else if (u < 0.80) {
            e->kind = CL_LIVE_PAYFAIL;
        } else if (u < 0.84) {
            e->kind = CL_LIVE_PLAN;
            e->plan = (int32_t)cl_rng_below(&r, 3);
        } else if (u < 0.87) {
            e->kind = CL_LIVE_PRICE;
            e->value = 10 + (double)cl_rng_below(&r, 10);
        } else if (u < 0.95) {
            e->kind = CL_LIVE_RATING;
            e->value = 1 + (double)cl_rng_below(&r, 5);
        } else if (u < 0.96) {
            e->kind = CL_LIVE_CANCEL;
        } else { /* malformed in one field */
            e->kind = CL_LIVE_WATCH;
            e->title = 1 + (int32_t)cl_rng_below(&r, NT);
            e->minutes = 10;
            e->completion = 0.5;
            switch (cl_rng_below(&r, 4)) {
            case 0: e->minutes = -1; break;
            case 1: e->completion = NAN; break;
            case 2: e->title = NT + 1; break;
            default: e->user = 0; break;
            }
        }
    }
}

/* ---- the oracle ------------------------------------------------------------------------- */

static int windowed(int k)
{
    return k == CL_LIVE_WATCH || k == CL_LIVE_TICKET || k == CL_LIVE_PAYFAIL || k == CL_LIVE_PLAN;
}

/* Would the oracle accept e after acc[0..n)? */
static int oracle_accepts(const cl_live_event *acc, int n, const cl_live_event *e)
{
    if (e->user < 1 || e->user > 100)
        return 0;
    if (e->kind == CL_LIVE_WATCH &&
        (e->title < 1 || e->title > NT || !(e->minutes >= 0) || !(e->completion >= 0) ||
         !(e->completion <= 1)))
        return 0;
    if (!windowed(e->kind))
        return 1;
    int head = INT32_MIN;
    for (int i = 0; i < n; i++)
        if (acc[i].user == e->user && windowed(acc[i].kind) && acc[i].day > head)
            head = acc[i].day;
    return head == INT32_MIN || e->day > head - CL_LIVE_RING;
}

static void oracle_features(const cl_live_event *acc, int n, int32_t user, int32_t now, double *o,
                            int *plan)
{
    double list[3] = {PRICES[0], PRICES[1], PRICES[2]};
    double price = NAN, disc = NAN, tenure = NAN;
    int pl = -1, last = INT32_MIN;
    double m[3] = {0}, w[3] = {0}, tk30 = 0, tkall = 0, pf30 = 0, pf90 = 0, pfall = 0, pc90 = 0,
           rise = 0, comp = 0, compn = 0, gcomp = 0, gn = 0, rs = 0, rn = 0, grs = 0, grn = 0;
    int active[3][200] = {{0}};
    int seen_t[NT + 1] = {0}, seen_g[8] = {0};
    double sxy = 0, sy = 0;
    const int W[3] = {7, 30, 90};
    for (int i = 0; i < n; i++) {
        const cl_live_event *e = &acc[i];
        if (e->kind == CL_LIVE_WATCH && e->day >= now - 90 && e->day < now) {
            gcomp += e->completion;
            gn++;
        }
        if (e->kind == CL_LIVE_PROFILE && isnan(list[e->plan]))
            list[e->plan] = e->value;
        if (e->kind == CL_LIVE_RATING) {
            grs += e->value;
            grn++;
        }
        if (e->user != user)
            continue;
        switch (e->kind) {
        case CL_LIVE_PROFILE:
            tenure = (double)now - e->day;
            pl = e->plan;
            price = e->value;
            disc = e->value2;
            break;
        case CL_LIVE_PLAN:
            pl = e->plan;
            price = list[e->plan];
            if (e->day >= now - 90)
                pc90++;
            break;
        case CL_LIVE_PRICE:
            price = e->value;
            rise++;
            break;
        case CL_LIVE_RATING:
            rs += e->value;
            rn++;
            break;
        case CL_LIVE_TICKET:
            tkall++;
            tk30 += e->day >= now - 30;
            break;
        case CL_LIVE_PAYFAIL:
            pfall++;
            pf30 += e->day >= now - 30;
            pf90 += e->day >= now - 90;
            break;
        case CL_LIVE_WATCH:
            if (e->day > last)
                last = e->day;
            for (int k = 0; k < 3; k++)
                if (e->day >= now - W[k]) {
                    m[k] += e->minutes;
                    w[k]++;
                    active[k][now - 1 - e->day] = 1;
                }
            if (e->day >= now - 90) {
                comp += e->completion;
                compn++;
                seen_t[e->title] = 1;
                if (GENRE[e->title - 1] >= 0)
                    seen_g[GENRE[e->title - 1]] = 1;
            }
            if (e->day >= now - 84) {
                sxy += (double)((e->day - (now - 84)) / 7) * e->minutes;
                sy += e->minutes;
            }
            break;
        default:
            break;
        }
    }
    double a[3] = {0};
    for (int k = 0; k < 3; k++)
        for (int d = 0; d < 200; d++)
            a[k] += active[k][d];
    double titles = 0, genres = 0;
    for (int t = 1; t <= NT; t++)
        titles += seen_t[t];
    for (int g = 0; g < 8; g++)
        genres += seen_g[g];
    double v[CL_LIVE_NFEATURES] = {
        tenure, price, disc, rise, pc90, (double)now - (last == INT32_MIN ? -1 : last),
        m[0], m[1], m[2], w[0], w[1], w[2], a[0], a[1], a[2],
        a[1] / fmin(30, tenure), a[2] / fmin(90, tenure), (sxy - sy * 5.5) / 1001.0,
        m[1] / (m[2] / 3 + 1), titles, genres,
        compn > 0 ? comp / compn : gn > 0 ? gcomp / gn : NAN,
        rn > 0 ? rs / rn : grn > 0 ? grs / grn : NAN, rn, tk30, tkall, pf30, pf90, pfall};
    memcpy(o, v, sizeof v);
    *plan = pl;
}

static void check_against_oracle(const cl_livestate *s, const cl_live_event *acc, int n)
{
    int32_t now = cl_livestate_now(s);
    for (int32_t u = 1; u <= NU; u++) {
        double got[CL_LIVE_NFEATURES], want[CL_LIVE_NFEATURES];
        int gp, wp;
        assert_int_equal(cl_livestate_features(s, u, got, &gp), CL_OK);
        oracle_features(acc, n, u, now, want, &wp);
        assert_int_equal(gp, wp);
        for (int j = 0; j < CL_LIVE_NFEATURES; j++) {
            if (isnan(want[j]) && isnan(got[j]))
                continue;
            if (cl_livestate_feature_defs[j].is_count || isinf(want[j])) {
                if (got[j] != want[j])
                    fail_msg("customer %d day %d %s: got %.17g, want %.17g", u, now,
                             cl_livestate_feature_defs[j].name, got[j], want[j]);
            } else if (!(fabs(got[j] - want[j]) <= 1e-9 * fmax(1, fabs(want[j])))) {
                fail_msg("customer %d day %d %s: got %.17g, want %.17g", u, now,
                         cl_livestate_feature_defs[j].name, got[j], want[j]);
            }
        }
    }
}

static cl_live_event EV[NE], ACC[NE];

static void test_oracle(void **state)
{
    (void)state;
    cl_livestate_config cfg = config();
    cl_livestate *s = NULL;
    assert_int_equal(cl_livestate_new(&s, &cfg), CL_OK);
    make_events(EV, NE, 7);
    int n = 0, refused = 0;
    for (int i = 0; i < NE; i++) {
        int want = oracle_accepts(ACC, n, &EV[i]);
        int rc = cl_livestate_apply(s, &EV[i]);
        if (want != (rc == CL_OK))
            fail_msg("event %d: oracle %s, state returned %d (%s)", i, want ? "accepts" : "refuses",
                     rc, cl_error_last());
        if (rc == CL_OK)
            ACC[n++] = EV[i];
        else
            refused++, assert_true(strstr(cl_error_last(), "field '") != NULL);
        if (i % 500 == 499) /* mid-run reads, and after the clock jumps ahead */
            check_against_oracle(s, ACC, n);
    }
    assert_true(refused > 100);
    check_against_oracle(s, ACC, n);
    assert_int_equal(cl_livestate_advance(s, cl_livestate_now(s) + 45), CL_OK);
    check_against_oracle(s, ACC, n);
    assert_int_equal(cl_livestate_advance(s, cl_livestate_now(s) + 400), CL_OK);
    check_against_oracle(s, ACC, n);
    assert_int_equal(cl_livestate_events(s), n);
    cl_livestate_free(s);
}

static int feed(cl_livestate *s, const cl_live_event *ev, int n)
{
    int ok = 0;
    for (int i = 0; i < n; i++)
        ok += cl_livestate_apply(s, &ev[i]) == CL_OK;
    return ok;
}

static void test_images(void **state)
{
    (void)state;
    cl_livestate_config cfg = config();
    cl_livestate *a = NULL, *b = NULL, *r = NULL;
    make_events(EV, NE, 9);
    assert_int_equal(cl_livestate_new(&a, &cfg), CL_OK);
    assert_int_equal(cl_livestate_new(&b, &cfg), CL_OK);
    feed(a, EV, NE);
    feed(b, EV, NE / 2);
    uint8_t *ia, *ib, *ir;
    size_t la, lb, lr;
    /* restore half-way, continue: same bytes as the uninterrupted run */
    assert_int_equal(cl_livestate_serialize(b, 77, &ib, &lb), CL_OK);
    int64_t tag = 0;
    assert_int_equal(cl_livestate_restore(&r, ib, lb, &tag), CL_OK);
    assert_int_equal(tag, 77);
    feed(r, EV + NE / 2, NE - NE / 2);
    assert_int_equal(cl_livestate_serialize(a, 0, &ia, &la), CL_OK);
    assert_int_equal(cl_livestate_serialize(r, 0, &ir, &lr), CL_OK);
    assert_int_equal(la, lr);
    assert_memory_equal(ia, ir, la);
    /* every truncation and every single-byte change is refused, never a crash */
    cl_livestate *x = NULL;
    for (size_t k = 0; k < lb; k += 1 + k / 64) {
        assert_int_not_equal(cl_livestate_restore(&x, ib, k, NULL), CL_OK);
        uint8_t save = ib[k];
        ib[k] ^= 0x5a;
        assert_int_not_equal(cl_livestate_restore(&x, ib, lb, NULL), CL_OK);
        ib[k] = save;
        assert_null(x);
    }
    /* with the CRC fixed up, the parser itself must cope: refuse or accept, never crash */
    for (size_t k = 8; k + 4 < lb; k += 1 + k / 16) { /* every byte of the header, then sparser */
        uint8_t save = ib[k];
        ib[k] = (uint8_t)(ib[k] + 0x81);
        uint32_t crc = cl_fileio_crc32(0, ib, lb - 4);
        uint8_t oldc[4];
        memcpy(oldc, ib + lb - 4, 4);
        for (int i = 0; i < 4; i++)
            ib[lb - 4 + i] = (uint8_t)(crc >> (8 * i));
        if (cl_livestate_restore(&x, ib, lb, NULL) == CL_OK) {
            double f[CL_LIVE_NFEATURES];
            for (int32_t u = 1; u <= NU; u++)
                cl_livestate_features(x, u, f, NULL);
            cl_live_event e = {1, cl_livestate_now(x), CL_LIVE_WATCH, 1, 0, 0, 1, 0.5, 0, 0};
            cl_livestate_apply(x, &e);
            cl_livestate_free(x);
            x = NULL;
        }
        ib[k] = save;
        memcpy(ib + lb - 4, oldc, 4);
    }
    cl_alloc_free(ia);
    cl_alloc_free(ib);
    cl_alloc_free(ir);
    cl_livestate_free(a);
    cl_livestate_free(b);
    cl_livestate_free(r);
}

/* Each allocation in turn fails: the event is refused with CL_ENOMEM, the state's bytes do
 * not change, and offering it again afterwards gives the unfailed run's state. */
static void test_alloc_failures(void **state)
{
    (void)state;
    cl_livestate_config cfg = config();
    make_events(EV, 1500, 3);
    cl_livestate *ref = NULL, *s = NULL;
    assert_int_equal(cl_livestate_new(&ref, &cfg), CL_OK);
    assert_int_equal(cl_livestate_new(&s, &cfg), CL_OK);
    feed(ref, EV, 1500);
    long failures = 0;
    for (int i = 0; i < 1500; i++) {
        uint8_t *before, *after;
        size_t lb, la;
        assert_int_equal(cl_livestate_serialize(s, 0, &before, &lb), CL_OK);
        cl_alloc_fail_at(1);
        int rc = cl_livestate_apply(s, &EV[i]);
        cl_alloc_fail_at(0);
        if (rc == CL_ENOMEM) {
            failures++;
            assert_int_equal(cl_livestate_serialize(s, 0, &after, &la), CL_OK);
            assert_int_equal(la, lb);
            assert_memory_equal(before, after, la);
            cl_alloc_free(after);
            cl_livestate_apply(s, &EV[i]);
        }
        cl_alloc_free(before);
    }
    assert_true(failures > 10);
    uint8_t *x, *y;
    size_t lx, ly;
    assert_int_equal(cl_livestate_serialize(ref, 0, &x, &lx), CL_OK);
    assert_int_equal(cl_livestate_serialize(s, 0, &y, &ly), CL_OK);
    assert_int_equal(lx, ly);
    assert_memory_equal(x, y, lx);
    cl_alloc_free(x);
    cl_alloc_free(y);
    cl_livestate_free(ref);
    cl_livestate_free(s);
}

static void test_errors(void **state)
{
    (void)state;
    cl_livestate_config cfg = config();
    cl_livestate *s = NULL;
    cfg.nplans = 0;
    assert_int_equal(cl_livestate_new(&s, &cfg), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "plans"));
    cfg = config();
    cfg.max_user = 0;
    assert_int_equal(cl_livestate_new(&s, &cfg), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "max_user"));
    cfg = config();
    assert_int_equal(cl_livestate_new(&s, &cfg), CL_OK);
    assert_int_equal(cl_livestate_plan(s, "gold"), -1);
    assert_non_null(strstr(cl_error_last(), "unknown plan 'gold' (plans: basic, standard, premium)"));
    cl_live_event e = {101, 0, CL_LIVE_TICKET, 0, 0, 0, 0, 0, 0, 0};
    assert_int_equal(cl_livestate_apply(s, &e), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "field 'user_id'"));
    e.user = 1;
    e.kind = 99;
    assert_int_equal(cl_livestate_apply(s, &e), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "field 'event'"));
    e.kind = CL_LIVE_PROFILE;
    e.plan = 1;
    e.value = 10;
    e.value2 = 101;
    assert_int_equal(cl_livestate_apply(s, &e), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "field 'discount_pct'"));
    double f[CL_LIVE_NFEATURES];
    assert_int_equal(cl_livestate_features(s, 1, f, NULL), CL_ERANGE);
    assert_int_equal(cl_livestate_kind("payment_failed"), CL_LIVE_PAYFAIL);
    assert_int_equal(cl_livestate_kind("nope"), 0);
    assert_string_equal(cl_livestate_kind_name(CL_LIVE_PROFILE), "profile");
    cl_livestate_free(s);
}

static void test_log(void **state)
{
    (void)state;
    char db[128], snap[128];
    snprintf(db, sizeof db, "/tmp/churnlab_test_live_%ld.db", (long)getpid());
    snprintf(snap, sizeof snap, "/tmp/churnlab_test_live_%ld.snap", (long)getpid());
    remove(db);
    remove(snap);
    cl_livestate_config cfg = config();
    make_events(EV, NE, 11);
    cl_livelog *g = NULL;
    cl_livestate *s = NULL, *r = NULL;
    assert_int_equal(cl_livelog_open(&g, db, &cfg), CL_OK);
    assert_int_equal(cl_livestate_new(&s, &cfg), CL_OK);
    int64_t seq = 0;
    for (int b = 0; b < 6; b++) { /* batches of accepted events */
        int n = 0;
        for (int i = b * 1000; i < (b + 1) * 1000; i++)
            if (cl_livestate_apply(s, &EV[i]) == CL_OK)
                ACC[n++] = EV[i];
        assert_int_equal(cl_livelog_append(g, ACC, n, &seq), CL_OK);
        assert_int_equal(seq, b + 1);
        if (b == 2)
            assert_int_equal(cl_livelog_snapshot(s, seq, snap), CL_OK);
    }
    cl_livelog_close(g);
    assert_int_equal(cl_livelog_open(&g, db, &cfg), CL_OK);
    assert_int_equal(cl_livelog_last(g), 6);
    assert_int_equal(cl_livelog_count(g), cl_livestate_events(s));
    for (int with_snap = 1; with_snap >= 0; with_snap--) {
        assert_int_equal(cl_livelog_rebuild(g, with_snap ? snap : NULL, &cfg, &r), CL_OK);
        uint8_t *x, *y;
        size_t lx, ly;
        assert_int_equal(cl_livestate_serialize(s, 0, &x, &lx), CL_OK);
        assert_int_equal(cl_livestate_serialize(r, 0, &y, &ly), CL_OK);
        assert_int_equal(lx, ly);
        assert_memory_equal(x, y, lx);
        cl_alloc_free(x);
        cl_alloc_free(y);
        cl_livestate_free(r);
    }
    cl_livelog_close(g);
    /* another configuration is refused */
    cfg.max_user = 50;
    assert_int_equal(cl_livelog_open(&g, db, &cfg), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "another configuration"));
    cl_livestate_free(s);
    char p[160];
    remove(db);
    snprintf(p, sizeof p, "%s-wal", db);
    remove(p);
    snprintf(p, sizeof p, "%s-shm", db);
    remove(p);
    remove(snap);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oracle),         cmocka_unit_test(test_images),
        cmocka_unit_test(test_alloc_failures), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_log),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
