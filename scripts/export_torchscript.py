#!/usr/bin/python3
"""export_torchscript.py: write NAME.pt (TorchScript) beside each NAME.onnx of the zoo, for the
`pytorch` backend (backends/worker/torch_worker.py runs NAME.pt for the variant NAME.onnx).

    /usr/bin/python3 scripts/export_torchscript.py [MODEL.onnx | DIR]...   (default: models/)

The zoo (scripts/make_models.py) keeps no PyTorch weights, only the ONNX files, so the module is
re-derived from the ONNX graph: a chain of Flatten, Gemm, MatMul+Add, Relu, Conv, MaxPool,
AveragePool, GlobalAveragePool, BatchNormalization, Sigmoid, Tanh, Softmax maps one to one onto
torch.nn layers carrying the ONNX initializers (BatchNorm is already folded into Conv by the
export).  That is the same network the zoo trained, in eval mode.  Graphs that are not such a
chain (quantized, LoRA branches, ...) are skipped with the reason; the pytorch backend then
reports those variants `unsupported`.  Each export is checked against edgebench's own
engine, `bin/edgebench infer --backend ref`, on random inputs (max abs difference printed; over
1e-4 fails the file).
"""
import glob
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch import nn


class Skip(Exception):
    pass


def attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def pool_args(a, name):
    k = list(a.get("kernel_shape", []))
    s = list(a.get("strides", k))
    p = list(a.get("pads", [0] * (2 * len(k))))
    if p[:len(k)] != p[len(k):]:
        raise Skip(f"{name}: asymmetric pads")
    if a.get("ceil_mode", 0) or a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise Skip(f"{name}: ceil_mode/auto_pad")
    return k, s, p[:len(k)]


def build(model):
    g = model.graph
    inits = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in g.initializer}
    inputs = [v.name for v in g.input if v.name not in inits]
    if len(inputs) != 1 or len(g.output) != 1:
        raise Skip("not a single-input, single-output graph")
    cur, layers = inputs[0], []
    nodes = list(g.node)
    i = 0
    while i < len(nodes):
        n = nodes[i]
        a = attrs(n)
        data = [x for x in n.input if x and x not in inits]
        if data != [cur]:
            raise Skip(f"{n.op_type} {n.name}: not a chain (inputs {list(n.input)})")
        w = [inits[x] for x in n.input if x in inits]
        op = n.op_type
        if op == "Flatten":
            layers.append(nn.Flatten(a.get("axis", 1)))
        elif op == "Gemm":
            if a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0 or a.get("transA", 0):
                raise Skip(f"Gemm {n.name}: alpha/beta/transA")
            wt = w[0] if a.get("transB", 0) else w[0].t()
            lin = nn.Linear(wt.shape[1], wt.shape[0], bias=len(w) > 1)
            lin.weight.data = wt.contiguous().float()
            if len(w) > 1:
                lin.bias.data = w[1].float()
            layers.append(lin)
        elif op == "MatMul" and len(w) == 1 and i + 1 < len(nodes) and \
                nodes[i + 1].op_type == "Add":
            b = [inits[x] for x in nodes[i + 1].input if x in inits]
            lin = nn.Linear(w[0].shape[0], w[0].shape[1], bias=bool(b))
            lin.weight.data = w[0].t().contiguous().float()
            if b:
                lin.bias.data = b[0].float()
            layers.append(lin)
            i += 1
            n = nodes[i]
        elif op == "Conv":
            k = w[0].shape[2:]
            if len(k) != 2:
                raise Skip(f"Conv {n.name}: not 2-D")
            p = list(a.get("pads", [0, 0, 0, 0]))
            if p[:2] != p[2:]:
                raise Skip(f"Conv {n.name}: asymmetric pads")
            c = nn.Conv2d(w[0].shape[1] * a.get("group", 1), w[0].shape[0], tuple(k),
                          stride=tuple(a.get("strides", [1, 1])), padding=tuple(p[:2]),
                          dilation=tuple(a.get("dilations", [1, 1])), groups=a.get("group", 1),
                          bias=len(w) > 1)
            c.weight.data = w[0].float()
            if len(w) > 1:
                c.bias.data = w[1].float()
            layers.append(c)
        elif op == "BatchNormalization":
            bn = nn.BatchNorm2d(w[0].shape[0], eps=a.get("epsilon", 1e-5))
            bn.weight.data, bn.bias.data = w[0].float(), w[1].float()
            bn.running_mean.data, bn.running_var.data = w[2].float(), w[3].float()
            layers.append(bn)
        elif op in ("MaxPool", "AveragePool"):
            k, s, p = pool_args(a, n.name)
            if op == "MaxPool":
                layers.append(nn.MaxPool2d(k, s, p))
            else:
                layers.append(nn.AvgPool2d(k, s, p, count_include_pad=bool(a.get("count_include_pad", 0))))
        elif op == "GlobalAveragePool":
            layers.append(nn.AdaptiveAvgPool2d(1))
        elif op in ("Relu", "Sigmoid", "Tanh"):
            layers.append({"Relu": nn.ReLU, "Sigmoid": nn.Sigmoid, "Tanh": nn.Tanh}[op]())
        elif op == "Softmax":
            layers.append(nn.Softmax(a.get("axis", -1)))
        else:
            raise Skip(f"operator {op} ({n.name}) has no mapping here")
        cur = n.output[0]
        i += 1
    if cur != g.output[0].name:
        raise Skip("the chain does not end at the graph's output")
    return nn.Sequential(*layers).eval()


def input_shape(model):
    inits = {i.name for i in model.graph.initializer}
    v = [v for v in model.graph.input if v.name not in inits][0]
    return [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else 2
            for d in v.type.tensor_type.shape.dim]


def export(path):
    model = onnx.load(path)
    out = os.path.splitext(path)[0] + ".pt"
    try:
        module = build(model)
    except Skip as e:
        print(f"skipped {path}: {e}")
        return 0
    x = torch.from_numpy(np.random.default_rng(1).random(input_shape(model), dtype=np.float32))
    with torch.inference_mode():
        traced = torch.jit.trace(module, x)
        got = traced(x).numpy()
    want = run_ref(path, x.numpy())
    diff = float(np.abs(got - want).max()) if want is not None else None
    if diff is not None and diff > 1e-4:
        print(f"FAILED {path}: max abs difference {diff:.3g} against edgebench's ref")
        return 1
    traced.save(out)
    check = f"max abs diff {diff:.2g} vs ref" if diff is not None else "unchecked: no bin/edgebench"
    print(f"wrote {out} ({os.path.getsize(out)} bytes, {check})")
    return 0


def run_ref(path, x):
    """The ONNX file's output on x from edgebench's own engine (None without the binary)."""
    exe = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bin", "edgebench")
    if not os.path.exists(exe):
        return None
    with tempfile.TemporaryDirectory() as d:
        np.save(os.path.join(d, "x.npy"), x)
        subprocess.run([exe, "infer", "--backend", "ref", path, "--input",
                        os.path.join(d, "x.npy"), "--output", os.path.join(d, "y.npy")],
                       check=True, stdout=subprocess.DEVNULL)
        return np.load(os.path.join(d, "y.npy"))


def main(args):
    paths = []
    for a in args or ["models"]:
        paths += sorted(glob.glob(os.path.join(a, "*.onnx"))) if os.path.isdir(a) else [a]
    torch.manual_seed(0)
    return 1 if sum(export(p) for p in paths) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
