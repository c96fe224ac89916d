# Shared by tests/sim/test_*.sh: run cairn-sim and fail loudly with its output.
set -euo pipefail
cd "$(dirname "$0")/../.."
SIM=./build/cairn-sim
[ -x "$SIM" ] || { echo "missing $SIM (run make)"; exit 1; }
# sim ARGS...: runs, prints the summary line, exits non-zero with the FAIL lines.
sim() {
  local out rc=0
  out=$("$SIM" --quiet "$@") || rc=$?
  echo "$out" | grep -E '^(FAIL|  reproduce)' || true
  echo "$out" | tail -n 1
  [ "$rc" -eq 0 ] || { echo "cairn-sim $* failed (rc=$rc)"; exit 1; }
}
