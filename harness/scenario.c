/* Scenarios: the Lua state, the prelude, loading a scenario file, hooks, and the file:line
 * finder behind every message.  Reading the returned table into an eb_scenario lives in
 * scenario_read.c.
 *
 * Every failure is one line "FILE:LINE: what; fix".  Lua errors get there through one message
 * handler (sc_msgh) that keeps Lua's own file:line, adds one when the error has none, and
 * folds the message onto a single line; checks on the table get their line from where the
 * prelude's constructors were called, refined by searching the file's text for the key or
 * value at fault (tables have no line information of their own in Lua).
 */
#include "scenario.h"

#include <ctype.h>
#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "results.h"
#include "scenario_read.h"

extern const char eb_lua_prelude[]; /* build/gen/lua_prelude.c, from harness/lua/prelude.lua */

const char *const eb_variant_kinds[] = {"original", "quantized", "pruned", "distilled", "lora",
                                        NULL};

/* ---- messages ------------------------------------------------------------------------ */

int eb_sc_fail(const eb_sc_reader *r, int line, const char *fmt, ...)
{
    char msg[sizeof r->err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (line > 0)
        return eb_errf(r->err, "%s:%d: %s", r->path, line, msg);
    return eb_errf(r->err, "%s: %s", r->path, msg);
}

/* Lua shortens long chunk names to "...tail" (LUA_IDSIZE); messages should name the file as
 * the user gave it.  Also folds the message onto one line. */
static void sc_tidy_message(const char *msg, const char *path, char *out, size_t n)
{
    size_t plen = strlen(path);
    if (strncmp(msg, "...", 3) == 0) {
        const char *colon = strchr(msg + 3, ':');
        size_t tail = colon ? (size_t)(colon - (msg + 3)) : 0;
        if (colon && tail <= plen && strncmp(path + plen - tail, msg + 3, tail) == 0) {
            snprintf(out, n, "%s%s", path, colon);
            goto fold;
        }
    }
    snprintf(out, n, "%s", msg);
fold:
    for (char *p = out; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
}

/* Does msg start with "SOMETHING:DIGITS:" (a position Lua or the prelude already added)? */
static int sc_has_position(const char *msg)
{
    const char *c = strchr(msg, ':');
    while (c) {
        const char *d = c + 1;
        if (isdigit((unsigned char)*d)) {
            while (isdigit((unsigned char)*d))
                d++;
            if (*d == ':')
                return 1;
        }
        if (c - msg > 4096)
            break;
        c = strchr(c + 1, ':');
    }
    return 0;
}

/* The message handler for every pcall: returns the error as one string carrying file:line.
 * Errors raised without a position (error(x, 0), a non-string error value, errors from C
 * functions) get the innermost position in the user's code (the prelude's frames are skipped:
 * its errors are about the caller), or at least the scenario's file name (upvalue 1). */
static int sc_msgh(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (!msg) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            msg = lua_tostring(L, -1);
        else
            msg = lua_pushfstring(L, "error object is a %s value", luaL_typename(L, 1));
    }
    if (!sc_has_position(msg)) {
        lua_Debug ar;
        int found = 0;
        for (int level = 1; !found && lua_getstack(L, level, &ar); level++) {
            if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0 &&
                strcmp(ar.source, "=prelude") != 0) {
                msg = lua_pushfstring(L, "%s:%d: %s", ar.short_src, ar.currentline, msg);
                found = 1;
            }
        }
        if (!found)
            msg = lua_pushfstring(L, "%s: %s", lua_tostring(L, lua_upvalueindex(1)), msg);
    }
    return 1;
}

/* Calls the function below nargs arguments on the stack under the message handler; on error
 * writes the tidied one-line message to err. */
static int sc_pcall(lua_State *L, const char *path, int nargs, int nresults, eb_err *err)
{
    int base = lua_gettop(L) - nargs;
    lua_pushstring(L, path);
    lua_pushcclosure(L, sc_msgh, 1);
    lua_insert(L, base);
    int rc = lua_pcall(L, nargs, nresults, base);
    lua_remove(L, base);
    if (rc != LUA_OK) {
        char msg[sizeof err->msg];
        const char *m = lua_tostring(L, -1);
        sc_tidy_message(m ? m : "unknown Lua error", path, msg, sizeof msg);
        lua_pop(L, 1);
        return eb_errf(err, "%s", msg);
    }
    return 0;
}

