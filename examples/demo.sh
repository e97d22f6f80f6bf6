#!/usr/bin/env bash
# make demo: record the bundled example and print the hierarchical report.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$top/${BUILD:-build}/out/bin
out=${DEMO_OUT:-$top/${BUILD:-build}/demo.data}

# Python 3.12+ names its functions for perf with -X perf.
py=""
for v in 3.12 3.13; do
	for cand in "$(pyenv root 2>/dev/null)/versions/$v"*/bin/python$v "$(command -v python$v || true)"; do
		if [ -x "$cand" ]; then py=$cand; break 2; fi
	done
done
if [ -z "$py" ]; then
	py=$(command -v python3)
	echo "demo: no Python 3.12+ found; using $py (Python frames need 3.12+ until the trampolines land)" >&2
	pyflags=()
else
	pyflags=(-X perf)
fi
echo "demo: recording $py ${pyflags[*]} examples/demo.py with perf record -g" >&2
perf record -q -g -F 999 -o "$out" -- "$py" "${pyflags[@]}" "$top/examples/demo.py"
echo "demo: $bin/pyperf-report -i $out --hierarchy --sort comm,dso,sym --percent-limit 1" >&2
"$bin/pyperf-report" -i "$out" --hierarchy --sort comm,dso,sym --percent-limit 1 -g none
echo >&2
echo "demo: the heaviest folded stacks (for flame graphs: pyperf-report --collapsed):" >&2
"$bin/pyperf-report" -i "$out" --collapsed | sort -k2 -n -r | head -n 5 | cut -c1-160 || true
