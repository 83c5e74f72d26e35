-- Cross-backend check: ref is declared last but runs first, and every other backend's trial is
-- compared with ref's on the same images.  The mock's scores are a hash of the input, so it
-- disagrees with ref on most samples and gets a crosscheck_note.
local ROOT = os.getenv("ROOT") or "."
return scenario {
  name = "crosscheck",
  dataset = dofile(ROOT .. "/datasets/fashion_mnist.lua") { limit = 300 },
  variants = {
    { name = "cnn", kind = "original", model = ROOT .. "/models/cnn.onnx" },
  },
  backends = { "mock", "xnnpack", "ref" },
  threads = { 1, 2 },
  backend_options = { mock = { latency_ms = 0.01, classes = 10 } },
  measure = { warmup = 0, min_iterations = 20, min_time = 0 },
}
