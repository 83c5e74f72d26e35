/* ref: the built-in ONNX engine, edgebench's embedded default backend.
 *
 * Parses an ONNX file with protobuf-c (ONNX's own schema), sorts the graph, infers every
 * value's static shape at open (config->batch binds the leading symbolic dimension of the
 * graph inputs), plans every buffer once into one arena with liveness-based reuse, and runs
 * float32 kernels that allocate nothing.  The operators it runs are listed by
 * eb_ref_supported_ops() (backends/ref/ref_internal.h).
 */
#ifndef EB_BACKEND_REF_H
#define EB_BACKEND_REF_H

#include "../backend.h"

extern const eb_backend_i eb_backend_ref;

#endif
