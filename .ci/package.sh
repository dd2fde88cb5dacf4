#!/usr/bin/env bash
# CI for the packages (docs/packaging.md): packs RecurrentCore and RecurrentCore.Cli into a local folder feed, checks
# their metadata, installs the tool from that feed and runs `recurrent info` and `recurrent parity`, builds and runs samples/QuickStart against
# the package (copied out of the repository, so no project reference and no repository build props can leak in), and
# publishes tests/RecurrentCore.Aot with NativeAOT, checking the kernel variant it runs against the JIT's on this machine.
# Needs the .NET SDK, NuGet and, for NativeAOT, a C toolchain (installed from Debian when absent). Bounded: every step
# runs under `timeout`. Prints one "package: ..." line per check; exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# Deterministic CI build (ContinuousIntegrationBuild, /_/ source paths): Directory.Build.props reads this.
export RECURRENTCORE_CI=true

tmp=$(mktemp -d)
# A version no earlier run used, so no copy cached in ~/.nuget/packages can stand in for the one packed now.
suffix="ci.$(date +%s).$$"
version=""
cleanup() {
  rm -rf "$tmp"
  if [ -n "$version" ]; then
    local cache="${NUGET_PACKAGES:-$HOME/.nuget/packages}" id
    for id in recurrentcore recurrentcore.cli; do
      rm -rf "${cache:?}/$id/$version"
      rmdir "$cache/$id" 2>/dev/null || true
    done
  fi
}
trap cleanup EXIT
fail() { echo "package: FAILED: $*" >&2; exit 1; }
step() { local limit=$1; shift; timeout --kill-after=10 "$limit" "$@"; }
start=$SECONDS

command -v unzip >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq unzip >/dev/null; } \
  || fail "apt-get install unzip (to read the packages)"

feed="$tmp/feed"
version=$(dotnet msbuild src/RecurrentCore -getProperty:PackageVersion -p:VersionSuffix="$suffix")
# Built under $tmp, so the repository's bin/ and obj/ (what the tests ran) stay as they were.
for project in src/RecurrentCore src/RecurrentCore.Cli; do
  step 600 dotnet pack "$project" -c Release -o "$feed" -p:VersionSuffix="$suffix" --artifacts-path "$tmp/artifacts" -v:q -nologo \
    || fail "dotnet pack $project"
done

# The packages: what a consumer and nuget.org read.
lib="$feed/RecurrentCore.$version.nupkg"
tool="$feed/RecurrentCore.Cli.$version.nupkg"
for f in "$lib" "$tool" "$feed/RecurrentCore.$version.snupkg"; do
  [ -f "$f" ] || fail "missing $(basename "$f") in the feed ($(ls "$feed" | tr '\n' ' '))"
done
nuspec=$(unzip -p "$lib" RecurrentCore.nuspec)
for want in "<license type=\"expression\">MIT</license>" "<readme>README.md</readme>" "<repository type=\"git\"" "<version>$version</version>"; do
  grep -qF "$want" <<<"$nuspec" || fail "RecurrentCore.nuspec lacks $want"
done
files=$(unzip -Z1 "$lib")
for want in README.md lib/net10.0/RecurrentCore.dll lib/net10.0/RecurrentCore.xml buildTransitive/RecurrentCore.props buildTransitive/RecurrentCore.targets; do
  grep -qx "$want" <<<"$files" || fail "RecurrentCore.$version.nupkg lacks $want"
done
unzip -p "$tool" RecurrentCore.Cli.nuspec | grep -qF '<packageType name="DotnetTool" />' || fail "RecurrentCore.Cli is not a dotnet tool package"
echo "package: packed RecurrentCore and RecurrentCore.Cli $version (license, readme, repository, symbols, buildTransitive checked)"

# A consumer's NuGet.config: the local feed beside the sources the machine already has.
consumer_config() {
  cat >"$1/NuGet.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="recurrentcore-local" value="$feed" />
  </packageSources>
</configuration>
XML
}

# The tool, installed from the feed like a user would.
step 300 dotnet tool install RecurrentCore.Cli --version "$version" --tool-path "$tmp/tools" --add-source "$feed" >/dev/null \
  || fail "dotnet tool install RecurrentCore.Cli"
info=$(step 60 "$tmp/tools/recurrent" info) || fail "recurrent info (installed tool) exited non-zero"
tool_active=$(sed -n 's/^active *\([a-z0-9]*\).*/\1/p' <<<"$info")
[ -n "$tool_active" ] || fail "recurrent info printed no 'active' line: $info"
# Run from elsewhere: the tool must find the fixtures it bundles, not the repository's.
parity=$(cd "$tmp" && step 120 "$tmp/tools/recurrent" parity 2>&1) || fail "recurrent parity (installed tool): $(tail -3 <<<"$parity")"
echo "package: tool installed from the feed; recurrent info: active $tool_active; recurrent parity: $(tail -1 <<<"$parity")"

# The README's example, as a separate app against the package.
qs="$tmp/quickstart"
mkdir -p "$qs"
cp samples/QuickStart/QuickStart.csproj samples/QuickStart/Program.cs "$qs/"
consumer_config "$qs"
out=$(cd "$qs" && step 600 dotnet run -c Release --property:RecurrentCorePackageVersion="$version" -- "$repo/tests/fixtures/torch/lstm_basic" 2>&1) \
  || fail "QuickStart against the package: $out"
