/* frame.c - module churnlab.frame: read_csv, frames (churnlab.Frame) and columns
 * (churnlab.Column).
 *
 * Frames and columns are immutable: every method returns a new object (columns are shared,
 * so select/with/filter are cheap). df.name / df["name"] give a column when no method has
 * that name (df:col(name) always works). Column arithmetic uses Lua operators (+ - * / % ^,
 * unary -); Lua turns the result of < <= > >= == into one boolean, so comparisons are
 * methods (:lt :le :gt :ge :eq :ne :isin) returning masks, which combine with & | ~ or
 * :and_ :or_ :not_. Using < or <= on columns raises an error saying so.
 */
#include "support/lframe.h"

#include <math.h>
#include <stdlib.h>

/* ---- boxes: see lframe.h ------------------------------------------------------------------ */

/* ---- read_csv / new ------------------------------------------------------------------------- */

static char optchar(lua_State *L, int idx, const char *key, char def)
{
    const char *s = lcl_optstr(L, idx, key, NULL);
    if (!s)
        return def;
    if (strlen(s) != 1)
        luaL_error(L, "option '%s' must be one character, got '%s'", key, s);
    return s[0];
}

/* The third result of read_csv: {bad_lines, first_bad_line, lines, warnings = {msg...},
 * coerced = {col = n}}. Like pandas' DtypeWarning, what type inference did is also printed
 * on stderr, once per read, unless warn = false. */
static void push_read_info(lua_State *L, const cl_csv_info *info, const cl_frame *f, int warn)
{
    lua_createtable(L, 0, 5);
    lua_pushinteger(L, info->bad_lines);
    lua_setfield(L, -2, "bad_lines");
    lua_pushinteger(L, info->first_bad_line);
    lua_setfield(L, -2, "first_bad_line");
    lua_pushinteger(L, info->lines);
    lua_setfield(L, -2, "lines");
    lua_createtable(L, info->nnotes, 0);
    for (int k = 0; k < info->nnotes; k++) {
        lua_pushstring(L, info->notes[k].message);
        lua_rawseti(L, -2, k + 1);
        if (warn)
            fprintf(stderr, "read_csv: warning: %s\n", info->notes[k].message);
    }
    if (info->more_notes) {
        lua_pushfstring(L, "... and %d more columns like these", (int)info->more_notes);
        lua_rawseti(L, -2, info->nnotes + 1);
        if (warn)
            fprintf(stderr, "read_csv: warning: ... and %d more columns like these\n",
                    (int)info->more_notes);
    }
    lua_setfield(L, -2, "warnings");
    lua_newtable(L);
    for (int k = 0; k < info->nnotes; k++)
        if (info->notes[k].kind == CL_CSV_COERCED) {
            lua_pushinteger(L, info->notes[k].count);
            lua_setfield(L, -2, f->names[info->notes[k].column]);
        }
    lua_setfield(L, -2, "coerced");
}

static int l_read_csv(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    /* the one list of read_csv's options: a new option is added here and read below */
    static const char *const known[] = {"sep", "quote", "header", "names", "na", "types", "nrows",
                                        "skip", "on_bad_line", "verbose", "max_record", "warn",
                                        "shard", "of", NULL};
    int o = lcl_check_options(L, 2, "read_csv", known);
    cl_csv_opts opts;
    cl_csvio_opts_default(&opts);
    opts.sep = optchar(L, o, "sep", ',');
    opts.quote = optchar(L, o, "quote", '"');
    opts.header = lcl_optbool(L, o, "header", 1);
    opts.nrows = (int64_t)lcl_optnum(L, o, "nrows", -1);
    opts.skip = (int64_t)lcl_optnum(L, o, "skip", 0);
    opts.max_record = (int64_t)lcl_optnum(L, o, "max_record", 0);
    opts.threads = cl_threads_get(); /* cl.threads(n); the frame is the same for any count */
    int warn = lcl_optbool(L, o, "warn", 1);
    /* shard k of N: the k-th of N contiguous blocks of rows (0-based), so the blocks of
     * ranks 0..N-1 in rank order are the file's rows in order (what distributed fits assume);
     * the whole file is parsed, so every shard has the same categories and codes */
    double shard = lcl_optnum(L, o, "shard", NAN), of = lcl_optnum(L, o, "of", NAN);
    if (isnan(shard) != isnan(of))
        return luaL_error(L, "read_csv: options 'shard' and 'of' go together (shard = "
                             "cl.mpi.rank(), of = cl.mpi.size())");
    if (!isnan(of) && !(of >= 1 && of == floor(of) && shard >= 0 && shard < of &&
                        shard == floor(shard)))
        return luaL_error(L, "read_csv: shard must be a whole number in [0, of) and of >= 1, "
                             "got shard = %f, of = %f", shard, of);
    const char *bad = lcl_optstr(L, o, "on_bad_line", "error");
    if (!strcmp(bad, "skip"))
        opts.skip_bad = 1;
    else if (strcmp(bad, "error"))
        return luaL_error(L, "read_csv: on_bad_line must be \"error\" or \"skip\", got '%s'", bad);
    if (o && lua_getfield(L, o, "names") != LUA_TNIL)
        opts.names = checkstrlist(L, -1, &opts.nnames, "read_csv: names");
    if (o && lua_getfield(L, o, "na") != LUA_TNIL)
        opts.na = checkstrlist(L, -1, &opts.nna, "read_csv: na");
    if (o && lua_getfield(L, o, "types") != LUA_TNIL) {
        int t = lua_gettop(L);
        luaL_checktype(L, t, LUA_TTABLE);
        int n = 0;
        lua_pushnil(L);
        while (lua_next(L, t)) {
            n++;
            lua_pop(L, 1);
        }
        const char **names = lua_newuserdatauv(L, sizeof *names * (size_t)(n ? n : 1), 0);
        cl_coltype *types = lua_newuserdatauv(L, sizeof *types * (size_t)(n ? n : 1), 0);
        int i = 0;
        lua_pushnil(L);
        while (lua_next(L, t)) {
            if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
                return luaL_error(L, "read_csv: types must map column names to \"num\", \"cat\" "
                                     "or \"date\"");
            names[i] = lua_tostring(L, -2);
            if (cl_frame_coltype_parse(lua_tostring(L, -1), &types[i]))
                return lcl_raise(L, CL_EINVAL);
            i++;
            lua_pop(L, 1);
        }
        opts.type_names = names;
        opts.types = types;
        opts.ntypes = n;
    }
    cl_progress *prog = lcl_progress_new(L, o); /* a bar for big files on a terminal */
    opts.progress = prog;
    cl_frame *f;
    cl_csv_info info;
    int rc = cl_csvio_read(&f, path, &opts, &info);
    lcl_progress_end(prog); /* close the bar now, also after an error or Ctrl-C */
    if (rc)
        return lcl_raise_file(L, rc, path); /* like io.lines: a script that expects failure
                                              * uses pcall */
    if (!isnan(of)) {
        int64_t n = f->nrow, k = (int64_t)shard, N = (int64_t)of;
        cl_frame *part;
        /* rows [floor(k n / N), floor((k + 1) n / N)) without overflow */
        rc = cl_frame_slice(&part, f, n / N * k + n % N * k / N,
                            n / N * (k + 1) + n % N * (k + 1) / N);
        if (rc) {
            cl_frame_free(f);
            return lcl_raise(L, rc);
        }
        push_frame(L, f); /* kept on the stack: push_read_info reads its columns */
        push_frame(L, part);
        lua_pushinteger(L, info.bad_lines);
        push_read_info(L, &info, f, warn);
        return 3;
    }
    push_frame(L, f);
    lua_pushinteger(L, info.bad_lines);
    push_read_info(L, &info, f, warn); /* f stays alive: the frame on the stack owns it */
    return 3;
}

