-- mock: the whole harness without a model: the mock backend sleeps (busy-waits) a set time per
-- inference and answers deterministically, so this scenario measures edgebench's own overhead
-- and exercises every stage (plan, forked trials, CSV) in seconds.
--
--   edgebench run scenarios/mock.lua
--   edgebench run scenarios/mock.lua --set latency_ms=0      # the harness's overhead alone
--   edgebench run scenarios/mock.lua --set summary=true      # one line per trial on stderr

local latency = option("latency_ms", 1.0, "time each mock inference takes, in ms")
local jitter = option("jitter_ms", 0.1, "uniform jitter added to each inference, in ms")
local summary = option("summary", false, "print one line per finished trial on stderr")

return scenario {
  name = "mock",
  description = "the mock backend on random inputs: harness overhead and plumbing",

  -- Random inputs carry no labels, so there is no accuracy pass.
  dataset = dataset.random { shape = { 1, 28, 28 }, count = 64, seed = 1 },

  -- The mock needs no model files.
  variants = {
    { name = "original", kind = "original" },
    { name = "pruned", kind = "pruned", base = "original" },
  },

  backends = { "mock" },
  threads = { 1, 2 },
  backend_options = { mock = { latency_ms = latency, jitter_ms = jitter, seed = 1 } },
  measure = { warmup = "100ms", min_iterations = 50, min_time = "0.5s", max_time = "5s" },

  on_trial = function(row)
    if summary then
      io.stderr:write(string.format("mock: %s threads=%d %s p50=%s ms\n", row.variant,
                                    row.threads, row.status, row.latency_p50_ms or "-"))
    end
  end,
}
