/* Device telemetry and the throttling verdict; see telemetry.h for the contract. */
#include "telemetry.h"

#include <ctype.h>
#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sysfs.h"

#define TELE_MAX_ZONES 64
#define TELE_MAX_POLICIES 64
#define TELE_MAX_CPUS 1024
#define TELE_MASK_WORDS (TELE_MAX_CPUS / 64)

/* Readings outside this range are a driver's placeholder (-273 C, 0xffff...), not a
 * temperature, and would poison the hottest-zone statistics. */
#define TELE_TEMP_MIN_C (-40.0)
#define TELE_TEMP_MAX_C 200.0

#define TELE_RPI_NOW 0xFu
#define TELE_RPI_OCCURRED 0xF0000u

typedef struct tele_zone {
    char name[EB_SYSFS_NAME]; /* thermal_zone0 */
    char type[48];            /* x86_pkg_temp */
} tele_zone;

typedef struct tele_policy {
    char name[EB_SYSFS_NAME]; /* policy0 */
    uint64_t cpus[TELE_MASK_WORDS];
    /* per trial */
    int in_trial;
    double max_begin_mhz, max_low_mhz; /* scaling_max_freq at begin, lowest seen since */
    double peak_mhz;                   /* highest cur freq seen since begin */
    int count, low_count;
    double low_mhz, low_ref_mhz;       /* the lowest low sample and the peak it fell from */
} tele_policy;

typedef struct tele_cpu {
    int cpu;
    int has_core, has_pkg;
    long long core0, pkg0; /* counts at begin, -1 unreadable */
} tele_cpu;

struct eb_telemetry {
    eb_telemetry_opts o;
    char cmd[512];   /* "" when no get_throttled source */
    char cmd_note[160];
    tele_zone zones[TELE_MAX_ZONES];
    size_t nzones;
    tele_policy pol[TELE_MAX_POLICIES];
    size_t npol;
    tele_cpu *cpus;
    size_t ncpus;
    /* per trial */
    uint64_t mask[TELE_MASK_WORDS];
    int mask_all;
    int samples;
    double temp_start, temp_max, freq_sum;
    long freq_n;
    int rpi_begin_ok;
    unsigned rpi_begin, rpi_now_or;
    double last_cmd_ms;
};

/* ---- small helpers ------------------------------------------------------------------------ */

static void tele_mask_set(uint64_t *m, long cpu)
{
    if (cpu >= 0 && cpu < TELE_MAX_CPUS)
        m[cpu / 64] |= (uint64_t)1 << (cpu % 64);
}

/* Parses "0-3,6" or "0 1 2 3" into m.  -1 on anything else (m then holds what parsed). */
static int tele_parse_cpus(const char *s, uint64_t *m)
{
    memset(m, 0, sizeof(uint64_t) * TELE_MASK_WORDS);
    const char *p = s;
    while (*p) {
        if (isspace((unsigned char)*p) || *p == ',') {
            p++;
            continue;
        }
        char *end;
        long a = strtol(p, &end, 10);
        if (end == p || a < 0)
            return -1;
        long b = a;
        p = end;
        if (*p == '-') {
            b = strtol(p + 1, &end, 10);
            if (end == p + 1 || b < a)
                return -1;
            p = end;
        }
        for (long c = a; c <= b && c < TELE_MAX_CPUS; c++)
            tele_mask_set(m, c);
    }
    return 0;
}

static int tele_mask_intersects(const uint64_t *a, const uint64_t *b)
{
    for (int i = 0; i < TELE_MASK_WORDS; i++)
        if (a[i] & b[i])
            return 1;
    return 0;
}

static int tele_mask_has(const uint64_t *m, int cpu)
{
    return cpu >= 0 && cpu < TELE_MAX_CPUS && (m[cpu / 64] >> (cpu % 64)) & 1;
}

/* Degrees C of a zone, or NAN when unreadable or implausible. */
static double tele_zone_c(const tele_zone *z)
{
    char rel[160];
    long long mc;
    snprintf(rel, sizeof rel, "class/thermal/%s/temp", z->name);
    if (eb_sysfs_read_ll(rel, &mc) != 0)
        return NAN;
    double c = (double)mc / 1000.0;
    return c < TELE_TEMP_MIN_C || c > TELE_TEMP_MAX_C ? NAN : c;
}

