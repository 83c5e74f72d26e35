/* Tensors as the harness and every backend exchange them: a dtype, a shape and a pointer.
 *
 * A tensor never owns a name: `name` points into storage owned by whoever filled the struct
 * (a backend's session, a dataset).  `data` is owned by whoever allocated it; tensors read
 * with eb_npy_read() own theirs and are released with eb_tensor_free().
 */
#ifndef EB_TENSOR_H
#define EB_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#define EB_MAX_DIMS 8

typedef enum eb_dtype {
    EB_DTYPE_UNDEFINED = 0,
    EB_F32,
    EB_F64,
    EB_I8,
    EB_U8,
    EB_I16,
    EB_I32,
    EB_I64,
    EB_BOOL,
} eb_dtype;

typedef struct eb_tensor {
    const char *name;
    eb_dtype dtype;
    int ndim;
    /* A dimension below 0 is symbolic (unknown until a batch size binds it). */
    int64_t shape[EB_MAX_DIMS];
    void *data;
} eb_tensor;

size_t eb_dtype_size(eb_dtype t);              /* bytes per element, 0 if undefined */
const char *eb_dtype_name(eb_dtype t);         /* "float32", "int64", ... */
eb_dtype eb_dtype_from_name(const char *name); /* inverse; EB_DTYPE_UNDEFINED if unknown */

/* Number of elements (1 for a scalar), or 0 when a dimension is symbolic. */
size_t eb_tensor_numel(const eb_tensor *t);
size_t eb_tensor_bytes(const eb_tensor *t);

/* Writes the shape as "1x3x224x224" ("?" for symbolic dims, "scalar" for ndim 0). */
const char *eb_shape_str(const eb_tensor *t, char *buf, size_t n);

void eb_tensor_free(eb_tensor *t); /* frees data and sets it to NULL */

#endif
