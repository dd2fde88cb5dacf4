#!/usr/bin/env bash
# A/B of OUR library: this checkout's peer harness built against two revisions, run alternately (process level:
# before, after, before, after, ...) on the ours-only scenarios, then a before/after table with medians.
#
# usage: bench/peers/ab.sh [--rounds N] [--seconds S] [--out DIR] [--pin] [--] BEFORE_REV AFTER_REV [HARNESS ARGS...]
#   --rounds N    runs of each build (default 3)
#   --seconds S   measuring time per scenario per run (default 0.3)
#   --out DIR     where the JSON of every run and ab.md go (default ab-results/<utc time>)
#   --pin         run both builds pinned to CPU 0 (then the steps only: the harness drops 2-thread rows)
#   HARNESS ARGS  passed on to RecurrentCore.Peers (e.g. --filter "seq", --threads 1)
# example: bash bench/peers/ab.sh 28a3e56 HEAD
# Builds are cached (bench/peers/build_rev.sh). Needs dotnet and python3.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROUNDS=3 SECONDS_PER=0.3 OUT="" PIN=()
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --seconds) SECONDS_PER=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --pin) PIN=(--pin); shift ;;
    --) shift; break ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    -*) echo "ab.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
[ $# -ge 2 ] || { echo "usage: ab.sh [--rounds N] [--seconds S] [--out DIR] [--pin] BEFORE_REV AFTER_REV [HARNESS ARGS...]" >&2; exit 2; }
BEFORE=$1 AFTER=$2
shift 2
OUT=${OUT:-ab-results/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
before_dir=$(bash "$HERE/build_rev.sh" "$BEFORE" "${PEERS_AB_VARIANT:-ours}")
after_dir=$(bash "$HERE/build_rev.sh" "$AFTER" "${PEERS_AB_VARIANT:-ours}")
echo "ab.sh: before = $BEFORE ($(cat "$before_dir/REVISION")), after = $AFTER ($(cat "$after_dir/REVISION")); $ROUNDS rounds; load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for r in $(seq 1 "$ROUNDS"); do
  for side in before after; do
    dir=$before_dir
    [ "$side" = after ] && dir=$after_dir
    echo "ab.sh: round $r/$ROUNDS $side" >&2
    dotnet "$dir/RecurrentCore.Peers.dll" --engines ours --seconds "$SECONDS_PER" --rounds 3 --warm 0.25 "${PIN[@]}" "$@" \
      --out "$OUT/$side-$r.json" >"$OUT/$side-$r.md" 2>"$OUT/$side-$r.log" \
      || { echo "ab.sh: $side run $r failed (see $OUT/$side-$r.log)" >&2; tail -3 "$OUT/$side-$r.log" >&2; exit 1; }
  done
done
python3 "$HERE/ab_table.py" --before "$OUT"/before-*.json --after "$OUT"/after-*.json \
  --label-before "$BEFORE" --label-after "$AFTER" --out "$OUT/ab.md"
echo "ab.sh: wrote $OUT/ab.md" >&2
