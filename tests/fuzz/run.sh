#!/usr/bin/env bash
# Runs every fuzz target (or those named) for a bounded time each, with the committed seeds under
# tests/fuzz/corpus/<target>/ plus the targets' built-in seeds. Findings (crash-<sha1>.bin + .txt) go to
# tests/fuzz/findings/<target>/ (not committed: each becomes a regression test in tests/Robustness.Tests).
#   tests/fuzz/run.sh                    # all targets, 60 s each
#   FUZZ_SECONDS=600 tests/fuzz/run.sh ccmd-stream vhost-user
#   FUZZ_SEED=7 tests/fuzz/run.sh        # another mutation sequence
# Exit status 1 when anything was found.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
seconds="${FUZZ_SECONDS:-60}"
seed="${FUZZ_SEED:-1}"
targets="${*:-all}"
targets="${targets// /,}"

dotnet build -c Release "$root/tests/Fuzz/VhsaKmt.Fuzz.csproj" -v q -nologo >/dev/null
exec dotnet "$root/tests/Fuzz/bin/Release/net10.0/vhsakmt-fuzz.dll" \
  --target "$targets" --seconds "$seconds" --seed "$seed" \
  --corpus "$here/corpus" --findings "$here/findings"
