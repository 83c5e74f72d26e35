/* Internals of the ref engine, shared by its files (one concern each):
 *
 *   onnx_load.c   file -> protobuf -> values, nodes, weights; attribute parsing
 *   graph.c       name index, dangling-input and cycle checks, topological order
 *   shape.c       static shape inference per operator, constant folding at open
 *   plan.c        liveness-based arena plan for every runtime buffer
 *   exec.c        operator dispatch (used by folding at open and by run)
 *   ops_*.c       float32 kernels, callable on their own (the unit tests do)
 *   ref.c         the eb_backend_i table
 *
 * Not a public interface: only backends/ref/ and tests/unit/test_ref_*.c include it.
 * Kernel functions carry the eb_ref_ prefix because the test binaries link every library
 * object together; everything else is static or prefixed ref_ and used only here.
 */
#ifndef EB_REF_INTERNAL_H
#define EB_REF_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ref.h"

/* ---------------------------------------------------------------- kernels (ops_*.c) */

/* C[M,N] = alpha * op(A) * op(B) + beta * C, row-major; op(X) is X or X^T as the flags say.
 * lda/ldb/ldc are the row strides of A, B and C as stored.  beta == 0 ignores C's contents. */
void eb_ref_sgemm(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                  const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C,
                  int64_t ldc);

/* 2-D convolution / pooling geometry, NCHW.  Pads are top, left, bottom, right. */
typedef struct eb_ref_conv2d {
    int64_t n, c, h, w;    /* input */
    int64_t m, oh, ow;     /* output channels and spatial size */
    int64_t kh, kw, sh, sw, dh, dw;
    int64_t pt, pl, pb, pr;
    int64_t group;
    int count_include_pad; /* AveragePool only */
} eb_ref_conv2d;

/* Output size of one spatial axis; ceil_mode for pooling.  Returns <= 0 when the window does
 * not fit. */
int64_t eb_ref_conv_out(int64_t in, int64_t k, int64_t stride, int64_t dil, int64_t pad_begin,
                        int64_t pad_end, int ceil_mode);

/* Floats of scratch eb_ref_conv2d_run needs (0 when it can read the input directly). */
size_t eb_ref_conv2d_scratch(const eb_ref_conv2d *p);
/* y[n,m,oh,ow] from x[n,c,h,w], w[m,c/group,kh,kw], bias[m] (may be NULL): im2col + GEMM. */
void eb_ref_conv2d_run(const eb_ref_conv2d *p, const float *x, const float *w, const float *bias,
                       float *y, float *scratch);

void eb_ref_maxpool2d(const eb_ref_conv2d *p, const float *x, float *y);
void eb_ref_avgpool2d(const eb_ref_conv2d *p, const float *x, float *y);
/* y[i] = mean of x[i*hw .. i*hw+hw-1] for i < nc. */
void eb_ref_global_avgpool(int64_t nc, int64_t hw, const float *x, float *y);

/* Softmax over `len` elements spaced `inner` apart, for outer*inner independent rows. */
void eb_ref_softmax(int64_t outer, int64_t len, int64_t inner, const float *x, float *y);

/* Inference batch normalization over NC..., `spatial` elements per (n, c). */
void eb_ref_batchnorm(int64_t n, int64_t c, int64_t spatial, const float *x, const float *scale,
                      const float *bias, const float *mean, const float *var, float eps, float *y);

void eb_ref_relu(size_t n, const float *x, float *y);

/* Numpy broadcasting for two operands, with both operands' strides (0 on broadcast axes). */
typedef struct eb_ref_bcast {
    int ndim;
    int64_t shape[EB_MAX_DIMS];
    int64_t sa[EB_MAX_DIMS], sb[EB_MAX_DIMS];
} eb_ref_bcast;

/* Plans y = a op b; returns -1 when the shapes do not broadcast.  Adjacent axes that
 * broadcast the same way are merged, so the inner loop is as long as possible. */
int eb_ref_bcast_plan(int na, const int64_t *a, int nb, const int64_t *b, eb_ref_bcast *out);

typedef enum eb_ref_binop { EB_REF_ADD, EB_REF_SUB, EB_REF_MUL, EB_REF_DIV } eb_ref_binop;
void eb_ref_binary(eb_ref_binop op, const eb_ref_bcast *p, const float *a, const float *b,
                   float *y);
/* The same on int64 (shape arithmetic folded at open); division by zero gives 0. */
void eb_ref_binary_i64(eb_ref_binop op, const eb_ref_bcast *p, const int64_t *a,
                       const int64_t *b, int64_t *y);

/* ---------------------------------------------------------------- the graph */

typedef enum ref_op {
    REF_OP_UNKNOWN = 0,
    REF_OP_ADD,
    REF_OP_AVGPOOL,
    REF_OP_BATCHNORM,
    REF_OP_CAST,
    REF_OP_CONCAT,
    REF_OP_CONSTANT,
    REF_OP_CONV,
    REF_OP_DIV,
    REF_OP_DROPOUT,
    REF_OP_FLATTEN,
    REF_OP_GATHER,
    REF_OP_GEMM,
    REF_OP_GLOBALAVGPOOL,
    REF_OP_IDENTITY,
    REF_OP_MATMUL,
    REF_OP_MAXPOOL,
    REF_OP_MUL,
    REF_OP_PAD,
    REF_OP_RELU,
    REF_OP_RESHAPE,
    REF_OP_SHAPE,
    REF_OP_SOFTMAX,
    REF_OP_SQUEEZE,
    REF_OP_SUB,
    REF_OP_UNSQUEEZE,
} ref_op;

