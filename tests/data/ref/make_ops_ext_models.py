#!/usr/bin/python3
"""Models for tests/unit/test_ref_ops_ext.c: the recurrent family, Resize/Upsample,
ConvTranspose and N-D/integer pools, on cases ONNX's node suite does not cover
(bidirectional, GRU both ways of linear_before_reset, uneven sequence_lens, groups and
output_padding, 3-D windows with padding...).  Expected outputs come from PyTorch where it
has the same operator (interpolate, conv_transpose, pools) and from plain numpy written from
the ONNX spec otherwise; ref never computes them.

    /usr/bin/python3 tests/data/ref/make_ops_ext_models.py

Each case NAME gives NAME.onnx, NAME_x.npy (the one graph input) and NAME_y0.npy, NAME_y1.npy...
(every graph output, in order).  Fixed seed.
"""
import os

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20240917)


def f32(*shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def save_case(name, node, x, inits, outputs, opset=14, x_type=TensorProto.FLOAT):
    """outputs: list of (name, array)."""
    g = helper.make_graph(
        [node], name,
        [helper.make_tensor_value_info(node.input[0], x_type, list(x.shape))],
        [helper.make_tensor_value_info(n, TensorProto.INT64 if a.dtype == np.int64
                                       else TensorProto.FLOAT, list(a.shape))
         for n, a in outputs],
        [numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)],
                          producer_name="edgebench-tests")
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(OUT, name + ".onnx"))
    np.save(os.path.join(OUT, name + "_x.npy"), x)
    for i, (_, a) in enumerate(outputs):
        np.save(os.path.join(OUT, f"{name}_y{i}.npy"),
                a if a.dtype == np.int64 else a.astype(np.float32))


# ---------------------------------------------------------------- recurrent, numpy (spec)

def sig(v):
    return 1 / (1 + np.exp(-v))


