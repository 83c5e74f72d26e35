-- Per-node profiling of the zoo's CNN at 1 and 2 threads into OUT/ops.csv.
local ROOT = os.getenv("ROOT") or "."
return scenario {
  name = "profile",
  dataset = dofile(ROOT .. "/datasets/fashion_mnist.lua") { limit = 100 },
  variants = { { name = "cnn", kind = "original", model = ROOT .. "/models/cnn.onnx" } },
  threads = { 1, 2 },
  measure = { warmup = "0.05s", min_iterations = 50, min_time = "0.1s", profile = true },
}
