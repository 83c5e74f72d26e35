-- expect: 5: dataset.random expects one table, as in dataset.random { ... } (got string)
-- A constructor called with something other than one table.
return scenario {
  name = "bad-constructor",
  dataset = dataset.random("1x28x28"),
  variants = { { name = "a", kind = "original" } },
  backends = { "mock" },
}
