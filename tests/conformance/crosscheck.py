#!/usr/bin/python3
"""Cross-check edgebench's backends against PyTorch on the model zoo.

    tests/conformance/crosscheck.py [MODELS_DIR] [--edgebench PATH] [--backend NAME]
                                    [--results RUN_DIR] [--skip-infer] [--allow-unsupported]

1. Outputs: for each row of MODELS_DIR/manifest.csv (default models/), runs
       EDGEBENCH infer --backend NAME MODELS_DIR/FILE --input reference/INPUT
                  --output TMP/NAME-out.npy
   (INPUT: the manifest's reference_input when it has that column, else NAME-input.npy)
   and compares the result with reference/NAME-output.npy (PyTorch's logits, written by
   scripts/make_models.py): np.allclose(out, ref, rtol=1e-4, atol=1e-5 * max|ref|).
   Rows with weight_bits 8 (the int8 models; their reference is PyTorch's *quantized* model,
   whose integer rounding differs from the ONNX file's at ties) pass when top-1 agrees on at
   least INT8_MIN_AGREEMENT of the samples and max|out - ref| <= INT8_ATOL_FRACTION * max|ref|
   (a few output quantization steps).
   A model the backend refuses because it lacks an operator ("not supported" in its error)
   FAILs; with --allow-unsupported it is listed as REFUSED and not counted as a failure
   (for the lead, until ref's int8 operators land; issue 4).
2. Accuracy (with --results RUN_DIR, a finished `edgebench run` output): for every row of
   RUN_DIR/results.csv whose model is in the manifest (its `model` column's file name if the
   CSV has one, else variant == manifest name) and whose accuracy_samples equals the
   manifest's test_samples, |accuracy_top1 - pytorch_top1| <= 0.001 (0.1 point; 0.003 for
   weight_bits 8 rows, issue 4). A row measured on the shifted test set (its `dataset`
   column names fashion_mnist_shifted / inverted; without that column, a model whose manifest
   `dataset` is fashion_mnist_shifted) is held to pytorch_top1_shifted instead. Rows
   measured on fewer samples (a --quick run) are reported as SKIP.

Prints one PASS/FAIL/REFUSED line per check and closes with "N passed, N failed" (plus
", N refused" when some were); exits 1 if any check failed, 2 on a usage error (missing manifest, results.csv, ...). Needs only numpy, so it runs
in a second under /usr/bin/python3 or any python3 with numpy.
"""
import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

RTOL = 1e-4
ATOL_FRACTION = 1e-5   # atol = ATOL_FRACTION * max|reference|
REL_FLOOR = 1e-3       # the max_rel column divides by max(|ref|, REL_FLOOR)
ACCURACY_TOLERANCE = 0.001
INT8_ACCURACY_TOLERANCE = 0.003
INT8_MIN_AGREEMENT = 0.95
INT8_ATOL_FRACTION = 0.03
SHIFTED_DATASET = "fashion_mnist_shifted"
INFER_TIMEOUT_S = 120


class UsageError(Exception):
    pass


def read_csv(path, required, hint):
    """Rows of a CSV as dicts; UsageError naming the file, and the hint, when it or a column
    is missing."""
    try:
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            rows = list(reader)
            columns = reader.fieldnames or []
    except OSError as e:
        raise UsageError(f"crosscheck: {path}: {e.strerror}; {hint}")
    missing = [c for c in required if c not in columns]
    if missing:
        raise UsageError(f"crosscheck: {path}: missing column(s) {', '.join(missing)}; "
                         "is this the right file?")
    return rows, columns


def is_int8(entry):
    return entry.get("weight_bits", "") == "8"


def is_shifted(row, columns, entry):
    if "dataset" in columns and row.get("dataset"):
        d = row["dataset"].lower()
        return "shifted" in d or "inverted" in d
    return entry.get("dataset", "") == SHIFTED_DATASET


