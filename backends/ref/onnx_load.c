/* Reading an ONNX file into the ref engine's graph: protobuf-c does the parsing; this file
 * turns the message into values and nodes, converts weights to float32/int64 (so nothing
 * downstream sees protobuf types), binds the batch dimension of the graph inputs, and frees
 * the message again.  Anything the engine cannot take is refused here with one line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "onnx.pb-c.h"
#include "ref_internal.h"

/* Larger files are not "small models for edge devices"; refusing early keeps a mistaken path
 * (a dataset, a disk image) from being read into memory. */
#define REF_MAX_FILE_BYTES ((long)2 << 30)

static const struct {
    const char *name;
    ref_op op;
} op_table[] = {
    {"Abs", REF_OP_ABS},
    {"Acos", REF_OP_ACOS},
    {"Acosh", REF_OP_ACOSH},
    {"Add", REF_OP_ADD},
    {"And", REF_OP_AND},
    {"ArgMax", REF_OP_ARGMAX},
    {"ArgMin", REF_OP_ARGMIN},
    {"Asin", REF_OP_ASIN},
    {"Asinh", REF_OP_ASINH},
    {"Atan", REF_OP_ATAN},
    {"Atanh", REF_OP_ATANH},
    {"AveragePool", REF_OP_AVGPOOL},
    {"BatchNormalization", REF_OP_BATCHNORM},
    {"BitShift", REF_OP_BITSHIFT},
    {"Cast", REF_OP_CAST},
    {"CastLike", REF_OP_CASTLIKE},
    {"Ceil", REF_OP_CEIL},
    {"Celu", REF_OP_CELU},
    {"Clip", REF_OP_CLIP},
    {"Concat", REF_OP_CONCAT},
    {"Constant", REF_OP_CONSTANT},
    {"ConstantOfShape", REF_OP_CONSTANTOFSHAPE},
    {"Conv", REF_OP_CONV},
    {"ConvTranspose", REF_OP_CONVTRANSPOSE},
    {"ConvInteger", REF_OP_CONVINTEGER},
    {"Cos", REF_OP_COS},
    {"Cosh", REF_OP_COSH},
    {"DepthToSpace", REF_OP_DEPTHTOSPACE},
    {"DequantizeLinear", REF_OP_DEQUANTIZELINEAR},
    {"Div", REF_OP_DIV},
    {"Dropout", REF_OP_DROPOUT},
    {"DynamicQuantizeLinear", REF_OP_DYNAMICQUANTIZELINEAR},
    {"Elu", REF_OP_ELU},
    {"Equal", REF_OP_EQUAL},
    {"Erf", REF_OP_ERF},
    {"Exp", REF_OP_EXP},
    {"Expand", REF_OP_EXPAND},
    {"EyeLike", REF_OP_EYELIKE},
    {"Flatten", REF_OP_FLATTEN},
    {"Floor", REF_OP_FLOOR},
    {"GRU", REF_OP_GRU},
    {"Gather", REF_OP_GATHER},
    {"GatherElements", REF_OP_GATHERELEMENTS},
    {"Gemm", REF_OP_GEMM},
    {"GlobalAveragePool", REF_OP_GLOBALAVGPOOL},
    {"GlobalMaxPool", REF_OP_GLOBALMAXPOOL},
    {"Greater", REF_OP_GREATER},
    {"GreaterOrEqual", REF_OP_GREATEROREQUAL},
    {"HardSigmoid", REF_OP_HARDSIGMOID},
    {"HardSwish", REF_OP_HARDSWISH},
    {"Hardmax", REF_OP_HARDMAX},
    {"Identity", REF_OP_IDENTITY},
    {"InstanceNormalization", REF_OP_INSTANCENORM},
    {"IsInf", REF_OP_ISINF},
    {"IsNaN", REF_OP_ISNAN},
    {"LRN", REF_OP_LRN},
    {"LSTM", REF_OP_LSTM},
    {"LayerNormalization", REF_OP_LAYERNORM},
    {"LeakyRelu", REF_OP_LEAKYRELU},
    {"Less", REF_OP_LESS},
    {"LessOrEqual", REF_OP_LESSOREQUAL},
    {"Log", REF_OP_LOG},
    {"LogSoftmax", REF_OP_LOGSOFTMAX},
    {"MatMul", REF_OP_MATMUL},
    {"MatMulInteger", REF_OP_MATMULINTEGER},
    {"Max", REF_OP_MAX},
    {"MaxPool", REF_OP_MAXPOOL},
    {"Mean", REF_OP_MEAN},
    {"MeanVarianceNormalization", REF_OP_MVN},
    {"Min", REF_OP_MIN},
    {"Mod", REF_OP_MOD},
    {"Mul", REF_OP_MUL},
    {"Neg", REF_OP_NEG},
    {"Not", REF_OP_NOT},
    {"OneHot", REF_OP_ONEHOT},
    {"Or", REF_OP_OR},
    {"PRelu", REF_OP_PRELU},
    {"Pad", REF_OP_PAD},
    {"Pow", REF_OP_POW},
    {"QLinearConv", REF_OP_QLINEARCONV},
    {"QLinearMatMul", REF_OP_QLINEARMATMUL},
    {"QuantizeLinear", REF_OP_QUANTIZELINEAR},
    {"RNN", REF_OP_RNN},
    {"Range", REF_OP_RANGE},
    {"Reciprocal", REF_OP_RECIPROCAL},
    {"ReduceL1", REF_OP_REDUCEL1},
    {"ReduceL2", REF_OP_REDUCEL2},
    {"ReduceLogSum", REF_OP_REDUCELOGSUM},
    {"ReduceLogSumExp", REF_OP_REDUCELOGSUMEXP},
    {"ReduceMax", REF_OP_REDUCEMAX},
    {"ReduceMean", REF_OP_REDUCEMEAN},
    {"ReduceMin", REF_OP_REDUCEMIN},
    {"ReduceProd", REF_OP_REDUCEPROD},
    {"ReduceSum", REF_OP_REDUCESUM},
    {"ReduceSumSquare", REF_OP_REDUCESUMSQUARE},
    {"Relu", REF_OP_RELU},
    {"Reshape", REF_OP_RESHAPE},
    {"Resize", REF_OP_RESIZE},
    {"Round", REF_OP_ROUND},
    {"Selu", REF_OP_SELU},
    {"Shape", REF_OP_SHAPE},
    {"Shrink", REF_OP_SHRINK},
    {"Sigmoid", REF_OP_SIGMOID},
    {"Sign", REF_OP_SIGN},
    {"Sin", REF_OP_SIN},
    {"Sinh", REF_OP_SINH},
    {"Size", REF_OP_SIZE},
    {"Slice", REF_OP_SLICE},
    {"Softmax", REF_OP_SOFTMAX},
    {"Softplus", REF_OP_SOFTPLUS},
    {"Softsign", REF_OP_SOFTSIGN},
    {"SpaceToDepth", REF_OP_SPACETODEPTH},
    {"Split", REF_OP_SPLIT},
    {"Sqrt", REF_OP_SQRT},
    {"Squeeze", REF_OP_SQUEEZE},
    {"Sub", REF_OP_SUB},
    {"Sum", REF_OP_SUM},
    {"Tan", REF_OP_TAN},
    {"Tanh", REF_OP_TANH},
    {"ThresholdedRelu", REF_OP_THRESHOLDEDRELU},
    {"Tile", REF_OP_TILE},
    {"Transpose", REF_OP_TRANSPOSE},
    {"Trilu", REF_OP_TRILU},
    {"Unsqueeze", REF_OP_UNSQUEEZE},
    {"Upsample", REF_OP_UPSAMPLE},
    {"Where", REF_OP_WHERE},
    {"Xor", REF_OP_XOR},
};

