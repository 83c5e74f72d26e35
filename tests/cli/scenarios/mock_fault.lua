-- A mock that fails, crashes or hangs on request (--set fault=crash|hang|fail), to show that
-- such a trial becomes a result row with a status and the run goes on.
local fault = option("fault", "crash", "crash, hang or fail")
local opts = { latency_ms = 0.1 }
opts[fault] = "run"
return scenario {
  name = "mock-fault",
  dataset = dataset.random { shape = { 4 }, count = 8 },
  variants = { { name = "v", kind = "original" } },
  backends = { "mock" },
  threads = { 1, 2 },
  backend_options = { mock = opts },
  measure = { warmup = 0, min_iterations = 5, min_time = 0, max_time = "1s", timeout = "2s" },
}
