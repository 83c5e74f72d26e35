A wrong scenario gets one line naming file:line and exit 2, before anything is measured.
Each tests/data/scenarios/bad_*.lua says in its header what it expects ("-- expect: LINE:
text", line 0 meaning the file alone) and which --set values to pass ("-- set: K=V").

  $ cd $ROOT
  $ n=0; for f in tests/data/scenarios/bad_*.lua; do
  >   sets=$(sed -n 's/^-- set: /--set /p' "$f" | tr '\n' ' ')
  >   expect=$(sed -n 's/^-- expect: //p' "$f")
  >   [ -n "$expect" ] || continue
  >   n=$((n + 1))
  >   line=${expect%%:*} text=${expect#*: }
  >   where="$f:$line: "; [ "$line" = 0 ] && where="$f: "
  >   $EDGEBENCH run "$f" $sets --out $CRAMTMP/never-written -q > $CRAMTMP/out.txt 2> $CRAMTMP/err.txt; code=$?
  >   if [ $code -ne 2 ] || [ "$(wc -l < $CRAMTMP/err.txt)" -ne 1 ] || [ -s $CRAMTMP/out.txt ] ||
  >      ! grep -qF "edgebench: $where$text" $CRAMTMP/err.txt; then
  >     echo "MISMATCH $f (exit $code):"; cat $CRAMTMP/err.txt
  >   fi
  > done; echo "checked $n bad scenarios"
  checked 23 bad scenarios
  $ test -e $CRAMTMP/never-written && echo "results written for a bad scenario"
  [1]

A few of them, as a user sees them.

  $ $EDGEBENCH run tests/data/scenarios/bad_kind.lua
  edgebench: tests/data/scenarios/bad_kind.lua:8: variants[2].kind is 'quantised'; expected one of original, quantized, pruned, distilled, lora
  [2]
  $ $EDGEBENCH run tests/data/scenarios/bad_backend.lua
  edgebench: tests/data/scenarios/bad_backend.lua:6: backends[2] is 'tflite', which is not a backend; known backends: ref, mock, onnxruntime, pytorch, worker, xnnpack (see edgebench backends)
  [2]
  $ $EDGEBENCH run tests/data/scenarios/bad_syntax.lua
  edgebench: tests/data/scenarios/bad_syntax.lua:6: '}' expected (to close '{' at line 3) near 'variants'
  [2]
  $ $EDGEBENCH run tests/data/scenarios/bad_runtime_error.lua
  edgebench: tests/data/scenarios/bad_runtime_error.lua:5: attempt to call a nil value (global 'foo')
  [2]
  $ $EDGEBENCH run tests/data/scenarios/bad_model_missing.lua
  edgebench: tests/data/scenarios/bad_model_missing.lua:7: variants[1].model: no such file: models/does-not-exist.onnx (from the current directory) or tests/data/scenarios/models/does-not-exist.onnx (from the scenario's)
  [2]
  $ $EDGEBENCH run tests/data/scenarios/bad_type.lua
  edgebench: tests/data/scenarios/bad_type.lua:7: threads is a string ('two'); expected an integer >= 1 or a list of them, like {1, 2, 4}
  [2]
  $ $EDGEBENCH run tests/data/scenarios/bad_missing_variants.lua
  edgebench: tests/data/scenarios/bad_missing_variants.lua:5: variants is missing; list the models to measure, like variants = { { name = "cnn", kind = "original", model = "models/cnn.onnx" } }
  [2]
  $ $EDGEBENCH run tests/data/scenarios/bad_set_unknown.lua --set nope=1
  edgebench: tests/data/scenarios/bad_set_unknown.lua: --set nope: this scenario has no option 'nope'; its options: latency, limit
  [2]

A hook that raises stops the run with the hook's file:line and exit 2; the trial it saw is
already in results.csv.

  $ $EDGEBENCH run tests/data/scenarios/bad_hook.lua --out $CRAMTMP/hook -q
  edgebench: tests/data/scenarios/bad_hook.lua:9: on_trial failed for variant a
  [2]
  $ cut -d, -f3,10 $CRAMTMP/hook/results.csv
  variant,status
  a,ok

A variant whose model the backend cannot open is a failed row, not a lost run: the other
variants are still measured, and the exit code is 1.

  $ cat > $CRAMTMP/garbage.lua <<LUA
  > return scenario {
  >   name = "garbage",
  >   dataset = dataset.random { shape = { 1, 28, 28 }, count = 4 },
  >   variants = {
  >     { name = "broken", kind = "original", model = "$ROOT/tests/data/ref/bad_garbage.onnx" },
  >     { name = "good", kind = "original", model = "$ROOT/models/cnn.onnx" },
  >   },
  >   measure = { warmup = 0, min_iterations = 5, min_time = 0, max_time = "1s" },
  > }
  > LUA
  $ $EDGEBENCH run $CRAMTMP/garbage.lua --out $CRAMTMP/garbage -q
  [1]
  $ cut -d, -f3,10,11 $CRAMTMP/garbage/results.csv
  variant,status,error
  broken,failed,*/bad_garbage.onnx: not a valid ONNX file (truncated or not protobuf); re-export or re-download the model (glob)
  good,ok,

A dataset whose samples do not fit the model is a failed row naming both shapes.

  $ sed -e 's/shape = { 1, 28, 28 }/shape = { 3, 5 }/' -e 's/name = "garbage"/name = "shape"/' $CRAMTMP/garbage.lua > $CRAMTMP/shape.lua
  $ $EDGEBENCH run $CRAMTMP/shape.lua --out $CRAMTMP/shape -q
  [1]
  $ cut -d, -f3,10,11 $CRAMTMP/shape/results.csv | tail -1
  good,failed,input 'input' expects 1x1x28x28 (batch 1) but dataset samples are 3x5 (15 values); fix the dataset's reshape or use the model it was made for