/* MHz from a policy's kHz attribute, or NAN. */
static double tele_policy_mhz(const tele_policy *p, const char *attr)
{
    char rel[160];
    long long khz;
    snprintf(rel, sizeof rel, "devices/system/cpu/cpufreq/%s/%s", p->name, attr);
    if (eb_sysfs_read_ll(rel, &khz) != 0 || khz <= 0)
        return NAN;
    return (double)khz / 1000.0;
}

static long long tele_cpu_count(int cpu, const char *attr)
{
    char rel[160];
    long long v;
    snprintf(rel, sizeof rel, "devices/system/cpu/cpu%d/thermal_throttle/%s", cpu, attr);
    return eb_sysfs_read_ll(rel, &v) == 0 ? v : -1;
}

/* "2.4 GHz" or "800 MHz". */
static void tele_freq_text(double mhz, char *buf, size_t n)
{
    if (mhz >= 1000.0)
        snprintf(buf, n, "%.1f GHz", mhz / 1000.0);
    else
        snprintf(buf, n, "%.0f MHz", mhz);
}

/* Appends "; "-separated text to a reason buffer, truncating safely. */
static void tele_reason_add(char *buf, size_t n, const char *text)
{
    size_t len = strlen(buf);
    if (len + 1 >= n)
        return;
    snprintf(buf + len, n - len, "%s%s", len ? "; " : "", text);
}

/* Is `word` (up to the first blank of cmd) an executable on PATH or a path? */
static int tele_on_path(const char *cmd)
{
    char word[256];
    size_t k = strcspn(cmd, " \t");
    if (k == 0 || k >= sizeof word)
        return 0;
    memcpy(word, cmd, k);
    word[k] = '\0';
    if (strchr(word, '/'))
        return access(word, X_OK) == 0;
    const char *path = getenv("PATH");
    if (!path)
        return 0;
    while (*path) {
        size_t d = strcspn(path, ":");
        char full[1024];
        snprintf(full, sizeof full, "%.*s/%s", (int)d, d ? path : ".", word);
        if (access(full, X_OK) == 0)
            return 1;
        path += d;
        if (*path == ':')
            path++;
    }
    return 0;
}

/* Runs the get_throttled command and parses "throttled=0x50005".  -1 when it fails. */
static int tele_rpi_read(const eb_telemetry *t, unsigned *bits)
{
    if (!t->cmd[0])
        return -1;
    char line[1024];
    snprintf(line, sizeof line, "%s 2>/dev/null", t->cmd);
    FILE *p = popen(line, "r");
    if (!p)
        return -1;
    char out[256] = "";
    size_t got = fread(out, 1, sizeof out - 1, p);
    out[got] = '\0';
    /* The exit status is not used: a runner reaping children with waitpid(-1) may have
     * collected it already, and the output alone says whether the read worked. */
    pclose(p);
    const char *v = strstr(out, "throttled=");
    if (!v)
        return -1;
    char *end;
    errno = 0;
    unsigned long x = strtoul(v + 10, &end, 16);
    if (end == v + 10 || errno)
        return -1;
    *bits = (unsigned)x;
    return 0;
}

/* "under-voltage, throttled" for the low four bits of a get_throttled value. */
static void tele_rpi_text(unsigned bits, char *buf, size_t n)
{
    static const char *const names[4] = {"under-voltage", "frequency capped", "throttled",
                                         "soft temperature limit"};
    buf[0] = '\0';
    size_t len = 0;
    for (int i = 0; i < 4; i++)
        if (bits & (1u << i)) {
            int w = snprintf(buf + len, n - len, "%s%s", len ? ", " : "", names[i]);
            if (w < 0 || (size_t)w >= n - len)
                return;
            len += (size_t)w;
        }
}

/* ---- probing ------------------------------------------------------------------------------ */

static void tele_probe_zones(eb_telemetry *t)
{
    size_t n = 0;
    char (*list)[EB_SYSFS_NAME] = calloc(TELE_MAX_ZONES, EB_SYSFS_NAME);
    if (!list || eb_sysfs_list("class/thermal", "thermal_zone", list, TELE_MAX_ZONES, &n) != 0)
        n = 0;
    for (size_t i = 0; i < n; i++) {
        tele_zone *z = &t->zones[t->nzones];
        snprintf(z->name, sizeof z->name, "%s", list[i]);
        char rel[160];
        snprintf(rel, sizeof rel, "class/thermal/%s/type", z->name);
        if (eb_sysfs_read_str(rel, z->type, sizeof z->type) != 0 || !z->type[0])
            snprintf(z->type, sizeof z->type, "unknown");
        /* A zone whose temp cannot be read now (disabled, ENODATA) would only cost reads. */
        if (isnan(tele_zone_c(z)))
            continue;
        t->nzones++;
    }
    free(list);
}

