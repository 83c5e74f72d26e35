#!/usr/bin/python3
"""Real architectures on edgebench's engines, checked against PyTorch.

    tests/conformance/torchvision.py [MODELS_DIR] [--edgebench PATH] [--backend NAME]
                                     [--only NAME,...] [--no-export]

1. Unless --no-export, runs scripts/export_models.py --out MODELS_DIR (default build/models;
   it returns at once when the exports are up to date, ~15 s otherwise).
2. For every row of MODELS_DIR/manifest.csv (mobilenet_v2, resnet18, the transformer at opsets
   13/11/17, squeezenet, shufflenet, mnasnet), runs
       EDGEBENCH infer --backend NAME MODELS_DIR/FILE --input reference/REF-input.npy
                  --output TMP/out.npy
   and compares with reference/REF-output.npy (the eval-mode PyTorch model's output):
       max|out - ref| / max|ref| <= 1e-3   and
       np.allclose(out, ref, rtol=1e-3, atol=1e-4 * max|ref|)
   (issue 3: "outputs equal PyTorch's within 1e-3 relative").
   --backend ort runs ONNX Runtime instead (scripts/ort_run.js; `make ort` first): a check of
   the exports and references themselves against an independent engine.

Prints one PASS/FAIL line per model -- a failed infer shows the engine's own one-line message,
e.g. "operator not supported by ref" -- and closes with "N passed, N failed".  Exits 1 if any
model failed, 2 on a usage error.
"""
import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

REL_TOL = 1e-3
RTOL = 1e-3
ATOL_FRACTION = 1e-4
INFER_TIMEOUT_S = 120
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def compare(out, ref):
    """(ok, detail) for an engine's output against PyTorch's."""
    if out.shape != ref.shape:
        return False, f"shape {list(out.shape)}, expected {list(ref.shape)}"
    if not np.all(np.isfinite(out)):
        return False, f"{int(np.sum(~np.isfinite(out)))} non-finite values"
    scale = float(np.max(np.abs(ref))) or 1.0
    diff = np.abs(out.astype(np.float64) - ref.astype(np.float64))
    rel = float(np.max(diff)) / scale
    close = np.allclose(out, ref, rtol=RTOL, atol=ATOL_FRACTION * scale)
    ok = rel <= REL_TOL and close
    detail = f"max rel {rel:.2e}"
    if not close:
        bad = int(np.sum(diff > RTOL * np.abs(ref) + ATOL_FRACTION * scale))
        detail += f", {bad}/{ref.size} elements outside rtol {RTOL} atol {ATOL_FRACTION}*max|ref|"
    return ok, detail


def first_line(text):
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("models", nargs="?", default=os.path.join(ROOT, "build", "models"))
    ap.add_argument("--edgebench", default=os.environ.get("EDGEBENCH",
                                                          os.path.join(ROOT, "bin", "edgebench")))
    ap.add_argument("--backend", default="ref",
                    help="an edgebench backend, or 'ort' for ONNX Runtime (default ref)")
    ap.add_argument("--only", help="comma-separated manifest names")
    ap.add_argument("--no-export", action="store_true", help="use MODELS_DIR as it is")
    args = ap.parse_args()

    if args.backend != "ort" and not os.access(args.edgebench, os.X_OK):
        print(f"torchvision: {args.edgebench} is not an executable; run `make` first",
              file=sys.stderr)
        return 2
    if not args.no_export:
        r = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "export_models.py"),
                            "--out", args.models], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            print(r.stdout, end="")
            print(f"torchvision: scripts/export_models.py failed (exit {r.returncode})",
                  file=sys.stderr)
            print("0 passed, 1 failed")
            return 1
    manifest = os.path.join(args.models, "manifest.csv")
    try:
        with open(manifest, newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        print(f"torchvision: {manifest}: {e.strerror}; run scripts/export_models.py",
              file=sys.stderr)
        return 2
    if args.only:
        keep = {n.strip() for n in args.only.split(",")}
        rows = [r for r in rows if r["name"] in keep]

    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="eb-torchvision-") as tmp:
        for row in rows:
            name = row["name"]
            model = os.path.join(args.models, row["file"])
            x = os.path.join(args.models, "reference", f"{row['reference']}-input.npy")
            y = os.path.join(args.models, "reference", f"{row['reference']}-output.npy")
            out = os.path.join(tmp, f"{name}.npy")
            if args.backend == "ort":
                cmd = ["node", os.path.join(ROOT, "scripts", "ort_run.js"), model, "--input", x,
                       "--output", out, "--warmup", "0", "--iterations", "1", "--no-profile"]
            else:
                cmd = [args.edgebench, "infer", "--backend", args.backend, model,
                       "--input", x, "--output", out]
            t0 = time.monotonic()
            try:
                r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True, timeout=INFER_TIMEOUT_S)
                ok = r.returncode == 0
                detail = "" if ok else (first_line(r.stderr) or first_line(r.stdout)
                                        or f"exit {r.returncode}")
                if r.returncode < 0:
                    detail = f"killed by signal {-r.returncode}; {detail}"
            except subprocess.TimeoutExpired:
                ok, detail = False, f"infer still running after {INFER_TIMEOUT_S} s"
            seconds = time.monotonic() - t0
            if ok:
                try:
                    ok, detail = compare(np.load(out), np.load(y))
                except (OSError, ValueError) as e:
                    ok, detail = False, f"reading output: {e}"
            label = f"{name} (opset {row['opset']}, {args.backend})"
            if ok:
                passed += 1
                print(f"PASS {label}: {detail}, {seconds:.2f} s")
            else:
                failed += 1
                print(f"FAIL {label}: {detail}")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
