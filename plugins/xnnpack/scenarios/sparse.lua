-- XNN_FLAG_SPARSE_INFERENCE (xnnpack option sparse=1), and sparse=force (XNNPACK's NCHW rewrite
-- called directly), against dense, in one run:
--   set=mlp: the zoo's MLP and its pruned variants on Fashion-MNIST (FullyConnected only)
--   set=cnn: 3x3 s2 conv -> four 64-channel 1x1 convs at 0/80/95% zeros -> GAP -> Gemm,
--            112x112 input (/usr/bin/python3 tests/data/xnnpack/make_models.py --bench DIR)
local set = option("set", "mlp", "mlp or cnn")
local dir = option("dir", "/tmp/xq", "where make_models.py --bench wrote the CNNs")
local ROOT = os.getenv("ROOT") or "."
local names, variants = {}, {}
if set == "mlp" then
  names = { "mlp", "mlp_pruned50", "mlp_pruned80", "mlp_pruned95" }
else
  names = { "sparse_cnn0", "sparse_cnn80", "sparse_cnn95" }
end
for _, n in ipairs(names) do
  local file = set == "mlp" and (ROOT .. "/models/" .. n .. ".onnx") or (dir .. "/" .. n .. ".onnx")
  variants[#variants + 1] = { name = n .. ":dense", kind = "pruned", model = file }
  variants[#variants + 1] = { name = n .. ":sparse", kind = "pruned", model = file,
                              backend_options = { xnnpack = { sparse = 1 } } }
  variants[#variants + 1] = { name = n .. ":force", kind = "pruned", model = file,
                              backend_options = { xnnpack = { sparse = "force" } } }
end
return scenario {
  name = "xnnpack_sparse_" .. set,
  dataset = set == "mlp" and dataset.idx {
    name = "fashion-mnist-test",
    images = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz",
    labels = "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz",
    scale = 1 / 255, reshape = { 1, 28, 28 }, limit = 500,
  } or dataset.random { shape = { 3, 112, 112 }, count = 8, seed = 1 },
  variants = variants,
  backends = { "xnnpack" },
  threads = { 1 },
  measure = { warmup = "0.2s", min_iterations = 50, min_time = "1s", max_time = "5s" },
}
