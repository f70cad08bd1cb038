/* plan.c - module churnlab.plan: the numeric engine under churnlab.strategy (expected
 * values, budget-constrained plans, Monte Carlo simulation) on plain vectors. Analysts use
 * churnlab.strategy, which adds targeting rules, names and printing. */
#include "support/lcl.h"

#include "analysis/strategy.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Reads customers {p = vec, value = vec, effect = n x na matrix or nil, p_draws = n x R
 * matrix of replicate probabilities or nil} and actions (array of
 * {contact, accept, reach, effect, effect_sd, fixed}) at args 1 and 2. Buffers stay on the
 * stack. */
static void read_input(lua_State *L, cl_strategy_input *in, cl_action **acts, const char *fname)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checktype(L, 2, LUA_TTABLE);
    /* a misspelt field would silently become a default (a free action, a missing effect) */
    static const char *const customer_keys[] = {"p", "value", "scale", "effect", "p_draws",
                                                "value_draws", "effect_draws", NULL};
    lcl_check_fields(L, 1, 1, fname, "customers", customer_keys);
    int64_t n, nv;
    lua_getfield(L, 1, "p");
    int pidx = lua_gettop(L);
    if (lua_isnil(L, pidx))
        luaL_error(L, "customers.p (churn probabilities) is missing");
    double *p = lcl_checkvec(L, pidx, &n);
    lua_getfield(L, 1, "value");
    int vidx = lua_gettop(L);
    if (lua_isnil(L, vidx))
        luaL_error(L, "customers.value (money retained per customer) is missing");
    double *v = lcl_checkvec(L, vidx, &nv);
    if (nv != n)
        luaL_error(L, "customers.p has %d values but customers.value has %d", (int)n, (int)nv);
    lua_Integer na = luaL_len(L, 2);
    if (na < 1 || na > 254)
        luaL_error(L, "need 1..254 actions, got %d", (int)na);
    cl_action *a = lua_newuserdatauv(L, (size_t)na * sizeof *a, 0);
    static const char *const fields[] = {"contact", "accept", "reach", "effect", "effect_sd",
                                         "fixed", NULL};
    for (lua_Integer k = 1; k <= na; k++) {
        if (lua_geti(L, 2, k) != LUA_TTABLE)
            luaL_error(L, "action %d is not a table", (int)k);
        char what[32];
        snprintf(what, sizeof what, "action %d", (int)k);
        lcl_check_fields(L, -1, 2, fname, what, fields);
        double f[6];
        for (int j = 0; j < 6; j++) {
            int t = lua_getfield(L, -1, fields[j]);
            if (t == LUA_TNIL)
                f[j] = j == 2 ? 1.0 : 0.0; /* reach defaults to 1, the rest to 0 */
            else if (t == LUA_TNUMBER)
                f[j] = lua_tonumber(L, -1);
            else
                luaL_error(L, "action %d: '%s' must be a number, got %s", (int)k, fields[j],
                           lua_typename(L, t));
            lua_pop(L, 1);
        }
        a[k - 1] = (cl_action){f[0], f[1], f[2], f[3], f[4], f[5]};
        lua_pop(L, 1);
    }
    double *scale = NULL;
    if (lua_getfield(L, 1, "scale") != LUA_TNIL) {
        int64_t ns;
        scale = lcl_checkvec(L, lua_gettop(L), &ns);
        if (ns != n)
            luaL_error(L, "customers.scale has %d values for %d customers", (int)ns, (int)n);
    }
    double *eff = NULL;
    if (lua_getfield(L, 1, "effect") != LUA_TNIL) {
        int64_t rows;
        int cols;
        eff = lcl_checkmat(L, lua_gettop(L), &rows, &cols);
        if (rows != n || cols != na)
            luaL_error(L, "customers.effect must be %d x %d (customers x actions), got %d x %d",
                       (int)n, (int)na, (int)rows, cols);
    }
    double *rep = NULL;
    int nrep = 0;
    if (lua_getfield(L, 1, "p_draws") != LUA_TNIL) {
        /* n x R: column r is replicate r; the core wants replicate-major */
        int64_t rows;
        double *m = lcl_checkmat(L, lua_gettop(L), &rows, &nrep);
        if (rows != n)
            luaL_error(L, "customers.p_draws must have one row per customer (%d), got %d rows",
                       (int)n, (int)rows);
        rep = lua_newuserdatauv(L, (size_t)(n > 0 && nrep > 0 ? n * nrep : 1) * sizeof *rep, 0);
        for (int64_t i = 0; i < n; i++)
            for (int r = 0; r < nrep; r++)
                rep[(int64_t)r * n + i] = m[i * nrep + r];
    }
    double *vrep = NULL;
    if (lua_getfield(L, 1, "value_draws") != LUA_TNIL) {
        int64_t rows;
        int cols;
        double *m = lcl_checkmat(L, lua_gettop(L), &rows, &cols);
        if (!rep || rows != n || cols != nrep)
            luaL_error(L, "customers.value_draws must be %d x %d like customers.p_draws, got "
                          "%d x %d", (int)n, nrep, (int)rows, cols);
        vrep = lua_newuserdatauv(L, (size_t)(n > 0 && nrep > 0 ? n * nrep : 1) * sizeof *vrep, 0);
        for (int64_t i = 0; i < n; i++)
            for (int r = 0; r < nrep; r++)
                vrep[(int64_t)r * n + i] = m[i * nrep + r];
    }
    double *erep = NULL;
    if (lua_getfield(L, 1, "effect_draws") != LUA_TNIL) {
        /* n x (R * na): row i holds replicate r's effect of action k at column r * na + k */
        int64_t rows;
        int cols;
        double *m = lcl_checkmat(L, lua_gettop(L), &rows, &cols);
        if (!rep || !eff || rows != n || cols != nrep * (int)na)
            luaL_error(L, "customers.effect_draws must be %d x %d (customers x replicates * "
                          "actions, with customers.effect and customers.p_draws), got %d x %d",
                       (int)n, nrep * (int)na, (int)rows, cols);
        erep = lua_newuserdatauv(L, (size_t)(n > 0 && nrep > 0 ? n * nrep * na : 1) * sizeof *erep, 0);
        for (int64_t i = 0; i < n; i++)
            for (int r = 0; r < nrep; r++)
                for (int k = 0; k < (int)na; k++)
                    erep[((int64_t)r * n + i) * na + k] = m[i * nrep * na + r * na + k];
    }
    in->effect_rep = erep;
    in->nrep = nrep;
    in->p_rep = rep;
    in->value_rep = vrep;
    in->n = n;
    in->p = p;
    in->value = v;
    in->na = (int)na;
    in->act = a;
    in->effect = eff;
    in->scale = scale;
    *acts = a;
}

