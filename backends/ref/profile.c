/* Per-node timing for `measure = { profile = true }` / `infer --profile`: when the session's
 * "profile" option is set, every node's run is bracketed by CLOCK_MONOTONIC reads and summed
 * per node; otherwise the run loop has no timer at all.  Reported per node (the harness sums
 * per operator type) as the mean over the runs since the previous report. */
#include <time.h>

#include "ref_internal.h"

static double prof_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

void ref_run_nodes(ref_session *s)
{
    if (!s->profiling || !s->prof_ns) {
        for (int i = 0; i < s->n_nodes; i++)
            if (!s->nodes[i].folded)
                ref_exec_node(s, &s->nodes[i]);
        return;
    }
    double t = prof_now_ns();
    for (int i = 0; i < s->n_nodes; i++) {
        if (s->nodes[i].folded)
            continue;
        ref_exec_node(s, &s->nodes[i]);
        double t1 = prof_now_ns();
        s->prof_ns[i] += t1 - t;
        t = t1;
    }
    s->prof_runs++;
}

/* ops may be NULL with n == 0 to ask how many entries there are.  Names point into the
 * session.  Nodes merged into another at open (a folded BatchNormalization, a fused Relu)
 * are not listed: their time is inside their producer's. */
int ref_profile(void *session, eb_op_time *ops, size_t n)
{
    ref_session *s = session;
    if (!s->profiling || !s->prof_ns)
        return 0;
    size_t k = 0, total = 0;
    for (int i = 0; i < s->n_nodes; i++) {
        const ref_node *nd = &s->nodes[i];
        if (nd->folded)
            continue;
        total++;
        if (!ops || k >= n)
            continue;
        ops[k].node = nd->name;
        ops[k].op_type = nd->op_type;
        ops[k].ms = s->prof_runs ? s->prof_ns[i] / (double)s->prof_runs / 1e6 : 0.0;
        k++;
    }
    if (!ops)
        return (int)total;
    for (int i = 0; i < s->n_nodes; i++)
        s->prof_ns[i] = 0;
    s->prof_runs = 0;
    return (int)k;
}
