-- Two mock variants, two thread counts: four trials that all succeed.
return scenario {
  name = "mock-ok",
  dataset = dataset.random { shape = { 1, 8, 8 }, count = 32, seed = 7 },
  variants = {
    { name = "fast", kind = "original" },
    { name = "small", kind = "pruned", base = "fast" },
  },
  backends = { "mock" },
  threads = { 1, 2 },
  backend_options = { mock = { latency_ms = 0.2, jitter_ms = 0.05, classes = 10 } },
  measure = { warmup = "10ms", min_iterations = 20, min_time = "50ms", max_time = "1s" },
  on_trial = function(row) print(string.format("hook: %s %s ok=%s", row.variant, row.threads, row.status)) end,
}