static uint8_t *read_assign(lua_State *L, int idx, int64_t n)
{
    int64_t m;
    double *v = lcl_checkvec(L, idx, &m);
    if (m != n)
        luaL_error(L, "the plan has %d entries for %d customers", (int)m, (int)n);
    uint8_t *a = lua_newuserdatauv(L, (size_t)(n ? n : 1), 0);
    for (int64_t i = 0; i < n; i++) {
        if (!(v[i] >= 0 && v[i] <= 254) || v[i] != floor(v[i]))
            luaL_error(L, "plan entry %d must be 0 (none) or an action number, got %f", (int)i + 1, v[i]);
        a[i] = (uint8_t)v[i];
    }
    return a;
}

/* expected(customers, actions) -> n x na tensor of expected net values */
static int l_expected(lua_State *L)
{
    lua_settop(L, 2);
    cl_strategy_input in;
    cl_action *a;
    read_input(L, &in, &a, "expected");
    cl_tensor *t;
    LCL_CHECK(L, cl_tensor_new(&t, 2, in.n, in.na));
    for (int64_t i = 0; i < in.n; i++)
        for (int k = 0; k < in.na; k++)
            cl_tensor_data(t)[i * in.na + k] = (float)cl_strategy_expected(&in, i, k, NULL);
    return lcl_pushtensor(L, t);
}

