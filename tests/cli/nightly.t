scripts/nightly.sh: the first run becomes the baseline, a clean run advances it, a slower
build is a regression (exit 1) that keeps it, and the history is kept throughout.

No energy meter and no telemetry (an empty sysfs tree), whatever the machine running the
tests has: where RAPL is readable, every run would measure energy, and A/A energy noise is
the machine's, not edgebench's.

  $ export EDGEBENCH_SYSFS=$ROOT/tests/data/sysfs/empty

  $ N="$ROOT/scripts/nightly.sh $ROOT/scenarios/ci_mock.lua --root hist"
  $ $N --set seed=1 > night1.txt; echo "exit $?"
  exit 0
  $ tail -1 night1.txt
  nightly: baseline set to runs/* (glob)
  $ first=$(readlink hist/baseline); echo $first
  runs/2* (glob)

The same build again: unchanged, the baseline moves to the new run.

  $ $N --set seed=2 > night2.txt; echo "exit $?"
  exit 0
  $ grep -E '^### |^nightly: (clean|trend)' night2.txt
  ### edgebench compare: 0 regressed, 0 improved, 1 unchanged, 0 not comparable
  nightly: clean; baseline advanced to runs/* (glob)
  nightly: trend over 2 runs in hist/history.txt, plots in hist/plots/
  $ second=$(readlink hist/baseline); test "$second" != "$first" && echo moved
  moved

A 30% slower build: regressed, exit 1, the baseline stays on the last good run; the JUnit file
of the night has the failure.

  $ $N --set seed=3 --set latency_ms=1.3 > night3.txt; echo "exit $?"
  exit 1
  $ grep "^nightly: REG" night3.txt
  nightly: REGRESSION against runs/*; baseline kept (glob)
  $ test "$(readlink hist/baseline)" = "$second" && echo kept
  kept
  $ ls hist/runs | wc -l
  3
  $ grep -c '<failure' hist/runs/$(ls hist/runs | tail -1)/compare.xml
  1
  $ wc -l < hist/nightly.log
  3
  $ grep -c '^  n[0-9]\|^  2' hist/history.txt
  3

An accepted change: --rebaseline makes tonight's run the baseline; --keep 2 prunes the
oldest runs.

  $ $N --set seed=4 --set latency_ms=1.3 --rebaseline --keep 2 | tail -2 | head -1
  nightly: baseline set to runs/* (--rebaseline) (glob)
  $ ls hist/runs | wc -l; test "runs/$(ls hist/runs | tail -1)" = "$(readlink hist/baseline)" && echo newest
  2
  newest

Bad input is exit 2 and records nothing.

  $ $ROOT/scripts/nightly.sh nowhere.lua --root hist
  nightly.sh: nowhere.lua: no such scenario file
  [2]
  $ ls hist/runs | wc -l
  2
