The xnnpack backend's int8 mapping, end to end: cnn_int8's QDQ chains run as XNNPACK signed
8-bit nodes and give ref's logits exactly (agreement 1, max |diff| 0); mlp_int8_dyn needs a
dynamically quantized fully connected the 2022 snapshot lacks: an `unsupported` row with the
reason, and the run still succeeds.

  $ cd $ROOT
  $ $EDGEBENCH run tests/cli/scenarios/xnnpack_int8.lua --out $CRAMTMP/q -q
  $ /usr/bin/python3 tests/cli/csvcol.py $CRAMTMP/q/results.csv variant backend threads status accuracy_top1 agreement_vs_ref max_abs_diff_vs_ref | tr '\t' ' '
  cnn_int8 ref 1 ok 0.920000  
  cnn_int8 ref 2 ok 0.920000  
  cnn_int8 xnnpack 1 ok 0.920000 1.000000 0
  cnn_int8 xnnpack 2 ok 0.920000 1.000000 0
  mlp_int8_dyn ref 1 ok 0.886667  
  mlp_int8_dyn ref 2 ok 0.886667  
  mlp_int8_dyn xnnpack 1 unsupported   
  mlp_int8_dyn xnnpack 2 unsupported   
  $ /usr/bin/python3 tests/cli/csvcol.py $CRAMTMP/q/results.csv backend status error | awk -F'\t' '$2 == "unsupported"' | cut -f3 | sort -u | grep -o "node 'fc0_xq_2' (op DynamicQuantizeLinear): .* no dynamically quantized fully connected, its qd8 operators came in 2023"
  node 'fc0_xq_2' (op DynamicQuantizeLinear): DynamicQuantizeLinear (activations quantized with a scale computed at every run: XNNPACK 0.0~git20220216 has no dynamically quantized fully connected, its qd8 operators came in 2023

`edgebench help xnnpack` names the int8 chains and the sparse modes.

  $ $EDGEBENCH help xnnpack | grep -o "QDQ chains (DequantizeLinear -> Conv/Gemm/MatMul -> \[Relu\] -> QuantizeLinear) as int8"
  QDQ chains (DequantizeLinear -> Conv/Gemm/MatMul -> [Relu] -> QuantizeLinear) as int8
  $ $EDGEBENCH help xnnpack | grep -o "force: call XNNPACK's NCHW rewrite itself"
  force: call XNNPACK's NCHW rewrite itself

Nodes the 2022 subgraph API lacks (Concat, Split, Slice, Transpose, reshapes that move data in
NHWC) split the graph into several XNNPACK runtimes with the plugin's copies between them:

  $ $EDGEBENCH help xnnpack | grep -o "run by the plugin as copies between XNNPACK runtimes (the graph is partitioned)"
  run by the plugin as copies between XNNPACK runtimes (the graph is partitioned)
