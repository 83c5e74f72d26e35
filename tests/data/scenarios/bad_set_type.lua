-- set: limit=lots
-- expect: 5: --set limit=lots: option 'limit' takes a number (its default is 100)
-- An option given a value of the wrong type with --set limit=lots.
local latency = option("latency", 1.5, "mock latency in ms")
local limit = option("limit", 100, "samples")
return scenario {
  name = "set-type",
  dataset = dataset.random { shape = { 4 }, limit = limit },
  variants = { { name = "a", kind = "original" } },
  backends = { "mock" },
  backend_options = { mock = { latency_ms = latency } },
}
