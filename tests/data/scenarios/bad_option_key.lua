-- expect: 6: unknown key 'latency' in backend_options.mock; did you mean 'latency_ms'?
-- A backend option the backend does not declare.
return scenario {
  name = "bad-option-key",
  variants = { { name = "a", kind = "original" } },
  backends = { "mock" }, backend_options = { mock = { latency = 2 } },
}