/* ---- finding lines in the file's text ------------------------------------------------- */

static int sc_ident_char(int c)
{
    return isalnum(c) || c == '_';
}

/* Length of the line's code, stopping at a "--" comment outside string literals. */
static size_t sc_code_len(const char *line, size_t len)
{
    char quote = 0;
    for (size_t i = 0; i < len; i++) {
        char c = line[i];
        if (quote) {
            if (c == '\\')
                i++;
            else if (c == quote)
                quote = 0;
        } else if (c == '"' || c == '\'') {
            quote = c;
        } else if (c == '-' && i + 1 < len && line[i + 1] == '-') {
            return i;
        }
    }
    return len;
}

/* Does the line assign `key` (key = ..., not key == ...)?  Also matches "local key =". */
static int sc_line_assigns(const char *line, size_t len, const char *key)
{
    size_t klen = strlen(key);
    for (size_t i = 0; i + klen <= len; i++) {
        if (memcmp(line + i, key, klen) != 0)
            continue;
        if (i > 0 && (sc_ident_char((unsigned char)line[i - 1]) || line[i - 1] == '.'))
            continue;
        size_t j = i + klen;
        if (j < len && sc_ident_char((unsigned char)line[j]))
            continue;
        while (j < len && (line[j] == ' ' || line[j] == '\t'))
            j++;
        if (j < len && line[j] == '=' && (j + 1 >= len || line[j + 1] != '='))
            return 1;
    }
    return 0;
}

/* Does the line hold the string literal "sval" or 'sval'? */
static int sc_line_has_literal(const char *line, size_t len, const char *sval)
{
    size_t vlen = strlen(sval);
    for (size_t i = 0; i + vlen + 2 <= len; i++) {
        char q = line[i];
        if ((q == '"' || q == '\'') && memcmp(line + i + 1, sval, vlen) == 0 &&
            line[i + 1 + vlen] == q)
            return 1;
    }
    return 0;
}

/* Does the line call a constructor: "scenario {", "scenario(", "dataset.idx {" ...? */
static int sc_line_calls(const char *line, size_t len, const char *fn)
{
    size_t flen = strlen(fn);
    for (size_t i = 0; i + flen <= len; i++) {
        if (memcmp(line + i, fn, flen) != 0)
            continue;
        if (i > 0 && (sc_ident_char((unsigned char)line[i - 1]) || line[i - 1] == '.'))
            continue;
        size_t j = i + flen;
        while (j < len && (line[j] == ' ' || line[j] == '\t'))
            j++;
        if (j < len && (line[j] == '{' || line[j] == '('))
            return 1;
    }
    return 0;
}

static int sc_scan(const eb_sc_reader *r, int from, const char *key, const char *sval,
                   const char *call)
{
    for (int ln = from < 1 ? 1 : from; ln <= r->n_lines; ln++) {
        const char *line = r->text + r->line_at[ln - 1];
        size_t end = ln < r->n_lines ? r->line_at[ln] : strlen(r->text);
        size_t len = sc_code_len(line, end - r->line_at[ln - 1]);
        if (call && !sc_line_calls(line, len, call))
            continue;
        if (key && !sc_line_assigns(line, len, key))
            continue;
        if (sval && !sc_line_has_literal(line, len, sval))
            continue;
        return ln;
    }
    return 0;
}

int eb_sc_locate(const eb_sc_reader *r, int from, const char *key, const char *sval)
{
    if (!r->text)
        return from;
    /* Most specific first: the key with its value, then the value (more distinctive than a
     * key like "name"), then the key; each from `from` on, then from the top. */
    const int starts[2] = {from, 1};
    for (int pass = 0; pass < 2; pass++) {
        int ln = 0;
        if (key && sval)
            ln = sc_scan(r, starts[pass], key, sval, NULL);
        if (!ln && sval)
            ln = sc_scan(r, starts[pass], NULL, sval, NULL);
        if (!ln && key)
            ln = sc_scan(r, starts[pass], key, NULL, NULL);
        if (ln)
            return ln;
        if (from <= 1)
            break;
    }
    return from;
}

