-- The least a scenario needs (with the mock backend, variants need no model file).
return scenario {
  name = "minimal",
  variants = { { name = "m", kind = "original" } },
  backends = "mock",
}
