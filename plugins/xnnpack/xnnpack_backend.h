/* xnnpack: ONNX models run by Google's XNNPACK (Debian's libxnnpack0, 2022 snapshot), through
 * its subgraph API.
 *
 * At open the model is parsed and its shapes inferred by ref's loader (backends/ref), then each
 * node is mapped to XNNPACK subgraph nodes in float32, NHWC inside (weights re-laid out once,
 * BatchNormalization folded into the Conv before it, Relu/Clip fused into their producer).
 * A model using an operator the mapping lacks is refused at open with EB_UNSUPPORTED (-2) and a message naming
 * it.  Threads: config->threads through a pthreadpool.  Option sparse=1 asks XNNPACK for its
 * sparse inference (XNN_FLAG_SPARSE_INFERENCE), which it applies to the parts it can.
 * libXNNPACK is loaded with dlopen at open (xnn_api.h), so probe says when it is missing.
 */
#ifndef EB_XNNPACK_BACKEND_H
#define EB_XNNPACK_BACKEND_H

#include "../../backends/backend.h"

extern const eb_backend_i eb_backend_xnnpack;

#endif
