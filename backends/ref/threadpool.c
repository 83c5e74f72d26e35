/* Thread pool for ref's kernels (contract in threadpool.h).
 *
 * Synchronisation is two counters and two futexes: the caller publishes a job and bumps
 * `gen`; workers that see a new generation take tasks from `next` until none are left and
 * decrement `busy`; the caller, after taking tasks itself, waits for `busy` to reach zero.
 * Waiting spins for a short while first (the next kernel of the same inference usually comes
 * within microseconds) and then sleeps in the kernel, so an idle session burns no CPU. */
#include "threadpool.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hwloc.h>

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

/* Spin iterations before sleeping: pause takes 10-140 cycles depending on the core, so this
 * is some microseconds to tens of microseconds, enough to bridge consecutive kernels. */
#define POOL_SPIN 2000
#define POOL_MAX_THREADS 256

struct eb_ref_pool;

typedef struct pool_worker {
    struct eb_ref_pool *pool;
    int index;
    pthread_t tid;
    int started;
    hwloc_bitmap_t want; /* the PU this thread is pinned to, or NULL */
} pool_worker;

struct eb_ref_pool {
    int threads;
    _Atomic uint32_t gen;  /* bumped once per job (and once to stop) */
    _Atomic uint32_t busy; /* workers still inside the current job */
    _Atomic int64_t next;  /* next task to hand out */
    _Atomic int stop;
    int64_t n_tasks;
    eb_ref_task_fn fn;
    void *ctx;
    pool_worker *w; /* [threads]; w[0] is the caller */
    hwloc_topology_t topo;
    int topo_ok, pinned;
    hwloc_bitmap_t caller_old; /* the caller's binding before pinning, restored at destroy */
    char why[160];             /* why the pool is unpinned, or "" */
};

static inline void pool_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* Sleeps while *addr == val (futex on Linux; a short sleep elsewhere). */
static void pool_wait(_Atomic uint32_t *addr, uint32_t val)
{
#if defined(__linux__)
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
#else
    (void)addr, (void)val;
    sched_yield();
#endif
}

static void pool_wake(_Atomic uint32_t *addr)
{
#if defined(__linux__)
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
#else
    (void)addr;
#endif
}

/* Waits until *addr != val: spin, then sleep. */
static uint32_t pool_await_change(_Atomic uint32_t *addr, uint32_t val)
{
    uint32_t v;
    for (int i = 0; i < POOL_SPIN; i++) {
        v = atomic_load_explicit(addr, memory_order_acquire);
        if (v != val)
            return v;
        pool_pause();
    }
    while ((v = atomic_load_explicit(addr, memory_order_acquire)) == val)
        pool_wait(addr, val);
    return v;
}

static void pool_do_tasks(eb_ref_pool *p, int thread)
{
    for (;;) {
        int64_t t = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed);
        if (t >= p->n_tasks)
            return;
        p->fn(p->ctx, t, thread);
    }
}

/* Binds thread w (the caller for index 0), synchronously, so the binding holds when create
 * returns and eb_ref_pool_binding can verify it. */
static void pool_pin(eb_ref_pool *p, pool_worker *w)
{
    if (!w->want)
        return;
    int rc = w->index == 0 ? hwloc_set_cpubind(p->topo, w->want, HWLOC_CPUBIND_THREAD)
                           : hwloc_set_thread_cpubind(p->topo, w->tid, w->want,
                                                      HWLOC_CPUBIND_THREAD);
    if (rc != 0)
        snprintf(p->why, sizeof p->why, "hwloc binding of thread %d failed: %s", w->index,
                 strerror(errno));
}

static void *pool_main(void *arg)
{
    pool_worker *w = arg;
    eb_ref_pool *p = w->pool;
    uint32_t seen = 0;
    for (;;) {
        seen = pool_await_change(&p->gen, seen);
        if (atomic_load_explicit(&p->stop, memory_order_acquire))
            return NULL;
        pool_do_tasks(p, w->index);
        if (atomic_fetch_sub_explicit(&p->busy, 1, memory_order_acq_rel) == 1)
            pool_wake(&p->busy);
    }
}

/* Chooses each thread's PU: the i-th PU of the process's binding. */
static void pool_plan_pins(eb_ref_pool *p)
{
    if (hwloc_topology_init(&p->topo) != 0 || hwloc_topology_load(p->topo) != 0) {
        snprintf(p->why, sizeof p->why, "hwloc could not load the topology");
        return;
    }
    p->topo_ok = 1;
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    p->caller_old = hwloc_bitmap_alloc();
    if (!set || !p->caller_old) {
        hwloc_bitmap_free(set);
        snprintf(p->why, sizeof p->why, "out of memory");
        return;
    }
    if (hwloc_get_cpubind(p->topo, set, HWLOC_CPUBIND_PROCESS) != 0 ||
        hwloc_get_cpubind(p->topo, p->caller_old, HWLOC_CPUBIND_THREAD) != 0) {
        snprintf(p->why, sizeof p->why, "hwloc_get_cpubind failed: %s", strerror(errno));
        hwloc_bitmap_free(set);
        return;
    }
    int n_pu = hwloc_bitmap_weight(set);
    if (n_pu <= 0) {
        snprintf(p->why, sizeof p->why, "the process binding lists no PU");
        hwloc_bitmap_free(set);
        return;
    }
    for (int i = 0; i < p->threads; i++) {
        int pu = hwloc_bitmap_first(set);
        for (int k = 0; k < i % n_pu; k++)
            pu = hwloc_bitmap_next(set, pu);
        p->w[i].want = hwloc_bitmap_alloc();
        if (p->w[i].want)
            hwloc_bitmap_only(p->w[i].want, (unsigned)pu);
    }
    hwloc_bitmap_free(set);
    p->pinned = 1;
}