static void tele_probe_policies(eb_telemetry *t)
{
    size_t n = 0;
    char (*list)[EB_SYSFS_NAME] = calloc(TELE_MAX_POLICIES, EB_SYSFS_NAME);
    if (!list || eb_sysfs_list("devices/system/cpu/cpufreq", "policy", list, TELE_MAX_POLICIES,
                               &n) != 0)
        n = 0;
    for (size_t i = 0; i < n; i++) {
        tele_policy *p = &t->pol[t->npol];
        memset(p, 0, sizeof *p);
        snprintf(p->name, sizeof p->name, "%s", list[i]);
        if (isnan(tele_policy_mhz(p, "scaling_cur_freq")))
            continue;
        char rel[160], cpus[1024];
        snprintf(rel, sizeof rel, "devices/system/cpu/cpufreq/%s/affected_cpus", p->name);
        if (eb_sysfs_read_str(rel, cpus, sizeof cpus) != 0 || tele_parse_cpus(cpus, p->cpus) != 0)
            memset(p->cpus, 0, sizeof p->cpus); /* unknown CPUs: counted only for "all" */
        t->npol++;
    }
    free(list);
}

static void tele_probe_cpus(eb_telemetry *t)
{
    size_t n = 0;
    char (*list)[EB_SYSFS_NAME] = calloc(TELE_MAX_CPUS + 64, EB_SYSFS_NAME);
    t->cpus = calloc(TELE_MAX_CPUS, sizeof *t->cpus);
    if (!list || !t->cpus ||
        eb_sysfs_list("devices/system/cpu", "cpu", list, TELE_MAX_CPUS + 64, &n) != 0)
        n = 0;
    for (size_t i = 0; i < n && t->ncpus < TELE_MAX_CPUS; i++) {
        const char *s = list[i] + 3;
        char *end;
        long cpu = strtol(s, &end, 10);
        if (end == s || *end || cpu < 0) /* cpufreq, cpuidle, ... */
            continue;
        tele_cpu *c = &t->cpus[t->ncpus];
        c->cpu = (int)cpu;
        c->has_core = tele_cpu_count(c->cpu, "core_throttle_count") >= 0;
        c->has_pkg = tele_cpu_count(c->cpu, "package_throttle_count") >= 0;
        if (c->has_core || c->has_pkg)
            t->ncpus++;
    }
    free(list);
}

static void tele_probe_cmd(eb_telemetry *t)
{
    const char *cmd = t->o.throttled_cmd;
    int explicit = cmd != NULL;
    if (!cmd)
        cmd = "vcgencmd get_throttled";
    t->cmd[0] = '\0';
    if (!cmd[0]) {
        snprintf(t->cmd_note, sizeof t->cmd_note, "get_throttled: off");
        return;
    }
    if (!tele_on_path(cmd)) {
        snprintf(t->cmd_note, sizeof t->cmd_note, "get_throttled: %s",
                 explicit ? "command not found" : "none");
        return;
    }
    snprintf(t->cmd, sizeof t->cmd, "%s", cmd);
    unsigned bits;
    if (tele_rpi_read(t, &bits) != 0) {
        snprintf(t->cmd_note, sizeof t->cmd_note,
                 "get_throttled: '%.100s' printed no throttled=0x...", cmd);
        t->cmd[0] = '\0';
        return;
    }
    snprintf(t->cmd_note, sizeof t->cmd_note, "get_throttled: 0x%x at start", bits);
}

