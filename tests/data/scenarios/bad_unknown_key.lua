-- expect: 7: unknown key 'treads' in the scenario; did you mean 'threads'?
-- A misspelled top-level key.
return scenario {
  name = "bad-key",
  variants = { { name = "a", kind = "original" } },
  backends = { "mock" },
  treads = { 1, 2 },
}
