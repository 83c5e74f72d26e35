#!/usr/bin/python3
"""Train edgebench's model zoo (first part) on Fashion-MNIST and export it to ONNX.

Run with /usr/bin/python3 (Debian's PyTorch 1.13 + onnx 1.12; the `python3` first on PATH may
be another interpreter without them):

    /usr/bin/python3 scripts/make_models.py              # full run, writes models/ (~ minutes)
    /usr/bin/python3 scripts/make_models.py --quick --out /tmp/zoo   # CI smoke test (~1 min)

Writes into OUT (default models/):
    mlp.onnx, cnn.onnx      input "input" [N,1,28,28] float32 (pixels/255, no mean/std),
                            output "logits" [N,10]; N is a dynamic axis
    manifest.csv            one row per model; pytorch_top1/top5 are the eval-mode float32
                            PyTorch model's accuracy on the whole 10k test split
    reference/NAME-input.npy, reference/NAME-output.npy
                            the first 64 preprocessed test images and PyTorch's logits: the
                            ground truth of tests/conformance/crosscheck.py

The ONNX files may contain only the operators the built-in engine `ref` supports; the script
fails if an export uses anything else.
"""
import argparse
import csv
import gzip
import hashlib
import os
import sys
import time

import numpy as np
import onnx
import torch
import torch.nn as nn

DATA_DIR = "/usr/share/datasets/fashion-mnist"
OPSET = 13
REF_SAMPLES = 64
SEED = 20240601
# What `ref` executes today (issue 2); anything else in an export is a hard error.
ALLOWED_OPS = {
    "Conv", "Gemm", "MatMul", "Relu", "MaxPool", "AveragePool", "GlobalAveragePool", "Flatten",
    "Reshape", "Add", "Mul", "Softmax", "BatchNormalization", "Constant", "Identity", "Dropout",
}
CNN_MIN_TOP1 = 0.89
MANIFEST_COLUMNS = ["name", "file", "kind", "base", "params", "pytorch_top1", "pytorch_top5",
                    "test_samples", "epochs", "train_seconds", "onnx_opset", "sha256"]


def read_idx(path, magic):
    """Reads an IDX file (optionally gzipped): big-endian magic, dims, then uint8 data."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    got = int.from_bytes(raw[0:4], "big")
    if got != magic:
        raise SystemExit(f"make_models: {path}: IDX magic {got:#x}, expected {magic:#x}; "
                         "reinstall dataset-fashion-mnist")
    ndim = magic & 0xFF
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    return data.reshape(dims)


def load_split(split):
    """Returns (x float32 [N,1,28,28] in 0..1, y int64 [N]) — the harness's scale=1/255."""
    images = read_idx(os.path.join(DATA_DIR, f"{split}-images-idx3-ubyte.gz"), 0x00000803)
    labels = read_idx(os.path.join(DATA_DIR, f"{split}-labels-idx1-ubyte.gz"), 0x00000801)
    x = (images.astype(np.float32) / np.float32(255.0)).reshape(-1, 1, 28, 28)
    return np.ascontiguousarray(x), labels.astype(np.int64)


def make_mlp():
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 256), nn.ReLU(),
        nn.Linear(256, 128), nn.ReLU(),
        nn.Linear(128, 10),
    )


def make_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 7 * 7, 128), nn.ReLU(),
        nn.Dropout(0.25),
        nn.Linear(128, 10),
    )


@torch.no_grad()
def evaluate(model, x, y, batch=1000):
    """Top-1 and top-5 accuracy (fractions) of the eval-mode model over all of x."""
    model.eval()
    top1 = top5 = 0
    for i in range(0, len(x), batch):
        logits = model(torch.from_numpy(x[i:i + batch]))
        target = torch.from_numpy(y[i:i + batch])
        best5 = logits.topk(5, dim=1).indices
        top1 += int((best5[:, 0] == target).sum())
        top5 += int((best5 == target[:, None]).any(dim=1).sum())
    return top1 / len(x), top5 / len(x)


def train(name, model, xtr, ytr, xte, yte, epochs, seed):
    """Adam, batch 128, lr 1e-3; prints per-epoch loss, test accuracy and time.
    The test accuracy printed per epoch is for information only: the model kept is the one
    after the last epoch (no selection on the test split)."""
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(xtr), torch.from_numpy(ytr)
    seconds = 0.0
    for epoch in range(1, epochs + 1):
        t0 = time.monotonic()
        model.train()
        perm = torch.randperm(len(xt), generator=gen)
        total, count = 0.0, 0
        for i in range(0, len(perm), 128):
            idx = perm[i:i + 128]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            total += float(loss) * len(idx)
            count += len(idx)
        seconds += time.monotonic() - t0
        top1, _ = evaluate(model, xte, yte)
        print(f"{name}: epoch {epoch}/{epochs} loss {total / count:.4f} "
              f"test top1 {top1:.4f} time {time.monotonic() - t0:.1f}s", flush=True)
    return seconds


