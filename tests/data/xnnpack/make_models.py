#!/usr/bin/python3
"""Small ONNX graphs for tests/unit/test_xnnpack.c: each exercises one mapping path of the
xnnpack backend (pool padding and ceil_mode, depthwise with a multiplier, standalone
BatchNormalization, broadcast constants in NHWC, Flatten -> Gemm column permutation, Softmax,
an int8 QDQ graph, the sparse-inference graph shape) Split/Concat/Slice/Transpose
and a channel shuffle run between partitions, plus ones it must refuse (Tanh, a
uint8 graph output).  The test compares xnnpack with ref on random input.

    /usr/bin/python3 tests/data/xnnpack/make_models.py              # rewrites the .onnx files here
    /usr/bin/python3 tests/data/xnnpack/make_models.py --bench DIR  # also 112x112 sparse CNNs in DIR
"""
import os

import numpy as np
from onnx import TensorProto, helper, save

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(7)


def init(name, shape):
    a = rng.standard_normal(shape).astype(np.float32)
    return helper.make_tensor(name, TensorProto.FLOAT, shape, a.flatten().tolist())


def value(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def write(name, nodes, inputs, outputs, inits):
    g = helper.make_graph(nodes, name, inputs, outputs, inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 7
    save(m, os.path.join(HERE, name + ".onnx"))


# pools: padding excluded and included in averages, ceil_mode in MaxPool; 4-D outputs
write("pools", [
    helper.make_node("AveragePool", ["x"], ["avg_ex"], kernel_shape=[3, 3], strides=[2, 2],
                     pads=[1, 1, 1, 1]),
    helper.make_node("AveragePool", ["x"], ["avg_in"], kernel_shape=[3, 3], strides=[2, 2],
                     pads=[1, 0, 1, 2], count_include_pad=1),
    helper.make_node("MaxPool", ["x"], ["max_ceil"], kernel_shape=[3, 3], strides=[2, 2],
                     ceil_mode=1),
], [value("x", [1, 4, 10, 10])],
   [value("avg_ex", None), value("avg_in", None), value("max_ceil", None)], [])

# misc: depthwise conv with multiplier 2 -> BN (folded) -> Clip; broadcast Mul/Add with
# [C,1,W] constants (permuted to NHWC); standalone BN -> Relu; GlobalAveragePool -> Flatten -> Softmax
write("misc", [
    helper.make_node("Conv", ["x", "dw_w", "dw_b"], ["dw"], group=3, pads=[1, 1, 1, 1]),
    helper.make_node("BatchNormalization", ["dw", "g6", "b6", "m6", "v6"], ["dw_bn"]),
    helper.make_node("Clip", ["dw_bn", "lo", "hi"], ["dw_out"]),
    helper.make_node("Mul", ["x", "k3"], ["xm"]),
    helper.make_node("Add", ["xm", "one"], ["xa"]),
    helper.make_node("BatchNormalization", ["xa", "g3", "b3", "m3", "v3"], ["xbn"]),
    helper.make_node("Relu", ["xbn"], ["xr"]),
    helper.make_node("GlobalAveragePool", ["xr"], ["gap"]),
    helper.make_node("Flatten", ["gap"], ["flat"]),
    helper.make_node("Softmax", ["flat"], ["prob"]),
], [value("x", [2, 3, 7, 6])], [value("dw_out", None), value("prob", None)], [
    init("dw_w", [6, 1, 3, 3]), init("dw_b", [6]),
    init("g6", [6]), init("b6", [6]), init("m6", [6]),
    helper.make_tensor("v6", TensorProto.FLOAT, [6], (rng.random(6) + 0.5).tolist()),
    helper.make_tensor("lo", TensorProto.FLOAT, [], [-0.5]),
    helper.make_tensor("hi", TensorProto.FLOAT, [], [0.75]),
    init("k3", [3, 1, 6]), helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0]),
    init("g3", [3]), init("b3", [3]), init("m3", [3]),
    helper.make_tensor("v3", TensorProto.FLOAT, [3], (rng.random(3) + 0.5).tolist()),
])

# flatten: grouped conv (group 2) -> Flatten of C=4, 5x5 -> Gemm with transB=0, alpha, beta
write("flatten", [
    helper.make_node("Conv", ["x", "w"], ["c"], group=2, strides=[2, 2], pads=[1, 1, 1, 1]),
    helper.make_node("Flatten", ["c"], ["f"]),
    helper.make_node("Gemm", ["f", "B", "C"], ["y"], alpha=0.5, beta=2.0),
], [value("x", [3, 4, 9, 9])], [value("y", None)],
   [init("w", [4, 2, 3, 3]), init("B", [100, 7]), init("C", [7])])

