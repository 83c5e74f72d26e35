`run` end to end on the mock backend: every trial is a row, files are complete, exit codes
say what happened.

  $ S=$ROOT/tests/cli/scenarios

No energy meter and no telemetry (an empty sysfs tree), whatever the machine running the
tests has: the files checked here are those of a device without them (measure.t covers
meters and telemetry on fixtures).

  $ export EDGEBENCH_SYSFS=$ROOT/tests/data/sysfs/empty

Four trials (2 variants x 2 thread counts); the on_trial hook sees each row.

  $ $EDGEBENCH run $S/mock_ok.lua --out out > stdout.txt
  $ sed '/^recommendation:/,$d' stdout.txt
  hook: fast 1 ok=ok
  hook: fast 2 ok=ok
  hook: small 1 ok=ok
  hook: small 2 ok=ok
  
  variant          backend  threads batch     p50_ms     p99_ms        ips     top1    peak_kb  status
  fast             mock           1     1 * ok (glob)
  fast             mock           2     1 * ok (glob)
  small            mock           1     1 * ok (glob)
  small            mock           2     1 * ok (glob)
  
  results: out/results.csv (4 trials, 0 not ok)
  

The run ends with what to ship by the scenario's objective (latency, here): one pick, and
every other configuration as a runner-up or excluded with its reason.

  $ sed -n '/^recommendation:/,$p' stdout.txt | awk '{print $1}' | sort | uniq -c
        1 pick:
        1 recommendation:
        3 runner-up:

  $ head -1 out/results.csv | cut -d, -f1-31
  run_id,scenario,variant,kind,base,backend,threads,cores,batch,status,error,iterations,load_ms,first_ms,latency_mean_ms,latency_std_ms,latency_min_ms,latency_p50_ms,latency_p90_ms,latency_p99_ms,latency_max_ms,throughput_ips,peak_rss_kb,base_rss_kb,model_bytes,params,nonzero_params,macs,accuracy_top1,accuracy_top5,accuracy_samples
  $ cut -d, -f2-10 out/results.csv | tail -4
  mock-ok,fast,original,,mock,1,all,1,ok
  mock-ok,fast,original,,mock,2,all,1,ok
  mock-ok,small,pruned,fast,mock,1,all,1,ok
  mock-ok,small,pruned,fast,mock,2,all,1,ok

The mock spins 0.2 ms +- 0.05 ms, so the median lies in that band (loose: the VM is shared),
and the loop ran at least min_iterations.

  $ awk -F, 'NR > 1 && ($18 < 0.14 || $18 > 0.6 || $12 < 20) {print "bad row", NR}' out/results.csv

Each percentile comes with its 95% interval, which holds the estimate; a bound that needs
more samples than were taken stays empty and the note says how many (p99's upper bound
needs 368). Software counters (task-clock) work in VMs; hardware ones say why not.

  $ head -1 out/results.csv | tr , '\n' | grep -n -E '^(latency_p50_lo_ms|latency_p99_hi_ms|latency_ci_note|task_clock_ms_per_inference|perf_unsupported)$'
  32:latency_p50_lo_ms
  37:latency_p99_hi_ms
  38:latency_ci_note
  48:task_clock_ms_per_inference
  52:perf_unsupported
  $ awk -F, 'NR > 1 && !($32 <= $18 && $18 <= $33 && $34 <= $19 && ($35 == "" || $19 <= $35)) {print "interval misses estimate", NR}' out/results.csv
  $ awk -F, 'NR > 1 && $35 == "" && $38 !~ /p90_hi needs n>=/ {print "p90 bound missing without a note on", $12, "samples"}' out/results.csv

