#!/usr/bin/env bash
# Installs the Debian packages edgebench needs to build, test and make its model zoo.
# Idempotent and quick when everything is present: it asks dpkg first and calls apt only
# for what is missing.  Usage: scripts/deps.sh [--no-models] [--cross]
#   --no-models  skips PyTorch and onnxruntime-node
#   --cross      adds the aarch64 cross compiler, qemu-user and arm64 (multiarch) libraries that
#                scripts/cross_aarch64.sh builds and tests ref's portable path with (CI uses it)
set -euo pipefail
models=1 cross=0
for arg in "$@"; do
  case $arg in
    --no-models) models=0 ;;
    --cross) cross=1 ;;
    *) echo "deps: unknown option '$arg' (--no-models, --cross)" >&2; exit 2 ;;
  esac
done

build_pkgs=(build-essential pkg-config liblua5.4-dev libcsv-dev libhwloc-dev zlib1g-dev
            libprotobuf-c-dev protobuf-c-compiler libonnx-dev)
# the xnnpack backend: XNNPACK's headers and library (loaded with dlopen at open)
build_pkgs+=(libxnnpack-dev libpthreadpool-dev)
test_pkgs=(libcmocka-dev python3-cram dataset-fashion-mnist libonnx-testdata)
# edgebench report: plots (gnuplot, run as a process) and the page check in headless Chromium.
test_pkgs+=(gnuplot-nox chromium)
model_pkgs=(python3-torch python3-onnx python3-numpy python3-torchvision)

cross_pkgs=(gcc-aarch64-linux-gnu qemu-user libc6-dev:arm64 libhwloc-dev:arm64
            libprotobuf-c-dev:arm64 liblua5.4-dev:arm64 libcsv-dev:arm64 zlib1g-dev:arm64
            libcmocka-dev:arm64)

want=("${build_pkgs[@]}" "${test_pkgs[@]}")
[ $models -eq 0 ] || want+=("${model_pkgs[@]}")
# The onnxruntime worker and npm's onnxruntime-node need node and npm: Debian's, unless the
# machine already has them on PATH (some images bring a newer node outside dpkg).
if [ $models -eq 1 ]; then
  command -v node >/dev/null || want+=(nodejs)
  command -v npm >/dev/null || want+=(npm)
fi
[ $cross -eq 0 ] || want+=("${cross_pkgs[@]}")

# ONNX Runtime, the yardstick of `make bench`: npm's onnxruntime-node at the version
# scripts/ort/package-lock.json pins, into scripts/ort/node_modules; skipped with --no-models.
# --ignore-scripts: the CPU library ships inside the package, and its postinstall only downloads
# CUDA/TensorRT providers, which cannot be fetched here.  Not fatal: only the bench needs it.
ort_deps() {
  [ $models -eq 0 ] && return 0
  local dir want have
  dir=$(dirname "$0")/ort
  command -v npm >/dev/null || { echo "deps: no npm; the onnxruntime backend needs onnxruntime-node" >&2; return 0; }
  want=$(sed -n '/"node_modules\/onnxruntime-node"/,/"version"/s/.*"version": "\(.*\)".*/\1/p' "$dir/package-lock.json")
  have=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$dir/node_modules/onnxruntime-node/package.json" 2>/dev/null || true)
  [ -n "$want" ] && [ "$want" = "$have" ] && return 0
  echo "deps: installing onnxruntime-node $want (npm)" >&2
  (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null) ||
    echo "deps: npm ci in $dir failed; make bench needs onnxruntime-node" >&2
}

missing=()
native=$(dpkg --print-architecture)
for p in "${want[@]}"; do
  # With arm64 added (--cross) dpkg lists a name once per architecture installed: a plain name
  # wants the native (or arch-independent) one, NAME:arm64 the foreign one.
  case $p in *:*) arch=${p#*:} ;; *) arch="$native all" ;; esac
  dpkg-query -W -f='${Status} ${Architecture}\n' "${p%%:*}" 2>/dev/null |
    awk -v want="$arch" 'BEGIN { split(want, a, " "); for (i in a) ok[a[i]] = 1 }
         $1" "$2" "$3 == "install ok installed" && ($4 in ok) { found = 1 } END { exit !found }' ||
    missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && { ort_deps; exit 0; }

echo "deps: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
update=0
# An update is needed on a fresh machine (empty lists); skip it when lists are recent.
[ -n "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ] || update=1
# arm64 packages come from the same Debian mirror once dpkg knows the architecture.
if [ $cross -eq 1 ] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
  $sudo dpkg --add-architecture arm64
  update=1
fi
[ $update -eq 0 ] || $sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
ort_deps
