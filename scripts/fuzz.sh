#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang in their own tree and runs each on a copy of its seed corpus.
#
# Usage: scripts/fuzz.sh            (from any directory)
#   MS_FUZZ_SECONDS  seconds per harness (default 30)
#   MS_FUZZ_BUILD    build directory, absolute or relative to the repository root
#                    (default build-fuzz)
# Exit status: non-zero if the build fails or any harness finds a crash, leak, timeout or
# abort. Crash inputs are kept in $MS_FUZZ_BUILD/fuzz-artifacts/<harness>/<run time>/.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
seconds=${MS_FUZZ_SECONDS:-30}
build=${MS_FUZZ_BUILD:-build-fuzz}
case "$build" in
/*) ;;
*) build="$root/$build" ;;
esac

case "$seconds" in
'' | *[!0-9]*)
  echo "fuzz.sh: MS_FUZZ_SECONDS must be a whole number of seconds" >&2
  exit 2
  ;;
esac

harnesses=()
for src in "$root"/tests/fuzz/fuzz_*.c; do
  [ -e "$src" ] || continue
  harnesses+=("$(basename "$src" .c)")
done
if [ "${#harnesses[@]}" -eq 0 ]; then
  echo "fuzz.sh: no tests/fuzz/fuzz_*.c harnesses" >&2
  exit 2
fi

echo "fuzz.sh: configuring $build (clang, MS_FUZZ=ON)"
cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang -DMS_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
echo "fuzz.sh: building ${harnesses[*]}"
cmake --build "$build" --parallel "$(nproc 2>/dev/null || echo 2)" \
  --target "${harnesses[@]}" >/dev/null

work=$(mktemp -d "${TMPDIR:-/tmp}/ms-fuzz.XXXXXX")
stamp=$(date +%Y%m%d-%H%M%S)
trap 'rm -rf "$work"' EXIT

# The value of a libFuzzer final statistic ("stat::name: value") in a log, or "?".
stat() {
  local v
  v=$(sed -n "s/^stat::$1:[[:space:]]*//p" "$2" | tail -n 1 || true)
  echo "${v:-?}"
}

failed=0
summary=()
for h in "${harnesses[@]}"; do
  corpus="$work/$h"
  artifacts="$build/fuzz-artifacts/$h/$stamp"
  log="$build/fuzz-$h.log"
  mkdir -p "$corpus" "$artifacts"
  if [ -d "$root/tests/fuzz/corpus/$h" ]; then
    cp -R "$root/tests/fuzz/corpus/$h/." "$corpus/"
  fi
  echo "fuzz.sh: running $h for ${seconds}s"
  status=0
  "$build/bin/$h" -max_total_time="$seconds" -timeout=25 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1 || status=$?
  runs=$(stat number_of_executed_units "$log")
  rate=$(stat average_exec_per_sec "$log")
  cov=$(sed -n 's/.*DONE *cov: \([0-9]*\).*/\1/p' "$log" | tail -n 1 || true)
  if [ "$status" -eq 0 ]; then
    rmdir "$artifacts" 2>/dev/null || true
    summary+=("$h: ok, $runs runs, $rate exec/s, cov ${cov:-?}, corpus $(find "$corpus" -type f | wc -l) files")
  else
    failed=1
    found=$(find "$artifacts" -type f | head -n 1 || true)
    summary+=("$h: FAILED (exit $status) after $runs runs; input: ${found:-none saved}; log: $log")
  fi
done

echo
for line in "${summary[@]}"; do
  echo "$line"
done
exit "$failed"
