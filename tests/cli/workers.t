Backends beyond the built-in engine: plugins loaded with dlopen, and runtimes in worker
processes (backends/worker/PROTOCOL.md).

  $ unset EDGEBENCH_TORCHSCRIPT_DIR  # the lookup below is the default one
  $ S=$ROOT/tests/cli/scenarios
  $ col() { python3 $ROOT/tests/cli/csvcol.py "$@"; }

ONNX Runtime (node + onnxruntime-node) and PyTorch (python3) are available on this machine.

  $ $EDGEBENCH backends | grep -E '^(onnxruntime|pytorch|worker) ' | cut -c1-36
  onnxruntime  onnx     yes        ONN
  pytorch      onnx     yes        PyT
  worker       any      yes        any

  $ $EDGEBENCH help onnxruntime | grep -E '^  (profile|spin|run_timeout) '
    profile        bool    default 0        * (glob)
    spin           bool    default 1        * (glob)
    run_timeout    float   default 60       * (glob)

  $ $EDGEBENCH help pytorch | grep -E '^  (torchscript_dir|qengine|optimize|spin) ' | cut -c1-40 | sed 's/ *$//'
    torchscript_dir string  default ""
    optimize       bool    default 1
    spin           bool    default 1
    qengine        string  default ""

Plugins come from EDGEBENCH_BACKEND_PATH (and the install's lib dir); the test plugins show one
that loads, one built for API 1 that loads too, and each kind of refusal with its reason.

  $ EDGEBENCH_BACKEND_PATH=$ROOT/build/tests/plugins $EDGEBENCH backends | sed -n '/^testplugin/,$p' | sed "s|$ROOT/||g"
  testplugin   any      yes        loader test plugin (y = 2x) [plugin build/tests/plugins/backend-testplugin.so]
  testv1       any      yes        loader test plugin (y = 2x) [plugin build/tests/plugins/backend-testv1.so]
  testv2       any      yes        loader test plugin (y = 2x) [plugin build/tests/plugins/backend-testv2.so]
  xnnpack      onnx     yes        Google's XNNPACK* [plugin bin/../build/lib/edgebench/backend-xnnpack.so] (glob)
  
  plugins refused:
    build/tests/plugins/backend-testjunk.so: dlopen failed: * (glob)
    build/tests/plugins/backend-testnewer.so: built for backend API 99, this edgebench speaks 1 to 3; rebuild it against this backends/backend.h
    build/tests/plugins/backend-testnoentry.so: no symbol edgebench_backend (a plugin exports `const eb_backend_i *edgebench_backend(unsigned)`)
    build/tests/plugins/backend-testunresolved.so: dlopen failed: *undefined symbol: testplugin_nowhere (glob)

A plugin runs like any backend, and one that says EB_UNSUPPORTED gives an `unsupported` row.

  $ EDGEBENCH_BACKEND_PATH=$ROOT/build/tests/plugins $EDGEBENCH help testplugin | head -1
  backend testplugin: loader test plugin (y = 2x)

The generic `worker` backend on a fake worker (tests/cli/fake_worker.py): it answers, its own
per-run time and the "runtime's profiler" time land in ops.csv, its memory in the row.

  $ W=$ROOT/tests/cli/fake_worker.py
  $ $EDGEBENCH run $S/fake_worker.lua --out ok -q --set worker=$W --set mode=ok
  $ col ok/results.csv backend status error
  worker\tok\t (esc)
  mock\tok\t (esc)
  $ col ok/results.csv memory_note | head -1
  includes worker, VmHWM * kB (glob)
  $ grep -c ',worker,1,node,' ok/ops.csv
  2
  $ grep ',worker,1,node,fake,' ok/ops.csv | cut -d, -f8,9
  run (runtime's profiler),0.250000

A worker that dies mid-run is a failed row saying how it died; the run goes on (mock's row)
and exits 1.

  $ $EDGEBENCH run $S/fake_worker.lua --out die -q --set worker=$W --set mode="die 30"
  [1]
  $ col die/results.csv backend status error
  worker\tfailed\tworker backend, running: the worker died (end of its output); the worker killed by signal 9 (Killed) (esc)
  mock\tok\t (esc)

One that stops answering is killed after run_timeout (1 s here).

  $ $EDGEBENCH run $S/fake_worker.lua --out hang -q --set worker=$W --set mode="hang 5"
  [1]
  $ col hang/results.csv status error | head -1
  failed\tworker backend, running: no answer in time (options open_timeout, run_timeout); killed; the worker killed by signal 9 (Killed) (esc)

`unsupported` from the worker is a row with that status and the reason, and not a failure.

  $ $EDGEBENCH run $S/fake_worker.lua --out unsup -q --set worker=$W --set mode=unsupported
  $ col unsup/results.csv status error | head -1
  unsupported\tworker: fake cannot run this model (esc)

A worker that exits before hello: its stderr's last line is in the error.  One speaking
another protocol version is refused.

  $ $EDGEBENCH run $S/fake_worker.lua --out nohello -q --set worker=$W --set mode=nohello
  [1]
  $ col nohello/results.csv error | head -1
  worker backend, starting: the worker died (end of its output); the worker exited with status 3; its stderr: ImportError: no module named fakeruntime
  $ $EDGEBENCH run $S/fake_worker.lua --out p9 -q --set worker=$W --set mode=protocol9
  [1]
  $ col p9/results.csv error | head -1
  worker worker speaks protocol 9, this edgebench 1 (PROTOCOL.md)

The zoo's two originals on ref, XNNPACK, ONNX Runtime and PyTorch (scenarios/backends.lua): every trial ok, the
same top-1 accuracy everywhere, every sample's top-1 equal to ref's, and the cross-check says so.

  $ cd $ROOT && $EDGEBENCH run scenarios/backends.lua --quick --set threads=1 --set min_time=0.1s --set only=mlp,cnn --out $OLDPWD/zoo -q 2> $OLDPWD/zoo.err; cd - > /dev/null
  $ col zoo/results.csv variant backend status accuracy_top1 agreement_vs_ref crosscheck_note
  mlp\tref\tok\t0.880000\t\t (esc)
  mlp\txnnpack\tok\t0.880000\t1.000000\t (esc)
  mlp\tonnxruntime\tok\t0.880000\t1.000000\t (esc)
  mlp\tpytorch\tok\t0.880000\t1.000000\t (esc)
  cnn\tref\tok\t0.912000\t\t (esc)
  cnn\txnnpack\tok\t0.912000\t1.000000\t (esc)
  cnn\tonnxruntime\tok\t0.912000\t1.000000\t (esc)
  cnn\tpytorch\tok\t0.912000\t1.000000\t (esc)
  $ grep -c agrees zoo.err
  6

PyTorch runs every kind of variant from its TorchScript form in build/torchscript (make
torchscript): the int8 ones as torch.ao quantized modules, LoRA with its branch unmerged; each
sample's top-1 is ref's, or for the int8 ones nearly (PyTorch's dynamic quantization keeps 7
bits of the activations, the ONNX file 8; its int8 kernels depend on the CPU), and no crosscheck
note is raised (spin=0: the worker started with --no-spin).

  $ cd $ROOT && $EDGEBENCH run scenarios/backends.lua --quick --set threads=1 --set min_time=0.05s --set limit=200 --set backends=ref,pytorch --set spin=0 --set only=cnn_int8,mlp_int8_dyn,cnn_lora_unmerged --out $OLDPWD/kinds -q 2> /dev/null; cd - > /dev/null
  $ col kinds/results.csv variant backend status agreement_vs_ref crosscheck_note | grep pytorch |
  >   awk -F'\t' '{ print $1, $3, ($4 >= 0.99 ? "agrees" : "agreement " $4), ($5 == "" ? "no note" : $5) }'
  cnn_int8 ok agrees no note
  mlp_int8_dyn ok agrees no note
  cnn_lora_unmerged ok agrees no note

The TorchScript file is looked for in torchscript_dir (or $EDGEBENCH_TORCHSCRIPT_DIR), beside
NAME.onnx, then in ../build/torchscript from the model's directory.  With none, pytorch says
`unsupported` and why.

  $ cp $ROOT/models/mlp.onnx .
  $ $EDGEBENCH infer --backend pytorch mlp.onnx
  edgebench: pytorch: no TorchScript file mlp.pt in torchscript_dir, beside the model or in ../build/torchscript; make torchscript (scripts/export_torchscript.py) writes one per variant
  [2]
  $ $EDGEBENCH infer --backend pytorch mlp.onnx --set torchscript_dir=$ROOT/build/torchscript --output pt.npy
  $ $EDGEBENCH infer --backend ref mlp.onnx --output ref.npy
  $ close() { /usr/bin/python3 -c "import sys, numpy as n; a, b = n.load(sys.argv[1]), n.load(sys.argv[2]); print(a.shape, n.allclose(a, b, rtol=1e-4, atol=1e-4))" "$@"; }
  $ close pt.npy ref.npy
  (1, 10) True

(The logits are compared with ref's, not printed: PyTorch's float kernels differ by CPU in
the last bits, and a printed digit can round either way.)

A NAME.pt exported from another NAME.onnx (the sha256 it records differs) is passed over.

  $ mkdir -p t/models t/build/torchscript && cp mlp.onnx t/models/ && cp $ROOT/build/torchscript/mlp_pruned50.pt t/build/torchscript/mlp.pt
  $ $EDGEBENCH infer --backend pytorch t/models/mlp.onnx
  edgebench: pytorch: */t/build/torchscript/mlp.pt exported from another mlp.onnx (sha256 differs); make torchscript re-exports the zoo (glob)
  [2]
  $ EDGEBENCH_TORCHSCRIPT_DIR=$ROOT/build/torchscript $EDGEBENCH infer --backend pytorch t/models/mlp.onnx --output pt2.npy
  $ close pt2.npy ref.npy
  (1, 10) True
