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

/* ops_vmath.c: vectorized math (exp within 2 ulp, erf within 3e-7 relative).
 * eb_ref_vexp_sum: y[i] = exp(x[i] - sub), returns the sum of y; eb_ref_verf: y = erf(x);
 * eb_ref_vmax: the largest of x[0..n), n >= 1 (NaN never wins). */
float eb_ref_vexp_sum(size_t n, const float *x, float sub, float *y);
void eb_ref_verf(size_t n, const float *x, float *y);
float eb_ref_vmax(size_t n, const float *x);

/* Softmax over `len` elements spaced `inner` apart, for outer*inner independent rows. */
void eb_ref_softmax(int64_t outer, int64_t len, int64_t inner, const float *x, float *y);

/* Inference batch normalization over NC..., `spatial` elements per (n, c). */
void eb_ref_batchnorm(int64_t n, int64_t c, int64_t spatial, const float *x, const float *scale,
                      const float *bias, const float *mean, const float *var, float eps, float *y);

void eb_ref_relu(size_t n, const float *x, float *y);

/* ---------------------------------------------------------------- packed GEMM (issue 3)
 * ops_gemm.c drives, gemm_pack.c packs, gemm_kernel_c.c / gemm_kernel_avx2.c compute.
 *
 * Packed layout, shared by every micro-kernel: K is cut into blocks of EB_REF_KC; block k0
 * (kc = min(KC, K - k0) deep) of packed A starts at pa + k0 * roundup(M, MR) and holds
 * MR-row panels one after another, each kc steps of MR floats (row r of the panel at
 * position r of each step, zero beyond M).  Packed B is the same with NR-column panels:
 * block k0 at pb + k0 * roundup(N, NR), panel p at + p * NR * kc, column j of the panel at
 * position j of each of its kc steps.  Weights are packed once at open in this form. */
#define EB_REF_MR 6
#define EB_REF_NR 16
#define EB_REF_KC 256

typedef enum eb_ref_act { EB_REF_ACT_NONE = 0, EB_REF_ACT_RELU, EB_REF_ACT_CLIP } eb_ref_act;

/* What the micro-kernel does with one tile's sum S over one k block:
 *   C = (load ? C : 0) + alpha * S;  then, on the last k block only,
 *   C += brow[r] + bcol[j] (each when non-NULL; pointers already at the tile's origin),
 *   C = act(C) (Relu: max(C, 0); Clip: min(max(C, lo), hi)). */
typedef struct eb_ref_tile {
    float alpha;
    int load, last;
    const float *brow, *bcol;
    eb_ref_act act;
    float lo, hi;
} eb_ref_tile;

/* C[mr, nr] (mr <= MR, nr <= NR, row stride ldc) from kc steps of one packed A panel and one
 * packed B panel, as eb_ref_tile says. */
typedef void (*eb_ref_ukernel_fn)(int64_t kc, const float *a, const float *b, float *c,
                                  int64_t ldc, int mr, int nr, const eb_ref_tile *t);
void eb_ref_ukernel_c(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, int mr,
                      int nr, const eb_ref_tile *t);
#if defined(__x86_64__)
void eb_ref_ukernel_avx2(int64_t kc, const float *a, const float *b, float *c, int64_t ldc,
                         int mr, int nr, const eb_ref_tile *t);
/* gemm_kernel_avx512.c: takes nr up to EB_REF_AVX512_SPAN * NR, reading that many adjacent
 * B panels of the k block (panel q at b + q * NR * kc); the others take nr <= NR. */
#define EB_REF_AVX512_SPAN 4
void eb_ref_ukernel_avx512(int64_t kc, const float *a, const float *b, float *c, int64_t ldc,
                           int mr, int nr, const eb_ref_tile *t);
#endif
/* Instruction sets ref's kernels come in.  eb_ref_isa_pick: the best one this CPU runs,
 * capped by the environment variable EDGEBENCH_REF_ISA (portable|avx2|avx512, read at each
 * call; a level the CPU lacks falls back to the best one below it), so tests and benchmarks
 * can force every path on one machine.  Call it at open, not per kernel. */
