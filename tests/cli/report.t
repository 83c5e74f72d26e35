`report`: plots, index.html, report.md and the recommendation from a finished run.

A fixed run (deterministic numbers): a base, an int8 variant half a point less accurate, a
pruned one 2.3 points less accurate, the base on 2 threads over the p99 budget, a failure.

  $ mkdir fx
  $ cat > fx/results.csv <<'EOF'
  > run_id,scenario,variant,kind,base,backend,threads,cores,batch,status,error,iterations,latency_p50_ms,latency_p90_ms,latency_p99_ms,latency_p50_lo_ms,latency_p50_hi_ms,throughput_ips,peak_rss_kb,model_bytes,accuracy_top1,mode,trial
  > r1,fx,original,original,,ref,1,all,1,ok,,5,2.0,2.5,3.0,1.9,2.1,500,9000,400000,0.900,single_stream,1
  > r1,fx,int8,quantized,original,ref,1,all,1,ok,,5,1.0,1.2,1.5,0.9,1.1,1000,7000,100000,0.895,single_stream,2
  > r1,fx,pruned,pruned,original,ref,1,all,1,ok,,5,0.5,0.7,0.8,0.4,0.6,2000,6000,200000,0.877,single_stream,3
  > r1,fx,original,original,,ref,2,all,1,ok,,5,4.0,6.0,7.1,3.9,4.1,250,9500,400000,0.900,single_stream,4
  > r1,fx,int8,quantized,original,ref,2,all,1,failed,"run: bad shape",0,,,,,,,,100000,,single_stream,5
  > EOF
  $ printf 'run_id,variant,backend,threads,iteration,latency_ms,trial\n' > fx/samples.csv
  $ for t in 1 2 3 4; do for i in 1 2 3 4 5; do echo "r1,v,ref,1,$i,$t.$i,$t"; done; done >> fx/samples.csv
  $ cat > fx/run.csv <<'EOF'
  > key,value
  > run_id,r1
  > scenario,fx
  > objective,latency
  > constraint.accuracy_drop,0.01
  > constraint.p99_ms,5
  > cpu_model,Test CPU
  > arch,x86_64
  > cores,4
  > pus,4
  > os,TestOS
  > governor,performance
  > fingerprint,x86_64-4c4t-test
  > EOF

  $ $EDGEBENCH report fx --out out
  recommendation: objective latency (lowest p50, ties by p99); constraints: accuracy drop <= 1.0 points, p99 <= 5 ms
    pick:      int8 on ref, 1 thread (p50 1 ms, p99 1.5 ms, top1 89.50% (-0.5 points vs original), peak 7000 kB)
    runner-up: original on ref, 1 thread (p50 2 ms, p99 3 ms, top1 90.00%, peak 9000 kB)
    excluded:  pruned on ref, 1 thread: accuracy drop 2.3 points > 1.0 vs base 'original'
    excluded:  original on ref, 2 threads: p99 7.1 ms > 5 ms
    excluded:  int8 on ref, 2 threads: failed: run: bad shape
  
  report: out/index.html, out/report.md (5 plots in out/plots)

Every plot is a self-contained gnuplot script beside its image; energy is not drawn (nothing
measured it) and the page says why.

  $ ls out out/plots
  out:
  index.html
  plots
  report.md
  
  out/plots:
  accuracy_p99.gp
  accuracy_p99.png
  latency_cdf.gp
  latency_cdf.png
  latency_trace.gp
  latency_trace.png
  scaling.gp
  scaling.png
  size_memory.gp
  size_memory.png
  $ grep -c 'src="data:image/png;base64,iVBORw0KGgo' out/index.html
  5
  $ grep -o 'Energy per inference (mJ): not drawn: [^<]*' out/index.html
  Energy per inference (mJ): not drawn: no trial measured energy (see the energy meter under Device)
  $ grep -o '<div class=pick>[^<]*</div>' out/index.html
  <div class=pick>Ship: int8 on ref, 1 thread</div>
  $ grep -c '<tr class=bad>' out/index.html
  4

report.md is short enough for a CI comment.

  $ cat out/report.md
  ## edgebench report: fx
  
  **Device:** Test CPU x86_64, 4 cores / 4 threads, TestOS, governor performance, fingerprint `x86_64-4c4t-test`
  
  **Run:** r1, commit , 5 trials
  
  ### Recommendation
  
  Objective: latency (lowest p50, ties by p99). Constraints: accuracy drop <= 1.0 points, p99 <= 5 ms.
  
  **Ship: int8 on ref, 1 thread** — p50 1 ms, p99 1.5 ms, top-1 89.50%, peak 7000 kB
  Runners-up: original on ref, 1 thread.
  
  | configuration | status | p50 ms | p99 ms | top-1 | peak kB | verdict |
  |---|---|--:|--:|--:|--:|---|
  | int8/ref/1t | ok | 1 | 1.5 | 89.50% | 7000 | **pick** |
  | original/ref/1t | ok | 2 | 3 | 90.00% | 9000 | runner-up (2) |
  | pruned/ref/1t | ok | 0.5 | 0.8 | 87.70% | 6000 | excluded: accuracy drop 2.3 points > 1.0 vs base 'original' |
  | original/ref/2t | ok | 4 | 7.1 | 90.00% | 9500 | excluded: p99 7.1 ms > 5 ms |
  | int8/ref/2t | failed | - | - | - | - | excluded: failed: run: bad shape |
  
  Plots (5) and full statistics with confidence intervals: index.html.
  $ test $(wc -l < out/report.md) -le 60