# (their own random stream, so the models after them stay as they were)
rng_main, rng = rng, np.random.default_rng(11)

# partitioned: nodes the 2022 subgraph API lacks run as plugin copies between XNNPACK runtimes.
# split_concat: Conv -> Split (channels, in NHWC) -> one half through a Conv -> Concat -> Conv
write("split_concat", [
    helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
    helper.make_node("Relu", ["c1"], ["r1"]),
    helper.make_node("Split", ["r1"], ["s0", "s1"], axis=1),
    helper.make_node("Conv", ["s1", "w2"], ["c2"]),
    helper.make_node("Concat", ["s0", "c2", "r1"], ["cat"], axis=1),
    helper.make_node("Conv", ["cat", "w3"], ["y"], strides=[2, 2]),
], [value("x", [2, 3, 6, 5])], [value("y", None)],
   [init("w1", [8, 3, 3, 3]), init("b1", [8]), init("w2", [4, 4, 1, 1]), init("w3", [5, 16, 1, 1])])

# shuffle: shufflenet's channel shuffle (Reshape -> Transpose -> Reshape), a Slice with a step
# over H, a Transpose to NHWC order as a graph output, a Concat along W, a Flatten of NCHW
write("transpose", [
    helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
    helper.make_node("Reshape", ["c", "shp5"], ["r5"]),
    helper.make_node("Transpose", ["r5"], ["t5"], perm=[0, 2, 1, 3, 4]),
    helper.make_node("Reshape", ["t5", "shp4"], ["shuf"]),
    helper.make_node("Slice", ["shuf", "st", "en", "ax", "sp"], ["sl"]),
    helper.make_node("Relu", ["sl"], ["slr"]),
    helper.make_node("Transpose", ["slr"], ["nhwc"], perm=[0, 2, 3, 1]),
    helper.make_node("Concat", ["shuf", "c"], ["catw"], axis=3),
    helper.make_node("Flatten", ["catw"], ["flat"]),
    helper.make_node("Gemm", ["flat", "B"], ["y"], transB=1),
], [value("x", [2, 3, 5, 4])], [value("nhwc", None), value("y", None)], [
    init("w", [6, 3, 3, 3]),
    helper.make_tensor("shp5", TensorProto.INT64, [5], [2, 2, 3, 5, 4]),
    helper.make_tensor("shp4", TensorProto.INT64, [4], [2, 6, 5, 4]),
    helper.make_tensor("st", TensorProto.INT64, [2], [4, 1]),
    helper.make_tensor("en", TensorProto.INT64, [2], [-100, 6]),
    helper.make_tensor("ax", TensorProto.INT64, [2], [2, 1]),
    helper.make_tensor("sp", TensorProto.INT64, [2], [-2, 2]),
    init("B", [7, 6 * 5 * 8]),
])

# shuffle_block: ShuffleNet's block end, Concat of two branches -> channel shuffle (2 groups),
# which the plugin writes in one pass, then the next block's Split
write("shuffle_block", [
    helper.make_node("Conv", ["x", "wa"], ["a"], pads=[1, 1, 1, 1]),
    helper.make_node("Conv", ["x", "wb"], ["b"]),
    helper.make_node("Concat", ["a", "b"], ["cat"], axis=1),
    helper.make_node("Reshape", ["cat", "shp5"], ["r5"]),
    helper.make_node("Transpose", ["r5"], ["t5"], perm=[0, 2, 1, 3, 4]),
    helper.make_node("Reshape", ["t5", "shp4"], ["shuf"]),
    helper.make_node("Split", ["shuf", "sizes"], ["s0", "s1"], axis=1),
    helper.make_node("Conv", ["s1", "wc"], ["c"]),
    helper.make_node("Concat", ["s0", "c"], ["y"], axis=1),
], [value("x", [2, 3, 5, 6])], [value("y", None)], [
    init("wa", [4, 3, 3, 3]), init("wb", [4, 3, 1, 1]), init("wc", [4, 4, 1, 1]),
    helper.make_tensor("shp5", TensorProto.INT64, [5], [2, 2, 4, 5, 6]),
    helper.make_tensor("shp4", TensorProto.INT64, [4], [2, 8, 5, 6]),
    helper.make_tensor("sizes", TensorProto.INT64, [2], [4, 4]),
])

# refused: an operator that is neither mapped nor data movement
write("refused", [
    helper.make_node("Conv", ["x", "w"], ["c"]),
    helper.make_node("Tanh", ["c"], ["y"]),
], [value("x", [1, 2, 3, 4])], [value("y", None)], [init("w", [2, 2, 1, 1])])
rng = rng_main


