/* perf_event_open counters for one trial; see perf_counters.h for the contract. */
#include "perf_counters.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef struct perf_def {
    const char *name;
    uint32_t type;
    uint64_t config;
} perf_def;

/* Indexed by eb_perf_id. */
static const perf_def perf_defs[EB_PERF_N] = {
    [EB_PERF_CYCLES] = {"cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES},
    [EB_PERF_INSTRUCTIONS] = {"instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS},
    [EB_PERF_CACHE_REFERENCES] = {"cache-references", PERF_TYPE_HARDWARE,
                                  PERF_COUNT_HW_CACHE_REFERENCES},
    [EB_PERF_CACHE_MISSES] = {"cache-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES},
    [EB_PERF_BRANCH_MISSES] = {"branch-misses", PERF_TYPE_HARDWARE,
                               PERF_COUNT_HW_BRANCH_MISSES},
    [EB_PERF_TASK_CLOCK] = {"task-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK},
    [EB_PERF_CONTEXT_SWITCHES] = {"context-switches", PERF_TYPE_SOFTWARE,
                                  PERF_COUNT_SW_CONTEXT_SWITCHES},
    [EB_PERF_PAGE_FAULTS] = {"page-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS},
    [EB_PERF_CPU_MIGRATIONS] = {"cpu-migrations", PERF_TYPE_SOFTWARE,
                                PERF_COUNT_SW_CPU_MIGRATIONS},
};

/* The results.csv columns: the one place their names live. */
static const eb_perf_column perf_columns[] = {
    {"cycles_per_inference", EB_PERF_CYCLES, 1},
    {"instructions_per_inference", EB_PERF_INSTRUCTIONS, 1},
    {"cache_references_per_inference", EB_PERF_CACHE_REFERENCES, 1},
    {"cache_misses_per_inference", EB_PERF_CACHE_MISSES, 1},
    {"branch_misses_per_inference", EB_PERF_BRANCH_MISSES, 1},
    {"task_clock_ms_per_inference", EB_PERF_TASK_CLOCK, 1},
    {"context_switches", EB_PERF_CONTEXT_SWITCHES, 0},
    {"page_faults", EB_PERF_PAGE_FAULTS, 0},
    {"cpu_migrations", EB_PERF_CPU_MIGRATIONS, 0},
};

const char *eb_perf_name(eb_perf_id id)
{
    return (unsigned)id < EB_PERF_N ? perf_defs[id].name : "?";
}

const eb_perf_column *eb_perf_columns(size_t *n)
{
    if (n)
        *n = sizeof perf_columns / sizeof perf_columns[0];
    return perf_columns;
}

static int perf_paranoid(void)
{
    int level = -99;
    FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "r");
    if (f) {
        if (fscanf(f, "%d", &level) != 1)
            level = -99;
        fclose(f);
    }
    return level;
}

void eb_perf_errno_reason(int errnum, int paranoid, int root, char *buf, size_t n)
{
    switch (errnum) {
    case ENOENT:
    case EOPNOTSUPP:
    case ENODEV:
        snprintf(buf, n, "not supported by this CPU/VM");
        break;
    case EACCES:
    case EPERM:
        if (root)
            snprintf(buf, n, "perf_event_open refused although running as root: seccomp, LSM "
                             "or a user namespace");
        else if (paranoid != -99 && paranoid <= 2)
            snprintf(buf, n, "perf_event_open refused (perf_event_paranoid=%d allows it): "
                             "seccomp or LSM policy",
                     paranoid);
        else if (paranoid != -99)
            snprintf(buf, n, "perf_event_paranoid=%d: run as root or lower it", paranoid);
        else
            snprintf(buf, n, "perf_event_open not permitted: run as root or lower "
                             "/proc/sys/kernel/perf_event_paranoid");
        break;
    case ENOSYS:
        snprintf(buf, n, "perf_event_open not available in this kernel");
        break;
    case EMFILE:
    case ENFILE:
        snprintf(buf, n, "too many open files: raise ulimit -n");
        break;
    default:
        snprintf(buf, n, "perf_event_open: %s", strerror(errnum));
        break;
    }
}

static int perf_open_one(const perf_def *d, int exclude_kernel)
{
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.type = d->type;
    a.config = d->config;
    a.disabled = 1;
    a.inherit = 1; /* worker threads created after this call count too */
    a.exclude_kernel = exclude_kernel ? 1 : 0;
    a.exclude_hv = exclude_kernel ? 1 : 0;
    a.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
    return (int)syscall(SYS_perf_event_open, &a, 0 /* this process */, -1 /* any cpu */,
                        -1 /* no group */, PERF_FLAG_FD_CLOEXEC);
}

int eb_perf_open(eb_perf *p)
{
    int paranoid = -99, opened = 0;
    for (int i = 0; i < EB_PERF_N; i++) {
        p->fd[i] = -1;
        p->user_only[i] = 0;
        p->why[i][0] = '\0';
    }
    for (int i = 0; i < EB_PERF_N; i++) {
        /* Kernel mode first (the work a backend causes in syscalls and page faults is part of
         * its cost); user mode only when paranoid forbids it. */
        int fd = perf_open_one(&perf_defs[i], 0);
        if (fd < 0 && (errno == EACCES || errno == EPERM)) {
            fd = perf_open_one(&perf_defs[i], 1);
            if (fd >= 0)
                p->user_only[i] = 1;
        }
        if (fd < 0) {
            int e = errno;
            if (paranoid == -99)
                paranoid = perf_paranoid();
            eb_perf_errno_reason(e, paranoid, geteuid() == 0, p->why[i], sizeof p->why[i]);
            continue;
        }
        p->fd[i] = fd;
        opened++;
    }
    return opened;
}

void eb_perf_start(eb_perf *p)
{
    /* Reset then enable each fd; on an inherited counter the ioctls reach the threads' copies. */
    for (int i = 0; i < EB_PERF_N; i++)
        if (p->fd[i] >= 0) {
            ioctl(p->fd[i], PERF_EVENT_IOC_RESET, 0);
            ioctl(p->fd[i], PERF_EVENT_IOC_ENABLE, 0);
        }
}

void eb_perf_stop(eb_perf *p)
{
    for (int i = 0; i < EB_PERF_N; i++)
        if (p->fd[i] >= 0)
            ioctl(p->fd[i], PERF_EVENT_IOC_DISABLE, 0);
}

double eb_perf_scale(uint64_t raw, uint64_t enabled, uint64_t running)
{
    if (running == 0)
        return raw == 0 && enabled == 0 ? 0.0 : -1.0;
    if (running >= enabled)
        return (double)raw;
    return (double)raw * ((double)enabled / (double)running);
}

void eb_perf_read(const eb_perf *p, eb_perf_value *out)
{
    for (int i = 0; i < EB_PERF_N; i++) {
        eb_perf_value *v = &out[i];
        memset(v, 0, sizeof *v);
        if (p->fd[i] < 0) {
            snprintf(v->why, sizeof v->why, "%s", p->why[i]);
            continue;
        }
        uint64_t r[3]; /* value, time enabled, time running */
        if (read(p->fd[i], r, sizeof r) != (ssize_t)sizeof r) {
            snprintf(v->why, sizeof v->why, "read failed: %s", strerror(errno));
            continue;
        }
        double s = eb_perf_scale(r[0], r[1], r[2]);
        if (s < 0) {
            snprintf(v->why, sizeof v->why, "never scheduled on the PMU (too many counters)");
            continue;
        }
        v->supported = 1;
        v->multiplexed = r[2] < r[1];
        v->value = i == EB_PERF_TASK_CLOCK ? s / 1e6 : s; /* task-clock counts ns */
    }
}

void eb_perf_close(eb_perf *p)
{
    for (int i = 0; i < EB_PERF_N; i++)
        if (p->fd[i] >= 0) {
            close(p->fd[i]);
            p->fd[i] = -1;
        }
}

void eb_perf_column_format(const eb_perf_column *c, const eb_perf_value *v, long iterations,
                           char *buf, size_t n)
{
    if (n == 0)
        return;
    buf[0] = '\0';
    const eb_perf_value *x = &v[c->counter];
    if (!x->supported)
        return;
    if (c->per_inference) {
        if (iterations <= 0)
            return;
        snprintf(buf, n, "%.6g", x->value / (double)iterations);
    } else {
        snprintf(buf, n, "%.0f", x->value);
    }
}

void eb_perf_unsupported(const eb_perf_value *v, char *buf, size_t n)
{
    if (n == 0)
        return;
    buf[0] = '\0';
    size_t len = 0;
    int done[EB_PERF_N] = {0};
    /* Group counters sharing a reason so the cell stays one short line. */
    for (int i = 0; i < EB_PERF_N; i++) {
        if (v[i].supported || done[i])
            continue;
        int w = snprintf(buf + len, n - len, "%s%s", len ? "; " : "", perf_defs[i].name);
        len = w < 0 || (size_t)w >= n - len ? n - 1 : len + (size_t)w;
        for (int j = i + 1; j < EB_PERF_N; j++)
            if (!v[j].supported && !done[j] && strcmp(v[i].why, v[j].why) == 0) {
                done[j] = 1;
                w = snprintf(buf + len, n - len, ", %s", perf_defs[j].name);
                len = w < 0 || (size_t)w >= n - len ? n - 1 : len + (size_t)w;
            }
        w = snprintf(buf + len, n - len, ": %s", v[i].why);
        len = w < 0 || (size_t)w >= n - len ? n - 1 : len + (size_t)w;
    }
}
