-- Fidelity against a base on the mock: "same" repeats its base's options (identical outputs),
-- "narrow" scores 7 classes instead of 10 (different top-1s), "adapted" is judged on its own
-- dataset, so its base is measured there too.  "same" is listed before its base: the plan
-- runs bases first.
local shifted = dataset.random { name = "shifted", shape = { 4 }, count = 50, seed = 2 }

return scenario {
  name = "variants-mock",
  dataset = dataset.random { name = "clean", shape = { 4 }, count = 200, seed = 1 },
  variants = {
    { name = "same", kind = "quantized", base = "orig" },
    { name = "orig", kind = "original" },
    { name = "narrow", kind = "pruned", base = "orig",
      backend_options = { mock = { classes = 7 } } },
    { name = "adapted", kind = "lora", base = "orig", dataset = shifted },
  },
  backends = { "mock" },
  threads = { 1 },
  backend_options = { mock = { latency_ms = 0.02, params = 100, nonzero_params = 40 } },
  measure = { warmup = 0, min_iterations = 10, min_time = 0, max_time = "1s" },
}
