/* Internals of the xnnpack backend, shared by its files:
 *
 *   xnn_api.c   dlopen of libXNNPACK and its function table
 *   xnn_map.c   ONNX graph (parsed and shape-inferred by ref's loader) -> XNNPACK subgraph
 *   xnnpack.c   the eb_backend_i table: open, io, run (layout conversion at the boundary), close
 *
 * Layout: XNNPACK computes NHWC, ONNX is NCHW.  Every 4-D activation lives NHWC inside the
 * subgraph; 4-D graph inputs are transposed into it at run, 4-D outputs back.  A Flatten (or
 * Reshape to [N, -1]) of an NHWC tensor yields its elements in HWC order instead of ONNX's CHW:
 * such a 2-D value carries its (C, H, W) in `perm`, and a Gemm/MatMul reading it has its weight
 * columns permuted at open to match, so no transpose runs in the graph.
 *
 * Partitions: nodes the 2022 subgraph API lacks but which only move data (Concat, Split, Slice,
 * Transpose, reshapes that move data in NHWC) run in the plugin as strided copies between
 * several XNNPACK runtimes (xnn_step, xnn_copy); see README.md.
 *
 * Not a public interface: only plugins/xnnpack/ and tests/unit/test_xnnpack.c include it.
 */
#ifndef EB_XNN_INTERNAL_H
#define EB_XNN_INTERNAL_H

#include <stdint.h>

#include "../../backends/ref/ref_internal.h" /* the plugin links its own copy of ref */
#include "xnn_api.h"
/* not "xnnpack.h": <xnnpack.h> is XNNPACK's own, and an -I into this folder would shadow it */
#include "xnnpack_backend.h"

/* open()'s "cannot run this model" (backend.h defines it from API 2; -2 means it before). */
#ifndef EB_UNSUPPORTED
#define EB_UNSUPPORTED (-2)
#endif

/* How an ONNX value is held inside the subgraph. */
typedef struct xnn_val {
    uint32_t id;       /* XNNPACK value id; XNN_INVALID_VALUE_ID (UINT32_MAX) until defined */
    int nhwc;          /* a 4-D value stored [N, H, W, C] */
    int64_t perm[3];   /* a 2-D value [N, C*H*W] stored in HWC order: (C, H, W); 0s otherwise */
    int consumers;     /* uses by nodes that run, plus 1 if it is a graph output */
    /* A quantized activation (the output of a QuantizeLinear, and of a MaxPool or reshape of
     * one) is held as XNNPACK qint8: q is the ONNX type it stands for (2 uint8, 3 int8; 0 for
     * float32), qs its scale, qz its zero point in the int8 domain (uint8's minus 128: the
     * same grid shifted, so the mapping is exact for any uint8 zero point). */
    int q;
    float qs;
    int32_t qz;
    /* Partitions: `id` is valid in the subgraph parts[part] only (-1: none yet).  A value that
     * crosses a partition boundary (read by a glue node, written by one, read in a later
     * partition, or a graph input/output) lives in buf, laid out as nhwc/perm say; it is an
     * external value of id = its ONNX value index in every subgraph that touches it. */
    int part;
    float *buf;
} xnn_val;

/* A strided copy, the whole of a glue node's work (several per node): dims outermost first,
 * src/dst strides in floats; the innermost dim is a memcpy when both strides are 1. */
typedef struct xnn_copy {
    const float *src;
    float *dst;
    int nd;
    int64_t n[EB_MAX_DIMS + 1], ss[EB_MAX_DIMS + 1], ds[EB_MAX_DIMS + 1];
} xnn_copy;

/* One XNNPACK subgraph/runtime of the session and the buffers bound to its external values. */
typedef struct xnn_part {
#if EB_XNN_HAVE_HEADER
    xnn_subgraph_t subgraph;
    xnn_runtime_t runtime;
    struct xnn_external_value *ext;
#endif
    size_t n_ext, cap_ext;
} xnn_part;

/* What run does, in order: invoke parts[part] (part >= 0), or (part -1) the copies
 * copies[c0 .. c0 + nc) of glue node `node`. */
typedef struct xnn_step {
    int part, node;
    size_t c0, nc;
} xnn_step;

/* One graph input or output at the boundary. */
typedef struct xnn_port {
    int val;           /* index into g->vals */
    float *stage;      /* the buffer XNNPACK reads/writes (owned, XNN_EXTRA_BYTES padded) */
    size_t numel;
    int64_t n, c, hw;  /* transposed as [n][c][hw] <-> [n][hw][c] when c > 0 */
} xnn_port;

typedef struct xnn_session {
    eb_xnn_api api;
    ref_session *g;    /* the ONNX graph; kept open: XNNPACK may read static data at setup */
    xnn_val *vals;     /* [g->n_vals] */
    int *skip;         /* [g->n_nodes]: merged into the node before it at mapping */
    void **owned;      /* buffers handed to XNNPACK as static data */
    size_t n_owned, cap_owned;
    int sparse;        /* option sparse: 1 XNN_FLAG_SPARSE_INFERENCE, 2 also the NCHW rewrite forced */
    int n_xnn_nodes;   /* XNNPACK nodes defined (for tests) */
    int n_qs8_nodes;   /* of which signed 8-bit Convolution/FullyConnected/MaxPool (for tests) */
    int n_glue;        /* ONNX nodes run as plugin copies between XNNPACK runtimes (for tests) */
    int *want_buf;     /* [g->n_vals]: read by a glue node, so defined external from the start */
    xnn_part *parts;   /* XNNPACK subgraphs, in run order among the glue steps */
    int n_parts, cap_parts, cur; /* cur: the part being defined, -1 after a glue node */
    xnn_step *steps;
    int n_steps, cap_steps;
    xnn_copy *copies;
    size_t n_copies, cap_copies;
#if EB_XNN_HAVE_HEADER
    xnn_subgraph_t subgraph; /* parts[cur].subgraph while mapping; NULL otherwise (not owned) */
    pthreadpool_t pool;
#endif
    xnn_port in[EB_MAX_IO], out[EB_MAX_IO];
    int n_in, n_out;
    eb_io io;
    eb_model_facts facts;
} xnn_session;

/* xnn_map.c: defines x->subgraph from x->g (loaded, sorted, shapes inferred).  0; -1 with err
 * on a failure; EB_UNSUPPORTED with err naming the operator when the model uses something this mapping
 * (or this XNNPACK snapshot) cannot run. */
int xnn_map_graph(xnn_session *x, eb_err *err);

/* The operators the mapping takes, for `edgebench help xnnpack`. */
const char *xnn_map_operators(void);

#endif
