/* progress.c - progress bars and summary lines for long C loops (lcl_progress_*), wired to the
 * core's cl_progress callback. Kept apart from lcl.c: rendering a bar is its own concern.
 */
#include "support/progress.h"

#include <lauxlib.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
/*
 * Modes: 0 silent; 1 one summary line when the task finishes; 2 that plus a plain line every
 * 10% (for logs); 3 a live bar redrawn in place. A terminal on stderr gets the bar unless
 * verbose is false/0; otherwise nothing, or the summary line with verbose = true/1 (2: the
 * 10% lines too). The bar:
 *     fit [##########..........]  50%  500/1000  812/s  00:00<00:00  loss 0.4123
 * fitted to the terminal width; redrawn at most 10 times a second, and always at the end.
 */

enum { PROG_SILENT, PROG_SUMMARY, PROG_LINES, PROG_BAR };

typedef struct progress_state {
    cl_progress p;
    int mode;
    int active;        /* a task has reported and not finished */
    int runs;          /* times the task restarted from a lower count (restarts, folds) */
    int drawn;         /* a bar line is on screen without its newline */
    int last_decile;   /* PROG_LINES: last 10% step printed */
    double start, last_draw, last_done, last_total, last_t;
    char task[48];     /* the task being timed; a new task restarts the clock */
    char detail[96];   /* the last detail, for the closing line */
} progress_state;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void fmt_secs(char *buf, size_t cap, double s)
{
    if (!(s >= 0) || s > 359999)
        snprintf(buf, cap, "--:--");
    else if (s >= 3600)
        snprintf(buf, cap, "%d:%02d:%02d", (int)s / 3600, (int)s / 60 % 60, (int)s % 60);
    else
        snprintf(buf, cap, "%02d:%02d", (int)s / 60, (int)s % 60);
}

/* 1234567 -> "1.23M"; small integers stay exact. */
static void fmt_count(char *buf, size_t cap, double v)
{
    static const char suffix[] = " kMGTP";
    if (!(v == v)) {
        snprintf(buf, cap, "?");
        return;
    }
    if (fabs(v) < 1e4 && v == floor(v)) {
        snprintf(buf, cap, "%.0f", v);
        return;
    }
    int k = 0;
    while (fabs(v) >= 1000 && k < 5) {
        v /= 1000;
        k++;
    }
    if (k == 0)
        snprintf(buf, cap, fabs(v) >= 100 ? "%.0f" : fabs(v) >= 10 ? "%.1f" : "%.2f", v);
    else
        snprintf(buf, cap, fabs(v) >= 100 ? "%.0f%c" : fabs(v) >= 10 ? "%.1f%c" : "%.2f%c", v,
                 suffix[k]);
}

