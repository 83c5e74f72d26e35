`make install` into a staging DESTDIR: the binary, the plugins beside it in lib/edgebench, the
worker scripts in lib/edgebench/workers, onnxruntime-node linked from the source tree (ORT=link,
the default).  -o keeps make from rebuilding what `make test` has just built.

  $ unset EDGEBENCH_BACKEND_PATH EDGEBENCH_WORKER_DIR EDGEBENCH_ORT_MODULES EDGEBENCH_TORCHSCRIPT_DIR
  $ unset MAKEFLAGS MFLAGS MAKELEVEL  # under `make -j2 test`, the inner make must not look for the outer jobserver
  $ keep="-o bin/edgebench"; for so in $ROOT/build/lib/edgebench/backend-*.so; do keep="$keep -o build/lib/edgebench/${so##*/}"; done
  $ make -C $ROOT -s --no-print-directory $keep install DESTDIR=$PWD/stage PREFIX=/opt/eb
  $ cd stage && find . | sort; cd ..
  .
  ./opt
  ./opt/eb
  ./opt/eb/bin
  ./opt/eb/bin/edgebench
  ./opt/eb/lib
  ./opt/eb/lib/edgebench
  ./opt/eb/lib/edgebench/backend-xnnpack.so
  ./opt/eb/lib/edgebench/node_modules
  ./opt/eb/lib/edgebench/workers
  ./opt/eb/lib/edgebench/workers/PROTOCOL.md
  ./opt/eb/lib/edgebench/workers/ort_worker.js
  ./opt/eb/lib/edgebench/workers/torch_worker.py
  $ readlink stage/opt/eb/lib/edgebench/node_modules | sed "s|$ROOT/||"
  scripts/ort/node_modules

The installed binary finds its plugin in ../lib/edgebench and both workers.

  $ EB=$PWD/stage/opt/eb/bin/edgebench
  $ $EB backends | grep -E '^(onnxruntime|pytorch|xnnpack) ' | cut -c1-36
  onnxruntime  onnx     yes        ONN
  pytorch      onnx     yes        PyT
  xnnpack      onnx     yes        Goo
  $ $EB backends | grep -o '\[plugin .*\]' | sed "s|$PWD/||"
  [plugin stage/opt/eb/bin/../lib/edgebench/backend-xnnpack.so]

They are the installed ones: without lib/edgebench/workers the two worker backends are not
available.

  $ mv stage/opt/eb/lib/edgebench/workers workers.off
  $ $EB backends | grep -E '^(onnxruntime|pytorch) ' | sed 's/.* -- //'
  ort_worker.js not found (EDGEBENCH_WORKER_DIR)
  torch_worker.py not found (EDGEBENCH_WORKER_DIR)
  $ mv workers.off stage/opt/eb/lib/edgebench/workers

A tiny scenario from the install: the zoo's MLP on every backend (pytorch reading the source
tree's build/torchscript/mlp.pt, ../build/torchscript from models/), every sample's top-1 equal
to ref's.

  $ cd $ROOT && $EB run scenarios/backends.lua --quick --set threads=1 --set min_time=0.05s --set limit=50 --set only=mlp --out $OLDPWD/run -q 2> /dev/null; cd - > /dev/null
  $ python3 $ROOT/tests/cli/csvcol.py run/results.csv backend status agreement_vs_ref
  ref\tok\t (esc)
  xnnpack\tok\t1.000000 (esc)
  onnxruntime\tok\t1.000000 (esc)
  pytorch\tok\t1.000000 (esc)
  $ $EB infer --backend pytorch $ROOT/models/cnn_int8.onnx | cut -c1-21
  logits float32 1x10: 

`make uninstall` removes what install put there, and nothing else.

  $ touch stage/opt/eb/lib/edgebench/backend-mine.so
  $ make -C $ROOT -s --no-print-directory uninstall DESTDIR=$PWD/stage PREFIX=/opt/eb
  $ cd stage && find . | sort; cd ..
  .
  ./opt
  ./opt/eb
  ./opt/eb/bin
  ./opt/eb/lib
  ./opt/eb/lib/edgebench
  ./opt/eb/lib/edgebench/backend-mine.so
