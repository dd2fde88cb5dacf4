#!/usr/bin/env bash
# The whole peer measurement in one command (issues 10, 15, 11), ~11 minutes on the 2-core EPYC when quiet:
#   1. builds: this checkout's harness against BEFORE and AFTER (bench/peers/build_rev.sh), RTNeural's servers;
#   2. every peer, unpinned, sequence and training rows at 1 and 2 threads, harness built against AFTER;
#   3. the streaming steps again with everything pinned to CPU 0 (taskset -c 0): ours against RTNeural as #10 asks;
#   3b. issue 11's formats group (--formats: ours f32/bf16/int8 against ORT float32 and DynamicQuantizeLSTM), ~1 min;
#   4. our library before/after: bench/peers/ab.sh BEFORE AFTER (process-level A B A B, ours-only scenarios);
#   5. tables (peers.md, pinned.md, summary.md, ab.md), the JSON of every run, peers.svg, all under OUT.
#
# usage: bash bench/peers/run_all.sh [--build-only] AFTER_REV [BEFORE_REV (default 28a3e56 = main before the redesign)]
#        --build-only: step 1 only (~2-3 min); a later run reuses the builds and measures in ~9 min
# env:   RTNEURAL_SRC  RTNeural checkout (default /work/peers-src/rtneural; skipped with a note when absent)
#        OUT           results directory (default peers-results/<utc time>)
#        PEERS_SECONDS per engine per scenario in passes 2 and 3 (default 1.0)
#        AB_ROUNDS, AB_SECONDS  before/after runs per build and seconds per scenario (defaults 3, 0.3)
#        PEERS_FORMATS 0 leaves out pass 3b (default 1)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD_ONLY=0
[ "${1:-}" = --build-only ] && { BUILD_ONLY=1; shift; }
AFTER=${1:?usage: run_all.sh AFTER_REV [BEFORE_REV]}
BEFORE=${2:-28a3e56}
RTNEURAL_SRC=${RTNEURAL_SRC:-/work/peers-src/rtneural}
OUT=${OUT:-peers-results/$(date -u +%Y%m%dT%H%M%SZ)}
PEERS_SECONDS=${PEERS_SECONDS:-1.0}
AB_ROUNDS=${AB_ROUNDS:-3}
AB_SECONDS=${AB_SECONDS:-0.3}
ROOT=${PEERS_BUILD_ROOT:-/tmp/recurrentcore-peers-builds}
mkdir -p "$OUT"
start=$(date +%s)
stamp() { echo "run_all.sh: [$(( $(date +%s) - start )) s, load $(cut -d' ' -f1-3 /proc/loadavg)] $*" >&2; }
{
  echo "utc: $(date -u +%FT%TZ)"; echo "before: $BEFORE $(git -C "$HERE" rev-parse "$BEFORE")"
  echo "after: $AFTER $(git -C "$HERE" rev-parse "$AFTER")"; echo "uptime: $(uptime)"
  LC_ALL=C lscpu | grep -E 'Model name|L1d|L2|L3|^CPU\(s\)'
} >"$OUT/machine.txt"

stamp "1/5 builds"
after_full=$(bash "$HERE/build_rev.sh" "$AFTER" full)
variant=full
bash "$HERE/build_rev.sh" "$BEFORE" full >/dev/null || { variant=ours; stamp "before/after falls back to ours-only builds"; }
rtn_args=()
if [ -f "$RTNEURAL_SRC/RTNeural/RTNeural.h" ]; then
  rtn_hash=$(sha256sum "$HERE/rtneural/rtn_server.cpp" | cut -c1-12)
  rtn_dir="$ROOT/rtneural-$(git -C "$RTNEURAL_SRC" rev-parse --short=12 HEAD 2>/dev/null || echo nogit)-$rtn_hash"
  if ! ls "$rtn_dir"/rtn_server_* >/dev/null 2>&1; then
    bash "$HERE/rtneural/build.sh" "$RTNEURAL_SRC" "$rtn_dir" >"$OUT/rtneural-build.log" 2>&1 || stamp "RTNeural build failed (see $OUT/rtneural-build.log)"
  fi
  ls "$rtn_dir"/rtn_server_* >/dev/null 2>&1 && rtn_args=(--rtneural-bin "$rtn_dir")
else
  stamp "no RTNeural checkout at $RTNEURAL_SRC: RTNeural is skipped"
fi
peers="dotnet $after_full/RecurrentCore.Peers.dll"
[ "$BUILD_ONLY" = 1 ] && { stamp "builds done"; exit 0; }

stamp "2/5 every peer, threads 1 and 2"
$peers "${rtn_args[@]}" --seconds "$PEERS_SECONDS" --threads 1,2 --out "$OUT/peers.json" --md "$OUT/peers.md" \
  >/dev/null 2>"$OUT/peers.log" || { rc=$?; stamp "pass 2 exit code $rc (3: outputs disagree; see $OUT/peers.log)"; }
stamp "3/5 streaming steps pinned to CPU 0"
$peers "${rtn_args[@]}" --pin --modes step --seconds "$PEERS_SECONDS" --out "$OUT/pinned.json" --md "$OUT/pinned.md" \
  >/dev/null 2>"$OUT/pinned.log" || { rc=$?; stamp "pass 3 exit code $rc (see $OUT/pinned.log)"; }
if [ "${PEERS_FORMATS:-1}" != 0 ]; then
  stamp "3b/5 formats (issue 11)"
  $peers --formats --seconds "$PEERS_SECONDS" --out "$OUT/formats.json" --md "$OUT/formats.md" \
    >/dev/null 2>"$OUT/formats.log" || { rc=$?; stamp "pass 3b exit code $rc (see $OUT/formats.log)"; }
fi
stamp "4/5 our library before ($BEFORE) / after ($AFTER)"
PEERS_AB_VARIANT=$variant bash "$HERE/ab.sh" --rounds "$AB_ROUNDS" --seconds "$AB_SECONDS" --out "$OUT/ab" "$BEFORE" "$AFTER" \
  >/dev/null 2>"$OUT/ab.log" || stamp "before/after failed (see $OUT/ab.log)"
stamp "5/5 tables"
python3 "$HERE/summary.py" "$OUT/peers.json" "$OUT/pinned.json" --out "$OUT/summary.md" >/dev/null || true
python3 "$HERE/plot_svg.py" "$OUT/peers.json" "$OUT/peers.svg" || true
for f in peers.md pinned.md formats.md summary.md ab/ab.md; do
  [ -f "$OUT/$f" ] && { echo "## $f"; echo; cat "$OUT/$f"; echo; }
done | tee "$OUT/all.md"
stamp "done: $OUT/all.md"
