/* Reads the table a scenario file returned into an eb_scenario, checking every key, type and
 * value on the way, so that a wrong scenario stops before any trial runs with one line naming
 * the file, the line and the fix.  Runs inside lua_pcall (see scenario.c): helpers raise Lua
 * errors only for out-of-memory; every other problem returns -1 with the message in r->err.
 * Tables are read with raw access, so a user's metatables cannot run code here.
 */
#include <ctype.h>
#include <lauxlib.h>
#include <lua.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "device.h"
#include "fidelity.h"
#include "scenario_read.h"

/* A table being read: its stack index, its name in messages ("" for the scenario itself,
 * "measure", "variants[2]", "dataset"), and the line its problems are searched from. */
typedef struct rd_tab {
    int idx;
    const char *label;
    int anchor;
} rd_tab;

static const char *const rd_top_keys[] = {
    "name",    "description", "dataset", "variants", "backends",        "threads",
    "cores",   "batch",       "measure", "output",   "backend_options", "constraints",
    "setup",   "on_trial",    "done",    "mode",            "server",      "cooldown",
    "energy",  "objective", NULL};
static const char *const rd_energy_keys[] = {"meter", "command", "rails", "read", "unit", "idle",
                                             NULL};
static const char *const rd_variant_keys[] = {"name", "kind", "model", "base", "dataset",
                                              "backend_options", NULL};
static const char *const rd_measure_keys[] = {"warmup",   "min_iterations", "min_time",
                                              "max_time", "accuracy",       "timeout",
                                              "precision", "profile", NULL};
static const char *const rd_server_keys[] = {"target_qps", "p99_ms", "duration", "search", NULL};
static const char *const rd_cooldown_keys[] = {"below_c", "within_c_of_idle", "max_wait", "poll",
                                               NULL};
static const char *const rd_constraint_keys[] = {"accuracy_drop", "p50_ms", "p90_ms", "p99_ms",
                                                 "peak_rss_kb", "energy_mj", NULL};
static const char *const rd_objectives[] = {"latency", "energy", "size", NULL};
/* Dataset keys: per kind, then the preprocessing keys every kind takes. */
static const char *const rd_idx_keys[] = {"images", "labels", NULL};
static const char *const rd_npy_keys[] = {"x", "y", NULL};
static const char *const rd_csv_keys[] = {"path", "label", "header", NULL};
static const char *const rd_random_keys[] = {"shape", "count", "seed", NULL};
static const char *const rd_common_keys[] = {"name", "scale", "mean", "std", "reshape", "limit",
                                             NULL};

/* ---- small helpers -------------------------------------------------------------------- */

static char *rd_strdup(lua_State *L, const char *s)
{
    char *d = strdup(s);
    if (!d)
        luaL_error(L, "out of memory");
    return d;
}

static void *rd_calloc(lua_State *L, size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        luaL_error(L, "out of memory");
    return p;
}

static void rd_label(const rd_tab *t, const char *key, char *buf, size_t n)
{
    if (t->label[0])
        snprintf(buf, n, "%s.%s", t->label, key);
    else
        snprintf(buf, n, "%s", key);
}

static void rd_number_text(lua_State *L, int i, char *buf, size_t n)
{
    if (lua_isinteger(L, i))
        snprintf(buf, n, "%lld", (long long)lua_tointeger(L, i));
    else
        snprintf(buf, n, "%.14g", (double)lua_tonumber(L, i));
}

/* "a string ('abc')", "a number (1.5)", "a boolean (true)", "a table": for type errors. */
static const char *rd_desc(lua_State *L, int i, char *buf, size_t n)
{
    char num[64];
    switch (lua_type(L, i)) {
    case LUA_TSTRING:
        snprintf(buf, n, "a string ('%.60s')", lua_tostring(L, i));
        break;
    case LUA_TNUMBER:
        rd_number_text(L, i, num, sizeof num);
        snprintf(buf, n, "a number (%s)", num);
        break;
    case LUA_TBOOLEAN:
        snprintf(buf, n, "a boolean (%s)", lua_toboolean(L, i) ? "true" : "false");
        break;
    case LUA_TNIL:
        snprintf(buf, n, "nil");
        break;
    default:
        snprintf(buf, n, "a %s", luaL_typename(L, i));
    }
    return buf;
}

/* "'abc'", "1.5", "true": for a value of the right type that is wrong. */
static const char *rd_value(lua_State *L, int i, char *buf, size_t n)
{
    if (lua_type(L, i) == LUA_TSTRING)
        snprintf(buf, n, "'%.60s'", lua_tostring(L, i));
    else if (lua_type(L, i) == LUA_TNUMBER)
        rd_number_text(L, i, buf, n);
    else
        rd_desc(L, i, buf, n);
    return buf;
}

/* The line for a problem with t's `key` whose value is at stack index i (0: no value). */
static int rd_line(const eb_sc_reader *r, const rd_tab *t, const char *key, int i)
{
    const char *sval = i && lua_type(r->L, i) == LUA_TSTRING ? lua_tostring(r->L, i) : NULL;
    return eb_sc_locate(r, t->anchor, key, sval);
}

/* "t.key is a string ('x'); expected EXPECTED", for the value on top of the stack. */
static int rd_bad_type(const eb_sc_reader *r, const rd_tab *t, const char *key,
                       const char *expected)
{
    char label[160], desc[128];
    rd_label(t, key, label, sizeof label);
    return eb_sc_fail(r, rd_line(r, t, key, -1), "%s is %s; expected %s", label,
                      rd_desc(r->L, -1, desc, sizeof desc), expected);
}

/* "t.key is 'x'; EXPECTED", for a value of the right type but wrong. */
static int rd_bad_value(const eb_sc_reader *r, const rd_tab *t, const char *key,
                        const char *fmt_rest, const char *arg)
{
    char label[160], val[128], rest[600];
    rd_label(t, key, label, sizeof label);
    snprintf(rest, sizeof rest, fmt_rest, arg);
    return eb_sc_fail(r, rd_line(r, t, key, -1), "%s is %s; %s", label,
                      rd_value(r->L, -1, val, sizeof val), rest);
}

static int rd_missing(const eb_sc_reader *r, const rd_tab *t, const char *key, const char *hint)
{
    char label[160];
    rd_label(t, key, label, sizeof label);
    return eb_sc_fail(r, t->anchor, "%s is missing; %s", label, hint);
}

/* Pushes t[key] (raw) and returns its type. */
static int rd_get(const eb_sc_reader *r, const rd_tab *t, const char *key)
{
    lua_pushstring(r->L, key);
    return lua_rawget(r->L, t->idx);
}

static int rd_is_int(lua_State *L, int i, long *out)
{
    if (lua_isinteger(L, i)) {
        *out = (long)lua_tointeger(L, i);
        return 1;
    }
    if (lua_type(L, i) == LUA_TNUMBER) {
        double d = lua_tonumber(L, i);
        if (isfinite(d) && d == floor(d) && fabs(d) < 1e15) {
            *out = (long)d;
            return 1;
        }
    }
    return 0;
}

static size_t rd_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[64];
    if (la >= 63 || lb >= 63)
        return 99;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

