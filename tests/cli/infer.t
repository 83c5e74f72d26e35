`infer` runs a model once on NPY inputs and writes NPY outputs.

  $ M=$ROOT/models R=$ROOT/models/reference D=$ROOT/tests/data

  $ $EDGEBENCH infer --backend ref $M/cnn.onnx --input $R/cnn-input.npy --output out.npy
  $ head -c 6 out.npy | od -An -c
   223   N   U   M   P   Y
  $ $EDGEBENCH infer --backend ref $D/ref/mlp.onnx --input $D/ref/mlp_x.npy --output y.npy
  $ /usr/bin/python3 -c "import numpy as n; a, b = n.load('y.npy'), n.load('$D/ref/mlp_y.npy'); print(a.dtype, a.shape, n.allclose(a, b, rtol=1e-4, atol=1e-6))"
  float32 (3, 3) True

An input may be named; without --output, each output is printed.

  $ $EDGEBENCH infer --backend ref $M/cnn.onnx --input input=$R/cnn-input.npy
  logits float32 64x10: * ... (glob)

Without inputs, seeded random values are fed (batch 1), the same in every run.

  $ $EDGEBENCH infer $M/mlp.onnx > a.txt && $EDGEBENCH infer $M/mlp.onnx > b.txt && cmp a.txt b.txt
  $ cut -d: -f1 a.txt
  logits float32 1x10

Wrong inputs are refused with one line naming the file and both shapes, exit 2.

  $ $EDGEBENCH infer --backend ref $M/cnn.onnx --input $D/ref/mlp_x.npy --output o.npy
  edgebench: */tests/data/ref/mlp_x.npy: input 'input' must be float32 3x1x28x28, the file holds float32 3x1x4x4 (glob)
  [2]
  $ $EDGEBENCH infer --backend ref $M/cnn.onnx --input $D/datasets/dtype_f8.npy
  edgebench: */dtype_f8.npy: input 'input' must be float32 *, the file holds float64 1x3 (glob)
  [2]
  $ $EDGEBENCH infer --backend ref $M/cnn.onnx --input nosuch=$R/cnn-input.npy
  edgebench: */cnn-input.npy: the model has no input named 'nosuch' (glob)
  [2]
  $ $EDGEBENCH infer --backend ref $M/cnn.onnx --input $R/cnn-input.npy --input $R/cnn-input.npy
  edgebench: */cnn.onnx: the model has 1 input, 2 given with --input (glob)
  [2]
  $ $EDGEBENCH infer --backend ref $M/cnn.onnx --input $D/datasets/truncated.npy
  edgebench: */truncated.npy: * (glob)
  [2]
  $ $EDGEBENCH infer --backend ref $M/cnn.onnx --input nosuch.npy
  edgebench: nosuch.npy: * (glob)
  [2]

Malformed models are rejected at open with one line, never a crash: garbage, a truncated
file, a cycle, a dangling input, a wrong initializer size, an absurd dimension, an unknown
domain, an operator ref lacks.

  $ for f in garbage truncated cycle dangling init_size absurd_dim domain unsupported_op; do
  >   $EDGEBENCH infer --backend ref $D/ref/bad_$f.onnx > /dev/null 2> err.txt; echo "$f exit $? lines $(wc -l < err.txt)"
  > done
  garbage exit 2 lines 1
  truncated exit 2 lines 1
  cycle exit 2 lines 1
  dangling exit 2 lines 1
  init_size exit 2 lines 1
  absurd_dim exit 2 lines 1
  domain exit 2 lines 1
  unsupported_op exit 2 lines 1
  $ $EDGEBENCH infer --backend ref $D/ref/bad_unsupported_op.onnx
  edgebench: */bad_unsupported_op.onnx: node 'Det_3' (op Det): operator not supported by ref (`edgebench help ref` lists the operators it runs) (glob)
  [2]
  $ $EDGEBENCH infer --backend ref $D/ref/bad_garbage.onnx
  edgebench: */bad_garbage.onnx: not a valid ONNX file (truncated or not protobuf); re-export or re-download the model (glob)
  [2]
  $ $EDGEBENCH infer --backend ref nosuch.onnx
  edgebench: nosuch.onnx: * (glob)
  [2]

Usage errors.

  $ $EDGEBENCH infer
  edgebench: infer: which model? usage: edgebench infer --backend NAME MODEL --input X.npy --output Y.npy
  [2]
  $ $EDGEBENCH infer --backend nosuch $M/cnn.onnx
  edgebench: infer: unknown backend 'nosuch' (known: ref, mock, onnxruntime, pytorch, worker, xnnpack)
  [2]
  $ $EDGEBENCH infer --backend ref $M/cnn.onnx --input
  edgebench: infer: --input needs a .npy file
  [2]

The mock backend takes its input shape from the input and answers deterministically.

  $ $EDGEBENCH infer --backend mock --set latency_ms=0 --set classes=4 none --input $D/datasets/tiny_x.npy
  scores float32 4x4: * (glob)