grep -q "\"RecurrentCore/$version\"" "$qs/obj/project.assets.json" || fail "QuickStart did not restore RecurrentCore $version from the feed"
grep -A2 "\"RecurrentCore/$version\"" "$qs/obj/project.assets.json" | grep -q '"type": "package"' || fail "QuickStart's RecurrentCore is not the package"
echo "package: QuickStart against the package: $(head -1 <<<"$out" | tr -s ' ')"

# NativeAOT needs a C toolchain to link (zlib and brotli come inside the ILCompiler package).
if ! command -v clang >/dev/null && ! command -v gcc >/dev/null; then
  echo "package: no clang or gcc: installing clang from Debian for the NativeAOT link"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang binutils >/dev/null || fail "apt-get install clang"
fi
command -v objcopy >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq binutils >/dev/null; } || fail "apt-get install binutils"

aot="$tmp/aot"
mkdir -p "$aot"
cp tests/RecurrentCore.Aot/RecurrentCore.Aot.csproj tests/RecurrentCore.Aot/Program.cs "$aot/"
consumer_config "$aot"
fixture="$repo/tests/fixtures/torch/lstm_basic"
value() { sed -n "s/^$1=//p" <<<"$2"; }
# The same app under the JIT first: the variant it picks is the one NativeAOT must reach.
(cd "$aot" && step 600 dotnet build -c Release -p:RecurrentCorePackageVersion="$version" -v:q -nologo >/dev/null) || fail "build the AOT probe"
jit=$(step 60 dotnet "$aot/bin/Release/net10.0/RecurrentCore.Aot.dll" "$fixture") || fail "AOT probe under the JIT: $jit"
[ "$(value aot "$jit")" = false ] || fail "the JIT run of the probe reports aot=$(value aot "$jit")"
jit_active=$(value active "$jit")
[ "$jit_active" = "$tool_active" ] || fail "the probe under the JIT runs $jit_active, recurrent info says $tool_active"
# native: compiled for this machine's CPU, so it must pick exactly what the JIT picks. The package's default,
# x86-64-v3, is portable to any AVX2 CPU and may pick a narrower variant than the JIT where AVX-512 is present.
publish=$(cd "$aot" && step 600 dotnet publish -c Release -p:RecurrentCorePackageVersion="$version" -p:RecurrentCoreIlcInstructionSet=native -o "$aot/native" -nologo 2>&1) \
  || fail "NativeAOT publish: $publish"
grep -q "IlcInstructionSet=native" <<<"$publish" || fail "the package's build logic did not set IlcInstructionSet (publish said: $(grep -i recurrentcore <<<"$publish" | head -3))"
native=$(step 60 "$aot/native/RecurrentCore.Aot" "$fixture") || fail "the NativeAOT probe: $native"
[ "$(value aot "$native")" = true ] || fail "the published probe is not NativeAOT (aot=$(value aot "$native"))"
[ "$(value active "$native")" = "$jit_active" ] || fail "NativeAOT runs the $(value active "$native") kernels, the JIT on this machine $jit_active"
[ "$(value layer "$native")" = "$jit_active" ] || fail "the NativeAOT layer runs $(value layer "$native"), the JIT $jit_active"
echo "package: NativeAOT (IlcInstructionSet=native via the package) runs $(value active "$native") = the JIT's; PyTorch max |error| $(value fixture_max_abs_error "$native")"

# The package's default, x86-64-v3: its binary runs the AVX2 kernels (where this CPU has AVX2; elsewhere it would not start).
publish=$(cd "$aot" && step 600 dotnet publish -c Release -p:RecurrentCorePackageVersion="$version" -o "$aot/default" -nologo 2>&1) \
  || fail "NativeAOT publish (default instruction set): $publish"
grep -q "IlcInstructionSet=x86-64-v3" <<<"$publish" || fail "the package's default did not set IlcInstructionSet=x86-64-v3"
! grep -q RCORE001 <<<"$publish" || fail "RCORE001 warned on the package's default instruction set"
if grep -q avx2 <<<"$(value supported "$jit")"; then
  default=$(step 60 "$aot/default/RecurrentCore.Aot" "$fixture") || fail "the NativeAOT probe (x86-64-v3): $default"
  [ "$(value active "$default")" = avx2 ] || fail "NativeAOT for x86-64-v3 runs $(value active "$default"), expected avx2"
  echo "package: NativeAOT (the package's default x86-64-v3) runs avx2 (the JIT: $jit_active)"
fi
# Opting out (the SDK's baseline) must warn, at the point of publishing; the target alone shows it without compiling.
optout=$(cd "$aot" && step 120 dotnet msbuild -t:RecurrentCoreChooseIlcInstructionSet -p:PublishAot=true -p:RuntimeIdentifier=linux-x64 \
  -p:RecurrentCorePackageVersion="$version" -p:RecurrentCoreIlcInstructionSet=sdk -nologo 2>&1) || fail "RecurrentCoreChooseIlcInstructionSet: $optout"
grep -q "warning RCORE001" <<<"$optout" || fail "no RCORE001 warning for a baseline NativeAOT publish: $optout"
echo "package: a baseline NativeAOT publish (RecurrentCoreIlcInstructionSet=sdk) warns RCORE001"
echo "package: done in $((SECONDS - start)) s"
