/* synth_write.c - the generator's files: titles.csv, users.csv, campaign.csv, emails.csv,
 * truth.csv and the data dictionary README.md (events.csv and ratings.csv are streamed by
 * synth.c). Every
 * number is formatted here with fixed decimals, independent of the C locale; every file is
 * written atomically. */
#include "synth/synth.h"
#include "synth/synth_impl.h"

#include "base/alloc.h"
#include "base/error.h"
#include "base/fileio.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#define EPOCH_DAY0 20089 /* 2025-01-01 as days since 1970-01-01: day 0 of the window */
#define FLUSH_AT (1u << 20)

/* printf for text without floating point (locale-independent: only %s %d %lld). */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void bprintf(synth_buf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        b->err = 1;
    else
        cl_synth_buf_str(b, tmp); /* callers keep lines short; longer ones are truncated */
}

/* ---- paths and files ---------------------------------------------------------------------- */

int cl_synth_write_path(char *buf, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(buf, cap, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= cap)
        return cl_error(CL_EINVAL, "synth: output path too long: '%s/%s'", dir, name);
    return CL_OK;
}

int cl_synth_write_mkdir_p(const char *dir)
{
    char path[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof path)
        return cl_error(CL_EINVAL, "synth: bad output directory '%s'", dir);
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] == '/' || path[i] == '\0') {
            char c = path[i];
            path[i] = '\0';
            if (mkdir(path, 0777) != 0 && errno != EEXIST)
                return cl_error(CL_EIO, "synth: cannot create directory '%s': %s", path,
                                strerror(errno));
            path[i] = c;
        }
    }
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return cl_error(CL_EIO, "synth: '%s' is not a directory", dir);
    return CL_OK;
}

typedef struct out_file {
    cl_atomic_file f;
    synth_buf b;
    int open;
} out_file;

static int of_open(out_file *o, const char *dir, const char *name)
{
    char path[4096];
    memset(o, 0, sizeof *o);
    int rc = cl_synth_write_path(path, sizeof path, dir, name);
    if (rc || (rc = cl_fileio_atomic_open(&o->f, path)))
        return rc;
    o->open = 1;
    return CL_OK;
}

static int of_flush(out_file *o)
{
    if (o->b.err)
        return cl_error(CL_ENOMEM, "synth: out of memory formatting '%s'", o->f.path);
    if (o->b.n && fwrite(o->b.p, 1, o->b.n, o->f.fp) != o->b.n)
        return cl_error(CL_EIO, "synth: write failed for '%s'", o->f.path);
    o->b.n = 0;
    return CL_OK;
}

static int of_maybe_flush(out_file *o) { return o->b.n >= FLUSH_AT ? of_flush(o) : CL_OK; }

/* Commits (rc == CL_OK) or aborts the file and frees the buffer; returns the final status. */
static int of_close(out_file *o, int rc)
{
    if (rc == CL_OK)
        rc = of_flush(o);
    if (o->open) {
        if (rc == CL_OK)
            rc = cl_fileio_atomic_commit(&o->f);
        else
            cl_fileio_atomic_abort(&o->f);
        o->open = 0;
    }
    cl_synth_buf_free(&o->b);
    return rc;
}

static void genre_list(synth_buf *b, const cl_synth_world *w, uint32_t mask)
{
    int first = 1;
    for (int g = 0; g < w->G; g++)
        if (mask >> g & 1u) {
            if (!first)
                cl_synth_buf_ch(b, '|');
            cl_synth_buf_str(b, cl_synth_world_genre_name(g));
            first = 0;
        }
}

static void iso_date(synth_buf *b, long long z)
{
    /* civil_from_days (proleptic Gregorian), after H. Hinnant's public description */
    z += 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long y = yoe + era * 400;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    long long d = doy - (153 * mp + 2) / 5 + 1;
    long long m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    char tmp[48];
    snprintf(tmp, sizeof tmp, "%04lld-%02lld-%02lld", y, m, d);
    cl_synth_buf_str(b, tmp);
}

/* ---- the CSV files ------------------------------------------------------------------------ */