#define N_OPS (sizeof op_table / sizeof op_table[0])

ref_op ref_op_from_name(const char *op_type)
{
    for (size_t i = 0; op_type && i < N_OPS; i++)
        if (strcmp(op_table[i].name, op_type) == 0)
            return op_table[i].op;
    return REF_OP_UNKNOWN;
}

const char *ref_supported_ops(void)
{
    return "Abs, Acos, Acosh, Add, And, ArgMax, ArgMin, Asin, Asinh, Atan, Atanh, AveragePool, "
           "BatchNormalization, BitShift, Cast, CastLike, Ceil, Celu, Clip, Concat, Constant, "
           "ConstantOfShape, Conv, ConvInteger, ConvTranspose, Cos, Cosh, DepthToSpace, "
           "DequantizeLinear, Div, Dropout, DynamicQuantizeLinear, Elu, "
           "Equal, Erf, Exp, Expand, EyeLike, Flatten, Floor, GRU, Gather, GatherElements, "
           "Gemm, GlobalAveragePool, GlobalMaxPool, Greater, GreaterOrEqual, HardSigmoid, "
           "HardSwish, Hardmax, Identity, InstanceNormalization, IsInf, IsNaN, LRN, LSTM, "
           "LayerNormalization, LeakyRelu, Less, LessOrEqual, Log, LogSoftmax, MatMul, "
           "MatMulInteger, Max, "
           "MaxPool, Mean, MeanVarianceNormalization, Min, Mod, Mul, Neg, Not, OneHot, Or, "
           "PRelu, Pad, Pow, QLinearConv, QLinearMatMul, QuantizeLinear, RNN, Range, Reciprocal, ReduceL1, ReduceL2, ReduceLogSum, "
           "ReduceLogSumExp, ReduceMax, ReduceMean, ReduceMin, ReduceProd, ReduceSum, "
           "ReduceSumSquare, Relu, Reshape, Resize, Round, Selu, Shape, Shrink, Sigmoid, Sign, "
           "Sin, Sinh, Size, Slice, Softmax, Softplus, Softsign, SpaceToDepth, Split, Sqrt, "
           "Squeeze, Sub, Sum, Tan, Tanh, ThresholdedRelu, Tile, Transpose, Trilu, Unsqueeze, "
           "Upsample, Where, Xor";
}

const char *ref_op_name(ref_op op)
{
    for (size_t i = 0; i < N_OPS; i++)
        if (op_table[i].op == op)
            return op_table[i].name;
    return "?";
}

ref_family ref_family_of(ref_op op)
{
    if (op < REF_OP_EXT_FIRST || op >= REF_OP_EXT_END)
        return REF_FAM_NONE;
    if (op <= REF_OP_THRESHOLDEDRELU)
        return REF_FAM_UNARY;
    if (op <= REF_OP_BITSHIFT)
        return REF_FAM_BINARY;
    if (op <= REF_OP_ONEHOT)
        return REF_FAM_SHAPE;
    if (op <= REF_OP_ARGMIN)
        return REF_FAM_REDUCE;
    if (op <= REF_OP_MVN)
        return REF_FAM_NORM;
    if (op <= REF_OP_UPSAMPLE)
        return REF_FAM_RESIZE;
    if (op == REF_OP_CONVTRANSPOSE)
        return REF_FAM_CONVT;
    if (op >= REF_OP_QUANTIZELINEAR)
        return REF_FAM_QUANT;
    return REF_FAM_RNN;
}

