results.csv's backend_plan column says how each backend ran each model, as it decided at open,
so two rows that differ in speed also say whether they ran the same code.  ref: the kernel set
(EDGEBENCH_REF_ISA pins it here, so the line does not depend on this CPU), the threads of its
pool, the nodes that run and those merged into others at open, and every node whose kernel
depends on its weights: int8 QDQ chains, dynamic quantization, sparse weights (the 95%-pruned
MLP is over the 0.9 threshold, the 80% one is not).  xnnpack: its runtimes, XNNPACK nodes (how
many int8) and the ONNX nodes run as the plugin's copies between runtimes.  Worker runtimes:
their name and version, then the settings the worker reports.

  $ cd $ROOT
  $ EDGEBENCH_REF_ISA=portable $EDGEBENCH run tests/cli/scenarios/plan.lua --out $CRAMTMP/p -q
  $ /usr/bin/python3 tests/cli/csvcol.py $CRAMTMP/p/results.csv variant backend status backend_plan | awk -F'\t' '$2 == "ref" || $2 == "xnnpack"' | tr '\t' '|'
  cnn|ref|ok|isa=portable threads=2 nodes=7 merged=3
  cnn|xnnpack|ok|runtimes=1 nodes=7 qs8=0 sparse=off
  cnn_int8|ref|ok|isa=portable threads=2 nodes=5 merged=15; Conv[int8] x2, Gemm[int8] x2
  cnn_int8|xnnpack|ok|runtimes=1 nodes=13 qs8=6 sparse=off
  mlp_int8_dyn|ref|ok|isa=portable threads=2 nodes=3 merged=18; MatMulInteger[dyn] x3
  mlp_int8_dyn|xnnpack|unsupported|
  mlp_pruned80|ref|ok|isa=portable threads=2 nodes=4 merged=2
  mlp_pruned80|xnnpack|ok|runtimes=1 nodes=4 qs8=0 sparse=off
  mlp_pruned95|ref|ok|isa=portable threads=2 nodes=4 merged=2; Gemm[sparse] x2
  mlp_pruned95|xnnpack|ok|runtimes=1 nodes=4 qs8=0 sparse=off
  shuffle_block|ref|ok|isa=portable threads=2 nodes=9 merged=0
  shuffle_block|xnnpack|ok|runtimes=2 nodes=3 qs8=0 sparse=off; glue: Concat x2, Split x1
  $ /usr/bin/python3 tests/cli/csvcol.py $CRAMTMP/p/results.csv backend status backend_plan | awk -F'\t' '$1 == "onnxruntime" {print $2, $3}' | sort -u
  ok onnxruntime 1.*; cpu EP, graph optimization all, intra-op threads 2, spin 1 (re)
  $ /usr/bin/python3 tests/cli/csvcol.py $CRAMTMP/p/results.csv variant backend status backend_plan | awk -F'\t' '$2 == "pytorch" {print $1, $3, $4}'
  cnn ok pytorch 1.*; TorchScript cnn.pt, frozen \+ optimize_for_inference, quantized engine [a-z]+, intra-op threads 2 (re)
  cnn_int8 ok pytorch 1.*; TorchScript cnn_int8.pt, frozen \+ optimize_for_inference, quantized engine [a-z]+, intra-op threads 2 (re)
  mlp_int8_dyn ok pytorch 1.*; TorchScript mlp_int8_dyn.pt, frozen \+ optimize_for_inference, quantized engine [a-z]+, intra-op threads 2 (re)
  mlp_pruned80 ok pytorch 1.*; TorchScript mlp_pruned80.pt, frozen \+ optimize_for_inference, quantized engine [a-z]+, intra-op threads 2 (re)
  mlp_pruned95 ok pytorch 1.*; TorchScript mlp_pruned95.pt, frozen \+ optimize_for_inference, quantized engine [a-z]+, intra-op threads 2 (re)
  shuffle_block unsupported 

Options that change the plan show in it: a threshold above 1 turns sparse kernels off, and
xnnpack's sparse option is named.

  $ EDGEBENCH_REF_ISA=portable $EDGEBENCH run tests/cli/scenarios/plan.lua --out $CRAMTMP/q -q --set sparse_threshold=2 --set xnn_sparse=1
  $ /usr/bin/python3 tests/cli/csvcol.py $CRAMTMP/q/results.csv variant backend backend_plan | awk -F'\t' '$1 == "mlp_pruned95" && ($2 == "ref" || $2 == "xnnpack")' | tr '\t' '|'
  mlp_pruned95|ref|isa=portable threads=2 nodes=4 merged=2
  mlp_pruned95|xnnpack|runtimes=1 nodes=4 qs8=0 sparse=on

The HTML report shows each row's plan in its notes cell.

  $ $EDGEBENCH report $CRAMTMP/p --out $CRAMTMP/r > /dev/null
  $ grep -o 'runtimes=2 nodes=3 qs8=0 sparse=off; glue: Concat x2, Split x1' $CRAMTMP/r/index.html
  runtimes=2 nodes=3 qs8=0 sparse=off; glue: Concat x2, Split x1

`edgebench compare` names a trial whose plan changed between the two runs beside its verdict:
here the 95%-pruned MLP lost its sparse kernels on ref (the threshold above 1) and every model
that xnnpack ran went to its sparse mode, so a slowdown there is a change of code, not of the
machine; the trials whose plan stayed the same are not named.

  $ $EDGEBENCH compare $CRAMTMP/p $CRAMTMP/q > $CRAMTMP/cmp.txt; echo "exit $?"
  exit [01] (re)
  $ grep 'ran other code' $CRAMTMP/cmp.txt | grep '/ref '
    mlp_pruned95/ref threads=2: ran other code: 'isa=portable threads=2 nodes=4 merged=2; Gemm[sparse] x2' in base, 'isa=portable threads=2 nodes=4 merged=2' in current
  $ grep 'ran other code' $CRAMTMP/cmp.txt | grep -c '/xnnpack .*sparse=off.* in base, .*sparse=on.* in current'
  5