typedef enum eb_ref_isa { EB_REF_ISA_PORTABLE = 0, EB_REF_ISA_AVX2, EB_REF_ISA_AVX512 } eb_ref_isa;
eb_ref_isa eb_ref_isa_pick(void);
/* Whether this CPU runs isa (PORTABLE always). */
int eb_ref_isa_supported(eb_ref_isa isa);
const char *eb_ref_isa_name(eb_ref_isa isa);
/* The micro-kernel of isa (which must be supported) and its name ("c", "avx2-fma",
 * "avx512f"). */
eb_ref_ukernel_fn eb_ref_ukernel_for(eb_ref_isa isa, const char **name);
/* The widest nr kernel k accepts (a multiple of NR). */
int eb_ref_ukernel_nr(eb_ref_ukernel_fn k);
/* eb_ref_ukernel_for(eb_ref_isa_pick(), name). */
eb_ref_ukernel_fn eb_ref_ukernel_best(const char **name);

/* Whole-GEMM epilogue: C = (accumulate ? C : 0) + alpha * A * B + bias_row[i] + bias_col[j],
 * then act.  kernel NULL picks eb_ref_ukernel_best(). */
typedef struct eb_ref_epilogue {
    float alpha;
    int accumulate;
    const float *bias_row, *bias_col;
    eb_ref_act act;
    float lo, hi;
    eb_ref_ukernel_fn kernel;
} eb_ref_epilogue;

/* Floats of a packed M x K A (or K x N B), padding included. */
size_t eb_ref_pack_a_floats(int64_t M, int64_t K);
size_t eb_ref_pack_b_floats(int64_t K, int64_t N);
/* Packs op(A) (M x K; A stored K x M when trans) / op(B) (K x N; B stored N x K when trans).
 * The _panels form packs only B's panels [p0, p1) (threads pack disjoint ranges). */
void eb_ref_pack_a(int trans, int64_t M, int64_t K, const float *A, int64_t lda, float *pa);
void eb_ref_pack_b(int trans, int64_t K, int64_t N, const float *B, int64_t ldb, float *pb);
void eb_ref_pack_b_panels(int trans, int64_t K, int64_t N, const float *B, int64_t ldb,
                          float *pb, int64_t p0, int64_t p1);

struct eb_ref_pool;
/* C[M, N] (row stride ldc) from packed A and B, split over the pool's threads in tiles of
 * C (NULL pool: the caller alone).  Allocates nothing. */
void eb_ref_gemm_packed(int64_t M, int64_t N, int64_t K, const float *pa, const float *pb,
                        float *C, int64_t ldc, const eb_ref_epilogue *ep,
                        struct eb_ref_pool *pool);

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
    /* issue 3 (coverage); each family lives in its own file, see ref_family_of() */
    REF_OP_EXT_FIRST,
    /* unary (ops_unary.c) */
    REF_OP_ABS = REF_OP_EXT_FIRST, REF_OP_ACOS, REF_OP_ACOSH, REF_OP_ASIN, REF_OP_ASINH,
    REF_OP_ATAN, REF_OP_ATANH, REF_OP_CEIL, REF_OP_CELU, REF_OP_CLIP, REF_OP_COS, REF_OP_COSH,
    REF_OP_ELU, REF_OP_ERF, REF_OP_EXP, REF_OP_FLOOR, REF_OP_HARDSIGMOID, REF_OP_HARDSWISH,
    REF_OP_ISINF, REF_OP_ISNAN, REF_OP_LEAKYRELU, REF_OP_LOG, REF_OP_NEG, REF_OP_NOT,
    REF_OP_RECIPROCAL, REF_OP_ROUND, REF_OP_SELU, REF_OP_SHRINK, REF_OP_SIGMOID, REF_OP_SIGN,
    REF_OP_SIN, REF_OP_SINH, REF_OP_SOFTPLUS, REF_OP_SOFTSIGN, REF_OP_SQRT, REF_OP_TAN,
    REF_OP_TANH, REF_OP_THRESHOLDEDRELU,
    /* n-ary broadcasting (ops_binary.c) */
    REF_OP_POW, REF_OP_MIN, REF_OP_MAX, REF_OP_SUM, REF_OP_MEAN, REF_OP_MOD, REF_OP_PRELU,
    REF_OP_EQUAL, REF_OP_LESS, REF_OP_LESSOREQUAL, REF_OP_GREATER, REF_OP_GREATEROREQUAL,
    REF_OP_AND, REF_OP_OR, REF_OP_XOR, REF_OP_WHERE, REF_OP_BITSHIFT,
    /* data movement (ops_shape.c) */
    REF_OP_TRANSPOSE, REF_OP_SLICE, REF_OP_SPLIT, REF_OP_EXPAND, REF_OP_TILE,
    REF_OP_CONSTANTOFSHAPE, REF_OP_RANGE, REF_OP_DEPTHTOSPACE, REF_OP_SPACETODEPTH, REF_OP_SIZE,
    REF_OP_CASTLIKE, REF_OP_GATHERELEMENTS, REF_OP_TRILU, REF_OP_EYELIKE, REF_OP_ONEHOT,
    /* reductions (ops_reduce.c) */
    REF_OP_REDUCEMEAN, REF_OP_REDUCESUM, REF_OP_REDUCEMAX, REF_OP_REDUCEMIN, REF_OP_REDUCEPROD,
    REF_OP_REDUCEL1, REF_OP_REDUCEL2, REF_OP_REDUCELOGSUM, REF_OP_REDUCELOGSUMEXP,
    REF_OP_REDUCESUMSQUARE, REF_OP_ARGMAX, REF_OP_ARGMIN,
    /* normalization (ops_norm.c) */
    REF_OP_LOGSOFTMAX, REF_OP_LAYERNORM, REF_OP_INSTANCENORM, REF_OP_GLOBALMAXPOOL,
    REF_OP_HARDMAX, REF_OP_LRN, REF_OP_MVN,
    /* ops_resize.c, ops_convtranspose.c, ops_rnn.c */
    REF_OP_RESIZE, REF_OP_UPSAMPLE, REF_OP_CONVTRANSPOSE, REF_OP_LSTM, REF_OP_GRU, REF_OP_RNN,
    /* quantized (ops_quant.c, issue 4) */
    REF_OP_QUANTIZELINEAR, REF_OP_DEQUANTIZELINEAR, REF_OP_DYNAMICQUANTIZELINEAR,
    REF_OP_QLINEARCONV, REF_OP_QLINEARMATMUL, REF_OP_CONVINTEGER, REF_OP_MATMULINTEGER,
    REF_OP_EXT_END,
} ref_op;

