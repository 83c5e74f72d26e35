#!/usr/bin/python3
"""export_torchscript.py: the TorchScript form (NAME.pt) of every variant of the zoo, for the
`pytorch` backend (backends/worker/torch_worker.py runs NAME.pt for the variant NAME.onnx).

    /usr/bin/python3 scripts/export_torchscript.py [--out DIR] [--check N] [MODEL.onnx | DIR]...
        (default: models/ into build/torchscript/; `make torchscript` runs it)

The zoo (scripts/make_models.py) keeps no PyTorch weights, only the ONNX files, so each module
is re-derived from its ONNX graph, layer by layer, as the PyTorch modules the zoo trained:

- float chains (mlp, cnn, cnn_half, the students, mlp_pruned*, cnn_lora_merged): Flatten, Gemm,
  MatMul+Add, Conv, BatchNormalization, MaxPool, AveragePool, GlobalAveragePool, Relu, Sigmoid,
  Tanh, Softmax map one to one onto torch.nn layers carrying the ONNX initializers;
- LoRA left unmerged (cnn_lora_unmerged): a Conv/Gemm whose input also feeds a low-rank pair
  (Conv 3x3 -> Conv 1x1, or MatMul -> MatMul) added to it becomes a LoRA module holding real
  layers: base (Conv2d/Linear) + up(down(x)), computed as two branches as the file does;
- static int8 QDQ (cnn_int8): QuantizeLinear at the input becomes torch.ao.nn.quantized.Quantize
  (quint8, the file's scale and zero point); each DequantizeLinear -> Conv/Gemm [-> Relu] ->
  QuantizeLinear becomes torch.ao.nn.quantized Conv2d/Linear (ConvReLU2d/LinearReLU when fused)
  holding the file's int8 weights with their per-channel scales and zero points, the int32 bias
  times its scale, and the output's scale and zero point; MaxPool and Flatten run on the
  quantized tensor; the closing DequantizeLinear is DeQuantize.  The quantized engine is fbgemm
  where this torch has it (Debian's 1.13 has not: then onednn, the other x86 engine and the one
  the zoo's int8 model was calibrated with; qnnpack on ARM); it is recorded in the file and the
  worker selects it before loading, since packed weights are re-packed for the engine at load;
- dynamic int8 (mlp_int8_dyn): DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul -> Add
  becomes torch.ao.nn.quantized.dynamic.Linear with the file's int8 weights and scale.

Each module is traced to TorchScript and checked against edgebench's own engine
(`bin/edgebench infer --backend ref`): float ones on random inputs, max abs difference over 1e-4
fails; int8 ones by top-1 agreement on --check N Fashion-MNIST test images (default 2000; under
98% fails: PyTorch's int8 kernels round differently from ONNX's QDQ arithmetic, and its dynamic
Linear quantizes activations to 7 bits where the ONNX operator uses 8).  Every file carries
extra/edgebench.json: the ONNX file's name and sha256 (the worker refuses a NAME.pt exported
from another NAME.onnx), the quantized engine and the check's figure.
"""
import argparse
import glob
import gzip
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch import nn
import torch.ao.nn.quantized as nnq
import torch.ao.nn.quantized.dynamic as nnqd
try:
    import torch.ao.nn.intrinsic.quantized as nniq
except ImportError:  # torch 1.13 keeps the fused quantized modules here
    import torch.nn.intrinsic.quantized as nniq

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
IMAGES = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"


class Skip(Exception):
    pass


class LoRA(nn.Module):
    """An adapter left unmerged: base(x) + up(down(x)), the low-rank branch as its own layers."""

    def __init__(self, base, down, up):
        super().__init__()
        self.base, self.down, self.up = base, down, up

    def forward(self, x):
        return self.base(x) + self.up(self.down(x))


def qengine():
    """The quantized engine PyTorch's int8 runs on this device: fbgemm, else onednn on x86,
    else qnnpack (ARM)."""
    have = torch.backends.quantized.supported_engines
    x86 = platform.machine() in ("x86_64", "AMD64", "i686")
    for e in (["fbgemm", "onednn", "qnnpack"] if x86 else ["qnnpack", "fbgemm", "onednn"]):
        if e in have:
            return e
    raise Skip(f"no quantized engine in this torch (supported_engines: {have})")


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


def conv_args(n, a, w):
    k = tuple(w.shape[2:])
    if len(k) != 2:
        raise Skip(f"Conv {n.name}: not 2-D")
    p = list(a.get("pads", [0, 0, 0, 0]))
    if p[:2] != p[2:]:
        raise Skip(f"Conv {n.name}: asymmetric pads")
    g = a.get("group", 1)
    return dict(in_channels=w.shape[1] * g, out_channels=w.shape[0], kernel_size=k,
                stride=tuple(a.get("strides", [1, 1])), padding=tuple(p[:2]),
                dilation=tuple(a.get("dilations", [1, 1])), groups=g)