/* ---- paths ---------------------------------------------------------------------------- */

static int sc_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && !S_ISDIR(st.st_mode);
}

char *eb_sc_resolve(const eb_sc_reader *r, const char *p, char *tried, size_t n)
{
    if (p[0] == '/' || sc_exists(p)) {
        if (sc_exists(p))
            return strdup(p);
        snprintf(tried, n, "%s", p);
        return NULL;
    }
    if (strcmp(r->dir, ".") == 0) {
        snprintf(tried, n, "%s", p);
        return NULL;
    }
    size_t len = strlen(r->dir) + 1 + strlen(p) + 1;
    char *joined = malloc(len);
    if (!joined)
        return NULL;
    snprintf(joined, len, "%s/%s", r->dir, p);
    if (sc_exists(joined))
        return joined;
    snprintf(tried, n, "%s (from the current directory) or %s (from the scenario's)", p, joined);
    free(joined);
    return NULL;
}

/* ---- loading -------------------------------------------------------------------------- */

static char *sc_read_text(const char *path, eb_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        eb_errf(err, "%s: cannot read the scenario: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + len, 1, cap - len - 1, f)) > 0;) {
        len += got;
        if (cap - len - 1 == 0) {
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        free(buf);
        eb_errf(err, "%s: cannot read the scenario: %s", path, bad ? "read error" : "out of memory");
        return NULL;
    }
    buf[len] = '\0';
    return buf;
}

static int sc_index_lines(eb_sc_reader *r)
{
    size_t n = 1;
    for (const char *p = r->text; *p; p++)
        n += *p == '\n';
    r->line_at = malloc(n * sizeof *r->line_at);
    if (!r->line_at)
        return -1;
    r->n_lines = 0;
    r->line_at[r->n_lines++] = 0;
    for (const char *p = r->text; *p; p++)
        if (*p == '\n' && p[1])
            r->line_at[r->n_lines++] = (size_t)(p + 1 - r->text);
    return 0;
}

static char *sc_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

/* The protected part of reading: the table is at index 2, the reader at index 1. */
static int sc_read_protected(lua_State *L)
{
    eb_sc_reader *r = lua_touserdata(L, 1);
    lua_settop(L, 2);
    lua_pushboolean(L, eb_sc_read(r) == 0);
    return 1;
}

int eb_scenario_load(const char *path, const eb_setting *sets, size_t n_sets, int quick,
                     eb_scenario *s, eb_err *err)
{
    eb_err scratch;
    if (!err)
        err = &scratch;
    memset(s, 0, sizeof *s);
    s->ref_setup = s->ref_on_trial = s->ref_done = LUA_NOREF;
    s->energy.ref_read = LUA_NOREF;
    eb_dataset_spec_init(&s->dataset);
    eb_sc_reader r = {.s = s, .err = err, .path = path, .quick = quick};
    int rc = -1;

    s->path = strdup(path);
    r.dir = sc_dirname(path);
    if (!s->path || !r.dir) {
        eb_errf(err, "%s: out of memory", path);
        goto out;
    }
    if (!(r.text = sc_read_text(path, err)))
        goto out;
    if (sc_index_lines(&r) != 0) {
        eb_errf(err, "%s: out of memory", path);
        goto out;
    }
    lua_State *L = s->L = r.L = luaL_newstate();
    if (!L) {
        eb_errf(err, "%s: cannot create a Lua state (out of memory)", path);
        goto out;
    }
    luaL_openlibs(L);

    /* The private table shared with the prelude: settings in, marks and options out. */
    lua_newtable(L);
    lua_newtable(L);
    for (size_t i = 0; i < n_sets; i++) {
        lua_pushstring(L, sets[i].value ? sets[i].value : "");
        lua_setfield(L, -2, sets[i].key);
    }
    lua_setfield(L, -2, "settings");
    lua_pushboolean(L, quick);
    lua_setfield(L, -2, "quick");
    lua_newtable(L);
    lua_setfield(L, -2, "rows");
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, EB_SC_PRIVATE);

    if (luaL_loadbufferx(L, eb_lua_prelude, strlen(eb_lua_prelude), "=prelude", "t") != LUA_OK) {
        eb_errf(err, "edgebench's Lua prelude does not compile: %s", lua_tostring(L, -1));
        goto out;
    }
    lua_insert(L, -2);
    if (sc_pcall(L, path, 1, 0, err) != 0) {
        eb_err_prefix(err, "edgebench's Lua prelude failed");
        goto out;
    }

    /* The scenario itself. */
    int st = luaL_loadfilex(L, path, "t");
    if (st != LUA_OK) {
        char msg[sizeof err->msg];
        sc_tidy_message(lua_tostring(L, -1), path, msg, sizeof msg);
        eb_errf(err, "%s", msg);
        goto out;
    }
    if (sc_pcall(L, path, 0, 1, err) != 0)
        goto out;

    /* A file that only calls scenario { ... } without returning it still declares one. */
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_getfield(L, LUA_REGISTRYINDEX, EB_SC_PRIVATE);
        lua_getfield(L, -1, "last_scenario");
        lua_remove(L, -2);
    }
    if (lua_istable(L, -1)) {
        lua_getfield(L, LUA_REGISTRYINDEX, EB_SC_PRIVATE);
        lua_getfield(L, -1, "marks");
        lua_pushvalue(L, -3);
        if (lua_rawget(L, -2) == LUA_TTABLE) {
            if (lua_getfield(L, -1, "line") == LUA_TNUMBER)
                r.scenario_line = (int)lua_tointeger(L, -1);
            lua_pop(L, 1);
        }
        lua_pop(L, 3);
    }
    if (!r.scenario_line) {
        int ln = sc_scan(&r, 1, NULL, NULL, "scenario");
        r.scenario_line = ln ? ln : 1;
    }
    if (!lua_istable(L, -1)) {
        eb_sc_fail(&r, r.n_lines, "the file returned %s; it must end with return scenario { "
                   "name = ..., variants = { ... } }", luaL_typename(L, -1));
        goto out;
    }
    /* setup() receives the scenario table. */
    lua_getfield(L, LUA_REGISTRYINDEX, EB_SC_PRIVATE);
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, "scenario");
    lua_pop(L, 1);

    /* Read the table inside pcall: a Lua error (out of memory) must not escape. */
    lua_pushcfunction(L, sc_read_protected);
    lua_pushlightuserdata(L, &r);
    lua_pushvalue(L, -3);
    err->msg[0] = '\0';
    if (sc_pcall(L, path, 2, 1, err) != 0)
        goto out;
    if (!lua_toboolean(L, -1))
        goto out;
    lua_settop(L, 0);
    rc = 0;
