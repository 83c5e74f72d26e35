#!/usr/bin/env bash
# `make bench`, backends table: the zoo's latency per backend as ratios to ref, in one run.
#
#   scripts/bench_backends.sh [--quick] [--time S] [--limit N] [--no-spin] [--out DIR]
#
# One `edgebench run scenarios/backends.lua --set threads=1,2`: every variant listed in
# models/manifest.csv on ref, xnnpack, onnxruntime and pytorch at 1 and 2 threads, batch 1,
# Fashion-MNIST inputs.  From its results.csv, per variant and thread count: ref's
# latency_p50_ms (the harness's timed loop around the backend's run call; for the worker
# backends onnxruntime and pytorch that includes the pipe round trip and the copying of inputs
# and outputs, tens of microseconds: backends/worker/PROTOCOL.md) and every other backend's p50
# divided by ref's
# (below 1: faster than ref), with each backend's top-1 agreement with ref on the accuracy
# pass.  pytorch runs every variant from build/torchscript/NAME.pt, which `make torchscript`
# writes (run first here; a no-op when the exports are newer than models/*.onnx).  A backend that cannot run a variant shows its status (unsupported, failed, ...).
# Prints the table and writes it, with the machine, its load and how to reproduce, to
# OUT/backends.md (OUT defaults to build/bench); the run itself stays in OUT/backends-run/.
#
# --quick: 0.3 s loops and 300 images (a smoke test).  --time S: the shortest timed loop per
# trial (default 1).  --limit N: images in the accuracy pass (default 1000).  --no-spin: the
# worker runtimes' threads sleep between parallel sections (backends.lua's spin=0; on a machine
# other jobs keep busy, spinning 2-thread PyTorch stalls for ~100 ms a run).  One run: the
# backends are interleaved per variant, so a busy machine slows them alike, but it does not
# repeat rounds as scripts/bench.sh does; read the load line before quoting.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=/usr/bin/python3
EDGEBENCH=${EDGEBENCH:-$ROOT/bin/edgebench}
OUT=build/bench
TIME=1
LIMIT=1000
SPIN=1

die() { echo "bench_backends: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --quick) TIME=0.3; LIMIT=300 ;;
    --time) [ $# -ge 2 ] || die "--time needs seconds"; TIME=$2; shift ;;
    --limit) [ $# -ge 2 ] || die "--limit needs a number of images"; LIMIT=$2; shift ;;
    --no-spin) SPIN=0 ;;
    --out) [ $# -ge 2 ] || die "--out needs a directory"; OUT=$2; shift ;;
    -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (--help)" ;;
  esac
  shift
done
[[ $TIME =~ ^[0-9]*\.?[0-9]+$ ]] || die "--time: '$TIME' is not a number of seconds"
[[ $LIMIT =~ ^[0-9]+$ ]] || die "--limit: '$LIMIT' is not a number of images"
[ -x "$EDGEBENCH" ] || die "$EDGEBENCH is missing: run make first"
[ -f models/manifest.csv ] || die "models/manifest.csv is missing: run make models first"
# The pytorch backend's TorchScript exports (seconds; a stale or missing one would make pytorch
# rows `unsupported`).
if [ -z "${EDGEBENCH_TORCHSCRIPT_DIR:-}" ] && command -v make >/dev/null; then
  # -o: the binary as it is (it may be EDGEBENCH from elsewhere); only the exports are made.
  make --no-print-directory -s -o bin/edgebench torchscript >&2 || die "make torchscript failed"
fi

mkdir -p "$OUT"
RUN=$OUT/backends-run
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
cmd="edgebench run scenarios/backends.lua --set threads=1,2 --set min_time=${TIME}s --set limit=$LIMIT --set spin=$SPIN"
echo "bench_backends: $cmd" >&2
# Exit status 1 means some trial was not ok; the table shows which, so it is not fatal here.
rc=0
"$EDGEBENCH" run scenarios/backends.lua --set threads=1,2 --set "min_time=${TIME}s" \
  --set "limit=$LIMIT" --set "spin=$SPIN" --out "$RUN" -q 2>"$OUT/backends-run.err" || rc=$?
[ $rc -le 1 ] || { cat "$OUT/backends-run.err" >&2; die "edgebench run failed (status $rc)"; }
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)

"$PY" - "$RUN/results.csv" "$OUT/backends.md" "$cmd" "$started" "${cpu:-unknown CPU}" \
  "$(nproc)" "$load_before" "$load_after" <<'EOF'
import csv, sys

path, out, cmd, started, cpu, ncpu, load0, load1 = sys.argv[1:9]
rows = list(csv.DictReader(open(path, newline="")))
order = ["ref", "xnnpack", "onnxruntime", "pytorch"]
backends = [b for b in order if any(r["backend"] == b for r in rows)]
backends += sorted({r["backend"] for r in rows} - set(backends))
variants, threads = [], []
for r in rows:
    if r["variant"] not in variants:
        variants.append(r["variant"])
    if int(r["threads"]) not in threads:
        threads.append(int(r["threads"]))
threads.sort()
cell = {(r["variant"], int(r["threads"]), r["backend"]): r for r in rows}

def p50(r):
    try:
        return float(r["latency_p50_ms"]) if r["status"] == "ok" else None
    except (KeyError, ValueError):
        return None

others = [b for b in backends if b != "ref"]
head = ["variant", "threads", "ref p50 (ms)"] + ["%s / ref" % b for b in others] + \
       ["top-1 agreement with ref (%s)" % ", ".join(others)]
lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
for v in variants:
    for t in threads:
        ref = cell.get((v, t, "ref"))
        base = p50(ref) if ref else None
        out_cells = [v, str(t), "%.4g" % base if base else (ref["status"] if ref else "-")]
        agree = []
        for b in others:
            r = cell.get((v, t, b))
            if not r:
                out_cells.append("-")
                agree.append("-")
                continue
            x = p50(r)
            out_cells.append("%.2fx" % (x / base) if x and base else r["status"])
            a = r.get("agreement_vs_ref", "")
            agree.append("%.3f" % float(a) if a else "-")
        out_cells.append(" / ".join(agree))
        lines.append("| " + " | ".join(out_cells) + " |")
table = "\n".join(lines)
notes = []
for r in rows:
    if r["status"] != "ok" and r["threads"] == str(threads[0]):
        notes.append("- %s on %s: %s: %s" % (r["variant"], r["backend"], r["status"],
                                             r.get("error", "")))
report = """# Backends: latency p50 as ratios to ref

%s

Ratios are each backend's latency_p50_ms over ref's for the same variant and thread count
(below 1: faster than ref), measured in one run with the backends interleaved per variant.

- command: `%s` (scripts/bench_backends.sh)
- started: %s
- machine: %s, %s CPUs; load average (1/5/15 min) %s before, %s after
%s
""" % (table, cmd, started, cpu, ncpu, load0, load1, "\n".join(notes))
open(out, "w").write(report)
print(table)
print("\nload average %s before, %s after; report: %s" % (load0, load1, out))
EOF
