-- expect: 6: dataset.labels: no such file: /nonexistent/labels-idx1-ubyte.gz
-- A dataset file that does not exist.
local ds = dataset.idx {
  images = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz",
  scale = 1 / 255,
  labels = "/nonexistent/labels-idx1-ubyte.gz",
}
return scenario {
  name = "bad-dataset",
  dataset = ds,
  variants = { { name = "a", kind = "original" } },
  backends = { "mock" },
}
