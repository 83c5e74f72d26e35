-- The generic `worker` backend on tests/cli/fake_worker.py (--set mode="die 30" etc.): a dead,
-- hung or refusing worker becomes a result row with a status and the run goes on.
local mode = option("mode", "ok", "fake_worker.py's arguments")
local py = option("worker", "tests/cli/fake_worker.py", "the fake worker's path")
return scenario {
  name = "fake-worker",
  dataset = dataset.random { shape = { 4 }, count = 8 },
  variants = { { name = "v", kind = "original", model = "../../../models/mlp.onnx" } },
  backends = { "worker", "mock" },
  threads = { 1 },
  backend_options = { worker = { command = "/usr/bin/python3 " .. py .. " " .. mode,
                                 run_timeout = "1" } },
  measure = { warmup = 0, min_iterations = 50, min_time = 0, max_time = "2s", timeout = "20s",
              profile = true },
}
