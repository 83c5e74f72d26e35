/* The device: hwloc topology, core specs and pinning, and the OS state that moves numbers.
 *
 * Two environment variables let tests (and users debugging a report) substitute the machine:
 *   EDGEBENCH_SYSFS         the root every sysfs read goes through (default "/sys")
 *   EDGEBENCH_TOPOLOGY_XML  an hwloc XML topology to describe instead of this machine; pinning
 *                           refuses to run on it, since it does not describe the CPUs we are on.
 * The topology is loaded per call: these functions run once per trial or per report, and a
 * load costs a few milliseconds, which keeps the module free of global state.
 */
#include "device.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <hwloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#define DEV_MAX_POLICIES 64
#define DEV_NA "n/a"

#if defined(__clang__)
#define DEV_COMPILER "clang " __clang_version__
#elif defined(__GNUC__)
#define DEV_COMPILER "gcc " __VERSION__
#else
#define DEV_COMPILER "unknown compiler"
#endif

/* ---- small file helpers ------------------------------------------------------------------ */

static const char *dev_sysfs_root(void)
{
    const char *root = getenv("EDGEBENCH_SYSFS");
    return root && root[0] ? root : "/sys";
}

/* Reads the first line of a small file, without its newline.  -1 when it cannot be read. */
static int dev_read_line(const char *path, char *buf, size_t n)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    if (!fgets(buf, (int)n, f)) {
        fclose(f);
        return -1;
    }
    fclose(f);
    buf[strcspn(buf, "\r\n")] = '\0';
    return 0;
}

static long dev_read_long(const char *path)
{
    char line[64], *end;
    if (dev_read_line(path, line, sizeof line) != 0)
        return -1;
    errno = 0;
    long v = strtol(line, &end, 10);
    return errno || end == line ? -1 : v;
}

/* Finds `key` at the start of a line of a "key<sep>value" file and copies the value, with
 * surrounding blanks, colons, '=' and quotes removed. */
static int dev_read_keyed(const char *path, const char *key, char *buf, size_t n)
{
    FILE *f = fopen(path, "r");
    char line[1024];
    size_t klen = strlen(key);
    int found = -1;
    if (!f)
        return -1;
    while (found && fgets(line, sizeof line, f)) {
        if (strncmp(line, key, klen) != 0)
            continue;
        char *v = line + klen;
        if (*v != ':' && *v != '=' && *v != ' ' && *v != '\t')
            continue; /* a longer key with the same prefix */
        v += strspn(v, " \t:=\"");
        v[strcspn(v, "\r\n")] = '\0';
        size_t len = strlen(v);
        while (len && (v[len - 1] == '"' || isspace((unsigned char)v[len - 1])))
            v[--len] = '\0';
        snprintf(buf, n, "%s", v);
        found = 0;
    }
    fclose(f);
    return found;
}

/* FNV-1a, 32 bits: short, stable across builds and platforms. */
static uint32_t dev_fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h;
}

/* ---- topology ---------------------------------------------------------------------------- */

static int dev_topology_load(hwloc_topology_t *topo, eb_err *err)
{
    const char *xml = getenv("EDGEBENCH_TOPOLOGY_XML");
    if (hwloc_topology_init(topo) != 0)
        return eb_errf(err, "device: hwloc could not initialise a topology (%s)",
                       strerror(errno));
    /* Instruction caches are filtered out by default; the report lists them. */
    hwloc_topology_set_icache_types_filter(*topo, HWLOC_TYPE_FILTER_KEEP_ALL);
    if (xml && xml[0] && hwloc_topology_set_xml(*topo, xml) != 0) {
        int e = errno;
        hwloc_topology_destroy(*topo);
        return eb_errf(err, "EDGEBENCH_TOPOLOGY_XML=%s: hwloc cannot use it (%s); fix the "
                            "path or unset the variable",
                       xml, strerror(e));
    }
    if (hwloc_topology_load(*topo) != 0) {
        int e = errno;
        hwloc_topology_destroy(*topo);
        if (xml && xml[0])
            return eb_errf(err, "EDGEBENCH_TOPOLOGY_XML=%s: not a valid hwloc XML topology "
                                "(%s); export one with `lstopo --of xml` or unset the variable",
                           xml, strerror(e));
        return eb_errf(err, "device: hwloc could not load this machine's topology (%s)",
                       strerror(e));
    }
    return 0;
}

