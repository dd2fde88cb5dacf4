#!/usr/bin/env bash
# Issue #10's streaming-step targets side by side: our StreamState.Step against RTNeural's best configuration per
# size (LSTM and GRU, B = 1, I = H, H = 16, 64, 256), in ROUNDS alternating runs of the peer harness, pinned to CPU 0
# (taskset -c 0, as the issue asks) and unpinned; within a run the engines are interleaved (A B A B) per scenario and
# each figure is a median. Optionally our library before/after on the same step scenarios (bench/peers/ab.sh).
#
# usage: bash bench/peers/step_vs_rtneural.sh [AFTER_REV (default HEAD)] [BEFORE_REV (default: none)]
# env:   ROUNDS (default 2)  SECONDS_PER (per engine per scenario, default 1.0)  OUT (default step-results/<utc>)
#        RTNEURAL_SRC (default /work/peers-src/rtneural)  RTNEURAL_BIN (a directory with rtn_server_*; default: built)
# Prints the tables and writes OUT/{pinned,unpinned}-N.{md,json}, OUT/machine.txt and, with BEFORE_REV, OUT/ab/ab.md.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
AFTER=${1:-HEAD}
BEFORE=${2:-}
ROUNDS=${ROUNDS:-2}
SECONDS_PER=${SECONDS_PER:-1.0}
OUT=${OUT:-step-results/$(date -u +%Y%m%dT%H%M%SZ)}
RTNEURAL_SRC=${RTNEURAL_SRC:-/work/peers-src/rtneural}
ROOT=${PEERS_BUILD_ROOT:-/tmp/recurrentcore-peers-builds}
mkdir -p "$OUT"
{
  echo "utc: $(date -u +%FT%TZ)"; echo "after: $AFTER $(git -C "$HERE" rev-parse "$AFTER")"; echo "uptime: $(uptime)"
  LC_ALL=C lscpu | grep -E 'Model name|L1d|L2|L3|^CPU\(s\)'
} >"$OUT/machine.txt"

after=$(bash "$HERE/build_rev.sh" "$AFTER" full)
rtn=${RTNEURAL_BIN:-}
if [ -z "$rtn" ]; then
  rtn="$ROOT/rtneural-$(git -C "$RTNEURAL_SRC" rev-parse --short=12 HEAD)-$(sha256sum "$HERE/rtneural/rtn_server.cpp" | cut -c1-12)"
  ls "$rtn"/rtn_server_* >/dev/null 2>&1 || bash "$HERE/rtneural/build.sh" "$RTNEURAL_SRC" "$rtn" >"$OUT/rtneural-build.log" 2>&1
fi
peers=(dotnet "$after/RecurrentCore.Peers.dll" --engines ours,rtneural --rtneural-bin "$rtn" --modes step --seconds "$SECONDS_PER")
for r in $(seq "$ROUNDS"); do
  echo "step_vs_rtneural.sh: round $r/$ROUNDS pinned, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  # --warm 3: pinned, .NET installs optimised code for the harness's own timing loop only after ~2 s, and a 0.5 s
  # warm-up can settle on that steady tier-0 plateau (LSTM H=16: 117-143 ns timed that way, 94-97 ns with --warm 3).
  "${peers[@]}" --pin --warm 3 --out "$OUT/pinned-$r.json" --md "$OUT/pinned-$r.md" >/dev/null 2>>"$OUT/peers.log" || true
  echo "step_vs_rtneural.sh: round $r/$ROUNDS unpinned, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  "${peers[@]}" --threads 1 --out "$OUT/unpinned-$r.json" --md "$OUT/unpinned-$r.md" >/dev/null 2>>"$OUT/peers.log" || true
done
if [ -n "$BEFORE" ]; then
  bash "$HERE/ab.sh" --rounds "$ROUNDS" --seconds 0.5 --pin --out "$OUT/ab" "$BEFORE" "$AFTER" --modes step >/dev/null 2>"$OUT/ab.log" || true
fi
for f in "$OUT"/pinned-*.md "$OUT"/unpinned-*.md "$OUT"/ab/ab.md; do
  [ -f "$f" ] && { echo "## $(basename "$f")"; grep -E '^\||^Machine|^RTNeural step' "$f"; echo; }
done | tee "$OUT/all.md"
