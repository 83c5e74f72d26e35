#!/usr/bin/env bash
# Installs the Debian packages edgebench needs to build, test and make its model zoo.
# Idempotent and quick when everything is present: it asks dpkg first and calls apt only
# for what is missing.  Usage: scripts/deps.sh [--no-models]  (--no-models skips PyTorch).
set -euo pipefail

build_pkgs=(build-essential pkg-config liblua5.4-dev libcsv-dev libhwloc-dev zlib1g-dev
            libprotobuf-c-dev protobuf-c-compiler libonnx-dev)
# the xnnpack backend: XNNPACK's headers and library (loaded with dlopen at open)
build_pkgs+=(libxnnpack-dev libpthreadpool-dev)
test_pkgs=(libcmocka-dev python3-cram dataset-fashion-mnist libonnx-testdata)
# edgebench report: plots (gnuplot, run as a process) and the page check in headless Chromium.
test_pkgs+=(gnuplot-nox chromium)
model_pkgs=(python3-torch python3-onnx python3-numpy python3-torchvision)

want=("${build_pkgs[@]}" "${test_pkgs[@]}")
[ "${1:-}" = "--no-models" ] || want+=("${model_pkgs[@]}")

# ONNX Runtime, the yardstick of `make bench`: npm's onnxruntime-node at the version
# scripts/ort/package-lock.json pins, into scripts/ort/node_modules; skipped with --no-models.
# --ignore-scripts: the CPU library ships inside the package, and its postinstall only downloads
# CUDA/TensorRT providers, which cannot be fetched here.  Not fatal: only the bench needs it.
ort_deps() {
  [ "${1:-}" = "--no-models" ] && return 0
  local dir want have
  dir=$(dirname "$0")/ort
  command -v npm >/dev/null || { echo "deps: no npm; make bench needs onnxruntime-node" >&2; return 0; }
  want=$(sed -n '/"node_modules\/onnxruntime-node"/,/"version"/s/.*"version": "\(.*\)".*/\1/p' "$dir/package-lock.json")
  have=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$dir/node_modules/onnxruntime-node/package.json" 2>/dev/null || true)
  [ -n "$want" ] && [ "$want" = "$have" ] && return 0
  echo "deps: installing onnxruntime-node $want (npm)" >&2
  (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null) ||
    echo "deps: npm ci in $dir failed; make bench needs onnxruntime-node" >&2
}

missing=()
for p in "${want[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && { ort_deps "${1:-}"; exit 0; }

echo "deps: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
# An update is needed on a fresh machine (empty lists); skip it when lists are recent.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ]; then
  $sudo apt-get update -qq
fi
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
ort_deps "${1:-}"