def compare(out, ref, int8=False):
    """Returns (ok, max_abs_diff, max_rel, note) for an output against its reference
    (int8: the looser rule in the module comment)."""
    if out.shape != ref.shape:
        return False, float("nan"), float("nan"), f"shape {list(out.shape)} != {list(ref.shape)}"
    a = out.astype(np.float64)
    b = ref.astype(np.float64)
    if b.size == 0:
        return True, 0.0, 0.0, ""
    diff = np.abs(a - b)
    max_abs = float(np.max(diff))
    max_rel = float(np.max(diff / np.maximum(np.abs(b), REL_FLOOR)))
    if int8:
        atol = INT8_ATOL_FRACTION * float(np.max(np.abs(b)))
        agree = float(np.mean(a.reshape(len(a), -1).argmax(1) == b.reshape(len(b), -1).argmax(1)))
        ok = bool(np.all(np.isfinite(a))) and max_abs <= atol and agree >= INT8_MIN_AGREEMENT
        note = (f"top1_agreement={agree:.4f}" +
                ("" if ok else f" (int8 tolerance: agreement >= {INT8_MIN_AGREEMENT}, "
                 f"max_abs_diff <= {atol:.3g})"))
        return ok, max_abs, max_rel, note
    atol = ATOL_FRACTION * float(np.max(np.abs(b)))
    ok = bool(np.allclose(a, b, rtol=RTOL, atol=atol))  # NaN anywhere in a fails here
    note = "" if ok else f"(tolerance rtol={RTOL:g} atol={atol:.3g})"
    return ok, max_abs, max_rel, note


def check_outputs(models_dir, manifest, edgebench, backend, tmp, allow_unsupported=False):
    """One PASS/FAIL/REFUSED line per manifest row; returns (passed, failed, refused)."""
    passed = failed = refused = 0
    for row in manifest:
        name = row["name"]
        model = os.path.join(models_dir, row["file"])
        inp = os.path.join(models_dir, "reference",
                           row.get("reference_input") or f"{name}-input.npy")
        refp = os.path.join(models_dir, "reference", f"{name}-output.npy")
        outp = os.path.join(tmp, f"{name}-out.npy")
        cmd = [edgebench, "infer", "--backend", backend, model, "--input", inp,
               "--output", outp]
        why = None
        try:
            ref = np.load(refp)
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, timeout=INFER_TIMEOUT_S)
            if proc.returncode != 0:
                last = (proc.stderr.strip().splitlines() or ["(no message)"])[-1]
                if allow_unsupported and "not supported" in proc.stderr:
                    print(f"REFUSED {name} backend={backend} {last}")
                    refused += 1
                    continue
                why = f"edgebench infer exited {proc.returncode}: {last}"
            else:
                out = np.load(outp)
        except OSError as e:
            why = f"{e.filename or cmd[0]}: {e.strerror}"
        except subprocess.TimeoutExpired:
            why = f"edgebench infer did not finish in {INFER_TIMEOUT_S}s"
        except ValueError as e:  # np.load on a file that is not NPY
            why = f"{outp}: not a readable NPY file ({e})"
        if why is not None:
            print(f"FAIL {name} backend={backend} {why}")
            failed += 1
            continue
        ok, max_abs, max_rel, note = compare(out, ref, is_int8(row))
        line = (f"{'PASS' if ok else 'FAIL'} {name} backend={backend} "
                f"max_abs_diff={max_abs:.3g} max_rel={max_rel:.3g}")
        print(f"{line} {note}".rstrip())
        if ok:
            passed += 1
        else:
            failed += 1
    return passed, failed, refused


def read_results(results_dir):
    path = os.path.join(results_dir, "results.csv")
    rows, columns = read_csv(path, ["variant", "accuracy_top1", "accuracy_samples"],
                             "pass the output directory of a finished `edgebench run`")
    return path, rows, columns


