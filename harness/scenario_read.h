/* Internal to the scenario module (scenario.c, scenario_read.c): the reader that turns the
 * table a scenario file returned into an eb_scenario, and the file:line finder its messages
 * use.  Not for other modules: use scenario.h. */
#ifndef EB_SCENARIO_READ_H
#define EB_SCENARIO_READ_H

#include <stdarg.h>
#include <stddef.h>

#include "scenario.h"

/* Registry key of the private table shared with the prelude (harness/lua/prelude.lua). */
#define EB_SC_PRIVATE "edgebench.scenario"

typedef struct eb_sc_reader {
    struct lua_State *L;
    eb_scenario *s;
    eb_err *err;
    const char *path;   /* the scenario file as given */
    char *dir;          /* its directory, "." when it has none */
    char *text;         /* the file's text, for finding lines (may be NULL) */
    size_t *line_at;    /* offsets of each line's start; line_at[i] is line i + 1 */
    int n_lines;
    int scenario_line;  /* where scenario{} was called (1 when unknown) */
    int quick;
} eb_sc_reader;

/* Reads the table at the top of r->L's stack into r->s.  Must run inside lua_pcall (it may
 * raise Lua errors for out-of-memory).  Returns 0, or -1 with "FILE:LINE: ..." in r->err. */
int eb_sc_read(eb_sc_reader *r);

/* The best line for a problem with `key` (may be NULL) whose value is the string `sval` (may
 * be NULL), searching the file's text from line `from` on and then from the top; `from`
 * itself when nothing matches. */
int eb_sc_locate(const eb_sc_reader *r, int from, const char *key, const char *sval);

/* Formats "FILE:LINE: message" (or "FILE: message" when line <= 0) into r->err; returns -1. */
int eb_sc_fail(const eb_sc_reader *r, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Resolves a data or model path written in the scenario: absolute paths as they are; else
 * relative to the current directory when that file exists, else relative to the scenario's
 * directory.  Returns a malloc'd path, or NULL when neither exists (tried[] then names
 * what was tried). */
char *eb_sc_resolve(const eb_sc_reader *r, const char *p, char *tried, size_t n);

#endif
