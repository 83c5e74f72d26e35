/* PSS and the model's share of memory; see memory_pss.h for the definitions. */
#include "memory_pss.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Sums the "Pss:" lines of an smaps-format file (not Pss_Dirty:, SwapPss:, ...).  Returns the
 * number of lines found, or -1 when the file cannot be opened (errno set). */
static int pss_sum(const char *path, long *kb)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[512];
    int found = 0;
    long sum = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "Pss:", 4) != 0)
            continue;
        char *end;
        long v = strtol(line + 4, &end, 10);
        if (end == line + 4)
            continue;
        sum += v;
        found++;
    }
    fclose(f);
    *kb = sum;
    return found;
}

long eb_memory_pss_kb_from(const char *rollup, const char *smaps, char *note, size_t n)
{
    long kb = 0;
    const char *paths[2] = {rollup, smaps};
    const char *names[2] = {"smaps_rollup", "smaps"};
    for (int i = 0; i < 2; i++) {
        if (!paths[i])
            continue;
        int found = pss_sum(paths[i], &kb);
        if (found < 0) {
            if (errno == ENOENT)
                continue; /* older kernel: try the next source */
            snprintf(note, n, "%s: %s", paths[i], strerror(errno));
            return -1;
        }
        if (found == 0) {
            snprintf(note, n, "%s has no Pss: line", paths[i]);
            return -1;
        }
        snprintf(note, n, "%s", names[i]);
        return kb;
    }
    snprintf(note, n, "no smaps_rollup or smaps in /proc (kernel without "
                      "CONFIG_PROC_PAGE_MONITOR)");
    return -1;
}

long eb_memory_pss_kb(char *note, size_t n)
{
    return eb_memory_pss_kb_from("/proc/self/smaps_rollup", "/proc/self/smaps", note, n);
}

int eb_memory_model_kb(long rss_before_kb, long rss_after_kb, long *kb)
{
    if (rss_before_kb < 0 || rss_after_kb < 0)
        return -1;
    *kb = rss_after_kb - rss_before_kb;
    return 0;
}
