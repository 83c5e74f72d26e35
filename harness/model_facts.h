/* Facts about a model read from its file, the same whatever backend runs it: how many bytes
 * its weights take and at which bit width most of them are stored.
 *
 * Weights are the graph's initializers plus the tensors of its Constant nodes (exporters put
 * weights in either), in the main graph only.  Each counts at its element type's width
 * (float 32 bits, float16/bfloat16 16, int8/uint8 8, int32 32, int64 64, bool 8, ...),
 * whether its values are inline, in raw_data or in an external file.
 *
 * weight_bits is the width of the elements that are most numerous: an int8-quantized model
 * whose int8 weights outnumber its float scales and int32 biases is 8 bits; ties go to the
 * narrower width.  Strings count no bytes and have no width.
 */
#ifndef EB_MODEL_FACTS_H
#define EB_MODEL_FACTS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct eb_weight_facts {
    int64_t weight_bytes;  /* sum over weights of elements x width / 8 */
    int64_t elements;      /* sum over weights of elements */
    int weight_bits;       /* the width of the most numerous elements; -1 when no weights */
    int64_t elements_by_bits[65]; /* elements per width in bits (index 1..64) */
} eb_weight_facts;

/* Bits of one element of ONNX TensorProto data type `data_type`; 0 when it has no fixed width
 * (string, undefined or unknown). */
int eb_onnx_dtype_bits(int data_type);

/* Parses the ONNX model in memory.  Fails (with the reason) when it is not an ONNX model. */
int eb_weight_facts_parse(const void *data, size_t n, eb_weight_facts *f, eb_err *err);

/* Reads and parses the ONNX file at path. */
int eb_weight_facts_read(const char *path, eb_weight_facts *f, eb_err *err);

#endif