/* Cores as the user counts them: Core objects, or PUs where the OS reports no cores. */
static hwloc_obj_type_t dev_core_type(hwloc_topology_t t)
{
    return hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_CORE) > 0 ? HWLOC_OBJ_CORE : HWLOC_OBJ_PU;
}

typedef struct dev_facts {
    char cpu_model[256];
    char arch[80];
    int packages, cores, pus, numa_nodes;
    unsigned long long memory_bytes;
    char os[256];
    char kernel[256];         /* "Linux 6.1.0-18-arm64" */
    char kernel_release[128]; /* "6.1.0-18-arm64" */
} dev_facts;

static void dev_cpu_model(hwloc_topology_t t, char *buf, size_t n)
{
    hwloc_obj_t pkg = t ? hwloc_get_obj_by_type(t, HWLOC_OBJ_PACKAGE, 0) : NULL;
    const char *m = pkg ? hwloc_obj_get_info_by_name(pkg, "CPUModel") : NULL;
    if (m && m[0]) {
        snprintf(buf, n, "%s", m);
        return;
    }
    /* x86 names the CPU in "model name"; many ARM boards only name the board in "Model". */
    if (dev_read_keyed("/proc/cpuinfo", "model name", buf, n) == 0 && buf[0])
        return;
    if (dev_read_keyed("/proc/cpuinfo", "Model", buf, n) == 0 && buf[0])
        return;
    snprintf(buf, n, DEV_NA);
}

/* Gathers what the report, the metadata and the fingerprint share.  `t` may be NULL when the
 * topology could not be loaded; counts are then -1 and strings "n/a". */
static void dev_facts_gather(hwloc_topology_t t, dev_facts *f)
{
    struct utsname u;
    memset(f, 0, sizeof *f);
    dev_cpu_model(t, f->cpu_model, sizeof f->cpu_model);
    int have_uname = uname(&u) == 0;

    const char *arch = t ? hwloc_obj_get_info_by_name(hwloc_get_root_obj(t), "Architecture")
                         : NULL;
    snprintf(f->arch, sizeof f->arch, "%s",
             arch && arch[0] ? arch : have_uname ? u.machine : DEV_NA);
    if (t) {
        f->packages = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PACKAGE);
        if (f->packages == 0)
            f->packages = 1; /* hwloc reports none on some ARM boards: there is one */
        f->cores = hwloc_get_nbobjs_by_type(t, dev_core_type(t));
        f->pus = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PU);
        f->numa_nodes = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_NUMANODE);
        f->memory_bytes = (unsigned long long)hwloc_get_root_obj(t)->total_memory;
        /* NUMA nodes can under-report what the OS has (seen on VMs with hot-plugged memory,
         * where node0 says 5 GiB of 24): on the live device, trust /proc/meminfo. */
        unsigned long long os_kb = 0;
        char line[128];
        FILE *mi = getenv("EDGEBENCH_TOPOLOGY_XML") ? NULL : fopen("/proc/meminfo", "r");
        while (mi && fgets(line, sizeof line, mi))
            if (sscanf(line, "MemTotal: %llu kB", &os_kb) == 1)
                break;
        if (mi)
            fclose(mi);
        if (os_kb * 1024 > f->memory_bytes)
            f->memory_bytes = os_kb * 1024;
    } else {
        f->packages = f->cores = f->pus = f->numa_nodes = -1;
    }
    if (dev_read_keyed("/etc/os-release", "PRETTY_NAME", f->os, sizeof f->os) != 0 ||
        !f->os[0])
        snprintf(f->os, sizeof f->os, DEV_NA);
    if (have_uname) {
        snprintf(f->kernel, sizeof f->kernel, "%s %s", u.sysname, u.release);
        snprintf(f->kernel_release, sizeof f->kernel_release, "%s", u.release);
    } else {
        snprintf(f->kernel, sizeof f->kernel, DEV_NA);
        snprintf(f->kernel_release, sizeof f->kernel_release, DEV_NA);
    }
}

static void dev_fingerprint_of(const dev_facts *f, char *buf, size_t n)
{
    char key[1024];
    /* Memory rounded to GiB, so a few MiB the firmware reserves differently do not matter. */
    unsigned long long gib = (f->memory_bytes + (1ull << 29)) >> 30;
    snprintf(key, sizeof key, "%s|%s|%d|%d|%llu|%s", f->cpu_model, f->arch, f->cores, f->pus,
             gib, f->kernel_release);
    snprintf(buf, n, "%s-%dc%dt-%08x", f->arch, f->cores, f->pus, dev_fnv1a(key));
}

