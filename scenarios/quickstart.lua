-- quickstart: the model zoo's MLP and CNN (scripts/make_models.py) on the built-in ONNX engine,
-- timed one image at a time and scored on Fashion-MNIST's 10,000 test images.
--
--   edgebench run scenarios/quickstart.lua                    # about half a minute
--   edgebench run scenarios/quickstart.lua --quick            # seconds (500 images)
--   edgebench run scenarios/quickstart.lua --set limit=1000   # fewer images for accuracy
--   edgebench run scenarios/quickstart.lua --set min_time=0.2s # full accuracy, short timing
--
-- Paths: model paths are tried from the current directory first (run from the project root),
-- then from this file's directory.  See scenarios/README.md for every key.

local limit = option("limit", 10000, "how many test images the accuracy pass scores (0: all)")
local min_time = option("min_time", "2s", "shortest timed loop per trial")

return scenario {
  name = "quickstart",
  description = "Fashion-MNIST MLP and CNN on the built-in engine (ref)",

  -- The models were trained on pixels / 255 with no further normalization.  IDX images are
  -- 28x28; both models take N x 1 x 28 x 28 (the MLP flattens inside).
  dataset = dataset.idx {
    name = "fashion-mnist-test",
    images = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz",
    labels = "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz",
    scale = 1 / 255,
    reshape = { 1, 28, 28 },
    limit = limit,
  },

  variants = {
    { name = "mlp", kind = "original", model = "models/mlp.onnx" },
    { name = "cnn", kind = "original", model = "models/cnn.onnx" },
  },

  backends = { "ref" },
  threads = { 1 },
  measure = { warmup = "0.5s", min_iterations = 200, min_time = min_time, max_time = "10s" },
}
