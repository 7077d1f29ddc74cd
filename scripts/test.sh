#!/usr/bin/env bash
# Installs what the project needs, then builds and runs every test: sanitizers, valgrind, fuzzers.
set -euo pipefail
cd "$(dirname "$0")/.."

JOBS=${MS_JOBS:-$(nproc)}
./scripts/install-deps.sh

summary=()
total_pass=0
total_fail=0

# Run ctest in a build dir and add its counts to the totals (ctest's own summary is printed too).
run_ctest() {
  local dir=$1 label=$2 log
  shift 2 # the rest: more ctest arguments (e.g. -R REGEX)
  log=$(mktemp)
  set +e
  (cd "$dir" && ctest --output-on-failure -j "$JOBS" "$@") 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  set -e
  local line total failed
  line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$log" | tail -n 1 || true)
  rm -f "$log"
  if [ -z "$line" ]; then
    echo "test.sh: $label: ctest printed no summary" >&2
    total_fail=$((total_fail + 1))
    summary+=("$label: no summary (rc=$rc)")
    return
  fi
  failed=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")
  total=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/' <<<"$line")
  total_pass=$((total_pass + total - failed))
  total_fail=$((total_fail + failed))
  if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then total_fail=$((total_fail + 1)); fi
  summary+=("$label: $((total - failed)) of $total passed")
}

echo "== 1/5 ASan + UBSan build (no recovery) =="
cmake -S . -B build-asan -DMS_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-asan -j "$JOBS"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_ctest build-asan "asan+ubsan"

echo "== 2/5 ThreadSanitizer: the tests that run threads =="
# Only what runs threads (the supervisor end to end, the client, the bridge, the engine
# pool, the attacks, the logger, the soak's quick run): a few minutes, not the whole suite.
# Suppressions: scripts/tsan.supp (each entry says why); none are needed today.
TSAN_TESTS=(test_e2e_client test_attacks test_pool test_bridge_formats test_ratelimit test_log
            test_http test_fixture)
tsan_t0=$(date +%s)
cmake -S . -B build-tsan -DMS_TSAN=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-tsan -j "$JOBS" --target "${TSAN_TESTS[@]}" bench-soak
TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/scripts/tsan.supp" \
  run_ctest build-tsan "tsan" -R "^($(IFS='|'; echo "${TSAN_TESTS[*]}")|bench_soak_smoke)\$"
echo "tsan stage: $(( $(date +%s) - tsan_t0 )) s"

echo "== 3/5 plain build, unit tests also under valgrind =="
cmake -S . -B build -DMS_VALGRIND=ON >/dev/null
cmake --build build -j "$JOBS"
run_ctest build "plain+valgrind"

echo "== 4/5 fuzzers (${MS_FUZZ_SECONDS:-30} s each) =="
set +e
./scripts/fuzz.sh
fuzz_rc=$?
set -e
if [ "$fuzz_rc" -eq 0 ]; then
  total_pass=$((total_pass + 1)); summary+=("fuzz: every harness ran clean")
else
  total_fail=$((total_fail + 1)); summary+=("fuzz: FAILED (see above)")
fi

echo "== 5/5 mutation sample (${MS_MUTATE_SAMPLE:-12} mutants; docs/architecture.md) =="
set +e
./scripts/mutate.sh --sample "${MS_MUTATE_SAMPLE:-12}" --seed 2026 --jobs "$JOBS"
mutate_rc=$?
set -e
if [ "$mutate_rc" -eq 0 ]; then
  total_pass=$((total_pass + 1)); summary+=("mutate: every sampled mutant killed")
else
  total_fail=$((total_fail + 1)); summary+=("mutate: FAILED (a survivor, or the run broke: see above)")
fi

echo
for s in "${summary[@]}"; do echo "  $s"; done
echo "summary: ${total_pass} passed, ${total_fail} failed"
[ "$total_fail" -eq 0 ]