/* new{a = {...}, b = {...}} (columns in name order) or new({...}, {names = {order}}). Values:
 * numbers (nil/NaN missing), strings (cat), or column objects. */
static int l_new(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 2);
    static const char *const known[] = {"names", NULL};
    lcl_check_options(L, 2, "frame", known);
    int n;
    const char **names;
    if (!lua_isnil(L, 2) && lua_getfield(L, 2, "names") != LUA_TNIL) {
        names = checkstrlist(L, -1, &n, "frame: names");
    } else {
        lua_newtable(L);
        int t = lua_gettop(L);
        n = 0;
        lua_pushnil(L);
        while (lua_next(L, 1)) {
            if (lua_type(L, -2) != LUA_TSTRING)
                return luaL_error(L, "frame: column names must be strings (use "
                                     "frame(tbl, {names = {...}}) to order columns)");
            lua_pop(L, 1);
            lua_pushvalue(L, -1);
            lua_rawseti(L, t, ++n);
        }
        lua_getglobal(L, "table");
        lua_getfield(L, -1, "sort");
        lua_pushvalue(L, t);
        lua_call(L, 1, 0);
        lua_pop(L, 1);
        names = checkstrlist(L, t, &n, "frame");
    }
    /* the longest list: its largest integer key (Lua's # is any border of a list with
     * holes); a column object or an explicit n sets it too */
    lua_Integer maxlen = 0;
    for (int j = 0; j < n; j++) {
        lua_getfield(L, 1, names[j]);
        cl_column *c0 = testcol(L, -1);
        if (c0) {
            maxlen = c0->n > maxlen ? c0->n : maxlen;
        } else if (lua_istable(L, -1)) {
            int t = lua_gettop(L);
            if (lua_getfield(L, t, "n") == LUA_TNUMBER && lua_isinteger(L, -1)) {
                lua_Integer v = lua_tointeger(L, -1);
                maxlen = v > maxlen ? v : maxlen;
            } else {
                lua_pushnil(L);
                while (lua_next(L, t)) {
                    if (lua_isinteger(L, -2)) {
                        lua_Integer k = lua_tointeger(L, -2);
                        if (k > maxlen && k <= ((lua_Integer)1 << 40))
                            maxlen = k;
                    }
                    lua_pop(L, 1);
                }
            }
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    cl_frame *f;
    LCL_CHECK(L, cl_frame_new(&f));
    push_frame(L, f); /* owns f from here */
    for (int j = 0; j < n; j++) {
        lua_getfield(L, 1, names[j]);
        cl_column *c = testcol(L, -1);
        int rc = CL_OK;
        if (c) {
            cl_frame_column_retain(c);
        } else {
            if (!lua_istable(L, -1))
                return luaL_error(L, "frame: column '%s' must be a list or a column, got %s",
                                  names[j], luaL_typename(L, -1));
            /* length: an explicit n ({..., n = 5}, as table.pack), else the longest list
             * of the frame, so holes and trailing nils are missing values */
            lua_Integer len;
            if (lua_getfield(L, -1, "n") == LUA_TNUMBER && lua_isinteger(L, -1))
                len = lua_tointeger(L, -1);
            else
                len = maxlen;
            lua_pop(L, 1);
            if (len < 0 || len > ((lua_Integer)1 << 40))
                return luaL_error(L, "frame: column '%s' has a bad length", names[j]);
            int is_str = 0;
            for (lua_Integer i = 1; i <= len && !is_str; i++) {
                is_str = lua_geti(L, -1, i) == LUA_TSTRING;
                lua_pop(L, 1);
            }
            if (is_str) {
                rc = cl_frame_column_new_cat(&c, len, NULL);
                for (lua_Integer i = 1; rc == CL_OK && i <= len; i++) {
                    int t = lua_geti(L, -1, i);
                    if (t == LUA_TSTRING) {
                        size_t sl;
                        const char *s = lua_tolstring(L, -1, &sl);
                        rc = cl_frame_dict_intern(c->dict, s, sl, &c->codes[i - 1]);
                    } else if (t == LUA_TNIL) {
                        c->codes[i - 1] = -1;
                    } else {
                        cl_frame_column_free(c);
                        return luaL_error(L, "frame: column '%s' row %d: expected a string, got %s",
                                          names[j], (int)i, luaL_typename(L, -1));
                    }
                    lua_pop(L, 1);
                }
            } else {
                rc = cl_frame_column_new_num(&c, CL_NUM, len);
                for (lua_Integer i = 1; rc == CL_OK && i <= len; i++) {
                    int t = lua_geti(L, -1, i);
                    if (t == LUA_TNUMBER)
                        c->num[i - 1] = lua_tonumber(L, -1);
                    else if (t == LUA_TNIL)
                        c->num[i - 1] = NAN;
                    else if (t == LUA_TBOOLEAN)
                        c->num[i - 1] = lua_toboolean(L, -1);
                    else {
                        cl_frame_column_free(c);
                        return luaL_error(L, "frame: column '%s' row %d: expected a number, got %s",
                                          names[j], (int)i, luaL_typename(L, -1));
                    }
                    lua_pop(L, 1);
                }
            }
            if (rc && c)
                cl_frame_column_free(c);
        }
        if (rc == CL_OK) {
            rc = cl_frame_set(f, names[j], c);
            cl_frame_column_free(c);
        }
        LCL_CHECK(L, rc);
        lua_pop(L, 1);
    }
    return 1;
}

static int l_call_new(lua_State *L)
{
    lua_remove(L, 1); /* the module table */
    return l_new(L);
}

/* ---- frame basics --------------------------------------------------------------------------- */

static int f_nrow(lua_State *L)
{
    lua_pushinteger(L, checkframe(L, 1)->nrow);
    return 1;
}

static int f_ncol(lua_State *L)
{
    lua_pushinteger(L, checkframe(L, 1)->ncol);
    return 1;
}

static int f_shape(lua_State *L)
{
    cl_frame *f = checkframe(L, 1);
    lua_pushinteger(L, f->nrow);
    lua_pushinteger(L, f->ncol);
    return 2;
}

static int f_names(lua_State *L)
{
    cl_frame *f = checkframe(L, 1);
    lua_createtable(L, f->ncol, 0);
    for (int j = 0; j < f->ncol; j++) {
        lua_pushstring(L, f->names[j]);
        lua_rawseti(L, -2, j + 1);
    }
    return 1;
}

static int f_types(lua_State *L)
{
    cl_frame *f = checkframe(L, 1);
    lua_createtable(L, 0, f->ncol);
    for (int j = 0; j < f->ncol; j++) {
        lua_pushstring(L, cl_frame_coltype_name(f->cols[j]->type));
        lua_setfield(L, -2, f->names[j]);
    }
    return 1;
}

static int f_col(lua_State *L)
{
    cl_frame *f = checkframe(L, 1);
    const char *name = luaL_checkstring(L, 2);
    int j;
    LCL_CHECK(L, cl_frame_col(f, name, &j));
    return push_column(L, cl_frame_column_retain(f->cols[j]), f->names[j]);
}

static int f_has(lua_State *L)
{
    lua_pushboolean(L, cl_frame_find(checkframe(L, 1), luaL_checkstring(L, 2)) >= 0);
    return 1;
}

static int f_index(lua_State *L)
{
    cl_frame *f = checkframe(L, 1);
    if (lua_type(L, 2) == LUA_TSTRING) {
        /* methods first */
        lua_getmetatable(L, 1);
        lua_pushvalue(L, 2);
        if (lua_rawget(L, -2) == LUA_TFUNCTION && lua_tostring(L, 2)[0] != '_')
            return 1;
        const char *name = lua_tostring(L, 2);
        int j = cl_frame_find(f, name);
        if (j >= 0)
            return push_column(L, cl_frame_column_retain(f->cols[j]), f->names[j]);
        LCL_CHECK(L, cl_frame_col(f, name, &j));
    }
    return luaL_error(L, "a frame is indexed by column or method names, got %s",
                      luaL_typename(L, 2));
}

static int f_len(lua_State *L)
{
    lua_pushinteger(L, checkframe(L, 1)->nrow);
    return 1;
}

static int f_repl(lua_State *L);

/* print(df) and tostring(df) show the table itself, as pandas does (a frame is data to look
 * at; its one-line summary is the last line): a departure from STYLE's one-line __tostring,
 * made because analysts print frames in scripts far more than they print tensors. */
static int f_tostring(lua_State *L)
{
    lcl_box *b = luaL_checkudata(L, 1, FRAME);
    if (!b->obj) {
        lua_pushstring(L, FRAME " (freed)");
        return 1;
    }
    lua_settop(L, 1);
    const char *cols = getenv("COLUMNS");
    int width = cols ? atoi(cols) : 0;
    lua_pushinteger(L, width >= 20 ? width : 100);
    return f_repl(L);
}

static int f_row(lua_State *L)
{
    cl_frame *f = checkframe(L, 1);
    int64_t i = checkrowidx(L, 2, f->nrow);
    lua_createtable(L, 0, f->ncol);
    for (int j = 0; j < f->ncol; j++) {
        push_cell(L, f->cols[j], i);
        lua_setfield(L, -2, f->names[j]);
    }
    return 1;
}

static int f_head(lua_State *L)
{
    cl_frame *f = checkframe(L, 1);
    lua_Integer n = luaL_optinteger(L, 2, 6);
    cl_frame *r;
    LCL_CHECK(L, cl_frame_slice(&r, f, 0, n < 0 ? 0 : (int64_t)n));
    return push_frame(L, r);
}

static int f_tail(lua_State *L)
{
    cl_frame *f = checkframe(L, 1);
    lua_Integer n = luaL_optinteger(L, 2, 6);
    cl_frame *r;
    LCL_CHECK(L, cl_frame_slice(&r, f, f->nrow - (n < 0 ? 0 : (int64_t)n), f->nrow));
    return push_frame(L, r);
}

static int f_select(lua_State *L)
{
    cl_frame *f = checkframe(L, 1);
    int n;
    const char **names;
    if (lua_gettop(L) > 2 || lua_type(L, 2) == LUA_TSTRING) {
        lua_createtable(L, lua_gettop(L) - 1, 0);
        for (int i = 2; i < lua_gettop(L); i++) {
            lua_pushvalue(L, i);
            lua_rawseti(L, -2, i - 1);
        }
        names = checkstrlist(L, -1, &n, "select");
    } else {
        names = checkstrlist(L, 2, &n, "select");
    }
    cl_frame *r;
    LCL_CHECK(L, cl_frame_select(&r, f, names, n));
    return push_frame(L, r);
}

static int f_drop(lua_State *L)
{
    cl_frame *f = checkframe(L, 1);
    int n;
    const char **names = checkstrlist(L, 2, &n, "drop");
    cl_frame *r;
    LCL_CHECK(L, cl_frame_drop(&r, f, names, n));
    return push_frame(L, r);
}

static int f_rename(lua_State *L)
{
    cl_frame *f = checkframe(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    int n = 0;
    lua_pushnil(L);
    while (lua_next(L, 2)) {
        if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
            return luaL_error(L, "rename: expected a table {old = \"new\", ...}");
        n++;
        lua_pop(L, 1);
    }
    const char **from = lua_newuserdatauv(L, sizeof *from * (size_t)(n ? n : 1), 0);
    const char **to = lua_newuserdatauv(L, sizeof *to * (size_t)(n ? n : 1), 0);
    int i = 0;
    lua_pushnil(L);
    while (lua_next(L, 2)) {
        from[i] = lua_tostring(L, -2);
        to[i++] = lua_tostring(L, -1);
        lua_pop(L, 1);
    }
    cl_frame *r;
    LCL_CHECK(L, cl_frame_rename(&r, f, from, to, n));
    return push_frame(L, r);
}

/* A mask from a column or a Lua list of booleans. Pushes nothing; returns an owned column. */
static cl_column *checkmask(lua_State *L, int idx, int64_t n)
{
    cl_column *m = testcol(L, idx);
    if (m)
        return cl_frame_column_retain(m);
    luaL_checktype(L, idx, LUA_TTABLE);
    if (luaL_len(L, idx) != n)
        luaL_argerror(L, idx, lua_pushfstring(L, "mask has %d entries, the frame %d rows",
                                              (int)luaL_len(L, idx), (int)n));
    cl_column *c;
    int rc = cl_frame_column_new_num(&c, CL_NUM, n);
    if (rc)
        lcl_raise(L, rc);
    for (int64_t i = 0; i < n; i++) {
        lua_geti(L, idx, i + 1);
        c->num[i] = lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    return c;
}

static int f_filter(lua_State *L)
{
    cl_frame *f = checkframe(L, 1);
    cl_column *m = checkmask(L, 2, f->nrow);
    cl_frame *r;
    int rc = cl_frame_filter(&r, f, m);
    cl_frame_column_free(m);
    LCL_CHECK(L, rc);
    return push_frame(L, r);
}

/* Row indices (1-based Lua list) -> owned int64 array. */
static int64_t *checkindices(lua_State *L, int idx, int64_t nrow, int64_t *k)
{
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_Integer n = luaL_len(L, idx);
    int64_t *v = lua_newuserdatauv(L, sizeof *v * (size_t)(n ? n : 1), 0);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, idx, i);
        int isnum;
        lua_Integer x = lua_tointegerx(L, -1, &isnum);
        if (!isnum || x < 1 || x > nrow)
            luaL_error(L, "take: index %d is not a row number in 1..%d", (int)i, (int)nrow);
        v[i - 1] = x - 1;
        lua_pop(L, 1);
    }
    *k = n;
    return v;
}

static int f_take(lua_State *L)
{
    cl_frame *f = checkframe(L, 1);
    int64_t k;
    int64_t *idx = checkindices(L, 2, f->nrow, &k);
    cl_frame *r;
    LCL_CHECK(L, cl_frame_take(&r, f, idx, k));
    return push_frame(L, r);
}

/* with(name, column | number | string | list) */
static int f_with(lua_State *L)
{
    cl_frame *f = checkframe(L, 1);
    const char *name = luaL_checkstring(L, 2);
    cl_column *c = testcol(L, 3);
    int rc = CL_OK;
    if (c) {
        cl_frame_column_retain(c);
    } else if (lua_type(L, 3) == LUA_TNUMBER) {
        rc = cl_frame_column_new_num(&c, CL_NUM, f->nrow);
        for (int64_t i = 0; rc == CL_OK && i < f->nrow; i++)
            c->num[i] = lua_tonumber(L, 3);
    } else if (lua_type(L, 3) == LUA_TSTRING) {
        size_t sl;
        const char *s = lua_tolstring(L, 3, &sl);
        int32_t code = 0;
        rc = cl_frame_column_new_cat(&c, f->nrow, NULL);
        if (rc == CL_OK)
            rc = cl_frame_dict_intern(c->dict, s, sl, &code);
        for (int64_t i = 0; rc == CL_OK && i < f->nrow; i++)
            c->codes[i] = code;
    } else if (lua_istable(L, 3)) {
        lua_pushcfunction(L, l_new);
        lua_createtable(L, 0, 2);
        lua_pushvalue(L, 3);
        lua_setfield(L, -2, "x");
        /* a list with trailing nils is padded to the frame's rows: a second list of that
         * length sets the longest */
        lua_Integer maxk = 0;
        lua_pushnil(L);
        while (lua_next(L, 3)) {
            if (lua_isinteger(L, -2) && lua_tointeger(L, -2) > maxk)
                maxk = lua_tointeger(L, -2);
            lua_pop(L, 1);
        }
        if (lua_getfield(L, 3, "n") == LUA_TNIL && f->ncol > 0 && maxk <= f->nrow) {
            lua_createtable(L, 0, 1);
            lua_pushinteger(L, f->nrow);
            lua_setfield(L, -2, "n");
            lua_setfield(L, -3, "y");
        }
        lua_pop(L, 1);
        lua_call(L, 1, 1);
        cl_frame *tmp = checkframe(L, -1);
        c = cl_frame_column_retain(tmp->cols[0]);
    } else {
        return luaL_argerror(L, 3, "column, number, string or list expected");
    }
    cl_frame *r = NULL;
    if (rc == CL_OK)
        rc = cl_frame_copy(&r, f);
    if (rc == CL_OK && (rc = cl_frame_set(r, name, c)) != CL_OK) {
        cl_frame_free(r);
        r = NULL;
    }
    cl_frame_column_free(c);
    LCL_CHECK(L, rc);
    return push_frame(L, r);
}

static uint64_t optseed(lua_State *L, int o)
{
    return (uint64_t)(lua_Integer)lcl_optnum(L, o, "seed", 42);
}

static int f_split(lua_State *L)
{
    cl_frame *f = checkframe(L, 1);
    static const char *const known[] = {"test", "stratify", "seed", NULL};
    int o = lcl_check_options(L, 2, "split", known);
    double test = lcl_optnum(L, o, "test", 0.2);
    const char *strat = lcl_optstr(L, o, "stratify", NULL);
    uint64_t seed = optseed(L, o);
    int64_t *tr, *te, ntr, nte;
    LCL_CHECK(L, cl_frame_ops_split(f, test, strat, seed, &tr, &ntr, &te, &nte));
    cl_frame *a = NULL, *b = NULL;
    int rc = cl_frame_take(&a, f, tr, ntr);
    if (rc == CL_OK)
        rc = cl_frame_take(&b, f, te, nte);
    cl_alloc_free(tr);
    cl_alloc_free(te);
    if (rc) {
        cl_frame_free(a);
        return lcl_raise(L, rc);
    }
    push_frame(L, a);
    push_frame(L, b);
    return 2;
}

static int f_kfold(lua_State *L)
{
    cl_frame *f = checkframe(L, 1);
    static const char *const known[] = {"k", "stratify", "group", "seed", NULL};
    int o = lcl_check_options(L, 2, "kfold", known);
    int k = (int)lcl_optnum(L, o, "k", 5);
    const char *strat = lcl_optstr(L, o, "stratify", NULL);
    const char *group = lcl_optstr(L, o, "group", NULL);
    int32_t *fold;
    LCL_CHECK(L, cl_frame_ops_kfold(f, k, strat, group, optseed(L, o), &fold));
    lua_createtable(L, k, 0);
    for (int q = 0; q < k; q++) {
        lua_createtable(L, 0, 2);
        lua_newtable(L);
        lua_newtable(L);
        int ntr = 0, nte = 0;
        for (int64_t i = 0; i < f->nrow; i++) {
            lua_pushinteger(L, i + 1);
            if (fold[i] == q)
                lua_rawseti(L, -2, ++nte);
            else
                lua_rawseti(L, -3, ++ntr);
        }
        lua_setfield(L, -3, "test");
        lua_setfield(L, -2, "train");
        lua_rawseti(L, -2, q + 1);
    }
    cl_alloc_free(fold);
    return 1;
}

static int f_write_csv(lua_State *L)
{
    cl_frame *f = checkframe(L, 1);
    const char *path = luaL_checkstring(L, 2);
    static const char *const known[] = {"sep", NULL};
    int o = lcl_check_options(L, 3, "write_csv", known);
    char sep = optchar(L, o, "sep", ',');
    int rc = cl_csvio_write(f, path, sep);
    if (rc)
        return lcl_raise_file(L, rc, path);
    lua_pushvalue(L, 1);
    return 1;
}

static int f_sort(lua_State *L)
{
    lua_settop(L, 3);
    cl_frame *f = checkframe(L, 1);
    int n;
    const char **keys = checkstrlist(L, 2, &n, "sort");
    int *desc = lua_newuserdatauv(L, sizeof *desc * (size_t)(n ? n : 1), 0);
    static const char *const known[] = {"desc", NULL};
    int o = lcl_check_options(L, 3, "sort", known);
    for (int i = 0; i < n; i++)
        desc[i] = 0;
    if (o) {
        int t = lua_getfield(L, o, "desc");
        if (t == LUA_TBOOLEAN) {
            for (int i = 0; i < n; i++)
                desc[i] = lua_toboolean(L, -1);
        } else if (t == LUA_TTABLE) {
            for (int i = 0; i < n; i++) {
                lua_geti(L, -1, i + 1);
                desc[i] = lua_toboolean(L, -1);
                lua_pop(L, 1);
            }
        } else if (t != LUA_TNIL) {
            return luaL_error(L, "sort: desc must be a boolean or a list of booleans");
        }
        lua_pop(L, 1);
    }
    cl_frame *r;
    LCL_CHECK(L, cl_frame_ops_sort(&r, f, keys, desc, n));
    return push_frame(L, r);
}

static int f_concat(lua_State *L)
{
    int n = lua_gettop(L);
    if (n == 2 && lua_istable(L, 2) && !lcl_testbox(L, 2, FRAME)) { /* df:concat{a, b} */
        int len = (int)luaL_len(L, 2);
        for (int i = 1; i <= len; i++)
            lua_geti(L, 2, i);
        lua_remove(L, 2);
        n = lua_gettop(L);
    }
    const cl_frame **fs = lua_newuserdatauv(L, sizeof *fs * (size_t)n, 0);
    for (int i = 1; i <= n; i++)
        fs[i - 1] = checkframe(L, i);
    cl_frame *r;
    LCL_CHECK(L, cl_frame_ops_concat(&r, (const cl_frame *const *)fs, n));
    return push_frame(L, r);
}

static int f_value_counts(lua_State *L)
{
    cl_frame *f = checkframe(L, 1);
    const char *name = luaL_checkstring(L, 2);
    static const char *const known[] = {"normalize", NULL};
    int o = lcl_check_options(L, 3, "value_counts", known);
    int norm = lcl_optbool(L, o, "normalize", 0);
    int j;
    LCL_CHECK(L, cl_frame_col(f, name, &j));
    cl_frame *r;
    if (norm)
        LCL_CHECK(L, cl_col_value_shares(&r, f->cols[j], name));
    else
        LCL_CHECK(L, cl_col_value_counts(&r, f->cols[j], name));
    return push_frame(L, r);
}

static int f_totable(lua_State *L)
{
    cl_frame *f = checkframe(L, 1);
    lua_createtable(L, (int)f->nrow, 0);
    for (int64_t i = 0; i < f->nrow; i++) {
        lua_createtable(L, 0, f->ncol);
        for (int j = 0; j < f->ncol; j++) {
            push_cell(L, f->cols[j], i);
            lua_setfield(L, -2, f->names[j]);
        }
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static int f_columns(lua_State *L)
{
    cl_frame *f = checkframe(L, 1);
    lua_createtable(L, 0, f->ncol);
    for (int j = 0; j < f->ncol; j++) {
        push_column(L, cl_frame_column_retain(f->cols[j]), f->names[j]);
        lua_setfield(L, -2, f->names[j]);
    }
    return 1;
}

/* Defined in l_frame_group.c-like section below (group-by, join, describe, crosstab). */
static int f_groupby(lua_State *L);
static int f_join(lua_State *L);
static int f_describe(lua_State *L);
static int f_crosstab(lua_State *L);

/* Frames of up to FULL_ROWS rows print whole; longer ones show their first and last
 * SHORT_ROWS / 2 rows (pandas' max_rows 60 / min_rows 10). */
#define FULL_ROWS 60
#define SHORT_ROWS 10

/* __repl(df, width [, rows]): header, type row, the rows (all of them up to FULL_ROWS, else
 * the first and last; `rows` asks for that many, all when rows >= nrow), and the shape. */
static int f_repl(lua_State *L)
{
    cl_frame *f = checkframe(L, 1);
    int width = (int)luaL_optinteger(L, 2, 100);
    if (width < 20)
        width = 20;
    int64_t n = f->nrow;
    int64_t show = n <= FULL_ROWS ? n : SHORT_ROWS;
    if (!lua_isnoneornil(L, 3)) {
        lua_Integer r = luaL_checkinteger(L, 3);
        luaL_argcheck(L, r >= 0, 3, "rows must be >= 0");
        show = r < n ? (int64_t)r : n;
    }
    int64_t top = n <= show ? n : (show + 1) / 2, bottom = n <= show ? 0 : show / 2;
    int nrows_shown = (int)(top + bottom);
    char num[32];
    snprintf(num, sizeof num, "%lld", (long long)n);
    int idxw = (int)strlen(num);
    if (idxw < 1)
        idxw = 1;
    /* widths */
    int *w = lua_newuserdatauv(L, sizeof *w * (size_t)(f->ncol + 1), 0);
    char buf[128];
    int used = idxw, ncols = 0;
    for (int j = 0; j < f->ncol; j++) {
        int cw = (int)strlen(f->names[j]);
        if (cw > CELL_MAX)
            cw = CELL_MAX;
        int tw = (int)strlen(cl_frame_coltype_name(f->cols[j]->type)) + 2;
        cw = cw > tw ? cw : tw;
        for (int r = 0; r < nrows_shown; r++) {
            int64_t i = r < top ? r : n - bottom + (r - top);
            cell_text(f->cols[j], i, buf, sizeof buf);
            clip_text(buf);
            int l = (int)strlen(buf);
            cw = l > cw ? l : cw;
        }
        w[j] = cw;
        if (used + 2 + cw > width - (j + 1 < f->ncol ? 5 : 0)) {
            break;
        }
        used += 2 + cw;
        ncols++;
    }
    int more = ncols < f->ncol;
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    put_padded(&b, "", idxw, 0);
    for (int j = 0; j < ncols; j++) {
        luaL_addstring(&b, "  ");
        snprintf(buf, sizeof buf, "%s", f->names[j]);
        clip_text(buf);
        put_padded(&b, buf, w[j], f->cols[j]->type != CL_CAT);
    }
    if (more)
        luaL_addstring(&b, "  ...");
    luaL_addchar(&b, '\n');
    put_padded(&b, "", idxw, 0);
    for (int j = 0; j < ncols; j++) {
        luaL_addstring(&b, "  ");
        snprintf(buf, sizeof buf, "<%s>", cl_frame_coltype_name(f->cols[j]->type));
        put_padded(&b, buf, w[j], f->cols[j]->type != CL_CAT);
    }
    if (more)
        luaL_addstring(&b, "  ...");
    luaL_addchar(&b, '\n');
    for (int r = 0; r < nrows_shown; r++) {
        int64_t i = r < top ? r : n - bottom + (r - top);
        if (r == top && bottom > 0) {
            put_padded(&b, "...", idxw, 1);
            luaL_addchar(&b, '\n');
        }
        snprintf(buf, sizeof buf, "%lld", (long long)i + 1);
        put_padded(&b, buf, idxw, 1);
        for (int j = 0; j < ncols; j++) {
            luaL_addstring(&b, "  ");
            cell_text(f->cols[j], i, buf, sizeof buf);
            clip_text(buf);
            put_padded(&b, buf, w[j], f->cols[j]->type != CL_CAT);
        }
        if (more)
            luaL_addstring(&b, "  ...");
        luaL_addchar(&b, '\n');
    }
    snprintf(buf, sizeof buf, "[%lld rows x %d columns%s]", (long long)n, f->ncol,
             more ? ", some not shown" : "");
    luaL_addstring(&b, buf);
    luaL_pushresult(&b);
    return 1;
}

/* df:print([rows]) / df:show{rows =, width =}: the table, with as many rows as asked. */
static int f_print(lua_State *L)
{
    checkframe(L, 1);
    lua_Integer rows = -1;
    lua_Integer width = 0;
    if (lua_istable(L, 2)) {
        static const char *const known[] = {"rows", "width", NULL};
        lcl_check_options(L, 2, NULL, known); /* df:print or df:show */
        rows = (lua_Integer)lcl_optnum(L, 2, "rows", -1);
        width = (lua_Integer)lcl_optnum(L, 2, "width", 0);
    } else if (!lua_isnoneornil(L, 2)) {
        rows = luaL_checkinteger(L, 2);
    }
    if (width <= 0) {
        const char *cols = getenv("COLUMNS");
        width = cols && atoi(cols) >= 20 ? atoi(cols) : 100;
    }
    lua_settop(L, 1);
    lua_pushinteger(L, width);
    if (rows >= 0)
        lua_pushinteger(L, rows);
    else
        lua_pushnil(L);
    f_repl(L);
    fputs(lua_tostring(L, -1), stdout);
    fputc('\n', stdout);
    return 0;
}

/* ---- group-by, join, describe, crosstab ----------------------------------------------------- */

#define GROUPBY "churnlab.GroupBy"

/* groupby(keys) returns a small table {frame, keys} with :agg{...}. */
static int f_groupby(lua_State *L)
{
    checkframe(L, 1);
    int n;
    checkstrlist(L, 2, &n, "groupby");
    lua_createtable(L, 0, 2);
    lua_pushvalue(L, 1);
    lua_setfield(L, -2, "frame");
    if (lua_type(L, 2) == LUA_TSTRING) {
        lua_createtable(L, 1, 0);
        lua_pushvalue(L, 2);
        lua_rawseti(L, -2, 1);
    } else {
        lua_pushvalue(L, 2);
    }
    lua_setfield(L, -2, "keys");
    luaL_setmetatable(L, GROUPBY);
    return 1;
}

/* One aggregate: fn at stack index fi is a name ("mean", "q90") or a Lua function (kept in
 * the table at luafns as {column, fn, name} for lframe_lua_aggs). Default names are
 * "<column>_<fn>" (the Lua function's: "<column>"), anchored in the table at anchor. */
static void add_agg(lua_State *L, cl_agg *aggs, double *qs, int *na, const char *col, int fi,
                    const char *name, int anchor, int luafns)
{
    fi = lua_absindex(L, fi);
    if (lua_isfunction(L, fi)) {
        lua_createtable(L, 3, 0);
        lua_pushstring(L, col);
        lua_rawseti(L, -2, 1);
        lua_pushvalue(L, fi);
        lua_rawseti(L, -2, 2);
        lua_pushstring(L, name ? name : col);
        lua_rawseti(L, -2, 3);
        lua_rawseti(L, luafns, (lua_Integer)luaL_len(L, luafns) + 1);
        return;
    }
    if (lua_type(L, fi) != LUA_TSTRING)
        luaL_error(L, "agg: '%s' must map to a function name, a Lua function or a list of them", col);
    const char *fs = lua_tostring(L, fi);
    cl_agg *g = &aggs[*na];
    g->column = col;
    LCL_CHECK(L, cl_frame_group_agg_parse_q(fs, &g->fn, &qs[*na]));
    if (!name && g->fn == CL_AGG_QUANTILE) {
        name = lua_pushfstring(L, "%s_%s", col, fs);
        lua_rawseti(L, anchor, (lua_Integer)luaL_len(L, anchor) + 1); /* the string stays alive */
    }
    g->name = name;
    (*na)++;
}

/* agg{ {"col", "fn", "name"}, col = "fn", col = {"fn1", "fn2"}, col = function(values) ... end,
 * n = "size" } */
static int g_agg(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    lua_getfield(L, 1, "frame");
    cl_frame *f = checkframe(L, -1);
    lua_getfield(L, 1, "keys");
    int nk;
    const char **keys = checkstrlist(L, -1, &nk, "groupby");
    lua_newtable(L);
    int anchor = lua_gettop(L);
    lua_newtable(L);
    int luafns = lua_gettop(L);
    /* count entries */
    int cap = 0;
    lua_pushnil(L);
    while (lua_next(L, 2)) {
        cap += lua_istable(L, -1) ? (int)luaL_len(L, -1) + 1 : 1;
        lua_pop(L, 1);
    }
    cl_agg *aggs = lua_newuserdatauv(L, sizeof *aggs * (size_t)(cap ? cap : 1), 0);
    memset(aggs, 0, sizeof *aggs * (size_t)(cap ? cap : 1));
    double *qs = lua_newuserdatauv(L, sizeof *qs * (size_t)(cap ? cap : 1), 0);
    int na = 0;
    lua_Integer alen = luaL_len(L, 2);
    for (lua_Integer i = 1; i <= alen; i++) { /* array form, in order */
        lua_geti(L, 2, i);
        if (!lua_istable(L, -1))
            return luaL_error(L, "agg: entry %d must be {column, fn[, name]}", (int)i);
        lua_geti(L, -1, 1);
        lua_geti(L, -2, 2);
        lua_geti(L, -3, 3);
        if (lua_type(L, -3) != LUA_TSTRING ||
            (lua_type(L, -2) != LUA_TSTRING && !lua_isfunction(L, -2)))
            return luaL_error(L, "agg: entry %d must be {column, fn[, name]}", (int)i);
        add_agg(L, aggs, qs, &na, lua_tostring(L, -3), -2,
                lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL, anchor, luafns);
        lua_pop(L, 4); /* the strings stay referenced by the argument table */
    }
    /* hash form, sorted by column name for a stable output order */
    lua_newtable(L);
    int names_t = lua_gettop(L);
    int nn = 0;
    lua_pushnil(L);
    while (lua_next(L, 2)) {
        if (lua_type(L, -2) == LUA_TSTRING) {
            lua_pushvalue(L, -2);
            lua_rawseti(L, names_t, ++nn);
        }
        lua_pop(L, 1);
    }
    lua_getglobal(L, "table");
    lua_getfield(L, -1, "sort");
    lua_pushvalue(L, names_t);
    lua_call(L, 1, 0);
    lua_pop(L, 1);
    for (int k = 1; k <= nn; k++) {
        lua_rawgeti(L, names_t, k);
        const char *col = lua_tostring(L, -1);
        lua_gettable(L, 2);
        if (lua_istable(L, -1)) {
            lua_Integer m = luaL_len(L, -1);
            for (lua_Integer q = 1; q <= m; q++) {
                lua_geti(L, -1, q);
                add_agg(L, aggs, qs, &na, col, -1, NULL, anchor, luafns);
                lua_pop(L, 1);
            }
        } else {
            add_agg(L, aggs, qs, &na, col, -1, NULL, anchor, luafns);
        }
        lua_pop(L, 1);
    }
    cl_frame *r;
    LCL_CHECK(L, cl_frame_group_by_q(&r, f, keys, nk, aggs, na, qs));
    push_frame(L, r);
    if (luaL_len(L, luafns) > 0)
        lframe_lua_aggs(L, 1, luafns, lua_gettop(L));
    return 1;
}

static int g_tostring(lua_State *L)
{
    lua_pushstring(L, GROUPBY);
    return 1;
}

static int f_join(lua_State *L)
{
    lua_settop(L, 4);
    cl_frame *a = checkframe(L, 1), *b = checkframe(L, 2);
    int n;
    const char **on = checkstrlist(L, 3, &n, "join");
    static const char *const known[] = {"how", "suffix", "suffixes", NULL};
    int o = lcl_check_options(L, 4, "join", known);
    const char *how = lcl_optstr(L, o, "how", "inner");
    const char *suffix = lcl_optstr(L, o, "suffix", NULL), *lsuf = "", *rsuf = "_right";
    if (o && lua_getfield(L, o, "suffixes") != LUA_TNIL) {
        int ns;
        const char **sv = checkstrlist(L, -1, &ns, "join: suffixes");
        if (ns != 2 || suffix)
            return luaL_error(L, "join: suffixes must be {left, right} (two strings) and "
                                 "replaces suffix");
        lsuf = sv[0];
        rsuf = sv[1];
    } else if (suffix) {
        rsuf = suffix;
    }
    cl_join_how h;
    if (!strcmp(how, "inner"))
        h = CL_JOIN_INNER;
    else if (!strcmp(how, "left"))
        h = CL_JOIN_LEFT;
    else if (!strcmp(how, "right"))
        h = CL_JOIN_RIGHT;
    else if (!strcmp(how, "outer"))
        h = CL_JOIN_OUTER;
    else
        return luaL_error(L, "join: how must be \"inner\", \"left\", \"right\" or \"outer\", "
                             "got '%s'", how);
    cl_frame *r;
    LCL_CHECK(L, cl_frame_join_ex(&r, a, b, on, n, h, lsuf, rsuf));
    return push_frame(L, r);
}

static int f_describe(lua_State *L)
{
    cl_frame *r;
    LCL_CHECK(L, cl_frame_group_describe(&r, checkframe(L, 1)));
    return push_frame(L, r);
}

static int f_crosstab(lua_State *L)
{
    cl_frame *f = checkframe(L, 1);
    const char *a = luaL_checkstring(L, 2), *b = luaL_checkstring(L, 3);
    static const char *const known[] = {"normalize", "margins", NULL};
    int o = lcl_check_options(L, 4, "crosstab", known);
    const char *norm = lcl_optstr(L, o, "normalize", "none");
    int nm = !strcmp(norm, "none") ? 0 : !strcmp(norm, "index") ? 1 : !strcmp(norm, "columns") ? 2 : -1;
    if (nm < 0)
        return luaL_error(L, "crosstab: normalize must be \"none\", \"index\" or \"columns\"");
    int margins = lcl_optbool(L, o, "margins", 0);
    cl_frame *r;
    if (margins)
        LCL_CHECK(L, cl_frame_group_crosstab_margins(&r, f, a, b, nm));
    else
        LCL_CHECK(L, cl_frame_group_crosstab(&r, f, a, b, nm));
    return push_frame(L, r);
}

/* ---- registration --------------------------------------------------------------------------- */

static const luaL_Reg frame_methods[] = {
    {"nrow", f_nrow},     {"ncol", f_ncol},       {"shape", f_shape},
    {"names", f_names},   {"types", f_types},     {"col", f_col},
    {"has", f_has},       {"row", f_row},         {"head", f_head},
    {"tail", f_tail},     {"select", f_select},   {"drop", f_drop},
    {"rename", f_rename}, {"filter", f_filter},   {"take", f_take},
    {"with", f_with},     {"split", f_split},     {"kfold", f_kfold},
    {"write_csv", f_write_csv}, {"sort", f_sort}, {"concat", f_concat},
    {"value_counts", f_value_counts}, {"totable", f_totable}, {"columns", f_columns},
    {"groupby", f_groupby}, {"join", f_join},     {"describe", f_describe},
    {"crosstab", f_crosstab}, {"print", f_print}, {"show", f_print}, {NULL, NULL}};

static const luaL_Reg frame_meta[] = {
    {"__index", f_index}, {"__len", f_len},   {"__tostring", f_tostring}, {"__repl", f_repl},
    {"__complete", f_names}, /* the REPL completes df.<Tab> with the column names */
    {"__gc", box_gc},     {"__close", box_gc}, {NULL, NULL}};

static const luaL_Reg funcs[] = {{"read_csv", l_read_csv}, {"new", l_new}, {NULL, NULL}};

#define FRAME_DOC                                                                              \
    "A table of named, typed columns (num, cat, date). df.name or df[\"name\"] gives a column "   \
    "(df:col(name) when a method has that name); #df is the row count. Frames are immutable: "  \
    "methods return new frames sharing unchanged columns."
static const doc frame_docs[] = {
    {"nrow", "df:nrow() -> rows"},
    {"ncol", "df:ncol() -> columns"},
    {"shape", "df:shape() -> rows, columns"},
    {"names", "df:names() -> {name, ...} in column order"},
    {"types", "df:types() -> {name = \"num\"|\"cat\"|\"date\"}"},
    {"col", "df:col(name) -> column (also df.name and df[\"name\"])"},
    {"has", "df:has(name) -> true when the column exists"},
    {"row", "df:row(i) -> {name = value} for row i (1-based; -1 is the last); missing values are nil"},
    {"head", "df:head([n=6]) -> the first n rows"},
    {"tail", "df:tail([n=6]) -> the last n rows"},
    {"select", "df:select{names} or df:select(a, b, ...) -> those columns, in that order"},
    {"drop", "df:drop(name | {names}) -> every other column"},
    {"rename", "df:rename{old = \"new\", ...} -> renamed columns"},
    {"filter", "df:filter(mask) -> rows where the mask (a 0/1 column or a list of booleans) is true"},
    {"take", "df:take{i, ...} -> rows by 1-based index, in that order (with kfold's lists)"},
    {"with", "df:with(name, column | number | string | list) -> adds or replaces a column"},
    {"split", "df:split{test = 0.2, stratify = col, seed = 42} -> train, test (row order kept)"},
    {"kfold", "df:kfold{k = 5, stratify = col, group = col, seed = 42} -> {{train = {...}, test = "
              "{...}}, ...}: 1-based row lists; with group, a group's rows share a fold"},
    {"write_csv", "df:write_csv(path [, {sep}]) -> df: atomic write into folders created as "
                  "needed, numbers round-trip exactly; raises naming the file when it cannot"},
    {"sort", "df:sort(col | {cols} [, {desc = bool | {bools}}]) -> stable sort, missing values last"},
    {"concat", "df:concat(other, ...) or df:concat{a, b} -> rows of all frames (same columns)"},
    {"value_counts", "df:value_counts(col [, {normalize = true}]) -> frame {col, count}, most "
                     "frequent first; normalize gives {col, share}: counts over the non-missing "
                     "rows"},
    {"totable", "df:totable() -> {{name = value, ...}, ...} (rows)"},
    {"columns", "df:columns() -> {name = column}"},
    {"groupby", "df:groupby(col | {cols}):agg{...} -> one row per key, sorted. agg entries: "
                "col = \"mean\", col = {\"min\", \"max\"}, or {col, fn, out_name}; fn: count sum "
                "mean min max std median nunique first last size, q<percent> (q90: the 90% "
                "quantile), or a Lua function of the group's values"},
    {"join", "df:join(other, on [, {how = \"inner\"|\"left\"|\"right\"|\"outer\", suffix = "
             "\"_right\" | suffixes = {\"_x\", \"_y\"}}]) -> hash join on one or more key "
             "columns, as pandas' merge: inner/left keep the left row order (matches in right "
             "order), right the right row order, outer is sorted by the keys; right/outer fill "
             "the key columns from either side; missing keys never match (pandas pairs NaN "
             "keys); a non-key name on both sides gets suffix on the right, or suffixes on "
             "both sides"},
    {"describe", "df:describe() -> one row per column: count, missing, mean, std, min, quartiles, "
                 "max, unique, top, freq"},
    {"crosstab", "df:crosstab(a, b [, {normalize = \"index\"|\"columns\", margins = true}]) -> "
                 "counts (or shares) of a's levels by b's levels; margins adds an \"All\" row "
                 "and column of totals (as pandas: with normalize, only the one that is not all "
                 "ones)"},
    {"print", "df:print([rows]) prints the frame as an aligned table: every row of a frame of "
              "up to 60 rows, else the first and last 5; rows = n shows n (all when n >= #df)"},
    {"show", "df:show{rows = n, width = w} prints the frame like df:print, with as many rows "
             "and as wide as asked (width defaults to $COLUMNS or 100)"},
    {NULL, NULL}};

int luaopen_churnlab_frame(lua_State *L);
int luaopen_churnlab_frame(lua_State *L)
{
    /* frame: __index is a function (methods, then columns); the methods live in the
     * metatable itself, where help() finds them */
    luaL_newmetatable(L, FRAME);
    luaL_setfuncs(L, frame_meta, 0);
    luaL_setfuncs(L, frame_methods, 0);
    set_docs(L, frame_docs);
    lcl_setdoc(L, -1, FRAME_DOC);
    lua_pop(L, 1);
    lframe_open_columns(L);
    luaL_newmetatable(L, GROUPBY);
    lua_newtable(L);
    lua_pushcfunction(L, g_agg);
    lcl_setdoc(L, -1, "g:agg{...} -> frame: one row per distinct key of df:groupby(keys), "
                      "sorted by the keys: the key columns, then one column per aggregate: "
                      "list entries {col, fn [, out_name]} first, in order, then col = \"fn\" "
                      "and col = {\"fn1\", \"fn2\"} by column name, named col_fn. fn: count "
                      "(non-missing), sum, mean, min, max, std, median, nunique, first, last, "
                      "size (rows per group, named size), q<percent> (q90 = the 90% quantile, "
                      "linear as pandas, named col_q90); cat columns allow count, nunique, "
                      "first, last and size. A Lua function fn(values) gets the group's values "
                      "in row order ({..., n = count}, missing values nil) and returns a "
                      "number, string, boolean or nil; its column (named col, or out_name) "
                      "comes after the others.");
    lua_setfield(L, -2, "agg");
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, g_tostring);
    lua_setfield(L, -2, "__tostring");
    lcl_setdoc(L, -1, "churnlab.GroupBy: df:groupby(keys), waiting for g:agg{...} to make one "
                      "row per key, or for a transform (g:cumsum, g:shift, g:diff, g:rank, "
                      "g:rolling) giving a column aligned with the frame's rows.");
    lua_pop(L, 1);
    lframe_open_window(L);
    lframe_open_clean(L);
    lframe_open_stats(L);
    lframe_open_reshape(L);
    lframe_open_text(L);
    lframe_open_lua(L);
    luaL_newlib(L, funcs);
    lframe_open_lua_module(L);
    /* the module is callable: cl.frame{...} == cl.frame.new{...} */
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, l_call_new);
    lua_setfield(L, -2, "__call");
    lua_setmetatable(L, -2);
    lua_getfield(L, -1, "read_csv");
    lcl_setdoc(L, -1, "read_csv(path [, opts]) -> frame, bad_lines, info: loads a CSV "
                      "file. opts: sep, quote, header (true), names, na (list of missing "
                      "markers, default NA N/A null NaN; empty is always missing), types ({col = "
                      "\"num\"|\"cat\"|\"date\"}: values that do not parse become missing, "
                      "counted in info.coerced), nrows, skip (lines before the header), "
                      "on_bad_line (\"error\"|\"skip\"), max_record (bytes, 64 MiB), warn "
                      "(true), shard and of (rows of block shard of `of` contiguous blocks, 0-based: "
                      "{shard = cl.mpi.rank(), of = cl.mpi.size()} under mpirun; the whole file "
                      "is parsed, so every shard has the same categories). info = {bad_lines, first_bad_line, lines, warnings, coerced}: "
                      "warnings (also printed on stderr unless warn = false) name each column "
                      "read as cat although >= 95% of its values are numbers or dates, with the "
                      "count and the first offending value. Quoted fields are strings: \"NA\" "
                      "and \"\" in quotes are labels, not missing; inf and -inf are numbers; a "
                      "NUL byte is an error. A missing or malformed file raises an error naming it "
                      "(and the line); to branch on it: local ok, df = pcall(cl.read_csv, path).");
    lua_pop(L, 1);
    lua_getfield(L, -1, "new");
    lcl_setdoc(L, -1, "frame{col = {values...}, ...} -> frame (columns in name order, or "
                      "frame(tbl, {names = {...}})): numbers make num columns, strings cat; "
                      "nil entries are missing values, and lists shorter than the longest are "
                      "padded with missing values (so {1, nil, 3} and {1, nil, nil} next to a "
                      "3-long list need no n = 3); an explicit n = N fixes a list's length.");
    lua_pop(L, 1);
    return 1;
}
