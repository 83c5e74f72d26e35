-- expect: 7: variants[2].base is 'orignal'; base must name another variant (a)
-- A base that names no variant.
return scenario {
  name = "bad-base",
  variants = {
    { name = "a", kind = "original" },
    { name = "b", kind = "pruned", base = "orignal" },
  },
  backends = { "mock" },
}