def float_conv(n, a, w):
    c = nn.Conv2d(**conv_args(n, a, w[0]), bias=len(w) > 1)
    c.weight.data = torch.from_numpy(w[0]).float()
    if len(w) > 1:
        c.bias.data = torch.from_numpy(w[1]).float()
    return c


def linear(wt, b):
    """nn.Linear from a weight already [out, in] and an optional bias."""
    lin = nn.Linear(wt.shape[1], wt.shape[0], bias=b is not None)
    lin.weight.data = torch.from_numpy(np.ascontiguousarray(wt)).float()
    if b is not None:
        lin.bias.data = torch.from_numpy(b).float()
    return lin


def gemm(n, a, w):
    if a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0 or a.get("transA", 0):
        raise Skip(f"Gemm {n.name}: alpha/beta/transA")
    return linear(w[0] if a.get("transB", 0) else w[0].T, w[1] if len(w) > 1 else None)


def qweight(q, scale, zp, axis):
    """The file's int8 weight as a PyTorch qint8 tensor with the same integers and scales."""
    t = torch.from_numpy(np.ascontiguousarray(q).astype(np.int8))
    if scale.size == 1:
        return torch._make_per_tensor_quantized_tensor(t, float(scale.reshape(-1)[0]),
                                                       int(zp.reshape(-1)[0]))
    return torch._make_per_channel_quantized_tensor(
        t, torch.from_numpy(scale.astype(np.float64)), torch.from_numpy(zp.astype(np.int64)),
        axis)


