#!/usr/bin/env bash
# `make bench`: ref beside ONNX Runtime, measured in one run, as ratios.
#
#   scripts/bench.sh [--quick] [--rounds N] [--time S] [--models NAME,...] [--out DIR]
#                    [--ort-basis wall|prof]
#
# 1. GEMM: runs build/bench/gemm_bench (or $GEMM_BENCH) when it exists: the kernels' own table,
#    lines "M N K GFLOP/s peak%" (lines starting with # are notes), copied into the report.
# 2. Models: the zoo (models/mlp.onnx, models/cnn.onnx) and the exports of
#    scripts/export_models.py (build/models/: mobilenet_v2, resnet18, transformer, squeezenet1_1,
#    shufflenet_v2_x0_5, mnasnet0_5; exported first if missing), batch 1, random inputs.
#    Each model is timed on
#      ref  `bin/edgebench run scenarios/bench_model.lua` at 1 and 2 threads: latency_p50_ms of
#           results.csv (the harness's timed loop around the backend's run call)
#      ORT  `node scripts/ort_run.js` at 1 and 2 intra-op threads with its profiler OFF: the p50 of
#           the wall time around session.run (ORT's real speed plus the node binding's call,
#           at most ~15 us: the whole of the zoo MLP's run), and once more at 1 thread with the
#           profiler ON: the p50 of ONNX Runtime's own "model_run" durations (ort_1t_prof_ms).
#           The profiler's per-node trace events slow ORT itself down (measured here: the
#           transformer 0.16 -> 0.71 ms, shufflenet 0.75 -> 3.0 ms), so that figure is shown
#           but the ratio is taken against the unprofiled one (--ort-basis prof switches).
#    in the order ref 1t, ORT 1t, ref 2t, ORT 2t, ORT 1t profiled, model after model, and the
#    whole sweep is repeated ROUNDS times (default 2).  A machine shared with other work only
#    ever adds time, so each cell is the smallest of its rounds' medians.  A model ref refuses
#    is shown as "unsupported (op X)" and is not retried.
# 3. Prints the table and writes it, with the machine and how to reproduce, to OUT/report.md
#    (OUT defaults to build/bench); the raw measurements go to OUT/raw.jsonl.
#
# --quick: one round, 0.3 s loops (a smoke test, ~1 min).  --time S: the shortest timed loop per
# measurement (default 1; the longest is 3x that).  Takes ~3 minutes on 2 cores by default.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench_exports.sh
ROOT=$PWD
PY=/usr/bin/python3
EDGEBENCH=${EDGEBENCH:-$ROOT/bin/edgebench}
OUT=build/bench
ROUNDS=2
TIME=1
ONLY=""
BASIS=wall

