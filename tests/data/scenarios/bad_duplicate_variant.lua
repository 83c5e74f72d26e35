-- expect: 7: variants[2].name is 'a', like variants[1]; variant names must be unique
-- Two variants with one name.
return scenario {
  name = "bad-duplicate",
  variants = {
    { name = "a", kind = "original" },
    { name = "a", kind = "pruned" },
  },
  backends = { "mock" },
}
