-- expect: 6: '}' expected (to close '{' at line 3) near 'variants'
-- A Lua syntax error (a missing comma).
return scenario {
  name = "bad-syntax",
  backends = { "mock" }
  variants = { { name = "a", kind = "original" } },
}
