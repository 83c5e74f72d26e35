-- Fashion-MNIST with INVERTED CONTRAST: the domain shift of the zoo's LoRA variants (issue 4).
-- A device may meet it (a sensor or display pipeline that delivers dark-on-light instead of the
-- light-on-dark the models were trained on); training never showed it. Each pixel becomes
-- 1 - p/255 instead of p/255, through the harness's own preprocessing, so no data file is
-- needed:  x * scale = p * (-1/255);  (x - mean) / std = (-p/255 - (-1)) / 1 = 1 - p/255.
-- scripts/make_models.py applies the same shift (its shift(): 1 - x) to train the adapters
-- of cnn_lora_{unmerged,merged} on the training split and to measure pytorch_top1_shifted in
-- models/manifest.csv on the test split; models with dataset "fashion_mnist_shifted" in the
-- manifest are judged here (and their base too, for comparison).
--
--   local shifted = dofile("datasets/fashion_mnist_shifted.lua")
--   local fs = shifted { limit = 2000 }          -- test split (t10k), first 2000
--   local tr = shifted { split = "train" }       -- the 60,000 inverted training images
local root = "/usr/share/datasets/fashion-mnist/"

return function(opts)
  opts = opts or {}
  local split = opts.split or "t10k"
  if split ~= "t10k" and split ~= "train" then
    error("datasets/fashion_mnist_shifted.lua: split must be \"t10k\" or \"train\" (got " ..
          tostring(split) .. ")", 2)
  end
  local spec = {
    name = "fashion-mnist-inverted-" .. split,
    images = root .. split .. "-images-idx3-ubyte.gz",
    labels = root .. split .. "-labels-idx1-ubyte.gz",
    scale = -1 / 255,
    mean = -1,
    std = 1,
    reshape = { 1, 28, 28 },
  }
  if opts.limit then spec.limit = opts.limit end
  return dataset.idx(spec)
end
