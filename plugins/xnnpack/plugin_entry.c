/* The plugin entry point, compiled in only when the backend is built as a shared object
 * (build/lib/edgebench/backend-xnnpack.so, with -DEB_PLUGIN; see README.md here).  In the
 * core build this file is empty, so the static table eb_backend_xnnpack carries no second
 * exported entry that could clash with another plugin's.
 *
 * Contract: returns the backend's table whatever host_api is; the loader compares the table's
 * api_version with its own and says why it refuses a mismatch. */
#include "xnnpack_backend.h"

#ifdef EB_PLUGIN
__attribute__((visibility("default"))) const eb_backend_i *edgebench_backend(unsigned host_api);

const eb_backend_i *edgebench_backend(unsigned host_api)
{
    (void)host_api;
    return &eb_backend_xnnpack;
}
#else
typedef int eb_xnn_plugin_entry_unused; /* ISO C wants a declaration in every file */
#endif
