-- expect: 7: setup is a string ('yes'); expected a function
-- A hook that is not a function.
return scenario {
  name = "bad-hook-type",
  variants = { { name = "a", kind = "original" } },
  backends = { "mock" },
  setup = "yes",
}
