#!/usr/bin/env bash
# Nightly regression tracking on a device: run a scenario, compare it with the last good
# baseline, keep the history, advance the baseline only when the run is clean.
#
#   scripts/nightly.sh SCENARIO.lua [--root DIR] [--threshold P] [--set KEY=VALUE]...
#                      [--keep N] [--history N] [--rebaseline]
#
#   --root DIR       the history root (default results/nightly/NAME, NAME the scenario file's
#                    name without .lua)
#   --threshold P    compare's latency threshold (default 5%)
#   --set KEY=VALUE  passed to `edgebench run` (the scenario's options)
#   --keep N         keep the newest N runs (default 0: keep all); the baseline is never removed
#   --history N      the trend table and plots cover the newest N runs (default 30)
#   --rebaseline     make this run the baseline whatever compare says (after an accepted
#                    change, or a new device)
#
# The root holds:
#   runs/YYYYmmddTHHMMSSZ/   each run (results.csv, samples.csv, run.csv) with compare.txt,
#                            compare.md and compare.xml (JUnit) against the baseline of its day
#   baseline -> runs/...     a relative symlink to the last good run
#   history.txt, plots/      `edgebench history` over the newest runs, a PNG per configuration
#   nightly.log              one line per night: time, run, verdict, baseline
#
# Exit: 0 clean (the baseline advanced), 1 a regression or a failed trial (the baseline kept),
# 2 bad input or the runs cannot be compared (e.g. another device: use --rebaseline).
# The Markdown summary is printed, and appended to $GITHUB_STEP_SUMMARY when that is set.
set -uo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${EDGEBENCH:-}" ]; then
  if [ -x "$REPO/bin/edgebench" ]; then EDGEBENCH=$REPO/bin/edgebench
  else EDGEBENCH=edgebench; fi
fi

die() { echo "nightly.sh: $*" >&2; exit 2; }

scenario="" root="" threshold=5% keep=0 hist=30 rebaseline=0
sets=()
while [ $# -gt 0 ]; do
  case $1 in
    --root) [ $# -ge 2 ] || die "--root needs a directory"; root=$2; shift 2 ;;
    --threshold) [ $# -ge 2 ] || die "--threshold needs a value, e.g. 5%"; threshold=$2; shift 2 ;;
    --set) [ $# -ge 2 ] || die "--set needs KEY=VALUE"; sets+=(--set "$2"); shift 2 ;;
    --keep) [[ ${2:-} =~ ^[0-9]+$ ]] || die "--keep needs a count"; keep=$2; shift 2 ;;
    --history) [[ ${2:-} =~ ^[0-9]+$ ]] || die "--history needs a count"; hist=$2; shift 2 ;;
    --rebaseline) rebaseline=1; shift ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option '$1' (see scripts/nightly.sh --help)" ;;
    *) [ -z "$scenario" ] || die "one scenario only (got '$scenario' and '$1')"; scenario=$1; shift ;;
  esac
done
[ -n "$scenario" ] || die "usage: scripts/nightly.sh SCENARIO.lua [--root DIR] [--threshold P] [--set K=V]... [--keep N] [--rebaseline]"
[ -f "$scenario" ] || die "$scenario: no such scenario file"
name=$(basename "$scenario" .lua)
[ -n "$root" ] || root=results/nightly/$name
mkdir -p "$root/runs" || die "$root: cannot create the history root"

# One nightly at a time per root: two would race for the baseline.
if command -v flock >/dev/null; then
  exec 9>"$root/.lock"
  flock -n 9 || die "$root: another nightly.sh holds $root/.lock"
fi

stamp=$(date -u +%Y%m%dT%H%M%SZ)
id=$stamp n=1
while [ -e "$root/runs/$id" ]; do n=$((n + 1)); id=$stamp-$n; done
run=$root/runs/$id

echo "nightly: $scenario -> $run"
"$EDGEBENCH" run "$scenario" --out "$run" -q "${sets[@]}"
run_rc=$?
if [ $run_rc -eq 2 ]; then
  rmdir "$run" 2>/dev/null
  die "edgebench run failed on bad input (above); nothing recorded"
fi
[ $run_rc -eq 0 ] || echo "nightly: some trials did not finish ok (exit $run_rc); see $run/results.csv"

log() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) run=$id $*" >> "$root/nightly.log"; }

# The baseline as a relative link, replaced atomically (rename over the old link).
set_baseline() {
  ln -sfn "runs/$id" "$root/baseline.new" && mv -Tf "$root/baseline.new" "$root/baseline"
}

verdict="" rc=0
if [ ! -e "$root/baseline" ] || [ $rebaseline -eq 1 ]; then
  if [ $run_rc -ne 0 ] && [ $rebaseline -eq 0 ]; then
    verdict="first run has failed trials: no baseline yet"; rc=1
  else
    set_baseline
    verdict="baseline set to runs/$id$([ $rebaseline -eq 1 ] && echo ' (--rebaseline)')"
    printf '### edgebench nightly: %s\n\nNo comparison: `%s` is now the baseline.\n' "$verdict" "$run" > "$run/compare.md"
    cat "$run/compare.md"
  fi
else
  base=$root/$(readlink "$root/baseline")
  "$EDGEBENCH" compare "$base" "$run" --threshold "$threshold" \
    --junit "$run/compare.xml" --markdown "$run/compare.md" > "$run/compare.txt"
  cmp_rc=$?
  # the table stays in compare.txt; the Markdown is the summary a CI log or comment shows
  [ -f "$run/compare.md" ] && cat "$run/compare.md"
  if [ $cmp_rc -eq 2 ]; then
    verdict="cannot compare with $(readlink "$root/baseline") (above); baseline kept"; rc=2
  elif [ $cmp_rc -eq 1 ]; then
    verdict="REGRESSION against $(readlink "$root/baseline"); baseline kept"; rc=1
  elif [ $run_rc -ne 0 ]; then
    verdict="failed trials; baseline kept at $(readlink "$root/baseline")"; rc=1
  else
    set_baseline
    verdict="clean; baseline advanced to runs/$id"
  fi
fi
log "$verdict"
echo
echo "nightly: $verdict"

if [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ -f "$run/compare.md" ]; then
  cat "$run/compare.md" >> "$GITHUB_STEP_SUMMARY"
fi

# Prune the oldest runs beyond --keep, never the baseline.
if [ "$keep" -gt 0 ]; then
  keep_target=$(readlink "$root/baseline" 2>/dev/null)
  ls -1 "$root/runs" | sort | head -n -"$keep" | while read -r old; do
    [ "runs/$old" = "$keep_target" ] || rm -rf "${root:?}/runs/$old"
  done
fi

# The trend over the newest runs: a table (history.txt) and a plot per configuration.
mapfile -t recent < <(ls -1 "$root/runs" | sort | tail -n "$hist")
if [ ${#recent[@]} -ge 2 ]; then
  "$EDGEBENCH" history "${recent[@]/#/$root/runs/}" --out "$root/plots" \
    > "$root/history.txt" 2> "$root/history.err" ||
    echo "nightly: edgebench history failed (see $root/history.err)"
  echo "nightly: trend over ${#recent[@]} runs in $root/history.txt, plots in $root/plots/"
fi
exit $rc
