`history` over four mock runs, the last two 30% slower: one trend table in time order with
each run's commit, the step flagged where it began, and a gnuplot trend plot.

  $ S=$ROOT/scenarios/ci_mock.lua

No energy meter and no telemetry (an empty sysfs tree), whatever the machine running the
tests has: where RAPL is readable, every run would measure energy, and A/A energy noise is
the machine's, not edgebench's.

  $ export EDGEBENCH_SYSFS=$ROOT/tests/data/sysfs/empty
  $ i=0; for lat in 1.0 1.0 1.3 1.3; do
  >   i=$((i + 1))
  >   $EDGEBENCH run $S --out n$i -q --set seed=$i --set latency_ms=$lat
  >   sed -i "s/^started_at,.*/started_at,2026-01-0${i}T02:00:00Z/; s/^git_commit,.*/git_commit,c0ffee$i/" n$i/run.csv
  > done

Directories in any order: the table follows run.csv started_at.

  $ $EDGEBENCH history n3 n1 n4 n2
  history: 4 runs, oldest first; steps: p < 0.01 (Mann-Whitney on the pooled samples either side) and median change > 5%
  
  original/mock threads=1  (ci-mock)
    run                      started_at           commit           n     p50_ms     p99_ms  status
    n1                       2026-01-01T02:00:00Z c0ffee1        * (glob)
    n2                       2026-01-02T02:00:00Z c0ffee2        * (glob)
    n3                       2026-01-03T02:00:00Z c0ffee3        * ok  <- step began: median *.* -> 1.* ms (+*%, p=*) (glob)
    n4                       2026-01-04T02:00:00Z c0ffee4        * (glob)
  $ $EDGEBENCH history n1 n2 | tail -1
    no step change

Plots: one per configuration, with --out; without gnuplot they are skipped with a warning.

  $ $EDGEBENCH history n1 n2 n3 n4 --out plots | grep plot:
    plot: plots/history-1-original-mock-threads-1.png
  $ test -s plots/history-1-original-mock-threads-1.png && head -c 4 plots/history-1-original-mock-threads-1.png | tail -c 3
  PNG (no-eol)
  $ grep -c 'set arrow' plots/history-1-original-mock-threads-1.gp
  1
  $ EDGEBENCH_GNUPLOT=/nonexistent/gnuplot $EDGEBENCH history n1 n2 --out plots2 > /dev/null
  edgebench: history: warning: gnuplot not found; trend plots skipped (install gnuplot-nox)

Bad input: one line, exit 2.

  $ $EDGEBENCH history n1 nowhere
  edgebench: history: nowhere: no results.csv here; give the directory `edgebench run` wrote (its --out, default results/NAME)
  [2]
  $ $EDGEBENCH history
  edgebench: history: usage: edgebench history DIR... [--out DIR] [--threshold 5%] [--format png|svg]
  [2]