int cl_synth_write_titles(const cl_synth_world *w, const char *dir)
{
    out_file o;
    int rc = of_open(&o, dir, "titles.csv");
    if (rc)
        return rc;
    synth_buf *b = &o.b;
    cl_synth_buf_str(b, "title_id,type,genres,year,popularity,quality,runtime_min,episodes\n");
    for (int i = 0; i < w->T && rc == CL_OK; i++) {
        cl_synth_buf_int(b, i + 1);
        cl_synth_buf_str(b, w->t_series[i] ? ",series," : ",film,");
        genre_list(b, w, w->t_genres[i]);
        cl_synth_buf_ch(b, ',');
        cl_synth_buf_int(b, w->t_year[i]);
        cl_synth_buf_ch(b, ',');
        cl_synth_buf_fixed(b, w->t_pop[i], 4);
        cl_synth_buf_ch(b, ',');
        cl_synth_buf_fixed(b, w->t_quality[i], 3);
        cl_synth_buf_ch(b, ',');
        cl_synth_buf_int(b, w->t_runtime[i]);
        cl_synth_buf_ch(b, ',');
        cl_synth_buf_int(b, w->t_episodes[i]);
        cl_synth_buf_ch(b, '\n');
        rc = of_maybe_flush(&o);
    }
    return of_close(&o, rc);
}

int cl_synth_write_users(const cl_synth_world *w, const char *dir)
{
    out_file o;
    int rc = of_open(&o, dir, "users.csv");
    if (rc)
        return rc;
    synth_buf *b = &o.b;
    const int D = w->p.days;
    cl_synth_buf_str(b, "user_id,signup_day,signup_date,tenure_days,age_band,region,plan,"
                     "monthly_price,discount_pct,payment_method,devices,device_types,channel,"
                     "active,churn_day,churn\n");
    for (int ci = 0; ci < w->N && rc == CL_OK; ci++) {
        const synth_cust *c = &w->cust[ci];
        const synth_state *s = &c->snap;
        int active = c->label >= 0;
        int at = active ? D : c->churn_day; /* the day the row describes */
        cl_synth_buf_int(b, ci + 1);
        cl_synth_buf_ch(b, ',');
        cl_synth_buf_int(b, c->signup_day);
        cl_synth_buf_ch(b, ',');
        iso_date(b, EPOCH_DAY0 + (long long)c->signup_day);
        cl_synth_buf_ch(b, ',');
        cl_synth_buf_int(b, at - c->signup_day);
        cl_synth_buf_ch(b, ',');
        cl_synth_buf_str(b, cl_synth_world_age_names[(int)c->age]);
        cl_synth_buf_ch(b, ',');
        cl_synth_buf_str(b, cl_synth_world_region_names[(int)c->region]);
        cl_synth_buf_ch(b, ',');
        cl_synth_buf_str(b, cl_synth_world_plan_names[(int)s->plan]);
        cl_synth_buf_ch(b, ',');
        cl_synth_buf_fixed(b, cl_synth_world_price(w, s->plan, at), 2);
        cl_synth_buf_ch(b, ',');
        int disc = s->act == CL_SYNTH_DISCOUNT && s->act_until > at;
        cl_synth_buf_fixed(b, disc ? 100.0 * s->act_disc : 0.0, 0);
        cl_synth_buf_ch(b, ',');
        cl_synth_buf_str(b, cl_synth_world_pay_names[(int)c->pay]);
        cl_synth_buf_ch(b, ',');
        cl_synth_buf_int(b, c->ndev);
        cl_synth_buf_ch(b, ',');
        for (int d = 0, first = 1; d < NDEVICE; d++)
            if (c->devices >> d & 1u) {
                if (!first)
                    cl_synth_buf_ch(b, '|');
                cl_synth_buf_str(b, cl_synth_world_device_names[d]);
                first = 0;
            }
        cl_synth_buf_ch(b, ',');
        cl_synth_buf_str(b, cl_synth_world_channel_names[(int)c->channel]);
        cl_synth_buf_str(b, active ? ",1," : ",0,");
        if (!active)
            cl_synth_buf_int(b, c->churn_day);
        cl_synth_buf_ch(b, ',');
        if (active)
            cl_synth_buf_int(b, c->label);
        cl_synth_buf_ch(b, '\n');
        rc = of_maybe_flush(&o);
    }
    return of_close(&o, rc);
}

