/* The backend registry and the thin wrappers through which the harness calls backends.
 * Wrappers check arguments and supply defaults for optional methods (see backends/backend.h).
 */
#ifndef EB_HARNESS_BACKEND_H
#define EB_HARNESS_BACKEND_H

#include "../backends/backend.h"
#include "plugin.h"

/* Backends in the order `edgebench backends` lists them: the built-ins, then the plugins
 * (loaded on the first call to any of these; plugin.h says from where). */
size_t eb_backend_count(void);
const eb_backend_i *eb_backend_at(size_t i);
const eb_backend_i *eb_backend_find(const char *name); /* NULL if unknown */
const char *eb_backend_path(size_t i); /* a plugin's file, NULL for a built-in */

/* Plugins found but refused, with the reason (dlopen error, missing symbol, API version...). */
size_t eb_backend_refusal_count(void);
const eb_plugin_refusal *eb_backend_refusal_at(size_t i);

/* Comma-separated list of known backend names, for error messages. */
const char *eb_backend_names(char *buf, size_t n);

int eb_backend_probe(const eb_backend_i *b, char *why, size_t n);
/* 0, -1, or EB_UNSUPPORTED when the backend cannot run this model (its format is not among the
 * backend's formats, or open() said so); err says why in either failure. */
int eb_backend_open(const eb_backend_i *b, const eb_model *m, const eb_config *c, void **session,
                    eb_err *err);
int eb_backend_io(const eb_backend_i *b, void *session, eb_io *io, eb_err *err);
int eb_backend_facts(const eb_backend_i *b, void *session, eb_model_facts *f);
/* The backend's one-line plan (backend.h's plan()) into buf: 0, or -1 with buf empty when the
 * backend does not say. */
int eb_backend_plan(const eb_backend_i *b, void *session, char *buf, size_t n);
int eb_backend_run(const eb_backend_i *b, void *session, const eb_tensor *in, size_t n_in,
                   eb_tensor *out, size_t n_out, eb_err *err);
void eb_backend_close(const eb_backend_i *b, void *session);

/* Memory held outside this process (backend.h's memory()): 0 with the values, -1 when the
 * backend does not say (all three are then -1). */
int eb_backend_memory(const eb_backend_i *b, void *session, long *peak_kb, long *rss_kb,
                      long *base_kb);

/* Per-node times since the last call (and resets them): fills up to n entries and returns how
 * many; with ops NULL returns the count without resetting.  0 when the backend does not
 * profile (the optional method is absent, or profiling was not asked for at open). */
int eb_backend_profile(const eb_backend_i *b, void *session, eb_op_time *ops, size_t n);

/* Looks up an option by key; returns its value or `def`. */
const char *eb_option_get(const eb_config *c, const char *key, const char *def);

#endif
