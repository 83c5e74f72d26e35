#!/usr/bin/python3
"""Export real architectures with random weights to ONNX, with PyTorch's reference outputs.

Run with /usr/bin/python3 (Debian's PyTorch 1.13, torchvision 0.14, onnx 1.12):

    /usr/bin/python3 scripts/export_models.py                 # writes build/models/ (~20 s)
    /usr/bin/python3 scripts/export_models.py --out DIR --only resnet18,transformer
    /usr/bin/python3 scripts/export_models.py --force         # re-export even if up to date
    /usr/bin/python3 scripts/export_models.py --list          # names, opsets, shapes; no export

No weights are downloaded (none can be here): every model is built with torchvision's own
random initialisation under a fixed seed, then its BatchNorm running statistics and affine
parameters are randomised too (seeded), so that a wrong BatchNorm (or Conv+BN folding) shows
in the outputs instead of hiding behind mean 0 / variance 1.

Writes into OUT (default build/models/; resnet18 alone is ~45 MB, so nothing here is
committed):
    NAME.onnx                   input "input", output "output"; the batch axis is dynamic
                                ("N"), like the zoo's models and like most users' exports
    reference/NAME-input.npy    batch 1, float32, seeded standard normal
    reference/NAME-output.npy   the eval-mode PyTorch model's output for it
    manifest.csv                name,file,reference,opset,input_shape,output_shape,params,ops,
                                seconds,sha256 -- one row per file; `reference` names the
                                reference/REFERENCE-{input,output}.npy pair it is checked on
    .stamp                      this script's hash + the export's arguments: a second run with
                                the same script and arguments exits at once (--force re-exports)

Prints the operator types of each export.  Exits 1 if an export or PyTorch fails, 2 on a usage
error.
"""
import argparse
import collections
import csv
import hashlib
import os
import sys
import time

import numpy as np

SEED = 20240601
DEFAULT_OPSET = 13
MANIFEST_COLUMNS = ["name", "file", "reference", "opset", "input_shape", "output_shape", "params",
                    "ops", "seconds", "sha256"]



def make_transformer(torch, nn):
    """A small transformer encoder classifier: input [N, 32, 128] (already-embedded tokens),
    2 post-norm encoder layers (d_model 128, 4 heads, feed-forward 256, GELU), mean over the
    sequence, LayerNorm, Linear to 10 classes.  GELU exports as Erf; LayerNorm as
    ReduceMean/Sub/Pow/Sqrt/Div before opset 17 and as LayerNormalization from 17."""

    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            layer = nn.TransformerEncoderLayer(d_model=128, nhead=4, dim_feedforward=256,
                                               dropout=0.1, activation="gelu",
                                               batch_first=True)
            # enable_nested_tensor=False: the nested-tensor fast path is for padded batches
            # and does not export.
            self.encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
            self.norm = nn.LayerNorm(128)
            self.head = nn.Linear(128, 10)

        def forward(self, x):
            h = self.encoder(x)
            return self.head(self.norm(h.mean(dim=1)))

    return Classifier()


def tv(name):
    def build(torch, nn):
        import torchvision.models as m
        return getattr(m, name)(weights=None)
    return build


# name -> (builder, input shape at batch 1, opsets).  The transformer is exported at three
# opsets because its graph is the one that changes most between them (Split/Squeeze/Unsqueeze
# axes as inputs from 13, LayerNormalization from 17); the first opset listed is the main file
# NAME.onnx, the others are NAME-opsetK.onnx.
MODELS = collections.OrderedDict([
    ("mobilenet_v2", (tv("mobilenet_v2"), (1, 3, 224, 224), (13,))),
    ("resnet18", (tv("resnet18"), (1, 3, 224, 224), (13,))),
    ("transformer", (make_transformer, (1, 32, 128), (13, 11, 17))),
    ("squeezenet1_1", (tv("squeezenet1_1"), (1, 3, 224, 224), (13,))),
    ("shufflenet_v2_x0_5", (tv("shufflenet_v2_x0_5"), (1, 3, 224, 224), (13,))),
    ("mnasnet0_5", (tv("mnasnet0_5"), (1, 3, 224, 224), (13,))),
])


def file_name(name, opset, first_opset):
    return f"{name}.onnx" if opset == first_opset else f"{name}-opset{opset}.onnx"


def randomise_norms(torch, nn, model, gen):
    """Gives every BatchNorm random running stats and affine parameters (seeded), in ranges
    that keep activations finite through 50+ layers."""
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, nn.modules.batchnorm._BatchNorm):
                c = mod.num_features
                mod.running_mean.copy_(torch.randn(c, generator=gen) * 0.1)
                mod.running_var.copy_(torch.rand(c, generator=gen) * 1.5 + 0.5)
                if mod.affine:
                    mod.weight.copy_(torch.rand(c, generator=gen) * 1.0 + 0.5)
                    mod.bias.copy_(torch.randn(c, generator=gen) * 0.1)