int eb_ref_pool_create(int threads, int pin, eb_ref_pool **out, eb_err *err)
{
    *out = NULL;
    if (threads < 1)
        threads = 1;
    if (threads > POOL_MAX_THREADS)
        return eb_errf(err, "threadpool.c: %d threads asked, at most %d; lower `threads`",
                       threads, POOL_MAX_THREADS);
    eb_ref_pool *p = calloc(1, sizeof *p);
    if (!p || !(p->w = calloc((size_t)threads, sizeof *p->w))) {
        free(p);
        return eb_errf(err, "threadpool.c: out of memory creating %d threads", threads);
    }
    p->threads = threads;
    for (int i = 0; i < threads; i++)
        p->w[i] = (pool_worker){.pool = p, .index = i};
    if (pin)
        pool_plan_pins(p);
    else
        snprintf(p->why, sizeof p->why, "pinning off");
    if (p->pinned)
        pool_pin(p, &p->w[0]);
    for (int i = 1; i < threads; i++) {
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        /* Kernels keep their packing blocks on the stack (ops_gemm.c): give room. */
        pthread_attr_setstacksize(&attr, (size_t)2 << 20);
        int rc = pthread_create(&p->w[i].tid, &attr, pool_main, &p->w[i]);
        pthread_attr_destroy(&attr);
        if (rc != 0) {
            eb_ref_pool_destroy(p);
            return eb_errf(err, "threadpool.c: could not start thread %d of %d: %s; lower "
                                "`threads`",
                           i + 1, threads, strerror(rc));
        }
        p->w[i].started = 1;
        if (p->pinned)
            pool_pin(p, &p->w[i]);
    }
    *out = p;
    return 0;
}

void eb_ref_pool_run(eb_ref_pool *p, int64_t n_tasks, eb_ref_task_fn fn, void *ctx)
{
    if (n_tasks <= 0)
        return;
    if (!p || p->threads == 1 || n_tasks == 1) {
        for (int64_t t = 0; t < n_tasks; t++)
            fn(ctx, t, 0);
        return;
    }
    p->fn = fn;
    p->ctx = ctx;
    p->n_tasks = n_tasks;
    atomic_store_explicit(&p->next, 0, memory_order_relaxed);
    atomic_store_explicit(&p->busy, (uint32_t)(p->threads - 1), memory_order_relaxed);
    atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
    pool_wake(&p->gen);
    pool_do_tasks(p, 0);
    uint32_t b;
    while ((b = atomic_load_explicit(&p->busy, memory_order_acquire)) != 0)
        pool_await_change(&p->busy, b);
}

int eb_ref_pool_threads(const eb_ref_pool *p)
{
    return p ? p->threads : 1;
}

const char *eb_ref_pool_binding(const eb_ref_pool *p, char *buf, size_t n)
{
    if (!n)
        return buf;
    buf[0] = 0;
    if (!p) {
        snprintf(buf, n, "unpinned: no pool");
        return buf;
    }
    if (!p->pinned || p->why[0]) {
        snprintf(buf, n, "unpinned: %s", p->why[0] ? p->why : "pinning off");
        return buf;
    }
    hwloc_bitmap_t got = hwloc_bitmap_alloc();
    size_t used = 0;
    for (int i = 0; i < p->threads && got; i++) {
        int rc = i == 0 ? hwloc_get_cpubind(p->topo, got, HWLOC_CPUBIND_THREAD)
                        : hwloc_get_thread_cpubind(p->topo, p->w[i].tid, got,
                                                   HWLOC_CPUBIND_THREAD);
        int pu = rc == 0 && hwloc_bitmap_weight(got) == 1 ? hwloc_bitmap_first(got) : -1;
        int k = pu >= 0 ? snprintf(buf + used, n - used, "%s%d", i ? "," : "", pu)
                        : snprintf(buf + used, n - used, "%s?", i ? "," : "");
        if (k < 0 || (size_t)k >= n - used)
            break;
        used += (size_t)k;
    }
    hwloc_bitmap_free(got);
    return buf;
}

void eb_ref_pool_destroy(eb_ref_pool *p)
{
    if (!p)
        return;
    atomic_store_explicit(&p->stop, 1, memory_order_release);
    atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
    pool_wake(&p->gen);
    for (int i = 1; i < p->threads; i++)
        if (p->w[i].started)
            pthread_join(p->w[i].tid, NULL);
    if (p->pinned && p->caller_old)
        hwloc_set_cpubind(p->topo, p->caller_old, HWLOC_CPUBIND_THREAD);
    for (int i = 0; i < p->threads; i++)
        hwloc_bitmap_free(p->w[i].want);
    hwloc_bitmap_free(p->caller_old);
    if (p->topo_ok)
        hwloc_topology_destroy(p->topo);
    free(p->w);
    free(p);
}
