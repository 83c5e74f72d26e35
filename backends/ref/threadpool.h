/* ref's thread pool: a fixed set of workers created at open, each pinned to one PU of the
 * process's binding, that run "task i of n" loops for the GEMM and convolution kernels.
 *
 * Why a pool of our own: run() must not allocate or create threads, and the harness pins the
 * trial's process before open, so workers must land inside that binding (one PU each, in the
 * binding's order) for 1-vs-2-thread comparisons to mean something.  Workers spin briefly
 * after a job (kernels come back to back within an inference), then sleep on a futex so an
 * idle session costs nothing.
 *
 * Not a public interface: used by backends/ref/ and tests/unit/test_ref_threadpool.c. */
#ifndef EB_REF_THREADPOOL_H
#define EB_REF_THREADPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "../../harness/err.h"

typedef struct eb_ref_pool eb_ref_pool;

/* One task: `task` in [0, n_tasks), `thread` in [0, threads) says which thread runs it
 * (0 is the caller), for per-thread scratch.  Tasks of one job run concurrently. */
typedef void (*eb_ref_task_fn)(void *ctx, int64_t task, int thread);

/* Creates a pool of `threads` (>= 1, the caller included: threads - 1 workers are started).
 * When `pin` is set, thread i is bound to the i-th PU of the process's current binding
 * (wrapping around when there are fewer PUs than threads), the caller included; its previous
 * binding is restored by eb_ref_pool_destroy.  Pinning that fails is not an error: the reason
 * is kept for eb_ref_pool_binding.  Returns 0, or -1 with err set (thread creation failed). */
int eb_ref_pool_create(int threads, int pin, eb_ref_pool **out, eb_err *err);

/* Runs fn(ctx, t, thread) for every t in [0, n_tasks), the caller taking part, and returns when
 * all are done.  Tasks are handed out one at a time from a shared counter, so a descheduled
 * worker delays the job by at most one task.  A NULL pool runs everything on the caller.
 * Allocates nothing.  Not reentrant: tasks must not call eb_ref_pool_run. */
void eb_ref_pool_run(eb_ref_pool *p, int64_t n_tasks, eb_ref_task_fn fn, void *ctx);

/* Threads in the pool, the caller included (1 for a NULL pool). */
int eb_ref_pool_threads(const eb_ref_pool *p);

/* Where each thread is bound, as the OS reports it after pinning (hwloc_get_thread_cpubind of
 * every thread): "0,1" lists thread i's PU at position i; "unpinned: REASON" when pinning was
 * off or failed.  Writes at most n bytes (NUL included); returns buf. */
const char *eb_ref_pool_binding(const eb_ref_pool *p, char *buf, size_t n);

/* Stops and joins the workers, restores the caller's binding.  NULL is a no-op. */
void eb_ref_pool_destroy(eb_ref_pool *p);

#endif