def check_accuracy(results, manifest):
    """One PASS/FAIL/SKIP line per results row whose model is in the manifest."""
    path, rows, columns = results
    by_name = {r["name"]: r for r in manifest}
    by_file = {os.path.basename(r["file"]): r for r in manifest}
    passed = failed = matched = 0
    for row in rows:
        # A `model` column (if the harness writes one) is the most reliable link to the
        # manifest; without it the variant must be named after the model.
        if "model" in columns and row.get("model"):
            entry = by_file.get(os.path.basename(row["model"]))
        else:
            entry = by_name.get(row["variant"])
        if entry is None:
            continue
        matched += 1
        label = (f"accuracy {row['variant']} backend={row.get('backend', '?')} "
                 f"threads={row.get('threads', '?')} batch={row.get('batch', '?')}")
        shifted = is_shifted(row, columns, entry)
        if shifted:
            if not entry.get("pytorch_top1_shifted"):
                print(f"FAIL {label} measured on the shifted test set, but the manifest has no "
                      "pytorch_top1_shifted for it; rerun scripts/make_models.py")
                failed += 1
                continue
            want = float(entry["pytorch_top1_shifted"])
            label += " dataset=shifted"
        else:
            want = float(entry["pytorch_top1"])
        tolerance = INT8_ACCURACY_TOLERANCE if is_int8(entry) else ACCURACY_TOLERANCE
        try:
            samples = int(row["accuracy_samples"])
            top1 = float(row["accuracy_top1"])
        except ValueError:
            status = row.get("status", "")
            print(f"FAIL {label} no accuracy measured (status={status} "
                  f"error={row.get('error', '')!r})")
            failed += 1
            continue
        if samples != int(entry["test_samples"]):
            print(f"SKIP {label} accuracy_samples={samples} "
                  f"(the manifest's accuracy is on {entry['test_samples']})")
            continue
        diff = abs(top1 - want)
        ok = diff <= tolerance + 1e-12  # the CSV's decimals must not flip a tie
        print(f"{'PASS' if ok else 'FAIL'} {label} top1={top1:.4f} pytorch={want:.4f} "
              f"diff={diff:.4f} (tolerance {tolerance})")
        if ok:
            passed += 1
        else:
            failed += 1
    if matched == 0:
        print(f"note: no row of {path} names a manifest model; nothing to check there")
    return passed, failed


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Cross-check edgebench against PyTorch's outputs and accuracy.")
    ap.add_argument("models_dir", nargs="?", default="models",
                    help="directory with manifest.csv and reference/ (default models/)")
    ap.add_argument("--edgebench", default="bin/edgebench", help="edgebench binary")
    ap.add_argument("--backend", default="ref", help="backend to check (default ref)")
    ap.add_argument("--results", metavar="RUN_DIR",
                    help="also check accuracy in a finished `edgebench run` output directory")
    ap.add_argument("--skip-infer", action="store_true",
                    help="only the accuracy check (needs --results)")
    ap.add_argument("--allow-unsupported", action="store_true",
                    help="list a model the backend refuses for a missing operator as REFUSED "
                         "instead of failing (until ref's int8 operators land)")
    args = ap.parse_args(argv)
    if args.skip_infer and not args.results:
        ap.error("--skip-infer needs --results")

    try:
        manifest, _ = read_csv(os.path.join(args.models_dir, "manifest.csv"),
                               ["name", "file", "pytorch_top1", "test_samples"],
                               "run scripts/make_models.py or pass the models directory")
        if not manifest:
            raise UsageError(f"crosscheck: {args.models_dir}/manifest.csv: no models listed; "
                             "run scripts/make_models.py")
        # Read everything first, so a usage error comes before any check runs.
        results = read_results(args.results) if args.results else None
        passed = failed = refused = 0
        if not args.skip_infer:
            tmp = tempfile.mkdtemp(prefix="eb-crosscheck-")
            try:
                p, f, refused = check_outputs(args.models_dir, manifest, args.edgebench,
                                              args.backend, tmp, args.allow_unsupported)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            passed, failed = passed + p, failed + f
        if args.results:
            p, f = check_accuracy(results, manifest)
            passed, failed = passed + p, failed + f
    except UsageError as e:
        print(e, file=sys.stderr)
        return 2
    print(f"{passed} passed, {failed} failed" + (f", {refused} refused" if refused else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
