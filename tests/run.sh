#!/usr/bin/env bash
# Runs the test suite and prints one summary line: "N passed, N failed, N skipped".
#
#   tests/run.sh            everything (what `make test` runs)
#   tests/run.sh unit       unit tests only (normal and sanitizer builds)
#   tests/run.sh integration [PATTERN]
#
# Each test is a program: exit 0 passes, 77 skips (e.g. perf_event_open not
# allowed), anything else fails. Logs go to $BUILD/test-logs/.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
BUILD=${BUILD:-build}
what=${1:-all}
pattern=${2:-}
logs=$BUILD/test-logs
rm -rf "$logs"
mkdir -p "$logs"
export PYPERF_BIN=$top/$BUILD/out/bin
export PYPERF_BUILD=$top/$BUILD
export PYPERF_TOP=$top
export PYTHONDONTWRITEBYTECODE=1
# Saved symbol tables go to the build folder, not ~/.cache, and start
# empty: the first tests read every table afresh, later ones map them.
export PYPERF_SYMBOL_CACHE=$top/$BUILD/test-symbol-cache
rm -rf "$PYPERF_SYMBOL_CACHE"
pass=0
fail=0
skip=0
failed=()
start_all=$(date +%s)

run_one() {
	local name=$1
	shift
	local log=$logs/${name//\//_}.log t0=$(date +%s) rc
	timeout --kill-after=10 "${TEST_TIMEOUT:-600}" "$@" > "$log" 2>&1
	rc=$?
	local dt=$(( $(date +%s) - t0 ))
	case $rc in
	0) pass=$((pass + 1)); printf '  ok    %-50s %3ss\n' "$name" "$dt" ;;
	77) skip=$((skip + 1)); printf '  skip  %-50s %s\n' "$name" "$(tail -n 1 "$log")" ;;
	*) fail=$((fail + 1)); failed+=("$name"); printf '  FAIL  %-50s (exit %d, %ss; log %s)\n' "$name" "$rc" "$dt" "$log"
	   # the failed checks first: CI shows only part of a long log
	   grep -E '^ *(FAIL|not ok)' "$log" | head -n 10 | sed 's/^/        ! /'
	   tail -n 20 "$log" | sed 's/^/        | /' ;;
	esac
}

run_units() {
	local dir=$1 label=$2 t
	for t in "$dir"/tests/test-*; do
		[ -x "$t" ] || continue
		run_one "$label/$(basename "$t")" "$t"
	done
}

run_fuzz_replay() {
	local dir=$1 label=$2 r name
	for r in "$dir"/tests/fuzz-*-replay; do
		[ -x "$r" ] || continue
		name=$(basename "$r" -replay)
		name=${name#fuzz-}
		run_one "$label/fuzz-replay-$name" "$r" "tests/fuzz/corpus/$name"
	done
}

if [ "$what" = all ] || [ "$what" = unit ]; then
	echo "unit tests (static and shared library):"
	run_units "$BUILD/out" unit
	echo "unit tests under AddressSanitizer + UndefinedBehaviorSanitizer:"
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		run_units "$BUILD/san" asan
	echo "threads under ThreadSanitizer:"
	TSAN_OPTIONS=halt_on_error=1:exitcode=66 run_one tsan/test-threads "$BUILD/tsan/tests/test-threads"
	echo "exports:"
	run_one abi/check-exports tests/abi/check-exports.sh "$BUILD/out/lib/libpyperf.so" \
		"$BUILD/out/lib/libpyperf.a"
	run_one abi/check-exports-self-test tests/abi/check-exports.sh --self-test
fi
if [ "$what" = all ] || [ "$what" = fuzz ]; then
	echo "fuzz corpus replay:"
	run_fuzz_replay "$BUILD/out" fuzz
	ASAN_OPTIONS=detect_leaks=1 run_fuzz_replay "$BUILD/san" fuzz-asan
	if command -v clang > /dev/null; then
		run_one fuzz/burst tests/fuzz/run.sh short
	fi
fi
if [ "$what" = all ] || [ "$what" = integration ]; then
	echo "integration tests (real programs recorded, compared with perf):"
	for t in tests/integration/test-*; do
		[ -x "$t" ] || continue
		[ -n "$pattern" ] && [[ $t != *$pattern* ]] && continue
		run_one "integration/$(basename "$t")" "$t"
	done
fi

echo
if [ ${#failed[@]} -gt 0 ]; then
	echo "failed: ${failed[*]}"
fi
echo "$pass passed, $fail failed, $skip skipped ($(( $(date +%s) - start_all ))s)"
[ "$fail" = 0 ]
