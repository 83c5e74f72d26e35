-- expect: 8: variants[2].kind is 'quantised'; expected one of original, quantized, pruned, distilled, lora
-- A misspelled variant kind (British spelling).
return scenario {
  name = "bad-kind",
  variants = {
    { name = "a", kind = "original" },
    { name = "b",
      kind = "quantised", base = "a" },
  },
  backends = { "mock" },
}
