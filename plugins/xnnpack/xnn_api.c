/* Resolves XNNPACK at run time (see xnn_api.h for why). */
#include "xnn_api.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int eb_xnn_api_open(eb_xnn_api *api, char *why, size_t n)
{
    memset(api, 0, sizeof *api);
#if !EB_XNN_HAVE_HEADER
    snprintf(why, n, "edgebench was built without xnnpack.h (install libxnnpack-dev and "
                     "libpthreadpool-dev, then rebuild)");
    return -1;
#else
    const char *file = getenv(EB_XNN_LIBRARY_ENV);
    if (!file || !*file)
        file = EB_XNN_LIBRARY;
    /* RTLD_LOCAL: XNNPACK's symbols stay out of the global namespace of edgebench */
    api->lib = dlopen(file, RTLD_NOW | RTLD_LOCAL);
    if (!api->lib) {
        const char *e = dlerror();
        snprintf(why, n, "cannot load %s (%s): install libxnnpack0, or point %s at the library",
                 file, e ? e : "not found", EB_XNN_LIBRARY_ENV);
        return -1;
    }
#define EB_XNN_RESOLVE(name)                                                                    \
    do {                                                                                        \
        void *sym = dlsym(api->lib, #name);                                                     \
        if (!sym) {                                                                             \
            snprintf(why, n, "%s lacks %s: this XNNPACK is not the 2022 snapshot the backend "  \
                             "was written for (Debian's 0.0~git20220216)", file, #name);        \
            eb_xnn_api_close(api);                                                              \
            return -1;                                                                          \
        }                                                                                       \
        memcpy(&api->name, &sym, sizeof sym); /* object -> function pointer, POSIX-style */    \
    } while (0);
    EB_XNN_FUNCS(EB_XNN_RESOLVE)
#undef EB_XNN_RESOLVE
    enum xnn_status st = api->xnn_initialize(NULL);
    if (st != xnn_status_success) {
        snprintf(why, n, "xnn_initialize failed (%s): XNNPACK does not support this CPU",
                 eb_xnn_status_name(st));
        eb_xnn_api_close(api);
        return -1;
    }
    return 0;
#endif
}

void eb_xnn_api_close(eb_xnn_api *api)
{
    /* XNNPACK is never deinitialized: xnn_initialize is process-wide and idempotent, and
     * other sessions in this process may still use it.  dlclose only drops our reference. */
    if (api->lib)
        dlclose(api->lib);
    memset(api, 0, sizeof *api);
}

const char *eb_xnn_status_name(int status)
{
    static const char *const names[] = {"success", "uninitialized", "invalid_parameter",
                                        "invalid_state", "unsupported_parameter",
                                        "unsupported_hardware", "out_of_memory"};
    return status >= 0 && status < (int)(sizeof names / sizeof names[0]) ? names[status]
                                                                         : "unknown status";
}
