#!/usr/bin/python3
"""Makes the small ONNX models the ref engine's unit tests load (tests/unit/test_ref_model.c),
with expected outputs computed here in plain numpy (never by ref itself), and malformed models
that ref must refuse with one clear line.

    /usr/bin/python3 tests/data/ref/make_test_models.py     # rewrites tests/data/ref/*.onnx|npy

Fixed seeds: the files are committed and only change when this script does.
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20240601)


def f32(*shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def init(name, arr):
    return numpy_helper.from_array(np.asarray(arr), name)


def save(model, name, check=True):
    if check:
        onnx.checker.check_model(model)
    onnx.save(model, os.path.join(OUT, name))


def model(graph, opset):
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                          producer_name="edgebench-tests")
    m.ir_version = 8
    return m


def batch_input(name, *dims):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", *dims])


def out(name, *dims):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", *(dims or (4,))])


# ---------------------------------------------------------------- numpy references

def np_conv(x, w, b, stride=(1, 1), pads=(0, 0, 0, 0), dil=(1, 1), group=1):
    n, c, h, wd = x.shape
    m, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    oh = (h + pads[0] + pads[2] - (kh - 1) * dil[0] - 1) // stride[0] + 1
    ow = (wd + pads[1] + pads[3] - (kw - 1) * dil[1] - 1) // stride[1] + 1
    y = np.zeros((n, m, oh, ow), np.float64)
    mg = m // group
    for g in range(group):
        for i in range(kh):
            for j in range(kw):
                patch = xp[:, g * cg:(g + 1) * cg,
                           i * dil[0]: i * dil[0] + stride[0] * (oh - 1) + 1: stride[0],
                           j * dil[1]: j * dil[1] + stride[1] * (ow - 1) + 1: stride[1]]
                wk = w[g * mg:(g + 1) * mg, :, i, j]  # [mg, cg]
                y[:, g * mg:(g + 1) * mg] += np.einsum("nchw,mc->nmhw", patch, wk)
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    return y


def np_maxpool(x, k, s, pads=(0, 0, 0, 0)):
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])),
                constant_values=-np.inf)
    oh = (xp.shape[2] - k[0]) // s[0] + 1
    ow = (xp.shape[3] - k[1]) // s[1] + 1
    y = np.full(x.shape[:2] + (oh, ow), -np.inf)
    for i in range(k[0]):
        for j in range(k[1]):
            y = np.maximum(y, xp[:, :, i: i + s[0] * (oh - 1) + 1: s[0],
                                 j: j + s[1] * (ow - 1) + 1: s[1]])
    return y


def np_avgpool_incl(x, k, s, pads):
    """count_include_pad=1 with windows inside the padded input: the divisor is k*k."""
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    oh = (xp.shape[2] - k[0]) // s[0] + 1
    ow = (xp.shape[3] - k[1]) // s[1] + 1
    y = np.zeros(x.shape[:2] + (oh, ow))
    for i in range(k[0]):
        for j in range(k[1]):
            y += xp[:, :, i: i + s[0] * (oh - 1) + 1: s[0], j: j + s[1] * (ow - 1) + 1: s[1]]
    return y / (k[0] * k[1])


def np_softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# ---------------------------------------------------------------- good models

def make_mlp():
    """Flatten -> Gemm(transB) -> Relu -> Gemm(transB) -> Softmax, opset 13, dynamic batch."""
    w1, b1 = f32(8, 16, scale=0.5), f32(8)
    w2, b2 = f32(3, 8, scale=0.5), f32(3)
    nodes = [
        helper.make_node("Flatten", ["x"], ["f"], name="flatten", axis=1),
        helper.make_node("Gemm", ["f", "w1", "b1"], ["h"], name="fc1", transB=1),
        helper.make_node("Relu", ["h"], ["r"], name="relu"),
        helper.make_node("Gemm", ["r", "w2", "b2"], ["logits"], name="fc2", transB=1),
        helper.make_node("Softmax", ["logits"], ["y"], name="softmax", axis=1),
    ]
    g = helper.make_graph(nodes, "mlp", [batch_input("x", 1, 4, 4)], [out("y", 3)],
                          [init("w1", w1), init("b1", b1), init("w2", w2), init("b2", b2)])
    save(model(g, 13), "mlp.onnx")
    x = f32(3, 1, 4, 4)
    h = np.maximum(x.reshape(3, -1).astype(np.float64) @ w1.T + b1, 0)
    y = np_softmax(h @ w2.T + b2, 1)
    np.save(os.path.join(OUT, "mlp_x.npy"), x)
    np.save(os.path.join(OUT, "mlp_y.npy"), y.astype(np.float32))


def make_cnn():
    """Conv(pad 1)-BN-Relu-MaxPool-Conv(group 2, stride 2)-Relu-AvgPool(pad, count_include_pad)
    -GlobalAveragePool-Reshape(Constant [0,-1])-MatMul-Add-Softmax (opset 11 semantics).
    The old export style lists initializers as graph inputs too."""
    w1, b1 = f32(4, 1, 3, 3, scale=0.5), f32(4)
    scale, bias = f32(4) * 0.2 + 1, f32(4) * 0.1
    mean, var = f32(4) * 0.1, (np.abs(f32(4)) + 0.5).astype(np.float32)
    w2, b2 = f32(6, 2, 3, 3, scale=0.4), f32(6)
    wf, bf = f32(6, 5, scale=0.5), f32(5)
    inits = [init("w1", w1), init("b1", b1), init("bn_s", scale), init("bn_b", bias),
             init("bn_m", mean), init("bn_v", var), init("w2", w2), init("b2", b2),
             init("wf", wf), init("bf", bf)]
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c1", "bn_s", "bn_b", "bn_m", "bn_v"], ["bn"],
                         name="bn", epsilon=1e-5),
        helper.make_node("Relu", ["bn"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2],
                         strides=[2, 2]),
        helper.make_node("Conv", ["p1", "w2", "b2"], ["c2"], name="conv2", group=2,
                         strides=[2, 2], pads=[1, 0, 1, 0], dilations=[1, 1]),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("AveragePool", ["r2"], ["p2"], name="pool2", kernel_shape=[2, 2],
                         strides=[1, 1], pads=[1, 1, 1, 1], count_include_pad=1),
        helper.make_node("GlobalAveragePool", ["p2"], ["gap"], name="gap"),
        helper.make_node("Constant", [], ["shape"], name="shape_const",
                         value=numpy_helper.from_array(np.array([0, -1], np.int64))),
        helper.make_node("Reshape", ["gap", "shape"], ["flat"], name="reshape"),
        helper.make_node("MatMul", ["flat", "wf"], ["mm"], name="matmul"),
        helper.make_node("Add", ["mm", "bf"], ["logits"], name="add"),
        helper.make_node("Softmax", ["logits"], ["y"], name="softmax"),  # opset 11: axis 1
    ]
    inputs = [batch_input("x", 1, 8, 8)] + [
        helper.make_tensor_value_info(t.name, TensorProto.FLOAT, list(t.dims)) for t in inits]
    g = helper.make_graph(nodes, "cnn", inputs, [out("y", 5)], inits)
    save(model(g, 11), "cnn.onnx")
    x = f32(2, 1, 8, 8).astype(np.float32)
    c1 = np_conv(x.astype(np.float64), w1, b1, pads=(1, 1, 1, 1))
    bn = (c1 - mean.reshape(1, -1, 1, 1)) / np.sqrt(var.reshape(1, -1, 1, 1) + 1e-5) \
        * scale.reshape(1, -1, 1, 1) + bias.reshape(1, -1, 1, 1)
    p1 = np_maxpool(np.maximum(bn, 0), (2, 2), (2, 2))
    c2 = np_conv(p1, w2, b2, stride=(2, 2), pads=(1, 0, 1, 0), group=2)
    p2 = np_avgpool_incl(np.maximum(c2, 0), (2, 2), (1, 1), (1, 1, 1, 1))
    gap = p2.mean(axis=(2, 3))
    y = np_softmax(gap @ wf + bf, 1)
    np.save(os.path.join(OUT, "cnn_x.npy"), x)
    np.save(os.path.join(OUT, "cnn_y.npy"), y.astype(np.float32))


def make_fold():
    """PyTorch's x.view(x.size(0), -1) pattern (Shape-Gather-Unsqueeze-Concat-Reshape, folded
    at open), then broadcasting Mul/Sub/Div, Identity and Dropout; opset 13."""
    c = f32(6)
    nodes = [
        helper.make_node("Shape", ["x"], ["s"], name="shape"),
        helper.make_node("Constant", [], ["zero"], name="c0",
                         value=numpy_helper.from_array(np.array(0, np.int64))),
        helper.make_node("Gather", ["s", "zero"], ["n"], name="gather", axis=0),
        helper.make_node("Constant", [], ["ax0"], name="c1",
                         value=numpy_helper.from_array(np.array([0], np.int64))),
        helper.make_node("Unsqueeze", ["n", "ax0"], ["n1"], name="unsqueeze"),
        helper.make_node("Constant", [], ["m1"], name="c2",
                         value=numpy_helper.from_array(np.array([-1], np.int64))),
        helper.make_node("Concat", ["n1", "m1"], ["shp"], name="concat", axis=0),
        helper.make_node("Reshape", ["x", "shp"], ["flat"], name="reshape"),
        helper.make_node("Mul", ["flat", "two"], ["m"], name="mul"),
        helper.make_node("Sub", ["m", "c"], ["d"], name="sub"),
        helper.make_node("Div", ["d", "two"], ["q"], name="div"),
        helper.make_node("Identity", ["q"], ["i"], name="identity"),
        helper.make_node("Dropout", ["i"], ["y"], name="dropout"),
    ]
    g = helper.make_graph(nodes, "fold", [batch_input("x", 2, 3)], [out("y", 6)],
                          [init("two", np.array(2.0, np.float32)), init("c", c)])
    save(model(g, 13), "fold.onnx")
    x = f32(4, 2, 3)
    y = (x.reshape(4, -1) * 2 - c) / 2
    np.save(os.path.join(OUT, "fold_x.npy"), x)
    np.save(os.path.join(OUT, "fold_y.npy"), y.astype(np.float32))


def make_softmax():
    """Softmax(axis=1) on a 3-D input: before opset 13 it normalizes over all of dims 1..2
    (the input coerced to 2-D), from 13 on over dim 1 only."""
    x = f32(2, 2, 3)
    np.save(os.path.join(OUT, "softmax_x.npy"), x)
    for opset in (11, 13):
        node = helper.make_node("Softmax", ["x"], ["y"], name="softmax", axis=1)
        g = helper.make_graph([node], "softmax", [batch_input("x", 2, 3)], [out("y", 2, 3)])
        save(model(g, opset), f"softmax{opset}.onnx")
        if opset < 13:
            y = np_softmax(x.reshape(2, -1), 1).reshape(x.shape)
        else:
            y = np_softmax(x, 1)
        np.save(os.path.join(OUT, f"softmax{opset}_y.npy"), y.astype(np.float32))


def make_gemm():
    """Gemm with alpha, beta, a row-vector C; then Gemm(transA, transB) with a column C, whose
    output [2, batch] has the batch last."""
    w, c = f32(5, 3), f32(3)
    a3, c3 = f32(3, 2), f32(2, 1)
    nodes = [
        helper.make_node("Gemm", ["x", "w", "c"], ["g"], name="gemm1", alpha=0.5, beta=2.0),
        helper.make_node("Gemm", ["a3", "g", "c3"], ["y"], name="gemm2", transA=1, transB=1),
    ]
    yv = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, "batch"])
    g = helper.make_graph(nodes, "gemm", [batch_input("x", 5)], [yv],
                          [init("w", w), init("c", c), init("a3", a3), init("c3", c3)])
    save(model(g, 13), "gemm.onnx")
    x = f32(3, 5)
    g1 = 0.5 * (x.astype(np.float64) @ w) + 2.0 * c
    y = a3.T @ g1.T + c3
    np.save(os.path.join(OUT, "gemm_x.npy"), x)
    np.save(os.path.join(OUT, "gemm_y.npy"), y.astype(np.float32))


def make_matmul():
    """MatMul: N-D by 2-D (one GEMM), batched with broadcast batch dims, and by a 1-D vector."""
    w1, w2, v = f32(4, 5), f32(2, 5, 3), f32(3)
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["a"], name="mm_2d"),
        helper.make_node("MatMul", ["a", "w2"], ["b"], name="mm_batched"),
        helper.make_node("MatMul", ["b", "v"], ["y"], name="mm_vec"),
    ]
    g = helper.make_graph(nodes, "matmul", [batch_input("x", 2, 3, 4)], [out("y", 2, 3)],
                          [init("w1", w1), init("w2", w2), init("v", v)])
    save(model(g, 13), "matmul.onnx")
    x = f32(2, 2, 3, 4)
    y = np.matmul(np.matmul(np.matmul(x.astype(np.float64), w1), w2), v)
    np.save(os.path.join(OUT, "matmul_x.npy"), x)
    np.save(os.path.join(OUT, "matmul_y.npy"), y.astype(np.float32))


def make_conv1d():
    """1-D Conv (stride 2, pads, dilation 2) -> Relu -> MaxPool(3, stride 1, pad 1): ref runs
    them as 2-D with height 1."""
    w, b = f32(3, 2, 3), f32(3)
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv1d", strides=[2],
                         pads=[2, 1], dilations=[2]),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("MaxPool", ["r"], ["y"], name="pool1d", kernel_shape=[3],
                         strides=[1], pads=[1, 1]),
    ]
    g = helper.make_graph(nodes, "conv1d", [batch_input("x", 2, 11)], [out("y", 3, 5)],
                          [init("w", w), init("b", b)])
    save(model(g, 13), "conv1d.onnx")
    x = f32(2, 2, 11)
    c = np_conv(x[:, :, None, :].astype(np.float64), w[:, :, None, :], b, stride=(1, 2),
                pads=(0, 2, 0, 1), dil=(1, 2))
    y = np_maxpool(np.maximum(c, 0), (1, 3), (1, 1), (0, 1, 0, 1))[:, :, 0, :]
    np.save(os.path.join(OUT, "conv1d_x.npy"), x)
    np.save(os.path.join(OUT, "conv1d_y.npy"), y.astype(np.float32))


def make_pad():
    """Pad as PyTorch emits it (constant, pads from an initializer, a constant_value) and
    reflect/edge with a negative (cropping) pad; pad10.onnx is the opset-10 attribute form."""
    x = f32(2, 2, 3, 4)
    p1 = np.array([0, 0, 1, 2, 0, 1, 2, 0], np.int64)
    p2 = np.array([0, 0, 2, 1, 0, 0, 1, 3], np.int64)
    p3 = np.array([0, 1, 0, -1, 0, -1, 1, 2], np.int64)
    nodes = [
        helper.make_node("Pad", ["x", "p1", "v"], ["a"], name="pad_constant", mode="constant"),
        helper.make_node("Pad", ["a", "p2"], ["b"], name="pad_reflect", mode="reflect"),
        helper.make_node("Pad", ["b", "p3"], ["y"], name="pad_edge", mode="edge"),
    ]
    g = helper.make_graph(nodes, "pad", [batch_input("x", 2, 3, 4)], [out("y", 3, 10, 11)],
                          [init("p1", p1), init("p2", p2), init("p3", p3),
                           init("v", np.array(0.5, np.float32))])
    save(model(g, 13), "pad.onnx")

    def np_pad(a, pads, mode, value=0.0):
        r = a.ndim
        pos = [(max(pads[i], 0), max(pads[r + i], 0)) for i in range(r)]
        kw = {"constant_values": value} if mode == "constant" else {}
        a = np.pad(a, pos, mode=mode, **kw)
        crop = tuple(slice(max(-pads[i], 0), a.shape[i] - max(-pads[r + i], 0)) for i in range(r))
        return a[crop]

    y = np_pad(np_pad(np_pad(x, p1, "constant", 0.5), p2, "reflect"), p3, "edge")
    np.save(os.path.join(OUT, "pad_x.npy"), x)
    np.save(os.path.join(OUT, "pad_y.npy"), y.astype(np.float32))
    node = helper.make_node("Pad", ["x"], ["y"], name="pad_v10", mode="constant",
                            pads=[int(v) for v in p1], value=0.5)
    g = helper.make_graph([node], "pad10", [batch_input("x", 2, 3, 4)],
                          [out("y", 3, 6, 6)])
    save(model(g, 10), "pad10.onnx")
    np.save(os.path.join(OUT, "pad10_y.npy"), np_pad(x, p1, "constant", 0.5).astype(np.float32))


def make_fixed_batch():
    """A model exported without a dynamic batch: x is [2, 3]; Shape(start=1) checks opset
    15's slicing while it is folded."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    nodes = [
        helper.make_node("Shape", ["x"], ["s"], name="shape", start=1),
        helper.make_node("Constant", [], ["m1"], name="c",
                         value=numpy_helper.from_array(np.array([-1], np.int64))),
        helper.make_node("Concat", ["m1", "s"], ["shp"], name="concat", axis=0),
        helper.make_node("Reshape", ["x", "shp"], ["y"], name="reshape"),
    ]
    yv = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])
    save(model(helper.make_graph(nodes, "fixed", [x], [yv]), 15), "fixed_batch.onnx")


