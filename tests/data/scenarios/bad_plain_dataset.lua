-- expect: 5: dataset is a plain table; make it with dataset.idx
-- A dataset written as a plain table instead of with a dataset constructor.
return scenario {
  name = "bad-plain-dataset",
  dataset = { images = "x.gz" },
  variants = { { name = "a", kind = "original" } },
  backends = { "mock" },
}