int cl_synth_write_campaign(const cl_synth_world *w, const char *dir)
{
    out_file o;
    int rc = of_open(&o, dir, "campaign.csv");
    if (rc)
        return rc;
    synth_buf *b = &o.b;
    cl_synth_buf_str(b, "user_id,campaign_day,treated,discount_pct,months,churn\n");
    for (int ci = 0; ci < w->N && rc == CL_OK; ci++) {
        const synth_cust *c = &w->cust[ci];
        if (c->campaign < 0)
            continue;
        cl_synth_buf_int(b, ci + 1);
        cl_synth_buf_ch(b, ',');
        cl_synth_buf_int(b, w->p.campaign_day);
        cl_synth_buf_ch(b, ',');
        cl_synth_buf_int(b, c->campaign);
        cl_synth_buf_ch(b, ',');
        cl_synth_buf_fixed(b, c->campaign ? w->p.campaign_discount : 0.0, 0);
        cl_synth_buf_ch(b, ',');
        cl_synth_buf_int(b, c->campaign ? w->p.campaign_months : 0);
        cl_synth_buf_ch(b, ',');
        cl_synth_buf_int(b, c->campaign_churn);
        cl_synth_buf_ch(b, '\n');
        rc = of_maybe_flush(&o);
    }
    return of_close(&o, rc);
}

/* emails.csv: one row per newsletter sent, in customer order (see cl_synth_world_email_reaction). */
int cl_synth_write_emails(const cl_synth_world *w, const char *dir)
{
    out_file o;
    int rc = of_open(&o, dir, "emails.csv");
    if (rc)
        return rc;
    synth_buf *b = &o.b;
    cl_synth_buf_str(b, "user_id,day,opened,price_click\n");
    for (int ci = 0; ci < w->N && rc == CL_OK; ci++) {
        for (int d = SYNTH_EMAIL_FIRST; d < w->p.days; d += SYNTH_EMAIL_EVERY) {
            if (!cl_synth_world_customer_on(w, ci, d))
                continue;
            int react = cl_synth_world_email_reaction(w, ci, d);
            cl_synth_buf_reserve(b, 32);
            cl_synth_buf_int(b, ci + 1);
            cl_synth_buf_ch(b, ',');
            cl_synth_buf_int(b, d);
            cl_synth_buf_str(b, react == 0 ? ",0,0\n" : react == 1 ? ",1,0\n" : ",1,1\n");
        }
        rc = of_maybe_flush(&o);
    }
    return of_close(&o, rc);
}

/* The e-mail log's totals for the data dictionary: sent, opened, price link followed. */
static void email_counts(const cl_synth_world *w, long long out[3])
{
    out[0] = out[1] = out[2] = 0;
    for (int ci = 0; ci < w->N; ci++)
        for (int d = SYNTH_EMAIL_FIRST; d < w->p.days; d += SYNTH_EMAIL_EVERY)
            if (cl_synth_world_customer_on(w, ci, d)) {
                int react = cl_synth_world_email_reaction(w, ci, d);
                out[0]++;
                out[1] += react > 0;
                out[2] += react == 2;
            }
}

