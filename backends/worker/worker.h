/* Backends that run the model in another process, a worker, over the protocol in
 * backends/worker/PROTOCOL.md: onnxruntime (node + onnxruntime-node), pytorch (python3 +
 * TorchScript) and `worker` (any command given as an option, for new runtimes and tests).
 *
 * The worker is spawned at open() and ended at close(); a worker that dies or stops answering
 * fails the call that was waiting on it.  Latency is timed by the harness around each run()
 * (a pipe round trip included); the worker's own per-run time, and the runtime's profiler time
 * where asked, come back through profile() (ops.csv with measure.profile), and its memory
 * through memory().
 */
#ifndef EB_WORKER_H
#define EB_WORKER_H

#include "../backend.h"

extern const eb_backend_i eb_backend_onnxruntime;
extern const eb_backend_i eb_backend_pytorch;
extern const eb_backend_i eb_backend_worker;

/* The protocol version this harness speaks (PROTOCOL.md). */
#define EB_WORKER_PROTOCOL 1

#endif
