/* answer_text.c - GET /api/customers/:id written straight into a text buffer: the bytes
 * json_dumps(cl_service_answer_json(svc, user, a, 1), JSON_COMPACT | JSON_REAL_PRECISION(15)) gives
 * (tests/core/serve/test_service.c compares them for every customer), without building the
 * jansson tree first. That tree (about 150 nodes, each allocated, every object a hash table)
 * and its dump were a quarter of a served answer's CPU, and an answer is recomputed for most
 * customers every simulated day. Only output is written here: nothing is parsed.
 *
 * The rules followed are jansson's (2.14): reals as "%.15g" with ".0" added when the text
 * has neither '.' nor 'e' and the exponent without '+' or leading zeros; strings with '"',
 * '\\' and the control characters escaped ("\b" "\f" "\n" "\r" "\t", else "\u%04X"), other
 * bytes as they are. A string that is not valid UTF-8 (which json_string refuses, so the tree
 * would lack the key) makes cl_answer_text return CL_EINVAL: the caller then takes the tree. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "serve/service_impl.h"

typedef struct tbuf {
    char *s;
    size_t len, cap;
    int err; /* CL_ENOMEM, or CL_EINVAL for a string that is not UTF-8 */
} tbuf;

static void put(tbuf *b, const char *t, size_t n)
{
    if (b->err)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *s = cl_alloc_realloc(b->s, cap);
        if (!s) {
            b->err = CL_ENOMEM;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
    memcpy(b->s + b->len, t, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void puts_(tbuf *b, const char *t) { put(b, t, strlen(t)); }

/* Length of the UTF-8 sequence at s (n bytes left) as jansson's decoder accepts it, 0 when
 * invalid: no overlong forms, no surrogates, nothing above U+10FFFF. */
static int utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    int len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (!len || (size_t)len > n || (c >= 0xC0 && c <= 0xC1) || c > 0xF4)
        return len == 1 ? 1 : 0;
    uint32_t cp = len == 2 ? c & 0x1F : len == 3 ? c & 0x0F : c & 0x07;
    for (int k = 1; k < len; k++) {
        if ((s[k] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[k] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

static void str(tbuf *b, const char *t)
{
    put(b, "\"", 1);
    const unsigned char *p = (const unsigned char *)t;
    size_t n = strlen(t), run = 0;
    for (size_t i = 0; i < n && !b->err;) {
        int l = utf8_len(p + i, n - i);
        if (!l) {
            b->err = CL_EINVAL;
            return;
        }
        unsigned c = p[i];
        const char *esc = NULL;
        char seq[8];
        if (l == 1 && (c == '"' || c == '\\' || c < 0x20)) {
            esc = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\b' ? "\\b" : c == '\f' ? "\\f"
                : c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
            if (!esc) {
                snprintf(seq, sizeof seq, "\\u%04X", c);
                esc = seq;
            }
        }
        if (esc) {
            put(b, (const char *)p + i - run, run);
            puts_(b, esc);
            run = 0;
        } else {
            run += (size_t)l;
        }
        i += (size_t)l;
    }
    put(b, (const char *)p + n - run, run);
    put(b, "\"", 1);
}

/* A real as jansson dumps it with JSON_REAL_PRECISION(15); null when not finite (what
 * cl_service_jnum and jround give). */
static void real(tbuf *b, double v)
{
    if (!isfinite(v)) {
        puts_(b, "null");
        return;
    }
    char t[48];
    int n = snprintf(t, sizeof t, "%.15g", v);
    for (int k = 0; k < n; k++)
        if (t[k] == ',') /* a locale's decimal comma, as jansson's from_locale */
            t[k] = '.';
    if (!strchr(t, '.') && !strchr(t, 'e')) {
        memcpy(t + n, ".0", 3);
        n += 2;
    }
    char *e = strchr(t, 'e');
    if (e) { /* "1e-05" -> "1e-5", "1e+20" -> "1e20" */
        char *start = e + 1, *end = e + 2;
        if (*start == '-')
            start++;
        while (*end == '0')
            end++;
        if (end != start) {
            memmove(start, end, (size_t)(t + n - end) + 1);
            n -= (int)(end - start);
        }
    }
    put(b, t, (size_t)n);
}

static double rnd(double v, double unit) { return isfinite(v) ? round(v / unit) * unit : v; }

static void integer(tbuf *b, long long v)
{
    char t[24];
    put(b, t, (size_t)snprintf(t, sizeof t, "%lld", v));
}

/* ,"key": (no comma before the first member) */
static void key(tbuf *b, const char *k, int first)
{
    if (!first)
        put(b, ",", 1);
    str(b, k);
    put(b, ":", 1);
}

static void history(cl_service *svc, tbuf *b, int32_t user)
{
    svc_user *us = cl_service_user_of(svc, user, 0);
    put(b, "[", 1);
    pthread_mutex_lock(&svc->hist_mu);
    int nh = us ? us->hist_n : 0;
    for (int k = 0; k < nh; k++) {
        puts_(b, k ? ",{\"day\":" : "{\"day\":");
        integer(b, us->hist_day[k]);
        puts_(b, ",\"risk\":");
        real(b, rnd(us->hist_risk[k], 1e-5));
        put(b, "}", 1);
    }
    pthread_mutex_unlock(&svc->hist_mu);
    put(b, "]", 1);
}

static void reasons(tbuf *b, const svc_answer *a)
{
    put(b, "[", 1);
    for (int k = 0; k < a->nreasons; k++) {
        const svc_reason *r = &a->reasons[k];
        char lab[96], text[192];
        cl_service_column_label(r->column[0] ? r->column : r->feature, lab, sizeof lab);
        cl_service_reason_text(r, text, sizeof text);
        put(b, k ? ",{" : "{", k ? 2 : 1);
        key(b, "feature", 1);
        str(b, r->feature);
        key(b, "label", 0);
        str(b, lab);
        key(b, "value", 0);
        if (r->label[0])
            str(b, r->label);
        else
            real(b, r->value);
        key(b, "text", 0);
        str(b, text);
        key(b, "contrib", 0);
        real(b, rnd(r->contrib, 1e-5));
        key(b, "direction", 0);
        str(b, r->contrib > 0 ? "raises" : "lowers");
        put(b, "}", 1);
    }
    put(b, "]", 1);
}

static void recs(cl_service *svc, tbuf *b, const svc_answer *a)
{
    put(b, "[", 1);
    for (int k = 0; k < a->nrecs; k++) {
        int32_t t = a->rec_title[k];
        const char *name = svc->cfg.title_names && t <= svc->cfg.ntitles ? svc->cfg.title_names[t] : NULL;
        char buf[32];
        if (!name) {
            snprintf(buf, sizeof buf, "Title %d", (int)t);
            name = buf;
        }
        const char *g = svc->cfg.title_genres && t <= svc->cfg.ntitles ? svc->cfg.title_genres[t] : NULL;
        put(b, k ? ",{" : "{", k ? 2 : 1);
        key(b, "title", 1);
        integer(b, t);
        key(b, "name", 0);
        str(b, name);
        key(b, "genre", 0);
        if (g)
            str(b, g);
        else
            puts_(b, "null");
        key(b, "score", 0);
        real(b, rnd(a->rec_score[k], 1e-4));
        put(b, "}", 1);
    }
    put(b, "]", 1);
}

/* {"name":..,"label":..,"cost":..,"expected_net_value":..}, open (the caller closes it) */
static void action(cl_service *svc, tbuf *b, const svc_answer *a, int k)
{
    if (!svc->acts[k].name || !svc->acts[k].label) { /* json_pack would fail: the tree's way */
        b->err = CL_EINVAL;
        return;
    }
    put(b, "{", 1);
    key(b, "name", 1);
    str(b, svc->acts[k].name);
    key(b, "label", 0);
    str(b, svc->acts[k].label);
    key(b, "cost", 0);
    real(b, rnd(a->cost[k], 0.01));
    key(b, "expected_net_value", 0);
    real(b, rnd(a->net[k], 0.01));
}

int cl_answer_text(cl_service *svc, int32_t user, const svc_answer *a, char **out, size_t *len)
{
    *out = NULL;
    tbuf b = {0};
    const char *plan = cl_livestate_plan_name(svc->cfg.state, a->plan);
    put(&b, "{", 1);
    key(&b, "id", 1);
    integer(&b, user);
    key(&b, "risk", 0);
    real(&b, rnd(a->risk, 1e-5));
    key(&b, "plan", 0);
    str(&b, plan ? plan : "unknown");
    key(&b, "price", 0);
    real(&b, rnd(a->price, 0.01));
    key(&b, "tenure_days", 0);
    real(&b, a->tenure);
    key(&b, "revenue_at_risk", 0);
    real(&b, rnd(a->risk * a->price, 0.01));
    key(&b, "active", 0);
    puts_(&b, a->active ? "true" : "false");
    key(&b, "history", 0);
    history(svc, &b, user);
    key(&b, "reasons", 0);
    reasons(&b, a);
    key(&b, "recommendations", 0);
    recs(svc, &b, a);
    key(&b, "rec_fallback", 0);
    if (a->fallback)
        str(&b, "popular");
    else
        puts_(&b, "null");
    key(&b, "action", 0);
    action(svc, &b, a, a->best);
    key(&b, "alternatives", 0);
    put(&b, "[", 1);
    for (int k = 0, n = 0; k < svc->nacts; k++)
        if (k != a->best) {
            if (n++)
                put(&b, ",", 1);
            action(svc, &b, a, k);
            put(&b, "}", 1);
        }
    puts_(&b, "]}");
    key(&b, "features", 0);
    put(&b, "{", 1);
    for (int j = 0; j < CL_LIVE_NFEATURES; j++) {
        key(&b, cl_livestate_feature_defs[j].name, j == 0);
        real(&b, a->feat[j]);
    }
    puts_(&b, "}}");
    if (b.err) {
        cl_alloc_free(b.s);
        return b.err == CL_ENOMEM ? cl_error(CL_ENOMEM, "customer %d: out of memory", (int)user)
                                  : CL_EINVAL;
    }
    *out = b.s;
    *len = b.len;
    return CL_OK;
}