/* Which file handles an operator at or above REF_OP_EXT_FIRST. */
typedef enum ref_family {
    REF_FAM_NONE = 0, REF_FAM_UNARY, REF_FAM_BINARY, REF_FAM_SHAPE, REF_FAM_REDUCE, REF_FAM_NORM,
    REF_FAM_RESIZE, REF_FAM_CONVT, REF_FAM_RNN, REF_FAM_QUANT,
} ref_family;
ref_family ref_family_of(ref_op op);

ref_op ref_op_from_name(const char *op_type);
/* "Add, AveragePool, ..." for error messages. */
const char *ref_supported_ops(void);

typedef enum ref_kind {
    REF_VAL_ACT = 0, /* computed at run; lives in the arena */
    REF_VAL_INPUT,   /* a graph input: points at the caller's buffer during run */
    REF_VAL_WEIGHT,  /* an initializer: owned data */
    REF_VAL_STATIC,  /* a Constant or a value folded at open: owned data */
    REF_VAL_ALIAS,   /* set by plan.c: computed at run but placed inside another value's
                      * bytes (a Reshape's input, a Concat's output...); owns no place and
                      * takes no part in the overlap rules, its root's lifetime covers it */
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
    /* ONNX element type as the file declares it (initializers, Constants, graph inputs) or as
     * ops_quant.c sets it (1 float, 2 uint8, 3 int8, 6 int32, 7 int64...); 0 when unknown.
     * Integers are stored as int64 whatever this says; quantized operators read it to know
     * the range they saturate to. */
    int onnx_type;
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
    struct ref_prep *prep; /* fast path chosen at open (fold_bn.c), owned; NULL: exec.c's */
    int fused;     /* merged into its producer at open (fold_bn.c); also marked folded */
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
    /* issue 3: every attribute as given (families read theirs by name), and each family's
     * plan: q/q2 hold per-axis integers (perm, starts, steps, repeats...), fq floats,
     * mode a family-defined switch, aux owned memory (scratch, tables) freed with the node. */
    struct ref_attr *attrs;
    int n_attrs;
    int64_t q[2 * EB_MAX_DIMS], q2[2 * EB_MAX_DIMS], q3[2 * EB_MAX_DIMS];
    float fq[8];
    int mode, mode2;
    void *aux;
    size_t aux_n;
} ref_node;