const ref_attr *ref_attr_get(const ref_node *nd, const char *name)
{
    for (int i = 0; i < nd->n_attrs; i++)
        if (strcmp(nd->attrs[i].name, name) == 0)
            return &nd->attrs[i];
    return NULL;
}

int64_t ref_attr_i(const ref_node *nd, const char *name, int64_t def)
{
    const ref_attr *a = ref_attr_get(nd, name);
    return a && a->type == 2 ? a->i : def;
}

float ref_attr_f(const ref_node *nd, const char *name, float def)
{
    const ref_attr *a = ref_attr_get(nd, name);
    return a && a->type == 1 ? a->f : def;
}

const char *ref_attr_s(const ref_node *nd, const char *name, const char *def)
{
    const ref_attr *a = ref_attr_get(nd, name);
    return a && a->type == 3 && a->s ? a->s : def;
}

const char *ref_node_label(const ref_node *nd, char *buf, size_t n)
{
    snprintf(buf, n, "node '%s' (op %s)", nd->name, nd->op_type);
    return buf;
}

/* ---------------------------------------------------------------- value index */

static uint64_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int hash_rebuild(ref_session *s, size_t cap)
{
    int *h = calloc(cap, sizeof *h);
    if (!h)
        return -1;
    for (int i = 0; i < s->n_vals; i++) {
        size_t j = name_hash(s->vals[i].name) & (cap - 1);
        while (h[j])
            j = (j + 1) & (cap - 1);
        h[j] = i + 1;
    }
    free(s->hash);
    s->hash = h;
    s->hash_cap = cap;
    return 0;
}

int ref_value_find(const ref_session *s, const char *name)
{
    if (!s->hash_cap)
        return -1;
    size_t j = name_hash(name) & (s->hash_cap - 1);
    while (s->hash[j]) {
        int i = s->hash[j] - 1;
        if (strcmp(s->vals[i].name, name) == 0)
            return i;
        j = (j + 1) & (s->hash_cap - 1);
    }
    return -1;
}

int ref_value_intern(ref_session *s, const char *name)
{
    int i = ref_value_find(s, name);
    if (i >= 0)
        return i;
    if (s->n_vals == s->cap_vals) {
        int cap = s->cap_vals ? 2 * s->cap_vals : 64;
        ref_value *v = realloc(s->vals, (size_t)cap * sizeof *v);
        if (!v)
            return -1;
        s->vals = v;
        s->cap_vals = cap;
    }
    if ((size_t)(s->n_vals + 1) * 2 > s->hash_cap &&
        hash_rebuild(s, s->hash_cap ? 2 * s->hash_cap : 128) != 0)
        return -1;
    ref_value *v = &s->vals[s->n_vals];
    memset(v, 0, sizeof *v);
    v->name = strdup(name);
    if (!v->name)
        return -1;
    v->producer = -1;
    v->first = v->last = -1;
    i = s->n_vals++;
    size_t j = name_hash(name) & (s->hash_cap - 1);
    while (s->hash[j])
        j = (j + 1) & (s->hash_cap - 1);
    s->hash[j] = i + 1;
    return i;
}

/* ---------------------------------------------------------------- tensors */

/* Converts a TensorProto into v's shape and owned data: floating types to float32, integer
 * types to int64 (the engine computes in float32; int64 only describes shapes and indices). */
