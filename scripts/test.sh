#!/usr/bin/env bash
# The whole suite, as `make test` runs it:
#   1. release build (-Wall -Wextra -Werror) and unit tests
#   2. the same unit tests, and three multi-node integration tests, under
#      AddressSanitizer + UndefinedBehaviorSanitizer
#   3. simulator seeds (sim/)
#   4. a short libFuzzer run of every fuzz target over its seed corpus
#   5. integration tests with real processes (tests/integration/test_*)
# Each test program counts as one line; the last line is "N passed, N failed".
# FAST=1 skips the sanitizer build and shortens fuzzing (for local iteration).
set -uo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
passed=0; failed=0; failures=()
log_dir=build/test-logs; mkdir -p "$log_dir"

run() { # name, command...
  local name=$1; shift
  local log="$log_dir/$(echo "$name" | tr '/ ' '__').log"
  local t0=$SECONDS
  if "$@" >"$log" 2>&1; then
    passed=$((passed+1)); printf 'PASS %-50s %4ds\n' "$name" $((SECONDS-t0))
  else
    failed=$((failed+1)); failures+=("$name"); printf 'FAIL %-50s %4ds  (log: %s)\n' "$name" $((SECONDS-t0)) "$log"
    tail -n 30 "$log" | sed 's/^/    /'
  fi
}

echo "== build (release)"
make -j"$jobs" all >"$log_dir/build.log" 2>&1 || { tail -n 40 "$log_dir/build.log"; echo "0 passed, 1 failed"; exit 1; }

echo "== unit tests"
for t in $(find build/tests/unit -type f -executable -name 'test_*' | sort); do
  run "unit/${t#build/tests/unit/}" "$t"
done

if [ "${FAST:-0}" != 1 ]; then
  echo "== unit tests under ASan+UBSan"
  if make -j"$jobs" SAN=1 all >"$log_dir/build-san.log" 2>&1; then
    for t in $(find build-san/tests/unit -type f -executable -name 'test_*' | sort); do
      run "san/${t#build-san/tests/unit/}" env ASAN_OPTIONS=detect_leaks=1 "$t"
    done
    # Real networks of sanitized nodes: memory errors abort a node (the test fails),
    # and a clean stop (devnet's Ctrl-C) reports leaks as a non-zero exit.
    for t in test_net_commit.py test_net_faults.py test_devnet.py test_node_signals.py test_rpc_pipeline.py test_repair.py test_store_rebuild.py test_state_index.py; do
      run "san/integration/$t" env CAIRN_BIN=build-san/cairn ASAN_OPTIONS=detect_leaks=1 \
        python3 "tests/integration/$t"
    done
  else
    failed=$((failed+1)); failures+=("build-san"); tail -n 40 "$log_dir/build-san.log"
  fi
fi

if [ -x build/cairn-sim ]; then
  echo "== simulator"
  for t in tests/sim/test_*.sh; do [ -f "$t" ] && run "sim/$(basename "$t" .sh)" bash "$t"; done
fi

if ls tests/fuzz/fuzz_*.c >/dev/null 2>&1; then
  echo "== fuzz smoke"
  if make -j"$jobs" fuzz >"$log_dir/build-fuzz.log" 2>&1; then
    secs=${FUZZ_SECONDS:-$([ "${FAST:-0}" = 1 ] && echo 3 || echo 15)}
    for f in $(find build-fuzz -maxdepth 1 -type f -executable -name 'fuzz_*' ! -name '*.*' | sort); do
      name=$(basename "$f"); corpus=tests/fuzz/corpus/${name#fuzz_}
      work=$(mktemp -d); [ -d "$corpus" ] && cp -r "$corpus/." "$work/"
      run "fuzz/$name" "$f" -max_total_time="$secs" -max_len=65536 -timeout=10 "$work"
      rm -rf "$work"
    done
  else
    failed=$((failed+1)); failures+=("build-fuzz"); tail -n 40 "$log_dir/build-fuzz.log"
  fi
fi

echo "== integration"
for t in $(ls tests/integration/test_* 2>/dev/null | sort); do
  case "$t" in
    *.sh) run "integration/$(basename "$t")" bash "$t" ;;
    *.py) run "integration/$(basename "$t")" python3 "$t" ;;
    *.mjs|*.js) run "integration/$(basename "$t")" node "$t" ;;
  esac
done

echo
[ ${#failures[@]} -gt 0 ] && printf 'failed: %s\n' "${failures[@]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
