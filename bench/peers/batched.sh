#!/usr/bin/env bash
# Issue 15's targets side by side in one command (~8 minutes on the 2-core EPYC when quiet):
#   1. one core's FMA peak (bench/peers/fma_peak.c, CPU time) and its 85 % line;
#   2. sequence inference T = 100, B = 16, LSTM and GRU, H = 256 and 1024, at 1 and 2 threads:
#      ours against ONNX Runtime, oneDNN and PyTorch 2 (the harness interleaves the engines round by round);
#   3. training T = 50, B = 32, H = 256, LSTM and GRU, at 1 and 2 threads: ours against PyTorch 2;
#   4. ours before/after on the same rows (bench/peers/ab.sh, process-level A B A B).
# The harness tables carry the #15 verdicts (≥ 1.15× fastest peer, ≥ 1.5× PyTorch 2, 2 threads ≥ 1.8× 1 thread,
# 2 threads bitwise = 1 thread); GFLOP/s of the H = 1024 rows against the 85 % line of step 1 decides the last target.
#
# usage: bash bench/peers/batched.sh [AFTER_REV (default HEAD)] [BEFORE_REV (default 890f9d8, main before this work)]
# env:   OUT (default batched-results/<utc time>), PEERS_SECONDS per engine per scenario (default 1.0),
#        PEERS_ROUNDS interleaved rounds (default 6), AB_ROUNDS (default 3), AB_SECONDS (default 0.5)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
AFTER=${1:-HEAD}
BEFORE=${2:-890f9d8}
OUT=${OUT:-batched-results/$(date -u +%Y%m%dT%H%M%SZ)}
PEERS_SECONDS=${PEERS_SECONDS:-1.0}
PEERS_ROUNDS=${PEERS_ROUNDS:-6}
AB_ROUNDS=${AB_ROUNDS:-3}
AB_SECONDS=${AB_SECONDS:-0.5}
mkdir -p "$OUT"
start=$(date +%s)
stamp() { echo "batched.sh: [$(( $(date +%s) - start )) s, load $(cut -d' ' -f1-3 /proc/loadavg)] $*" >&2; }
{
  echo "utc: $(date -u +%FT%TZ)"; echo "after: $AFTER $(git -C "$HERE" rev-parse "$AFTER")"
  echo "before: $BEFORE $(git -C "$HERE" rev-parse "$BEFORE")"; echo "uptime: $(uptime)"
  LC_ALL=C lscpu | grep -E 'Model name|L1d|L2|L3|^CPU\(s\)'
} >"$OUT/machine.txt"

stamp "1/4 FMA peak"
gcc -O2 -mavx512f -mfma "$HERE/fma_peak.c" -o "$OUT/fma_peak"
"$OUT/fma_peak" 5 | tee "$OUT/fma_peak.txt"

stamp "building the harness against $AFTER"
peers="dotnet $(bash "$HERE/build_rev.sh" "$AFTER" full)/RecurrentCore.Peers.dll"
common=(--threads 1,2 --seconds "$PEERS_SECONDS" --rounds "$PEERS_ROUNDS")

stamp "2/4 sequence T=100 B=16: ours, ORT, oneDNN, PyTorch 2"
$peers --engines ort,onednn,torch2 --modes sequence --filter "B=16" "${common[@]}" --out "$OUT/sequence.json" --md "$OUT/sequence.md" \
  >/dev/null 2>"$OUT/sequence.log" || stamp "sequence: exit code $? (3: outputs disagree; see $OUT/sequence.log)"
stamp "3/4 training T=50 B=32: ours, PyTorch 2"
$peers --engines torch2 --modes train "${common[@]}" --out "$OUT/train.json" --md "$OUT/train.md" \
  >/dev/null 2>"$OUT/train.log" || stamp "train: exit code $? (see $OUT/train.log)"

stamp "4/4 ours before ($BEFORE) / after ($AFTER)"
bash "$HERE/ab.sh" --rounds "$AB_ROUNDS" --seconds "$AB_SECONDS" --out "$OUT/ab-train" "$BEFORE" "$AFTER" --modes train --threads 1,2 \
  >/dev/null 2>"$OUT/ab-train.log" || stamp "before/after (train) failed (see $OUT/ab-train.log)"
bash "$HERE/ab.sh" --rounds "$AB_ROUNDS" --seconds "$AB_SECONDS" --out "$OUT/ab-sequence" "$BEFORE" "$AFTER" --modes sequence --filter "B=16" --threads 1,2 \
  >/dev/null 2>"$OUT/ab-sequence.log" || stamp "before/after (sequence) failed (see $OUT/ab-sequence.log)"

for f in fma_peak.txt sequence.md train.md ab-train/ab.md ab-sequence/ab.md; do
  [ -f "$OUT/$f" ] && { echo "## $f"; echo; cat "$OUT/$f"; echo; }
done | tee "$OUT/all.md"
stamp "done: $OUT/all.md"