static void rd_join(const char *const *words, char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; words[i] && used < n; i++) {
        int w = snprintf(buf + used, n - used, "%s%s", i ? ", " : "", words[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

static int rd_known(const char *const *known, const char *const *more, const char *key)
{
    for (size_t i = 0; known && known[i]; i++)
        if (strcmp(known[i], key) == 0)
            return 1;
    for (size_t i = 0; more && more[i]; i++)
        if (strcmp(more[i], key) == 0)
            return 1;
    return 0;
}

/* Every key of t must be a string in known (or more).  Of several unknown keys, names the one
 * on the earliest line, so the message does not depend on Lua's table order. */
static int rd_check_keys(const eb_sc_reader *r, const rd_tab *t, const char *const *known,
                         const char *const *more, const char *where)
{
    lua_State *L = r->L;
    char bad[128] = "";
    int bad_line = 0;
    lua_pushnil(L);
    while (lua_next(L, t->idx)) {
        if (lua_type(L, -2) != LUA_TSTRING) {
            char key[64];
            rd_value(L, -2, key, sizeof key);
            lua_pop(L, 2);
            return eb_sc_fail(r, t->anchor,
                              "%s has an entry without a name ([%s] = ...); write key = value",
                              where, key);
        }
        const char *key = lua_tostring(L, -2);
        if (!rd_known(known, more, key)) {
            int ln = eb_sc_locate(r, t->anchor, key, NULL);
            if (!bad[0] || ln < bad_line) {
                snprintf(bad, sizeof bad, "%s", key);
                bad_line = ln;
            }
        }
        lua_pop(L, 1);
    }
    if (!bad[0])
        return 0;
    const char *all[64];
    size_t n = 0;
    for (size_t i = 0; known && known[i] && n < 63; i++)
        all[n++] = known[i];
    for (size_t i = 0; more && more[i] && n < 63; i++)
        all[n++] = more[i];
    all[n] = NULL;
    const char *close = NULL;
    size_t best = 3;
    for (size_t i = 0; i < n; i++) {
        size_t d = rd_edit_distance(bad, all[i]);
        /* "latency" for "latency_ms": a prefix is as good a hint as a typo. */
        size_t lb = strlen(bad), lk = strlen(all[i]);
        if (d >= best && lb >= 4 && lk >= 4 &&
            strncmp(bad, all[i], lb < lk ? lb : lk) == 0)
            d = best - 1;
        if (d < best) {
            best = d;
            close = all[i];
        }
    }
    char list[600], suggest[160] = "";
    rd_join(all, list, sizeof list);
    if (close)
        snprintf(suggest, sizeof suggest, "did you mean '%s'? ", close);
    return eb_sc_fail(r, bad_line, "unknown key '%s' in %s; %sknown keys: %s", bad, where,
                      suggest, list);
}

/* The mark the prelude's constructors left on the table at index i: fills what ("scenario",
 * "variant", "dataset"), kind ("idx", ...) and line (0 when unknown); returns 1 when marked. */
static int rd_mark(const eb_sc_reader *r, int i, char *what, size_t nw, char *kind, size_t nk,
                   int *line)
{
    lua_State *L = r->L;
    int idx = lua_absindex(L, i), top = lua_gettop(L), found = 0;
    *line = 0;
    what[0] = kind[0] = '\0';
    lua_getfield(L, LUA_REGISTRYINDEX, EB_SC_PRIVATE);
    lua_getfield(L, -1, "marks");
    lua_pushvalue(L, idx);
    if (lua_rawget(L, -2) == LUA_TTABLE) {
        int m = lua_gettop(L);
        found = 1;
        if (lua_getfield(L, m, "what") == LUA_TSTRING)
            snprintf(what, nw, "%s", lua_tostring(L, -1));
        if (lua_getfield(L, m, "kind") == LUA_TSTRING)
            snprintf(kind, nk, "%s", lua_tostring(L, -1));
        /* A line counts only when it is in the scenario file itself (not a dofile'd one). */
        if (lua_getfield(L, m, "source") == LUA_TSTRING && lua_tostring(L, -1)[0] == '@' &&
            strcmp(lua_tostring(L, -1) + 1, r->path) == 0 &&
            lua_getfield(L, m, "line") == LUA_TNUMBER)
            *line = (int)lua_tointeger(L, -1);
    }
    lua_settop(L, top);
    return found;
}

/* ---- typed fields --------------------------------------------------------------------- */

/* Reads an optional (required = 0) or required string; *out stays NULL when absent. */
static int rd_string(const eb_sc_reader *r, const rd_tab *t, const char *key, int required,
                     const char *hint, char **out)
{
    int ty = rd_get(r, t, key);
    if (ty == LUA_TNIL) {
        lua_pop(r->L, 1);
        return required ? rd_missing(r, t, key, hint) : 0;
    }
    if (ty != LUA_TSTRING)
        return rd_bad_type(r, t, key, "a string");
    if (!lua_tostring(r->L, -1)[0])
        return rd_bad_value(r, t, key, "expected a non-empty string%s", "");
    *out = rd_strdup(r->L, lua_tostring(r->L, -1));
    lua_pop(r->L, 1);
    return 0;
}

/* A number: *present says whether it was given. */
static int rd_number(const eb_sc_reader *r, const rd_tab *t, const char *key, double *out,
                     int *present)
{
    int ty = rd_get(r, t, key);
    *present = ty != LUA_TNIL;
    if (ty == LUA_TNIL) {
        lua_pop(r->L, 1);
        return 0;
    }
    if (ty != LUA_TNUMBER)
        return rd_bad_type(r, t, key, "a number");
    *out = lua_tonumber(r->L, -1);
    if (!isfinite(*out))
        return rd_bad_value(r, t, key, "expected a finite number%s", "");
    lua_pop(r->L, 1);
    return 0;
}

static int rd_int(const eb_sc_reader *r, const rd_tab *t, const char *key, long min, long *out,
                  int *present)
{
    char expected[64];
    snprintf(expected, sizeof expected, "an integer >= %ld", min);
    int ty = rd_get(r, t, key);
    *present = ty != LUA_TNIL;
    if (ty == LUA_TNIL) {
        lua_pop(r->L, 1);
        return 0;
    }
    long v;
    if (ty != LUA_TNUMBER)
        return rd_bad_type(r, t, key, expected);
    if (!rd_is_int(r->L, -1, &v) || v < min)
        return rd_bad_value(r, t, key, "expected %s", expected);
    *out = v;
    lua_pop(r->L, 1);
    return 0;
}

static int rd_bool(const eb_sc_reader *r, const rd_tab *t, const char *key, int *out)
{
    int ty = rd_get(r, t, key);
    if (ty == LUA_TNIL) {
        lua_pop(r->L, 1);
        return 0;
    }
    if (ty != LUA_TBOOLEAN)
        return rd_bad_type(r, t, key, "true or false");
    *out = lua_toboolean(r->L, -1);
    lua_pop(r->L, 1);
    return 0;
}

/* "2s", "500ms", "1.5s", "2m", "100us", "1h", "3" (seconds) -> seconds; -1 when malformed. */
static double rd_parse_duration(const char *s)
{
    static const struct {
        const char *unit;
        double seconds;
    } units[] = {{"", 1},       {"s", 1},     {"sec", 1}, {"ms", 1e-3}, {"us", 1e-6},
                 {"m", 60},     {"min", 60},  {"h", 3600}};
    char *end;
    while (isspace((unsigned char)*s))
        s++;
    if (!isdigit((unsigned char)*s) && *s != '.')
        return -1;
    double v = strtod(s, &end);
    if (end == s || !isfinite(v) || v < 0)
        return -1;
    while (isspace((unsigned char)*end))
        end++;
    size_t len = strlen(end);
    while (len && isspace((unsigned char)end[len - 1]))
        len--;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strlen(units[i].unit) == len && strncmp(end, units[i].unit, len) == 0)
            return v * units[i].seconds;
    return -1;
}

static int rd_duration(const eb_sc_reader *r, const rd_tab *t, const char *key, double *out,
                       int *present)
{
    static const char expected[] =
        "a duration like \"500ms\", \"2s\", \"1.5m\" or a number of seconds";
    int ty = rd_get(r, t, key);
    *present = ty != LUA_TNIL;
    if (ty == LUA_TNIL) {
        lua_pop(r->L, 1);
        return 0;
    }
    double v = -1;
    if (ty == LUA_TNUMBER)
        v = lua_tonumber(r->L, -1);
    else if (ty == LUA_TSTRING)
        v = rd_parse_duration(lua_tostring(r->L, -1));
    else
        return rd_bad_type(r, t, key, expected);
    if (!isfinite(v) || v < 0)
        return rd_bad_value(r, t, key, "expected %s", expected);
    *out = v;
    lua_pop(r->L, 1);
    return 0;
}

/* A number or a list of numbers, each an integer >= min; default used when absent. */
static int rd_int_list(const eb_sc_reader *r, const rd_tab *t, const char *key, long min,
                       long max, int def, int **out, size_t *n)
{
    lua_State *L = r->L;
    char expected[96], label[160];
    snprintf(expected, sizeof expected, "an integer >= %ld or a list of them, like {1, 2, 4}",
             min);
    rd_label(t, key, label, sizeof label);
    int ty = rd_get(r, t, key);
    if (ty == LUA_TNIL) {
        lua_pop(L, 1);
        *out = rd_calloc(L, 1, sizeof **out);
        (*out)[0] = def;
        *n = 1;
        return 0;
    }
    if (ty != LUA_TNUMBER && ty != LUA_TTABLE)
        return rd_bad_type(r, t, key, expected);
    size_t count = ty == LUA_TNUMBER ? 1 : lua_rawlen(L, -1);
    if (count == 0)
        return eb_sc_fail(r, rd_line(r, t, key, 0), "%s is an empty list; give at least one "
                          "value, like %s = {%d}", label, key, def);
    *out = rd_calloc(L, count, sizeof **out);
    *n = 0;
    for (size_t i = 0; i < count; i++) {
        if (ty == LUA_TTABLE)
            lua_rawgeti(L, -1, (lua_Integer)i + 1);
        else
            lua_pushvalue(L, -1);
        long v;
        char item[200];
        snprintf(item, sizeof item, ty == LUA_TTABLE ? "%s[%zu]" : "%s", key, i + 1);
        if (lua_type(L, -1) != LUA_TNUMBER)
            return rd_bad_type(r, t, item, expected);
        if (!rd_is_int(L, -1, &v) || v < min || v > max) {
            char range[64];
            snprintf(range, sizeof range, "an integer from %ld to %ld", min, max);
            return rd_bad_value(r, t, item, "expected %s", range);
        }
        for (size_t j = 0; j < *n; j++)
            if ((*out)[j] == (int)v)
                return rd_bad_value(r, t, item, "%s lists it twice", label);
        (*out)[(*n)++] = (int)v;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return 0;
}

/* A string or a list of strings; default used when absent. */
static int rd_str_list(const eb_sc_reader *r, const rd_tab *t, const char *key, const char *def,
                       char ***out, size_t *n)
{
    lua_State *L = r->L;
    char expected[96], label[160];
    snprintf(expected, sizeof expected, "a string or a list of strings, like {\"%s\"}", def);
    rd_label(t, key, label, sizeof label);
    int ty = rd_get(r, t, key);
    if (ty == LUA_TNIL) {
        lua_pop(L, 1);
        *out = rd_calloc(L, 1, sizeof **out);
        (*out)[0] = rd_strdup(L, def);
        *n = 1;
        return 0;
    }
    if (ty != LUA_TSTRING && ty != LUA_TTABLE)
        return rd_bad_type(r, t, key, expected);
    size_t count = ty == LUA_TSTRING ? 1 : lua_rawlen(L, -1);
    if (count == 0)
        return eb_sc_fail(r, rd_line(r, t, key, 0), "%s is an empty list; give at least one, "
                          "like %s = {\"%s\"}", label, key, def);
    *out = rd_calloc(L, count, sizeof **out);
    *n = 0;
    for (size_t i = 0; i < count; i++) {
        if (ty == LUA_TTABLE)
            lua_rawgeti(L, -1, (lua_Integer)i + 1);
        else
            lua_pushvalue(L, -1);
        char item[200];
        snprintf(item, sizeof item, ty == LUA_TTABLE ? "%s[%zu]" : "%s", key, i + 1);
        if (lua_type(L, -1) != LUA_TSTRING)
            return rd_bad_type(r, t, item, expected);
        const char *v = lua_tostring(L, -1);
        if (!v[0])
            return rd_bad_value(r, t, item, "expected a non-empty string%s", "");
        for (size_t j = 0; j < *n; j++)
            if (strcmp((*out)[j], v) == 0)
                return rd_bad_value(r, t, item, "%s lists it twice", label);
        (*out)[(*n)++] = rd_strdup(L, v);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return 0;
}

/* Opens t[key] as a nested table; returns 1 (pushed, sub filled), 0 (absent), -1 (error). */
static int rd_subtable(const eb_sc_reader *r, const rd_tab *t, const char *key, char *label,
                       size_t n, rd_tab *sub)
{
    int ty = rd_get(r, t, key);
    if (ty == LUA_TNIL) {
        lua_pop(r->L, 1);
        return 0;
    }
    if (ty != LUA_TTABLE)
        return rd_bad_type(r, t, key, "a table { key = value, ... }");
    rd_label(t, key, label, n);
    sub->idx = lua_gettop(r->L);
    sub->label = label;
    sub->anchor = eb_sc_locate(r, t->anchor, key, NULL);
    return 1;
}

/* ---- the parts of a scenario ---------------------------------------------------------- */

static int rd_all_mock(const eb_scenario *s)
{
    for (size_t i = 0; i < s->n_backends; i++)
        if (strcmp(s->backends[i], "mock") != 0)
            return 0;
    return s->n_backends > 0;
}

static int rd_backends(const eb_sc_reader *r, const rd_tab *top)
{
    eb_scenario *s = r->s;
    if (rd_str_list(r, top, "backends", "ref", &s->backends, &s->n_backends) != 0)
        return -1;
    for (size_t i = 0; i < s->n_backends; i++) {
        if (eb_backend_find(s->backends[i]))
            continue;
        char names[256];
        eb_backend_names(names, sizeof names);
        int ln = eb_sc_locate(r, r->scenario_line, "backends", s->backends[i]);
        if (s->n_backends == 1)
            return eb_sc_fail(r, ln, "backends is '%s', which is not a backend; known backends: "
                              "%s (see edgebench backends)", s->backends[i], names);
        return eb_sc_fail(r, ln, "backends[%zu] is '%s', which is not a backend; known backends: "
                          "%s (see edgebench backends)", i + 1, s->backends[i], names);
    }
    return 0;
}

static int rd_dataset(const eb_sc_reader *r, const rd_tab *top, eb_dataset_spec *d, int *has);
static int rd_backend_options(const eb_sc_reader *r, const rd_tab *top,
                              eb_scenario_option **out, size_t *n_out);

static int rd_variant(const eb_sc_reader *r, size_t i, int list_line, eb_variant *v)
{
    lua_State *L = r->L;
    char label[32], what[32], kind[32], buf[128];
    snprintf(label, sizeof label, "variants[%zu]", i + 1);
    lua_rawgeti(L, -1, (lua_Integer)i + 1);
    if (!lua_istable(L, -1))
        return eb_sc_fail(r, list_line, "%s is %s; expected a table like { name = \"cnn\", kind "
                          "= \"original\", model = \"models/cnn.onnx\" }", label,
                          rd_desc(L, -1, buf, sizeof buf));
    rd_tab t = {lua_gettop(L), label, list_line};
    /* Its line: where variant{} was called, else the line naming it. */
    int line = 0;
    rd_mark(r, t.idx, what, sizeof what, kind, sizeof kind, &line);
    if (!line) {
        lua_pushstring(L, "name");
        if (lua_rawget(L, t.idx) == LUA_TSTRING)
            line = eb_sc_locate(r, list_line, "name", lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    t.anchor = line ? line : list_line;
    if (rd_check_keys(r, &t, rd_variant_keys, NULL, label) != 0)
        return -1;
    if (rd_string(r, &t, "name", 1, "every variant needs name = \"...\" (unique)", &v->name) ||
        rd_string(r, &t, "kind", 1,
                  "give kind = \"original\" (or quantized, pruned, distilled, lora)", &v->kind))
        return -1;
    int known = 0;
    for (size_t k = 0; eb_variant_kinds[k]; k++)
        known |= strcmp(v->kind, eb_variant_kinds[k]) == 0;
    if (!known) {
        rd_get(r, &t, "kind");
        return rd_bad_value(r, &t, "kind", "expected one of %s",
                            "original, quantized, pruned, distilled, lora");
    }
    if (rd_string(r, &t, "model", !rd_all_mock(r->s),
                  "give model = \"path/to/model.onnx\" (only scenarios whose backends are all "
                  "mock may leave it out)", &v->model) ||
        rd_string(r, &t, "base", 0, NULL, &v->base))
        return -1;
    if (v->model) {
        char tried[1024];
        char *resolved = eb_sc_resolve(r, v->model, tried, sizeof tried);
        if (!resolved) {
            rd_get(r, &t, "model");
            return eb_sc_fail(r, rd_line(r, &t, "model", -1), "%s.model: no such file: %s",
                              label, tried);
        }
        free(v->model);
        v->model = resolved;
    }
    /* Its own dataset (judged there, with its base measured there too) and options. */
    eb_dataset_spec_init(&v->dataset);
    if (rd_dataset(r, &t, &v->dataset, &v->has_dataset) ||
        rd_backend_options(r, &t, &v->options, &v->n_options))
        return -1;
    lua_pop(L, 1);
    return 0;
}

static int rd_variants(const eb_sc_reader *r, const rd_tab *top)
{
    lua_State *L = r->L;
    eb_scenario *s = r->s;
    static const char example[] = "like variants = { { name = \"cnn\", kind = \"original\", "
                                  "model = \"models/cnn.onnx\" } }";
    int ty = rd_get(r, top, "variants");
    if (ty == LUA_TNIL)
        return eb_sc_fail(r, r->scenario_line, "variants is missing; list the models to "
                          "measure, %s", example);
    if (ty != LUA_TTABLE)
        return rd_bad_type(r, top, "variants", "a list of variants");
    int list_line = eb_sc_locate(r, r->scenario_line, "variants", NULL);
    size_t n = lua_rawlen(L, -1);
    if (n == 0)
        return eb_sc_fail(r, list_line, "variants is an empty list; give at least one, %s",
                          example);
    /* A named entry (variants = { cnn = {...} }) would be silently ignored by a list read. */
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        long k;
        if (!rd_is_int(L, -1, &k) || k < 1 || (size_t)k > n) {
            char key[64];
            rd_value(L, -1, key, sizeof key);
            return eb_sc_fail(r, list_line, "variants has an entry keyed %s; variants is a list: "
                              "{ { name = ... }, { name = ... } }", key);
        }
    }
    s->variants = rd_calloc(L, n, sizeof *s->variants);
    for (size_t i = 0; i < n; i++) {
        s->n_variants = i + 1;
        if (rd_variant(r, i, list_line, &s->variants[i]) != 0)
            return -1;
        for (size_t j = 0; j < i; j++)
            if (strcmp(s->variants[j].name, s->variants[i].name) == 0)
                return eb_sc_fail(r, eb_sc_locate(r, eb_sc_locate(r, list_line, "name",
                                                                  s->variants[i].name) + 1,
                                                   "name", s->variants[i].name),
                                  "variants[%zu].name is '%s', like variants[%zu]; variant names "
                                  "must be unique", i + 1, s->variants[i].name, j + 1);
    }
    for (size_t i = 0; i < n; i++) {
        const char *base = s->variants[i].base;
        if (!base)
            continue;
        int found = 0;
        for (size_t j = 0; j < n; j++)
            found |= j != i && strcmp(s->variants[j].name, base) == 0;
        if (!found) {
            char names[512];
            const char *list[65];
            size_t m = 0;
            for (size_t j = 0; j < n && m < 64; j++)
                if (j != i)
                    list[m++] = s->variants[j].name;
            list[m] = NULL;
            rd_join(list, names, sizeof names);
            return eb_sc_fail(r, eb_sc_locate(r, list_line, "base", base),
                              "variants[%zu].base is '%s'; base must name another variant (%s)",
                              i + 1, base, m ? names : "there is none");
        }
    }
    /* Bases run before the variants derived from them, so they may not form a cycle. */
    long *base_of = rd_calloc(L, n, sizeof *base_of);
    size_t *order = calloc(n, sizeof *order), at = 0;
    if (!order) {
        free(base_of);
        return luaL_error(L, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        base_of[i] = -1;
        for (size_t j = 0; s->variants[i].base && j < n; j++)
            if (strcmp(s->variants[j].name, s->variants[i].base) == 0)
                base_of[i] = (long)j;
    }
    int cyclic = eb_fidelity_order(base_of, n, order, &at) != 0;
    if (cyclic) {
        char chain[600];
        size_t used = 0, k = at;
        chain[0] = '\0';
        do {
            int w = snprintf(chain + used, sizeof chain - used, "%s -> ", s->variants[k].name);
            if (w < 0 || (size_t)w >= sizeof chain - used)
                break;
            used += (size_t)w;
            k = (size_t)base_of[k];
        } while (k != at);
        snprintf(chain + used, sizeof chain - used, "%s", s->variants[at].name);
        free(base_of);
        free(order);
        int vline = eb_sc_locate(r, list_line, "name", s->variants[at].name);
        return eb_sc_fail(r, eb_sc_locate(r, vline, "base", s->variants[at].base),
                          "variants[%zu].base is '%s', but the bases form a cycle (%s); a base "
                          "must lead back to a variant without one", at + 1,
                          s->variants[at].base, chain);
    }
    free(base_of);
    free(order);
    lua_pop(L, 1);
    return 0;
}

/* mean/std: a number or a list of up to EB_MAX_CHANNELS numbers. */
static int rd_channels(const eb_sc_reader *r, const rd_tab *t, const char *key, double *v,
                       int *n, int positive)
{
    lua_State *L = r->L;
    char expected[96];
    snprintf(expected, sizeof expected, "a number or a list of up to %d numbers (one per "
             "channel)", EB_MAX_CHANNELS);
    int ty = rd_get(r, t, key);
    if (ty == LUA_TNIL) {
        lua_pop(L, 1);
        return 0;
    }
    if (ty != LUA_TNUMBER && ty != LUA_TTABLE)
        return rd_bad_type(r, t, key, expected);
    size_t count = ty == LUA_TNUMBER ? 1 : lua_rawlen(L, -1);
    if (count == 0 || count > EB_MAX_CHANNELS)
        return rd_bad_type(r, t, key, expected);
    for (size_t i = 0; i < count; i++) {
        if (ty == LUA_TTABLE)
            lua_rawgeti(L, -1, (lua_Integer)i + 1);
        else
            lua_pushvalue(L, -1);
        if (lua_type(L, -1) != LUA_TNUMBER)
            return rd_bad_type(r, t, key, expected);
        v[i] = lua_tonumber(L, -1);
        if (!isfinite(v[i]) || (positive && v[i] <= 0))
            return rd_bad_value(r, t, key, "%s", positive ? "every std must be > 0"
                                                          : "expected finite numbers");
        lua_pop(L, 1);
    }
    *n = (int)count;
    lua_pop(L, 1);
    return 0;
}

/* shape/reshape: a list of 1..EB_MAX_DIMS integers >= 1 (reshape may hold one -1). */
static int rd_dims(const eb_sc_reader *r, const rd_tab *t, const char *key, int allow_infer,
                   int64_t *dims, int *ndim)
{
    lua_State *L = r->L;
    char expected[128];
    snprintf(expected, sizeof expected, "a list of 1 to %d integers >= 1%s, like {1, 28, 28}",
             EB_MAX_DIMS, allow_infer ? " (one may be -1)" : "");
    int ty = rd_get(r, t, key);
    if (ty == LUA_TNIL) {
        lua_pop(L, 1);
        return 0;
    }
    size_t count = ty == LUA_TTABLE ? lua_rawlen(L, -1) : 0;
    if (count == 0 || count > EB_MAX_DIMS)
        return rd_bad_type(r, t, key, expected);
    int inferred = 0;
    for (size_t i = 0; i < count; i++) {
        lua_rawgeti(L, -1, (lua_Integer)i + 1);
        long d;
        if (!rd_is_int(L, -1, &d) || !(d >= 1 || (allow_infer && d == -1 && !inferred++))) {
            lua_pop(L, 1);
            return rd_bad_type(r, t, key, expected);
        }
        dims[i] = d;
        lua_pop(L, 1);
    }
    *ndim = (int)count;
    lua_pop(L, 1);
    return 0;
}

/* A data file: a string naming an existing file (resolved like models). */
static int rd_file(const eb_sc_reader *r, const rd_tab *t, const char *key, int required,
                   const char *hint, char **out)
{
    if (rd_string(r, t, key, required, hint, out) != 0)
        return -1;
    if (!*out)
        return 0;
    char tried[1024];
    char *resolved = eb_sc_resolve(r, *out, tried, sizeof tried);
    if (!resolved) {
        char label[160];
        rd_label(t, key, label, sizeof label);
        return eb_sc_fail(r, eb_sc_locate(r, t->anchor, key, *out), "%s: no such file: %s",
                          label, tried);
    }
    free(*out);
    *out = resolved;
    return 0;
}

/* parent.dataset (the scenario's, or a variant's own) into d; *has = 1 when present. */
static int rd_dataset(const eb_sc_reader *r, const rd_tab *top, eb_dataset_spec *d, int *has)
{
    lua_State *L = r->L;
    char dlabel[64];
    rd_label(top, "dataset", dlabel, sizeof dlabel);
    int ty = rd_get(r, top, "dataset");
    if (ty == LUA_TNIL) {
        lua_pop(L, 1);
        return 0;
    }
    static const char made[] = "make it with dataset.idx { ... }, dataset.npy { ... }, "
                               "dataset.csv { ... } or dataset.random { ... }";
    char what[32], kind[32];
    int line = 0;
    if (ty != LUA_TTABLE || !rd_mark(r, -1, what, sizeof what, kind, sizeof kind, &line) ||
        strcmp(what, "dataset") != 0) {
        char desc[128];
        return eb_sc_fail(r, eb_sc_locate(r, top->anchor, "dataset", NULL),
                          "%s is %s; %s", dlabel, ty == LUA_TTABLE ? "a plain table"
                          : rd_desc(L, -1, desc, sizeof desc), made);
    }
    if (!line)
        line = eb_sc_locate(r, top->anchor, "dataset", NULL);
    rd_tab t = {lua_gettop(L), dlabel, line};
    char where[48];
    snprintf(where, sizeof where, "dataset.%s", kind);
    const char *const *keys = strcmp(kind, "idx") == 0   ? rd_idx_keys
                              : strcmp(kind, "npy") == 0 ? rd_npy_keys
                              : strcmp(kind, "csv") == 0 ? rd_csv_keys
                                                         : rd_random_keys;
    if (rd_check_keys(r, &t, keys, rd_common_keys, where) != 0)
        return -1;
    if (rd_string(r, &t, "name", 0, NULL, &d->name) != 0)
        return -1;
    int present;
    long v;
    if (strcmp(kind, "idx") == 0) {
        d->kind = EB_DATASET_IDX;
        if (rd_file(r, &t, "images", 1, "give images = \"...-images-idx3-ubyte.gz\"",
                    &d->images) ||
            rd_file(r, &t, "labels", 0, NULL, &d->labels))
            return -1;
    } else if (strcmp(kind, "npy") == 0) {
        d->kind = EB_DATASET_NPY;
        if (rd_file(r, &t, "x", 1, "give x = \"samples.npy\" (N x ...)", &d->x) ||
            rd_file(r, &t, "y", 0, NULL, &d->y))
            return -1;
    } else if (strcmp(kind, "csv") == 0) {
        d->kind = EB_DATASET_CSV;
        if (rd_file(r, &t, "path", 1, "give path = \"data.csv\"", &d->path) ||
            rd_bool(r, &t, "header", &d->header))
            return -1;
        ty = rd_get(r, &t, "label");
        if (ty == LUA_TSTRING && lua_tostring(L, -1)[0]) {
            d->label_column = rd_strdup(L, lua_tostring(L, -1));
        } else if (ty == LUA_TNUMBER && rd_is_int(L, -1, &v) && v >= 0) {
            char num[32];
            snprintf(num, sizeof num, "%ld", v);
            d->label_column = rd_strdup(L, num);
        } else if (ty != LUA_TNIL) {
            return rd_bad_type(r, &t, "label", "a column name or a 0-based column index");
        }
        lua_pop(L, 1);
    } else {
        d->kind = EB_DATASET_RANDOM;
        if (rd_get(r, &t, "shape") == LUA_TNIL)
            return rd_missing(r, &t, "shape", "give the per-sample shape, like shape = {1, 28, "
                              "28}");
        lua_pop(L, 1);
        if (rd_dims(r, &t, "shape", 0, d->shape, &d->ndim) != 0)
            return -1;
        if (rd_int(r, &t, "count", 1, &v, &present) != 0)
            return -1;
        if (present)
            d->count = v;
        if (rd_int(r, &t, "seed", 0, &v, &present) != 0)
            return -1;
        if (present)
            d->seed = (uint64_t)v;
    }
    if (rd_number(r, &t, "scale", &d->scale, &present) ||
        rd_channels(r, &t, "mean", d->mean, &d->n_mean, 0) ||
        rd_channels(r, &t, "std", d->std, &d->n_std, 1) ||
        rd_dims(r, &t, "reshape", 1, d->reshape, &d->reshape_ndim) ||
        rd_int(r, &t, "limit", 0, &v, &present))
        return -1;
    if (present)
        d->limit = v;
    *has = 1;
    lua_pop(L, 1);
    return 0;
}

static int rd_measure(const eb_sc_reader *r, const rd_tab *top)
{
    eb_measure *m = &r->s->measure;
    *m = (eb_measure){.warmup_s = 0.5, .min_iterations = 100, .min_time_s = 1,
                      .max_time_s = 30, .accuracy = 1, .timeout_s = -1};
    char label[32];
    rd_tab t;
    int rc = rd_subtable(r, top, "measure", label, sizeof label, &t);
    if (rc <= 0)
        return rc;
    int p, has_max = 0, has_precision = 0;
    if (rd_check_keys(r, &t, rd_measure_keys, NULL, "measure") ||
        rd_duration(r, &t, "warmup", &m->warmup_s, &p) ||
        rd_int(r, &t, "min_iterations", 1, &m->min_iterations, &p) ||
        rd_duration(r, &t, "min_time", &m->min_time_s, &p) ||
        rd_duration(r, &t, "max_time", &m->max_time_s, &has_max) ||
        rd_bool(r, &t, "accuracy", &m->accuracy) ||
        rd_duration(r, &t, "timeout", &m->timeout_s, &p) ||
        rd_number(r, &t, "precision", &m->precision, &has_precision) ||
        rd_bool(r, &t, "profile", &m->profile))
        return -1;
    if (has_precision && !(m->precision > 0 && m->precision < 1)) {
        rd_get(r, &t, "precision");
        return rd_bad_value(r, &t, "precision", "%s", "expected a fraction like 0.02 (2%)");
    }
    if (m->min_time_s > m->max_time_s) {
        if (has_max)
            return eb_sc_fail(r, eb_sc_locate(r, t.anchor, "max_time", NULL),
                              "measure.max_time (%g s) is shorter than measure.min_time (%g s); "
                              "max_time caps the timed loop, so make it at least min_time",
                              m->max_time_s, m->min_time_s);
        m->max_time_s = m->min_time_s; /* the default cap must not undercut an explicit min */
    }
    if (p && m->timeout_s <= 0)
        return eb_sc_fail(r, eb_sc_locate(r, t.anchor, "timeout", NULL),
                          "measure.timeout is 0; give a positive duration like \"5m\"");
    lua_pop(r->L, 1);
    return 0;
}

/* mode = "single_stream" | "offline" | "server", or a list of them (a sweep dimension). */
static int rd_modes(const eb_sc_reader *r, const rd_tab *top)
{
    eb_scenario *s = r->s;
    char **names = NULL;
    size_t n = 0;
    if (rd_str_list(r, top, "mode", "single_stream", &names, &n) != 0)
        return -1;
    s->modes = calloc(n, sizeof *s->modes);
    s->n_modes = n;
    for (size_t i = 0; i < n; i++) {
        if (!s->modes || eb_load_mode_parse(names[i], &s->modes[i]) != 0) {
            int line = eb_sc_locate(r, top->anchor, "mode", names[i]);
            int rc = eb_sc_fail(r, line, "mode '%s' is not a load pattern; expected "
                                "single_stream, offline or server", names[i]);
            for (size_t j = 0; j < n; j++)
                free(names[j]);
            free(names);
            return rc;
        }
    }
    for (size_t j = 0; j < n; j++)
        free(names[j]);
    free(names);
    return 0;
}

/* server = { target_qps, p99_ms, duration, search }: required when a mode is "server". */
static int rd_server(const eb_sc_reader *r, const rd_tab *top)
{
    eb_server_spec *sv = &r->s->server;
    char label[32];
    rd_tab t;
    int p, wants_server = 0;
    *sv = (eb_server_spec){.duration_s = 5};
    for (size_t i = 0; i < r->s->n_modes; i++)
        wants_server |= r->s->modes[i] == EB_MODE_SERVER;
    int rc = rd_subtable(r, top, "server", label, sizeof label, &t);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return wants_server ? rd_missing(r, top, "server", "mode \"server\" needs server = { "
                                         "target_qps = 100, p99_ms = 10 } (or search = true)")
                            : 0;
    if (rd_check_keys(r, &t, rd_server_keys, NULL, "server") ||
        rd_number(r, &t, "target_qps", &sv->target_qps, &p) ||
        rd_number(r, &t, "p99_ms", &sv->p99_ms, &p) ||
        rd_duration(r, &t, "duration", &sv->duration_s, &p) ||
        rd_bool(r, &t, "search", &sv->search))
        return -1;
    if (sv->target_qps < 0 || sv->p99_ms < 0 || sv->duration_s <= 0)
        return eb_sc_fail(r, t.anchor, "server: target_qps and p99_ms must be positive and "
                          "duration longer than 0");
    if (sv->target_qps == 0 && !sv->search)
        return eb_sc_fail(r, t.anchor, "server needs target_qps (queries per second), or "
                          "search = true to find the highest rate that keeps p99_ms");
    if (sv->search && sv->p99_ms <= 0)
        return eb_sc_fail(r, t.anchor, "server.search needs p99_ms, the bound it searches under");
    lua_pop(r->L, 1);
    return 0;
}

/* cooldown = { below_c = 55, within_c_of_idle = 3, max_wait = "120s" }: absent keys are not
 * checked (see cooldown.h). */
static int rd_cooldown(const eb_sc_reader *r, const rd_tab *top)
{
    eb_cooldown_cfg *c = &r->s->cooldown;
    char label[32];
    rd_tab t;
    int has_below = 0, has_idle = 0, p;
    eb_err e;
    eb_cooldown_defaults(c);
    int rc = rd_subtable(r, top, "cooldown", label, sizeof label, &t);
    if (rc <= 0)
        return rc;
    if (rd_check_keys(r, &t, rd_cooldown_keys, NULL, "cooldown") ||
        rd_number(r, &t, "below_c", &c->below_c, &has_below) ||
        rd_number(r, &t, "within_c_of_idle", &c->within_c_of_idle, &has_idle) ||
        rd_duration(r, &t, "max_wait", &c->max_wait_s, &p) ||
        rd_duration(r, &t, "poll", &c->poll_s, &p))
        return -1;
    if (!has_below)
        c->below_c = NAN;
    if (!has_idle)
        c->within_c_of_idle = NAN;
    if (eb_cooldown_check(c, &e) != 0)
        return eb_sc_fail(r, t.anchor, "cooldown: %s", e.msg);
    r->s->has_cooldown = 1;
    lua_pop(r->L, 1);
    return 0;
}

/* energy = { meter, command, rails, read, unit, idle }: the meter itself is probed by the
 * runner (a named meter this device lacks is an error there, with the probe's reason). */
static int rd_energy(const eb_sc_reader *r, const rd_tab *top)
{
    eb_energy_spec *e = &r->s->energy;
    char label[32];
    rd_tab t;
    int p;
    e->idle_s = r->quick ? 0.2 : 1.0;
    int rc = rd_subtable(r, top, "energy", label, sizeof label, &t);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        e->meter = rd_strdup(r->L, "auto");
        return 0;
    }
    char *unit = NULL;
    if (rd_check_keys(r, &t, rd_energy_keys, NULL, "energy") ||
        rd_string(r, &t, "meter", 0, NULL, &e->meter) ||
        rd_string(r, &t, "command", 0, NULL, &e->command) ||
        rd_string(r, &t, "rails", 0, NULL, &e->rails) ||
        rd_string(r, &t, "unit", 0, NULL, &unit) ||
        rd_duration(r, &t, "idle", &e->idle_s, &p))
        return -1;
    if (r->quick && e->idle_s > 0.2)
        e->idle_s = 0.2;
    if (!e->meter)
        e->meter = rd_strdup(r->L, e->command ? "command" : "auto");
    e->read_joules = unit && strcmp(unit, "joules") == 0;
    int bad_unit = unit && strcmp(unit, "joules") != 0 && strcmp(unit, "watts") != 0;
    free(unit);
    if (bad_unit)
        return eb_sc_fail(r, eb_sc_locate(r, t.anchor, "unit", NULL),
                          "energy.unit must be \"watts\" (read returns power) or \"joules\" "
                          "(read returns a cumulative counter)");
    int ty = rd_get(r, &t, "read");
    if (ty == LUA_TFUNCTION) {
        e->ref_read = luaL_ref(r->L, LUA_REGISTRYINDEX);
        if (strcmp(e->meter, "auto") == 0) {
            free(e->meter);
            e->meter = rd_strdup(r->L, "lua");
        }
    } else if (ty != LUA_TNIL) {
        return rd_bad_type(r, &t, "read", "a function returning watts or joules");
    } else {
        lua_pop(r->L, 1);
    }
    if (strcmp(e->meter, "lua") == 0 && e->ref_read == LUA_NOREF)
        return eb_sc_fail(r, t.anchor, "energy.meter = \"lua\" needs energy.read = function() "
                          "return watts end");
    if (strcmp(e->meter, "command") == 0 && !e->command)
        return eb_sc_fail(r, t.anchor, "energy.meter = \"command\" needs energy.command, e.g. "
                          "\"vcgencmd pmic_read_adc\"");
    lua_pop(r->L, 1);
    return 0;
}

/* Every cores spec must name cores this device has ("all", "big", "little", "0,2", "1-3"). */
static int rd_cores_check(const eb_sc_reader *r, const rd_tab *top)
{
    eb_err e;
    for (size_t i = 0; i < r->s->n_cores; i++)
        if (eb_device_cores_check(r->s->cores[i], &e) != 0)
            return eb_sc_fail(r, eb_sc_locate(r, top->anchor, "cores", r->s->cores[i]), "%s",
                              e.msg);
    return 0;
}

static int rd_option_cmp(const void *a, const void *b)
{
    const eb_scenario_option *x = a, *y = b;
    int c = strcmp(x->backend, y->backend);
    return c ? c : strcmp(x->key, y->key);
}

/* backend_options = { mock = { latency_ms = 2 } }: values become text for the backend. */
static int rd_backend_options(const eb_sc_reader *r, const rd_tab *top,
                              eb_scenario_option **out, size_t *n_out)
{
    lua_State *L = r->L;
    char label[64];
    rd_tab t;
    int rc = rd_subtable(r, top, "backend_options", label, sizeof label, &t);
    if (rc <= 0)
        return rc;
    size_t cap = 0;
    lua_pushnil(L);
    while (lua_next(L, t.idx)) {
        if (lua_type(L, -2) != LUA_TSTRING)
            return eb_sc_fail(r, t.anchor, "%s has an entry without a backend name; write "
                              "backend_options = { mock = { latency_ms = 2 } }", label);
        const char *bname = lua_tostring(L, -2);
        const eb_backend_i *b = eb_backend_find(bname);
        if (!b) {
            char names[256];
            eb_backend_names(names, sizeof names);
            return eb_sc_fail(r, eb_sc_locate(r, t.anchor, bname, NULL),
                              "%s.%s: '%s' is not a backend; known backends: %s", label,
                              bname, bname, names);
        }
        char sub_label[128];
        snprintf(sub_label, sizeof sub_label, "%s.%s", label, bname);
        if (!lua_istable(L, -1)) {
            rd_tab bt = {t.idx, label, t.anchor};
            return rd_bad_type(r, &bt, bname, "a table of options, like { threads_spin = 1 }");
        }
        rd_tab bt = {lua_gettop(L), sub_label, eb_sc_locate(r, t.anchor, bname, NULL)};
        /* Backends that declare their options get typos caught here. */
        if (b->options) {
            const char *known[64];
            size_t m = 0;
            for (size_t i = 0; b->options[i].key && m < 63; i++)
                known[m++] = b->options[i].key;
            known[m] = NULL;
            lua_pushnil(L);
            if (m == 0 && lua_next(L, bt.idx) == 0) {
                /* an empty table for a backend without options is harmless */
            } else if (m == 0) {
                return eb_sc_fail(r, bt.anchor, "backend %s takes no options (see edgebench "
                                  "help %s)", bname, bname);
            } else if (lua_settop(L, bt.idx), rd_check_keys(r, &bt, known, NULL, sub_label)) {
                return -1;
            }
        }
        lua_pushnil(L);
        while (lua_next(L, bt.idx)) {
            if (lua_type(L, -2) != LUA_TSTRING)
                return eb_sc_fail(r, bt.anchor, "%s has an entry without a name; write key = "
                                  "value", sub_label);
            const char *key = lua_tostring(L, -2);
            char text[512];
            int vt = lua_type(L, -1);
            if (vt == LUA_TSTRING)
                snprintf(text, sizeof text, "%s", lua_tostring(L, -1));
            else if (vt == LUA_TNUMBER)
                rd_number_text(L, -1, text, sizeof text);
            else if (vt == LUA_TBOOLEAN)
                snprintf(text, sizeof text, "%s", lua_toboolean(L, -1) ? "true" : "false");
            else
                return rd_bad_type(r, &bt, key, "a string, a number or a boolean");
            if (*n_out == cap) {
                cap = cap ? 2 * cap : 8;
                eb_scenario_option *bigger = realloc(*out, cap * sizeof *bigger);
                if (!bigger)
                    return luaL_error(L, "out of memory");
                *out = bigger;
            }
            eb_scenario_option *o = &(*out)[*n_out];
            *o = (eb_scenario_option){0};
            (*n_out)++;
            o->backend = rd_strdup(L, bname);
            o->key = rd_strdup(L, key);
            o->value = rd_strdup(L, text);
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    /* Lua's table order is not stable across runs; results should be. */
    if (*n_out)
        qsort(*out, *n_out, sizeof **out, rd_option_cmp);
    lua_pop(L, 1);
    return 0;
}

static int rd_constraints(const eb_sc_reader *r, const rd_tab *top)
{
    lua_State *L = r->L;
    eb_scenario *s = r->s;
    char label[32];
    rd_tab t;
    int rc = rd_subtable(r, top, "constraints", label, sizeof label, &t);
    if (rc <= 0)
        return rc;
    if (rd_check_keys(r, &t, rd_constraint_keys, NULL, "constraints") != 0)
        return -1;
    s->constraints = rd_calloc(L, sizeof rd_constraint_keys / sizeof rd_constraint_keys[0],
                               sizeof *s->constraints);
    for (size_t i = 0; rd_constraint_keys[i]; i++) {
        double v;
        int p;
        if (rd_number(r, &t, rd_constraint_keys[i], &v, &p) != 0)
            return -1;
        if (!p)
            continue;
        if (v < 0) {
            rd_get(r, &t, rd_constraint_keys[i]);
            return rd_bad_value(r, &t, rd_constraint_keys[i], "expected a number >= 0%s", "");
        }
        s->constraints[s->n_constraints].key = rd_strdup(L, rd_constraint_keys[i]);
        s->constraints[s->n_constraints++].value = v;
    }
    lua_pop(L, 1);
    return 0;
}

/* objective = "latency" (default) | "energy" | "size": what the recommendation minimises. */
static int rd_objective(const eb_sc_reader *r, const rd_tab *top)
{
    eb_scenario *s = r->s;
    if (rd_string(r, top, "objective", 0, NULL, &s->objective) != 0)
        return -1;
    if (!s->objective) {
        s->objective = rd_strdup(r->L, "latency");
        return 0;
    }
    for (size_t i = 0; rd_objectives[i]; i++)
        if (strcmp(s->objective, rd_objectives[i]) == 0)
            return 0;
    return eb_sc_fail(r, eb_sc_locate(r, top->anchor, "objective", s->objective),
                      "objective is '%s'; expected latency, energy or size", s->objective);
}

/* Hooks: a function under the scenario's key, else a global function of that name. */
static int rd_hook(const eb_sc_reader *r, const rd_tab *top, const char *key, int *ref)
{
    lua_State *L = r->L;
    int ty = rd_get(r, top, key);
    if (ty == LUA_TNIL) {
        lua_pop(L, 1);
        if (lua_getglobal(L, key) != LUA_TFUNCTION) {
            lua_pop(L, 1);
            return 0;
        }
    } else if (ty != LUA_TFUNCTION) {
        return rd_bad_type(r, top, key, "a function");
    }
    *ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

static void rd_value_text(lua_State *L, int i, char *buf, size_t n)
{
    if (lua_type(L, i) == LUA_TNUMBER)
        rd_number_text(L, i, buf, n);
    else if (lua_type(L, i) == LUA_TBOOLEAN)
        snprintf(buf, n, "%s", lua_toboolean(L, i) ? "true" : "false");
    else
        snprintf(buf, n, "%s", lua_tostring(L, i) ? lua_tostring(L, i) : "");
}

/* The options option() declared, and a check that every --set names one of them. */
static int rd_params(const eb_sc_reader *r)
{
    lua_State *L = r->L;
    eb_scenario *s = r->s;
    lua_getfield(L, LUA_REGISTRYINDEX, EB_SC_PRIVATE);
    int priv = lua_gettop(L);
    lua_getfield(L, priv, "options");
    size_t n = lua_rawlen(L, -1);
    s->params = rd_calloc(L, n, sizeof *s->params);
    for (size_t i = 0; i < n; i++) {
        eb_scenario_param *p = &s->params[i];
        char text[1024];
        lua_rawgeti(L, -1, (lua_Integer)i + 1);
        s->n_params = i + 1;
        lua_getfield(L, -1, "name");
        p->name = rd_strdup(L, lua_tostring(L, -1));
        lua_getfield(L, -2, "type");
        p->type = rd_strdup(L, lua_tostring(L, -1));
        lua_getfield(L, -3, "help");
        p->help = rd_strdup(L, lua_tostring(L, -1) ? lua_tostring(L, -1) : "");
        lua_getfield(L, -4, "default");
        rd_value_text(L, -1, text, sizeof text);
        p->default_value = rd_strdup(L, text);
        lua_getfield(L, -5, "value");
        rd_value_text(L, -1, text, sizeof text);
        p->value = rd_strdup(L, text);
        lua_pop(L, 6);
    }
    lua_pop(L, 1);
    /* A --set nobody declared is a typo or the wrong scenario; name the bad key and the
     * declared ones, sorted so the message is stable. */
    lua_getfield(L, priv, "settings");
    lua_getfield(L, priv, "declared");
    char bad[128] = "";
    lua_pushnil(L);
    while (lua_next(L, -3)) {
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        if (lua_rawget(L, -3) == LUA_TNIL) {
            const char *k = lua_tostring(L, -2);
            if (!bad[0] || strcmp(k, bad) < 0)
                snprintf(bad, sizeof bad, "%s", k);
        }
        lua_pop(L, 1);
    }
    lua_settop(L, priv - 1);
    if (!bad[0])
        return 0;
    if (s->n_params == 0)
        return eb_sc_fail(r, 0, "--set %s: this scenario declares no options (a scenario "
                          "declares one with option(\"%s\", default, \"help\"))", bad, bad);
    char list[600];
    const char *names[65];
    size_t m = 0;
    for (size_t i = 0; i < s->n_params && m < 64; i++)
        names[m++] = s->params[i].name;
    names[m] = NULL;
    rd_join(names, list, sizeof list);
    return eb_sc_fail(r, 0, "--set %s: this scenario has no option '%s'; its options: %s", bad,
                      bad, list);
}

/* --quick: a whole scenario in seconds (for CI and tests). */
static void rd_apply_quick(eb_scenario *s)
{
    eb_measure *m = &s->measure;
    m->warmup_s = 0.05;
    if (m->min_iterations > 20)
        m->min_iterations = 20;
    if (m->max_time_s > 2)
        m->max_time_s = 2;
    m->min_time_s = m->max_time_s < 0.2 ? m->max_time_s : 0.2;
    if (s->has_dataset && (s->dataset.limit == 0 || s->dataset.limit > 500))
        s->dataset.limit = 500;
    for (size_t i = 0; i < s->n_variants; i++)
        if (s->variants[i].has_dataset &&
            (s->variants[i].dataset.limit == 0 || s->variants[i].dataset.limit > 500))
            s->variants[i].dataset.limit = 500;
}

int eb_sc_read(eb_sc_reader *r)
{
    lua_State *L = r->L;
    eb_scenario *s = r->s;
    rd_tab top = {lua_gettop(L), "", r->scenario_line};
    if (rd_check_keys(r, &top, rd_top_keys, NULL, "the scenario") != 0)
        return -1;
    if (rd_string(r, &top, "name", 1, "every scenario needs name = \"...\" (it names the "
                  "results directory)", &s->name) ||
        rd_string(r, &top, "description", 0, NULL, &s->description))
        return -1;
    for (const char *c = s->name; *c; c++)
        if (*c == '/' || iscntrl((unsigned char)*c) || strcmp(s->name, "..") == 0 ||
            strcmp(s->name, ".") == 0) {
            rd_get(r, &top, "name");
            return rd_bad_value(r, &top, "name", "%s", "the name becomes a directory name, so "
                                "it may not contain '/' or be '.' or '..'");
        }
    if (rd_params(r) || rd_backends(r, &top) || rd_variants(r, &top) ||
        rd_dataset(r, &top, &s->dataset, &s->has_dataset) ||
        rd_int_list(r, &top, "threads", 1, 1024, 1, &s->threads, &s->n_threads) ||
        rd_str_list(r, &top, "cores", "all", &s->cores, &s->n_cores) || rd_cores_check(r, &top) ||
        rd_int_list(r, &top, "batch", 1, 1 << 20, 1, &s->batches, &s->n_batches) ||
        rd_measure(r, &top) || rd_string(r, &top, "output", 0, NULL, &s->output) ||
        rd_backend_options(r, &top, &s->options, &s->n_options) || rd_constraints(r, &top) || rd_modes(r, &top) ||
        rd_server(r, &top) || rd_cooldown(r, &top) || rd_energy(r, &top) ||
        rd_objective(r, &top) ||
        rd_hook(r, &top, "setup", &s->ref_setup) ||
        rd_hook(r, &top, "on_trial", &s->ref_on_trial) ||
        rd_hook(r, &top, "done", &s->ref_done))
        return -1;
    if (!s->output) {
        size_t n = strlen("results/") + strlen(s->name) + 1;
        s->output = rd_calloc(L, n, 1);
        snprintf(s->output, n, "results/%s", s->name);
    }
    if (r->quick)
        rd_apply_quick(s);
    if (s->measure.timeout_s < 0)
        s->measure.timeout_s = s->measure.max_time_s + 120;
    return 0;
}
