/* `edgebench backends`: each backend, its formats, and whether it can run here; then the
 * plugins that were found but refused, and why. */
#include <stdio.h>

#include "backend.h"
#include "commands.h"

int eb_cmd_backends(int argc, char **argv)
{
    if (argc > 0)
        return eb_cmd_fail("'backends' takes no arguments (got '%s')", argv[0]);
    printf("%-12s %-8s %-10s %s\n", "backend", "formats", "available", "description");
    for (size_t i = 0; i < eb_backend_count(); i++) {
        const eb_backend_i *b = eb_backend_at(i);
        const char *path = eb_backend_path(i);
        char why[256];
        int ok = eb_backend_probe(b, why, sizeof why) == 0;
        printf("%-12s %-8s %-10s %s%s%s%s%s%s\n", b->name, b->formats, ok ? "yes" : "no",
               b->description, path ? " [plugin " : "", path ? path : "", path ? "]" : "",
               ok ? "" : " -- ", ok ? "" : why);
    }
    if (eb_backend_refusal_count() > 0)
        printf("\nplugins refused:\n");
    for (size_t i = 0; i < eb_backend_refusal_count(); i++) {
        const eb_plugin_refusal *r = eb_backend_refusal_at(i);
        printf("  %s: %s\n", r->path, r->why);
    }
    return 0;
}
