-- expect: 5: unknown key 'imgs' in dataset.idx; did you mean 'images'?
-- A misspelled dataset key.
return scenario {
  name = "bad-dataset-key",
  dataset = dataset.idx { imgs = "x.gz" },
  variants = { { name = "a", kind = "original" } },
  backends = { "mock" },
}
