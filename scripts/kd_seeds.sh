#!/bin/sh
# What distillation buys, over seeds: trains the student pair (cnn_student_kd with the
# teacher's soft targets, cnn_student on labels only; same seed, so the same initialisation
# and batch order) for each seed, from the committed teacher, into OUT/seedN (models/ is not
# touched), and prints the per-seed top-1s, their difference, its mean, sample sd, a paired t
# test, a 95% t interval and an exact sign-flip (permutation) test. One seed's difference says
# little: the students' test top-1 moves by a few tenths of a point from seed to seed. Per
# seed it also counts the test images only one of the two gets right (exact McNemar p: the
# test-set sampling noise of that one difference).
#
#   scripts/kd_seeds.sh [-o OUT] [-t TEACHER_DIR] [-q] [SEED ...]     (default seeds 1 2 3 4 5)
#
# -o OUT   where the pairs go (default /tmp/edgebench-kd-seeds); a seed whose OUT/seedN/
#          manifest.csv exists is not retrained, so a second run only prints the table.
# -t DIR   the teacher's cnn.onnx + manifest.csv (default models)
# -q       pass --quick to make_models.py (1 epoch on 3000 images: for testing this script
#          against a `make_models.py --quick --out DIR` zoo, -t DIR)
# Each pair takes about 4-5 CPU minutes (20 epochs x 2 students, 1 torch thread), run at
# nice 19 so it does not crowd the benchmarks others run on the machine.
set -eu
cd "$(dirname "$0")/.."
out=/tmp/edgebench-kd-seeds teacher=models quick=
while getopts o:t:q opt; do
  case $opt in
    o) out=$OPTARG ;;
    t) teacher=$OPTARG ;;
    q) quick=--quick ;;
    *) echo "usage: scripts/kd_seeds.sh [-o OUT] [-t TEACHER_DIR] [-q] [SEED ...]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || set -- 1 2 3 4 5
PY=/usr/bin/python3
mkdir -p "$out"
for seed in "$@"; do
  dir=$out/seed$seed
  if [ -f "$dir/manifest.csv" ]; then
    echo "kd_seeds: seed $seed: $dir/manifest.csv exists, not retrained" >&2
    continue
  fi
  start=$(date +%s)
  if ! nice -n 19 "$PY" scripts/make_models.py --only student $quick --threads 1 \
      --teacher "$teacher" --seed "$seed" --out "$dir.tmp" >"$out/seed$seed.log" 2>&1; then
    echo "kd_seeds: seed $seed failed; see $out/seed$seed.log" >&2
    tail -5 "$out/seed$seed.log" >&2
    exit 1
  fi
  rm -rf "$dir" && mv "$dir.tmp" "$dir"  # only a finished pair counts as done
  echo "kd_seeds: seed $seed trained in $(( $(date +%s) - start ))s ($dir)" >&2
done

"$PY" - "$out" "$@" <<'EOF'
import csv, math, os, sys
from itertools import product

sys.path.insert(0, "scripts")
import make_models as mm  # noqa: E402  (the students' ONNX files are Conv/Relu/Gemm chains)

out, seeds = sys.argv[1], sys.argv[2:]
xte, yte = mm.load_split("t10k")

def mcnemar(a_right, b_right):
    """Images only A gets right, only B gets right, and the exact two-sided McNemar p (the
    test-image sampling noise of one pair's difference, which the seeds do not measure)."""
    b, c = int((a_right & ~b_right).sum()), int((~a_right & b_right).sum())
    tail = sum(math.comb(b + c, k) for k in range(min(b, c) + 1)) / 2 ** (b + c)
    return b, c, min(1.0, 2 * tail)

