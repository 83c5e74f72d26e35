-- results.csv's backend_plan: how each backend ran each model, as it decided at open (ref's
-- kernel set and its weight-dependent kernels, XNNPACK's runtimes and the glue between them,
-- the worker runtimes' versions and settings).
local ROOT = os.getenv("ROOT") or "."
local function zoo(name, kind)
  return { name = name, kind = kind, model = ROOT .. "/models/" .. name .. ".onnx" }
end
local sparse_threshold = option("sparse_threshold", 0.9, "ref's sparse threshold")
local xnn_sparse = option("xnn_sparse", "0", "xnnpack's sparse option (0, 1, force)")
return scenario {
  name = "plan",
  variants = {
    zoo("cnn", "original"),
    zoo("cnn_int8", "quantized"),
    zoo("mlp_int8_dyn", "quantized"),
    zoo("mlp_pruned80", "pruned"),
    zoo("mlp_pruned95", "pruned"),
    { name = "shuffle_block", kind = "original",
      model = ROOT .. "/tests/data/xnnpack/shuffle_block.onnx" },
  },
  backends = { "ref", "xnnpack", "onnxruntime", "pytorch" },
  threads = { 2 },
  backend_options = {
    ref = { sparse_threshold = sparse_threshold },
    xnnpack = { sparse = xnn_sparse },
  },
  measure = { warmup = 0, min_iterations = 3, min_time = 0 },
}