int eb_telemetry_open(eb_telemetry **out, const eb_telemetry_opts *opts, eb_err *err)
{
    *out = NULL;
    eb_telemetry_opts o = {0};
    if (opts)
        o = *opts;
    if (o.freq_drop_pct == 0)
        o.freq_drop_pct = 90;
    if (o.low_share == 0)
        o.low_share = 0.25;
    if (o.cmd_every_ms == 0)
        o.cmd_every_ms = 1000;
    if (!(o.freq_drop_pct > 0 && o.freq_drop_pct <= 100))
        return eb_errf(err, "telemetry: freq_drop_pct %g is not a percentage in (0, 100]: "
                            "use e.g. 90", o.freq_drop_pct);
    if (!(o.low_share > 0 && o.low_share <= 1))
        return eb_errf(err, "telemetry: low_share %g is not a fraction in (0, 1]: use e.g. "
                            "0.25", o.low_share);
    eb_telemetry *t = calloc(1, sizeof *t);
    if (!t)
        return eb_errf(err, "telemetry: out of memory");
    t->o = o;
    tele_probe_zones(t);
    tele_probe_policies(t);
    tele_probe_cpus(t);
    if (!t->cpus) {
        free(t);
        return eb_errf(err, "telemetry: out of memory");
    }
    tele_probe_cmd(t);
    t->mask_all = 1;
    *out = t;
    return 0;
}

void eb_telemetry_close(eb_telemetry *t)
{
    if (!t)
        return;
    free(t->cpus);
    free(t);
}

void eb_telemetry_describe(const eb_telemetry *t, char *buf, size_t n)
{
    snprintf(buf, n, "%zu thermal zones, %zu cpufreq policies, thermal_throttle on %zu cpus, %s",
             t->nzones, t->npol, t->ncpus, t->cmd_note);
}

const char *eb_telemetry_csv_header(void)
{
    return "run_id,trial,t_ms,sensor,value,unit\n";
}

double eb_telemetry_hottest_c(eb_telemetry *t)
{
    double hot = NAN;
    for (size_t i = 0; i < t->nzones; i++) {
        double c = tele_zone_c(&t->zones[i]);
        if (!isnan(c) && (isnan(hot) || c > hot))
            hot = c;
    }
    return hot;
}

/* ---- a trial ------------------------------------------------------------------------------ */

void eb_telemetry_begin(eb_telemetry *t, const char *cpus)
{
    t->mask_all = !cpus || !cpus[0] || tele_parse_cpus(cpus, t->mask) != 0;
    t->samples = 0;
    t->freq_sum = 0;
    t->freq_n = 0;
    t->temp_start = eb_telemetry_hottest_c(t);
    t->temp_max = t->temp_start;
    for (size_t i = 0; i < t->npol; i++) {
        tele_policy *p = &t->pol[i];
        p->in_trial = t->mask_all || tele_mask_intersects(p->cpus, t->mask);
        p->max_begin_mhz = tele_policy_mhz(p, "scaling_max_freq");
        p->max_low_mhz = p->max_begin_mhz;
        p->peak_mhz = tele_policy_mhz(p, "scaling_cur_freq"); /* the frequency at start */
        p->count = p->low_count = 0;
        p->low_mhz = p->low_ref_mhz = NAN;
    }
    for (size_t i = 0; i < t->ncpus; i++) {
        tele_cpu *c = &t->cpus[i];
        c->core0 = c->has_core ? tele_cpu_count(c->cpu, "core_throttle_count") : -1;
        c->pkg0 = c->has_pkg ? tele_cpu_count(c->cpu, "package_throttle_count") : -1;
    }
    t->rpi_begin_ok = tele_rpi_read(t, &t->rpi_begin) == 0;
    t->rpi_now_or = t->rpi_begin_ok ? t->rpi_begin & TELE_RPI_NOW : 0;
    t->last_cmd_ms = -INFINITY;
}

/* Writes s as one CSV field, quoted through libcsv only when CSV needs it (as results.c). */
static void tele_put(FILE *f, const char *s)
{
    size_t len = strlen(s);
    if (len && strpbrk(s, ",\"\r\n"))
        csv_fwrite(f, s, len);
    else
        fwrite(s, 1, len, f);
}

static void tele_row(FILE *f, const char *run_id, const char *trial, double t_ms,
                     const char *sensor, double value, const char *fmt, const char *unit)
{
    char num[64];
    tele_put(f, run_id ? run_id : "");
    fputc(',', f);
    tele_put(f, trial ? trial : "");
    fprintf(f, ",%.1f,", t_ms);
    tele_put(f, sensor);
    snprintf(num, sizeof num, fmt, value);
    fprintf(f, ",%s,%s\n", num, unit);
}

