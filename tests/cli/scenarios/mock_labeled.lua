-- A labeled CSV dataset through the mock: accuracy is computed, top-5 stays empty with
-- only 3 classes.
return scenario {
  name = "mock-labeled",
  dataset = dataset.csv { path = "labeled.csv", label = "label" },
  variants = { { name = "v", kind = "original" } },
  backends = { "mock" },
  backend_options = { mock = { latency_ms = 0.05, classes = 3 } },
  measure = { warmup = 0, min_iterations = 10, min_time = 0, max_time = "1s" },
}