die() { echo "bench: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --quick) ROUNDS=1; TIME=0.3 ;;
    --rounds) [ $# -ge 2 ] || die "--rounds needs a number"; ROUNDS=$2; shift ;;
    --time) [ $# -ge 2 ] || die "--time needs seconds"; TIME=$2; shift ;;
    --models) [ $# -ge 2 ] || die "--models needs NAME,..."; ONLY=$2; shift ;;
    --out) [ $# -ge 2 ] || die "--out needs a directory"; OUT=$2; shift ;;
    --ort-basis) [ $# -ge 2 ] || die "--ort-basis needs wall or prof"; BASIS=$2; shift ;;
    -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (--help)" ;;
  esac
  shift
done
[[ $BASIS =~ ^(wall|prof)$ ]] || die "--ort-basis: '$BASIS' is not wall or prof"
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "--rounds: '$ROUNDS' is not a positive integer"
[[ $TIME =~ ^[0-9]*\.?[0-9]+$ ]] || die "--time: '$TIME' is not a number of seconds"
MAX_TIME=$(awk -v t="$TIME" 'BEGIN { printf "%g", 3 * t }')

[ -x "$EDGEBENCH" ] || die "$EDGEBENCH missing; run make"
command -v node >/dev/null || die "node missing; run scripts/deps.sh"
[ -d scripts/ort/node_modules/onnxruntime-node ] || die "onnxruntime-node missing; run make ort"

mkdir -p "$OUT/runs"
RAW=$OUT/raw.jsonl
: >"$RAW"
GEMM_OUT=$OUT/gemm.txt
rm -f "$GEMM_OUT"
START=$(date +%s)

# ---- GEMM hook --------------------------------------------------------------------------------
GEMM_BIN=${GEMM_BENCH:-build/bench/gemm_bench}
if [ -x "$GEMM_BIN" ]; then
  echo "bench: $GEMM_BIN" >&2
  if ! "$GEMM_BIN" >"$GEMM_OUT" 2>&1; then
    echo "bench: gemm_bench failed (exit $?); its output is in $GEMM_OUT" >&2
  fi
  cat "$GEMM_OUT"
fi

# ---- models -----------------------------------------------------------------------------------
if ! "$PY" scripts/export_models.py --out build/models >"$OUT/export.log" 2>&1; then
  echo "bench: scripts/export_models.py failed (see $OUT/export.log); timing the zoo only" >&2
fi
# name <TAB> file <TAB> per-sample shape (no batch axis)
models=$(
  printf 'mlp\tmodels/mlp.onnx\t1,28,28\ncnn\tmodels/cnn.onnx\t1,28,28\n'
  bench_exports
)
if [ -n "$ONLY" ]; then
  models=$(echo "$models" | awk -F'\t' -v only=",$ONLY," 'index(only, "," $1 ",")')
  [ -n "$models" ] || die "--models $ONLY: none of these is a known model"
fi

# record ROUND MODEL ENGINE THREADS SOURCE: appends one JSON line to raw.jsonl; SOURCE is the
# run's results.csv (ref) or the file holding ort_run.js's stdout+stderr (ORT).
record() {
  "$PY" - "$@" >>"$RAW" <<'EOF'
import csv, json, re, sys
rnd, model, engine, threads, src = sys.argv[1:6]
rec = {"round": int(rnd), "model": model, "engine": engine, "threads": int(threads)}
def short(msg):
    m = re.search(r"\(op (\w+)\): operator not supported", msg)
    if m:
        return "unsupported", f"unsupported (op {m.group(1)})"
    return "failed", "failed: " + msg.strip().splitlines()[-1][:100] if msg.strip() else "failed"
try:
    if engine == "ref":
        rows = list(csv.DictReader(open(src)))
        r = rows[0]
        if r["status"] == "ok":
            rec.update(status="ok", p50_ms=float(r["latency_p50_ms"]),
                       iterations=int(r["iterations"]),
                       macs=int(r["macs"]) if r.get("macs") else None)
        else:
            rec["status"], rec["error"] = short(r["error"] or r["status"])
    else:
        text = open(src).read()
        line = [l for l in text.splitlines() if l.startswith("{")]
        if line:
            j = json.loads(line[-1])
            # ort: profiler off, wall time; ortprof: the profiler's model_run time.
            p50 = j["ort_p50_ms"] if engine == "ortprof" else j["wall_p50_ms"]
            rec.update(status="ok" if p50 is not None else "failed", p50_ms=p50,
                       wall_p50_ms=j["wall_p50_ms"], iterations=j["iterations"],
                       ort_version=j["ort_version"])
        else:
            rec["status"], rec["error"] = "failed", "failed: " + (text.strip().splitlines() or ["?"])[-1][:100]
except (OSError, IndexError, KeyError, ValueError) as e:
    rec["status"], rec["error"] = "failed", f"failed: no result ({e})"
print(json.dumps(rec))
EOF
}

declare -A ref_refused=()
for ((round = 1; round <= ROUNDS; round++)); do
  while IFS=$'\t' read -r name file shape; do
    [ -n "$name" ] || continue
    if [ ! -f "$file" ]; then
      echo "bench: $file missing, skipped" >&2; continue
    fi
    echo "bench: round $round/$ROUNDS $name" >&2
    for t in 1 2; do
      dir=$OUT/runs/$name-ref-${t}t-r$round
      if [ -z "${ref_refused[$name]:-}" ]; then
        rm -rf "$dir"
        "$EDGEBENCH" run scenarios/bench_model.lua --out "$dir" -q --set model="$file" \
          --set shape="$shape" --set threads=$t --set min_time="${TIME}s" \
          --set max_time="${MAX_TIME}s" >"$dir.log" 2>&1 || true
        record "$round" "$name" ref "$t" "$dir/results.csv"
        if tail -1 "$RAW" | grep -q '"status": "unsupported"'; then ref_refused[$name]=1; fi
      fi
      log=$OUT/runs/$name-ort-${t}t-r$round.log
      node scripts/ort_run.js "$file" --threads "$t" --warmup 5 --iterations 10 --no-profile \
        --min-time "$TIME" --max-time "$MAX_TIME" >"$log" 2>&1 || true
      record "$round" "$name" ort "$t" "$log"
    done
    log=$OUT/runs/$name-ortprof-1t-r$round.log
    # At most 200 runs: the trace holds every node event of every run (1,100 runs of the
    # transformer are a 750 MB node process).
    node scripts/ort_run.js "$file" --threads 1 --warmup 5 --iterations 200 \
      --max-time "$TIME" >"$log" 2>&1 || true
    record "$round" "$name" ortprof 1 "$log"
  done <<<"$models"
done
SECONDS_TAKEN=$(($(date +%s) - START))

# ---- report -----------------------------------------------------------------------------------
"$PY" - "$RAW" "$OUT/report.md" "$GEMM_OUT" "$ROUNDS" "$TIME" "$SECONDS_TAKEN" "$BASIS" <<'EOF'
import json, os, platform, subprocess, sys, time
raw, report, gemm, rounds, tloop, took, basis = sys.argv[1:8]
recs = [json.loads(l) for l in open(raw) if l.strip()]
models = list(dict.fromkeys(r["model"] for r in recs))

def cell(model, engine, threads):
    """(best p50 over rounds or None, text if not ok, record)"""
    rs = [r for r in recs if (r["model"], r["engine"], r["threads"]) == (model, engine, threads)]
    ok = [r for r in rs if r["status"] == "ok"]
    if ok:
        best = min(ok, key=lambda r: r["p50_ms"])
        return best["p50_ms"], None, best
    if rs:
        return None, rs[0].get("error", rs[0]["status"]), rs[0]
    return None, "-", None

def ms(x):
    return "-" if x is None else (f"{x:.3f}" if x < 10 else f"{x:.1f}")

base_name = "ort_1t_ms" if basis == "wall" else "ort_1t_prof_ms"
head = ["model", "ref_1t_ms", "ort_1t_ms", f"ratio ref/ort", "ref_2t_ms", "speedup 2t/1t",
        "ort_2t_ms", "ort speedup 2t/1t", "ort_1t_prof_ms", "ratio ref/ort_prof",
        "ref_1t GFLOP/s"]
rows, within, ran = [], 0, 0
for m in models:
    r1, e1, rec1 = cell(m, "ref", 1)
    r2, e2, _ = cell(m, "ref", 2)
    o1, f1, _ = cell(m, "ort", 1)
    o2, f2, _ = cell(m, "ort", 2)
    p1, g1, _ = cell(m, "ortprof", 1)
    basis_ms = o1 if basis == "wall" else p1
    if r1 and basis_ms:
        ran += 1
        within += r1 / basis_ms <= 1.5
    gflops = "-"
    if r1 and rec1.get("macs"):
        gflops = f"{2 * rec1['macs'] / (r1 * 1e-3) / 1e9:.1f}"
    rows.append([m, ms(r1) if r1 else e1, ms(o1) if o1 else f1,
                 f"{r1 / o1:.2f}x" if r1 and o1 else "-",
                 ms(r2) if r2 else ("-" if e1 == e2 else e2),
                 f"{r1 / r2:.2f}x" if r1 and r2 else "-",
                 ms(o2) if o2 else f2, f"{o1 / o2:.2f}x" if o1 and o2 else "-",
                 ms(p1) if p1 else g1, f"{r1 / p1:.2f}x" if r1 and p1 else "-", gflops])

def table(head, rows):
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)