/* One attribute of a node, copied out of the protobuf message at load. */
typedef struct ref_attr {
    char *name;
    int type;          /* ONNX AttributeProto.type: 1 float, 2 int, 3 string, 4 tensor, 6 floats,
                          7 ints, 8 strings */
    int64_t i;
    float f;
    char *s;           /* NUL-terminated copy */
    int64_t *ints;
    float *floats;
    char **strs;
    int n;             /* elements of ints/floats/strs */
    /* TENSOR: its values converted like initializers (float32 or int64), owned */
    eb_dtype t_dtype;
    size_t t_numel;
    void *t_data;
} ref_attr;

/* Attribute lookups (onnx_load.c); NULL or `def` when absent. */
const ref_attr *ref_attr_get(const ref_node *nd, const char *name);
int64_t ref_attr_i(const ref_node *nd, const char *name, int64_t def);
float ref_attr_f(const ref_node *nd, const char *name, float def);
const char *ref_attr_s(const ref_node *nd, const char *name, const char *def);
/* The same op type name, read as "Clip"... for messages and tables. */
const char *ref_op_name(ref_op op);

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
    /* issue 3 speed (fold_bn.c, profile.c): the thread pool, and per-node timers that run
     * only when the "profile" option is set */
    struct eb_ref_pool *pool;
    int profiling;
    double *prof_ns;   /* [n_nodes]: summed run time since the last profile() call */
    int64_t prof_runs; /* runs summed in prof_ns */
    eb_ref_isa isa;           /* kernels' instruction set, chosen at open (eb_ref_isa_pick) */
    eb_ref_ukernel_fn kernel; /* the GEMM micro-kernel of isa */
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
/* Whether v is known at open (a weight or a folded value) with its data: what the fusion
 * passes may read and repack. */
int ref_value_known(const ref_value *v);
/* uses[v]: how many nodes that still run read value v, plus one if v is a graph output;
 * reader[v]: the last such node (left as it was for values nobody reads).  Both sized n_vals. */
void ref_graph_count_readers(const ref_session *s, int *uses, int *reader);

/* shape.c: infers every value's shape in order, folds nodes whose inputs are all known. */
int ref_shape_infer(ref_session *s, eb_err *err);
/* Sets v->numel from v->shape, failing on overflow or absurd sizes. */
int ref_value_set_shape(ref_value *v, int ndim, const int64_t *shape);

/* plan.c: liveness, arena offsets, scratch size; allocates the arena and scratch. */
int ref_plan(ref_session *s, eb_err *err);

/* ---------------------------------------------------------------- speed (issue 3)
 * fold_bn.c: called once at open after ref_shape_infer and before ref_plan.  Folds
 * BatchNormalization into the Conv before it, fuses Relu/Clip into Conv and Gemm, packs
 * constant weights and picks each Conv's algorithm (nd->prep), creates the thread pool
 * (config->threads) and reads the "profile" option.  Nodes merged away get fused = folded =
 * 1 and their output value is written by the producer.  0, or -1 with err set. */
typedef struct ref_prep {
    int kind;             /* REF_PREP_* */
    float *packed;        /* packed weights (owned): B for Gemm, A (per group) for Conv */
    float *bias;          /* owned; Conv: per output channel; Gemm: per column or row */
    int bias_is_row;      /* Gemm with C of shape [M, 1] */
    int c_into_y;         /* Gemm with a full C: beta * C copied into Y, product added */
    eb_ref_act act;
    float lo, hi;
    size_t scratch;       /* floats of s->scratch the node uses at run */
    /* issue 4: the int8 (qdq_fuse.c) and sparse (sparse_prep.c) kernels' own plan, freed
     * with ext_free */
    void *ext;
    void (*ext_free)(void *ext);
} ref_prep;
enum {
    REF_PREP_GEMM = 1, REF_PREP_CONV_GEMM, REF_PREP_CONV_DW, REF_PREP_QDQ, REF_PREP_SPARSE,
    REF_PREP_MATMUL
};

/* qdq_fuse.c: DequantizeLinear(q) -> Conv/Gemm/MatMul (weight DequantizeLinear(int8), folded
 * at open) -> [Relu] -> QuantizeLinear becomes one integer node (REF_PREP_QDQ) reading q and
 * writing the QuantizeLinear's output; its op_type gains "[int8]".  Option "qdq_fuse" (default
 * on) turns it off.  sparse_prep.c: Gemm/MatMul/1x1-Conv with a constant weight whose share of
 * zeros is at least option "sparse_threshold" (default 0.7; 1 or more disables) run on CSR
 * kernels (REF_PREP_SPARSE; op_type gains "[sparse]").  Both run first in ref_prepare and
 * leave nodes they do not take alone.  0, or -1 with err set. */
