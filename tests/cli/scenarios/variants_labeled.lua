-- A labeled dataset: the variant "w" is scored and compared with its base "v".
return scenario {
  name = "variants-labeled",
  dataset = dataset.csv { name = "labeled", path = "labeled.csv", label = "label" },
  variants = {
    { name = "v", kind = "original" },
    { name = "w", kind = "distilled", base = "v" },
  },
  backends = { "mock" },
  backend_options = { mock = { latency_ms = 0.02, classes = 3 } },
  measure = { warmup = 0, min_iterations = 10, min_time = 0, max_time = "1s" },
}
