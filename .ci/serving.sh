#!/usr/bin/env bash
# CI for samples/Serving: build the service and the load-test driver, start the service on a loopback port, check a
# few concurrent sessions' answers bitwise against the library stepping alone (plus bad input, unknown sessions and
# idle eviction), and stop it. Correctness only, never speed. Prints "serving: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

dotnet build samples/Serving -c Release -v q -nologo
dotnet build samples/LoadTest -c Release -v q -nologo

port=$((20000 + RANDOM % 20000))
log=$(mktemp)
dotnet samples/Serving/bin/Release/net10.0/recurrent-serving.dll --urls "http://127.0.0.1:$port" --idle-seconds 1 --max-sessions 16 >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -f "$log"' EXIT

status=0
# The driver waits for the service itself (bounded), then checks; the whole run is bounded too.
if timeout 120 dotnet samples/LoadTest/bin/Release/net10.0/recurrent-loadtest.dll check --url "http://127.0.0.1:$port" \
     --sessions 6 --steps 24 --wait-seconds 60; then
  echo "serving: 1 passed, 0 failed"
else
  status=1
  echo "serving: 0 passed, 1 failed"
  cat "$log" >&2
fi

# Bad settings: one line, exit 2, no stack trace.
if out=$(dotnet samples/Serving/bin/Release/net10.0/recurrent-serving.dll --max-sessions 0 2>&1); then status=1; fi
case "$out" in
  "recurrent-serving: error: --max-sessions: '0' is not an integer ≥ 1") ;;
  *) echo "unexpected answer to bad settings: $out" >&2; status=1 ;;
esac
exit $status
