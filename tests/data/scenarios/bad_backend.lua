-- expect: 6: backends[2] is 'tflite', which is not a backend; known backends:
-- A backend edgebench does not have.
return scenario {
  name = "bad-backend",
  variants = { { name = "a", kind = "original" } },
  backends = { "mock", "tflite" },
}
