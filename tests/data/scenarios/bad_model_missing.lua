-- expect: 7: variants[1].model: no such file: models/does-not-exist.onnx
-- A model file that does not exist (the ref backend needs the file).
return scenario {
  name = "bad-model",
  variants = {
    { name = "a", kind = "original",
      model = "models/does-not-exist.onnx" },
  },
}