/* ---- cpufreq ----------------------------------------------------------------------------- */

typedef struct dev_policy {
    int id;
    char governor[64];
    char cpus[128];
    long cur_khz, min_khz, max_khz;
} dev_policy;

static int dev_policy_cmp(const void *a, const void *b)
{
    return ((const dev_policy *)a)->id - ((const dev_policy *)b)->id;
}

/* Reads ROOT/devices/system/cpu/cpufreq/policy*; returns how many were found (0: no cpufreq,
 * as in most VMs). */
static size_t dev_policies_read(dev_policy *p, size_t max, char *dir, size_t dir_n)
{
    char path[4096];
    size_t n = 0;
    snprintf(dir, dir_n, "%s/devices/system/cpu/cpufreq", dev_sysfs_root());
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *e;
    while (n < max && (e = readdir(d))) {
        char *end;
        if (strncmp(e->d_name, "policy", 6) != 0)
            continue;
        long id = strtol(e->d_name + 6, &end, 10);
        if (end == e->d_name + 6 || *end)
            continue;
        dev_policy *q = &p[n++];
        memset(q, 0, sizeof *q);
        q->id = (int)id;
#define DEV_POLICY_FILE(name) (snprintf(path, sizeof path, "%s/%s/%s", dir, e->d_name, name), path)
        if (dev_read_line(DEV_POLICY_FILE("scaling_governor"), q->governor,
                          sizeof q->governor) != 0 ||
            !q->governor[0])
            snprintf(q->governor, sizeof q->governor, DEV_NA);
        if (dev_read_line(DEV_POLICY_FILE("affected_cpus"), q->cpus, sizeof q->cpus) != 0)
            snprintf(q->cpus, sizeof q->cpus, "?");
        q->cur_khz = dev_read_long(DEV_POLICY_FILE("scaling_cur_freq"));
        if (q->cur_khz < 0)
            q->cur_khz = dev_read_long(DEV_POLICY_FILE("cpuinfo_cur_freq"));
        q->min_khz = dev_read_long(DEV_POLICY_FILE("scaling_min_freq"));
        q->max_khz = dev_read_long(DEV_POLICY_FILE("scaling_max_freq"));
#undef DEV_POLICY_FILE
    }
    closedir(d);
    qsort(p, n, sizeof *p, dev_policy_cmp);
    return n;
}

static void dev_mhz_str(long khz, char *buf, size_t n)
{
    if (khz < 0)
        snprintf(buf, n, DEV_NA);
    else
        snprintf(buf, n, "%ld", (khz + 500) / 1000);
}