/* optimize(customers, actions, budget, {exact = false}) -> plan tensor, expected net, cost */
static int l_optimize(lua_State *L)
{
    lua_settop(L, 4);
    double budget = luaL_checknumber(L, 3);
    static const char *const known[] = {"exact", NULL};
    lcl_check_options(L, 4, "optimize", known);
    int exact = lcl_optbool(L, 4, "exact", 0);
    cl_strategy_input in;
    cl_action *a;
    read_input(L, &in, &a, "optimize");
    uint8_t *assign = lua_newuserdatauv(L, (size_t)(in.n ? in.n : 1), 0);
    double net, cost;
    LCL_CHECK(L, cl_strategy_optimize(&in, budget, exact, assign, &net, &cost));
    cl_tensor *t;
    LCL_CHECK(L, cl_tensor_new(&t, 1, in.n, 1));
    for (int64_t i = 0; i < in.n; i++)
        cl_tensor_data(t)[i] = assign[i];
    lcl_pushtensor(L, t);
    lua_pushnumber(L, net);
    lua_pushnumber(L, cost);
    return 3;
}

static void push_interval(lua_State *L, const char *name, cl_interval v)
{
    lua_createtable(L, 0, 3);
    lua_pushnumber(L, v.mean);
    lua_setfield(L, -2, "mean");
    lua_pushnumber(L, v.lo);
    lua_setfield(L, -2, "lo");
    lua_pushnumber(L, v.hi);
    lua_setfield(L, -2, "hi");
    lua_setfield(L, -2, name);
}

/* simulate(customers, actions, plan, {draws = 2000, seed = 42, verbose}) -> result table */
static int l_simulate(lua_State *L)
{
    lua_settop(L, 4);
    static const char *const known[] = {"draws", "seed", "verbose", NULL};
    lcl_check_options(L, 4, "simulate", known);
    int draws = (int)lcl_optnum(L, 4, "draws", 2000);
    double seed = lcl_optnum(L, 4, "seed", 42);
    if (!(seed >= 0 && seed <= 9007199254740992.0))
        return luaL_error(L, "simulate: seed must be an integer >= 0");
    cl_strategy_input in;
    cl_action *a;
    read_input(L, &in, &a, "simulate");
    uint8_t *assign = read_assign(L, 3, in.n);
    cl_progress *prog = lcl_progress_new(L, 4);
    cl_sim_result r;
    int rc = cl_strategy_simulate(&in, assign, draws, (uint64_t)seed, &r, prog);
    lcl_progress_end(prog); /* close the bar now: after an error or Ctrl-C too */
    LCL_CHECK(L, rc);
    lua_createtable(L, 0, 8);
    lua_pushinteger(L, r.contacted);
    lua_setfield(L, -2, "contacted");
    push_interval(L, "accepted", r.accepted);
    push_interval(L, "saved", r.saved);
    push_interval(L, "retained", r.retained);
    push_interval(L, "cost", r.cost);
    push_interval(L, "net", r.net);
    lua_pushnumber(L, r.roi);
    lua_setfield(L, -2, "roi");
    lua_pushinteger(L, draws);
    lua_setfield(L, -2, "draws");
    return 1;
}

static const luaL_Reg funcs[] = {{"expected", l_expected}, {"optimize", l_optimize},
                                 {"simulate", l_simulate}, {NULL, NULL}};

static const lcl_doc docs[] = {
    {"expected", "expected(customers, actions) -> n x na tensor: expected net value of offering "
                 "each action to each customer, reach * (p * effect * value - accept) - contact."},
    {"optimize", "optimize(customers, actions, budget, {exact = false}) -> plan, net, cost: at "
                 "most one action per customer (plan entries 0 = none, k = action k) maximising "
                 "expected net value with the worst-case cost within the budget."},
    {"simulate", "simulate(customers, actions, plan, {draws = 2000, seed = 42}) -> {contacted, "
                 "accepted, saved, retained, cost, net (each {mean, lo, hi}: 90% interval), "
                 "roi}: Monte Carlo with common random numbers across plans. customers.p_draws (n x R, "
                 "optional): R replicates of the churn probabilities (bootstrap refits); draw d "
                 "uses replicate d % R, so the interval includes the probabilities' error; "
                 "customers.value_draws (n x R) the values that go with them, "
                 "customers.effect_draws (n x R * actions, with customers.effect) the effects: "
                 "replicate r of action k in column (r - 1) * actions + k."},
    {NULL, NULL}};

int luaopen_churnlab_plan(lua_State *L);
int luaopen_churnlab_plan(lua_State *L)
{
    luaL_newlib(L, funcs);
    lcl_setdoc(L, -1, "churnlab.plan: the numeric engine under churnlab.strategy (expected "
                      "values, budget-constrained plans, Monte Carlo simulation).");
    lcl_setdocs(L, -1, docs);
    return 1;
}
