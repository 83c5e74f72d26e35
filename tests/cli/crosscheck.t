Cross-backend check: when a scenario runs ref and other backends, each other backend's trial is
compared with ref's trial of the same variant, threads, cores, batch, mode and dataset, on the
accuracy pass's outputs.

The zoo on ref and XNNPACK: every sample's top-1 agrees, the scores differ by float rounding.

  $ cd $ROOT
  $ $EDGEBENCH run tests/cli/scenarios/xnnpack.lua --out $CRAMTMP/x -q
  $ /usr/bin/python3 tests/cli/csvcol.py $CRAMTMP/x/results.csv variant backend agreement_vs_ref crosscheck_note | tr '\t' ' '
  mlp ref  
  mlp xnnpack 1.000000 
  cnn ref  
  cnn xnnpack 1.000000 
  $ /usr/bin/python3 tests/cli/csvcol.py $CRAMTMP/x/results.csv backend max_abs_diff_vs_ref | awk -F'\t' '$1 != "ref" && !($2 < 1e-3) { print "too far:", $0 }'

ref runs first whatever the declared order (mock, xnnpack, ref here); the mock's hashed scores
disagree with ref and the row says so.

  $ $EDGEBENCH run tests/cli/scenarios/crosscheck.lua --out $CRAMTMP/c -q
  $ /usr/bin/python3 tests/cli/csvcol.py $CRAMTMP/c/results.csv trial backend threads agreement_vs_ref crosscheck_note | tr '\t' ' '
  1 ref 1  
  2 ref 2  
  3 mock 1 0.113333 disagrees with ref on 88.7% of samples
  4 mock 2 0.113333 disagrees with ref on 88.7% of samples
  5 xnnpack 1 1.000000 
  6 xnnpack 2 1.000000 

A scenario on one backend has nothing to cross-check: the columns stay empty.

  $ $EDGEBENCH run scenarios/quickstart.lua --quick --out $CRAMTMP/q -q
  $ /usr/bin/python3 tests/cli/csvcol.py $CRAMTMP/q/results.csv backend agreement_vs_ref max_abs_diff_vs_ref | tr '\t' ' '
  ref  
  ref  
