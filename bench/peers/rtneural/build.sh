#!/usr/bin/env bash
# Builds the RTNeural peer server (rtn_server.cpp beside this script) once per backend: Eigen, xsimd, STL.
# Adapted from ../shared/peers/rtneural/build.sh (same flags), for the server the C# harness drives.
#
# usage: build.sh RTNEURAL_SRC_DIR BUILD_DIR
#   RTNEURAL_SRC_DIR  an RTNeural checkout (github jatinchowdhury18/RTNeural, measured at 1fb1f07) with
#                     modules/Eigen and, for xsimd, modules/xsimd/include populated (git submodule update --init)
#   BUILD_DIR         where rtn_server_{eigen,xsimd,stl} and build_info.txt go (outside the repository)
# env: CXX (default g++), EXTRA_FLAGS (appended), BACKENDS (default "eigen xsimd stl")
#
# Flags common to all backends: -std=c++17 -O3 -march=native -DNDEBUG. Per backend:
#   eigen: -DRTNEURAL_USE_EIGEN=1 -DRTNEURAL_DEFAULT_ALIGNMENT=32 -DEIGEN_STACK_ALLOCATION_LIMIT=0
#          (32 is the largest alignment RTNeural's Eigen code accepts; the stack limit is lifted because the
#          compile-time-sized LSTM at H >= 64 holds a fixed-size weight matrix > 128 KiB)
#   xsimd: -DRTNEURAL_USE_XSIMD=1 -DRTNEURAL_DEFAULT_ALIGNMENT=64 (512-bit batches on an AVX-512 CPU)
#   stl:   -DRTNEURAL_DEFAULT_ALIGNMENT=32
# Exit status 0 when at least one backend built.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 RTNEURAL_SRC_DIR BUILD_DIR" >&2
  exit 2
fi
SRC=$(cd "$1" && pwd)
OUT=$2
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CXX=${CXX:-g++}
BACKENDS=${BACKENDS:-"eigen xsimd stl"}
COMMON="-std=c++17 -O3 -march=native -DNDEBUG ${EXTRA_FLAGS:-}"
[ -f "$SRC/RTNeural/RTNeural.h" ] || { echo "$SRC: no RTNeural/RTNeural.h (not an RTNeural checkout)" >&2; exit 2; }
mkdir -p "$OUT"
commit=$(git -C "$SRC" rev-parse HEAD 2>/dev/null || echo unknown)
{
  echo "rtneural_src: $SRC"
  echo "rtneural_commit: $commit"
  echo "server_sha256: $(sha256sum "$HERE/rtn_server.cpp" | cut -d' ' -f1)"
  echo "compiler: $($CXX --version | head -1)"
  echo "march_native_resolves_to: $($CXX -march=native -Q --help=target 2>/dev/null | awk '$1=="-march="{print $2}')"
  echo "avx512f: $($CXX -march=native -Q --help=target 2>/dev/null | awk '$1=="-mavx512f"{print $2}')"
  echo "common_flags: $COMMON"
} >"$OUT/build_info.txt"

built=0
for b in $BACKENDS; do
  case $b in
    eigen) DEFS="-DRTNEURAL_USE_EIGEN=1 -DRTNEURAL_DEFAULT_ALIGNMENT=32 -DEIGEN_STACK_ALLOCATION_LIMIT=0"
           INC="-I$SRC -I$SRC/modules/Eigen" ;;
    xsimd) if [ ! -f "$SRC/modules/xsimd/include/xsimd/xsimd.hpp" ]; then
             echo "xsimd: $SRC/modules/xsimd/include/xsimd/xsimd.hpp missing, skipped" | tee -a "$OUT/build_info.txt"
             continue
           fi
           DEFS="-DRTNEURAL_USE_XSIMD=1 -DRTNEURAL_DEFAULT_ALIGNMENT=64"
           INC="-I$SRC -I$SRC/modules/xsimd/include" ;;
    stl)   DEFS="-DRTNEURAL_DEFAULT_ALIGNMENT=32"
           INC="-I$SRC" ;;
    *) echo "unknown backend $b" >&2; exit 2 ;;
  esac
  flags="$COMMON $DEFS"
  echo "build $b: $CXX $flags" | tee -a "$OUT/build_info.txt"
  start=$(date +%s)
  # shellcheck disable=SC2086
  if nice -n 10 $CXX $flags $INC -DRTN_BACKEND="\"$b\"" -DRTN_FLAGS="\"$flags\"" \
      "$HERE/rtn_server.cpp" -o "$OUT/rtn_server_$b.tmp" 2>"$OUT/build_$b.log"; then
    mv "$OUT/rtn_server_$b.tmp" "$OUT/rtn_server_$b"
    echo "build $b ok in $(( $(date +%s) - start )) s -> $OUT/rtn_server_$b" | tee -a "$OUT/build_info.txt"
    built=$((built + 1))
  else
    echo "build $b FAILED (see $OUT/build_$b.log)" | tee -a "$OUT/build_info.txt"
    tail -20 "$OUT/build_$b.log" >&2
  fi
done
[ "$built" -gt 0 ]