int ref_qdq_fuse(ref_session *s, const eb_config *config, eb_err *err);
void ref_qdq_exec(ref_session *s, const ref_node *nd);
int ref_sparse_prepare(ref_session *s, const eb_config *config, eb_err *err);
void ref_sparse_exec(ref_session *s, const ref_node *nd);
/* Nodes on the sparse / int8 path (for facts and tests). */
int ref_sparse_nodes(const ref_session *s);
int ref_qdq_nodes(const ref_session *s);

int ref_prepare(ref_session *s, const eb_config *config, eb_err *err);
/* Runs a node with nd->prep set (exec.c's ref_exec_node hands such nodes over). */
void ref_prep_exec(ref_session *s, const ref_node *nd);
/* Frees every nd->prep and the pool (ref_session_free calls it). */
void ref_prepare_free(ref_session *s);
/* ops_gemm.c / ops_conv.c: pack a node at open; run a prepared node. */
int ref_gemm_prepare(ref_session *s, ref_node *nd, eb_err *err);
void ref_gemm_exec(ref_session *s, const ref_node *nd);
/* MatMul with a constant 2-D B (PyTorch's Linear at opset 13+): B packed at open; A's rows
 * (every batch) are one GEMM.  A bias may be added later (p->bias, per column). */
int ref_matmul_prepare(ref_session *s, ref_node *nd, eb_err *err);
void ref_matmul_exec(ref_session *s, const ref_node *nd);
int ref_conv_prepare(ref_session *s, ref_node *nd, const float *bn_scale, const float *bn_shift,
                     eb_err *err);
void ref_conv_exec(ref_session *s, const ref_node *nd);
/* conv_depthwise.c: y = depthwise conv (group == c == m, kh x kw up to 7x7, stride 1 or 2,
 * dilation 1) of channels [c0, c1), weights w[c][kh*kw], bias b[c] (may be NULL), then act;
 * with the AVX-512 kernels (conv_depthwise_avx512.c) when isa is EB_REF_ISA_AVX512 (which the
 * CPU must support) and they take the shape, else AVX2 (isa AVX2 or AVX512) or portable. */
int eb_ref_dw3x3_fits(const eb_ref_conv2d *p);
/* Whether eb_ref_dw3x3 takes p (the same shapes on every isa). */
int eb_ref_dw_fits(const eb_ref_conv2d *p, eb_ref_isa isa);
void eb_ref_dw3x3(const eb_ref_conv2d *p, const float *x, const float *w, const float *b,
                  eb_ref_act act, float lo, float hi, float *y, int64_t c0, int64_t c1,
                  eb_ref_isa isa);
/* Zeroes buf[0, size) except the h rows of w floats at (pt + i)*pitch + pl, where a padded
 * copy of a plane goes (the depthwise kernels' copies keep their borders across channels). */
void eb_ref_dw_zero_borders(float *buf, int64_t size, int64_t pt, int64_t pl, int64_t h,
                            int64_t w, int64_t pitch);
#if defined(__x86_64__)
/* 0 when done, -1 (nothing written) for shapes it leaves to the AVX2 kernel. */
int eb_ref_dw3x3_avx512(const eb_ref_conv2d *p, const float *x, const float *w,
                        const float *b, eb_ref_act act, float lo, float hi, float *y,
                        int64_t c0, int64_t c1);
#endif
/* conv_im2col.c: im2col of one image's group (cg channels) straight into packed-B panels
 * [p0, p1) of a K x (OH*OW) matrix (K = cg*kh*kw). */
void eb_ref_im2col_packed(const eb_ref_conv2d *p, int64_t cg, const float *x, float *pb,
                          int64_t p0, int64_t p1);

/* profile.c: runs every node that is not folded, timing each when s->profiling. */
void ref_run_nodes(ref_session *s);
/* The eb_backend_i profile method: per node, mean ms per run since the last call. */
int ref_profile(void *session, eb_op_time *ops, size_t n);

/* exec.c: runs one node on the data its values point at. */
void ref_exec_node(ref_session *s, const ref_node *nd);

