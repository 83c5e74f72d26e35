-- Early stop: run until p99's 95% interval is within 25% of p99 (at least 368 samples, the
-- fewest for which the upper bound exists), well before max_time.
return scenario {
  name = "precision",
  dataset = dataset.random { shape = { 4 }, count = 8 },
  variants = { { name = "v", kind = "original" } },
  backends = { "mock" },
  backend_options = { mock = { latency_ms = 0.2, jitter_ms = 0.02 } },
  measure = { warmup = 0, min_iterations = 10, min_time = 0, max_time = "20s", precision = 0.25 },
}
