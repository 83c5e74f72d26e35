-- set: latency=3
-- set: nope=1
-- expect: 0: --set nope: this scenario has no option 'nope'; its options: latency, limit
-- Declares two options; the test (and the CLI test) pass --set nope=1, which it does not declare.
local latency = option("latency", 1.5, "mock latency in ms")
local limit = option("limit", 100, "samples")
return scenario {
  name = "set-unknown",
  variants = { { name = "a", kind = "original" } },
  backends = { "mock" },
  backend_options = { mock = { latency_ms = latency } },
}
