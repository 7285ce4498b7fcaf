#!/usr/bin/env bash
# Runs the VhsaKmt benchmark suite (floors, NOP round trip, real commands, batching, scaling, allocation,
# start-up) and regenerates bench/RESULTS.md, bench/results.png and bench/results.json.
# Bounded: < 10 minutes on a 2-core machine. `--smoke` runs the ~30 s slice CI uses.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v taskset >/dev/null || { echo "run.sh: taskset (util-linux) is required to pin the processes" >&2; exit 1; }
dotnet build bench/VhsaKmt.Bench -c Release -nologo -v quiet
exec dotnet bench/VhsaKmt.Bench/bin/Release/net10.0/vhsakmt-bench.dll run "$@"