def op_counts(path):
    import onnx
    model = onnx.load(path)
    onnx.checker.check_model(model)
    counts = collections.Counter(n.op_type for n in model.graph.node)
    return counts


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def stamp_text(names):
    with open(os.path.abspath(__file__), "rb") as f:
        script = hashlib.sha256(f.read()).hexdigest()
    return f"{script} {','.join(names)}\n"


def up_to_date(out, names):
    """True when OUT/.stamp matches this script and selection and every file it names exists."""
    try:
        with open(os.path.join(out, ".stamp")) as f:
            if f.read() != stamp_text(names):
                return False
    except OSError:
        return False
    for name in names:
        _, _, opsets = MODELS[name]
        for opset in opsets:
            if not os.path.exists(os.path.join(out, file_name(name, opset, opsets[0]))):
                return False
        for kind in ("input", "output"):
            if not os.path.exists(os.path.join(out, "reference", f"{name}-{kind}.npy")):
                return False
    return True


def export_one(torch, nn, name, out, verbose):
    """Exports NAME at each of its opsets; returns manifest rows."""
    builder, shape, opsets = MODELS[name]
    torch.manual_seed(SEED)
    model = builder(torch, nn)
    gen = torch.Generator().manual_seed(SEED + 1)
    randomise_norms(torch, nn, model, gen)
    model.eval()
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(SEED + 2))
    with torch.no_grad():
        y = model(x)
    ref_dir = os.path.join(out, "reference")
    os.makedirs(ref_dir, exist_ok=True)
    np.save(os.path.join(ref_dir, f"{name}-input.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(ref_dir, f"{name}-output.npy"), y.numpy().astype(np.float32))
    params = sum(p.numel() for p in model.parameters())

    rows = []
    for opset in opsets:
        fname = file_name(name, opset, opsets[0])
        path = os.path.join(out, fname)
        t0 = time.monotonic()
        # Export outside no_grad: in eval mode under no_grad, PyTorch 1.13's transformer layers
        # take a fused "fast path" (one aten op per layer) that has no ONNX form.
        torch.onnx.export(model, x, path, opset_version=opset, input_names=["input"],
                          output_names=["output"],
                          dynamic_axes={"input": {0: "N"}, "output": {0: "N"}},
                          do_constant_folding=True)
        seconds = time.monotonic() - t0
        counts = op_counts(path)
        ops = " ".join(f"{k}:{v}" for k, v in sorted(counts.items()))
        print(f"{fname}: opset {opset}, {params} params, {sum(counts.values())} nodes, "
              f"{seconds:.1f} s\n  ops: {ops}", flush=True)
        rows.append({"name": name if opset == opsets[0] else f"{name}-opset{opset}",
                     "file": fname, "reference": name, "opset": opset,
                     "input_shape": "x".join(str(d) for d in shape),
                     "output_shape": "x".join(str(d) for d in y.shape),
                     "params": params, "ops": ops, "seconds": f"{seconds:.2f}",
                     "sha256": sha256(path)})
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="build/models", help="output directory (build/models)")
    ap.add_argument("--only", help="comma-separated model names (default: all)")
    ap.add_argument("--force", action="store_true", help="re-export even if up to date")
    ap.add_argument("--list", action="store_true", help="list the models and exit")
    ap.add_argument("-v", "--verbose", action="store_true", help="show exporter warnings")
    args = ap.parse_args()

    names = list(MODELS)
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in MODELS]
        if unknown:
            print(f"export_models: unknown model(s) {', '.join(unknown)}; "
                  f"known: {', '.join(MODELS)}", file=sys.stderr)
            return 2
    if args.list:
        for n in names:
            _, shape, opsets = MODELS[n]
            print(f"{n}\tinput {'x'.join(map(str, shape))}\topsets {','.join(map(str, opsets))}")
        return 0
    if not args.force and up_to_date(args.out, names):
        print(f"export_models: {args.out} is up to date ({', '.join(names)}); --force re-exports")
        return 0

    import warnings
    if not args.verbose:
        warnings.filterwarnings("ignore")   # the exporter's TracerWarnings are expected noise
    import torch
    import torch.nn as nn
    torch.set_num_threads(min(2, os.cpu_count() or 1))

    os.makedirs(args.out, exist_ok=True)
    stamp = os.path.join(args.out, ".stamp")
    if os.path.exists(stamp):
        os.remove(stamp)   # a run that dies half-way must not look up to date
    t0 = time.monotonic()
    rows = []
    for name in names:
        try:
            rows += export_one(torch, nn, name, args.out, args.verbose)
        except Exception as e:   # report which model, not a bare traceback
            print(f"export_models: {name}: {type(e).__name__}: {e}", file=sys.stderr)
            return 1
    with open(os.path.join(args.out, "manifest.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=MANIFEST_COLUMNS)
        w.writeheader()
        w.writerows(rows)
    with open(stamp, "w") as f:
        f.write(stamp_text(names))
    print(f"export_models: {len(rows)} files in {args.out} in {time.monotonic() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
