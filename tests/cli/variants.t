Variants and their bases on the mock: bases run first, each variant's outputs are compared
with its base's on the same inputs, and a variant with its own dataset gets its base measured
there too.

  $ S=$ROOT/tests/cli/scenarios
  $ col() { python3 $ROOT/tests/cli/csvcol.py "$@"; }

"same" is listed before its base "orig", yet "orig" runs first; "adapted" has its own
dataset ("shifted"), so "orig" also runs there, right after its run on the scenario's data.

  $ $EDGEBENCH run $S/variants_mock.lua --out out -q
  $ col out/results.csv trial variant base dataset status
  1\torig\t\tclean\tok (esc)
  2\torig\t\tshifted\tok (esc)
  3\tsame\torig\tclean\tok (esc)
  4\tnarrow\torig\tclean\tok (esc)
  5\tadapted\torig\tshifted\tok (esc)

Identical outputs agree fully; "narrow" scores 7 classes instead of 10 (its own
backend_options), so its top-1 often differs and differences of unequal widths stay empty.
Unlabeled data is compared on its first min(N, 1000) samples (200 here, 50 on "shifted"),
each against the base's trial on the same dataset; accuracy stays empty without labels.

  $ col out/results.csv variant agreement_top1 max_abs_diff mean_abs_diff fidelity_samples fidelity_trial accuracy_top1
  orig\t\t\t\t\t\t (esc)
  orig\t\t\t\t\t\t (esc)
  same\t1.000000\t0\t0\t200\t1\t (esc)
  narrow\t0.105000\t\t\t200\t1\t (esc)
  adapted\t1.000000\t0\t0\t50\t2\t (esc)
  $ col out/results.csv variant agreement_top1 | awk -F'\t' '$1 == "narrow" && !($2 > 0 && $2 < 0.5) {print "agreement", $2}'

Sparsity comes from the backend's parameter counts (the mock reports 100, 40 nonzero);
weight_bytes and weight_bits need a model file (the mock reads none).

  $ col out/results.csv variant sparsity weight_bytes weight_bits | head -2
  orig\t0.600000\t\t (esc)
  orig\t0.600000\t\t (esc)

The summary names the dataset of a row measured on a variant's own one.

  $ $EDGEBENCH run $S/variants_mock.lua --out out | grep -E '^(orig|adapted)'
  orig             mock           1     1 * ok (glob)
  orig [shifted]   mock           1     1 * ok (glob)
  adapted [shifted] mock           1     1 * ok (glob)

A labeled dataset: accuracy and agreement side by side.

  $ $EDGEBENCH run $S/variants_labeled.lua --out lab -q
  $ col lab/results.csv variant dataset accuracy_samples agreement_top1 fidelity_samples
  v\tlabeled\t4\t\t (esc)
  w\tlabeled\t4\t1.000000\t4 (esc)

Bases that form a cycle stop the scenario at load.

  $ $EDGEBENCH run $S/variants_cycle.lua --out never
  edgebench: */variants_cycle.lua:6: variants[3].base is 'a', but the bases form a cycle (b -> a -> b); a base must lead back to a variant without one (glob)
  [2]
  $ test -e never
  [1]

A variant's dataset is checked like the scenario's.

  $ cat > bad_ds.lua <<'LUA'
  > return scenario {
  >   name = "bad-ds",
  >   variants = { { name = "v", kind = "original", dataset = { x = "nope.npy" } } },
  >   backends = { "mock" },
  > }
  > LUA
  $ $EDGEBENCH run bad_ds.lua --out never
  edgebench: bad_ds.lua:3: variants[1].dataset is a plain table; make it with dataset.idx { ... }, dataset.npy { ... }, dataset.csv { ... } or dataset.random { ... }
  [2]