ref_op ref_op_from_name(const char *op_type);
/* "Add, AveragePool, ..." for error messages. */
const char *ref_supported_ops(void);

typedef enum ref_kind {
    REF_VAL_ACT = 0, /* computed at run; lives in the arena */
    REF_VAL_INPUT,   /* a graph input: points at the caller's buffer during run */
    REF_VAL_WEIGHT,  /* an initializer: owned data */
    REF_VAL_STATIC,  /* a Constant or a value folded at open: owned data */
} ref_kind;

typedef struct ref_value {
    char *name;
    eb_dtype dtype; /* EB_F32 or EB_I64 */
    int ndim;
    int64_t shape[EB_MAX_DIMS];
    size_t numel;
    int shaped;    /* shape inferred */
    ref_kind kind;
    int producer;  /* node index, or -1 */
    int first, last; /* liveness (node indices) for REF_VAL_ACT */
    int is_output;
    size_t offset; /* arena offset for REF_VAL_ACT */
    void *data;
} ref_value;

enum { REF_PAD_NOTSET, REF_PAD_VALID, REF_PAD_SAME_UPPER, REF_PAD_SAME_LOWER };
enum { REF_PADMODE_CONSTANT, REF_PADMODE_REFLECT, REF_PADMODE_EDGE };

typedef struct ref_attrs {
    /* Conv, pools: always as 2-D (height, width); 1-D attributes are stored with height 1.
     * spatial_rank is the rank the attributes were given in (0 when none were). */
    int64_t kernel[2], strides[2], dilations[2], pads[4];
    int has_kernel, spatial_rank;
    int64_t group;
    int auto_pad, ceil_mode, count_include_pad;
    /* Gemm, BatchNormalization */
    float alpha, beta, epsilon;
    int trans_a, trans_b;
    /* Flatten, Softmax, Concat, Gather; has_axis says whether it was given */
    int64_t axis;
    int has_axis;
    int64_t to;       /* Cast */
    int64_t axes[EB_MAX_DIMS]; /* Unsqueeze/Squeeze before opset 13 */
    int n_axes, has_axes;
    int allowzero;    /* Reshape */
    int64_t start, end; /* Shape (opset 15); has_end says whether end was given */
    int has_end;
    int pad_mode;     /* Pad: REF_PADMODE_* */
    float pad_value;  /* Pad before opset 11: the `value` attribute */
    int64_t pads_attr[2 * EB_MAX_DIMS]; /* Pad before opset 11 */
    int n_pads_attr;
} ref_attrs;

typedef struct ref_node {
    char *name;    /* never empty: "#<index>" when the file gives none */
    char *op_type;
    ref_op op;
    int n_in, n_out;
    int *in, *out; /* value indices; -1 for an absent optional input */
    ref_attrs a;
    int folded;    /* all inputs known at open: evaluated once at open */
    int64_t macs;
    /* derived at shape inference, read by exec */
    eb_ref_conv2d conv;
    eb_ref_bcast bc;
    int64_t outer, len, inner;  /* Softmax, Concat, Gather, BatchNormalization */
    int64_t m, n, k;            /* Gemm, MatMul (per matrix) */
    int64_t bs_a[EB_MAX_DIMS], bs_b[EB_MAX_DIMS], bshape[EB_MAX_DIMS]; /* MatMul batch */
    int bnd;
    int64_t c_rows, c_cols;     /* Gemm: C's broadcast shape, as [rows, cols] */
    float *wt;                  /* Gemm: B pre-transposed at open (owned), or NULL */
    int64_t pad_b[EB_MAX_DIMS], pad_e[EB_MAX_DIMS]; /* Pad: per axis, may be negative */
    float pad_value;
} ref_node;

typedef struct ref_session {
    char *path;
    int64_t opset;
    ref_value *vals;
    int n_vals, cap_vals;
    int *hash; /* open addressing over vals by name: index+1, 0 = empty */
    size_t hash_cap;
    ref_node *nodes; /* topological order once graph.c ran */
    int n_nodes;
    int in_vals[EB_MAX_IO], out_vals[EB_MAX_IO];
    int n_in, n_out;
    unsigned char *arena;
    size_t arena_bytes;
    float *scratch;
    size_t scratch_floats;
    eb_io io;
    eb_model_facts facts;
} ref_session;

/* Planned memory above this is refused at open: it is a corrupt or absurd model here. */
#define REF_MAX_BYTES ((uint64_t)4 << 30)

/* onnx_load.c: parses the file into s (values, nodes in file order, weights, inputs and
 * outputs, with input shapes bound to `batch`). */
int ref_load(ref_session *s, const char *path, int batch, eb_err *err);
/* Adds or finds a value by name; returns its index or -1 on allocation failure. */
int ref_value_intern(ref_session *s, const char *name);
int ref_value_find(const ref_session *s, const char *name);
/* "node 'Conv_3' (op Conv)" into buf, for messages. */
const char *ref_node_label(const ref_node *nd, char *buf, size_t n);

/* graph.c: checks producers and inputs, sorts s->nodes topologically. */
int ref_graph_sort(ref_session *s, eb_err *err);

/* shape.c: infers every value's shape in order, folds nodes whose inputs are all known. */
int ref_shape_infer(ref_session *s, eb_err *err);
/* Sets v->numel from v->shape, failing on overflow or absurd sizes. */
int ref_value_set_shape(ref_value *v, int ndim, const int64_t *shape);

/* plan.c: liveness, arena offsets, scratch size; allocates the arena and scratch. */
int ref_plan(ref_session *s, eb_err *err);

/* exec.c: runs one node on the data its values point at. */
void ref_exec_node(ref_session *s, const ref_node *nd);

void ref_session_free(ref_session *s);

#endif
