-- The zoo's CNN at three batch sizes; 7 does not divide 300, so the accuracy pass pads its
-- last batch.  Per-sample results do not depend on the batch, so accuracy must not either.
local ROOT = os.getenv("ROOT") or "."
return scenario {
  name = "batch",
  dataset = dofile(ROOT .. "/datasets/fashion_mnist.lua") { split = "t10k", limit = 300 },
  variants = { { name = "cnn", kind = "original", model = ROOT .. "/models/cnn.onnx" } },
  backends = { "ref" },
  batch = { 1, 4, 7 },
  measure = { warmup = 0, min_iterations = 10, min_time = 0, max_time = "2s" },
}
