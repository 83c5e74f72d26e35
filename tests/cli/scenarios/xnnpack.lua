-- The zoo on ref and on XNNPACK: both must score the same accuracy on the same images.
local ROOT = os.getenv("ROOT") or "."
return scenario {
  name = "xnnpack",
  dataset = dofile(ROOT .. "/datasets/fashion_mnist.lua") { limit = 300 },
  variants = {
    { name = "mlp", kind = "original", model = ROOT .. "/models/mlp.onnx" },
    { name = "cnn", kind = "original", model = ROOT .. "/models/cnn.onnx" },
  },
  backends = { "ref", "xnnpack" },
  measure = { warmup = 0, min_iterations = 20, min_time = 0 },
}
