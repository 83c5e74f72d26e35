-- With EDGEBENCH_SYSFS pointing at a fixture board: telemetry is sampled during the trial,
-- and the cooldown gate waits for nothing (the board is cooler than below_c).
return scenario {
  name = "device-state",
  dataset = dataset.random { shape = { 4 }, count = 8 },
  variants = { { name = "v", kind = "original" } },
  backends = { "mock" },
  backend_options = { mock = { latency_ms = 0.5 } },
  cooldown = { below_c = 90, max_wait = "2s" },
  measure = { warmup = 0, min_iterations = 10, min_time = "0.3s", max_time = "1s" },
}