out:
    free(r.dir);
    free(r.text);
    free(r.line_at);
    if (rc != 0) {
        eb_err keep = *err;
        eb_scenario_free(s);
        *err = keep;
    }
    return rc;
}

static void sc_free_strv(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

void eb_scenario_free(eb_scenario *s)
{
    if (!s)
        return;
    free(s->path);
    free(s->name);
    free(s->description);
    eb_dataset_spec_free(&s->dataset);
    for (size_t i = 0; s->variants && i < s->n_variants; i++) {
        free(s->variants[i].name);
        free(s->variants[i].kind);
        free(s->variants[i].model);
        free(s->variants[i].base);
        eb_dataset_spec_free(&s->variants[i].dataset);
        for (size_t j = 0; s->variants[i].options && j < s->variants[i].n_options; j++) {
            free(s->variants[i].options[j].backend);
            free(s->variants[i].options[j].key);
            free(s->variants[i].options[j].value);
        }
        free(s->variants[i].options);
    }
    free(s->variants);
    sc_free_strv(s->backends, s->n_backends);
    free(s->threads);
    sc_free_strv(s->cores, s->n_cores);
    free(s->batches);
    free(s->output);
    for (size_t i = 0; s->options && i < s->n_options; i++) {
        free(s->options[i].backend);
        free(s->options[i].key);
        free(s->options[i].value);
    }
    free(s->options);
    for (size_t i = 0; s->params && i < s->n_params; i++) {
        free(s->params[i].name);
        free(s->params[i].type);
        free(s->params[i].default_value);
        free(s->params[i].help);
        free(s->params[i].value);
    }
    free(s->params);
    for (size_t i = 0; s->constraints && i < s->n_constraints; i++)
        free(s->constraints[i].key);
    free(s->constraints);
    free(s->modes);
    free(s->energy.meter);
    free(s->energy.command);
    free(s->energy.rails);
    free(s->objective);
    if (s->L)
        lua_close(s->L);
    memset(s, 0, sizeof *s);
    s->ref_setup = s->ref_on_trial = s->ref_done = LUA_NOREF;
    s->energy.ref_read = LUA_NOREF;
}

/* ---- hooks ---------------------------------------------------------------------------- */

/* Columns that stay text even when they look like numbers (a variant may be named "1"). */
static int sc_text_column(const char *col)
{
    static const char *const text[] = {"run_id", "scenario", "variant", "kind", "base",
                                       "backend", "cores", "status", "error", "mode", "dataset",
                                       NULL};
    for (size_t i = 0; text[i]; i++)
        if (strcmp(col, text[i]) == 0)
            return 1;
    return 0;
}

/* Pushes the row as a table keyed by results.csv column: numbers where the field parses as
 * one, strings otherwise, nil (absent) when the field is empty ("not measured"). */
static void sc_push_row(lua_State *L, const eb_result *row)
{
    const char *const *cols = eb_results_columns();
    char buf[1024];
    lua_newtable(L);
    for (size_t i = 0; cols && cols[i]; i++) {
        eb_result_field(row, cols[i], buf, sizeof buf);
        if (!buf[0])
            continue;
        if (sc_text_column(cols[i]) || lua_stringtonumber(L, buf) == 0)
            lua_pushstring(L, buf);
        lua_setfield(L, -2, cols[i]);
    }
}

static int sc_call_hook(eb_scenario *s, int ref, int nargs, eb_err *err)
{
    lua_State *L = s->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
    lua_insert(L, -1 - nargs);
    int rc = sc_pcall(L, s->path, nargs, 0, err);
    lua_settop(L, 0);
    return rc;
}

/* Pushes the private table's field `name`. */
static void sc_push_private(lua_State *L, const char *name)
{
    lua_getfield(L, LUA_REGISTRYINDEX, EB_SC_PRIVATE);
    lua_getfield(L, -1, name);
    lua_remove(L, -2);
}

int eb_scenario_setup(eb_scenario *s, eb_err *err)
{
    if (!s->L || s->ref_setup == LUA_NOREF)
        return 0;
    sc_push_private(s->L, "scenario");
    return sc_call_hook(s, s->ref_setup, 1, err);
}

int eb_scenario_on_trial(eb_scenario *s, const eb_result *row, eb_err *err)
{
    if (!s->L)
        return 0;
    lua_State *L = s->L;
    /* Every row is kept for done(rows), whether or not on_trial is defined. */
    sc_push_row(L, row);
    sc_push_private(L, "rows");
    lua_pushvalue(L, -2);
    lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
    lua_pop(L, 1);
    if (s->ref_on_trial == LUA_NOREF) {
        lua_settop(L, 0);
        return 0;
    }
    return sc_call_hook(s, s->ref_on_trial, 1, err);
}

int eb_scenario_done(eb_scenario *s, eb_err *err)
{
    if (!s->L || s->ref_done == LUA_NOREF)
        return 0;
    sc_push_private(s->L, "rows");
    return sc_call_hook(s, s->ref_done, 1, err);
}

int eb_scenario_meter_read(void *ctx, double *value, eb_err *err)
{
    eb_scenario *s = ctx;
    if (!s->L || s->energy.ref_read == LUA_NOREF)
        return eb_errf(err, "%s: energy.read is not a function", s->path);
    lua_State *L = s->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->energy.ref_read);
    if (sc_pcall(L, s->path, 0, 1, err) != 0) {
        lua_settop(L, 0);
        return -1;
    }
    int isnum;
    *value = lua_tonumberx(L, -1, &isnum);
    lua_settop(L, 0);
    if (!isnum)
        return eb_errf(err, "%s: energy.read returned no number (it must return %s)", s->path,
                       s->energy.read_joules ? "joules" : "watts");
    return 0;
}