int cl_synth_write_truth(const cl_synth_world *w, const char *dir)
{
    double *risk = cl_alloc_calloc((size_t)w->N, sizeof *risk);
    if (!risk)
        return CL_ENOMEM;
    int rc = cl_synth_replay_true_risk(w, NULL, w->p.label_days, risk);
    if (rc) {
        cl_alloc_free(risk);
        return rc;
    }
    out_file o;
    if ((rc = of_open(&o, dir, "truth.csv"))) {
        cl_alloc_free(risk);
        return rc;
    }
    synth_buf *b = &o.b;
    cl_synth_buf_str(b, "user_id,true_risk,engagement,fade_start,fade_rate,price_sensitivity,"
                     "explore,frailty,label_churn_day,label_revenue");
    for (int g = 0; g < w->G; g++) {
        cl_synth_buf_str(b, ",taste_");
        cl_synth_buf_str(b, cl_synth_world_genre_name(g));
    }
    cl_synth_buf_ch(b, '\n');
    for (int ci = 0; ci < w->N && rc == CL_OK; ci++) {
        const synth_cust *c = &w->cust[ci];
        int active = c->label >= 0;
        cl_synth_buf_int(b, ci + 1);
        cl_synth_buf_ch(b, ',');
        if (active)
            cl_synth_buf_fixed(b, risk[ci], 6);
        cl_synth_buf_ch(b, ',');
        cl_synth_buf_fixed(b, c->e0, 4);
        cl_synth_buf_ch(b, ',');
        if (c->fade_rate > 0)
            cl_synth_buf_fixed(b, c->fade_start, 1);
        cl_synth_buf_ch(b, ',');
        cl_synth_buf_fixed(b, c->fade_rate, 4);
        cl_synth_buf_ch(b, ',');
        cl_synth_buf_fixed(b, c->sens, 4);
        cl_synth_buf_ch(b, ',');
        cl_synth_buf_fixed(b, c->explore, 4);
        cl_synth_buf_ch(b, ',');
        cl_synth_buf_fixed(b, c->frailty, 4);
        cl_synth_buf_ch(b, ',');
        if (active && c->churn_day >= 0)
            cl_synth_buf_int(b, c->churn_day);
        cl_synth_buf_ch(b, ',');
        if (active)
            cl_synth_buf_fixed(b, c->revenue_obs, 2);
        const float *t = w->taste + (size_t)ci * w->G;
        for (int g = 0; g < w->G; g++) {
            cl_synth_buf_ch(b, ',');
            cl_synth_buf_fixed(b, t[g], 5);
        }
        cl_synth_buf_ch(b, '\n');
        rc = of_maybe_flush(&o);
    }
    cl_alloc_free(risk);
    return of_close(&o, rc);
}

/* ---- the data dictionary ------------------------------------------------------------------ */

static void num(synth_buf *b, double v, int dec) { cl_synth_buf_fixed(b, v, dec); }

static void pct(synth_buf *b, long long a, long long n)
{
    cl_synth_buf_fixed(b, n ? 100.0 * (double)a / (double)n : 0.0, 2);
    cl_synth_buf_str(b, "%");
}