rows = []
for s in seeds:
    d = os.path.join(out, f"seed{s}")
    with open(os.path.join(d, "manifest.csv"), newline="") as f:
        m = {r["name"]: r for r in csv.DictReader(f)}
    kd, alone = (100 * float(m[n]["pytorch_top1"]) for n in ("cnn_student_kd", "cnn_student"))
    n = int(m["cnn_student"]["test_samples"])
    right = [mm.predict(mm.from_onnx_chain(os.path.join(d, f"{name}.onnx")), xte[:n])
             .argmax(1).numpy() == yte[:n] for name in ("cnn_student_kd", "cnn_student")]
    # The files must be what the manifest scored (a stale or half-written pair would not be).
    if (f"{right[0].mean():.4f}", f"{right[1].mean():.4f}") != (
            m["cnn_student_kd"]["pytorch_top1"], m["cnn_student"]["pytorch_top1"]):
        sys.exit(f"kd_seeds: {d}: the ONNX files do not reproduce manifest.csv's top-1; "
                 f"delete {d} and rerun")
    rows.append((s, kd, alone, kd - alone, n, *mcnemar(right[0], right[1])))

def t_cdf(t, df):
    """Student's t CDF by Simpson integration of the density (no scipy in Debian's set)."""
    c = math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)) / math.sqrt(df * math.pi)
    pdf = lambda x: c * (1 + x * x / df) ** (-(df + 1) / 2)
    n, a = 2000, abs(t)
    h = a / n
    area = pdf(0) + pdf(a) + sum((4 if i % 2 else 2) * pdf(i * h) for i in range(1, n))
    half = area * h / 3
    return 0.5 + half if t >= 0 else 0.5 - half

def t_crit(df, p=0.975):
    lo, hi = 0.0, 100.0
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if t_cdf(mid, df) < p else (lo, mid)
    return (lo + hi) / 2

print(f"{'seed':>8}  KD top-1  alone top-1  KD - alone  only KD right  only alone right  "
      f"McNemar p   (test images: {rows[0][4]})")
for s, kd, alone, d, _, b, c, p in rows:
    print(f"{s:>8}  {kd:8.2f}  {alone:11.2f}  {d:+10.2f}  {b:13d}  {c:16d}  {p:9.3f}")
d = [r[3] for r in rows]
n = len(d)
mean = sum(d) / n
kds, alones = [r[1] for r in rows], [r[2] for r in rows]
print(f"{'mean':>8}  {sum(kds) / n:8.2f}  {sum(alones) / n:11.2f}  {mean:+10.2f}")
if n < 2:
    sys.exit(0)
sd = math.sqrt(sum((x - mean) ** 2 for x in d) / (n - 1))
sd_kd = math.sqrt(sum((x - sum(kds) / n) ** 2 for x in kds) / (n - 1))
sd_al = math.sqrt(sum((x - sum(alones) / n) ** 2 for x in alones) / (n - 1))
print(f"{'sd':>8}  {sd_kd:8.2f}  {sd_al:11.2f}  {sd:10.2f}   (sample sd, n-1)")
se = sd / math.sqrt(n)
if se > 0:
    t = mean / se
    p_two = 2 * (1 - t_cdf(abs(t), n - 1))
    p_one = 1 - t_cdf(t, n - 1)
    half = t_crit(n - 1) * se
    print(f"paired t: t = {t:.2f}, df = {n - 1}, p = {p_two:.2g} two-sided, {p_one:.2g} one-sided "
          f"(KD > alone); 95% CI of the mean difference [{mean - half:+.2f}, {mean + half:+.2f}] point")
# Exact sign-flip test: under "KD changes nothing" each difference's sign is a coin toss.
flips = [sum(s * x for s, x in zip(signs, d)) for signs in product((1, -1), repeat=n)]
p_perm = sum(1 for f in flips if f >= sum(d) - 1e-12) / len(flips)
wins = sum(1 for x in d if x > 0)
p_sign = sum(math.comb(n, k) for k in range(wins, n + 1)) / 2 ** n
print(f"KD ahead in {wins} of {n} seeds; one-sided sign test p = {p_sign:.2g}, exact sign-flip "
      f"(permutation) test p = {p_perm:.2g} (the smallest possible with {n} seeds: {1 / 2 ** n:.2g})")
EOF
