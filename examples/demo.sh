#!/usr/bin/env bash
# make demo: record the bundled example with pyperf-record and print the
# hierarchical report and the Python view.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$top/${BUILD:-build}/out/bin
out=${DEMO_OUT:-$top/${BUILD:-build}/demo.data}

# Any CPython 3.8+ will do: 3.12+ names its functions for perf itself,
# 3.8-3.11 get libpyperf's trampolines. Prefer the system's python3 (what
# users have), then the newest pyenv one.
py=${DEMO_PYTHON:-}
if [ -z "$py" ]; then
	for cand in /usr/bin/python3 "$(command -v python3 || true)"; do
		if [ -x "$cand" ]; then py=$cand; break; fi
	done
fi
if [ -z "$py" ]; then
	echo "demo: no python3 found; install python3 (apt-get install python3)" >&2
	exit 1
fi
echo "demo: $bin/pyperf-record -g -o $out -- $py examples/demo.py" >&2
"$bin/pyperf-record" -g -o "$out" -- "$py" "$top/examples/demo.py"
echo >&2
echo "demo: $bin/pyperf-report -i $out --hierarchy --sort comm,dso,sym --percent-limit 1 -g none" >&2
"$bin/pyperf-report" -i "$out" --hierarchy --sort comm,dso,sym --percent-limit 1 -g none
echo >&2
echo "demo: the Python view (pyperf-report --view python --hierarchy --sort sym -g caller --percent-limit 5):" >&2
"$bin/pyperf-report" -i "$out" --view python --hierarchy --sort sym --percent-limit 5 -g caller
echo >&2
echo "demo: the heaviest folded stacks (for flame graphs: pyperf-report --collapsed):" >&2
"$bin/pyperf-report" -i "$out" --view python --collapsed |
	awk '{ print $NF "\t" $0 }' | sort -t "$(printf '\t')" -k1,1nr | head -n 5 | cut -f2- | cut -c1-200 || true
