-- Datasets of each kind, chosen with --set kind=idx|npy|csv|random.
local kind = option("kind", "random", "which dataset to use")
local sets = {
  idx = function() return dataset.idx { images = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz" } end,
  npy = function() return dataset.npy { x = "../datasets/tiny_x.npy", y = "../datasets/tiny_y.npy", mean = { 0.1, 0.2, 0.3 }, std = { 1, 2, 3 } } end,
  csv = function() return dataset.csv { path = "../datasets/small.csv", label = 0, header = false } end,
  csvname = function() return dataset.csv { path = "../datasets/small.csv", label = "species" } end,
  random = function() return dataset.random { shape = { 3, 4 }, count = 10, seed = 42, limit = 7 } end,
}
return scenario {
  name = "datasets-" .. kind,
  dataset = sets[kind](),
  variants = { { name = "m", kind = "original" } },
  backends = { "mock" },
}
