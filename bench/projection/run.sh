#!/usr/bin/env bash
# The projected LSTM (proj_size 128, H 256, I 64) beside the plain LSTMs it sits between (H 256 and H 128), on
# `recurrent bench --model`, interleaved A B C A B C for ROUNDS rounds; then PyTorch 2 (one thread) on the same shapes.
# Usage: bash bench/projection/run.sh [ROUNDS] [SECONDS]   (from the repository root; needs /usr/bin/python3 with torch)
set -euo pipefail
ROUNDS=${1:-3}; SECONDS_PER=${2:-0.5}
DIR=$(mktemp -d)
dotnet build src/RecurrentCore.Cli -c Release -v q >/dev/null
R=src/RecurrentCore.Cli/bin/Release/net10.0/recurrent
(cd "$DIR" && /usr/bin/python3 "$OLDPWD/bench/projection/make_models.py")
lscpu | grep -E 'Model name|L2' ; uptime
for round in $(seq "$ROUNDS"); do
  for m in plain128 proj plain; do
    for args in "--mode step --batch 1 --seq 1" "--mode forward --batch 1 --seq 100" "--mode train --batch 8 --seq 50"; do
      echo "round $round $m $args: $($R bench --model "$DIR/$m.safetensors" --cell lstm $args --seconds "$SECONDS_PER")"
    done
  done
done
if [ -x /opt/peers-venv/bin/python ]; then /opt/peers-venv/bin/python bench/projection/torch_forward.py 2>/dev/null; fi
uptime
rm -rf "$DIR"
