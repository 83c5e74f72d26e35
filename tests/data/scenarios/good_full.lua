-- Every scenario key, for tests/unit/test_scenario.c (the values are checked there).
local limit = option("limit", 300, "how many test images to use")
local accuracy = option("accuracy", false, "run the accuracy pass")
local label = option("label", "full", "a label for the run")

local fm = dataset.idx {
  name = "fashion-" .. label,
  images = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz",
  labels = "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz",
  scale = 1 / 255, mean = { 0.25 }, std = 0.5,
  reshape = { 1, 28, 28 },
  limit = limit,
}

calls = {}

function on_trial(row)
  calls[#calls + 1] = row
end

return scenario {
  name = "good-full",
  description = "all keys",
  dataset = fm,
  variants = {
    { name = "orig", kind = "original", model = "files/stand_in.onnx" },
    variant { name = "int8", kind = "quantized", model = "files/stand_in.onnx", base = "orig" },
    { name = "lora", kind = "lora", model = "tests/data/scenarios/files/stand_in.onnx", base = "orig" },
  },
  backends = { "ref", "mock" },
  threads = { 1, 2 },
  cores = { "all", "0" },
  batch = { 1, 8 },
  measure = { warmup = "250ms", min_iterations = 50, min_time = "1.5s", max_time = "2m",
              accuracy = accuracy, timeout = 90 },
  output = "out/full",
  backend_options = { mock = { latency_ms = 2, jitter_ms = 0.5, input_shape = "1x28x28" } },
  constraints = { accuracy_drop = 0.01, p99_ms = 5 },
  setup = function(s) setup_saw = s.name end,
  done = function(rows) done_saw = #rows end,
}
