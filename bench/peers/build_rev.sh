#!/usr/bin/env bash
# Builds this checkout's peer harness (bench/RecurrentCore.Peers + bench/peers) against the library of a git
# revision, once, and prints the directory holding RecurrentCore.Peers.dll.
#
# usage: build_rev.sh REV [full|ours]
#   REV    any revision of this repository (main, 28a3e56, a branch)
#   full   every engine (ONNX Runtime in process; needs the revision's OnnxModel.Export)
#   ours   -p:PeersOursOnly=true: ours only, using nothing of the library but layers, parameters, workspaces,
#          streams and gradients, so the same harness source compiles against old and new revisions (default)
# The revision is checked out with `git worktree add --detach` under $PEERS_BUILD_ROOT (default
# /tmp/recurrentcore-peers-builds) and this checkout's harness files are copied over its own; the build is reused
# while the revision and the harness files are unchanged. Build output goes to the log beside it.
set -euo pipefail
REV=${1:?usage: build_rev.sh REV [full|ours]}
VARIANT=${2:-ours}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(git -C "$HERE" rev-parse --show-toplevel)
ROOT=${PEERS_BUILD_ROOT:-/tmp/recurrentcore-peers-builds}
commit=$(git -C "$REPO" rev-parse --verify "$REV^{commit}") || { echo "build_rev.sh: unknown revision '$REV'" >&2; exit 2; }
harness=$(cd "$REPO/bench" && find RecurrentCore.Peers peers -type f \( -name '*.cs' -o -name '*.csproj' -o -name '*.py' -o -name '*.sh' -o -name '*.cpp' \) \
  -not -path '*/bin/*' -not -path '*/obj/*' | sort | xargs sha256sum | sha256sum | cut -c1-12)
dir="$ROOT/${commit:0:12}-$harness-$VARIANT"
if [ -f "$dir/out/RecurrentCore.Peers.dll" ]; then
  echo "$dir/out"
  exit 0
fi
mkdir -p "$ROOT"
if [ ! -d "$dir/src" ]; then
  git -C "$REPO" worktree prune
  git -C "$REPO" worktree add --detach "$dir/src" "$commit" >/dev/null 2>&1 \
    || { echo "build_rev.sh: git worktree add $dir/src $commit failed" >&2; exit 1; }
fi
rm -rf "$dir/src/bench/RecurrentCore.Peers" "$dir/src/bench/peers"
(cd "$REPO/bench" && tar --exclude=bin --exclude=obj -cf - RecurrentCore.Peers peers) | tar -xf - -C "$dir/src/bench"
flags=()
[ "$VARIANT" = ours ] && flags+=(-p:PeersOursOnly=true)
grep -qs "namespace RecurrentCore.Memory" "$dir/src/src/RecurrentCore/Memory/RecurrentWorkspace.cs" && flags+=(-p:PeersWorkspaceInMemory=true)
echo "build_rev.sh: building $REV (${commit:0:12}, $VARIANT) in $dir" >&2
if ! dotnet build "$dir/src/bench/RecurrentCore.Peers" -c Release "${flags[@]}" -o "$dir/out" >"$dir/build.log" 2>&1; then
  echo "build_rev.sh: build of $REV failed (see $dir/build.log):" >&2
  grep -E ' error ' "$dir/build.log" | sort -u | head -5 >&2
  rm -rf "$dir/out"
  exit 1
fi
echo "$commit" >"$dir/out/REVISION"
echo "$dir/out"
