/* Memory plan: every value computed at run time gets a fixed place in one arena, decided once
 * at open.  Two values may share bytes only when their lifetimes (from the node that writes
 * one to the last node that reads it) do not overlap; apart from the aliases below, a node's
 * outputs never share bytes with its own inputs, since both are live at that node.  Aliases
 * (REF_VAL_ALIAS) are the exception by design: a Reshape-like output, a contiguous Slice/Split
 * part or a channel-Concat input is a view of another value's bytes, and that owner stays
 * placed until the last reader of any of its views.  Placement is first-fit by offset in order of
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

/* ---------------------------------------------------------------- aliases
 * Some nodes only move bytes that could stay where they are: Reshape, Flatten, Squeeze,
 * Unsqueeze and Identity give their input's bytes a new shape; a Slice or Split that keeps a
 * contiguous run of its input (ShuffleNet's channel halves at batch 1) is a window of them;
 * a Concat along an axis with nothing before it (channels at batch 1) is its inputs side by
 * side.  Such values are placed inside another's bytes instead of getting their own:
 * root[v] is the value that owns the place and delta[v] the byte offset in it.  The node
 * still runs and finds its source and destination equal (exec.c and ops_shape.c then skip
 * the copy).  The root's lifetime becomes the union of its group's, so the usual rule (live
 * together, never overlapping) holds for every place; members become REF_VAL_ALIAS.  A
 * member is always a byte range inside its root, and writers in one group never overlap:
 * a Reshape or Slice writes nothing, a Concat's inputs are disjoint ranges. */

/* Whether v is computed at run into the arena (not a graph input or a constant). */
static int in_arena(const ref_session *s, int v)
{
    return v >= 0 && s->vals[v].kind == REF_VAL_ACT && s->vals[v].producer >= 0;
}

static void alias_to(int *root, size_t *delta, int v, int r, size_t d)
{
    root[v] = r;
    delta[v] = d;
}

static void plan_aliases(ref_session *s, int *root, size_t *delta)
{
    for (int v = 0; v < s->n_vals; v++)
        root[v] = v, delta[v] = 0;
    for (int i = 0; i < s->n_nodes; i++) {
        const ref_node *nd = &s->nodes[i];
        if (nd->folded || nd->prep || nd->n_in < 1 || !in_arena(s, nd->in[0]))
            continue;
        int x = nd->in[0];
        const ref_value *xv = &s->vals[x];
        size_t es = eb_dtype_size(xv->dtype);
        switch (nd->op) {
        case REF_OP_RESHAPE:
        case REF_OP_FLATTEN:
        case REF_OP_SQUEEZE:
        case REF_OP_UNSQUEEZE:
        case REF_OP_IDENTITY: {
            int y = nd->out[0];
            if (nd->n_out == 1 && in_arena(s, y) && s->vals[y].dtype == xv->dtype &&
                s->vals[y].numel == xv->numel)
                alias_to(root, delta, y, root[x], delta[x]);
            break;
        }
        case REF_OP_SLICE:
        case REF_OP_SPLIT:
            for (int j = 0; j < nd->n_out; j++) {
                int y = nd->out[j];
                int64_t off;
                if (in_arena(s, y) && s->vals[y].dtype == xv->dtype &&
                    ref_shapeop_alias(nd, j, &off))
                    alias_to(root, delta, y, root[x], delta[x] + (size_t)off * es);
            }
            break;
        case REF_OP_CONCAT: {
            int y = nd->out[0];
            if (nd->outer != 1 || !in_arena(s, y))
                break;
            size_t at = 0, yes = eb_dtype_size(s->vals[y].dtype);
            for (int j = 0; j < nd->n_in; j++) {
                int u = nd->in[j];
                if (u < 0)
                    continue;
                size_t bytes = s->vals[u].numel * eb_dtype_size(s->vals[u].dtype);
                /* only a value that owns its place (so its whole group moves along) and
                 * that is produced here, not a graph input or a constant */
                if (in_arena(s, u) && root[u] == u && s->vals[u].dtype == s->vals[y].dtype &&
                    yes == eb_dtype_size(s->vals[u].dtype))
                    for (int v = 0; v < s->n_vals; v++)
                        if (root[v] == u)
                            alias_to(root, delta, v, y, at + delta[v]);
                at += bytes;
            }
            break;
        }
        default: break;
        }
    }
    /* the root's lifetime covers its group's */
    for (int v = 0; v < s->n_vals; v++) {
        ref_value *r = &s->vals[root[v]];
        if (root[v] == v)
            continue;
        if (s->vals[v].first < r->first)
            r->first = s->vals[v].first;
        if (s->vals[v].last > r->last)
            r->last = s->vals[v].last;
    }
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
    int *root = malloc(((size_t)s->n_vals + 1) * sizeof *root);
    size_t *delta = malloc(((size_t)s->n_vals + 1) * sizeof *delta);
    if (!pl || !live || !root || !delta) {
        free(pl), free(live), free(root), free(delta);
        return eb_errf(err, "out of memory planning buffers");
    }
    plan_aliases(s, root, delta);
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
            if (root[nd->out[j]] != nd->out[j])
                continue; /* placed with its root, below */
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
    for (int v = 0; v < s->n_vals; v++)
        if (root[v] != v) {
            s->vals[v].offset = s->vals[root[v]].offset + delta[v];
            s->vals[v].kind = REF_VAL_ALIAS;
        }
    free(root), free(delta);
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
        if ((s->vals[i].kind == REF_VAL_ACT || s->vals[i].kind == REF_VAL_ALIAS) &&
            s->vals[i].producer >= 0)
            s->vals[i].data = s->arena + s->vals[i].offset;
    return 0;
}