static int tensor_load(const Onnx__TensorProto *t, ref_value *v, const char *what, eb_err *err)
{
    if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
        return eb_errf(err, "%s '%s' keeps its data in an external file, which ref does not "
                            "read (save the model with the weights inside)",
                       what, v->name);
    if (t->n_dims > EB_MAX_DIMS)
        return eb_errf(err, "%s '%s' has %zu dimensions (ref supports up to %d)", what, v->name,
                       t->n_dims, EB_MAX_DIMS);
    for (size_t i = 0; i < t->n_dims; i++)
        if (t->dims[i] < 0)
            return eb_errf(err, "%s '%s' has a negative dimension (%lld): the file is corrupt",
                           what, v->name, (long long)t->dims[i]);
    if (ref_value_set_shape(v, (int)t->n_dims, t->dims) != 0)
        return eb_errf(err, "%s '%s' is absurdly large (over %llu bytes): the file is corrupt",
                       what, v->name, (unsigned long long)REF_MAX_BYTES);
    size_t n = v->numel, given, esize;
    int dt = t->has_data_type ? t->data_type : 0;
    switch (dt) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: esize = 4; given = t->n_float_data; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: esize = 8; given = t->n_double_data; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: esize = 8; given = t->n_int64_data; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: esize = 4; given = t->n_int32_data; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT16:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT16: esize = 2; given = t->n_int32_data; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT8:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8:
    case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL: esize = 1; given = t->n_int32_data; break;
    default:
        return eb_errf(err, "%s '%s' has ONNX data type %d, which ref does not support (it "
                            "takes float, double and integer tensors)",
                       what, v->name, dt);
    }
    int is_float = dt == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT ||
                   dt == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE;
    const unsigned char *raw = NULL;
    if (t->has_raw_data && (t->raw_data.len > 0 || given == 0)) {
        if (t->raw_data.len != n * esize)
            return eb_errf(err, "%s '%s': shape says %zu elements (%zu bytes) but the file "
                                "holds %zu bytes; the file is corrupt or was cut short",
                           what, v->name, n, n * esize, t->raw_data.len);
        raw = t->raw_data.data;
    } else if (given != n) {
        return eb_errf(err, "%s '%s': shape says %zu elements but the file holds %zu; the file "
                            "is corrupt or was cut short",
                       what, v->name, n, given);
    }
    v->dtype = is_float ? EB_F32 : EB_I64;
    v->onnx_type = dt;
    v->data = malloc(n ? n * 8 : 8);
    if (!v->data)
        return eb_errf(err, "%s '%s': out of memory (%zu elements)", what, v->name, n);
    float *f = v->data;
    int64_t *q = v->data;
    for (size_t i = 0; i < n; i++) {
        switch (dt) {
        case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
            if (raw)
                memcpy(&f[i], raw + 4 * i, 4);
            else
                f[i] = t->float_data[i];
            break;
        case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: {
            double d;
            if (raw)
                memcpy(&d, raw + 8 * i, 8);
            else
                d = t->double_data[i];
            f[i] = (float)d;
            break;
        }
        case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
            if (raw)
                memcpy(&q[i], raw + 8 * i, 8);
            else
                q[i] = t->int64_data[i];
            break;
        case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: {
            int32_t x;
            if (raw)
                memcpy(&x, raw + 4 * i, 4);
            else
                x = t->int32_data[i];
            q[i] = x;
            break;
        }
        case ONNX__TENSOR_PROTO__DATA_TYPE__INT16: {
            int16_t x;
            if (raw)
                memcpy(&x, raw + 2 * i, 2);
            else
                x = (int16_t)t->int32_data[i];
            q[i] = x;
            break;
        }
        case ONNX__TENSOR_PROTO__DATA_TYPE__UINT16: {
            uint16_t x;
            if (raw)
                memcpy(&x, raw + 2 * i, 2);
            else
                x = (uint16_t)t->int32_data[i];
            q[i] = x;
            break;
        }
        case ONNX__TENSOR_PROTO__DATA_TYPE__INT8:
            q[i] = raw ? (int8_t)raw[i] : (int8_t)t->int32_data[i];
            break;
        default: /* UINT8, BOOL */
            q[i] = raw ? raw[i] : (uint8_t)t->int32_data[i];
            break;
        }
    }
    /* Shrink float tensors to their real size: weights are most of a model's memory. */
    if (v->dtype == EB_F32 && n) {
        void *p = realloc(v->data, n * 4);
        if (p)
            v->data = p;
    }
    return 0;
}

/* ---------------------------------------------------------------- attributes */

static const Onnx__AttributeProto *attr_find(const Onnx__NodeProto *np, const char *name)
{
    for (size_t i = 0; i < np->n_attribute; i++)
        if (np->attribute[i]->name && strcmp(np->attribute[i]->name, name) == 0)
            return np->attribute[i];
    return NULL;
}

static int64_t attr_int(const Onnx__NodeProto *np, const char *name, int64_t def)
{
    const Onnx__AttributeProto *a = attr_find(np, name);
    return a && a->has_i ? a->i : def;
}

static float attr_float(const Onnx__NodeProto *np, const char *name, float def)
{
    const Onnx__AttributeProto *a = attr_find(np, name);
    return a && a->has_f ? a->f : def;
}

/* Copies up to `max` ints; returns how many the attribute has (-1 when absent). */
static int attr_ints(const Onnx__NodeProto *np, const char *name, int64_t *out, int max)
{
    const Onnx__AttributeProto *a = attr_find(np, name);
    if (!a)
        return -1;
    for (size_t i = 0; i < a->n_ints && (int)i < max; i++)
        out[i] = a->ints[i];
    return (int)a->n_ints;
}

/* Conv and pooling geometry, stored as 2-D: 1-D attributes go to the width, height 1. */
static int spatial_attrs(ref_node *nd, const Onnx__NodeProto *np, eb_err *err)
{
    ref_attrs *a = &nd->a;
    char lbl[300];
    int64_t k[4] = {0}, st[4] = {0}, dl[4] = {0}, pd[8] = {0};
    int nk = attr_ints(np, "kernel_shape", k, 4);
    int ns = attr_ints(np, "strides", st, 4);
    int ndl = attr_ints(np, "dilations", dl, 4);
    int npd = attr_ints(np, "pads", pd, 8);
    /* the spatial rank the attributes agree on: 1 (Conv1d) or 2 (Conv2d) */
    int rank = 0, given[4] = {nk, ns, ndl, npd >= 0 ? (npd % 2 ? 99 : npd / 2) : -1};
    for (int i = 0; i < 4; i++) {
        if (given[i] < 0)
            continue;
        if ((given[i] < 1 || given[i] > 3) || (rank && given[i] != rank))
            return eb_errf(err, "%s: kernel_shape/strides/dilations/pads must all be 1-D, all "
                                "2-D or all 3-D",
                           ref_node_label(nd, lbl, sizeof lbl));
        rank = given[i];
    }
    a->spatial_rank = rank;
    a->has_kernel = nk >= 0;
    if (rank == 3) /* pools: ops_pool_nd.c reads the attributes by name and checks them */
        return 0;
    int off = rank == 1 ? 1 : 0; /* 1-D values go to the width */
    for (int i = 0; i < rank; i++) {
        if (nk >= 0)
            a->kernel[off + i] = k[i];
        if (ns >= 0)
            a->strides[off + i] = st[i];
        if (ndl >= 0)
            a->dilations[off + i] = dl[i];
        if (npd >= 0) {
            a->pads[off + i] = pd[i];
            a->pads[2 + off + i] = pd[rank + i];
        }
    }
    /* Bounds keep the geometry arithmetic far from overflow on corrupt files. */
    const int64_t lim = (int64_t)1 << 30;
    for (int i = 0; i < 2; i++)
        if (a->kernel[i] < 1 || a->strides[i] < 1 || a->dilations[i] < 1 || a->kernel[i] > lim ||
            a->strides[i] > lim || a->dilations[i] > lim)
            return eb_errf(err, "%s: kernel_shape, strides and dilations must be between 1 and "
                                "2^30",
                           ref_node_label(nd, lbl, sizeof lbl));
    for (int i = 0; i < 4; i++)
        if (a->pads[i] < 0 || a->pads[i] > lim)
            return eb_errf(err, "%s: pads must be between 0 and 2^30",
                           ref_node_label(nd, lbl, sizeof lbl));
    return 0;
}