# ---- int8 (QDQ): the paths cnn_int8.onnx does not take -------------------------------------

def tensor(name, dtype, a):
    a = np.asarray(a)
    return helper.make_tensor(name, dtype, list(a.shape), a.flatten().tolist())


def qweights(name, w, per_channel, axis=0):
    """int8 symmetric weights of float w: initializers name (int8), name_s, name_z."""
    red = tuple(i for i in range(w.ndim) if i != axis)
    amax = np.abs(w).max(axis=red) if per_channel else np.abs(w).max()
    s = (np.maximum(amax, 1e-6) / 127.0).astype(np.float32)
    sb = s.reshape([-1] + [1] * (w.ndim - 1 - axis)) if per_channel else s
    q = np.clip(np.rint(w / sb), -127, 127).astype(np.int8)
    return (q, s), [tensor(name, TensorProto.INT8, q), tensor(name + "_s", TensorProto.FLOAT, s),
                    tensor(name + "_z", TensorProto.INT8, np.zeros_like(s, dtype=np.int8))]


def qbias(name, b, s_in, s_w):
    s = (np.float32(s_in) * s_w).astype(np.float32)  # one scale, or one per channel
    q = np.rint(b / s).astype(np.int32)
    return [tensor(name, TensorProto.INT32, q), tensor(name + "_s", TensorProto.FLOAT, s),
            tensor(name + "_z", TensorProto.INT32, np.zeros_like(s, dtype=np.int32))]


def scalar(name, dtype, v):
    return helper.make_tensor(name, dtype, [], [v])


