#!/usr/bin/env bash
# What each way of shrinking the seed buys, as ratios measured in one run on this machine
# (issue 4's targets): int8 CNN vs fp32 CNN, the 95%-pruned MLP vs the dense one, the distilled
# student vs its teacher (and its accuracy), the unmerged LoRA vs the merged one.  One
# `edgebench run scenarios/variants.lua` at 1 thread; medians (latency_p50_ms) from results.csv.
# Usage: scripts/bench_variants.sh [--out DIR] [--min-time 1s] [--limit 2000]
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/bench/variants min_time=1s limit=2000
while [ $# -gt 0 ]; do
  case $1 in
    --out) out=$2; shift 2 ;;
    --min-time) min_time=$2; shift 2 ;;
    --limit) limit=$2; shift 2 ;;
    *) echo "bench_variants.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
sed 's/  threads = { 1, 2 },/  threads = { 1 },/' scenarios/variants.lua > "$out/variants_1t.lua"
./bin/edgebench run "$out/variants_1t.lua" --out "$out/run" -q \
  --set min_time="$min_time" --set limit="$limit"
/usr/bin/python3 - "$out/run/results.csv" "$out/variants.md" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
def row(variant, dataset_contains=""):
    for r in rows:
        if r["variant"] == variant and r["status"] == "ok" and dataset_contains in r["dataset"]:
            return r
    sys.exit("bench_variants: no ok row for %s" % variant)
def p50(v, d=""):
    return float(row(v, d)["latency_p50_ms"])
def acc(v, d=""):
    return 100 * float(row(v, d)["accuracy_top1"])
checks = [
    ("int8 CNN / fp32 CNN (p50)", p50("cnn_int8") / p50("cnn"), "<= 0.50"),
    ("95%-pruned MLP / dense MLP (p50)", p50("mlp_pruned95") / p50("mlp"), "<= 0.34"),
    ("80%-pruned MLP / dense MLP (p50)", p50("mlp_pruned80") / p50("mlp"), ""),
    ("50%-pruned MLP / dense MLP (p50)", p50("mlp_pruned50") / p50("mlp"), ""),
    ("dynamic-int8 MLP / fp32 MLP (p50)", p50("mlp_int8_dyn") / p50("mlp"), ""),
    ("half-channel CNN / CNN (p50)", p50("cnn_half") / p50("cnn"), ""),
    ("distilled student / teacher (p50)", p50("cnn_student_kd") / p50("cnn"), "<= 0.34"),
    ("student from scratch / teacher (p50)", p50("cnn_student") / p50("cnn"), ""),
    ("LoRA unmerged / merged (p50, the branch's overhead)",
     p50("cnn_lora_unmerged") / p50("cnn_lora_merged"), ""),
]
lines = ["| comparison | ratio | target |", "|---|---|---|"]
for name, r, target in checks:
    ok = "" if not target else (" ok" if r <= float(target.split()[1]) else " MISSED")
    lines.append("| %s | %.2fx | %s%s |" % (name, r, target, ok))
lines.append("")
lines.append("| accuracy (top-1, %d images) | clean | inverted |" % int(row("cnn")["accuracy_samples"]))
lines.append("|---|---|---|")
for v in ["cnn", "cnn_int8", "mlp", "mlp_pruned95", "cnn_student_kd", "cnn_student"]:
    lines.append("| %s | %.2f%% | |" % (v, acc(v)))
lines.append("| cnn (base) on the shifted set | | %.2f%% |" % acc("cnn", "inverted"))
for v in ["cnn_lora_unmerged", "cnn_lora_merged"]:
    lines.append("| %s | | %.2f%% |" % (v, acc(v, "inverted")))
lines.append("")
lines.append("distilled student: %.2f points from the teacher (target: within 3); "
             "distillation bought %+.2f points over the same student trained alone"
             % (acc("cnn") - acc("cnn_student_kd"), acc("cnn_student_kd") - acc("cnn_student")))
text = "\n".join(lines)
print(text)
open(sys.argv[2], "w").write(text + "\n")
PY
