-- expect: 5: attempt to call a nil value (global 'foo')
-- A Lua error while the scenario runs.
local n = 3

local x = foo(n)

return scenario {
  name = "bad-runtime",
  variants = { { name = "a", kind = "original" } },
  backends = { "mock" },
}