The objective ranks what passes: size picks the smallest model file.

  $ sed -i 's/^objective,latency/objective,size/' fx/run.csv
  $ $EDGEBENCH report fx --out out-size | grep -E 'pick|runner'
    pick:      int8 on ref, 1 thread (p50 1 ms, p99 1.5 ms, top1 89.50% (-0.5 points vs original), peak 7000 kB, model 98 kB)
    runner-up: original on ref, 1 thread (p50 2 ms, p99 3 ms, top1 90.00%, peak 9000 kB, model 391 kB)

SVG plots are embedded as images too.

  $ $EDGEBENCH report fx --out out-svg --format svg > /dev/null
  $ ls out-svg/plots/*.svg | wc -l
  5
  $ grep -c 'src="data:image/svg+xml;base64,' out-svg/index.html
  5

Without gnuplot the page is still written, and one warning says why.

  $ PATH=/nonexistent $EDGEBENCH report fx --out nognu > /dev/null
  edgebench: warning: gnuplot not found on PATH: plots skipped (install gnuplot-nox; the scripts are in nognu/plots)
  $ ls nognu/plots/*.png 2>/dev/null | wc -l
  0
  $ grep -c '<img' nognu/index.html
  0
  [1]
  $ grep -o 'not drawn: gnuplot is not installed' nognu/index.html | wc -l
  5

Bad input: one line, exit 2.

  $ $EDGEBENCH report nowhere
  edgebench: nowhere: no results.csv here; * (glob)
  [2]
  $ mkdir junk && printf 'hello,world\n1,2\n' > junk/results.csv
  $ $EDGEBENCH report junk
  edgebench: junk/results.csv: no 'variant' column, not a results file of edgebench run; give the directory `edgebench run` wrote
  [2]
  $ mkdir empty && head -1 fx/results.csv > empty/results.csv
  $ $EDGEBENCH report empty
  edgebench: empty/results.csv: no trials; run the scenario to the end first
  [2]
  $ printf 'key,value\nconstraint.p99_ms,fast\n' > empty/run.csv && cp fx/results.csv empty/
  $ $EDGEBENCH report empty
  edgebench: empty/run.csv: constraint.p99_ms is 'fast', not a number >= 0; fix the scenario's constraints and run again
  [2]
  $ $EDGEBENCH report fx --format gif
  edgebench: report: --format is 'gif'; use png or svg
  [2]
  $ $EDGEBENCH report
  edgebench: report: which run? usage: edgebench report RESULTS_DIR [--out DIR] [--format png|svg]
  [2]

A real mock run with a p99 budget nothing can meet: every row says why.

  $ cat > tight.lua <<'EOF'
  > return scenario {
  >   name = "tight",
  >   dataset = dataset.random { shape = { 1, 8, 8 }, count = 16, seed = 3 },
  >   variants = { { name = "a", kind = "original" }, { name = "b", kind = "pruned", base = "a" } },
  >   backends = { "mock" },
  >   backend_options = { mock = { latency_ms = 0.1 } },
  >   measure = { warmup = 0, min_iterations = 20, min_time = 0, max_time = "1s" },
  >   constraints = { p99_ms = 0.001 },
  > }
  > EOF
  $ EDGEBENCH_SYSFS=$ROOT/tests/data/sysfs/empty $EDGEBENCH run tight.lua --out tight -q
  $ $EDGEBENCH report tight
  recommendation: objective latency (lowest p50, ties by p99); constraints: p99 <= 0.001 ms
    no configuration meets the constraints
    excluded:  a on mock, 1 thread: p99 * ms > 0.001 ms (glob)
    excluded:  b on mock, 1 thread: p99 * ms > 0.001 ms (glob)
  
  report: tight/index.html, tight/report.md (3 plots in tight/plots)

The quickstart (real models, accuracy on Fashion-MNIST) renders in headless Chromium: the
page's own check says every embedded image decoded, and the tables are there.  The run sees
an empty sysfs tree, so no energy plot is drawn whatever meters the machine has; which model
is picked (the lower p50) is the machine's, so only the pick's form is checked.

  $ (cd $ROOT && EDGEBENCH_SYSFS=$ROOT/tests/data/sysfs/empty $EDGEBENCH run scenarios/quickstart.lua --quick --out "$OLDPWD/qs" -q)
  $ $EDGEBENCH report qs > /dev/null
  $ render() {
  >   chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  >     --disable-background-networking --disable-component-update --disable-sync \
  >     --user-data-dir="$(mktemp -d)" --virtual-time-budget=5000 "$@" 2>/dev/null
  > }
  $ render --dump-dom "file://$PWD/qs/index.html" > qs.dom
  $ grep -o 'data-check="[^"]*"' qs.dom
  data-check="ok 4"
  $ grep -c '<h2 id="\(recommendation\|trials\|plots\|device\)">' qs.dom
  4
  $ grep -o '<div class="pick">[^<]*</div>' qs.dom
  <div class="pick">Ship: (mlp|cnn) on ref, 1 thread</div> (re)
  $ render --dump-dom "file://$PWD/out-svg/index.html" | grep -o 'data-check="[^"]*"'
  data-check="ok 5"

A broken image is caught by the same check.

  $ sed 's|base64,iVBORw0KGgo|base64,AAAA|' out/index.html > broken.html
  $ render --dump-dom "file://$PWD/broken.html" | grep -o 'data-check="[^"]*"'
  data-check="broken 5/5"
  $ render --window-size=1280,2000 --screenshot="$PWD/qs.png" "file://$PWD/qs/index.html"
  $ test -s qs.png
