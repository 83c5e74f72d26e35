/* Memory plan: every value computed at run time gets a fixed place in one arena, decided once
 * at open.  Two values may share bytes only when their lifetimes (from the node that writes
 * one to the last node that reads it) do not overlap; a node's outputs never alias its own
 * inputs, since both are live at that node.  Placement is first-fit by offset in order of
 * definition, which is simple and close to optimal for the chain-like graphs of small CNNs. */
#include <stdlib.h>
#include <string.h>

#include "ref_internal.h"

#define REF_ALIGN 64

typedef struct {
    int v;
    size_t off, size;
} placed;

static int cmp_off(const void *a, const void *b)
{
    const placed *x = a, *y = b;
    return x->off < y->off ? -1 : x->off > y->off;
}

int ref_plan(ref_session *s, eb_err *err)
{
    int n = s->n_nodes;
    /* liveness */
    for (int i = 0; i < s->n_vals; i++) {
        ref_value *v = &s->vals[i];
        if (v->kind == REF_VAL_ACT && v->producer >= 0)
            v->first = v->last = v->producer;
        if (v->kind == REF_VAL_ACT && v->is_output)
            v->last = n;
    }
    size_t scratch = 0;
    for (int i = 0; i < n; i++) {
        const ref_node *nd = &s->nodes[i];
        if (nd->folded)
            continue;
        for (int j = 0; j < nd->n_in; j++) {
            if (nd->in[j] < 0)
                continue;
            ref_value *v = &s->vals[nd->in[j]];
            if (v->kind == REF_VAL_ACT && v->last < i)
                v->last = i;
        }
        if (nd->prep || nd->op == REF_OP_CONV) {
            /* packed operands of a prepared node (fold_bn.c), else plain im2col */
            size_t k = nd->prep ? nd->prep->scratch : eb_ref_conv2d_scratch(&nd->conv);
            if (k > scratch)
                scratch = k;
        }
    }
    placed *pl = malloc(((size_t)s->n_vals + 1) * sizeof *pl);
    placed *live = malloc(((size_t)s->n_vals + 1) * sizeof *live);
    if (!pl || !live) {
        free(pl), free(live);
        return eb_errf(err, "out of memory planning buffers");
    }
    int n_pl = 0;
    uint64_t total = 0;
    /* Values in order of definition: producers are sorted, so walk the nodes. */
    for (int i = 0; i < n; i++) {
        const ref_node *nd = &s->nodes[i];
        if (nd->folded)
            continue;
        for (int j = 0; j < nd->n_out; j++) {
            if (nd->out[j] < 0)
                continue;
            ref_value *v = &s->vals[nd->out[j]];
            size_t size = (v->numel * eb_dtype_size(v->dtype) + REF_ALIGN - 1) /
                          REF_ALIGN * REF_ALIGN;
            if (size == 0)
                size = REF_ALIGN;
            int n_live = 0;
            for (int k = 0; k < n_pl; k++) {
                const ref_value *u = &s->vals[pl[k].v];
                if (u->first <= v->last && v->first <= u->last)
                    live[n_live++] = pl[k];
            }
            qsort(live, (size_t)n_live, sizeof *live, cmp_off);
            size_t off = 0;
            for (int k = 0; k < n_live; k++) {
                if (live[k].off >= off + size)
                    break; /* fits in the gap before this one */
                if (live[k].off + live[k].size > off)
                    off = live[k].off + live[k].size;
            }
            v->offset = off;
            pl[n_pl++] = (placed){nd->out[j], off, size};
            if (off + size > total)
                total = off + size;
        }
    }
    free(pl), free(live);
    uint64_t need = total + (uint64_t)scratch * sizeof(float);
    if (need > REF_MAX_BYTES)
        return eb_errf(err, "the model needs %llu MiB of buffers at batch %lld, over ref's "
                            "limit of %llu MiB; lower the batch or check the model's shapes",
                       (unsigned long long)(need >> 20),
                       s->n_in ? (long long)s->vals[s->in_vals[0]].shape[0] : 0LL,
                       (unsigned long long)(REF_MAX_BYTES >> 20));
    s->arena_bytes = (size_t)total;
    s->scratch_floats = scratch;
    s->arena = aligned_alloc(REF_ALIGN, total ? (size_t)total : REF_ALIGN);
    size_t sb = (scratch * sizeof(float) + REF_ALIGN - 1) / REF_ALIGN * REF_ALIGN;
    s->scratch = aligned_alloc(REF_ALIGN, sb ? sb : REF_ALIGN);
    if (!s->arena || !s->scratch)
        return eb_errf(err, "out of memory allocating %llu MiB of buffers",
                       (unsigned long long)(need >> 20));
    /* Touch everything now, so the first inference pays no page faults and peak RSS shows
     * the real footprint from the start. */
    memset(s->arena, 0, total ? (size_t)total : REF_ALIGN);
    memset(s->scratch, 0, sb ? sb : REF_ALIGN);
    for (int i = 0; i < s->n_vals; i++)
        if (s->vals[i].kind == REF_VAL_ACT && s->vals[i].producer >= 0)
            s->vals[i].data = s->arena + s->vals[i].offset;
    return 0;
}