# qdq: int8 activations with a zero point (input), a depthwise Conv with per-channel weights
# -> Relu -> uint8 (zero point 10) -> MaxPool, a 1x1 Conv with one weight scale and no Relu
# -> int8 (zero point -5) -> Flatten -> Gemm with one weight scale (XNNPACK's qs8 fully
# connected) -> uint8 (zero point 128) -> float output; the pooled tensor is also read by a
# float Sigmoid (its DequantizeLinear becomes a Convert beside the fused Conv) -> second output.
_dw = rng.standard_normal((6, 1, 3, 3)).astype(np.float32) * 0.5
_pw = rng.standard_normal((8, 6, 1, 1)).astype(np.float32) * 0.4
_fc = rng.standard_normal((5, 128)).astype(np.float32) * 0.1
(_, dw_s), dw_i = qweights("dw_q", _dw, True)
(_, pw_s), pw_i = qweights("pw_q", _pw, False)
(_, fc_s), fc_i = qweights("fc_q", _fc, False)
S0, S1, S2, S3 = 4.0 / 255, 0.02, 0.03, 0.05
write("qdq", [
    helper.make_node("QuantizeLinear", ["x", "s0", "z0"], ["xq"]),
    helper.make_node("DequantizeLinear", ["xq", "s0", "z0"], ["xd"]),
    helper.make_node("DequantizeLinear", ["dw_q", "dw_q_s", "dw_q_z"], ["dw_w"], axis=0),
    helper.make_node("DequantizeLinear", ["dw_b", "dw_b_s", "dw_b_z"], ["dw_bf"], axis=0),
    helper.make_node("Conv", ["xd", "dw_w", "dw_bf"], ["c1"], group=3, pads=[1, 1, 1, 1]),
    helper.make_node("Relu", ["c1"], ["r1"]),
    helper.make_node("QuantizeLinear", ["r1", "s1", "z1"], ["q1"]),
    helper.make_node("MaxPool", ["q1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
    helper.make_node("DequantizeLinear", ["p1", "s1", "z1"], ["d1"]),
    helper.make_node("DequantizeLinear", ["pw_q", "pw_q_s", "pw_q_z"], ["pw_w"]),
    helper.make_node("DequantizeLinear", ["pw_b", "pw_b_s", "pw_b_z"], ["pw_bf"]),
    helper.make_node("Conv", ["d1", "pw_w", "pw_bf"], ["c2"]),
    helper.make_node("QuantizeLinear", ["c2", "s2", "z2"], ["q2"]),
    helper.make_node("Flatten", ["q2"], ["f2"]),
    helper.make_node("DequantizeLinear", ["f2", "s2", "z2"], ["d2"]),
    helper.make_node("DequantizeLinear", ["fc_q", "fc_q_s", "fc_q_z"], ["fc_w"]),
    helper.make_node("DequantizeLinear", ["fc_b", "fc_b_s", "fc_b_z"], ["fc_bf"]),
    helper.make_node("Gemm", ["d2", "fc_w", "fc_bf"], ["g3"], transB=1),
    helper.make_node("QuantizeLinear", ["g3", "s3", "z3"], ["q3"]),
    helper.make_node("DequantizeLinear", ["q3", "s3", "z3"], ["y"]),
    helper.make_node("Sigmoid", ["d1"], ["sg"]),
    helper.make_node("GlobalAveragePool", ["sg"], ["side"]),
], [value("x", [2, 3, 8, 8])], [value("y", None), value("side", None)],
   dw_i + pw_i + fc_i
   + qbias("dw_b", rng.standard_normal(6).astype(np.float32) * 0.2, S0, dw_s)
   + qbias("pw_b", rng.standard_normal(8).astype(np.float32) * 0.2, S1, pw_s)
   + qbias("fc_b", rng.standard_normal(5).astype(np.float32) * 0.2, S2, fc_s)
   + [scalar("s0", TensorProto.FLOAT, S0), scalar("z0", TensorProto.INT8, 3),
      scalar("s1", TensorProto.FLOAT, S1), scalar("z1", TensorProto.UINT8, 10),
      scalar("s2", TensorProto.FLOAT, S2), scalar("z2", TensorProto.INT8, -5),
      scalar("s3", TensorProto.FLOAT, S3), scalar("z3", TensorProto.UINT8, 128)])

# refused: a quantized (uint8) graph output; xnnpack hands out float32
write("qdq_out", [
    helper.make_node("QuantizeLinear", ["x", "s", "z"], ["y"]),
], [value("x", [1, 4])], [helper.make_tensor_value_info("y", TensorProto.UINT8, None)],
   [scalar("s", TensorProto.FLOAT, 0.1), scalar("z", TensorProto.UINT8, 7)])


# ---- sparse: the one graph shape XNN_FLAG_SPARSE_INFERENCE runs in NCHW ---------------------
# A 3x3 stride-2 pad-1 Conv over 3 input channels (the NHWC -> NCHW entry), 1x1 Convs (stride
# 1, no pad, no groups) whose weights are more than 2/3 zeros, Relus, then GlobalAveragePool
# (the NCHW -> NHWC exit) -> Flatten -> Gemm.  sparse.onnx is small, for the test that
# sparse=1 gives the same outputs; `--bench DIR` writes 112x112, 64-channel ones at 0, 80 and
# 95% zeros for the README's measurement.
def sparse_cnn(name, hw, ch, layers, zeros, out_dir=HERE):
    r = np.random.default_rng(11)
    nodes, inits, x = [], [], "x"
    w0 = (r.standard_normal((ch, 3, 3, 3)) * 0.3).astype(np.float32)
    inits += [tensor("w0", TensorProto.FLOAT, w0),
              tensor("b0", TensorProto.FLOAT, (r.standard_normal(ch) * 0.1).astype(np.float32))]
    nodes += [helper.make_node("Conv", ["x", "w0", "b0"], ["c0"], strides=[2, 2],
                               pads=[1, 1, 1, 1]),
              helper.make_node("Relu", ["c0"], ["a0"])]
    x = "a0"
    for i in range(1, layers + 1):
        w = (r.standard_normal((ch, ch, 1, 1)) / np.sqrt(ch)).astype(np.float32)
        w[r.random(w.shape) < zeros] = 0.0
        inits += [tensor(f"w{i}", TensorProto.FLOAT, w),
                  tensor(f"b{i}", TensorProto.FLOAT, (r.standard_normal(ch) * 0.1).astype(np.float32))]
        nodes += [helper.make_node("Conv", [x, f"w{i}", f"b{i}"], [f"c{i}"]),
                  helper.make_node("Relu", [f"c{i}"], [f"a{i}"])]
        x = f"a{i}"
    inits += [tensor("fw", TensorProto.FLOAT, (r.standard_normal((ch, 10)) * 0.1).astype(np.float32)),
              tensor("fb", TensorProto.FLOAT, np.zeros(10, np.float32))]
    nodes += [helper.make_node("GlobalAveragePool", [x], ["gap"]),
              helper.make_node("Flatten", ["gap"], ["flat"]),
              helper.make_node("Gemm", ["flat", "fw", "fb"], ["y"])]
    g = helper.make_graph(nodes, name, [value("x", [1, 3, hw, hw])], [value("y", None)], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 7
    save(m, os.path.join(out_dir, name + ".onnx"))


sparse_cnn("sparse", 16, 16, 2, 0.9)

if __name__ == "__main__":
    import sys
    if len(sys.argv) == 3 and sys.argv[1] == "--bench":
        for z in (0, 80, 95):
            sparse_cnn(f"sparse_cnn{z}", 112, 64, 4, z / 100.0, sys.argv[2])
