-- The server pattern on a mock that takes 1 ms: at 200 queries/s (20% busy) a p99 bound of
-- 50 ms holds even on a loaded machine; the search finds the highest rate that keeps it
-- (below the 1,000/s a 1 ms service can serve at all).
return scenario {
  name = "server",
  dataset = dataset.random { shape = { 4 }, count = 8 },
  variants = { { name = "v", kind = "original" } },
  backends = { "mock" },
  backend_options = { mock = { latency_ms = 1 } },
  mode = { "single_stream", "server" },
  server = { target_qps = 200, p99_ms = 50, duration = "2s", search = option("search", false) },
  measure = { warmup = 0, min_iterations = 50, min_time = 0, max_time = "1s" },
}
