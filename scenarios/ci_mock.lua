-- ci_mock: a tiny, fast scenario for the regression detector (edgebench compare) and the
-- nightly recipe.  The mock backend busy-waits latency_ms +- jitter_ms per inference with a
-- seeded PRNG, so two runs with different seeds are an honest A/A pair and
-- `--set latency_ms=1.1` is an injected 10% slowdown.
--
--   edgebench run scenarios/ci_mock.lua --out base --set seed=1
--   edgebench run scenarios/ci_mock.lua --out cur  --set seed=2 --set latency_ms=1.1
--   edgebench compare base cur          # exit 1: regressed

local latency = option("latency_ms", 1.0, "time each mock inference takes, in ms")
local jitter = option("jitter_ms", 0.1, "uniform jitter added to each inference, in ms")
local seed = option("seed", 1, "seed of the mock's jitter (vary it between runs, as real runs vary)")
local min_time = option("min_time", "0.3s", "shortest timed loop of each trial")
local threads = option("threads", 1, "worker threads of the single trial")

return scenario {
  name = "ci-mock",
  description = "one mock trial: a stand-in build for compare/history/nightly tests",
  dataset = dataset.random { shape = { 1, 28, 28 }, count = 16, seed = 1 },
  variants = { { name = "original", kind = "original" } },
  backends = { "mock" },
  threads = { threads },
  backend_options = { mock = { latency_ms = latency, jitter_ms = jitter, seed = seed } },
  measure = { warmup = "50ms", min_iterations = 100, min_time = min_time, max_time = "5s" },
}
