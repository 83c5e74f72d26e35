#!/usr/bin/python3
"""Small ONNX graphs for tests/unit/test_xnnpack.c: each exercises one mapping path of the
xnnpack backend (pool padding and ceil_mode, depthwise with a multiplier, standalone
BatchNormalization, broadcast constants in NHWC, Flatten -> Gemm column permutation, Softmax)
plus one it must refuse (Transpose).  The test compares xnnpack with ref on random input.

    /usr/bin/python3 tests/data/xnnpack/make_models.py    # rewrites the .onnx files here
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

# refused: a Transpose XNNPACK's 2022 subgraph API cannot express
write("transpose", [
    helper.make_node("Transpose", ["x"], ["t"], perm=[0, 2, 3, 1]),
    helper.make_node("Relu", ["t"], ["y"]),
], [value("x", [1, 2, 3, 4])], [value("y", None)], [])
