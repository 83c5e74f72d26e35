/* Backend plugins: shared objects backend-NAME.so that export EB_BACKEND_ENTRY (backends/backend.h).
 *
 * The registry (harness/backend.h) loads them once, after the built-ins, from the directories
 * eb_plugin_dirs() lists; this module does the loading and says why a plugin was refused, so
 * tests can point it at any directory.  Plugins are never unloaded: their tables and strings
 * must stay valid for the process's life (trials run in forked children that inherit them).
 */
#ifndef EB_PLUGIN_H
#define EB_PLUGIN_H

#include <stddef.h>

#include "../backends/backend.h"

#define EB_MAX_PLUGINS 32

typedef struct eb_plugin_refusal {
    char path[512];
    char why[384];
} eb_plugin_refusal;

typedef struct eb_plugins {
    size_t n;
    eb_backend_i tables[EB_MAX_PLUGINS]; /* copies, so a version-1 table reads NULL past its end */
    char paths[EB_MAX_PLUGINS][512];
    size_t n_refused;
    eb_plugin_refusal refused[EB_MAX_PLUGINS];
} eb_plugins;

/* The colon-separated directories searched, in order: $EDGEBENCH_BACKEND_PATH, then
 * EXEDIR/../lib/edgebench (an install) and EXEDIR/../build/lib/edgebench (the source tree),
 * where EXEDIR is the running executable's directory.  Writes them into buf. */
const char *eb_plugin_dirs(char *buf, size_t n);

/* Loads one plugin file.  On success copies its table into *table and returns 0; otherwise
 * returns -1 with the reason in `why` (dlopen's error, a missing entry symbol, a table for
 * another API version, required fields missing, a name not matching the file's). */
int eb_plugin_load(const char *file, eb_backend_i *table, char *why, size_t n);

/* Scans every directory of the colon-separated list for backend-*.so (in name order) and loads
 * each into p (which the caller zeroed).  A plugin whose name equals a name in taken[] (the
 * built-ins) or an earlier plugin's is refused too. */
void eb_plugins_scan(eb_plugins *p, const char *dirs, const char *const *taken, size_t n_taken);

#endif