int eb_telemetry_sample(eb_telemetry *t, double t_ms, FILE *csv, const char *run_id,
                        const char *trial_label)
{
    int rows = 0;
    char sensor[EB_SYSFS_NAME + 64];
    double hot = NAN;
    for (size_t i = 0; i < t->nzones; i++) {
        const tele_zone *z = &t->zones[i];
        double c = tele_zone_c(z);
        if (isnan(c))
            continue; /* vanished or glitched: no row, no statistics */
        if (isnan(hot) || c > hot)
            hot = c;
        if (csv) {
            snprintf(sensor, sizeof sensor, "%s/%s", z->name, z->type);
            tele_row(csv, run_id, trial_label, t_ms, sensor, c, "%.1f", "C");
            rows++;
        }
    }
    if (!isnan(hot) && (isnan(t->temp_max) || hot > t->temp_max))
        t->temp_max = hot;

    double low_frac = t->o.freq_drop_pct / 100.0;
    for (size_t i = 0; i < t->npol; i++) {
        tele_policy *p = &t->pol[i];
        double cur = tele_policy_mhz(p, "scaling_cur_freq");
        double max = tele_policy_mhz(p, "scaling_max_freq");
        if (csv && !isnan(cur)) {
            snprintf(sensor, sizeof sensor, "%s/cur_freq", p->name);
            tele_row(csv, run_id, trial_label, t_ms, sensor, cur, "%.0f", "MHz");
            rows++;
        }
        if (csv && !isnan(max)) {
            snprintf(sensor, sizeof sensor, "%s/max_freq", p->name);
            tele_row(csv, run_id, trial_label, t_ms, sensor, max, "%.0f", "MHz");
            rows++;
        }
        if (!isnan(max) && (isnan(p->max_low_mhz) || max < p->max_low_mhz))
            p->max_low_mhz = max;
        if (!p->in_trial || isnan(cur))
            continue;
        t->freq_sum += cur;
        t->freq_n++;
        p->count++;
        /* Low against the highest frequency reached before this sample. */
        if (!isnan(p->peak_mhz) && cur < low_frac * p->peak_mhz) {
            p->low_count++;
            if (isnan(p->low_mhz) || cur < p->low_mhz) {
                p->low_mhz = cur;
                p->low_ref_mhz = p->peak_mhz;
            }
        }
        if (isnan(p->peak_mhz) || cur > p->peak_mhz)
            p->peak_mhz = cur;
    }

    if (t->cmd[0] && t_ms - t->last_cmd_ms >= t->o.cmd_every_ms) {
        unsigned bits;
        t->last_cmd_ms = t_ms;
        if (tele_rpi_read(t, &bits) == 0)
            t->rpi_now_or |= bits & TELE_RPI_NOW;
    }
    t->samples++;
    if (csv && ferror(csv))
        return -1;
    return rows;
}

