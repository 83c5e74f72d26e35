# Sourced by the benchmark scripts: bench_exports prints one line per model that
# scripts/export_models.py exported into build/models (the main export of each model, not its
# other opsets): name <TAB> file <TAB> per-sample shape, comma-separated, no batch axis.
# Nothing when the exports are missing.  Needs $PY (PyTorch's python, for the csv module only).
bench_exports() {
  [ -f build/models/manifest.csv ] || return 0
  "$PY" - build/models/manifest.csv <<'PYEOF'
import csv, sys
for r in csv.DictReader(open(sys.argv[1])):
    if r["name"] == r["reference"]:
        print(f"{r['name']}\tbuild/models/{r['file']}\t{','.join(r['input_shape'].split('x')[1:])}")
PYEOF
}
