#!/usr/bin/env bash
# Issue 11's targets side by side, in one process, interleaved (A B C D E, the next round starting one engine later),
# one thread: ours float32 / bf16 / int8 (RecurrentLayer, QuantizedLayer) against ONNX Runtime 1.31.1 float32 and
# com.microsoft.DynamicQuantizeLSTM (in process, IO binding reused), on the same weights and inputs:
#   streaming step B=1 H=256 (LSTM, GRU) and sequence T=100 B=1 H=1024 (LSTM, GRU);
# then the machine's read bandwidth and each format's kernels (bench quick-quant: the roofline of docs/benchmarks.md).
#
# usage: bash bench/peers/formats.sh [--pin] [--seconds S] [--rounds N] [--no-roofline]
#   --pin          everything on CPU 0 (taskset -c 0)
#   --seconds S    measuring time per engine per scenario (default 2)
#   --rounds N     interleaved rounds (default 8)
# env:   OUT       results directory (default peers-results/formats-<utc time>)
# Prints the formats table (also OUT/formats.md, all numbers in OUT/formats.json); ~2 minutes when quiet.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SECONDS_PER=2 ROUNDS=8 PIN=() ROOFLINE=1
while [ $# -gt 0 ]; do
  case $1 in
    --pin) PIN=(--pin); shift ;;
    --seconds) SECONDS_PER=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --no-roofline) ROOFLINE=0; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "formats.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
OUT=${OUT:-peers-results/formats-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
{
  echo "utc: $(date -u +%FT%TZ)"; echo "rev: $(git -C "$ROOT" rev-parse HEAD)"; echo "uptime: $(uptime)"
  LC_ALL=C lscpu | grep -E 'Model name|L1d|L2|L3|^CPU\(s\)'
} >"$OUT/machine.txt"
dotnet build -c Release "$ROOT/bench/RecurrentCore.Peers" -nologo -v q >"$OUT/build.log" 2>&1 || { cat "$OUT/build.log" >&2; exit 1; }
dotnet build -c Release "$ROOT/bench/RecurrentCore.Benchmarks" -nologo -v q >>"$OUT/build.log" 2>&1 || { cat "$OUT/build.log" >&2; exit 1; }
echo "formats.sh: load $(cut -d' ' -f1-3 /proc/loadavg) before" >&2
dotnet "$ROOT/bench/RecurrentCore.Peers/bin/Release/net10.0/RecurrentCore.Peers.dll" --formats "${PIN[@]}" \
  --seconds "$SECONDS_PER" --rounds "$ROUNDS" --out "$OUT/formats.json" --md "$OUT/formats.md" >/dev/null 2>"$OUT/formats.log" \
  || echo "formats.sh: harness exit code $? (3: outputs disagree; see $OUT/formats.log)" >&2
sed -n '/^Formats (issue 11/,$p' "$OUT/formats.md"
if [ "$ROOFLINE" = 1 ]; then
  taskset=(); [ ${#PIN[@]} -gt 0 ] && taskset=(taskset -c 0)
  "${taskset[@]}" dotnet "$ROOT/bench/RecurrentCore.Benchmarks/bin/Release/net10.0/RecurrentCore.Benchmarks.dll" quick-quant | tee "$OUT/roofline.txt"
fi
echo "formats.sh: load $(cut -d' ' -f1-3 /proc/loadavg) after; results in $OUT" >&2
