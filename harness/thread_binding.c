#include "thread_binding.h"

#include <dirent.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "0-1,4" -> set; 0 on success. */
static int binding_parse(const char *list, cpu_set_t *set)
{
    CPU_ZERO(set);
    for (const char *p = list; *p;) {
        char *end;
        long a = strtol(p, &end, 10), b = a;
        if (end == p || a < 0 || a >= CPU_SETSIZE)
            return -1;
        if (*end == '-') {
            p = end + 1;
            b = strtol(p, &end, 10);
            if (end == p || b < a || b >= CPU_SETSIZE)
                return -1;
        }
        for (long c = a; c <= b; c++)
            CPU_SET((int)c, set);
        p = *end == ',' ? end + 1 : end;
        if (*end && *end != ',')
            return -1;
    }
    return 0;
}

/* A set as a compact list ("0-1,4"). */
static void binding_format(const cpu_set_t *set, char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int c = 0; c < CPU_SETSIZE && used < n; c++) {
        if (!CPU_ISSET(c, set))
            continue;
        int last = c;
        while (last + 1 < CPU_SETSIZE && CPU_ISSET(last + 1, set))
            last++;
        int w = last > c ? snprintf(buf + used, n - used, "%s%d-%d", used ? "," : "", c, last)
                         : snprintf(buf + used, n - used, "%s%d", used ? "," : "", c);
        if (w < 0)
            break;
        used += (size_t)w;
        c = last;
    }
}

void eb_thread_binding_check(const char *allowed, eb_thread_binding *b)
{
    cpu_set_t want, have;
    DIR *dir = opendir("/proc/self/task");
    struct dirent *e;
    size_t used = 0;
    memset(b, 0, sizeof *b);
    b->ok = -1;
    if (!dir || !allowed || binding_parse(allowed, &want) != 0) {
        if (dir)
            closedir(dir);
        return;
    }
    b->ok = 1;
    while ((e = readdir(dir))) {
        int tid = atoi(e->d_name);
        char cpus[64];
        if (tid <= 0 || sched_getaffinity(tid, sizeof have, &have) != 0)
            continue;
        b->threads++;
        binding_format(&have, cpus, sizeof cpus);
        int w = snprintf(b->text + used, sizeof b->text - used, "%s%s", used ? " | " : "", cpus);
        if (w > 0 && (size_t)w < sizeof b->text - used)
            used += (size_t)w;
        cpu_set_t outside;
        CPU_XOR(&outside, &have, &want);
        CPU_AND(&outside, &outside, &have); /* CPUs the thread may use that the trial may not */
        if (CPU_COUNT(&outside) > 0)
            b->ok = 0;
    }
    closedir(dir);
}
