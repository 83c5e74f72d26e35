-- The zoo's CNN at 1 and 2 threads on all cores and on core 1 alone: every thread the engine
-- starts must be bound inside the trial's cores (threads_seen, binding_ok, thread_binding).
local ROOT = os.getenv("ROOT") or "."
return scenario {
  name = "binding",
  dataset = dofile(ROOT .. "/datasets/fashion_mnist.lua") { limit = 50 },
  variants = { { name = "cnn", kind = "original", model = ROOT .. "/models/cnn.onnx" } },
  threads = { 1, 2 },
  cores = { "all", "1" },
  measure = { warmup = 0, min_iterations = 20, min_time = 0 },
}
