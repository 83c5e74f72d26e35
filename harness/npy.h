/* NumPy .npy files (format versions 1.0, 2.0 and 3.0), little-endian, C order.
 * Reads float32/float64/int8/uint8/int16/int32/int64/bool; writes any eb_dtype.
 * Fortran-order and big-endian files are refused with a clear message.
 */
#ifndef EB_NPY_H
#define EB_NPY_H

#include "err.h"
#include "tensor.h"

/* Reads `path` into `out`; out->data is malloc'd and owned by the caller (eb_tensor_free).
 * out->name is NULL. */
int eb_npy_read(const char *path, eb_tensor *out, eb_err *err);

int eb_npy_write(const char *path, const eb_tensor *t, eb_err *err);

#endif
