#!/usr/bin/env bash
# Kernel A/B of two RecurrentCore.dll builds (made for the SIMD template and GemmTile rewrite, usable for any kernel change):
# bitwise output hashes and JIT disassembly of the hot kernels under default / EnableAVX512=0 / EnableHWIntrinsic=0,
# then kernel-ab bench avx512 (GEMV 4HxH, GEMM 256^3) A B interleaved, medians. usage: bench/simd-ab.sh DLL_A DLL_B [ROUNDS]
# DLL_X = a RecurrentCore.dll (e.g. dotnet build src/RecurrentCore -c Release -o OUT in each checkout).
set -euo pipefail
A=$1 B=$2 N=${3:-5} T=$(mktemp -d) REPO=$(cd "$(dirname "$0")/.." && pwd)
for s in A B; do dll=${!s}; dotnet build "$REPO/bench/kernel-ab" -c Release -o "$T/$s" -p:RcDll="$dll" -v q >/dev/null; done
M='Tile PackA One Multiply MultiplyTransposed MultiplyTransposedInOrder MultiplyTransposedInterleaved MultiplyNarrow Column1 Forward Backward Exp Sigmoid Tanh'
for e in X=1 DOTNET_EnableAVX512=0 DOTNET_EnableHWIntrinsic=0; do
  for s in A B; do
    env $e "$T/$s/kernel-ab" > "$T/h-$s"
    rm -f "$T/d-$s"; env $e DOTNET_TieredCompilation=0 DOTNET_JitDiffableDasm=1 DOTNET_JitDisasm="$M" DOTNET_JitStdOutFile="$T/d-$s" "$T/$s/kernel-ab" all >/dev/null
    sed -E 's/0x[0-9A-F]{8,}/ADDR/g' "$T/d-$s" | grep -v inlinees > "$T/n-$s"
  done
  echo "$e: hashes $(cmp -s "$T/h-A" "$T/h-B" && echo identical || echo DIFFER) ($(wc -l < "$T/h-A") lines);" \
       "disasm of $(grep -c '^; Assembly listing' "$T/n-A") methods: $(diff "$T/n-A" "$T/n-B" | grep -c '^[<>]') lines differ"
done
echo "load $(cut -d' ' -f1-3 /proc/loadavg); kernel-ab bench avx512, A B interleaved x$N"
for i in $(seq "$N"); do for s in A B; do "$T/$s/kernel-ab" bench avx512 | sed "s/^/$s /"; done; done | sort -s -k1,1 | python3 -c '
import sys,collections,statistics as st
d=collections.defaultdict(list)
for l in sys.stdin:
    w=l.split(); key=" ".join(w[1:4]); vals=[float(x) for x in w if x.replace(".","",1).isdigit()]
    d[(w[0],key)].append(vals)
for (s,k),v in sorted(d.items(), key=lambda x:(x[0][1],x[0][0])): print(s,k,"medians",[round(st.median(c),1) for c in zip(*v)])'
rm -rf "$T"
