#!/usr/bin/env bash
# `make cross-aarch64`: builds edgebench and its unit tests for aarch64 (Debian's cross compiler
# and arm64 multiarch libraries) and runs them under qemu-user, so the portable kernels that an
# ARM device would run are compiled and tested on every CI run, not only promised.
#
#   scripts/cross_aarch64.sh [--out DIR]      (default build/aarch64)
#
# Needs `scripts/deps.sh --cross` (gcc-aarch64-linux-gnu, qemu-user and the :arm64 -dev
# packages); without them it prints one line saying so and exits 77 (tests/run.sh counts that
# as skipped).  The x86 kernels are guarded by __x86_64__ and compile away; what runs is the
# portable C path of ref, the harness, and the harness's fixtures.
#
# Checks, each counted, closing with "N passed, N failed":
#   1. every cmocka unit test that does not need x86-only artefacts: test_plugin loads x86 test
#      plugins built by the host Makefile, test_xnnpack needs libXNNPACK for arm64 (Debian has
#      none for bookworm), test_perf_counters needs perf_event_open, which qemu-user lacks;
#   2. `edgebench infer` of every zoo model with a fixed input under qemu: logits equal the host
#      build's within 1e-4 relative (the portable path against AVX2/AVX-512 kernels);
#   3. `edgebench run scenarios/quickstart.lua --quick` end to end under qemu: both trials ok and
#      the same top-1 as the host build on the same 500 images.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=build/aarch64
case "${1:-}" in
  "") ;;
  --out) OUT=${2:?--out needs a directory} ;;
  *) echo "cross-aarch64: unknown argument '$1' (--out DIR)" >&2; exit 2 ;;
esac
CC=aarch64-linux-gnu-gcc
PKGS="lua5.4 hwloc libprotobuf-c zlib"
export PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig

if ! command -v $CC >/dev/null || ! command -v qemu-aarch64 >/dev/null ||
   ! pkg-config --exists $PKGS 2>/dev/null || [ ! -e /usr/lib/aarch64-linux-gnu/libcmocka.so ]; then
  echo "cross-aarch64: skipped: no aarch64 cross compiler, qemu-user or arm64 libraries (scripts/deps.sh --cross installs them)"
  exit 77
fi
[ -x bin/edgebench ] && [ -e build/gen/onnx.pb-c.c ] ||
  { echo "cross-aarch64: build the host first (make all): bin/edgebench and build/gen are needed" >&2; exit 2; }

# -Wno-format-truncation: the aarch64 compiler inlines differently and warns about snprintf
# truncations that the host build does not see; those calls check their result already.
CFLAGS="-std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-parameter
        -Wno-format-truncation -pthread -Iharness -Ibackends -Ibuild/gen $(pkg-config --cflags $PKGS)
        -DEB_VERSION=\"$(cat VERSION 2>/dev/null || echo 0.0.0)\" -DEB_GIT_COMMIT=\"aarch64\""
LIBS="$(pkg-config --libs $PKGS) -lcsv -lm -pthread"
RUN="qemu-aarch64 -L /"
mkdir -p "$OUT/obj" "$OUT/tests" "$OUT/bin"
passed=0 failed=0
pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "cross-aarch64: FAILED: $*"; }