void eb_telemetry_end(eb_telemetry *t, eb_telemetry_summary *s)
{
    memset(s, 0, sizeof *s);
    s->samples = t->samples;
    s->temp_start_c = t->temp_start;
    s->temp_end_c = eb_telemetry_hottest_c(t);
    s->temp_max_c = t->temp_max;
    if (!isnan(s->temp_end_c) && (isnan(s->temp_max_c) || s->temp_end_c > s->temp_max_c))
        s->temp_max_c = s->temp_end_c;
    s->freq_mhz_mean = t->freq_n ? t->freq_sum / (double)t->freq_n : NAN;

    int can_tell = 0;
    char text[160];

    /* thermal_throttle counters */
    int core_more = 0, core_first = -1, pkg_first = -1;
    long long core_delta = 0, pkg_delta = 0;
    for (size_t i = 0; i < t->ncpus; i++) {
        const tele_cpu *c = &t->cpus[i];
        int mine = t->mask_all || tele_mask_has(t->mask, c->cpu);
        if ((c->has_core && mine) || c->has_pkg)
            can_tell = 1;
        if (c->has_core && mine && c->core0 >= 0) {
            long long v = tele_cpu_count(c->cpu, "core_throttle_count");
            if (v > c->core0) {
                if (core_first < 0) {
                    core_first = c->cpu;
                    core_delta = v - c->core0;
                } else {
                    core_more++;
                }
            }
        }
        if (c->has_pkg && c->pkg0 >= 0 && pkg_first < 0) {
            long long v = tele_cpu_count(c->cpu, "package_throttle_count");
            if (v > c->pkg0) {
                pkg_first = c->cpu;
                pkg_delta = v - c->pkg0;
            }
        }
    }
    if (core_first >= 0) {
        if (core_more)
            snprintf(text, sizeof text, "cpu%d core_throttle_count +%lld (and %d more cpus)",
                     core_first, core_delta, core_more);
        else
            snprintf(text, sizeof text, "cpu%d core_throttle_count +%lld", core_first,
                     core_delta);
        tele_reason_add(s->reason, sizeof s->reason, text);
    }
    if (pkg_first >= 0) {
        snprintf(text, sizeof text, "cpu%d package_throttle_count +%lld", pkg_first, pkg_delta);
        tele_reason_add(s->reason, sizeof s->reason, text);
    }

    /* cpufreq: a capped maximum, or a frequency that fell from its peak */
    for (size_t i = 0; i < t->npol; i++) {
        tele_policy *p = &t->pol[i];
        if (!p->in_trial)
            continue;
        can_tell = 1;
        double max_end = tele_policy_mhz(p, "scaling_max_freq");
        if (!isnan(max_end) && (isnan(p->max_low_mhz) || max_end < p->max_low_mhz))
            p->max_low_mhz = max_end;
        char a[32], b[32];
        if (!isnan(p->max_begin_mhz) && p->max_low_mhz < p->max_begin_mhz) {
            tele_freq_text(p->max_begin_mhz, a, sizeof a);
            tele_freq_text(p->max_low_mhz, b, sizeof b);
            snprintf(text, sizeof text, "%s max %s -> %s", p->name, a, b);
            tele_reason_add(s->reason, sizeof s->reason, text);
        }
        if (p->count > 0 && p->low_count >= 2 &&
            (double)p->low_count >= t->o.low_share * (double)p->count) {
            tele_freq_text(p->low_mhz, a, sizeof a);
            tele_freq_text(p->low_ref_mhz, b, sizeof b);
            snprintf(text, sizeof text, "%s %s < %g%% of %s", p->name, a, t->o.freq_drop_pct,
                     b);
            tele_reason_add(s->reason, sizeof s->reason, text);
        }
    }

    /* Raspberry Pi firmware */
    if (t->cmd[0]) {
        unsigned end_bits = 0;
        int end_ok = tele_rpi_read(t, &end_bits) == 0;
        if (t->rpi_begin_ok || end_ok)
            can_tell = 1;
        unsigned now = t->rpi_now_or | (end_ok ? end_bits & TELE_RPI_NOW : 0);
        unsigned occurred = t->rpi_begin_ok && end_ok
                                ? (end_bits & ~t->rpi_begin & TELE_RPI_OCCURRED) >> 16
                                : 0;
        if (now | occurred) {
            char names[96];
            tele_rpi_text(now | occurred, names, sizeof names);
            snprintf(text, sizeof text, "rpi: %s", names);
            tele_reason_add(s->reason, sizeof s->reason, text);
        }
    }

    if (s->reason[0])
        s->throttled = 1;
    else if (can_tell)
        s->throttled = 0;
    else {
        s->throttled = -1;
        snprintf(s->reason, sizeof s->reason,
                 "no thermal_throttle counters, cpufreq or get_throttled on this device");
    }
}

/* ---- results.csv columns ------------------------------------------------------------------ */

static const char *const tele_columns[] = {
    "throttled", "throttle_reason", "temp_start_c", "temp_end_c", "temp_max_c",
    "freq_mhz_mean", NULL,
};

const char *const *eb_telemetry_columns(void)
{
    return tele_columns;
}

static void tele_num(double v, const char *fmt, char *buf, size_t n)
{
    if (isnan(v))
        buf[0] = '\0';
    else
        snprintf(buf, n, fmt, v);
}

void eb_telemetry_field(const eb_telemetry_summary *s, const char *column, char *buf, size_t n)
{
    if (n == 0)
        return;
    buf[0] = '\0';
    if (strcmp(column, "throttled") == 0)
        snprintf(buf, n, "%s", s->throttled > 0 ? "true" : s->throttled == 0 ? "false" : "");
    else if (strcmp(column, "throttle_reason") == 0)
        snprintf(buf, n, "%s", s->reason);
    else if (strcmp(column, "temp_start_c") == 0)
        tele_num(s->temp_start_c, "%.1f", buf, n);
    else if (strcmp(column, "temp_end_c") == 0)
        tele_num(s->temp_end_c, "%.1f", buf, n);
    else if (strcmp(column, "temp_max_c") == 0)
        tele_num(s->temp_max_c, "%.1f", buf, n);
    else if (strcmp(column, "freq_mhz_mean") == 0)
        tele_num(s->freq_mhz_mean, "%.0f", buf, n);
}
