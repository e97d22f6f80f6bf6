#!/usr/bin/env bash
# make bench: runs every bench/*.py (each prints one Markdown section to
# stdout, progress to stderr) and writes bench/RESULTS.md: a header
# describing the machine, then the sections in file-name order.
#
#   bench/run.sh                 all benchmarks -> bench/RESULTS.md
#   bench/run.sh report record   only these -> build/bench/RESULTS-partial.md
#   BENCH_QUICK=1 bench/run.sh   smoke run (few runs, small recordings)
#                                -> build/bench/RESULTS-quick.md
#
# Recordings are cached in build/bench/ and reused while the workload,
# the tools and perf are unchanged. A benchmark that fails gets a section
# saying so, and the script exits 1 after writing the others.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-build}
cd "$top" || exit 1
case $build in /*) ;; *) build=$top/$build ;; esac
export PYPERF_BUILD=$build

if [ ! -x "$build/out/bin/pyperf-report" ] || [ ! -x "$build/out/bin/pyperf-record" ]; then
	echo "bench: tools not built; run make first" >&2
	exit 1
fi
for tool in perf /usr/bin/time python3 cc; do
	if ! command -v "$tool" >/dev/null; then
		echo "bench: $tool is needed (perf: linux-perf; /usr/bin/time: time)" >&2
		exit 1
	fi
done
mkdir -p "$build/bench"

scripts=()
if [ $# -gt 0 ]; then
	for name in "$@"; do
		name=${name%.py}
		scripts+=("bench/${name#bench/}.py")
	done
	out=$build/bench/RESULTS-partial.md
else
	for f in bench/*.py; do scripts+=("$f"); done
	out=bench/RESULTS.md
fi
if [ -n "${BENCH_QUICK:-}" ] && [ "${BENCH_QUICK}" != 0 ]; then
	out=$build/bench/RESULTS-quick.md
fi
out=${BENCH_OUT:-$out}

tmp=$(mktemp -d /tmp/pyperf-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo " (with uncommitted changes)")
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
{
	echo "# pyperf benchmarks"
	echo
	if [ "$out" != bench/RESULTS.md ]; then
		echo "**Partial or quick run — not the reference figures.**"
		echo
	fi
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- commit: $commit$dirty ($(git log -1 --format=%s 2>/dev/null | cut -c1-80))"
	echo "- machine: $(nproc) cores, ${cpu:-unknown CPU}, $(free -g | awk '/^Mem:/ { print $2 }') GiB RAM," \
		"no hardware PMU events (all sampling on cpu-clock)"
	echo "- kernel: $(uname -r); $(perf --version); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "- benchmarks run by: $(python3 --version 2>&1) ($(command -v python3))"
	echo
	echo "The machine is shared and noisy: every comparison runs its variants interleaved" \
		"(A, B, A, B… with the order rotated each round), after one discarded warm-up round," \
		"and reports medians with their min–max spread and medians of per-pair ratios." \
		"Peak memory is the maximum resident set size of the process (GNU time's %M)."
	echo
} >"$tmp/header.md"

status=0
start=$(date +%s)
: >"$tmp/sections.md"
for f in "${scripts[@]}"; do
	if [ ! -f "$f" ]; then
		echo "bench: no such benchmark: $f" >&2
		status=1
		continue
	fi
	echo "bench: $f" >&2
	t0=$(date +%s)
	if python3 "$f" >"$tmp/section.md"; then
		cat "$tmp/section.md" >>"$tmp/sections.md"
	else
		rc=$?
		status=1
		echo "bench: $f failed (exit $rc)" >&2
		{
			echo "## $(basename "$f") — failed"
			echo
			echo "\`python3 $f\` exited $rc; see its stderr in the run's log."
		} >>"$tmp/sections.md"
	fi
	echo >>"$tmp/sections.md"
	echo "bench: $f took $(($(date +%s) - t0)) s" >&2
done

{
	cat "$tmp/header.md"
	echo "Whole run: $(($(date +%s) - start)) s."
	echo
	cat "$tmp/sections.md"
} >"$out.tmp" && mv "$out.tmp" "$out"
echo "bench: wrote $out" >&2
exit $status
