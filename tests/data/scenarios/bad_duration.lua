-- expect: 8: measure.warmup is '2 seconds'; expected a duration like "500ms"
-- A duration edgebench cannot read.
return scenario {
  name = "bad-duration",
  variants = { { name = "a", kind = "original" } },
  backends = { "mock" },
  measure = { min_iterations = 10,
              warmup = "2 seconds" },
}
