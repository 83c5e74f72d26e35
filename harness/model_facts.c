/* Weight bytes and bit width from an ONNX file (see model_facts.h), with the protobuf-c code
 * generated from onnx.proto. */
#include "model_facts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx.pb-c.h"

int eb_onnx_dtype_bits(int data_type)
{
    switch (data_type) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL:
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT8:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8:
        return 8;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT16:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT16:
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16:
    case ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16:
        return 16;
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT32:
        return 32;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT64:
    case ONNX__TENSOR_PROTO__DATA_TYPE__COMPLEX64:
        return 64;
    case ONNX__TENSOR_PROTO__DATA_TYPE__COMPLEX128:
        return 128; /* wider than the per-width table: bytes count, the width never wins */
    default:
        return 0;
    }
}

static void mf_add(eb_weight_facts *f, const Onnx__TensorProto *t)
{
    if (!t)
        return;
    int64_t count = 1;
    for (size_t i = 0; i < t->n_dims; i++)
        count *= t->dims[i] > 0 ? t->dims[i] : 0;
    int bits = eb_onnx_dtype_bits(t->data_type);
    if (bits == 0 || count == 0)
        return;
    f->weight_bytes += count * bits / 8;
    f->elements += count;
    if (bits <= 64)
        f->elements_by_bits[bits] += count;
}

int eb_weight_facts_parse(const void *data, size_t n, eb_weight_facts *f, eb_err *err)
{
    memset(f, 0, sizeof *f);
    f->weight_bits = -1;
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, n, data);
    if (!m)
        return eb_errf(err, "not an ONNX model (protobuf parse failed)");
    if (!m->graph) {
        onnx__model_proto__free_unpacked(m, NULL);
        return eb_errf(err, "the ONNX model has no graph");
    }
    const Onnx__GraphProto *g = m->graph;
    for (size_t i = 0; i < g->n_initializer; i++)
        mf_add(f, g->initializer[i]);
    for (size_t i = 0; i < g->n_node; i++) {
        const Onnx__NodeProto *node = g->node[i];
        if (!node->op_type || strcmp(node->op_type, "Constant") != 0)
            continue;
        for (size_t a = 0; a < node->n_attribute; a++)
            if (node->attribute[a]->name && strcmp(node->attribute[a]->name, "value") == 0)
                mf_add(f, node->attribute[a]->t);
    }
    onnx__model_proto__free_unpacked(m, NULL);
    /* Most numerous width; scanning from narrow to wide with '>' gives ties to the narrower. */
    int64_t best = 0;
    for (int b = 1; b <= 64; b++)
        if (f->elements_by_bits[b] > best) {
            best = f->elements_by_bits[b];
            f->weight_bits = b;
        }
    return 0;
}

int eb_weight_facts_read(const char *path, eb_weight_facts *f, eb_err *err)
{
    memset(f, 0, sizeof *f);
    f->weight_bits = -1;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return eb_errf(err, "%s: cannot open: %s", path, strerror(errno));
    char *buf = NULL;
    long size = -1;
    if (fseek(fp, 0, SEEK_END) == 0)
        size = ftell(fp);
    if (size < 0 || fseek(fp, 0, SEEK_SET) != 0) {
        fclose(fp);
        return eb_errf(err, "%s: cannot read its size", path);
    }
    buf = malloc(size ? (size_t)size : 1);
    if (!buf) {
        fclose(fp);
        return eb_errf(err, "%s: out of memory for %ld bytes", path, size);
    }
    size_t got = fread(buf, 1, (size_t)size, fp);
    fclose(fp);
    if (got != (size_t)size) {
        free(buf);
        return eb_errf(err, "%s: short read (%zu of %ld bytes)", path, got, size);
    }
    int rc = eb_weight_facts_parse(buf, got, f, err);
    free(buf);
    if (rc != 0)
        return eb_err_prefix(err, "%s", path);
    return 0;
}
