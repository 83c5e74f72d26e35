-- Bases that lead in a circle: an error at load, before any trial.
return scenario {
  name = "variants-cycle",
  variants = {
    { name = "orig", kind = "original" },
    { name = "a", kind = "pruned", base = "b" },
    { name = "b", kind = "quantized", base = "a" },
  },
  backends = { "mock" },
}