def build(model):
    """The PyTorch module for the graph (nn.Sequential), or Skip with the reason."""
    g = model.graph
    inits = {i.name: numpy_helper.to_array(i).copy() for i in g.initializer}
    inputs = [v.name for v in g.input if v.name not in inits]
    if len(inputs) != 1 or len(g.output) != 1:
        raise Skip("not a single-input, single-output graph")
    out_name = g.output[0].name
    nodes = list(g.node)
    # Outputs of DequantizeLinear applied to an initializer (weights, biases): (ints, scale,
    # zero point, axis), known before the walk since they may come after their first use.
    deq = {}
    for n in nodes:
        if n.op_type == "DequantizeLinear" and n.input[0] in inits:
            z = inits[n.input[2]] if len(n.input) > 2 and n.input[2] else np.zeros(1, np.int8)
            deq[n.output[0]] = (inits[n.input[0]], inits[n.input[1]], z,
                                attrs(n).get("axis", 1))
    cur, layers, pend = inputs[0], [], None
    quantized = False  # cur is a quantized tensor (static int8)

    def data_of(n):
        return [x for x in n.input if x and x not in inits and x not in deq]

    def expect(j, op, data):
        if j >= len(nodes) or nodes[j].op_type != op or data_of(nodes[j])[:len(data)] != data:
            raise Skip(f"{op} expected after {nodes[j - 1].op_type} {nodes[j - 1].name}")
        return nodes[j]

    i = 0
    while i < len(nodes):
        n = nodes[i]
        a = attrs(n)
        op = n.op_type
        if op == "DequantizeLinear" and n.input[0] in inits:
            i += 1
            continue
        data = data_of(n)
        if data != [cur]:
            raise Skip(f"{op} {n.name}: not a chain (inputs {list(n.input)})")
        w = [inits[x] for x in n.input if x in inits]
        if op == "QuantizeLinear" and pend is not None:
            # The quantized layer's output: its scale and zero point close it.
            q, (kind, wq, bias, relu, args) = n, pend
            s, z = float(inits[q.input[1]].reshape(-1)[0]), int(inits[q.input[2]].reshape(-1)[0])
            if kind == "conv":
                layer = (nniq.ConvReLU2d if relu else nnq.Conv2d)(**args)
            else:
                layer = (nniq.LinearReLU if relu else nnq.Linear)(wq.shape[1], wq.shape[0])
            layer.set_weight_bias(wq, bias)
            layer.scale, layer.zero_point = s, z
            layers.append(layer)
            pend, quantized = None, True
        elif op == "QuantizeLinear":
            if quantized or inits[n.input[2]].dtype != np.uint8:
                raise Skip(f"QuantizeLinear {n.name}: only a float input to uint8 maps")
            layers.append(nnq.Quantize(float(inits[n.input[1]].reshape(-1)[0]),
                                       int(inits[n.input[2]].reshape(-1)[0]), torch.quint8))
            quantized = True
        elif op == "DequantizeLinear":
            if not quantized:
                raise Skip(f"DequantizeLinear {n.name} of a float tensor")
            nxt = [m for m in nodes[i + 1:] if n.output[0] in m.input]
            if not (nxt and nxt[0].op_type in ("Conv", "Gemm")
                    and all(x in deq for x in nxt[0].input[1:] if x)):
                layers.append(nnq.DeQuantize())  # back to float (the graph's output)
                quantized = False
        elif op in ("Conv", "Gemm") and quantized:
            wq_, ws, wz, axis = deq[n.input[1]]
            if len(n.input) > 2 and n.input[2]:
                bq, bs, bz, _ = deq[n.input[2]]
                bias = torch.from_numpy(((bq.astype(np.float64) - bz) * bs).astype(np.float32))
            else:
                bias = None
            if op == "Conv":
                pend = ("conv", qweight(wq_, ws, wz, axis), bias, False, conv_args(n, a, wq_))
            else:
                if not a.get("transB", 0) or a.get("alpha", 1.0) != 1.0 or a.get("transA", 0):
                    raise Skip(f"Gemm {n.name}: quantized only as x @ W^T + b")
                pend = ("linear", qweight(wq_, ws, wz, axis), bias, False, None)
            quantized = False  # what flows now is the float result, until QuantizeLinear
        elif op == "Relu" and pend is not None:
            pend = pend[:3] + (True,) + pend[4:]
        elif pend is not None:
            raise Skip(f"{op} {n.name} between a quantized layer and its QuantizeLinear")
        elif op == "DynamicQuantizeLinear":
            # -> MatMulInteger -> Cast -> Mul(scales) -> Mul -> Add(bias): a dynamic Linear.
            mm = expect(i + 1, "MatMulInteger", [n.output[0]])
            cast = expect(i + 2, "Cast", [mm.output[0]])
            sc = nodes[i + 3]
            mul = expect(i + 4, "Mul", [cast.output[0]])
            add = expect(i + 5, "Add", [mul.output[0]])
            if sc.op_type != "Mul" or n.output[1] not in sc.input or sc.output[0] not in mul.input:
                raise Skip(f"MatMulInteger {mm.name}: its scale is not x_scale * w_scale")
            wi = inits[mm.input[1]]
            ws = inits[[x for x in sc.input if x in inits][0]]
            wz = inits[mm.input[3]] if len(mm.input) > 3 else np.zeros(1, np.int8)
            if wi.dtype != np.int8 or ws.size != 1:
                raise Skip(f"MatMulInteger {mm.name}: only per-tensor int8 weights map")
            lin = nnqd.Linear(wi.shape[0], wi.shape[1], dtype=torch.qint8)
            b = [inits[x] for x in add.input if x in inits]
            lin.set_weight_bias(qweight(wi.T, ws, wz, 0),
                                torch.from_numpy(b[0]).float() if b else None)
            layers.append(lin)
            n = add
            i += 5
        elif op == "Flatten":
            layers.append(nn.Flatten(a.get("axis", 1)))
        elif op in ("Conv", "Gemm") and i + 3 < len(nodes) and nodes[i + 3].op_type == "Add" and \
                nodes[i + 1].op_type in ("Conv", "MatMul") and data_of(nodes[i + 1]) == [cur]:
            # LoRA unmerged: base on x, down on x, up on down's output, added.
            dn, up, add = nodes[i + 1], nodes[i + 2], nodes[i + 3]
            if data_of(up) != [dn.output[0]] or sorted(data_of(add)) != \
                    sorted([n.output[0], up.output[0]]) or up.op_type != dn.op_type:
                raise Skip(f"{op} {n.name}: a branch that is not a low-rank pair")
            base = float_conv(n, a, w) if op == "Conv" else gemm(n, a, w)
            wd, wu = inits[dn.input[1]], inits[up.input[1]]
            if dn.op_type == "Conv":
                down, upm = float_conv(dn, attrs(dn), [wd]), float_conv(up, attrs(up), [wu])
            else:
                down, upm = linear(wd.T, None), linear(wu.T, None)
            layers.append(LoRA(base, down, upm))
            n = add
            i += 3
        elif op == "Gemm":
            layers.append(gemm(n, a, w))
        elif op == "MatMul" and len(w) == 1 and i + 1 < len(nodes) and \
                nodes[i + 1].op_type == "Add":
            b = [inits[x] for x in nodes[i + 1].input if x in inits]
            layers.append(linear(w[0].T, b[0] if b else None))
            i += 1
            n = nodes[i]
        elif op == "Conv":
            layers.append(float_conv(n, a, w))
        elif op == "BatchNormalization":
            bn = nn.BatchNorm2d(w[0].shape[0], eps=a.get("epsilon", 1e-5))
            bn.weight.data, bn.bias.data = (torch.from_numpy(x).float() for x in w[:2])
            bn.running_mean.data, bn.running_var.data = (torch.from_numpy(x).float()
                                                         for x in w[2:4])
            layers.append(bn)
        elif op in ("MaxPool", "AveragePool"):
            k, s, p = pool_args(a, n.name)
            if op == "MaxPool":
                layers.append(nn.MaxPool2d(k, s, p))
            else:
                layers.append(nn.AvgPool2d(k, s, p,
                                           count_include_pad=bool(a.get("count_include_pad", 0))))
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
    if cur != out_name or pend is not None or quantized:
        raise Skip("the chain does not end at the graph's float output")
    return nn.Sequential(*layers).eval()


