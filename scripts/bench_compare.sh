#!/usr/bin/env bash
# The regression detector on real runs (`make bench` calls this; issue 6's acceptance):
#   A/A       PAIRS pairs of mock runs of the same "build" (same latency, different jitter
#             seeds, as two real runs differ): how often `edgebench compare` says regressed
#             (the false-alarm rate; must be at most 5%)
#   slowdown  PAIRS pairs where the current run's mock is 10% slower (latency_ms x 1.10):
#             how often compare catches it (the detection rate; must be at least 95%)
# Each run is scenarios/ci_mock.lua with a 0.5 s timed loop (--time); 20 pairs of each kind take about a minute.
#
#   scripts/bench_compare.sh [--pairs N] [--time 0.5s] [--out DIR]
#
# Prints one line per pair kind and a closing "N passed, N failed" (the two bounds); exit 1 when
# a bound is missed.  The runs are kept in OUT (default build/bench/compare).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
EDGEBENCH=${EDGEBENCH:-$ROOT/bin/edgebench}
PAIRS=20
TIME=0.5s
OUT=build/bench/compare
while [ $# -gt 0 ]; do
  case $1 in
    --pairs) PAIRS=$2; shift 2 ;;
    --time) TIME=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    *) echo "bench_compare.sh: unknown argument '$1' (--pairs N, --time T, --out DIR)" >&2; exit 2 ;;
  esac
done
rm -rf "$OUT"
mkdir -p "$OUT"
S=$ROOT/scenarios/ci_mock.lua

run() { # DIR SEED LATENCY
  "$EDGEBENCH" run "$S" --out "$1" -q --set seed="$2" --set latency_ms="$3" --set min_time="$TIME"
}

alarms=0 caught=0
for i in $(seq 1 "$PAIRS"); do
  base=$OUT/base$i
  run "$base" $((3 * i)) 1.0
  run "$OUT/aa$i" $((3 * i + 1)) 1.0
  run "$OUT/slow$i" $((3 * i + 2)) 1.10
  rc=0; "$EDGEBENCH" compare "$base" "$OUT/aa$i" -q || rc=$?
  [ $rc -le 1 ] || { echo "bench_compare.sh: compare failed on pair $i (exit $rc)" >&2; exit 2; }
  [ $rc -eq 1 ] && alarms=$((alarms + 1))
  rc=0; "$EDGEBENCH" compare "$base" "$OUT/slow$i" -q || rc=$?
  [ $rc -le 1 ] || { echo "bench_compare.sh: compare failed on pair $i (exit $rc)" >&2; exit 2; }
  [ $rc -eq 1 ] && caught=$((caught + 1))
done

passed=0 failed=0
fa_ok=$(( alarms * 100 <= 5 * PAIRS ))
det_ok=$(( caught * 100 >= 95 * PAIRS ))
printf 'compare A/A false alarms:      %d/%d (%s%%; bound <= 5%%)  %s\n' "$alarms" "$PAIRS" \
  "$(awk -v a="$alarms" -v n="$PAIRS" 'BEGIN{printf "%.1f", 100*a/n}')" \
  "$([ $fa_ok = 1 ] && echo ok || echo MISSED)"
printf 'compare 10%% slowdowns caught: %d/%d (%s%%; bound >= 95%%)  %s\n' "$caught" "$PAIRS" \
  "$(awk -v a="$caught" -v n="$PAIRS" 'BEGIN{printf "%.1f", 100*a/n}')" \
  "$([ $det_ok = 1 ] && echo ok || echo MISSED)"
for ok in $fa_ok $det_ok; do
  if [ "$ok" = 1 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