int cl_synth_write_readme(const cl_synth_world *w, const char *dir)
{
    const cl_synth_params *P = &w->p;
    const cl_synth_stats *S = &w->stats;
    synth_buf bb = {0}, *b = &bb;
    bprintf(b, "# The churnlab synthetic streaming service (generated data dictionary)\n\n");
    bprintf(b, "Written by the generator (`core/synth.c`, `cl.synth.generate`); do not edit. "
               "Same seed and parameters give byte-identical files whatever the thread count.\n"
               "Day 0 is 2025-01-01, the first day of the %d-day observation window; the snapshot "
               "is the start of day %d and the label is churn within the %d days after it "
               "(days %d..%d).\n\n",
               P->days, P->days, P->label_days, P->days, P->days + P->label_days - 1);

    bprintf(b, "## Parameters\n\n| parameter | value | meaning |\n|---|---|---|\n");
    for (const cl_param_def *d = cl_synth_world_param_defs; d->name; d++) {
        bprintf(b, "| `%s` | ", d->name);
        if (d->type == CL_PARAM_NUM) {
            cl_synth_buf_fixed(b, *(const double *)((const char *)P + d->offset), 4);
        } else {
            char v[64];
            cl_param_format(d, P, v, sizeof v);
            cl_synth_buf_str(b, v);
        }
        bprintf(b, " | %s |\n", d->doc);
    }

    bprintf(b, "\n## This data set at a glance\n\n");
    bprintf(b, "- customers: %d (%lld active at the snapshot, %lld cancelled during the "
               "observation window)\n",
            w->N, S->active_at_snapshot, S->churned_in_window);
    bprintf(b, "- churn within %d days of the snapshot: %lld of %lld active customers (",
            P->label_days, S->label_churners, S->active_at_snapshot);
    pct(b, S->label_churners, S->active_at_snapshot);
    bprintf(b, "); the true risk (truth.csv) ranks them with ROC AUC ");
    num(b, S->oracle_auc, 3);
    bprintf(b, " (a practical ceiling for models of this data)\n- plans at signup: basic ");
    pct(b, S->plan_count[0], w->N);
    bprintf(b, ", standard ");
    pct(b, S->plan_count[1], w->N);
    bprintf(b, ", premium ");
    pct(b, S->plan_count[2], w->N);
    bprintf(b, "\n- events.csv: %lld rows (%lld watches in %lld sessions over %lld "
               "customer-days: ",
            S->events, S->watches, S->sessions, S->alive_days);
    num(b, S->alive_days ? (double)S->sessions / (double)S->alive_days : 0, 3);
    bprintf(b, " sessions per active day), ratings.csv: %lld rows\n", S->ratings);
    bprintf(b, "- tickets %lld, payment failures %lld of %lld bills (", S->tickets,
            S->payment_failures, S->bills);
    pct(b, S->payment_failures, S->bills);
    bprintf(b, "), plan changes %lld, price-change notices %lld\n", S->plan_changes,
            S->price_changes);
    if (P->campaign_day >= 0) {
        bprintf(b, "- campaign on day %d: %lld treated, churn ", P->campaign_day,
                S->campaign_treated);
        pct(b, S->campaign_treated_churn, S->campaign_treated);
        bprintf(b, "; %lld control, churn ", S->campaign_control);
        pct(b, S->campaign_control_churn, S->campaign_control);
        bprintf(b, " (within %d days)\n", P->campaign_outcome_days);
    }
    long long em[3];
    email_counts(w, em);
    bprintf(b, "- emails.csv: %lld newsletters sent, %lld opened (", em[0], em[1]);
    pct(b, em[1], em[0]);
    bprintf(b, "), the price link followed in %lld (", em[2]);
    pct(b, em[2], em[1]);
    bprintf(b, " of those opened)\n");

    bprintf(b, "\n## Files\n\n### titles.csv (one row per title)\n\n"
               "| column | meaning |\n|---|---|\n"
               "| title_id | 1..%d |\n| type | film or series |\n"
               "| genres | 1-3 genres joined by `|`, from: ",
            w->T);
    for (int g = 0; g < w->G; g++) {
        bprintf(b, "%s%s", g ? ", " : "", cl_synth_world_genre_name(g));
    }
    bprintf(b, " |\n| year | release year |\n"
               "| popularity | relative popularity (log-normal, median 1); titles are picked in "
               "proportion to popularity x (0.5 + quality) |\n"
               "| quality | 0..1, critics' view; raises completion and ratings |\n"
               "| runtime_min | film length, or episode length for a series |\n"
               "| episodes | episodes of a series (1 for films) |\n");

    bprintf(b, "\n### users.csv (one row per customer)\n\n| column | meaning |\n|---|---|\n"
               "| user_id | 1..%d |\n"
               "| signup_day, signup_date | signup as a day number (negative: before the window) "
               "and as a date |\n"
               "| tenure_days | days since signup at the snapshot (or at cancellation) |\n"
               "| age_band | 18-24, 25-34, 35-44, 45-54, 55+ |\n"
               "| region | north, south, east, west, metro |\n"
               "| plan | basic, standard or premium at the snapshot (or at cancellation) |\n"
               "| monthly_price | list price of that plan then (basic 7.99, standard 12.99, "
               "premium 17.99; standard and premium rise by the price_rise on "
               "price_rise_day) |\n"
               "| discount_pct | discount running at the snapshot (the past campaign), else 0 |\n"
               "| payment_method | card, debit, paypal, gift_card |\n"
               "| devices, device_types | number of devices and which (`|`-joined: tv, mobile, "
               "web, tablet, console) |\n"
               "| channel | acquisition channel: organic, search, social, referral, partner |\n"
               "| active | 1 if a customer at the snapshot, 0 if cancelled before it |\n"
               "| churn_day | day of cancellation for active = 0, else empty |\n"
               "| churn | **the label**: 1 if an active customer cancels within %d days of the "
               "snapshot, 0 if not; empty for active = 0 |\n",
            w->N, P->label_days);

    bprintf(b, "\n### events.csv (one row per event, observation window only, in customer "
               "order)\n\n| column | meaning |\n|---|---|\n"
               "| user_id, day | who and when (day 0..%d) |\n"
               "| event | watch, ticket, payment_failed, plan_change, price_change, cancel |\n"
               "| title_id | watch: the title |\n"
               "| minutes | watch: minutes watched (several episodes for a series) |\n"
               "| completion | watch: share of the (last) film or episode finished, 0..1 |\n"
               "| device | watch: the device of the session |\n"
               "| detail | ticket: topic (playback, account, content, billing); payment_failed: "
               "method; plan_change: the new plan; price_change: the new monthly price |\n",
            P->days - 1);
    bprintf(b, "\n### ratings.csv\n\n| column | meaning |\n|---|---|\n"
               "| user_id, title_id, day | who rated what when |\n"
               "| rating | 1-5 stars; 7%% of watches are rated; driven by how well the title's "
               "genres match the customer's hidden taste and by its quality |\n");
    bprintf(b, "\n### campaign.csv (the past randomised retention campaign)\n\n"
               "On day %d, a random %d%% of active customers were enrolled and half of them, at "
               "random, got %d%% off for %d months.\n\n"
               "| column | meaning |\n|---|---|\n"
               "| user_id, campaign_day | who, when |\n| treated | 1 offer, 0 control |\n"
               "| discount_pct, months | the offer (0 for control) |\n"
               "| churn | 1 if the customer cancelled within %d days of the campaign |\n",
            P->campaign_day, (int)lround(100 * P->campaign_share),
            (int)lround(P->campaign_discount), P->campaign_months, P->campaign_outcome_days);
    bprintf(b, "\n### emails.csv (the newsletter log: how customers react to prices)\n\n"
               "Every %d days from day %d the service e-mails every customer its newsletter, "
               "which links to the plans-and-prices page. A customer opens it with probability ",
            SYNTH_EMAIL_EVERY, SYNTH_EMAIL_FIRST);
    num(b, SYNTH_EMAIL_OPEN, 2);
    bprintf(b, ", whoever they are, and, having opened it, follows the price link with "
               "probability sigmoid(");
    num(b, SYNTH_EMAIL_CLICK_A, 1);
    bprintf(b, " + ");
    num(b, SYNTH_EMAIL_CLICK_B, 1);
    bprintf(b, " s), s the hidden price sensitivity (truth.csv): the share of opened e-mails "
               "whose price link a customer followed is a noisy trace of s, on every plan. The "
               "e-mails change nobody's churn.\n\n"
               "| column | meaning |\n|---|---|\n"
               "| user_id, day | who was sent the newsletter, when (customers on that day only) |\n"
               "| opened | 1 if opened |\n"
               "| price_click | 1 if the customer followed its link to the plans and prices |\n");
    bprintf(b, "\n### truth.csv (hidden traits: for checking models, never as features)\n\n"
               "| column | meaning |\n|---|---|\n"
               "| true_risk | P(churn within %d days) from the true hazard along the expected "
               "path (the oracle score; empty for inactive customers) |\n"
               "| engagement | baseline sessions per day e0 |\n"
               "| fade_start, fade_rate | a fading customer's log engagement falls by fade_rate "
               "per day after fade_start (capped at 3); empty/0 for the 70%% who never fade |\n"
               "| price_sensitivity | s in (0, 1) |\n"
               "| explore | share of titles picked from overall popularity instead of taste |\n"
               "| frailty | hidden noise on the log hazard |\n"
               "| label_churn_day, label_revenue | day of churn in the label window (empty if "
               "none) and revenue collected in it |\n"
               "| taste_<genre> | hidden genre tastes, summing to 1 |\n",
            P->label_days);

    bprintf(b, "\n## Why customers churn\n\n"
               "Each day an active customer cancels with probability "
               "h = 1 - exp(-exp(eta)) (drawn first from the customer-day's own random "
               "stream), with\n\n    eta = sum of coefficient x term\n\n"
               "so exp(coefficient) is a hazard ratio per unit of the term:\n\n"
               "| cause | coefficient | term |\n|---|---|---|\n");
    for (const cl_synth_coef *k = cl_synth_world_coefs(); k->name; k++) {
        bprintf(b, "| %s | ", k->name);
        num(b, k->value, 2);
        bprintf(b, " | %s |\n", k->term);
    }
    bprintf(b,
            "\nThe action_* rows apply only in counterfactual replays (`world:replay`) and to "
            "the campaign's treated customers.\n\n"
            "## How daily life is simulated\n\n"
            "- Engagement: customer baseline e0 = 0.45 x age factor (1.2, 1.1, 1.0, 0.9, 0.8 by "
            "age band) x lognormal(sd 0.6); 30%% of customers start fading at a random day. "
            "Sessions per day ~ Poisson(e_t x weekday factor: Wed-Tue 0.90, 0.95, 1.10, 1.20, "
            "1.15, 0.85, 0.85; day 0 is a Wednesday).\n"
            "- Titles per session: 1 + Poisson(0.35). A title is picked from overall "
            "popularity with probability explore, else a genre is picked in proportion to "
            "taste x sqrt(share of titles in the genre) and a title within it by popularity. "
            "Appeal = genres x mean taste over the title's genres (1 = indifferent).\n"
            "- Completion = 0.05 + 0.95 sigmoid(0.6 + 1.2 log appeal + 3 (quality - 0.6) + "
            "N(0, 0.8)); a series session runs 1 + Poisson(0.8) episodes.\n"
            "- Ratings: 7%% of watches; stars = round(3 + 1.1 log appeal + 3 (quality - 0.6) "
            "+ N(0, 0.7)) clamped to 1..5.\n"
            "- Billing every 30 days after signup; a bill fails with probability card 2.0%%, "
            "debit 3.5%%, paypal 1.2%%, gift_card 6.0%%.\n"
            "- Tickets: daily probability 0.0012 + 0.0006 x sessions, + 0.08 on a payment "
            "failure (billing topic).\n"
            "- Plan changes: downgrade 0.0002 + 0.006 x s x exp(-(days since the rise) / 45) "
            "a day; upgrade 0.0003 x e_t / 0.45 a day.\n"
            "- Price sensitivity s = sigmoid(N(0, 1) + 0.6 basic / 0 standard / -0.7 "
            "premium).\n\n"
            "## Counterfactual replays\n\n"
            "Every customer-day has its own random stream (seed, customer id x %d + day), and "
            "the first draw decides churn. `world:replay{policy = fn}` restarts every active "
            "customer from the snapshot with the same streams and an action (none, discount, "
            "content, outreach); with no action it reproduces the churn column exactly.\n\n"
            "What actions do (see the action_* rows of the hazard table): a discount of d%% costs "
            "its d%% of the price every day it runs and is felt with diminishing returns, "
            "g(d) = (1 - exp(-d/30)) / (1 - exp(-25/30)): the hazard sees the price list x (1 - "
            "0.25 g(d)) (never below 57%% of list, even at 100%% off) and the bonus "
            "action_discount x g(d) (a 1%% discount earns 3%% of the 25%% one's). Recommended "
            "content works through how much of each title the customer would watch (appeal and "
            "quality): titles they would abandon raise the hazard, and more than 5 titles tire "
            "them. Outreach helps most customers with open tickets or payment failures.\n",
            CL_SYNTH_MAX_DAYS);

    int rc = CL_OK;
    if (b->err)
        rc = cl_error(CL_ENOMEM, "synth: out of memory writing the data dictionary");
    char path[4096];
    if (rc == CL_OK)
        rc = cl_synth_write_path(path, sizeof path, dir, "README.md");
    if (rc == CL_OK)
        rc = cl_fileio_write_atomic(path, b->p, b->n);
    cl_synth_buf_free(b);
    return rc;
}