# Compile what changed since its object, two at a time.  Headers are not tracked one by one:
# any header newer than an object rebuilds it (stale struct layouts would give wrong results).
# Each object keeps its compiler messages in OBJ.err, so a warning is reported on every run,
# not only on the run that compiled it.
cflags=($CFLAGS)
newest_h=$(ls -t harness/*.h backends/*.h backends/*/*.h build/gen/*.h scripts/cross_aarch64.sh 2>/dev/null | head -1)
objs=()
for src in harness/*.c backends/*/*.c backends/*/*/*.c build/gen/*.c; do
  [ -e "$src" ] || continue
  obj="$OUT/obj/${src//\//_}.o"
  objs+=("$obj")
  [ "$obj" -nt "$src" ] && [ "$obj" -nt "$newest_h" ] && continue
  [ "$(jobs -rp | wc -l)" -lt 2 ] || wait -n
  $CC "${cflags[@]}" -c "$src" -o "$obj" 2>"$obj.err" || rm -f "$obj" &
done
wait
cat "${objs[@]/%/.err}" >"$OUT/compile.err" 2>/dev/null
if grep -q 'error:' "$OUT/compile.err"; then
  grep -m5 'error:' "$OUT/compile.err"; fail "compiling for aarch64 ($OUT/compile.err)"
  echo "$passed passed, $failed failed"; exit 1
fi
grep -q 'warning:' "$OUT/compile.err" && { grep -m5 'warning:' "$OUT/compile.err"; fail "warnings when compiling for aarch64"; }
lib_objs=()
for o in "${objs[@]}"; do [ "$o" = "$OUT/obj/harness_main.c.o" ] || lib_objs+=("$o"); done
if $CC -o "$OUT/bin/edgebench" "${objs[@]}" $LIBS 2>"$OUT/link.err"; then pass
else cat "$OUT/link.err"; fail "linking edgebench for aarch64"; echo "$passed passed, $failed failed"; exit 1; fi
# ELF e_machine (bytes 18-19, little endian) is 183 (0xb7) for aarch64; `file` may be absent.
[ "$(od -An -tx1 -j18 -N2 "$OUT/bin/edgebench" | tr -d ' ')" = "b700" ] ||
  fail "$OUT/bin/edgebench is not an aarch64 binary"

# 1. Unit tests.
for src in tests/unit/test_*.c; do
  name=$(basename "$src" .c)
  case $name in test_plugin|test_xnnpack|test_perf_counters) continue ;; esac
  bin="$OUT/tests/$name"
  if ! $CC "${cflags[@]}" -Itests/unit -o "$bin" "$src" "${lib_objs[@]}" $LIBS -lcmocka 2>"$OUT/$name.err"; then
    head -5 "$OUT/$name.err"; fail "$name does not build for aarch64"; continue
  fi
  $RUN "$bin" >"$OUT/$name.out" 2>&1
  rc=$?
  p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$OUT/$name.out" | tail -1)
  f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$OUT/$name.out" | tail -1)
  p=${p:-0} f=${f:-0}
  [ $rc -ne 0 ] && [ "$f" -eq 0 ] && f=1
  passed=$((passed + p)) failed=$((failed + f))
  if [ "$f" -eq 0 ]; then echo "aarch64 unit $name: $p passed"
  else echo "aarch64 unit $name: $p passed, $f FAILED"; grep -v '^\[       OK \]\|RUN' "$OUT/$name.out" | tail -20; fi
done

# 2. The zoo's logits, host build vs aarch64 build, on infer's seeded random input.
logits() { sed -n 's/^logits float32 [0-9x]*: //p'; }
for model in models/*.onnx; do
  name=$(basename "$model" .onnx)
  host=$(./bin/edgebench infer "$model" 2>&1 | logits)
  arm=$($RUN "$OUT/bin/edgebench" infer "$model" 2>&1 | logits)
  if [ -z "$host" ] || [ -z "$arm" ]; then fail "$name: no logits (host '${host:0:40}', aarch64 '${arm:0:40}')"; continue; fi
  # int8 models requantize: a 1e-4 relative change of a float may move a value one step, so
  # their logits are compared at one quantization step of the output (a tenth of the range).
  tol=1e-4; case $name in *int8*) tol=2e-2 ;; esac
  if awk -v a="$host" -v b="$arm" -v tol="$tol" 'BEGIN {
        n = split(a, x, " "); m = split(b, y, " "); if (n != m || n == 0) exit 1
        for (i = 1; i <= n; i++) { d = x[i] - y[i]; d = d < 0 ? -d : d
          s = x[i] < 0 ? -x[i] : x[i]; if (s < 1) s = 1; if (d > tol * s) exit 1 } }'; then
    pass; echo "aarch64 infer $name: logits equal the host's (tol $tol)"
  else fail "$name: aarch64 logits differ from the host's: host [$host] aarch64 [$arm]"; fi
done

# 3. A whole run under emulation (forked trials, pinning, CSV), against the host's accuracy.
top1() { /usr/bin/python3 tests/cli/csvcol.py "$1/results.csv" variant accuracy_top1 | tr '\n' ' '; }
rm -rf "$OUT/run-host" "$OUT/run-arm"
./bin/edgebench run scenarios/quickstart.lua --quick -q --out "$OUT/run-host" >/dev/null 2>&1
$RUN "$OUT/bin/edgebench" run scenarios/quickstart.lua --quick -q --out "$OUT/run-arm" >"$OUT/run.out" 2>&1
rc=$?
if [ $rc -eq 0 ] && [ -n "$(top1 "$OUT/run-arm")" ] && [ "$(top1 "$OUT/run-host")" = "$(top1 "$OUT/run-arm")" ]; then
  pass; echo "aarch64 run quickstart --quick: exit 0, top-1 as on the host: $(top1 "$OUT/run-arm")"
else
  cat "$OUT/run.out"; fail "quickstart under qemu: exit $rc, top-1 '$(top1 "$OUT/run-arm")' vs host '$(top1 "$OUT/run-host")'"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
