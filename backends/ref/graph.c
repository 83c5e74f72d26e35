/* Graph checks and order: every node input must come from somewhere, and the nodes must form
 * a DAG.  Kahn's algorithm gives a topological order and finds cycles at the same time; ties
 * keep file order, so a well-formed export runs in the order it was written. */
#include <stdlib.h>
#include <string.h>

#include "ref_internal.h"

int ref_graph_sort(ref_session *s, eb_err *err)
{
    char lbl[300];
    int n = s->n_nodes;
    for (int i = 0; i < n; i++) {
        ref_node *nd = &s->nodes[i];
        for (int j = 0; j < nd->n_in; j++) {
            if (nd->in[j] < 0)
                continue;
            const ref_value *v = &s->vals[nd->in[j]];
            if (v->kind == REF_VAL_ACT && v->producer < 0)
                return eb_errf(err, "%s reads '%s', which no node, graph input or initializer "
                                    "provides (dangling input); the graph is broken",
                               ref_node_label(nd, lbl, sizeof lbl), v->name);
        }
    }
    int *indeg = calloc((size_t)n + 1, sizeof *indeg);
    int *order = malloc(((size_t)n + 1) * sizeof *order);
    /* consumers: CSR lists of node -> nodes reading one of its outputs */
    int *cstart = calloc((size_t)n + 2, sizeof *cstart);
    size_t n_edges = 0;
    for (int i = 0; i < n; i++)
        n_edges += (size_t)s->nodes[i].n_in;
    int *cons = malloc((n_edges + 1) * sizeof *cons);
    int *fill = calloc((size_t)n + 1, sizeof *fill);
    unsigned char *done = calloc((size_t)n + 1, 1);
    if (!indeg || !order || !cstart || !cons || !fill || !done) {
        free(indeg), free(order), free(cstart), free(cons), free(fill), free(done);
        return eb_errf(err, "out of memory sorting %d nodes", n);
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < s->nodes[i].n_in; j++) {
            int vi = s->nodes[i].in[j];
            if (vi >= 0 && s->vals[vi].producer >= 0) {
                cstart[s->vals[vi].producer + 1]++;
                indeg[i]++;
            }
        }
    for (int i = 0; i < n; i++)
        cstart[i + 1] += cstart[i];
    for (int i = 0; i < n; i++)
        for (int j = 0; j < s->nodes[i].n_in; j++) {
            int vi = s->nodes[i].in[j];
            if (vi >= 0 && s->vals[vi].producer >= 0) {
                int p = s->vals[vi].producer;
                cons[cstart[p] + fill[p]++] = i;
            }
        }
    /* Repeatedly take the first ready node in file order: O(n^2) worst case, which is nothing
     * for the graphs this engine is for, and it keeps the file's order when it is valid. */
    int n_done = 0;
    while (n_done < n) {
        int pick = -1;
        for (int i = 0; i < n; i++) {
            if (!done[i] && indeg[i] == 0) {
                pick = i;
                break;
            }
        }
        if (pick < 0)
            break;
        done[pick] = 1;
        order[n_done++] = pick;
        for (int e = cstart[pick]; e < cstart[pick + 1]; e++)
            indeg[cons[e]]--;
    }
    int rc = 0;
    if (n_done < n) {
        int bad = 0;
        while (done[bad])
            bad++;
        rc = eb_errf(err, "the graph has a cycle through %s; ONNX graphs must be acyclic",
                     ref_node_label(&s->nodes[bad], lbl, sizeof lbl));
    } else {
        ref_node *sorted = malloc((size_t)n * sizeof *sorted);
        if (!sorted) {
            rc = eb_errf(err, "out of memory sorting %d nodes", n);
        } else {
            for (int i = 0; i < n; i++)
                sorted[i] = s->nodes[order[i]];
            free(s->nodes);
            s->nodes = sorted;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < sorted[i].n_out; j++)
                    if (sorted[i].out[j] >= 0)
                        s->vals[sorted[i].out[j]].producer = i;
        }
    }
    free(indeg), free(order), free(cstart), free(cons), free(fill), free(done);
    return rc;
}

int ref_value_known(const ref_value *v)
{
    return (v->kind == REF_VAL_WEIGHT || v->kind == REF_VAL_STATIC) && v->data;
}

void ref_graph_count_readers(const ref_session *s, int *uses, int *reader)
{
    memset(uses, 0, (size_t)s->n_vals * sizeof *uses);
    for (int i = 0; i < s->n_nodes; i++) {
        const ref_node *nd = &s->nodes[i];
        if (nd->folded)
            continue;
        for (int j = 0; j < nd->n_in; j++)
            if (nd->in[j] >= 0)
                uses[nd->in[j]]++, reader[nd->in[j]] = i;
    }
    for (int i = 0; i < s->n_vals; i++)
        if (s->vals[i].is_output)
            uses[i]++;
}
