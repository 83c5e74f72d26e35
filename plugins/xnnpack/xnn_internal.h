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
} xnn_val;

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
#if EB_XNN_HAVE_HEADER
    xnn_subgraph_t subgraph;
    xnn_runtime_t runtime;
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
