-- The server pattern on a mock that takes 1 ms: at 200 queries/s (20% busy) the p99 bound of
-- 10 ms holds; the search finds the highest rate that keeps it (M/D/1 theory: about 560/s
-- for a 5 ms bound, higher for 10 ms).
return scenario {
  name = "server",
  dataset = dataset.random { shape = { 4 }, count = 8 },
  variants = { { name = "v", kind = "original" } },
  backends = { "mock" },
  backend_options = { mock = { latency_ms = 1 } },
  mode = { "single_stream", "server" },
  server = { target_qps = 200, p99_ms = 10, duration = "2s", search = option("search", false) },
  measure = { warmup = 0, min_iterations = 50, min_time = 0, max_time = "1s" },
}
