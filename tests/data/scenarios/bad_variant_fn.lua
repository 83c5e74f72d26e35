-- expect: 6: variants[1].kind is 'big'
-- variant { } records its own line, so the error points at it.
return scenario {
  name = "bad-variant-fn",
  variants = {
    variant { name = "a", kind = "big" },
  },
  backends = { "mock" },
}