/* One governor when all policies agree, else each policy's joined with ','; "n/a" if none. */
static void dev_governor_str(const dev_policy *p, size_t np, char *buf, size_t n)
{
    size_t used = 0;
    int same = 1;
    for (size_t i = 1; i < np; i++)
        same &= strcmp(p[i].governor, p[0].governor) == 0;
    snprintf(buf, n, DEV_NA);
    for (size_t i = 0; i < (same && np ? 1 : np) && used < n; i++) {
        int w = snprintf(buf + used, n - used, "%s%s", i ? "," : "", p[i].governor);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

/* Current MHz per policy, joined with ','; "n/a" if none. */
static void dev_mhz_list(const dev_policy *p, size_t np, char *buf, size_t n)
{
    size_t used = 0;
    snprintf(buf, n, DEV_NA);
    for (size_t i = 0; i < np && used < n; i++) {
        char mhz[32];
        dev_mhz_str(p[i].cur_khz, mhz, sizeof mhz);
        int w = snprintf(buf + used, n - used, "%s%s", i ? "," : "", mhz);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

static void dev_loadavg_str(char *buf, size_t n)
{
    double la[3];
    if (getloadavg(la, 3) == 3)
        snprintf(buf, n, "%.2f %.2f %.2f", la[0], la[1], la[2]);
    else
        snprintf(buf, n, DEV_NA);
}

/* ---- the report -------------------------------------------------------------------------- */

#define DEV_KEY_W 16
/* One aligned "key: value" line of the report. */
static void dev_line(FILE *f, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void dev_line(FILE *f, const char *key, const char *fmt, ...)
{
    va_list ap;
    char k[64];
    snprintf(k, sizeof k, "%s:", key);
    fprintf(f, "%-*s ", DEV_KEY_W, k);
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
}

static void dev_size_str(unsigned long long bytes, char *buf, size_t n)
{
    if (bytes >= (1ull << 30) && bytes % (1ull << 30) == 0)
        snprintf(buf, n, "%llu GiB", bytes >> 30);
    else if (bytes >= (1ull << 20) && bytes % (1ull << 20) == 0)
        snprintf(buf, n, "%llu MiB", bytes >> 20);
    else if (bytes >= 1024 && bytes % 1024 == 0)
        snprintf(buf, n, "%llu KiB", bytes >> 10);
    else
        snprintf(buf, n, "%llu B", bytes);
}

/* "4 x 32 KiB + 4 x 64 KiB": caches of one level grouped by size (big.LITTLE differ). */
static void dev_print_cache(FILE *f, hwloc_topology_t t, hwloc_obj_type_t type, const char *key)
{
    enum { MAX_SIZES = 8 };
    unsigned long long size[MAX_SIZES];
    int count[MAX_SIZES], ns = 0;
    int n = hwloc_get_nbobjs_by_type(t, type);
    for (int i = 0; i < n; i++) {
        hwloc_obj_t o = hwloc_get_obj_by_type(t, type, (unsigned)i);
        if (type == HWLOC_OBJ_L1CACHE && o->attr->cache.type == HWLOC_OBJ_CACHE_INSTRUCTION)
            continue;
        unsigned long long s = (unsigned long long)o->attr->cache.size;
        int j = 0;
        while (j < ns && size[j] != s)
            j++;
        if (j == ns) {
            if (ns == MAX_SIZES)
                continue;
            size[ns] = s;
            count[ns++] = 0;
        }
        count[j]++;
    }
    char line[512] = DEV_NA;
    size_t used = 0;
    for (int j = 0; j < ns && used < sizeof line; j++) {
        char sz[32];
        dev_size_str(size[j], sz, sizeof sz);
        int w = snprintf(line + used, sizeof line - used, "%s%d x %s", j ? " + " : "", count[j],
                         sz);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    dev_line(f, key, "%s", line);
}

static void dev_print_kinds(FILE *f, hwloc_topology_t t)
{
    int nk = hwloc_cpukinds_get_nr(t, 0);
    if (nk <= 1)
        dev_line(f, "core kinds", "1 kind (homogeneous)");
    else
        dev_line(f, "core kinds", "%d kinds (big.LITTLE / hybrid)", nk);
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    for (int k = 0; set && k < nk; k++) {
        int eff;
        unsigned ninfo;
        struct hwloc_info_s *info;
        char cpus[256], key[32], line[1024];
        size_t used;
        if (hwloc_cpukinds_get_info(t, (unsigned)k, set, &eff, &ninfo, &info, 0) != 0)
            continue;
        hwloc_bitmap_list_snprintf(cpus, sizeof cpus, set);
        used = (size_t)snprintf(line, sizeof line, "PUs %s, efficiency %s", cpus,
                                eff < 0 ? "unranked" : "");
        if (eff >= 0)
            used += (size_t)snprintf(line + used, sizeof line - used, "%d", eff);
        for (unsigned i = 0; i < ninfo && used < sizeof line; i++)
            used += (size_t)snprintf(line + used, sizeof line - used, ", %s=%s", info[i].name,
                                     info[i].value);
        snprintf(key, sizeof key, "  kind %d", k);
        dev_line(f, key, "%s", line);
    }
    hwloc_bitmap_free(set);
}

static void dev_print_cpufreq(FILE *f)
{
    dev_policy p[DEV_MAX_POLICIES];
    char dir[4096], gov[512], mhz[512];
    size_t np = dev_policies_read(p, DEV_MAX_POLICIES, dir, sizeof dir);
    if (np == 0) {
        dev_line(f, "governor", DEV_NA " (no cpufreq policies under %s)", dir);
        dev_line(f, "cpu MHz", DEV_NA);
        return;
    }
    dev_governor_str(p, np, gov, sizeof gov);
    dev_mhz_list(p, np, mhz, sizeof mhz);
    dev_line(f, "governor", "%s", gov);
    dev_line(f, "cpu MHz", "%s", mhz);
    for (size_t i = 0; i < np; i++) {
        char key[32], cur[32], lo[32], hi[32];
        dev_mhz_str(p[i].cur_khz, cur, sizeof cur);
        dev_mhz_str(p[i].min_khz, lo, sizeof lo);
        dev_mhz_str(p[i].max_khz, hi, sizeof hi);
        snprintf(key, sizeof key, "  policy%d", p[i].id);
        dev_line(f, key, "cpus %s, governor %s, %s MHz (min %s, max %s)", p[i].cpus,
                 p[i].governor, cur, lo, hi);
    }
}

int eb_device_print_info(FILE *f, eb_err *err)
{
    hwloc_topology_t t;
    dev_facts d;
    char buf[512];
    if (dev_topology_load(&t, err) != 0)
        return -1;
    dev_facts_gather(t, &d);
    const char *xml = getenv("EDGEBENCH_TOPOLOGY_XML");
    if (xml && xml[0])
        dev_line(f, "topology", "from %s (EDGEBENCH_TOPOLOGY_XML), not this machine", xml);
    dev_line(f, "cpu model", "%s", d.cpu_model);
    dev_line(f, "architecture", "%s", d.arch);
    dev_line(f, "packages", "%d", d.packages);
    dev_line(f, "cores", "%d", d.cores);
    dev_line(f, "PUs", "%d", d.pus);
    dev_print_cache(f, t, HWLOC_OBJ_L1CACHE, "L1d cache");
    dev_print_cache(f, t, HWLOC_OBJ_L1ICACHE, "L1i cache");
    dev_print_cache(f, t, HWLOC_OBJ_L2CACHE, "L2 cache");
    dev_print_cache(f, t, HWLOC_OBJ_L3CACHE, "L3 cache");
    dev_print_kinds(f, t);
    dev_line(f, "NUMA nodes", "%d", d.numa_nodes);
    dev_line(f, "memory", "%.1f GiB (%llu kB)", (double)d.memory_bytes / (1u << 30),
             d.memory_bytes / 1024);
    dev_line(f, "os", "%s", d.os);
    dev_line(f, "kernel", "%s", d.kernel);
    dev_line(f, "compiler", "%s", DEV_COMPILER);
    dev_line(f, "hwloc", "%s (API 0x%x)", HWLOC_VERSION, hwloc_get_api_version());
    dev_print_cpufreq(f);
    dev_loadavg_str(buf, sizeof buf);
    dev_line(f, "load average", "%s", buf);
    dev_fingerprint_of(&d, buf, sizeof buf);
    dev_line(f, "fingerprint", "%s", buf);
    hwloc_topology_destroy(t);
    if (ferror(f))
        return eb_errf(err, "info: could not write the report (%s)", strerror(errno));
    return 0;
}

/* ---- metadata and fingerprint ------------------------------------------------------------ */

static void dev_kv_put(eb_kv *kv, size_t max, size_t *n, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void dev_kv_put(eb_kv *kv, size_t max, size_t *n, const char *key, const char *fmt, ...)
{
    va_list ap;
    if (*n >= max)
        return;
    snprintf(kv[*n].key, sizeof kv[*n].key, "%s", key);
    va_start(ap, fmt);
    vsnprintf(kv[*n].value, sizeof kv[*n].value, fmt, ap);
    va_end(ap);
    (*n)++;
}

size_t eb_device_metadata(eb_kv *kv, size_t max)
{
    hwloc_topology_t t;
    int have_t = dev_topology_load(&t, NULL) == 0;
    dev_facts d;
    dev_policy p[DEV_MAX_POLICIES];
    char dir[4096], buf[512];
    size_t n = 0;

    dev_facts_gather(have_t ? t : NULL, &d);
    dev_kv_put(kv, max, &n, "cpu_model", "%s", d.cpu_model);
    dev_kv_put(kv, max, &n, "arch", "%s", d.arch);
    if (have_t) {
        dev_kv_put(kv, max, &n, "packages", "%d", d.packages);
        dev_kv_put(kv, max, &n, "cores", "%d", d.cores);
        dev_kv_put(kv, max, &n, "pus", "%d", d.pus);
        dev_kv_put(kv, max, &n, "core_kinds", "%d", hwloc_cpukinds_get_nr(t, 0) > 1
                                                        ? hwloc_cpukinds_get_nr(t, 0)
                                                        : 1);
        dev_kv_put(kv, max, &n, "memory_kb", "%llu", d.memory_bytes / 1024);
    } else {
        const char *keys[] = {"packages", "cores", "pus", "core_kinds", "memory_kb"};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            dev_kv_put(kv, max, &n, keys[i], DEV_NA);
    }
    dev_kv_put(kv, max, &n, "os", "%s", d.os);
    dev_kv_put(kv, max, &n, "kernel", "%s", d.kernel);
    dev_kv_put(kv, max, &n, "compiler", "%s", DEV_COMPILER);
    dev_kv_put(kv, max, &n, "hwloc_version", "%s", HWLOC_VERSION);
    size_t np = dev_policies_read(p, DEV_MAX_POLICIES, dir, sizeof dir);
    dev_governor_str(p, np, buf, sizeof buf);
    dev_kv_put(kv, max, &n, "governor", "%s", buf);
    dev_mhz_list(p, np, buf, sizeof buf);
    dev_kv_put(kv, max, &n, "cpu_mhz", "%s", buf);
    dev_loadavg_str(buf, sizeof buf);
    dev_kv_put(kv, max, &n, "loadavg", "%s", buf);
    dev_fingerprint_of(&d, buf, sizeof buf);
    dev_kv_put(kv, max, &n, "fingerprint", "%s", buf);
    if (have_t)
        hwloc_topology_destroy(t);
    return n;
}

void eb_device_fingerprint(char *buf, size_t n)
{
    hwloc_topology_t t;
    int have_t = dev_topology_load(&t, NULL) == 0;
    dev_facts d;
    dev_facts_gather(have_t ? t : NULL, &d);
    dev_fingerprint_of(&d, buf, n);
    if (have_t)
        hwloc_topology_destroy(t);
}

/* ---- cores specs and pinning ------------------------------------------------------------- */

/* The PUs of the core kind with the highest (big) or lowest (little) efficiency.  On a
 * homogeneous device both are every PU, so a scenario written for a big.LITTLE board still
 * runs on a laptop. */
static int dev_kind_cpuset(hwloc_topology_t t, const char *spec, int big, hwloc_bitmap_t out,
                           eb_err *err)
{
    int nk = hwloc_cpukinds_get_nr(t, 0);
    if (nk <= 1) {
        hwloc_bitmap_copy(out, hwloc_topology_get_topology_cpuset(t));
        return 0;
    }
    int best = -1, best_eff = 0;
    for (int k = 0; k < nk; k++) {
        int eff;
        if (hwloc_cpukinds_get_info(t, (unsigned)k, NULL, &eff, NULL, NULL, 0) != 0 || eff < 0)
            return eb_errf(err, "cores '%s': hwloc reports %d core kinds but cannot rank "
                                "them; name the cores by index instead (see `edgebench info`)",
                           spec, nk);
        if (best < 0 || (big ? eff > best_eff : eff < best_eff)) {
            best = k;
            best_eff = eff;
        }
    }
    if (hwloc_cpukinds_get_info(t, (unsigned)best, out, NULL, NULL, NULL, 0) != 0)
        return eb_errf(err, "cores '%s': hwloc could not describe core kind %d", spec, best);
    return 0;
}

/* Resolves a cores spec to a cpuset of PUs (physical indexes, as the OS numbers them). */
static int dev_cores_cpuset(hwloc_topology_t t, const char *spec, hwloc_bitmap_t out,
                            eb_err *err)
{
    hwloc_obj_type_t type = dev_core_type(t);
    int ncores = hwloc_get_nbobjs_by_type(t, type);
    hwloc_bitmap_zero(out);
    if (!spec || !spec[0] || strcmp(spec, "all") == 0) {
        hwloc_bitmap_copy(out, hwloc_topology_get_topology_cpuset(t));
        return 0;
    }
    if (strcmp(spec, "big") == 0 || strcmp(spec, "little") == 0)
        return dev_kind_cpuset(t, spec, spec[0] == 'b', out, err);

    const char *s = spec;
    for (;;) {
        char *end;
        long lo, hi;
        if (!isdigit((unsigned char)*s))
            goto syntax;
        lo = hi = strtol(s, &end, 10);
        s = end;
        if (*s == '-') {
            s++;
            if (!isdigit((unsigned char)*s))
                goto syntax;
            hi = strtol(s, &end, 10);
            s = end;
            if (hi < lo)
                return eb_errf(err, "cores '%s': range %ld-%ld is backwards; write %ld-%ld",
                               spec, lo, hi, hi, lo);
        }
        if (hi >= ncores)
            return ncores == 1
                       ? eb_errf(err, "cores '%s': this device has only core 0", spec)
                       : eb_errf(err, "cores '%s': this device has cores 0-%d", spec, ncores - 1);
        for (long i = lo; i <= hi; i++)
            hwloc_bitmap_or(out, out, hwloc_get_obj_by_type(t, type, (unsigned)i)->cpuset);
        if (*s == '\0')
            return 0;
        if (*s++ != ',')
            goto syntax;
    }
syntax:
    return eb_errf(err, "cores '%s': expected \"all\", \"big\", \"little\" or logical core "
                        "indexes and ranges such as \"0,2\" or \"0-3\"",
                   spec);
}

int eb_device_cores_check(const char *cores, eb_err *err)
{
    char pus[256];
    return eb_device_cores_pus(cores, pus, sizeof pus, err);
}

int eb_device_cores_pus(const char *cores, char *pus, size_t n, eb_err *err)
{
    hwloc_topology_t t;
    if (n)
        pus[0] = '\0';
    if (dev_topology_load(&t, err) != 0)
        return -1;
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    int rc = set ? dev_cores_cpuset(t, cores, set, err)
                 : eb_errf(err, "cores '%s': out of memory", cores ? cores : "all");
    if (rc == 0 && n)
        hwloc_bitmap_list_snprintf(pus, n, set);
    hwloc_bitmap_free(set);
    hwloc_topology_destroy(t);
    return rc;
}

int eb_device_pin(const char *cores, char *bound, size_t n, eb_err *err)
{
    hwloc_topology_t t;
    const char *spec = cores ? cores : "all";
    int rc = -1;
    if (n)
        bound[0] = '\0';
    if (dev_topology_load(&t, err) != 0)
        return -1;
    hwloc_bitmap_t set = hwloc_bitmap_alloc(), got = hwloc_bitmap_alloc();
    if (!set || !got) {
        eb_errf(err, "cores '%s': out of memory", spec);
        goto done;
    }
    /* An XML topology describes another machine: hwloc would "bind" to it as a no-op. */
    if (!hwloc_topology_is_thissystem(t)) {
        eb_errf(err, "cores '%s': cannot pin while EDGEBENCH_TOPOLOGY_XML describes another "
                     "machine; unset it to pin on this one",
                spec);
        goto done;
    }
    if (dev_cores_cpuset(t, spec, set, err) != 0)
        goto done;
    /* Only PUs this process may use (cgroups, taskset) can be bound to. */
    hwloc_bitmap_and(set, set, hwloc_topology_get_allowed_cpuset(t));
    if (hwloc_bitmap_iszero(set)) {
        char allowed[256];
        hwloc_bitmap_list_snprintf(allowed, sizeof allowed,
                                   hwloc_topology_get_allowed_cpuset(t));
        eb_errf(err, "cores '%s': none of their PUs is allowed to this process (allowed: %s); "
                     "check taskset or the cgroup's cpuset",
                spec, allowed);
        goto done;
    }
    if (hwloc_set_cpubind(t, set, HWLOC_CPUBIND_PROCESS) != 0) {
        eb_errf(err, "cores '%s': hwloc could not bind the process (%s)", spec,
                strerror(errno));
        goto done;
    }
    if (hwloc_get_cpubind(t, got, HWLOC_CPUBIND_PROCESS) != 0) {
        eb_errf(err, "cores '%s': bound, but hwloc could not read the binding back (%s)", spec,
                strerror(errno));
        goto done;
    }
    if (n)
        hwloc_bitmap_list_snprintf(bound, n, got);
    rc = 0;
done:
    hwloc_bitmap_free(set);
    hwloc_bitmap_free(got);
    hwloc_topology_destroy(t);
    return rc;
}

/* ---- memory ------------------------------------------------------------------------------ */

void eb_device_memory(long *rss_kb, long *hwm_kb)
{
    char line[256];
    long rss = -1, hwm = -1;
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmRSS:", 6) == 0)
            rss = strtol(line + 6, NULL, 10);
        else if (strncmp(line, "VmHWM:", 6) == 0)
            hwm = strtol(line + 6, NULL, 10);
    }
    if (f)
        fclose(f);
    if (rss_kb)
        *rss_kb = rss;
    if (hwm_kb)
        *hwm_kb = hwm;
}
