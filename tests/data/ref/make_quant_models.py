#!/usr/bin/python3
"""Test models for ref's int8 and sparse paths (issue 4); run with /usr/bin/python3.

  q_cnn.onnx      QDQ CNN (the layout PyTorch's QDQ export gives): QuantizeLinear ->
                  DequantizeLinear -> Conv(DequantizeLinear(int8 weights, per-channel scales),
                  bias) -> Relu -> QuantizeLinear -> ... -> MaxPool -> ... -> Gemm; uint8
                  activations, one Conv with int8 activations.  q_cnn_x.npy / q_cnn_y.npy:
                  input and the expected output, computed here in numpy with ONNX's QDQ
                  semantics (float math between the nodes, round half to even, saturation).
  sp_mlp.onnx, sp_mlp9.onnx (5 and 9 rows)
                  Gemm (transB=1, bias) -> Relu -> MatMul -> Add with 93% and 92% zero weights;
                  sp_mlp_x.npy / sp_mlp_y.npy from numpy.
  sp_conv.onnx    1x1 Conv (95% zeros, bias) -> Relu; sp_conv_x.npy / sp_conv_y.npy.
  q_chain.onnx    QDQ chain with MaxPool and Flatten on the integers (PyTorch's layout), int8
                  and uint8 activations, for the byte-stored path; q_chain_x/_y.npy.
  qbench_int8.onnx / qbench_fp32.onnx   (only with `--bench DIR`, written to DIR: too big
                  to keep in git) a conv-heavy QDQ network and its float twin (dequantized
                  weights), for tests/bench/sparse_bench.c's int8-vs-fp32 comparison.
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(4)


def q(x, s, z, lo, hi):
    return np.clip(np.rint(x.astype(np.float32) / np.float32(s)) + z, lo, hi)


def conv2d(x, w, b, pad, stride=1):
    n, c, h, wd = x.shape
    m, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh = (h + 2 * pad - kh) // stride + 1
    ow = (wd + 2 * pad - kw) // stride + 1
    cols = np.zeros((n, c * kh * kw, oh * ow), dtype=np.float64)
    i = 0
    for ch in range(c):
        for ky in range(kh):
            for kx in range(kw):
                cols[:, i, :] = xp[:, ch, ky:ky + stride * oh:stride,
                                   kx:kx + stride * ow:stride].reshape(n, -1)
                i += 1
    y = np.einsum('mk,nkp->nmp', w.reshape(m, -1).astype(np.float64), cols)
    return (y + b.reshape(1, m, 1)).reshape(n, m, oh, ow).astype(np.float32)


class G:
    def __init__(self):
        self.nodes, self.inits, self.k = [], [], 0

    def name(self, p):
        self.k += 1
        return f"{p}{self.k}"

    def init(self, arr, p="c"):
        n = self.name(p)
        self.inits.append(numpy_helper.from_array(arr, n))
        return n

    def node(self, op, ins, **attrs):
        out = self.name(op.lower() + "_")
        self.nodes.append(helper.make_node(op, ins, [out], name=out, **attrs))
        return out

    def qdq(self, x, s, z, signed):
        """QuantizeLinear then DequantizeLinear; returns (q name, dq name)."""
        zt = np.array(z, dtype=np.int8 if signed else np.uint8)
        sn, zn = self.init(np.array(s, np.float32)), self.init(zt)
        qn = self.node("QuantizeLinear", [x, sn, zn])
        return qn, self.node("DequantizeLinear", [qn, sn, zn])

    def qweight(self, w):
        """int8 per-output-channel weights behind a DequantizeLinear(axis 0)."""
        m = w.shape[0]
        s = (np.abs(w.reshape(m, -1)).max(axis=1) / 127.0 + 1e-8).astype(np.float32)
        qw = np.clip(np.rint(w / s.reshape((m,) + (1,) * (w.ndim - 1))), -127, 127)
        qw = qw.astype(np.int8)
        dq = self.node("DequantizeLinear", [self.init(qw, "w"), self.init(s),
                                            self.init(np.zeros(m, np.int8))], axis=0)
        return dq, (qw.astype(np.float32) * s.reshape((m,) + (1,) * (w.ndim - 1)))


def save(g, name, x_shape, y_name, y_shape, where=HERE):
    graph = helper.make_graph(
        g.nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
        [helper.make_tensor_value_info(y_name, TensorProto.FLOAT, y_shape)], g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(where, name + ".onnx"))


def make_q_cnn():
    g = G()
    x = rng.standard_normal((1, 3, 12, 12)).astype(np.float32)
    s0, z0 = 0.03, 128
    _, d = g.qdq("x", s0, z0, False)
    xq = (q(x, s0, z0, 0, 255) - z0) * np.float32(s0)
    # conv 1: 3 -> 16, 3x3 pad 1, Relu; uint8 out
    w1 = rng.standard_normal((16, 3, 3, 3)).astype(np.float32) * 0.3
    b1 = rng.standard_normal(16).astype(np.float32) * 0.1
    wd, w1f = g.qweight(w1)
    c = g.node("Conv", [d, wd, g.init(b1)], pads=[1, 1, 1, 1])
    r = g.node("Relu", [c])
    s1, z1 = 0.05, 3
    _, d = g.qdq(r, s1, z1, False)
    y = np.maximum(conv2d(xq, w1f, b1, 1), 0)
    y = (q(y, s1, z1, 0, 255) - z1) * np.float32(s1)
    # maxpool 2x2, requantized with the same parameters (as PyTorch exports it)
    mp = g.node("MaxPool", [d], kernel_shape=[2, 2], strides=[2, 2])
    _, d = g.qdq(mp, 0.05, -2, True)  # int8 activations into conv 2
    y = y.reshape(1, 16, 6, 2, 6, 2).max(axis=(3, 5))
    y = (q(y, 0.05, -2, -128, 127) + 2) * np.float32(0.05)
    # conv 2: 16 -> 24, 3x3 stride 2 pad 1, no Relu, int8 out
    w2 = rng.standard_normal((24, 16, 3, 3)).astype(np.float32) * 0.1
    b2 = rng.standard_normal(24).astype(np.float32) * 0.1
    wd, w2f = g.qweight(w2)
    c = g.node("Conv", [d, wd, g.init(b2)], pads=[1, 1, 1, 1], strides=[2, 2])
    s2, z2 = 0.04, 5
    _, d = g.qdq(c, s2, z2, True)
    y = conv2d(y, w2f, b2, 1, 2)
    y = (q(y, s2, z2, -128, 127) - z2) * np.float32(s2)
    # 1x1 conv 24 -> 8 with Relu (the no-im2col path)
    w3 = rng.standard_normal((8, 24, 1, 1)).astype(np.float32) * 0.2
    b3 = np.zeros(8, np.float32)
    wd, w3f = g.qweight(w3)
    c = g.node("Conv", [d, wd, g.init(b3)])
    r = g.node("Relu", [c])
    s3, z3 = 0.02, 0
    _, d = g.qdq(r, s3, z3, False)
    y = np.maximum(conv2d(y, w3f, b3, 0), 0)
    y = (q(y, s3, z3, 0, 255) - z3) * np.float32(s3)
    # flatten -> Gemm(transB=1) 72 -> 10
    f = g.node("Flatten", [d], axis=1)
    w4 = rng.standard_normal((10, 72)).astype(np.float32) * 0.2
    b4 = rng.standard_normal(10).astype(np.float32) * 0.1
    wd, w4f = g.qweight(w4)
    gm = g.node("Gemm", [f, wd, g.init(b4)], transB=1)
    s4, z4 = 0.05, 128
    _, out = g.qdq(gm, s4, z4, False)
    y = y.reshape(1, -1).astype(np.float64) @ w4f.T.astype(np.float64) + b4
    y = (q(y.astype(np.float32), s4, z4, 0, 255) - z4) * np.float32(s4)
    save(g, "q_cnn", [1, 3, 12, 12], out, [1, 10])
    np.save(os.path.join(HERE, "q_cnn_x.npy"), x)
    np.save(os.path.join(HERE, "q_cnn_y.npy"), y.astype(np.float32))


def sparse(shape, zeros):
    """exactly round(zeros * size) zero weights, at random places"""
    w = rng.standard_normal(shape).astype(np.float32)
    w.reshape(-1)[rng.permutation(w.size)[:int(round(zeros * w.size))]] = 0.0
    return w


def make_sp_mlp(rows, stem):
    """rows < 8 runs the gather kernel, rows >= 8 the transposed one."""
    g = G()
    w1, b1 = sparse((48, 40), 0.93), rng.standard_normal(48).astype(np.float32)
    w2, b2 = sparse((48, 12), 0.92), rng.standard_normal(12).astype(np.float32)
    h = g.node("Gemm", ["x", g.init(w1), g.init(b1)], transB=1)
    r = g.node("Relu", [h])
    m = g.node("MatMul", [r, g.init(w2)])
    out = g.node("Add", [m, g.init(b2)])
    x = rng.standard_normal((rows, 40)).astype(np.float32)
    y = np.maximum(x.astype(np.float64) @ w1.T + b1, 0) @ w2 + b2
    save(g, stem, [rows, 40], out, [rows, 12])
    np.save(os.path.join(HERE, stem + "_x.npy"), x)
    np.save(os.path.join(HERE, stem + "_y.npy"), y.astype(np.float32))


def make_sp_conv():
    g = G()
    w, b = sparse((20, 16, 1, 1), 0.95), rng.standard_normal(20).astype(np.float32)
    c = g.node("Conv", ["x", g.init(w), g.init(b)])
    out = g.node("Relu", [c])
    x = rng.standard_normal((2, 16, 5, 7)).astype(np.float32)
    y = np.maximum(conv2d(x, w, b, 0), 0)
    save(g, "sp_conv", [2, 16, 5, 7], out, [2, 20, 5, 7])
    np.save(os.path.join(HERE, "sp_conv_x.npy"), x)
    np.save(os.path.join(HERE, "sp_conv_y.npy"), y.astype(np.float32))


def make_q_chain():
    """PyTorch's QDQ export layout: the MaxPool and the Flatten sit between a QuantizeLinear
    and the next DequantizeLinear (on the integers), so every activation between the fused
    nodes can stay 8-bit: Conv 2->8 (10x10, pad 1) -> Relu -> Q(u8) -> MaxPool -> DQ ->
    Conv 8->8 (5x5, pad 1, dilation... no: 3x3, int8 activations) -> Relu -> Q(i8) -> MaxPool
    -> Flatten -> DQ -> Gemm 32 -> 6 -> Q(u8) -> DQ."""
    g = G()
    x = rng.standard_normal((1, 2, 10, 10)).astype(np.float32)
    s0, z0 = 0.03, 120
    _, d = g.qdq("x", s0, z0, False)
    y = (q(x, s0, z0, 0, 255) - z0) * np.float32(s0)
    w1 = rng.standard_normal((8, 2, 3, 3)).astype(np.float32) * 0.3
    b1 = rng.standard_normal(8).astype(np.float32) * 0.1
    wd, w1f = g.qweight(w1)
    r = g.node("Relu", [g.node("Conv", [d, wd, g.init(b1)], pads=[1, 1, 1, 1])])
    s1, z1 = 0.04, 2
    qn, _ = g.qdq(r, s1, z1, False)
    g.nodes.pop()  # the DequantizeLinear comes after the pool
    yq = q(np.maximum(conv2d(y, w1f, b1, 1), 0), s1, z1, 0, 255)
    mp = g.node("MaxPool", [qn], kernel_shape=[2, 2], strides=[2, 2])
    sn, zn = g.init(np.array(s1, np.float32)), g.init(np.array(z1, np.uint8))
    d = g.node("DequantizeLinear", [mp, sn, zn])
    y = (yq.reshape(1, 8, 5, 2, 5, 2).max(axis=(3, 5)) - z1) * np.float32(s1)
    w2 = rng.standard_normal((8, 8, 3, 3)).astype(np.float32) * 0.15
    b2 = rng.standard_normal(8).astype(np.float32) * 0.1
    wd, w2f = g.qweight(w2)
    r = g.node("Relu", [g.node("Conv", [d, wd, g.init(b2)], pads=[1, 1, 1, 1])])
    s2, z2 = 0.03, -100
    qn, _ = g.qdq(r, s2, z2, True)
    g.nodes.pop()
    yq = q(np.maximum(conv2d(y, w2f, b2, 1), 0), s2, z2, -128, 127)
    mp = g.node("MaxPool", [qn], kernel_shape=[2, 2], strides=[2, 2])  # 5x5 -> 2x2
    f = g.node("Flatten", [mp], axis=1)
    sn, zn = g.init(np.array(s2, np.float32)), g.init(np.array(z2, np.int8))
    d = g.node("DequantizeLinear", [f, sn, zn])
    y = (yq[:, :, :4, :4].reshape(1, 8, 2, 2, 2, 2).max(axis=(3, 5)) - z2) * np.float32(s2)
    w3 = rng.standard_normal((6, 32)).astype(np.float32) * 0.2
    b3 = rng.standard_normal(6).astype(np.float32) * 0.1
    wd, w3f = g.qweight(w3)
    gm = g.node("Gemm", [d, wd, g.init(b3)], transB=1)
    s3, z3 = 0.05, 128
    _, out = g.qdq(gm, s3, z3, False)
    y = y.reshape(1, -1).astype(np.float64) @ w3f.T.astype(np.float64) + b3
    y = (q(y.astype(np.float32), s3, z3, 0, 255) - z3) * np.float32(s3)
    save(g, "q_chain", [1, 2, 10, 10], out, [1, 6])
    np.save(os.path.join(HERE, "q_chain_x.npy"), x)
    np.save(os.path.join(HERE, "q_chain_y.npy"), y.astype(np.float32))


def make_bench(where):
    """conv-heavy: 3x32x32 -> 32 -> 64 -> 64 (stride 2) -> 128 -> 128, 3x3 convs, Relu."""
    gq, gf = G(), G()
    chans = [(3, 32, 1), (32, 64, 1), (64, 64, 2), (64, 128, 1), (128, 128, 1)]
    _, dq = gq.qdq("x", 0.02, 128, False)
    df = "x"
    for cin, cout, st in chans:
        w = rng.standard_normal((cout, cin, 3, 3)).astype(np.float32) * (2.0 / (9 * cin)) ** 0.5
        b = rng.standard_normal(cout).astype(np.float32) * 0.05
        wd, wf = gq.qweight(w)
        c = gq.node("Conv", [dq, wd, gq.init(b)], pads=[1, 1, 1, 1], strides=[st, st])
        r = gq.node("Relu", [c])
        _, dq = gq.qdq(r, 0.02, 0, False)
        c = gf.node("Conv", [df, gf.init(wf), gf.init(b)], pads=[1, 1, 1, 1], strides=[st, st])
        df = gf.node("Relu", [c])
    pq = gq.node("GlobalAveragePool", [dq])
    pf = gf.node("GlobalAveragePool", [df])
    save(gq, "qbench_int8", [1, 3, 32, 32], pq, [1, 128, 1, 1], where)
    save(gf, "qbench_fp32", [1, 3, 32, 32], pf, [1, 128, 1, 1], where)


if __name__ == "__main__":
    import sys
    if len(sys.argv) == 3 and sys.argv[1] == "--bench":
        make_bench(sys.argv[2])
        sys.exit(0)
    make_q_cnn()
    make_sp_mlp(5, "sp_mlp")
    make_sp_mlp(9, "sp_mlp9")
    make_sp_conv()
    make_q_chain()  # last: the models above keep their random draws