def np_recurrent(kind, x, W, R, B, lens, h0, c0=None, P=None, lbr=0, acts=None, clip=None,
                 directions=("forward",)):
    """ONNX RNN/GRU/LSTM, layout 0.  Returns Y [T, D, N, H], Y_h [D, N, H], Y_c."""
    T, N, _ = x.shape
    H = R.shape[-1]
    D = len(directions)
    Y = np.zeros((T, D, N, H))
    Yh = np.zeros((D, N, H))
    Yc = np.zeros((D, N, H))
    x = x.astype(np.float64)
    for d, dname in enumerate(directions):
        f, g, hf = (acts[d] if acts else (sig, np.tanh, np.tanh))
        cl = (lambda v: np.clip(v, -clip, clip)) if clip else (lambda v: v)
        Wb, Rb = B[d][: B.shape[1] // 2], B[d][B.shape[1] // 2:]
        for n in range(N):
            h = h0[d, n].astype(np.float64)
            c = c0[d, n].astype(np.float64) if c0 is not None else np.zeros(H)
            L = lens[n]
            steps = range(L) if dname == "forward" else range(L - 1, -1, -1)
            for t in steps:
                xt = x[t, n]
                if kind == "rnn":
                    h = f(cl(W[d] @ xt + R[d] @ h + Wb + Rb))
                elif kind == "gru":
                    Wz, Wr, Wh = np.split(W[d], 3)
                    Rz, Rr, Rh = np.split(R[d], 3)
                    wbz, wbr, wbh = np.split(Wb, 3)
                    rbz, rbr, rbh = np.split(Rb, 3)
                    z = f(cl(Wz @ xt + Rz @ h + wbz + rbz))
                    r = f(cl(Wr @ xt + Rr @ h + wbr + rbr))
                    if lbr:
                        hh = g(cl(Wh @ xt + r * (Rh @ h + rbh) + wbh))
                    else:
                        hh = g(cl(Wh @ xt + Rh @ (r * h) + rbh + wbh))
                    h = (1 - z) * hh + z * h
                else:
                    Wi, Wo, Wf, Wc = np.split(W[d], 4)
                    Ri, Ro, Rf, Rc = np.split(R[d], 4)
                    bi, bo, bf, bc = np.split(Wb + Rb, 4)
                    pi, po, pf = np.split(P[d], 3) if P is not None else (0, 0, 0)
                    i = f(cl(Wi @ xt + Ri @ h + pi * c + bi))
                    fg = f(cl(Wf @ xt + Rf @ h + pf * c + bf))
                    cc = g(cl(Wc @ xt + Rc @ h + bc))
                    c = fg * c + i * cc
                    o = f(cl(Wo @ xt + Ro @ h + po * c + bo))
                    h = o * hf(c)
                Y[t, d, n] = h
            Yh[d, n] = h
            Yc[d, n] = c
    return Y, Yh, Yc


def make_recurrent():
    T, N, I, H = 4, 3, 5, 6
    lens = np.array([4, 2, 3], np.int32)
    # LSTM, bidirectional, peepholes, initial states, uneven lengths
    D = 2
    x = f32(T, N, I)
    W, R = f32(D, 4 * H, I, scale=0.5), f32(D, 4 * H, H, scale=0.5)
    B, P = f32(D, 8 * H, scale=0.3), f32(D, 3 * H, scale=0.3)
    h0, c0 = f32(D, N, H), f32(D, N, H)
    Y, Yh, Yc = np_recurrent("lstm", x, W, R, B, lens, h0, c0, P,
                             directions=("forward", "reverse"))
    node = helper.make_node("LSTM", ["x", "W", "R", "B", "sl", "h0", "c0", "P"],
                            ["Y", "Y_h", "Y_c"], hidden_size=H, direction="bidirectional")
    save_case("ext_lstm_bidi", node, x,
              {"W": W, "R": R, "B": B, "sl": lens, "h0": h0, "c0": c0, "P": P},
              [("Y", Y), ("Y_h", Yh), ("Y_c", Yc)])
    # GRU, bidirectional, both linear_before_reset; Y omitted in the second
    W, R, B = f32(D, 3 * H, I, scale=0.5), f32(D, 3 * H, H, scale=0.5), f32(D, 6 * H, scale=0.3)
    h0 = f32(D, N, H)
    for lbr in (0, 1):
        Y, Yh, _ = np_recurrent("gru", x, W, R, B, lens, h0, lbr=lbr,
                                directions=("forward", "reverse"))
        outs = ["Y", "Y_h"] if lbr == 0 else ["", "Y_h"]
        node = helper.make_node("GRU", ["x", "W", "R", "B", "sl", "h0"], outs, hidden_size=H,
                                direction="bidirectional", linear_before_reset=lbr)
        save_case(f"ext_gru_lbr{lbr}", node, x,
                  {"W": W, "R": R, "B": B, "sl": lens, "h0": h0},
                  [("Y", Y), ("Y_h", Yh)] if lbr == 0 else [("Y_h", Yh)])
    # RNN, reverse, Relu activation, clip, full lengths, no initial state
    W, R, B = f32(1, H, I, scale=0.5), f32(1, H, H, scale=0.5), f32(1, 2 * H, scale=0.3)
    relu = lambda v: np.maximum(v, 0)  # noqa: E731
    Y, Yh, _ = np_recurrent("rnn", x, W, R, B, [T] * N, np.zeros((1, N, H)),
                            acts=[(relu, None, None)], clip=1.5, directions=("reverse",))
    node = helper.make_node("RNN", ["x", "W", "R", "B"], ["Y", "Y_h"], hidden_size=H,
                            direction="reverse", activations=["Relu"], clip=1.5)
    save_case("ext_rnn_reverse", node, x, {"W": W, "R": R, "B": B}, [("Y", Y), ("Y_h", Yh)])


# ---------------------------------------------------------------- resize (PyTorch)

def make_resize():
    x = f32(1, 2, 3, 5)
    t = torch.from_numpy(x)
    roi = np.zeros(0, np.float32)
    # bilinear x2, half_pixel  ==  interpolate(bilinear, align_corners=False)
    y = F.interpolate(t, scale_factor=(2, 2), mode="bilinear", align_corners=False).numpy()
    node = helper.make_node("Resize", ["x", "roi", "scales"], ["y"], mode="linear")
    save_case("ext_resize_linear", node, x,
              {"roi": roi, "scales": np.array([1, 1, 2, 2], np.float32)}, [("y", y)], opset=13)
    # bilinear to sizes, align_corners
    y = F.interpolate(t, size=(4, 7), mode="bilinear", align_corners=True).numpy()
    node = helper.make_node("Resize", ["x", "roi", "", "sizes"], ["y"], mode="linear",
                            coordinate_transformation_mode="align_corners")
    save_case("ext_resize_align", node, x,
              {"roi": roi, "sizes": np.array([1, 2, 4, 7], np.int64)}, [("y", y)], opset=13)
    # bicubic x2 (A = -0.75, half_pixel)
    y = F.interpolate(t, scale_factor=(2, 2), mode="bicubic", align_corners=False).numpy()
    node = helper.make_node("Resize", ["x", "roi", "scales"], ["y"], mode="cubic")
    save_case("ext_resize_cubic", node, x,
              {"roi": roi, "scales": np.array([1, 1, 2, 2], np.float32)}, [("y", y)], opset=13)
    # Upsample-9 nearest x3 in both axes == interpolate(nearest)
    y = F.interpolate(t, scale_factor=(3, 2), mode="nearest").numpy()
    node = helper.make_node("Upsample", ["x", "scales"], ["y"], mode="nearest")
    save_case("ext_upsample", node, x, {"scales": np.array([1, 1, 3, 2], np.float32)},
              [("y", y)], opset=9)


# ---------------------------------------------------------------- ConvTranspose (PyTorch)

def make_convtranspose():
    x = f32(2, 4, 3, 5)
    w = f32(4, 3, 3, 2)  # groups 2: C=4, M = 3*2 = 6
    b = f32(6)
    y = F.conv_transpose2d(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b),
                           stride=(2, 3), padding=(1, 0), output_padding=(1, 2), groups=2,
                           dilation=(2, 1)).numpy()
    node = helper.make_node("ConvTranspose", ["x", "w", "b"], ["y"], group=2, strides=[2, 3],
                            pads=[1, 0, 1, 0], output_padding=[1, 2], dilations=[2, 1])
    save_case("ext_convt2d", node, x, {"w": w, "b": b}, [("y", y)], opset=13)
    x = f32(1, 2, 3, 4, 3)
    w = f32(2, 3, 2, 3, 2)
    y = F.conv_transpose3d(torch.from_numpy(x), torch.from_numpy(w), stride=2, padding=1).numpy()
    node = helper.make_node("ConvTranspose", ["x", "w"], ["y"], strides=[2, 2, 2],
                            pads=[1, 1, 1, 1, 1, 1])
    save_case("ext_convt3d", node, x, {"w": w}, [("y", y)], opset=13)