static char *bytes_dup(const ProtobufCBinaryData *b)
{
    char *c = malloc(b->len + 1);
    if (c) {
        memcpy(c, b->data, b->len);
        c[b->len] = 0;
    }
    return c;
}

/* Copies every attribute out of the message, so operator families read theirs by name after
 * the message is freed.  Graph attributes (If, Loop) are not kept: those operators are not
 * supported. */
static int copy_attrs(ref_node *nd, const Onnx__NodeProto *np, eb_err *err)
{
    char lbl[300];
    if (!np->n_attribute)
        return 0;
    nd->attrs = calloc(np->n_attribute, sizeof *nd->attrs);
    if (!nd->attrs)
        return eb_errf(err, "out of memory");
    for (size_t i = 0; i < np->n_attribute; i++) {
        const Onnx__AttributeProto *ap = np->attribute[i];
        ref_attr *a = &nd->attrs[nd->n_attrs++];
        a->name = strdup(ap->name ? ap->name : "");
        if (!a->name)
            return eb_errf(err, "out of memory");
        a->type = ap->has_type ? (int)ap->type : 0;
        a->i = ap->i;
        a->f = ap->f;
        if (ap->has_s && !(a->s = bytes_dup(&ap->s)))
            return eb_errf(err, "out of memory");
        if (ap->n_ints) {
            if (ap->n_ints > ((size_t)1 << 24) || !(a->ints = malloc(ap->n_ints * 8)))
                return eb_errf(err, "%s: attribute '%s' is too large",
                               ref_node_label(nd, lbl, sizeof lbl), a->name);
            memcpy(a->ints, ap->ints, ap->n_ints * 8);
            a->n = (int)ap->n_ints;
        } else if (ap->n_floats) {
            if (ap->n_floats > ((size_t)1 << 24) || !(a->floats = malloc(ap->n_floats * 4)))
                return eb_errf(err, "%s: attribute '%s' is too large",
                               ref_node_label(nd, lbl, sizeof lbl), a->name);
            memcpy(a->floats, ap->floats, ap->n_floats * 4);
            a->n = (int)ap->n_floats;
        } else if (ap->n_strings) {
            if (ap->n_strings > 64 || !(a->strs = calloc(ap->n_strings, sizeof *a->strs)))
                return eb_errf(err, "%s: attribute '%s' is too large",
                               ref_node_label(nd, lbl, sizeof lbl), a->name);
            a->n = (int)ap->n_strings;
            for (size_t j = 0; j < ap->n_strings; j++)
                if (!(a->strs[j] = bytes_dup(&ap->strings[j])))
                    return eb_errf(err, "out of memory");
        }
        if (ap->t && strcmp(nd->op_type, "Constant") != 0) {
            ref_value tv;
            memset(&tv, 0, sizeof tv);
            tv.name = a->name;
            if (tensor_load(ap->t, &tv, "attribute", err) != 0)
                return eb_err_prefix(err, "%s", ref_node_label(nd, lbl, sizeof lbl));
            a->t_dtype = tv.dtype;
            a->t_numel = tv.numel;
            a->t_data = tv.data;
        }
    }
    return 0;
}