void ref_session_free(ref_session *s);

/* ---------------------------------------------------------------- issue 3 families
 * Each family file infers its operators' shapes (checking inputs, filling nd's plan, setting
 * outputs with ref_set_out) and executes them.  infer returns 0 or -1 with a node-labelled
 * message; exec reads only what infer planned and never fails (data-dependent errors such as
 * an out-of-range index at run time give zeros, never a wild access). */
int ref_set_out(ref_session *s, ref_node *nd, int i, eb_dtype dt, int ndim,
                const int64_t *shape, eb_err *err);
int ref_node_fail(const ref_node *nd, eb_err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int ref_is_static(const ref_value *v);
/* Reads static input idx as up to max int64s (any integer dtype); -1 with a message if absent,
 * not static or too long. */
int ref_static_ints(ref_session *s, ref_node *nd, int idx, const char *what, int64_t *out,
                    int max, int *n, eb_err *err);
/* Normalises axis into [0, rank); -1 when out of range. */
int ref_norm_axis(int64_t axis, int rank, int64_t *out);
/* Numpy broadcast of two shapes (not merged). */
int ref_bcast_shape(int na, const int64_t *a, int nb, const int64_t *b, int *n, int64_t *out);
/* Strides of value v broadcast to an output of rank `rank` and shape `shape` (0 on
 * broadcast axes). */
void ref_bcast_strides(const ref_value *v, int rank, int64_t *st);
int64_t ref_prod(const int64_t *d, int from, int to);
const char *ref_shape_str(const ref_value *v, char *buf, size_t n);

/* ref.c: open with the named graph inputs bound to values (they become constants); the
 * session then works with eb_backend_ref's io/run/close.  For tests/conformance. */
int ref_open_bound(const char *path, int n_bound, const eb_tensor *bound, void **session,
                   eb_err *err);

/* exec.c: Cast's conversion, also used by CastLike; `to` is the ONNX type (0: keep). */
void ref_exec_cast(const ref_value *x, const ref_value *y, int to);

int ref_infer_unary(ref_session *s, ref_node *nd, eb_err *err);
void ref_exec_unary(ref_session *s, const ref_node *nd);
int ref_infer_binary(ref_session *s, ref_node *nd, eb_err *err);
void ref_exec_binary(ref_session *s, const ref_node *nd);
int ref_infer_shapeop(ref_session *s, ref_node *nd, eb_err *err);
void ref_exec_shapeop(ref_session *s, const ref_node *nd);
/* Whether output `out` of a Slice/Split is one contiguous run of its input, starting
 * *elem_off elements in (then plan.c may place it on the input's bytes). */
int ref_shapeop_alias(const ref_node *nd, int out, int64_t *elem_off);
int ref_infer_reduce(ref_session *s, ref_node *nd, eb_err *err);
void ref_exec_reduce(ref_session *s, const ref_node *nd);
int ref_infer_norm(ref_session *s, ref_node *nd, eb_err *err);
void ref_exec_norm(ref_session *s, const ref_node *nd);
/* ops_lnfuse.c: PyTorch's decomposed LayerNorm (ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt,
 * Div, Mul, Add) becomes one LayerNormalization node; run at open after ref_prepare. */
int ref_fuse_layernorm(ref_session *s, eb_err *err);
int ref_infer_resize(ref_session *s, ref_node *nd, eb_err *err);
void ref_exec_resize(ref_session *s, const ref_node *nd);
int ref_infer_convt(ref_session *s, ref_node *nd, eb_err *err);
void ref_exec_convt(ref_session *s, const ref_node *nd);
int ref_infer_rnn(ref_session *s, ref_node *nd, eb_err *err);
void ref_exec_rnn(ref_session *s, const ref_node *nd);
int ref_infer_quant(ref_session *s, ref_node *nd, eb_err *err);
void ref_exec_quant(ref_session *s, const ref_node *nd);
/* ops_pool_nd.c: pools ops_pool.c does not run (3-D and up, integer MaxPool, Indices);
 * shape.c asks wanted() first, and infer sets nd->mode = 1 for exec.c. */
int ref_pool_nd_wanted(const ref_session *s, const ref_node *nd);
int ref_infer_pool_nd(ref_session *s, ref_node *nd, eb_err *err);
void ref_exec_pool_nd(ref_session *s, const ref_node *nd);

#endif
