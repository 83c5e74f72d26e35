-- variants: the model zoo's originals and their variants (scripts/make_models.py, listed in
-- models/manifest.csv) on the built-in engine at 1 and 2 threads, with accuracy on
-- Fashion-MNIST's test images.  Each variant names its base, so results.csv compares them on
-- the same inputs: agreement_top1 (share of images whose top-1 equals the base's),
-- max_abs_diff and mean_abs_diff of the logits; weight_bytes, weight_bits and sparsity say
-- what each one stores.  The LoRA variants are judged on the shifted test set (inverted
-- contrast), and their base is measured there too.
--
--   edgebench run scenarios/variants.lua                      # full test set, minutes
--   edgebench run scenarios/variants.lua --quick              # 500 images, short timing
--   edgebench run scenarios/variants.lua --set limit=2000 --set min_time=0.5s
--
-- Run from the project root (model and dataset paths are relative to it).  Every model named
-- here must exist: a missing file stops the scenario at load rather than being skipped.

local limit = option("limit", 10000, "how many test images the accuracy pass scores (0: all)")
local min_time = option("min_time", "2s", "shortest timed loop per trial")

-- Run from the root, or from scenarios/: find the datasets/ directory either way.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local function description(file)
  for _, dir in ipairs({ "datasets/", here .. "../datasets/" }) do
    local f = io.open(dir .. file, "r")
    if f then
      f:close()
      return dofile(dir .. file)
    end
  end
  error("datasets/" .. file .. " not found; run from the project root")
end

local clean = description("fashion_mnist.lua") { limit = limit }

local shifted = description("fashion_mnist_shifted.lua") { limit = limit }

-- Every variant scripts/make_models.py makes (models/manifest.csv), each against its base.
-- The student trained without the teacher is kind "distilled" here too (it has the student's
-- architecture; only its training differs), so the two students compare side by side.
local variants = {
  { name = "cnn", kind = "original", model = "models/cnn.onnx" },
  { name = "mlp", kind = "original", model = "models/mlp.onnx" },
  { name = "cnn_int8", kind = "quantized", base = "cnn", model = "models/cnn_int8.onnx" },
  { name = "mlp_int8_dyn", kind = "quantized", base = "mlp", model = "models/mlp_int8_dyn.onnx" },
  { name = "mlp_pruned50", kind = "pruned", base = "mlp", model = "models/mlp_pruned50.onnx" },
  { name = "mlp_pruned80", kind = "pruned", base = "mlp", model = "models/mlp_pruned80.onnx" },
  { name = "mlp_pruned95", kind = "pruned", base = "mlp", model = "models/mlp_pruned95.onnx" },
  { name = "cnn_half", kind = "pruned", base = "cnn", model = "models/cnn_half.onnx" },
  { name = "cnn_student_kd", kind = "distilled", base = "cnn", model = "models/cnn_student_kd.onnx" },
  { name = "cnn_student", kind = "distilled", base = "cnn", model = "models/cnn_student.onnx" },
  -- judged on the inverted-contrast test set they were adapted to; cnn is run there too
  { name = "cnn_lora_unmerged", kind = "lora", base = "cnn", dataset = shifted,
    model = "models/cnn_lora_unmerged.onnx" },
  { name = "cnn_lora_merged", kind = "lora", base = "cnn", dataset = shifted,
    model = "models/cnn_lora_merged.onnx" },
}

return scenario {
  name = "variants",
  description = "the model zoo's variants against their bases on the built-in engine",
  dataset = clean,
  variants = variants,
  backends = { "ref" },
  threads = { 1, 2 },
  measure = { warmup = "0.5s", min_iterations = 200, min_time = min_time, max_time = "10s",
              accuracy = true },
}
