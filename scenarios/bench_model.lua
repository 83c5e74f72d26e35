-- bench_model: one model on one backend at one thread count, on seeded random inputs -- the
-- unit `make bench` (scripts/bench.sh) times on ref, interleaved with ONNX Runtime runs of the
-- same model (scripts/ort_run.js).  Latency only: random data has no labels.
--
--   edgebench run scenarios/bench_model.lua --set model=build/models/resnet18.onnx \
--       --set shape=3,224,224 --set threads=2 --out build/bench/runs/x
--
-- `shape` is one sample's shape without the batch axis (the harness adds batch 1): 1,28,28
-- for the zoo's models, 3,224,224 for torchvision's, 32,128 for the exported transformer.

local model = option("model", "models/cnn.onnx", "the ONNX model to time")
local shape = option("shape", "1,28,28", "one sample's shape, comma-separated, no batch axis")
local threads = option("threads", 1, "worker threads")
local min_time = option("min_time", "1s", "shortest timed loop")
local max_time = option("max_time", "3s", "longest timed loop (a slow model stops here)")
local backend = option("backend", "ref", "backend to time")

local dims = {}
for d in shape:gmatch("[^,%s]+") do
  local n = math.tointeger(tonumber(d))
  if not n or n < 1 then
    error(("option shape: '%s' is not a positive integer (shape=%s)"):format(d, shape))
  end
  dims[#dims + 1] = n
end

return scenario {
  name = "bench_model",
  description = "latency of one model on random inputs, for make bench",
  -- A few distinct samples, so the timed loop does not replay one buffer the caches keep warm.
  dataset = dataset.random { shape = dims, count = 8, seed = 1 },
  variants = { { name = "model", kind = "original", model = model } },
  backends = { backend },
  threads = { threads },
  measure = { warmup = "0.3s", min_iterations = 10, min_time = min_time, max_time = max_time,
              accuracy = false },
}
