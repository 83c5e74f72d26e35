-- Fashion-MNIST (Debian package dataset-fashion-mnist), preprocessed exactly as the model zoo
-- was trained by scripts/make_models.py: pixels * 1/255, NO mean/std, each sample [1, 28, 28]
-- (the models' input is "input" [N, 1, 28, 28]). Changing the preprocessing here without
-- retraining the zoo silently costs accuracy, so keep the two in step.
--
-- The file returns a function, so a scenario can pick the split and a limit:
--   local fashion_mnist = dofile("datasets/fashion_mnist.lua")
--   local fm = fashion_mnist { limit = 2000 }          -- test split (t10k), first 2000
--   local tr = fashion_mnist { split = "train" }       -- the 60,000 training images
-- The test split's 10,000 images are what models/manifest.csv's pytorch_top1 was measured on.
local root = "/usr/share/datasets/fashion-mnist/"

return function(opts)
  opts = opts or {}
  local split = opts.split or "t10k"
  if split ~= "t10k" and split ~= "train" then
    error("datasets/fashion_mnist.lua: split must be \"t10k\" or \"train\" (got " ..
          tostring(split) .. ")", 2)
  end
  local spec = {
    name = "fashion-mnist-" .. split,
    images = root .. split .. "-images-idx3-ubyte.gz",
    labels = root .. split .. "-labels-idx1-ubyte.gz",
    scale = 1 / 255,
    reshape = { 1, 28, 28 },
  }
  if opts.limit then spec.limit = opts.limit end
  return dataset.idx(spec)
end