static int term_width(void)
{
    struct winsize ws;
    if (ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
        return ws.ws_col;
    const char *c = getenv("COLUMNS");
    int n = c ? atoi(c) : 0;
    return n >= 20 && n <= 1000 ? n : 80;
}

/* The bar line (without \r or newline) for a terminal `width` columns wide. */
static void progress_line(char *out, size_t cap, int width, const char *task, double done,
                          double total, double elapsed, const char *detail)
{
    char rate[24], cnt[24], tot[24], el[16], eta[16], tail[160];
    double r = elapsed > 0 ? done / elapsed : 0;
    fmt_count(rate, sizeof rate, r);
    fmt_count(cnt, sizeof cnt, done);
    fmt_secs(el, sizeof el, elapsed);
    if (total > 0) {
        double frac = done / total;
        if (frac < 0)
            frac = 0;
        if (frac > 1)
            frac = 1;
        fmt_count(tot, sizeof tot, total);
        fmt_secs(eta, sizeof eta, done > 0 && done < total ? elapsed * (total - done) / done
                                  : done >= total ? 0 : -1);
        snprintf(tail, sizeof tail, " %3.0f%%  %s/%s  %s/s  %s<%s", 100 * frac, cnt, tot, rate,
                 el, eta);
        /* the bar takes what is left of the line, between 10 and 30 cells */
        int room = width - 1 - (int)strlen(task) - 3 - (int)strlen(tail) -
                   (detail && *detail ? 2 + (int)strlen(detail) : 0);
        if (room < 10) /* a long detail: keep a short bar, the detail is cut instead */
            room = width - 1 - (int)strlen(task) - 3 - (int)strlen(tail) >= 20 ? 10 : room;
        int w = room > 30 ? 30 : room;
        if (w >= 10) {
            char bar[32];
            int fill = (int)(w * frac);
            for (int i = 0; i < w; i++)
                bar[i] = i < fill ? '#' : '.';
            bar[w] = '\0';
            snprintf(out, cap, "%s [%s]%s", task, bar, tail);
        } else {
            snprintf(out, cap, "%s%s", task, tail);
        }
    } else {
        snprintf(out, cap, "%s %s  %s/s  %s", task, cnt, rate, el);
    }
    size_t len = strlen(out);
    if (detail && *detail && len + 3 < cap)
        snprintf(out + len, cap - len, "  %s", detail);
    if (width > 1 && strlen(out) > (size_t)(width - 1) && (size_t)(width - 1) < cap)
        out[width - 1] = '\0'; /* never wrap: the \r redraw would leave stale lines */
}

static void summary_line(const progress_state *st)
{
    char cnt[24], tot[24], rate[24];
    double elapsed = st->last_t - st->start;
    fmt_count(cnt, sizeof cnt, st->last_done);
    fmt_count(tot, sizeof tot, st->last_total);
    fmt_count(rate, sizeof rate, elapsed > 0 ? st->last_done / elapsed : 0);
    char runs[32] = "";
    if (st->runs > 1)
        snprintf(runs, sizeof runs, ", %d runs", st->runs);
    fprintf(stderr, "%s: %s%s%s in %.2fs (%s/s%s)%s%s\n", st->task, cnt,
            st->last_total > 0 ? "/" : "", st->last_total > 0 ? tot : "", elapsed, rate, runs,
            st->detail[0] ? "  " : "", st->detail);
}

/* Closes the current task: the bar gets its final state and a newline; the summary modes
 * print their one line. Idempotent. */
static void progress_finish(progress_state *st)
{
    if (!st->active)
        return;
    if (st->mode == PROG_BAR) {
        char line[512];
        progress_line(line, sizeof line, term_width(), st->task, st->last_done, st->last_total,
                      st->last_t - st->start, st->detail);
        fprintf(stderr, "\r%s\033[K\n", line);
    } else if (st->mode == PROG_SUMMARY || st->mode == PROG_LINES) {
        summary_line(st);
    }
    fflush(stderr);
    st->active = 0;
    st->drawn = 0;
    st->task[0] = '\0'; /* the same task name again starts afresh */
}

static int progress_cb(void *ud, const char *task, double done, double total, const char *detail)
{
    progress_state *st = ud;
    double t = now_s();
    if (!task)
        task = "working";
    if (st->active) {
        if (strncmp(st->task, task, sizeof st->task - 1) != 0)
            progress_finish(st); /* a new task: close the previous one first */
        else if (done < st->last_done)
            st->runs++; /* the same task again (a restart, a fold): same line, same clock */
    }
    if (!st->active) {
        snprintf(st->task, sizeof st->task, "%s", task);
        st->start = st->last_t; /* since the previous report (or creation): a fair rate */
        st->last_draw = 0;
        st->last_decile = -1;
        st->active = 1;
        st->runs = 1;
    }
    st->last_done = done;
    st->last_total = total;
    st->last_t = t;
    snprintf(st->detail, sizeof st->detail, "%s", detail ? detail : "");
    if (total > 0 && done >= total) {
        progress_finish(st);
    } else if (st->mode == PROG_BAR && t - st->last_draw >= 0.1) {
        char line[512];
        progress_line(line, sizeof line, term_width(), st->task, done, total, t - st->start,
                      st->detail);
        fprintf(stderr, "\r%s\033[K", line);
        fflush(stderr);
        st->last_draw = t;
        st->drawn = 1;
    } else if (st->mode == PROG_LINES && total > 0) {
        int decile = (int)(10 * done / total);
        if (decile > st->last_decile && decile > 0) {
            char line[512];
            progress_line(line, sizeof line, 0, st->task, done, total, t - st->start, st->detail);
            fprintf(stderr, "%s\n", line);
            st->last_decile = decile;
        }
    }
    return 0; /* Ctrl-C is seen through cl_progress_interrupted() by cl_progress_step */
}

void lcl_progress_end(cl_progress *p)
{
    if (p && p->fn == progress_cb)
        progress_finish(p->ud);
}

static int progress_gc(lua_State *L)
{
    progress_finish(lua_touserdata(L, 1));
    return 0;
}

cl_progress *lcl_progress_new(lua_State *L, int opts)
{
    int verbose = -1; /* not given */
    if (opts && !lua_isnoneornil(L, opts)) {
        if (lua_getfield(L, opts, "verbose") != LUA_TNIL) {
            if (lua_isboolean(L, -1))
                verbose = lua_toboolean(L, -1);
            else if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 0 && lua_tointeger(L, -1) <= 2)
                verbose = (int)lua_tointeger(L, -1);
            else
                luaL_error(L, "option 'verbose' must be a boolean or 0, 1 or 2, got %s",
                           luaL_tolstring(L, -1, NULL));
        }
        lua_pop(L, 1);
    }
    progress_state *st = lua_newuserdatauv(L, sizeof *st, 0);
    memset(st, 0, sizeof *st);
    if (luaL_newmetatable(L, "churnlab.Progress")) {
        lua_pushcfunction(L, progress_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, progress_gc);
        lua_setfield(L, -2, "__close");
    }
    lua_setmetatable(L, -2);
    if (verbose == 0)
        st->mode = PROG_SILENT;
    else if (isatty(2))
        st->mode = PROG_BAR;
    else
        st->mode = verbose < 0 ? PROG_SILENT : verbose == 2 ? PROG_LINES : PROG_SUMMARY;
    st->start = st->last_t = now_s();
    st->last_decile = -1;
    st->p.fn = progress_cb;
    st->p.ud = st;
    return &st->p;
}
