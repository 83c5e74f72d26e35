-- expect: 5: variants is missing
-- A scenario without variants: nothing to measure.  (The error points at scenario { }.)
local unused = 1

return scenario {
  name = "no-variants",
  backends = { "mock" },
}