static int node_attrs(ref_session *s, ref_node *nd, const Onnx__NodeProto *np, eb_err *err)
{
    if (copy_attrs(nd, np, err) != 0)
        return -1;
    ref_attrs *a = &nd->a;
    char lbl[300];
    a->kernel[0] = a->kernel[1] = 1;
    a->strides[0] = a->strides[1] = 1;
    a->dilations[0] = a->dilations[1] = 1;
    if ((nd->op == REF_OP_CONV || nd->op == REF_OP_MAXPOOL || nd->op == REF_OP_AVGPOOL ||
         nd->op == REF_OP_QLINEARCONV || nd->op == REF_OP_CONVINTEGER) &&
        spatial_attrs(nd, np, err) != 0)
        return -1;
    a->group = attr_int(np, "group", 1);
    const Onnx__AttributeProto *ap = attr_find(np, "auto_pad");
    if (ap && ap->has_s) {
        const char *v = (const char *)ap->s.data;
        size_t len = ap->s.len;
        if (len == 6 && memcmp(v, "NOTSET", 6) == 0)
            a->auto_pad = REF_PAD_NOTSET;
        else if (len == 5 && memcmp(v, "VALID", 5) == 0)
            a->auto_pad = REF_PAD_VALID;
        else if (len == 10 && memcmp(v, "SAME_UPPER", 10) == 0)
            a->auto_pad = REF_PAD_SAME_UPPER;
        else if (len == 10 && memcmp(v, "SAME_LOWER", 10) == 0)
            a->auto_pad = REF_PAD_SAME_LOWER;
        else
            return eb_errf(err, "%s: unknown auto_pad '%.*s' (NOTSET, VALID, SAME_UPPER, "
                                "SAME_LOWER)",
                           ref_node_label(nd, lbl, sizeof lbl), (int)(len > 40 ? 40 : len), v);
    }
    a->ceil_mode = (int)attr_int(np, "ceil_mode", 0);
    a->count_include_pad = (int)attr_int(np, "count_include_pad", 0);
    a->alpha = attr_float(np, "alpha", 1.0f);
    a->beta = attr_float(np, "beta", 1.0f);
    a->epsilon = attr_float(np, "epsilon", 1e-5f);
    a->trans_a = (int)attr_int(np, "transA", 0);
    a->trans_b = (int)attr_int(np, "transB", 0);
    a->has_axis = attr_find(np, "axis") != NULL;
    a->axis = attr_int(np, "axis", 0);
    a->to = attr_int(np, "to", 0);
    a->allowzero = (int)attr_int(np, "allowzero", 0);
    a->start = attr_int(np, "start", 0);
    a->has_end = attr_find(np, "end") != NULL;
    a->end = attr_int(np, "end", 0);
    int na = attr_ints(np, "axes", a->axes, EB_MAX_DIMS);
    if (na > EB_MAX_DIMS)
        return eb_errf(err, "%s: too many axes (%d)", ref_node_label(nd, lbl, sizeof lbl), na);
    a->has_axes = na >= 0;
    a->n_axes = na < 0 ? 0 : na;

    if (nd->op == REF_OP_PAD) {
        const Onnx__AttributeProto *mode = attr_find(np, "mode");
        const char *mv = mode && mode->has_s ? (const char *)mode->s.data : "constant";
        size_t ml = mode && mode->has_s ? mode->s.len : 8;
        if (ml == 8 && memcmp(mv, "constant", 8) == 0)
            a->pad_mode = REF_PADMODE_CONSTANT;
        else if (ml == 7 && memcmp(mv, "reflect", 7) == 0)
            a->pad_mode = REF_PADMODE_REFLECT;
        else if (ml == 4 && memcmp(mv, "edge", 4) == 0)
            a->pad_mode = REF_PADMODE_EDGE;
        else
            return eb_errf(err, "%s: unknown mode '%.*s' (constant, reflect, edge)",
                           ref_node_label(nd, lbl, sizeof lbl), (int)(ml > 40 ? 40 : ml), mv);
        a->pad_value = attr_float(np, "value", 0.0f);
        a->n_pads_attr = attr_ints(np, "pads", a->pads_attr, 2 * EB_MAX_DIMS);
        if (a->n_pads_attr > 2 * EB_MAX_DIMS)
            return eb_errf(err, "%s: too many pads", ref_node_label(nd, lbl, sizeof lbl));
    }
    if (nd->op == REF_OP_BATCHNORM && attr_int(np, "training_mode", 0) != 0)
        return eb_errf(err, "%s: training_mode=1 is not supported (export the model in eval "
                            "mode)",
                       ref_node_label(nd, lbl, sizeof lbl));
    if (nd->op == REF_OP_CONSTANT) {
        /* A Constant's value becomes static data now, while the message is still alive. */
        ref_value *v = &s->vals[nd->out[0]];
        const Onnx__AttributeProto *t = attr_find(np, "value");
        const Onnx__AttributeProto *f = attr_find(np, "value_float");
        const Onnx__AttributeProto *fs = attr_find(np, "value_floats");
        const Onnx__AttributeProto *i1 = attr_find(np, "value_int");
        const Onnx__AttributeProto *is = attr_find(np, "value_ints");
        if (t && t->t) {
            if (tensor_load(t->t, v, "constant", err) != 0)
                return eb_err_prefix(err, "%s", ref_node_label(nd, lbl, sizeof lbl));
        } else if ((f && f->has_f) || (i1 && i1->has_i)) {
            ref_value_set_shape(v, 0, NULL);
            v->data = malloc(8);
            if (!v->data)
                return eb_errf(err, "out of memory");
            v->dtype = f ? EB_F32 : EB_I64;
            if (f)
                *(float *)v->data = f->f;
            else
                *(int64_t *)v->data = i1->i;
        } else if (fs || is) {
            int64_t n = (int64_t)(fs ? fs->n_floats : is->n_ints);
            ref_value_set_shape(v, 1, &n);
            v->data = malloc(n ? (size_t)n * 8 : 8);
            if (!v->data)
                return eb_errf(err, "out of memory");
            v->dtype = fs ? EB_F32 : EB_I64;
            if (fs)
                memcpy(v->data, fs->floats, (size_t)n * 4);
            else
                memcpy(v->data, is->ints, (size_t)n * 8);
        } else {
            return eb_errf(err, "%s: no value ref can read (value, value_float(s), "
                                "value_int(s) are supported)",
                           ref_node_label(nd, lbl, sizeof lbl));
        }
        v->kind = REF_VAL_STATIC;
        v->shaped = 1;
        nd->folded = 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- the graph */

static int load_input(ref_session *s, const Onnx__ValueInfoProto *vi, int batch, eb_err *err)
{
    const char *name = vi->name ? vi->name : "";
    int idx = ref_value_find(s, name);
    if (idx >= 0 && s->vals[idx].kind == REF_VAL_WEIGHT)
        return 0; /* an old export listing its initializers as inputs: a weight */
    if (idx >= 0)
        return eb_errf(err, "graph input '%s' is listed twice", name);
    if (s->n_in >= EB_MAX_IO)
        return eb_errf(err, "the model has more than %d inputs (ref supports up to %d)",
                       EB_MAX_IO, EB_MAX_IO);
    const Onnx__TypeProto *tp = vi->type;
    if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
        return eb_errf(err, "graph input '%s' is not a tensor; sequences and optionals are not "
                            "supported by ref",
                       name);
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    /* Inside ref, floating tensors are float32 and integer and bool tensors int64; a graph
     * input is declared (and must be fed) in that representation. */
    eb_dtype in_dt;
    switch (tt->elem_type) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: in_dt = EB_F32; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32:
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT16:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT16:
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT8:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT32:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT64: /* as int64: values past 2^63 wrap */
    case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL: in_dt = EB_I64; break;
    default:
        return eb_errf(err, "graph input '%s' has ONNX element type %d (%s), which is not "
                            "supported by ref (float, double, integer and bool inputs are)",
                       name, tt->elem_type,
                       tt->elem_type == 10   ? "float16"
                       : tt->elem_type == 16 ? "bfloat16"
                       : tt->elem_type == 8  ? "string"
                                             : "complex or unknown");
    }
    if (!tt->shape)
        return eb_errf(err, "graph input '%s' has no shape; ref needs static shapes (export "
                            "with input shapes)",
                       name);
    if (tt->shape->n_dim > EB_MAX_DIMS)
        return eb_errf(err, "graph input '%s' has %zu dimensions (ref supports up to %d)", name,
                       tt->shape->n_dim, EB_MAX_DIMS);
    int64_t shape[EB_MAX_DIMS];
    for (size_t d = 0; d < tt->shape->n_dim; d++) {
        const Onnx__TensorShapeProto__Dimension *dim = tt->shape->dim[d];
        /* dim_value 0 is a real (empty) dimension; only a missing or negative one is
         * symbolic */
        int sym = dim->value_case != ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE ||
                  dim->dim_value < 0;
        const char *param = dim->value_case ==
                                    ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
                                    dim->dim_param
                                ? dim->dim_param
                                : "?";
        if (sym && d > 0)
            return eb_errf(err, "graph input '%s': dimension %zu is symbolic ('%s'); ref binds "
                                "only the leading (batch) dimension, so re-export with a fixed "
                                "size there",
                           name, d, param);
        /* A fixed leading dimension is taken as it is at the default batch 1 (the model may
         * not be batched at all); asking for another batch needs a dynamic one. */
        if (!sym && d == 0 && batch != 1 && dim->dim_value != batch)
            return eb_errf(err, "graph input '%s' has a fixed batch of %lld but batch %d was "
                                "asked; use batch %lld or export with a dynamic batch "
                                "(dynamic_axes)",
                           name, (long long)dim->dim_value, batch, (long long)dim->dim_value);
        shape[d] = sym ? batch : dim->dim_value;
    }
    idx = ref_value_intern(s, name);
    if (idx < 0)
        return eb_errf(err, "out of memory");
    ref_value *v = &s->vals[idx];
    v->kind = REF_VAL_INPUT;
    v->dtype = in_dt;
    v->onnx_type = (int)tt->elem_type;
    if (ref_value_set_shape(v, (int)tt->shape->n_dim, shape) != 0)
        return eb_errf(err, "graph input '%s' is absurdly large (over %llu bytes at batch %d)",
                       name, (unsigned long long)REF_MAX_BYTES, batch);
    v->shaped = 1;
    s->in_vals[s->n_in++] = idx;
    return 0;
}

static int load_node(ref_session *s, const Onnx__NodeProto *np, int index, eb_err *err)
{
    ref_node *nd = &s->nodes[index];
    char lbl[300];
    nd->op_type = strdup(np->op_type ? np->op_type : "");
    if (np->name && np->name[0])
        nd->name = strdup(np->name);
    else {
        char buf[32];
        snprintf(buf, sizeof buf, "#%d", index);
        nd->name = strdup(buf);
    }
    if (!nd->op_type || !nd->name)
        return eb_errf(err, "out of memory");
    const char *dom = np->domain ? np->domain : "";
    if (dom[0] && strcmp(dom, "ai.onnx") != 0)
        return eb_errf(err, "%s: operator domain '%s' is not supported by ref (it runs the "
                            "default ONNX domain only)",
                       ref_node_label(nd, lbl, sizeof lbl), dom);
    nd->op = ref_op_from_name(nd->op_type);
    if (nd->op == REF_OP_UNKNOWN)
        return eb_errf(err, "%s: operator not supported by ref (`edgebench help ref` lists the "
                            "operators it runs)",
                       ref_node_label(nd, lbl, sizeof lbl));
    nd->n_in = (int)np->n_input;
    nd->n_out = (int)np->n_output;
    nd->in = malloc((np->n_input + 1) * sizeof *nd->in);
    nd->out = malloc((np->n_output + 1) * sizeof *nd->out);
    if (!nd->in || !nd->out)
        return eb_errf(err, "out of memory");
    for (int i = 0; i < nd->n_in; i++) {
        const char *nm = np->input[i];
        nd->in[i] = nm && nm[0] ? ref_value_intern(s, nm) : -1;
        if (nm && nm[0] && nd->in[i] < 0)
            return eb_errf(err, "out of memory");
    }
    /* Trailing absent inputs are the same as missing ones. */
    while (nd->n_in > 0 && nd->in[nd->n_in - 1] < 0)
        nd->n_in--;
    /* Optional outputs may be omitted with an empty name, the first too (an RNN asked only
     * for its final state); a node must still produce something. */
    int named = 0;
    for (int i = 0; i < nd->n_out; i++)
        named |= np->output[i] && np->output[i][0];
    if (!named)
        return eb_errf(err, "%s has no output", ref_node_label(nd, lbl, sizeof lbl));
    for (int i = 0; i < nd->n_out; i++) {
        const char *nm = np->output[i];
        nd->out[i] = nm && nm[0] ? ref_value_intern(s, nm) : -1;
        if (nm && nm[0] && nd->out[i] < 0)
            return eb_errf(err, "out of memory");
        if (nd->out[i] >= 0) {
            ref_value *v = &s->vals[nd->out[i]];
            if (v->producer >= 0 || v->kind != REF_VAL_ACT)
                return eb_errf(err, "%s writes '%s', which is already %s",
                               ref_node_label(nd, lbl, sizeof lbl), nm,
                               v->kind == REF_VAL_WEIGHT   ? "an initializer"
                               : v->kind == REF_VAL_INPUT ? "a graph input"
                                                          : "written by another node");
            v->producer = index;
        }
    }
    while (nd->n_out > 1 && nd->out[nd->n_out - 1] < 0)
        nd->n_out--;
    return node_attrs(s, nd, np, err);
}

static int load_model(ref_session *s, const Onnx__ModelProto *m, int batch, eb_err *err)
{
    s->opset = -1;
    for (size_t i = 0; i < m->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = m->opset_import[i];
        if (o && (!o->domain || !o->domain[0] || strcmp(o->domain, "ai.onnx") == 0))
            s->opset = o->has_version ? o->version : 1;
    }
    if (s->opset < 0)
        s->opset = 13; /* files without opset_import are older than the spec allows; guess */
    const Onnx__GraphProto *g = m->graph;
    if (!g)
        return eb_errf(err, "the file parses as protobuf but holds no ONNX graph (is it an "
                            "ONNX model?)");
    if (g->n_node == 0 || g->n_output == 0)
        return eb_errf(err, "the ONNX graph has %zu nodes and %zu outputs; nothing to run",
                       g->n_node, g->n_output);
    if (g->n_sparse_initializer)
        return eb_errf(err, "sparse initializers are not supported by ref");
    for (size_t i = 0; i < g->n_initializer; i++) {
        const Onnx__TensorProto *t = g->initializer[i];
        if (!t->name || !t->name[0])
            return eb_errf(err, "initializer #%zu has no name; the file is corrupt", i);
        if (ref_value_find(s, t->name) >= 0)
            return eb_errf(err, "initializer '%s' is listed twice", t->name);
        int idx = ref_value_intern(s, t->name);
        if (idx < 0)
            return eb_errf(err, "out of memory");
        ref_value *v = &s->vals[idx];
        v->kind = REF_VAL_WEIGHT;
        v->shaped = 1;
        if (tensor_load(t, v, "initializer", err) != 0)
            return -1;
    }
    for (size_t i = 0; i < g->n_input; i++)
        if (load_input(s, g->input[i], batch, err) != 0)
            return -1;
    s->nodes = calloc(g->n_node, sizeof *s->nodes);
    if (!s->nodes)
        return eb_errf(err, "out of memory");
    s->n_nodes = (int)g->n_node;
    for (size_t i = 0; i < g->n_node; i++)
        if (load_node(s, g->node[i], (int)i, err) != 0)
            return -1;
    if (g->n_output > EB_MAX_IO)
        return eb_errf(err, "the model has %zu outputs (ref supports up to %d)", g->n_output,
                       EB_MAX_IO);
    for (size_t i = 0; i < g->n_output; i++) {
        const char *nm = g->output[i]->name ? g->output[i]->name : "";
        int idx = ref_value_find(s, nm);
        if (idx < 0 || (s->vals[idx].kind == REF_VAL_ACT && s->vals[idx].producer < 0))
            return eb_errf(err, "graph output '%s' is not produced by any node, input or "
                                "initializer; the graph is broken",
                           nm);
        s->vals[idx].is_output = 1;
        s->out_vals[s->n_out++] = idx;
    }
    return 0;
}

int ref_load(ref_session *s, const char *path, int batch, eb_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return eb_errf(err, "cannot open: %s (check the path)", strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return eb_errf(err, "not a regular file (a directory?); give the path of an .onnx file");
    }
    long size = (long)st.st_size;
    if (size == 0 || size > REF_MAX_FILE_BYTES) {
        fclose(f);
        return eb_errf(err, "file is %ld bytes; not an ONNX model ref can load", size);
    }
    unsigned char *buf = malloc((size_t)size);
    if (!buf) {
        fclose(f);
        return eb_errf(err, "out of memory reading %ld bytes", size);
    }
    size_t got = fread(buf, 1, (size_t)size, f);
    fclose(f);
    if (got != (size_t)size) {
        free(buf);
        return eb_errf(err, "short read (%zu of %ld bytes)", got, size);
    }
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, (size_t)size, buf);
    free(buf);
    if (!m)
        return eb_errf(err, "not a valid ONNX file (truncated or not protobuf); re-export or "
                            "re-download the model");
    int rc = load_model(s, m, batch, err);
    onnx__model_proto__free_unpacked(m, NULL);
    return rc;
}
