-- backends: every variant of the model zoo on every backend that can run it, one thread and
-- two, scored on Fashion-MNIST, so runtimes compare on the same models, inputs and device.
--
--   edgebench run scenarios/backends.lua                 # every variant, ref/xnnpack/onnxruntime/pytorch
--   edgebench run scenarios/backends.lua --quick         # seconds per trial
--   edgebench run scenarios/backends.lua --set limit=1000 --set threads=1
--   edgebench run scenarios/backends.lua --set only=mlp,cnn   # just these variants
--   edgebench run scenarios/backends.lua --set backends=ref,pytorch
--
-- Variants come from models/manifest.csv (scripts/make_models.py), each with its base.  pytorch
-- runs every one of them from its TorchScript form, build/torchscript/NAME.pt (`make
-- torchscript`: float layers, the LoRA branches as modules, int8 as torch.ao quantized modules).
-- A backend that lacks what a variant needs (an operator, NAME.pt not exported, a runtime not
-- installed here) gives a row with status `unsupported` and the reason; the run goes on and
-- does not fail for it.  Outputs are cross-checked against ref per sample
-- by the harness (results.csv: agreement_vs_ref, max_abs_diff_vs_ref, and crosscheck_note when
-- under 99% of the samples agree; ref's trials run first), and at the end (the `done` hook, on
-- stderr) each variant's top-1 accuracy on every backend is set beside ref's on the same
-- samples, a difference over `tolerance` points flagged DISAGREES.

local limit = option("limit", 2000, "how many test images the accuracy pass scores (0: all)")
local threads = option("threads", "1,2", "thread counts, comma-separated")
local tolerance = option("tolerance", 0.3, "accuracy difference to ref that is flagged (points)")
local min_time = option("min_time", "1s", "shortest timed loop per trial")
local only = option("only", "", "variants to run, comma-separated names (empty: every one)")
local spin = option("spin", 1, "worker runtimes' intra-op threads spin (1) or sleep (0) between "
  .. "parallel sections (onnxruntime, pytorch: on a machine other jobs keep busy, spinning "
  .. "2-thread PyTorch stalls for ~100 ms)")
local backend_names = option("backends", "ref,xnnpack,onnxruntime,pytorch",
  "backends, comma-separated (ref first: the cross-check compares with it)")

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

-- The manifest's dataset column names the test set a variant is judged on: the LoRA variants
-- were adapted to the shifted one (inverted contrast) and are scored there, their base too.
local DATASETS = {
  fashion_mnist = description("fashion_mnist.lua") { limit = limit },
  fashion_mnist_shifted = description("fashion_mnist_shifted.lua") { limit = limit },
}

-- The manifest's kinds the scenario has no word for: the student trained without distillation
-- (the control of the distilled one) is measured as a distilled model.
local KIND = { student = "distilled" }
local wanted = {}
for name in tostring(only):gmatch("[^,%s]+") do wanted[name] = true end

-- The manifest's rows, by its header (columns may be added; name, file, kind, base are used).
local function zoo(dir)
  local f = assert(io.open(dir .. "/manifest.csv"), dir .. "/manifest.csv: run make models")
  local header, variants = nil, {}
  for line in f:lines() do
    local cells = {}
    for cell in (line .. ","):gmatch("([^,]*),") do cells[#cells + 1] = cell end
    if not header then
      header = {}
      for i, k in ipairs(cells) do header[k] = i end
    else
      local base, name = cells[header.base], cells[header.name]
      local set = header.dataset and cells[header.dataset] or ""
      if set ~= "" and not DATASETS[set] then
        error(dir .. "/manifest.csv: " .. name .. ": unknown dataset '" .. set .. "'")
      end
      if next(wanted) == nil or wanted[name] then
        variants[#variants + 1] = {
          dataset = set ~= "fashion_mnist" and DATASETS[set] or nil,
          name = name, kind = KIND[cells[header.kind]] or cells[header.kind],
          model = dir .. "/" .. cells[header.file],
          base = base ~= "" and (next(wanted) == nil or wanted[base]) and base or nil,
        }
      end
    end
  end
  f:close()
  return variants
end

local backend_list = {}
for b in tostring(backend_names):gmatch("[^,%s]+") do backend_list[#backend_list + 1] = b end

local thread_list = {}
for t in tostring(threads):gmatch("%d+") do thread_list[#thread_list + 1] = tonumber(t) end

return scenario {
  name = "backends",
  description = "the zoo on ref, XNNPACK, ONNX Runtime and PyTorch",
  dataset = DATASETS.fashion_mnist,
  variants = zoo("models"),
  backends = backend_list,
  backend_options = { onnxruntime = { spin = spin }, pytorch = { spin = spin } },
  threads = thread_list,
  measure = { warmup = "0.3s", min_iterations = 100, min_time = min_time, max_time = "10s" },

  done = function(rows)
    local ref = {}
    for _, r in ipairs(rows) do
      if r.backend == "ref" and r.status == "ok" and r.accuracy_top1 then
        ref[r.variant .. "/" .. (r.dataset or "")] = r.accuracy_top1
      end
    end
    io.stderr:write("cross-check: top-1 accuracy against ref on the same samples\n")
    for _, r in ipairs(rows) do
      local base = ref[r.variant .. "/" .. (r.dataset or "")]
      if r.backend ~= "ref" and r.status == "ok" and r.accuracy_top1 and base then
        local d = (r.accuracy_top1 - base) * 100
        io.stderr:write(string.format("  %-16s %-12s %d thr  %.2f%% vs ref %.2f%%  %s%s\n",
          r.variant, r.backend, r.threads, r.accuracy_top1 * 100, base * 100,
          math.abs(d) > tolerance and "DISAGREES" or "agrees",
          r.agreement_vs_ref and string.format(", top-1 agreement %.2f%%",
            r.agreement_vs_ref * 100) or ""))
      elseif r.status == "unsupported" and r.threads == thread_list[1] then
        io.stderr:write(string.format("  %-16s %-12s unsupported: %s\n", r.variant, r.backend,
          r.error))
      end
    end
  end,
}
