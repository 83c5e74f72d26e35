`compare` on real mock runs: the same build twice is unchanged (exit 0), a 30% slowdown is
a regression (exit 1, a JUnit failure), runs from two devices are refused (exit 2) unless
--force, and bad input is one line and exit 2.

  $ S=$ROOT/scenarios/ci_mock.lua

No energy meter and no telemetry (an empty sysfs tree), whatever the machine running the
tests has: where RAPL is readable, every run would measure energy, and A/A energy noise is
the machine's, not edgebench's.

  $ export EDGEBENCH_SYSFS=$ROOT/tests/data/sysfs/empty
  $ $EDGEBENCH run $S --out base -q --set seed=1
  $ $EDGEBENCH run $S --out again -q --set seed=2
  $ $EDGEBENCH run $S --out slow -q --set seed=3 --set latency_ms=1.3

Two runs of the same build (different jitter seeds, as real runs differ): unchanged.

  $ $EDGEBENCH compare base again --junit aa.xml --markdown aa.md
  base:    base (commit *, *) (glob)
  current: again (commit *, *) (glob)
  rule:    latency regressed when p < 0.05 and the whole 95% CI of the median ratio is above 1.050; top-1 drop > 0.5 pt, peak memory > x1.10, energy > x1.10
  
  trial                    base_p50   cur_p50   ratio 95% CI                 p  latency        top1      memory    energy
  original/mock threads=1 * unchanged      -         x*    - (glob)
  
  0 regressed, 0 improved, 1 unchanged, 0 not comparable
  $ grep -c '<testcase' aa.xml; grep -c '<failure' aa.xml
  4
  0
  [1]
  $ head -1 aa.md
  ### edgebench compare: 0 regressed, 0 improved, 1 unchanged, 0 not comparable

A 30% slowdown: regressed, exit 1; the JUnit file is well-formed and has the failure.

  $ $EDGEBENCH compare base slow --junit slow.xml --markdown slow.md -q
  [1]
  $ /usr/bin/python3 -c 'import sys, xml.dom.minidom as m; d = m.parse(sys.argv[1]); print(len(d.getElementsByTagName("testcase")), len(d.getElementsByTagName("failure")))' slow.xml
  4 1
  $ grep -o 'name="[^"]*latency"\|<failure type="regression" message="latency regressed: median [^ ]* -&gt; [^ ]* ms, ratio 1\.[23]' slow.xml
  name="original/mock threads=1 latency"
  <failure type="regression" message="latency regressed: median * -&gt; * ms, ratio 1.* (glob)
  $ grep -c '\*\*regressed\*\*' slow.md
  1
  $ head -1 slow.md
  ### edgebench compare: REGRESSION — 1 regressed, 0 improved, 0 unchanged, 0 not comparable

The other way round it is an improvement, which passes.

  $ $EDGEBENCH compare slow base | tail -1
  0 regressed, 1 improved, 0 unchanged, 0 not comparable

A looser threshold than the slowdown lets it through.

  $ $EDGEBENCH compare base slow --threshold 50% -q

Another device's run: one line, exit 2; --force compares anyway (with a warning).

  $ cp -r slow other && sed -i 's/^fingerprint,.*/fingerprint,aarch64-4c4t-0badc0de/' other/run.csv
  $ $EDGEBENCH compare base other
  edgebench: compare: base ran on device x86_64-* but other on aarch64-4c4t-0badc0de; latencies from two devices are not comparable (pass --force to compare anyway) (glob)
  [2]
  $ $EDGEBENCH compare base other --force -q
  edgebench: compare: warning: different devices (*, aarch64-4c4t-0badc0de), compared because of --force (glob)
  [1]

A trial missing on one side, or one that failed, is not comparable: reported, not a failure.

  $ cp -r again broken && sed -i '2s/,ok,/,crashed,/' broken/results.csv
  $ $EDGEBENCH compare base broken | grep 'not comparable'
  original/mock threads=1         -         -       - -                      -  not comparable -         -         -
    original/mock threads=1: not comparable: status ok in base, crashed in current
  0 regressed, 0 improved, 0 unchanged, 1 not comparable

"-" writes to stdout; a pipe (or /dev/stdout) is written in place, never replaced by a file.

  $ $EDGEBENCH compare base slow --markdown - -q | head -1
  ### edgebench compare: REGRESSION — 1 regressed, 0 improved, 0 unchanged, 0 not comparable
  $ mkfifo pipe; (cat pipe > from-pipe &); $EDGEBENCH compare base slow --junit pipe -q; echo "exit $?"; sleep 0.2
  exit 1
  $ test -p pipe && echo still a pipe; grep -c '<failure' from-pipe
  still a pipe
  1

Bad input: one line naming the problem, exit 2.

  $ $EDGEBENCH compare base nowhere
  edgebench: compare: current: nowhere: no results.csv here; give the directory `edgebench run` wrote (its --out, default results/NAME)
  [2]
  $ $EDGEBENCH compare base
  edgebench: compare: usage: edgebench compare BASE_DIR CURRENT_DIR [--threshold 5%] [--junit FILE] [--markdown FILE] [--force]
  [2]
  $ $EDGEBENCH compare base again --threshold lots
  edgebench: compare: --threshold 'lots' is not a percentage; write e.g. 5% or 0.5
  [2]
  $ $EDGEBENCH compare base again --junit /nonexistent/j.xml -q
  edgebench: compare: /nonexistent/j.xml: cannot write: No such file or directory; check the directory exists and is writable
  [2]