# ---------------------------------------------------------------- pools (PyTorch)

def make_pools():
    x = f32(1, 2, 5, 6, 7)
    t = torch.from_numpy(x)
    y = F.max_pool3d(t, kernel_size=(3, 2, 3), stride=(2, 2, 2), padding=(1, 1, 0),
                     dilation=(1, 2, 1)).numpy()
    node = helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[3, 2, 3], strides=[2, 2, 2],
                            pads=[1, 1, 0, 1, 1, 0], dilations=[1, 2, 1])
    save_case("ext_maxpool3d", node, x, {}, [("y", y)], opset=12)
    y = F.avg_pool3d(t, kernel_size=3, stride=2, padding=1, count_include_pad=True,
                     ceil_mode=True).numpy()
    node = helper.make_node("AveragePool", ["x"], ["y"], kernel_shape=[3, 3, 3],
                            strides=[2, 2, 2], pads=[1, 1, 1, 1, 1, 1], count_include_pad=1,
                            ceil_mode=1)
    save_case("ext_avgpool3d", node, x, {}, [("y", y)], opset=12)
    # MaxPool on integers, with Indices
    xi = rng.integers(-50, 50, size=(1, 2, 5, 4)).astype(np.int64)
    yv, yi = F.max_pool2d(torch.from_numpy(xi.astype(np.float64)), kernel_size=2, stride=1,
                          padding=1, return_indices=True)
    # PyTorch's indices are per (n, c) plane; ONNX's are into the whole tensor
    plane = xi.shape[2] * xi.shape[3]
    yi = yi.numpy() + (np.arange(2) * plane).reshape(1, 2, 1, 1)
    node = helper.make_node("MaxPool", ["x"], ["y", "i"], kernel_shape=[2, 2], pads=[1, 1, 1, 1])
    save_case("ext_maxpool_int", node, xi, {}, [("y", yv.numpy().astype(np.int64)),
                                                ("i", yi.astype(np.int64))],
              opset=12, x_type=TensorProto.INT64)


if __name__ == "__main__":
    make_recurrent()
    make_resize()
    make_convtranspose()
    make_pools()
