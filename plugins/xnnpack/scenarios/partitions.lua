-- The partitioned models (Concat, Split, channel shuffle run by the plugin between XNNPACK
-- runtimes) on ref and xnnpack, one thread, random 3x224x224 inputs: latency only.
--
--   ROOT=$PWD bin/edgebench run plugins/xnnpack/scenarios/partitions.lua --out /tmp/xp/run1
local ROOT = os.getenv("ROOT") or "."
local threads = option("threads", 1, "worker threads")
local min_time = option("min_time", "2s", "shortest timed loop per trial")
return scenario {
  name = "xnnpack_partitions",
  dataset = dataset.random { shape = { 3, 224, 224 }, count = 8, seed = 1 },
  variants = {
    { name = "squeezenet1_1", kind = "original", model = ROOT .. "/build/models/squeezenet1_1.onnx" },
    { name = "shufflenet_v2_x0_5", kind = "original",
      model = ROOT .. "/build/models/shufflenet_v2_x0_5.onnx" },
  },
  backends = { "ref", "xnnpack" },
  threads = { threads },
  measure = { warmup = "0.3s", min_iterations = 20, min_time = min_time, max_time = "5s",
              accuracy = false },
}