# ---------------------------------------------------------------- malformed models

def relu_graph(nodes, inputs, inits=(), name="bad"):
    return helper.make_graph(nodes, name, inputs, [out("y")], list(inits))


def make_bad():
    x = batch_input("x", 4)
    # a cycle: y = x + z, z = relu(y)
    save(model(relu_graph([helper.make_node("Add", ["x", "z"], ["y"], name="add"),
                           helper.make_node("Relu", ["y"], ["z"], name="relu")], [x]), 13),
         "bad_cycle.onnx", check=False)
    # a dangling input
    save(model(relu_graph([helper.make_node("Add", ["x", "ghost"], ["y"], name="add")], [x]),
               13), "bad_dangling.onnx", check=False)
    # an initializer whose data does not match its shape: 4x4 declared, 8 floats stored
    t = TensorProto()
    t.name, t.data_type = "w", TensorProto.FLOAT
    t.dims.extend([4, 4])
    t.raw_data = np.zeros(8, np.float32).tobytes()
    save(model(relu_graph([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], [x], [t]),
               13), "bad_init_size.onnx", check=False)
    # absurd dimensions: 1e5 x 1e5 x 1e3 floats per batch item
    big = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 100000, 100000, 1000])
    save(model(relu_graph([helper.make_node("Relu", ["x"], ["y"], name="relu")], [big]), 13),
         "bad_absurd_dim.onnx", check=False)
    # an operator ref does not have
    save(model(relu_graph([helper.make_node("Det", ["x"], ["y"], name="Det_3")], [x]), 13),
         "bad_unsupported_op.onnx")
    # an operator from another domain
    m = model(relu_graph([helper.make_node("FusedGemm", ["x"], ["y"], name="fused",
                                           domain="com.microsoft")], [x]), 13)
    m.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    save(m, "bad_domain.onnx", check=False)
    # a symbolic dimension that is not the batch
    sym = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "width"])
    save(model(relu_graph([helper.make_node("Relu", ["x"], ["y"], name="relu")], [sym]), 13),
         "bad_symbolic.onnx", check=False)
    # a truncated file: the MLP cut in half; and plain garbage
    data = open(os.path.join(OUT, "mlp.onnx"), "rb").read()
    open(os.path.join(OUT, "bad_truncated.onnx"), "wb").write(data[: len(data) // 2])
    open(os.path.join(OUT, "bad_garbage.onnx"), "wb").write(
        b"this is not an ONNX model, just some text\n" * 3)



# ---------------------------------------------------------------- issue 3 operator families

def make_ops_mix():
    """A transformer-ish chain over the new operator families: LayerNorm decomposed as PyTorch
    exports it at opset 13 (ReduceMean/Sub/Pow/Sqrt/Div), Transpose, Slice with a negative
    step, GELU through Erf, Greater/Where/LeakyRelu, Clip with inputs, variadic Max, HardSwish,
    Split, ReduceSum without keepdims and LogSoftmax."""
    c = lambda name, v: init(name, np.asarray(v))
    nodes = [
        helper.make_node("ReduceMean", ["x"], ["m"], axes=[-1]),
        helper.make_node("Sub", ["x", "m"], ["d"]),
        helper.make_node("Pow", ["d", "two"], ["p"]),
        helper.make_node("ReduceMean", ["p"], ["v"], axes=[-1]),
        helper.make_node("Add", ["v", "eps"], ["e"]),
        helper.make_node("Sqrt", ["e"], ["sd"]),
        helper.make_node("Div", ["d", "sd"], ["n"]),
        helper.make_node("Transpose", ["n"], ["t"], perm=[0, 2, 1]),
        helper.make_node("Slice", ["t", "st", "en", "ax", "sp"], ["sl"]),
        helper.make_node("Div", ["sl", "sqrt2"], ["q"]),
        helper.make_node("Erf", ["q"], ["er"]),
        helper.make_node("Add", ["er", "one"], ["er1"]),
        helper.make_node("Mul", ["sl", "er1"], ["g2"]),
        helper.make_node("Mul", ["g2", "half"], ["g"]),
        helper.make_node("Greater", ["g", "thr"], ["gt"]),
        helper.make_node("LeakyRelu", ["g"], ["lr"], alpha=0.2),
        helper.make_node("Where", ["gt", "g", "lr"], ["w"]),
        helper.make_node("Clip", ["w", "lo", "hi"], ["cl"]),
        helper.make_node("HardSwish", ["sl"], ["hs"]),
        helper.make_node("Max", ["cl", "hs", "floor"], ["mx"]),
        helper.make_node("Split", ["mx", "parts"], ["s0", "s1"], axis=2),
        helper.make_node("ReduceSum", ["s1", "rax"], ["rs"], keepdims=0),
        helper.make_node("LogSoftmax", ["rs"], ["y"], axis=-1),
    ]
    inits = [c("two", np.float32(2.0)), c("eps", np.float32(1e-5)),
             c("st", np.array([3], np.int64)), c("en", np.array([0], np.int64)),
             c("ax", np.array([1], np.int64)), c("sp", np.array([-1], np.int64)),
             c("sqrt2", np.float32(np.sqrt(2.0))), c("one", np.float32(1.0)),
             c("half", np.float32(0.5)), c("thr", np.float32(0.1)),
             c("lo", np.float32(-0.05)), c("hi", np.float32(0.8)),
             c("floor", f32(3, 1) * 0.1), c("parts", np.array([1, 2], np.int64)),
             c("rax", np.array([2], np.int64))]
    g = helper.make_graph(nodes, "ops_mix", [batch_input("x", 3, 4)], [out("y", 3)], inits)
    save(model(g, 14), "ops_mix.onnx")
    x = f32(2, 3, 4)
    np.save(os.path.join(OUT, "ops_mix_x.npy"), x)
    xd = x.astype(np.float64)
    m = xd.mean(-1, keepdims=True)
    n = (xd - m) / np.sqrt(((xd - m) ** 2).mean(-1, keepdims=True) + 1e-5)
    sl = n.transpose(0, 2, 1)[:, 3:0:-1, :]
    from math import erf
    gl = 0.5 * sl * (1 + np.vectorize(erf)(sl / np.sqrt(2.0)))
    w = np.where(gl > 0.1, gl, np.where(gl >= 0, gl, 0.2 * gl))
    cl = np.clip(w, -0.05, 0.8)
    hs = sl * np.clip(sl / 6 + 0.5, 0, 1)
    fl = next(t for t in inits if t.name == "floor")
    mx = np.maximum(np.maximum(cl, hs), numpy_helper.to_array(fl).astype(np.float64))
    rs = mx[:, :, 1:].sum(2)
    y = rs - (np.log(np.exp(rs - rs.max(-1, keepdims=True)).sum(-1, keepdims=True)) +
              rs.max(-1, keepdims=True))
    np.save(os.path.join(OUT, "ops_mix_y.npy"), y.astype(np.float32))


def make_ops_argmax():
    """An int64 result at run time: ArgMax over the last axis, keepdims=0."""
    node = helper.make_node("ArgMax", ["x"], ["y"], axis=1, keepdims=0)
    yv = helper.make_tensor_value_info("y", TensorProto.INT64, ["batch"])
    g = helper.make_graph([node], "ops_argmax", [batch_input("x", 5)], [yv])
    save(model(g, 13), "ops_argmax.onnx")
    x = f32(3, 5)
    np.save(os.path.join(OUT, "ops_argmax_x.npy"), x)
    np.save(os.path.join(OUT, "ops_argmax_y.npy"), x.argmax(1).astype(np.int64))

if __name__ == "__main__":
    make_mlp()
    make_cnn()
    make_fold()
    make_softmax()
    make_gemm()
    make_matmul()
    make_conv1d()
    make_fixed_batch()
    make_pad()
    make_bad()
    make_ops_mix()
    make_ops_argmax()
    print("wrote", OUT)
