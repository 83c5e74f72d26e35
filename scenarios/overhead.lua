-- The harness's own cost per timed iteration: the mock backend returns at once
-- (latency_ms = 0), so what the loop measures is the clock reads, the call through the
-- backend table and the input-slot rotation (one-value inputs keep the mock's own hashing out
-- of the figure).  Read latency_p50_ms of the row.
return scenario {
  name = "overhead",
  dataset = dataset.random { shape = { 1 }, count = 64 },
  variants = { { name = "zero-latency", kind = "original" } },
  backends = { "mock" },
  threads = { 1 },
  backend_options = { mock = { latency_ms = 0 } },
  measure = { warmup = "0.2s", min_iterations = 100000, min_time = 0, max_time = "5s" },
}