(p90's upper bound needs a few dozen samples: on a loaded machine, min_time can be reached
with fewer, and then it stays empty like p99's.)
  $ awk -F, 'NR > 1 && $12 < 368 && ($37 != "" || $38 !~ /p99_hi needs n>=368/) {print "p99 bound claimed on", $12, "samples"}' out/results.csv
  $ /usr/bin/python3 $ROOT/tests/cli/csvcol.py out/results.csv task_clock_ms_per_inference perf_unsupported | awk -F'\t' '
  >   !($1 > 0) && $2 !~ /task-clock[^;]*: perf_event_(paranoid=|open not|open refused)/ {print "no task-clock, and no reason:", $0}'

(Where perf_event_open is refused to the process altogether -- perf_event_paranoid 3 for a
non-root user, a container's seccomp profile -- task-clock stays empty and perf_unsupported
says so; anything else without a count is a failure.)

Every timed sample is in samples.csv, numbered from 1, as many as the row's iterations.

  $ head -1 out/samples.csv
  run_id,variant,backend,threads,iteration,latency_ms,trial
  $ awk -F, 'NR > 1 {n[$2 "/" $4]++} END {for (k in n) print k, n[k]}' out/samples.csv | sort > counted
  $ awk -F, 'NR > 1 {print $3 "/" $7, $12}' out/results.csv | sort > expected
  $ diff counted expected

run.csv records the run and the device.

  $ cut -d, -f1 out/run.csv | grep -E '^(run_id|scenario|command_line|edgebench_version|git_commit|started_at|finished_at|cpu_model|cores|governor|loadavg|fingerprint)$'
  run_id
  scenario
  command_line
  edgebench_version
  git_commit
  started_at
  finished_at
  cpu_model
  cores
  governor
  loadavg
  fingerprint
  $ grep '^command_line' out/run.csv
  command_line,edgebench run */mock_ok.lua --out out (glob)

Progress goes to stderr only on a terminal, unless asked; -q silences the summary too.

  $ $EDGEBENCH run $S/mock_ok.lua --out out -q
  hook: fast 1 ok=ok
  hook: fast 2 ok=ok
  hook: small 1 ok=ok
  hook: small 2 ok=ok
  $ $EDGEBENCH run $S/mock_ok.lua --out out -q --progress 2>&1 >/dev/null | head -2
  [1/4] fast on mock, 1 thread, cores all, batch 1 ...
          ok: p50 * ms, p99 * ms (* s) (glob)

A backend that crashes, hangs or fails gives a row with its status and reason; the run goes
on to the next trial, and the exit code is 1.

  $ $EDGEBENCH run $S/mock_fault.lua --set fault=crash --out crash -q
  [1]
  $ cut -d, -f7,10,11 crash/results.csv
  threads,status,error
  1,crashed,the trial's process was killed by signal 11 (Segmentation fault)
  2,crashed,the trial's process was killed by signal 11 (Segmentation fault)

  $ $EDGEBENCH run $S/mock_fault.lua --set fault=hang --out hang -q
  [1]
  $ cut -d, -f7,10,11 hang/results.csv
  threads,status,error
  1,timeout,the trial did not finish within 2 s (measure.timeout)
  2,timeout,the trial did not finish within 2 s (measure.timeout)

  $ $EDGEBENCH run $S/mock_fault.lua --set fault=fail --out fail -q
  [1]
  $ cut -d, -f10,11 fail/results.csv | tail -1
  failed,mock: run 1 failed on purpose (option fail=run)

Accuracy from a labeled CSV dataset: the mock's answers are a hash of the input, so it is
right on exactly one of the four samples; top-5 stays empty with 3 classes.

  $ $EDGEBENCH run $S/mock_labeled.lua --out lab -q
  $ cut -d, -f29-31 lab/results.csv
  accuracy_top1,accuracy_top5,accuracy_samples
  0.250000,,4

Usage errors exit 2 with one line.

  $ $EDGEBENCH run
  edgebench: run: which scenario? usage: edgebench run SCENARIO.lua
  [2]
  $ $EDGEBENCH run $S/mock_ok.lua --bogus
  edgebench: run: unknown option '--bogus'; see 'edgebench help run'
  [2]
  $ $EDGEBENCH run $S/mock_ok.lua --set novalue
  edgebench: run: --set needs KEY=VALUE
  [2]
  $ $EDGEBENCH run nosuch.lua
  edgebench: nosuch.lua* (glob)
  [2]