def export(model, path):
    """Exports to ONNX, checks it, and returns (graph op types sorted, opset)."""
    model.eval()
    dummy = torch.zeros(1, 1, 28, 28)
    torch.onnx.export(
        model, dummy, path, opset_version=OPSET, do_constant_folding=True,
        training=torch.onnx.TrainingMode.EVAL, input_names=["input"], output_names=["logits"],
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    m = onnx.load(path)
    onnx.checker.check_model(m)
    ops = sorted({n.op_type for n in m.graph.node})
    opset = max(o.version for o in m.opset_import if o.domain in ("", "ai.onnx"))
    return ops, opset


def onnx_params(m):
    """Elements in the graph's float initializers: what the harness counts as `params`.
    (BatchNorm is folded into Conv at export, so this can be below PyTorch's count.)"""
    return sum(int(np.prod(t.dims)) for t in m.graph.initializer
               if t.data_type in (onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE,
                                  onnx.TensorProto.FLOAT16))


def _conv2d(x, w, b, strides, pads):
    n, c, h, wd = x.shape
    k, _, kh, kw = w.shape
    x = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    oh = (x.shape[2] - kh) // strides[0] + 1
    ow = (x.shape[3] - kw) // strides[1] + 1
    out = np.zeros((n, k, oh, ow), dtype=np.float64)
    for i in range(kh):
        for j in range(kw):
            patch = x[:, :, i:i + strides[0] * oh:strides[0], j:j + strides[1] * ow:strides[1]]
            out += np.einsum("nchw,kc->nkhw", patch, w[:, :, i, j])
    return out + (b.reshape(1, -1, 1, 1) if b is not None else 0)


def _maxpool2d(x, kernel, strides):
    n, c, h, w = x.shape
    oh = (h - kernel[0]) // strides[0] + 1
    ow = (w - kernel[1]) // strides[1] + 1
    out = np.full((n, c, oh, ow), -np.inf)
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            out = np.maximum(out, x[:, :, i:i + strides[0] * oh:strides[0],
                                    j:j + strides[1] * ow:strides[1]])
    return out


def numpy_run(m, x):
    """A tiny float64 interpreter for the ops our exports use: an independent reading of the
    ONNX file, so the reference logits are known to be what the *file* computes (and not only
    what PyTorch computed), before ref is ever held to them. Returns None if it meets an op
    it does not know (the caller then skips this check)."""
    from onnx import numpy_helper
    env = {t.name: numpy_helper.to_array(t).astype(np.float64)
           if t.data_type == onnx.TensorProto.FLOAT else numpy_helper.to_array(t)
           for t in m.graph.initializer}
    env[m.graph.input[0].name] = x.astype(np.float64)
    for node in m.graph.node:
        a = {at.name: onnx.helper.get_attribute_value(at) for at in node.attribute}
        i = [env[name] if name else None for name in node.input]
        op = node.op_type
        if op == "Conv":
            if a.get("group", 1) != 1 or any(d != 1 for d in a.get("dilations", [1, 1])):
                return None
            y = _conv2d(i[0], i[1], i[2] if len(i) > 2 else None, a.get("strides", [1, 1]),
                        a.get("pads", [0, 0, 0, 0]))
        elif op == "Gemm":
            A = i[0].T if a.get("transA", 0) else i[0]
            B = i[1].T if a.get("transB", 0) else i[1]
            y = a.get("alpha", 1.0) * (A @ B)
            if len(i) > 2 and i[2] is not None:
                y = y + a.get("beta", 1.0) * i[2]
        elif op == "MatMul":
            y = i[0] @ i[1]
        elif op == "Relu":
            y = np.maximum(i[0], 0)
        elif op == "MaxPool":
            if any(p != 0 for p in a.get("pads", [0, 0, 0, 0])) or a.get("ceil_mode", 0):
                return None
            k = a["kernel_shape"]
            y = _maxpool2d(i[0], k, a.get("strides", [1] * len(k)))
        elif op == "Flatten":
            axis = a.get("axis", 1)
            y = i[0].reshape(int(np.prod(i[0].shape[:axis])), -1)
        elif op == "Reshape":
            shape = [d if d != 0 else i[0].shape[k] for k, d in enumerate(i[1].tolist())]
            y = i[0].reshape(shape)
        elif op == "Add":
            y = i[0] + i[1]
        elif op == "Mul":
            y = i[0] * i[1]
        elif op in ("Identity", "Dropout"):
            y = i[0]
        else:
            return None
        env[node.output[0]] = y
    return env[m.graph.output[0].name]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="models", help="output directory (default models/)")
    ap.add_argument("--quick", action="store_true",
                    help="1 epoch on a 6000-image training subset (smoke test for CI)")
    ap.add_argument("--epochs-mlp", type=int, default=5)
    ap.add_argument("--epochs-cnn", type=int, default=6)
    args = ap.parse_args()

    torch.manual_seed(SEED)
    np.random.seed(SEED)
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)

    xtr, ytr = load_split("train")
    xte, yte = load_split("t10k")
    if args.quick:
        sub = np.random.RandomState(SEED).permutation(len(xtr))[:6000]
        xtr, ytr = xtr[sub], ytr[sub]
        args.epochs_mlp = args.epochs_cnn = 1
    print(f"train {len(xtr)} images, test {len(xte)} images, threads "
          f"{torch.get_num_threads()}", flush=True)

    os.makedirs(os.path.join(args.out, "reference"), exist_ok=True)
    rows = []
    failed = []
    for index, (name, factory, epochs) in enumerate(
            [("mlp", make_mlp, args.epochs_mlp), ("cnn", make_cnn, args.epochs_cnn)]):
        torch.manual_seed(SEED + index)  # each model's init independent of the other's
        model = factory()
        secs = train(name, model, xtr, ytr, xte, yte, epochs, SEED + index)
        top1, top5 = evaluate(model, xte, yte)
        torch_params = sum(p.numel() for p in model.parameters())
        path = os.path.join(args.out, f"{name}.onnx")
        ops, opset = export(model, path)
        onnx_model = onnx.load(path)
        params = onnx_params(onnx_model)
        extra = sorted(set(ops) - ALLOWED_OPS)
        print(f"{name}: params {params} in ONNX ({torch_params} in PyTorch) top1 {top1:.4f} "
              f"top5 {top5:.4f} train {secs:.1f}s ops {' '.join(ops)} "
              f"({os.path.getsize(path)} bytes)", flush=True)
        if extra:
            failed.append(f"{path}: operators {', '.join(extra)} are not supported by ref; "
                          "change the model so they do not appear in the export")
        if name == "cnn" and not args.quick and top1 < CNN_MIN_TOP1:
            failed.append(f"cnn: top-1 {top1:.4f} is below {CNN_MIN_TOP1}; "
                          "train longer (--epochs-cnn)")

        model.eval()
        ref_in = np.ascontiguousarray(xte[:REF_SAMPLES])
        with torch.no_grad():
            ref_out = model(torch.from_numpy(ref_in)).numpy().astype(np.float32)
        onnx_out = numpy_run(onnx_model, ref_in)
        if onnx_out is None:
            print(f"{name}: numpy check of the ONNX file skipped (an op it does not know)")
        else:
            diff = float(np.max(np.abs(onnx_out - ref_out)))
            ok = np.allclose(onnx_out, ref_out, rtol=1e-4,
                             atol=1e-5 * float(np.max(np.abs(ref_out))))
            print(f"{name}: ONNX file (numpy float64) vs PyTorch on {REF_SAMPLES} images: "
                  f"max_abs_diff {diff:.3g} {'ok' if ok else 'MISMATCH'}", flush=True)
            if not ok:
                failed.append(f"{path}: the exported graph computes different logits than "
                              "PyTorch (see the line above); check the export")
        np.save(os.path.join(args.out, "reference", f"{name}-input.npy"), ref_in)
        np.save(os.path.join(args.out, "reference", f"{name}-output.npy"), ref_out)

        rows.append({
            "name": name, "file": f"{name}.onnx", "kind": "original", "base": "",
            "params": params, "pytorch_top1": f"{top1:.4f}", "pytorch_top5": f"{top5:.4f}",
            "test_samples": len(xte), "epochs": epochs, "train_seconds": f"{secs:.1f}",
            "onnx_opset": opset, "sha256": sha256(path),
        })

    with open(os.path.join(args.out, "manifest.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {args.out}/manifest.csv, {args.out}/{{mlp,cnn}}.onnx, {args.out}/reference/")
    if failed:
        for msg in failed:
            print(f"make_models: {msg}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
