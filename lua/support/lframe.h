/* lframe.h - helpers shared by the churnlab.frame binding files (l_frame.c: module, frames,
 * group-by; lframe_col.c: columns). Internal to the bindings. */
#ifndef LFRAME_H
#define LFRAME_H

#include "support/lcl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "frame/csvio.h"
#include "frame/textnum.h"
#include "frame/frame.h"
#include "frame/col.h"
#include "frame/frame_ops.h"

#define FRAME "churnlab.Frame"
#define COLUMN "churnlab.Column"

/* ---- boxes ---------------------------------------------------------------------------------- */

static inline int push_frame(lua_State *L, cl_frame *f)
{
    lcl_box *b = lcl_newbox(L, FRAME);
    b->obj = f;
    lcl_gc_check(L);
    return 1;
}

/* Pushes a column box (takes the reference); name may be NULL. */
static inline int push_column(lua_State *L, cl_column *c, const char *name)
{
    lcl_box *b = lcl_newbox(L, COLUMN);
    b->obj = c;
    if (name) {
        lua_pushstring(L, name);
        lua_setiuservalue(L, -2, 1);
    }
    lcl_gc_check(L);
    return 1;
}

static inline cl_frame *checkframe(lua_State *L, int idx)
{
    return lcl_checkobj(L, idx, FRAME);
}

static inline cl_column *checkcol(lua_State *L, int idx)
{
    return lcl_checkobj(L, idx, COLUMN);
}

static inline cl_column *testcol(lua_State *L, int idx)
{
    lcl_box *b = lcl_testbox(L, idx, COLUMN);
    if (!b)
        return NULL;
    if (!b->obj)
        luaL_argerror(L, idx, "attempt to use a freed " COLUMN);
    return b->obj;
}

static inline const char *colname(lua_State *L, int idx)
{
    if (lua_getiuservalue(L, idx, 1) == LUA_TSTRING) {
        const char *s = lua_tostring(L, -1);
        lua_pop(L, 1); /* still referenced by the userdata */
        return s;
    }
    lua_pop(L, 1);
    return NULL;
}

static inline int box_gc(lua_State *L)
{
    lcl_box *b = lua_touserdata(L, 1);
    if (b && b->obj) {
        if (luaL_testudata(L, 1, FRAME))
            cl_frame_free(b->obj);
        else
            cl_frame_column_free(b->obj);
        b->obj = NULL;
    }
    return 0;
}

/* A list of strings (a string or a table of strings) at idx into a temporary array kept
 * alive as a userdata on the stack. */
static inline const char **checkstrlist(lua_State *L, int idx, int *n, const char *what)
{
    idx = lua_absindex(L, idx);
    if (lua_type(L, idx) == LUA_TSTRING) {
        const char **v = lua_newuserdatauv(L, sizeof *v, 0);
        v[0] = lua_tostring(L, idx);
        *n = 1;
        return v;
    }
    if (lua_type(L, idx) != LUA_TTABLE)
        luaL_argerror(L, idx, lua_pushfstring(L, "%s: a string or a list of strings expected", what));
    lua_Integer len = luaL_len(L, idx);
    if (len > 100000)
        luaL_argerror(L, idx, "list too long");
    const char **v = lua_newuserdatauv(L, sizeof *v * (size_t)(len ? len : 1), 0);
    for (lua_Integer i = 1; i <= len; i++) {
        lua_geti(L, idx, i);
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "%s: entry %d must be a string, got %s", what, (int)i, luaL_typename(L, -1));
        v[i - 1] = lua_tostring(L, -1);
        lua_pop(L, 1); /* referenced by the table */
    }
    *n = (int)len;
    return v;
}

static inline int64_t checkrowidx(lua_State *L, int idx, int64_t n)
{
    lua_Integer i = luaL_checkinteger(L, idx);
    if (i < 0)
        i = n + 1 + i; /* -1 is the last row */
    if (i < 1 || i > n)
        luaL_argerror(L, idx, lua_pushfstring(L, "row %d out of range (1..%d)", (int)i, (int)n));
    return (int64_t)i - 1;
}

static inline void push_cell(lua_State *L, const cl_column *c, int64_t i)
{
    if (cl_frame_column_isna_at(c, i)) {
        lua_pushnil(L);
    } else if (c->type == CL_CAT) {
        lua_pushstring(L, c->dict->labels[c->codes[i]]);
    } else if (c->type == CL_DATE) {
        char buf[40];
        cl_textnum_format_date(c->num[i], buf, sizeof buf);
        lua_pushstring(L, buf);
    } else {
        double v = c->num[i];
        if (v == floor(v) && fabs(v) < 9007199254740992.0)
            lua_pushinteger(L, (lua_Integer)v);
        else
            lua_pushnumber(L, v);
    }
}

/* ---- printing ------------------------------------------------------------------------------- */

static inline int cell_text(const cl_column *c, int64_t i, char *buf, size_t cap)
{
    if (cl_frame_column_isna_at(c, i))
        return snprintf(buf, cap, "NA");
    if (c->type == CL_CAT)
        return snprintf(buf, cap, "%s", c->dict->labels[c->codes[i]]);
    if (c->type == CL_DATE)
        return cl_textnum_format_date(c->num[i], buf, cap);
    double v = c->num[i];
    if (v == floor(v) && fabs(v) < 1e15) /* counts, ids, timestamps: every digit */
        return snprintf(buf, cap, "%.0f", v);
    return snprintf(buf, cap, "%.6g", v);
}

#define CELL_MAX 24

static inline void put_padded(luaL_Buffer *b, const char *s, int w, int right)
{
    int len = (int)strlen(s);
    if (right)
        for (int k = len; k < w; k++)
            luaL_addchar(b, ' ');
    luaL_addstring(b, s);
    if (!right)
        for (int k = len; k < w; k++)
            luaL_addchar(b, ' ');
}

static inline void clip_text(char *s)
{
    if (strlen(s) > CELL_MAX) {
        /* cut on a UTF-8 boundary */
        int cut = CELL_MAX - 3;
        while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
            cut--;
        strcpy(s + cut, "...");
    }
}

typedef struct doc {
    const char *name, *text;
} doc;

/* Docs for the functions of the table at the top of the stack. */
static inline void set_docs(lua_State *L, const doc *d)
{
    for (; d->name; d++) {
        if (lua_getfield(L, -1, d->name) == LUA_TFUNCTION)
            lcl_setdoc(L, -1, d->text);
        lua_pop(L, 1);
    }
}

/* Registers the churnlab.Column metatable (lframe_col.c). */
void lframe_open_columns(lua_State *L);
/* Adds cumsum, shift, diff, rank, rolling to columns and group-bys (lframe_window.c). */
void lframe_open_window(lua_State *L);
/* Adds dropna, fillna, drop_duplicates, sample to frames (lframe_clean.c). */
void lframe_open_clean(lua_State *L);
/* Adds cut, qcut to columns and corr to frames (lframe_stats.c). */
void lframe_open_stats(lua_State *L);
/* Adds pivot, pivot_table, melt to frames (lframe_reshape.c). */
void lframe_open_reshape(lua_State *L);
/* Adds date parts, add_months and string methods to columns (lframe_text.c). */
void lframe_open_text(lua_State *L);
/* apply, to_tensor on frames; from_tensor into the module table on top of the stack; c:map
 * with a function; Lua functions in g:agg (lframe_lua.c). */
void lframe_open_lua(lua_State *L);
void lframe_open_lua_module(lua_State *L);
int lframe_map_fn(lua_State *L);
void lframe_lua_aggs(lua_State *L, int g, int luafns, int out);

#endif
