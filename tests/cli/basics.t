The command line's simple commands: version, help, backends, info.

  $ $EDGEBENCH --version
  edgebench \d+\.\d+\.\d+ \(.*\) (re)

  $ $EDGEBENCH help | head -2
  edgebench *: benchmark and evaluate small AI models on the device itself. (glob)
  

  $ $EDGEBENCH help run | head -1
  usage: edgebench run SCENARIO.lua [--out DIR] [--quick] [--set KEY=VALUE]... [-q] [--progress]

  $ $EDGEBENCH help mock | grep -E '^  (latency_ms|crash) '
    latency_ms     float   default 1.0      * (glob)
    crash          string  default ""       * (glob)

  $ $EDGEBENCH help ref | grep -o '^operators: Abs, Acos'
  operators: Abs, Acos

  $ $EDGEBENCH help nosuchthing
  edgebench: no help for 'nosuchthing'; try a command (run, infer, backends, info) or a backend name
  [2]

An unknown command or none at all is a usage error.

  $ $EDGEBENCH frobnicate
  edgebench: unknown command 'frobnicate'; run 'edgebench help' for the list
  [2]
  $ $EDGEBENCH > /dev/null
  [2]

Every built-in backend is listed with its formats and whether it can run here, then the
plugins built into build/lib/edgebench (xnnpack) with their file.

  $ $EDGEBENCH backends
  backend      formats  available  description
  ref          onnx     yes        built-in ONNX engine* (glob)
  mock         any      yes        deterministic outputs* (glob)
  onnxruntime  onnx     * ONNX Runtime (CPU) in a node worker* (glob)
  pytorch      onnx     * PyTorch (TorchScript NAME.pt for NAME.onnx, from make torchscript; option torchscript_dir) in a python3 worker* (glob)
  worker       any      yes        any runtime behind the worker protocol (option command)
  xnnpack      onnx     yes        Google's XNNPACK* [plugin */build/lib/edgebench/backend-xnnpack.so] (glob)

  $ $EDGEBENCH backends extra
  edgebench: 'backends' takes no arguments (got 'extra')
  [2]

info describes the device; every line is "key: value".

  $ $EDGEBENCH info > info.txt
  $ grep -E '^(cpu model|cores|PUs|L1d cache|core kinds|memory|os|compiler|governor):' info.txt | cut -d: -f1
  cpu model
  cores
  PUs
  L1d cache
  core kinds
  memory
  os
  compiler
  governor

With a big.LITTLE topology (an hwloc XML of a 4+4 board), info shows both core kinds.

  $ EDGEBENCH_TOPOLOGY_XML=$ROOT/tests/data/device/biglittle.xml $EDGEBENCH info | grep -A2 '^core kinds'
  core kinds:      2 kinds* (glob)
    kind 0:        PUs 0-3* (glob)
    kind 1:        PUs 4-7* (glob)

info also says what can be measured here: every energy source, usable or not and why.  What
this machine has is its own business (a bare-metal runner as root reads RAPL, this VM has
nothing), so on the real /sys each source is listed with a verdict and an unusable one with
its reason; on an empty sysfs tree every one is unusable, and on a fixture tree of a laptop's
powercap, RAPL's domains are usable.

  $ $EDGEBENCH info | sed -n '/^energy meters:/,$p' | awk 'NR > 1 { split($1, s, ":"); seen[s[1]] = 1
  >   if (!($3 == "usable" || ($3 == "unusable" && NF > 3))) print "bad line:", $0 } END { for (k in seen) print k }' | sort
  battery
  hwmon
  ina3221
  perf_power
  rapl
  $ EDGEBENCH_SYSFS=$ROOT/tests/data/sysfs/empty $EDGEBENCH info | sed -n '/^energy meters:/,$p' | awk 'NR > 1 {print $1, $3}'
  rapl unusable
  perf_power unusable
  hwmon unusable
  ina3221 unusable
  battery unusable
  $ EDGEBENCH_SYSFS=$ROOT/tests/data/sysfs/energy/rapl-laptop $EDGEBENCH info | grep '^rapl:' | awk '{print $1, $2, $3}'
  rapl:package energy usable
  rapl:core energy usable
  rapl:uncore energy usable
  rapl:psys energy usable