ortv = next((r.get("ort_version") for r in recs if r.get("ort_version")), "?")
cpu, isa = "?", "?"
try:
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name") and cpu == "?":
            cpu = line.split(":", 1)[1].strip()
        if line.startswith(("flags", "Features")) and isa == "?":
            have = set(line.split(":", 1)[1].split())
            # ONNX Runtime picks its kernels by these at run time; AVX-512 doubles the peak.
            isa = " ".join(f for f in ("sse4_2", "avx2", "fma", "avx512f", "avx512_vnni",
                                       "asimd", "sve") if f in have) or "baseline"
except OSError:
    pass
try:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or "?"
except OSError:
    commit = "?"
summary = (f"ref within 1.5x of ONNX Runtime ({base_name}) at 1 thread: {within} of {ran} models it runs "
           f"({len(models) - ran} not compared: ref or ORT could not run them)")
md = [f"# edgebench bench, {time.strftime('%Y-%m-%d %H:%M:%S %Z')}", "",
      f"- machine: {cpu}, {os.cpu_count()} logical CPUs, {platform.machine()} ({isa}); "
      f"commit {commit}",
      f"- ONNX Runtime {ortv} (npm onnxruntime-node, CPU, graph optimization all, "
      f"interOpNumThreads 1)",
      f"- batch 1, random inputs; {rounds} interleaved round(s), loops of {tloop}-{3 * float(tloop):g} s; "
      f"each cell is the smallest per-round median; took {took} s",
      "- ref_*: edgebench `run` latency_p50_ms; ort_1t_ms, ort_2t_ms: wall time around "
      "session.run in node, ORT's profiler off; ort_1t_prof_ms: ONNX Runtime's own profiler, "
      "model_run p50 (its per-node tracing slows ORT down, so it reads high on many-node models)",
      "- reproduce: `make bench` (or `bash scripts/bench.sh --quick`); raw data in raw.jsonl", ""]
if os.path.exists(gemm):
    lines = [l for l in open(gemm).read().splitlines() if l.strip()]
    data = [l.split() for l in lines if not l.lstrip().startswith("#")]
    md += ["## GEMM (gemm_bench)", ""]
    if data and all(len(d) == 5 for d in data):
        numeric = [d for d in data if d[0].isdigit()]   # skips a header line if it prints one
        md += [table(["M", "N", "K", "GFLOP/s", "peak %"], numeric), ""]
        md += [l.lstrip()[1:].strip() for l in lines if l.lstrip().startswith("#")] + [""]
    else:
        md += ["```", "\n".join(lines), "```", ""]
md += ["## Models", "", table(head, rows), "", summary, ""]
text = "\n".join(md)
with open(report, "w") as f:
    f.write(text)
print()
print(table(head, rows))
print()
print(summary)
print(f"report: {report}")
EOF
