#!/usr/bin/env bash
# The trained-model accuracy table of docs/numerics.md (#11): a character LSTM language model trained once with a fixed
# seed on 13 of main's docs at a fixed commit, then its held-out loss (nats per character) on the 14th
# (docs/reliability.md, whose characters all occur in the training text) with W_ih and W_hh in float32, bf16 and int8.
# Training is bitwise reproducible (same checkpoint bytes for any thread count), so the table is too.
#   bash bench/quantized_lm/run.sh [OUT_DIR]      (about 3-6 minutes on 2 cores; prints the eval table)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-${TMPDIR:-/tmp}/recurrentcore-quantized-lm}
rev=890f9d8
mkdir -p "$out"
: >"$out/train.txt"
for doc in architecture benchmarks demo kernels-gates-bench-run1 kernels-gates kernels-gemm kernels numerics onnx packaging peers serving training; do
  git show "$rev:docs/$doc.md" >>"$out/train.txt"
done
git show "$rev:docs/reliability.md" >"$out/heldout.txt"

dotnet build src/RecurrentCore.Cli -c Release -v quiet -nologo >/dev/null
recurrent() { dotnet src/RecurrentCore.Cli/bin/Release/net10.0/recurrent.dll "$@"; }
if [ ! -f "$out/lm.safetensors" ]; then
  recurrent train --text "$out/train.txt" --cell lstm --hidden 256 --embedding 32 --epochs 6 --seq-len 64 --batch 32 \
    --lr 3e-3 --seed 11 --checkpoint "$out/lm.safetensors" 2>/dev/null
fi
sha256sum "$out/lm.safetensors"
recurrent eval --checkpoint "$out/lm.safetensors" --text "$out/heldout.txt" --weights-formats f32,bf16,int8
