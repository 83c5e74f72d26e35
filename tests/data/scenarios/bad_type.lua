-- expect: 7: threads is a string ('two'); expected an integer >= 1 or a list of them
-- A value of the wrong type.
return scenario {
  name = "bad-type",
  variants = { { name = "a", kind = "original" } },
  backends = { "mock" },
  threads = "two",
}
