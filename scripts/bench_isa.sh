#!/usr/bin/env bash
# What each of ref's kernel sets costs on this machine: the same models at 1 thread with the
# kernels forced to AVX-512, AVX2+FMA and portable C (EDGEBENCH_REF_ISA), as ratios to the
# widest one, measured in one run.  Most edge x86 CPUs have no AVX-512 and aarch64 runs the
# portable C (with NEON vectors), so a kernel that is only fast on AVX-512 shows up here.
#
#   scripts/bench_isa.sh [--rounds N] [--time S] [--out DIR]
#
# Models: the zoo's mlp, cnn and cnn_int8, and scripts/export_models.py's exports in
# build/models (when present).  Each cell is `edgebench run scenarios/bench_model.lua`'s
# latency_p50_ms; the ISAs are interleaved model by model, ROUNDS times (default 2), and each
# cell is the smallest of its rounds' medians (a shared machine only ever adds time).  The ISA a
# row really ran is read back from results.csv's backend_plan (a CPU without AVX-512 runs the
# next one down, and the table says so).  Writes OUT/isa.md (OUT defaults to build/bench/isa).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench_exports.sh
PY=/usr/bin/python3
EDGEBENCH=${EDGEBENCH:-$PWD/bin/edgebench}
OUT=build/bench/isa ROUNDS=2 TIME=0.5
die() { echo "bench_isa: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) [ $# -ge 2 ] || die "--rounds needs a number"; ROUNDS=$2; shift ;;
    --time) [ $# -ge 2 ] || die "--time needs seconds"; TIME=$2; shift ;;
    --out) [ $# -ge 2 ] || die "--out needs a directory"; OUT=$2; shift ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (--help)" ;;
  esac
  shift
done
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "--rounds: '$ROUNDS' is not a positive integer"
[[ $TIME =~ ^[0-9]*\.?[0-9]+$ ]] || die "--time: '$TIME' is not a number of seconds"
[ -x "$EDGEBENCH" ] || die "$EDGEBENCH missing; run make"
rm -rf "$OUT/runs" # the table takes every run it finds: none from an earlier binary
mkdir -p "$OUT/runs"

# name <TAB> file <TAB> per-sample shape (no batch axis)
models=$(
  printf 'mlp\tmodels/mlp.onnx\t1,28,28\ncnn\tmodels/cnn.onnx\t1,28,28\n'
  printf 'cnn_int8\tmodels/cnn_int8.onnx\t1,28,28\n'
  bench_exports
)

for ((round = 1; round <= ROUNDS; round++)); do
  while IFS=$'\t' read -r name file shape; do
    [ -f "$file" ] || { echo "bench_isa: $file missing, skipped" >&2; continue; }
    echo "bench_isa: round $round/$ROUNDS $name" >&2
    for isa in avx512 avx2 portable; do
      dir=$OUT/runs/$name-$isa-r$round
      rm -rf "$dir"
      EDGEBENCH_REF_ISA=$isa "$EDGEBENCH" run scenarios/bench_model.lua --out "$dir" -q \
        --set model="$file" --set shape="$shape" --set threads=1 --set min_time="${TIME}s" \
        --set max_time="$(awk -v t="$TIME" 'BEGIN { print 3 * t }')s" >"$dir.log" 2>&1 || true
    done
  done <<<"$models"
done

"$PY" - "$OUT" "$ROUNDS" <<'EOF'
import csv, glob, os, re, subprocess, sys
out, rounds = sys.argv[1], int(sys.argv[2])
cells = {}   # (model, isa) -> (best p50, isa actually run)
order = []
for path in sorted(glob.glob(os.path.join(out, "runs", "*-r*", "results.csv"))):
    m = re.match(r"(.+)-(avx512|avx2|portable)-r\d+$", os.path.basename(os.path.dirname(path)))
    rows = list(csv.DictReader(open(path)))
    if not m or not rows or rows[0]["status"] != "ok":
        continue
    model, isa = m.groups()
    ran = re.search(r"isa=(\w+)", rows[0].get("backend_plan", ""))
    p50 = float(rows[0]["latency_p50_ms"])
    best = cells.get((model, isa))
    if best is None or p50 < best[0]:
        cells[(model, isa)] = (p50, ran.group(1) if ran else "?")
    if model not in order:
        order.append(model)
cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"],
                     capture_output=True, text=True).stdout.strip()
lines = [f"ref's kernel sets at 1 thread, batch 1 (p50 ms, smallest of {rounds} rounds' medians; "
         f"{cpu}; `bash scripts/bench_isa.sh`)", "",
         "| model | avx512 | avx2 | portable | avx2 / avx512 | portable / avx512 |",
         "|---|---|---|---|---|---|"]
for model in order:
    c = [cells.get((model, isa)) for isa in ("avx512", "avx2", "portable")]
    def ms(x, want):
        if x is None:
            return "failed"
        return f"{x[0]:.4g}" + ("" if x[1] == want else f" (ran {x[1]})")
    def ratio(x):
        return f"{x[0] / c[0][0]:.2f}x" if x and c[0] else ""
    lines.append(f"| {model} | {ms(c[0], 'avx512')} | {ms(c[1], 'avx2')} | "
                 f"{ms(c[2], 'portable')} | {ratio(c[1])} | {ratio(c[2])} |")
text = "\n".join(lines) + "\n"
open(os.path.join(out, "isa.md"), "w").write(text)
print(text, end="")
EOF
