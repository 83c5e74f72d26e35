The quickstart scenario on the built-in engine, in quick mode (500 test images, short loops).

  $ cd $ROOT
  $ $EDGEBENCH run scenarios/quickstart.lua --quick --out $CRAMTMP/q -q
  $ cut -d, -f3-10 $CRAMTMP/q/results.csv
  variant,kind,base,backend,threads,cores,batch,status
  mlp,original,,ref,1,all,1,ok
  cnn,original,,ref,1,all,1,ok

Model facts come from the file and the inferred shapes: the MLP's MACs are its three
Gemms (784x256 + 256x128 + 128x10), the CNN's its two convs and two Gemms.

  $ cut -d, -f3,25-28 $CRAMTMP/q/results.csv
  variant,model_bytes,params,nonzero_params,macs
  mlp,941340,235146,235146,234752
  cnn,829097,206922,206922,1218048

Every timing and memory column is filled, and accuracy covers the 500 quick images.

  $ awk -F, 'NR > 1 { for (i = 12; i <= 24; i++) if ($i == "") print "empty column", i; print $31 }' $CRAMTMP/q/results.csv
  500
  500
  $ awk -F, 'NR > 1 && ($29 < 0.8 || $29 > 1 || $30 < $29) { print "implausible accuracy", $3, $29, $30 }' $CRAMTMP/q/results.csv

Options the scenario declares can be set from the command line.

  $ $EDGEBENCH run scenarios/quickstart.lua --quick --set limit=100 --out $CRAMTMP/l -q
  $ cut -d, -f31 $CRAMTMP/l/results.csv | tail -1
  100

The batch size binds the model's batch dimension; accuracy is the same at every batch, with
a padded last batch when the batch does not divide the dataset (300 = 42 x 7 + 6).

  $ $EDGEBENCH run tests/cli/scenarios/batch.lua --out $CRAMTMP/b -q
  $ cut -d, -f9,10,29,31 $CRAMTMP/b/results.csv
  batch,status,accuracy_top1,accuracy_samples
  1,ok,0.* (glob)
  4,ok,0.* (glob)
  7,ok,0.* (glob)
  $ cut -d, -f29 $CRAMTMP/b/results.csv | tail -3 | sort -u | wc -l
  1
  $ awk -F, 'NR > 1 { printf "%d %.0f\n", $9, $22 / (1000 / $15) }' $CRAMTMP/b/results.csv
  1 1
  4 4
  7 7

Profiling: measure.profile times every node into OUT/ops.csv, per node and per operator type,
each with its share of the trial's profiled time (shares sum to 1 per trial and level).

  $ $EDGEBENCH run tests/cli/scenarios/profile.lua --out $CRAMTMP/p -q
  $ head -1 $CRAMTMP/p/ops.csv
  run_id,trial,variant,backend,threads,level,node,op_type,ms_per_run,share
  $ awk -F, 'NR > 1 && $6 == "op_type" {print $2, $8}' $CRAMTMP/p/ops.csv | sort
  1 Conv
  1 Flatten
  1 Gemm
  1 MaxPool
  2 Conv
  2 Flatten
  2 Gemm
  2 MaxPool
  $ awk -F, 'NR > 1 {s[$2 " " $6] += $10} END {for (k in s) if (s[k] < 0.99 || s[k] > 1.01) print "shares of", k, "sum to", s[k]}' $CRAMTMP/p/ops.csv

A run without profiling leaves no ops.csv behind, even in the same directory.

  $ $EDGEBENCH run tests/cli/scenarios/batch.lua --out $CRAMTMP/p -q
  $ test -e $CRAMTMP/p/ops.csv || echo "no ops.csv"
  no ops.csv

infer --profile prints the per-node table, slowest first; backends that cannot profile say so.

  $ $EDGEBENCH infer --backend ref models/cnn.onnx --profile > $CRAMTMP/prof.txt
  $ head -1 $CRAMTMP/prof.txt | awk '{print $1, $2, $3, $4}'
  node op_type ms_per_run share
  $ awk '$1 ~ /^\// {print $2}' $CRAMTMP/prof.txt | sort | uniq -c | awk '{print $2, $1}'
  Conv 2
  Flatten 1
  Gemm 2
  MaxPool 2

Which node is slowest depends on the CPU, so the order is checked, not the winner.

  $ awk '$1 ~ /^\// { if (seen && $3 > last) print "not sorted at", $1; last = $3; seen = 1 }' $CRAMTMP/prof.txt
  $ $EDGEBENCH infer --backend mock none --profile
  edgebench: infer: backend 'mock' cannot profile nodes
  [2]

Pinning is verified, not assumed: after the engine started its workers, every thread of the
trial is checked against the trial's cores (a worker pool pins each thread to one core).

  $ $EDGEBENCH run tests/cli/scenarios/binding.lua --out $CRAMTMP/bind -q
  $ /usr/bin/python3 tests/cli/csvcol.py $CRAMTMP/bind/results.csv threads cores threads_seen binding_ok | tr '\t' ' '
  1 all 1 true
  1 1 1 true
  2 all 2 true
  2 1 2 true

Which PUs those are depends on the machine's topology (PU numbering, SMT siblings), so the
bindings are checked by their shape (binding_ok above says each lies inside the trial's
cores): one per thread, the two threads on all cores on two different PUs, every thread on
core 1 bound to something less than the whole machine.

  $ /usr/bin/python3 tests/cli/csvcol.py $CRAMTMP/bind/results.csv threads cores thread_binding | awk -F'\t' '{
  >   n = split($3, b, " [|] "); if (n != $1) print "threads", $1, "but", n, "bindings:", $3
  >   if ($2 == "all" && n == 1) whole = b[1]
  >   if ($2 == "all" && n == 2 && b[1] == b[2]) print "both threads on one core:", $3
  >   if ($2 == "1") for (i = 1; i <= n; i++) if (b[i] == whole || b[i] == "") print "core 1 binding off:", $3 }'

XNNPACK (Debian's library, loaded at open) runs the zoo too, with the same accuracy as ref.

  $ $EDGEBENCH run tests/cli/scenarios/xnnpack.lua --out $CRAMTMP/x -q
  $ /usr/bin/python3 tests/cli/csvcol.py $CRAMTMP/x/results.csv variant backend status accuracy_top1 | tr '\t' ' '
  mlp ref ok 0.886667
  mlp xnnpack ok 0.886667
  cnn ref ok 0.920000
  cnn xnnpack ok 0.920000
