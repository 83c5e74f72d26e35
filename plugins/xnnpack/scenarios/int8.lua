-- cnn_int8 (QDQ) on ref and on XNNPACK's qs8 operators beside the float cnn, 1 and 2 threads,
-- scored on all 10,000 Fashion-MNIST test images; mlp_int8_dyn shows xnnpack's refusal.
local ROOT = os.getenv("ROOT") or "."
local limit = option("limit", 0, "test images scored (0: all)")
local min_time = option("min_time", "2s", "shortest timed loop per trial")
return scenario {
  name = "xnnpack_int8",
  dataset = dataset.idx {
    name = "fashion-mnist-test",
    images = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz",
    labels = "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz",
    scale = 1 / 255, reshape = { 1, 28, 28 }, limit = limit,
  },
  variants = {
    { name = "cnn", kind = "original", model = ROOT .. "/models/cnn.onnx" },
    { name = "cnn_int8", kind = "quantized", base = "cnn", model = ROOT .. "/models/cnn_int8.onnx" },
    { name = "mlp_int8_dyn", kind = "quantized", model = ROOT .. "/models/mlp_int8_dyn.onnx" },
  },
  backends = { "ref", "xnnpack" },
  threads = { 1, 2 },
  measure = { warmup = "0.3s", min_iterations = 200, min_time = min_time, max_time = "10s" },
}