def input_shape(model, batch):
    inits = {i.name for i in model.graph.initializer}
    v = [v for v in model.graph.input if v.name not in inits][0]
    return [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else batch
            for d in v.type.tensor_type.shape.dim]


def test_images(n, shape):
    """n Fashion-MNIST test images (pixels/255) shaped for the model; seeded uniform noise when
    the data set is not installed."""
    if os.path.exists(IMAGES):
        with gzip.open(IMAGES) as f:
            raw = np.frombuffer(f.read(), np.uint8, offset=16)
        x = raw[:n * 784].astype(np.float32) / 255
        return x.reshape([-1] + shape[1:])
    return np.random.default_rng(2).random([n] + shape[1:], dtype=np.float32)


def export(path, outdir, n_check, engine):
    model = onnx.load(path)
    name = os.path.splitext(os.path.basename(path))[0]
    out = os.path.join(outdir, name + ".pt")
    is_q = any(nd.op_type in ("QuantizeLinear", "DynamicQuantizeLinear") for nd in model.graph.node)
    try:
        if is_q and not engine:
            raise Skip("no quantized engine in this torch")
        if is_q:
            torch.backends.quantized.engine = engine
        module = build(model)
    except Skip as e:
        print(f"skipped {path}: {e}")
        return 0
    if is_q:
        x = torch.from_numpy(test_images(n_check, input_shape(model, n_check)))
    else:
        x = torch.from_numpy(np.random.default_rng(1).random(input_shape(model, 2),
                                                              dtype=np.float32))
    with torch.no_grad():
        traced = torch.jit.trace(module, x[:2])
        got = traced(x).numpy()
    want = run_ref(path, x.numpy())
    meta = {"onnx": os.path.basename(path), "onnx_sha256": sha256(path),
            "qengine": engine if is_q else "", "torch": torch.__version__}
    if want is None:
        check = "unchecked: no bin/edgebench"
    elif is_q:
        agree = float((got.argmax(1) == want.argmax(1)).mean())
        diff = float(np.abs(got - want).max())
        check = f"top-1 agreement {agree:.4f} with ref on {len(x)} test images, " \
                f"max abs diff {diff:.3g}, engine {engine}"
        if agree < 0.98:
            print(f"FAILED {path}: {check}")
            return 1
    else:
        diff = float(np.abs(got - want).max())
        check = f"max abs diff {diff:.2g} vs ref"
        if diff > 1e-4:
            print(f"FAILED {path}: {check}")
            return 1
    meta["check"] = check
    os.makedirs(outdir, exist_ok=True)
    tmp = out + ".tmp"
    traced.save(tmp, _extra_files={"edgebench.json": json.dumps(meta)})
    os.replace(tmp, out)
    print(f"wrote {out} ({os.path.getsize(out)} bytes, {check})")
    return 0


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def run_ref(path, x):
    """The ONNX file's output on x from edgebench's own engine (None without the binary)."""
    exe = os.path.join(ROOT, "bin", "edgebench")
    if not os.path.exists(exe):
        return None
    with tempfile.TemporaryDirectory() as d:
        np.save(os.path.join(d, "x.npy"), x)
        subprocess.run([exe, "infer", "--backend", "ref", path, "--input",
                        os.path.join(d, "x.npy"), "--output", os.path.join(d, "y.npy")],
                       check=True, stdout=subprocess.DEVNULL)
        return np.load(os.path.join(d, "y.npy"))


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join("build", "torchscript"),
                    help="directory for NAME.pt (default build/torchscript)")
    ap.add_argument("--check", type=int, default=2000,
                    help="test images the int8 exports are checked on (default 2000)")
    ap.add_argument("paths", nargs="*", default=["models"])
    args = ap.parse_args(argv)
    paths = []
    for a in args.paths:
        paths += sorted(glob.glob(os.path.join(a, "*.onnx"))) if os.path.isdir(a) else [a]
    torch.manual_seed(0)
    try:
        engine = qengine()
    except Skip as e:
        engine = None
        print(f"int8 variants: {e}")
    return 1 if sum(export(p, args.out, args.check, engine) for p in paths) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
