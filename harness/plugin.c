/* Loading backend plugins with dlopen (plugin.h). */
#include "plugin.h"

#include <dirent.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How many bytes of eb_backend_i a table of each API version has. */
static size_t plugin_table_size(unsigned version)
{
    if (version >= 3)
        return sizeof(eb_backend_i);
    return version == 2 ? offsetof(eb_backend_i, plan) : offsetof(eb_backend_i, memory);
}

const char *eb_plugin_dirs(char *buf, size_t n)
{
    char exe[PATH_MAX];
    const char *env = getenv("EDGEBENCH_BACKEND_PATH");
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    size_t used = 0;
    if (n)
        buf[0] = '\0';
    if (env && env[0])
        used = (size_t)snprintf(buf, n, "%s", env);
    if (k > 0 && used < n) {
        exe[k] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
        snprintf(buf + used, n - used, "%s%s/../lib/edgebench:%s/../build/lib/edgebench",
                 used ? ":" : "", exe, exe);
    }
    return buf;
}

/* "DIR/backend-NAME.so" -> NAME (into buf); "" when the file is not named that way. */
static const char *plugin_file_name(const char *file, char *buf, size_t n)
{
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    size_t len = strlen(base);
    buf[0] = '\0';
    if (strncmp(base, "backend-", 8) == 0 && len > 11 && strcmp(base + len - 3, ".so") == 0)
        snprintf(buf, n, "%.*s", (int)(len - 11), base + 8);
    return buf;
}

int eb_plugin_load(const char *file, eb_backend_i *table, char *why, size_t n)
{
    char want[128];
    /* RTLD_NOW: an unresolved symbol refuses the plugin here, not mid-trial.  RTLD_LOCAL: its
     * symbols (its own copy of eb_errf, say) never interpose on ours or another plugin's. */
    void *h = dlopen(file, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(why, n, "dlopen failed: %s", e ? e : "unknown error");
        return -1;
    }
    eb_backend_entry_fn entry;
    /* POSIX's sanctioned way to turn dlsym's void * into a function pointer. */
    *(void **)&entry = dlsym(h, EB_BACKEND_ENTRY);
    if (!entry) {
        snprintf(why, n, "no symbol %s (a plugin exports `const eb_backend_i *%s(unsigned)`)",
                 EB_BACKEND_ENTRY, EB_BACKEND_ENTRY);
        dlclose(h);
        return -1;
    }
    const eb_backend_i *b = entry(EB_BACKEND_API);
    if (!b) {
        snprintf(why, n, "%s(%u) returned NULL: the plugin declined this edgebench's backend API",
                 EB_BACKEND_ENTRY, EB_BACKEND_API);
        dlclose(h);
        return -1;
    }
    if (b->api_version < 1 || b->api_version > EB_BACKEND_API) {
        snprintf(why, n, "built for backend API %u, this edgebench speaks 1 to %u; rebuild it "
                         "against this backends/backend.h",
                 b->api_version, EB_BACKEND_API);
        dlclose(h);
        return -1;
    }
    if (!b->name || !b->name[0] || !b->formats || !b->description || !b->open || !b->io ||
        !b->run || !b->close) {
        snprintf(why, n, "its table lacks a required field (name, description, formats, open, "
                         "io, run, close)");
        dlclose(h);
        return -1;
    }
    plugin_file_name(file, want, sizeof want);
    if (want[0] && strcmp(want, b->name) != 0) {
        snprintf(why, n, "the file is named for backend '%s' but exports '%.100s'", want,
                 b->name);
        dlclose(h);
        return -1;
    }
    memset(table, 0, sizeof *table);
    memcpy(table, b, plugin_table_size(b->api_version));
    /* The harness calls the copy; past this point it speaks the host's version. */
    table->api_version = EB_BACKEND_API;
    return 0; /* the handle stays open for the process's life (plugin.h) */
}

static int plugin_name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void plugin_refuse(eb_plugins *p, const char *path, const char *why)
{
    if (p->n_refused == EB_MAX_PLUGINS)
        return;
    eb_plugin_refusal *r = &p->refused[p->n_refused++];
    snprintf(r->path, sizeof r->path, "%s", path);
    snprintf(r->why, sizeof r->why, "%s", why);
}

/* Is `name` already a built-in's or an earlier plugin's?  Returns who has it, or NULL. */
static const char *plugin_taken(const eb_plugins *p, const char *name, const char *const *taken,
                                size_t n_taken)
{
    for (size_t i = 0; i < n_taken; i++)
        if (strcmp(taken[i], name) == 0)
            return "a built-in backend";
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->tables[i].name, name) == 0)
            return p->paths[i];
    return NULL;
}

static void plugin_scan_dir(eb_plugins *p, const char *dir, const char *const *taken,
                            size_t n_taken)
{
    DIR *d = opendir(dir);
    char *names[256];
    size_t k = 0;
    if (!d)
        return; /* a missing directory on the path is normal (no install, no tree) */
    for (struct dirent *e; (e = readdir(d)) && k < 256;) {
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, "backend-", 8) == 0 && len > 11 &&
            strcmp(e->d_name + len - 3, ".so") == 0 && (names[k] = strdup(e->d_name)))
            k++;
    }
    closedir(d);
    qsort(names, k, sizeof *names, plugin_name_cmp);
    for (size_t i = 0; i < k; i++) {
        char path[512], why[384];
        eb_backend_i table;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        free(names[i]);
        if (p->n == EB_MAX_PLUGINS) {
            plugin_refuse(p, path, "too many plugins (at most 32)");
            continue;
        }
        if (eb_plugin_load(path, &table, why, sizeof why) != 0) {
            plugin_refuse(p, path, why);
            continue;
        }
        const char *who = plugin_taken(p, table.name, taken, n_taken);
        if (who) {
            snprintf(why, sizeof why, "backend name '%.64s' is already taken by %.250s",
                     table.name, who);
            plugin_refuse(p, path, why);
            continue; /* its handle stays open: unloading code we called is not worth it */
        }
        p->tables[p->n] = table;
        snprintf(p->paths[p->n], sizeof p->paths[p->n], "%s", path);
        p->n++;
    }
}

void eb_plugins_scan(eb_plugins *p, const char *dirs, const char *const *taken, size_t n_taken)
{
    char *copy = strdup(dirs ? dirs : "");
    char seen[8][PATH_MAX];
    size_t n_seen = 0;
    if (!copy)
        return;
    for (char *save = NULL, *dir = strtok_r(copy, ":", &save); dir;
         dir = strtok_r(NULL, ":", &save)) {
        /* The same directory reached twice (the env var naming the tree's) is scanned once. */
        char real[PATH_MAX];
        int dup = 0;
        if (!realpath(dir, real))
            continue;
        for (size_t i = 0; i < n_seen; i++)
            dup |= strcmp(seen[i], real) == 0;
        if (dup)
            continue;
        if (n_seen < 8)
            snprintf(seen[n_seen++], PATH_MAX, "%s", real);
        plugin_scan_dir(p, dir, taken, n_taken);
    }
    free(copy);
}
