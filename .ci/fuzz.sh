#!/usr/bin/env bash
# Coverage-guided fuzzing of the safetensors, .npy and ONNX readers: SharpFuzz instruments RecurrentCore.dll, afl++
# drives fuzz/RecurrentCore.Fuzz from the committed seed corpus (fuzz/corpus/<format>) for FUZZ_SECONDS per format
# (default 40; three formats, about 2.5 minutes with the build). Fails when afl++ records a crash or a hang
# (an exception that is not a RecurrentCoreException, a message that is not one line naming the input, the byte
# and pipe readers disagreeing, or a run past the time limit), and prints how to replay it.
# Installs afl++ (Debian package) when missing; the SharpFuzz tool comes from .config/dotnet-tools.json.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
seconds=${FUZZ_SECONDS:-40}
out=TestResults/fuzz

if ! command -v afl-fuzz >/dev/null; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq afl++ >/dev/null
fi

rm -rf "$out"
mkdir -p "$out"
dotnet tool restore >/dev/null
dotnet publish fuzz/RecurrentCore.Fuzz -c Release -o "$out/bin" -v quiet -nologo >/dev/null
dotnet tool run sharpfuzz "$out/bin/RecurrentCore.dll" >/dev/null

# The target is the dotnet host, which afl++ cannot see instrumented; SharpFuzz speaks the fork-server protocol
# from managed code. The machine's core_pattern, CPU governor and affinity are not ours to change.
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1
export AFL_FORKSRV_INIT_TMOUT=60000 AFL_QUIET=1

status=0
for format in safetensors npy onnx; do
  timeout $((seconds + 60)) afl-fuzz -V "$seconds" -t 5000 -m none -i "fuzz/corpus/$format" -o "$out/$format" \
    -- dotnet "$out/bin/RecurrentCore.Fuzz.dll" "$format" >"$out/$format.log" 2>&1 || {
    echo "fuzz $format: afl-fuzz failed (exit $?); last lines of $out/$format.log:" >&2
    tail -20 "$out/$format.log" >&2
    status=1
    continue
  }
  stats="$out/$format/default/fuzzer_stats"
  field() { sed -n "s/^$1 *: *//p" "$stats"; }
  crashes=$(find "$out/$format/default/crashes" -type f ! -name README.txt | wc -l)
  hangs=$(find "$out/$format/default/hangs" -type f | wc -l)
  echo "fuzz $format: $(field execs_done) execs in $(field run_time) s, corpus $(field corpus_count), edges $(field edges_found) of $(field total_edges), coverage $(field bitmap_cvg), crashes $crashes, hangs $hangs"
  if [ "$crashes" -gt 0 ] || [ "$hangs" -gt 0 ]; then
    for f in "$out/$format/default/crashes"/id* "$out/$format/default/hangs"/id*; do
      [ -f "$f" ] || continue
      echo "  replay: dotnet $out/bin/RecurrentCore.Fuzz.dll $format '$f'" >&2
    done
    status=1
  fi
done
exit $status
