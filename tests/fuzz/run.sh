#!/usr/bin/env bash
# Runs the libFuzzer harnesses (tests/fuzz/fuzz-*.c) for a time budget.
#
#   tests/fuzz/run.sh short     ~20 s per fuzzer (tests/run.sh fuzz, make test)
#   tests/fuzz/run.sh long      $FUZZ_SECONDS per fuzzer, default 60 (make fuzz)
#   tests/fuzz/run.sh long data only the fuzzers named (fuzz-data)
#
# Each fuzzer starts from a scratch copy of its seed corpus,
# tests/fuzz/corpus/NAME (without the crash-* regression inputs, which the
# corpus replay checks), in $BUILD/fuzz/work/NAME: what it adds there never
# reaches the committed corpus (copy inputs worth keeping by hand, see
# tests/fuzz/corpus/README.md). Fuzzers run in parallel, one per CPU.
#
# Prints, per fuzzer, the executions and whether it crashed. A crash, leak,
# sanitizer report (UBSan findings are fatal here), timeout (an input
# taking over 20 s) or out-of-memory (over 2 GiB) fails the run; the input
# is kept under $BUILD/fuzz/crashes/ and the fuzzer's log under
# $BUILD/fuzz/logs/. Reproduce with
#   $BUILD/fuzz/fuzz-NAME $BUILD/fuzz/crashes/fuzz-NAME-crash-...
# or without libFuzzer: $BUILD/{out,san}/tests/fuzz-NAME-replay FILE.
#
# Exit status: 0 no crash, 1 a crash or a failed build, 77 no clang or no
# libFuzzer here. FUZZ_UBSAN_SUPPRESSIONS=FILE passes a UBSan suppression
# file, to look past a known report while it is being fixed.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
export BUILD=${BUILD:-build}
mode=${1:-short}
shift || true
case $mode in
short) seconds=${FUZZ_SHORT_SECONDS:-20} ;;
long) seconds=${FUZZ_SECONDS:-60} ;;
*) echo "usage: $0 short|long [NAME...]" >&2; exit 1 ;;
esac

if ! command -v clang > /dev/null; then
	echo "fuzz: clang is not installed (apt-get install clang); not fuzzing"
	exit 77
fi
probe=$(mktemp -d /tmp/pyperf-fuzz-probe.XXXXXX)
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' \
	> "$probe/p.c"
if ! clang -fsanitize=fuzzer,address,undefined -o "$probe/p" "$probe/p.c" > "$probe/log" 2>&1; then
	echo "fuzz: clang cannot link libFuzzer (-fsanitize=fuzzer; Debian: libclang-rt-$(clang -dumpversion | cut -d. -f1)-dev):"
	sed 's/^/  /' "$probe/log" | head -5
	rm -rf "$probe"
	echo "fuzz: not fuzzing"
	exit 77
fi
rm -rf "$probe"

echo "building the fuzzers (clang, libFuzzer + ASan + UBSan):"
if ! make --no-print-directory -f mk/build.mk fuzzers; then
	echo "fuzz: building the fuzzers failed"
	exit 1
fi

fuzzdir=$BUILD/fuzz
crashes=$fuzzdir/crashes
logs=$fuzzdir/logs
mkdir -p "$crashes" "$logs"

names=()
if [ $# -gt 0 ]; then
	for n in "$@"; do names+=("${n#fuzz-}"); done
else
	for src in tests/fuzz/fuzz-*.c; do
		n=$(basename "$src" .c)
		names+=("${n#fuzz-}")
	done
fi

ubsan=halt_on_error=1:print_stacktrace=1
[ -n "${FUZZ_UBSAN_SUPPRESSIONS:-}" ] && ubsan=$ubsan:suppressions=$(realpath "$FUZZ_UBSAN_SUPPRESSIONS")

# One fuzzer: its result goes to $logs/NAME.result as "STATUS EXECS ARTIFACT".
fuzz_one() {
	local name=$1 bin=$fuzzdir/fuzz-$1 work=$fuzzdir/work/$1 log=$logs/$1.log rc execs artifact
	rm -rf "$work"
	mkdir -p "$work/corpus"
	# Regression inputs (crash-*) are left out: the replay in tests/run.sh
	# checks them, and libFuzzer stops at its first crash, so one known
	# crasher among the seeds would stop every run before it fuzzes.
	if [ -d "tests/fuzz/corpus/$name" ]; then
		find "tests/fuzz/corpus/$name" -type f ! -name 'crash-*' -exec cp {} "$work/corpus/" \;
	fi
	UBSAN_OPTIONS=$ubsan ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
		"$bin" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=20 \
		-print_final_stats=1 -artifact_prefix="$crashes/fuzz-$name-" \
		"$work/corpus" > "$log" 2>&1 < /dev/null
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	[ -n "$execs" ] || execs=$(sed -n 's/^#\([0-9][0-9]*\)[[:space:]].*/\1/p' "$log" | tail -1)
	artifact=$(sed -n "s/.*Test unit written to //p" "$log" | tail -1)
	if [ $rc = 0 ] && [ -z "$artifact" ]; then
		echo "ok ${execs:-0} -" > "$logs/$name.result"
	else
		echo "crash ${execs:-?} ${artifact:-none} $rc" > "$logs/$name.result"
	fi
}

jobs_max=$(nproc 2> /dev/null || echo 1)
echo "fuzzing for ${seconds}s each: ${names[*]}"
running=0
for name in "${names[@]}"; do
	if [ ! -x "$fuzzdir/fuzz-$name" ]; then
		echo "crash 0 none no-binary" > "$logs/$name.result"
		continue
	fi
	fuzz_one "$name" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs_max" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait

# The reports of the crashes first, then one line per fuzzer, so that the
# summary ends the output (tests/run.sh shows a failed test's last lines).
status=0
for name in "${names[@]}"; do
	read -r what execs artifact rc < "$logs/$name.result"
	[ "$what" = ok ] && continue
	status=1
	[ "${rc:-}" = no-binary ] && continue
	echo "fuzz-$name crashed; from $logs/$name.log:"
	grep -n -m1 -E '^==[0-9]+==|runtime error|expectation failed|^ALARM|out-of-memory|ERROR: libFuzzer' \
		"$logs/$name.log" | cut -d: -f1 | while read -r first; do
		sed -n "$((first > 3 ? first - 3 : 1)),$((first + 30))p" "$logs/$name.log" |
			grep -v -E '^ +#[0-9]+ 0x[0-9a-f]+ in (fuzzer::|__libc_start|_start|main )' | sed 's/^/  | /'
	done
done
echo "fuzzing results (${seconds}s each):"
for name in "${names[@]}"; do
	read -r what execs artifact rc < "$logs/$name.result"
	if [ "$what" = ok ]; then
		printf '  fuzz-%-10s %10s executions, no crash\n' "$name" "$execs"
	elif [ "${rc:-}" = no-binary ]; then
		printf '  fuzz-%-10s not built (%s missing)\n' "$name" "$fuzzdir/fuzz-$name"
	else
		printf '  fuzz-%-10s %10s executions, CRASHED (exit %s)\n' "$name" "$execs" "$rc"
		printf '  %-15s %10s input %s\n' '' '' "$artifact"
	fi
done
[ $status = 0 ] && echo "fuzz: no crash" || echo "fuzz: crashed; inputs kept in $crashes/, logs in $logs/"
exit $status
