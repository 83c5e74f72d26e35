/* edgebench: benchmark and evaluation harness for small AI models on edge devices. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
} commands[] = {
    {"run", eb_cmd_run},           {"infer", eb_cmd_infer}, {"backends", eb_cmd_backends},
    {"info", eb_cmd_info},         {"help", eb_cmd_help},
    {"compare", eb_cmd_compare},   {"history", eb_cmd_history},
    {"report", eb_cmd_report},
};

int main(int argc, char **argv)
{
    if (argc < 2)
        return eb_cmd_help(0, argv + 1), 2;
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("edgebench %s (%s)\n", EB_VERSION, EB_GIT_COMMIT);
        return 0;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        return eb_cmd_help(0, argv + 2);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].fn(argc - 2, argv + 2);
    return eb_cmd_fail("unknown command '%s'; run 'edgebench help' for the list", argv[1]);
}
