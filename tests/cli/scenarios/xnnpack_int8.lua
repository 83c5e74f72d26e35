-- The int8 variants on ref and on XNNPACK: cnn_int8 (QDQ) runs on XNNPACK's qs8 operators and
-- must agree with ref's int8 kernels on every sample; mlp_int8_dyn (dynamic quantization) is
-- refused with its reason and the run goes on.
local ROOT = os.getenv("ROOT") or "."
return scenario {
  name = "xnnpack_int8",
  dataset = dofile(ROOT .. "/datasets/fashion_mnist.lua") { limit = 300 },
  variants = {
    { name = "cnn_int8", kind = "quantized", model = ROOT .. "/models/cnn_int8.onnx" },
    { name = "mlp_int8_dyn", kind = "quantized", model = ROOT .. "/models/mlp_int8_dyn.onnx" },
  },
  backends = { "ref", "xnnpack" },
  threads = { 1, 2 },
  measure = { warmup = 0, min_iterations = 20, min_time = 0 },
}
