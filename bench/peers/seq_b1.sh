#!/usr/bin/env bash
# The one-row (B = 1) float32 sequence targets of issue 10's gate-panel change, side by side (docs/benchmarks.md,
# "One-row float32 sequence on the gate panels"): LSTM/GRU inference T = 100, I = H, one thread.
#   1. quick-seq: both loops (main's W_hh GEMV + gates, and the gate panels) on the same layer in one process,
#      alternating call by call, fastest call of each, GB/s of W_hh (H = 16 … 1024);
#   2. ab.sh: BEFORE_REV against this checkout's HEAD, process level, H = 64, 256, 1024;
#   3. ORT 1.31.1 float32 in process, interleaved, H = 1024.
# usage: bash bench/peers/seq_b1.sh [BEFORE_REV (default 7bee447)] [ROUNDS (default 5)]
# ~6 minutes when quiet (builds cached by build_rev.sh). Prints the load average before each part.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BEFORE=${1:-7bee447} ROUNDS=${2:-5}
dotnet build -c Release "$ROOT/bench/RecurrentCore.Benchmarks" -nologo -v q >/dev/null
dotnet build -c Release "$ROOT/bench/RecurrentCore.Peers" -nologo -v q >/dev/null
echo "seq_b1.sh: $(LC_ALL=C lscpu | grep 'Model name' | tr -s ' '); load $(cut -d' ' -f1-3 /proc/loadavg)"
dotnet "$ROOT/bench/RecurrentCore.Benchmarks/bin/Release/net10.0/RecurrentCore.Benchmarks.dll" quick-seq 16,64,256,1024
echo "seq_b1.sh: ab.sh $BEFORE HEAD; load $(cut -d' ' -f1-3 /proc/loadavg)"
bash "$HERE/ab.sh" --rounds "$ROUNDS" --seconds 1 "$BEFORE" HEAD --modes sequence --threads 1 --filter "B=1 "
echo "seq_b1.sh: ours vs ORT; load $(cut -d' ' -f1-3 /proc/loadavg)"
dotnet "$ROOT/bench/RecurrentCore.Peers/bin/Release/net10.0/RecurrentCore.Peers.dll" --formats --engines ours,ort --filter seq \
  --seconds 2 --rounds "$ROUNDS" 2>/dev/null | sed -n '1,4p'
