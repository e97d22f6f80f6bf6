#!/usr/bin/env bash
# Runs two builds of pyperf-report (and the stackdump test tool) over the
# same recordings with every output format and the main option sets, and
# diffs what they print (stdout, stderr, exit status, written files).
# Refactoring must leave the outputs byte-identical:
#
#   tests/compare-outputs.sh OLD_OUT NEW_OUT FILE.data...
#
# OLD_OUT and NEW_OUT are build output folders (build/out: bin/ and
# tests/tools/ inside). Exit 0 when every output is equal, 1 otherwise;
# the differences are listed (first lines of each diff).
set -uo pipefail

if [ $# -lt 3 ]; then
	echo "usage: $0 OLD_OUT NEW_OUT FILE.data..." >&2
	exit 2
fi
old=$(realpath "$1") new=$(realpath "$2")
shift 2
for d in "$old" "$new"; do
	if [ ! -x "$d/bin/pyperf-report" ]; then
		echo "$0: no $d/bin/pyperf-report" >&2
		exit 2
	fi
done

tmp=$(mktemp -d /tmp/pyperf-compare.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# One option set per line; FILE in an option is the output file the run
# writes (compared too).
opts=$(
	cat <<'EOF'

--stdio --no-children
--no-children -g none --sort comm,dso,sym -F sample,comm,dso,sym
-g fractal,0.5,caller
-g flat
-g folded
-g graph,0,callee -n
-G --children
--hierarchy
--hierarchy -g none -s dso,sym
-n --sort comm,pid,tid,dso,sym -F overhead,children,sample,period,comm,pid,tid,dso,sym
--sort sample,sym
--view python
--view python --native-leaf
--view native
--view native --no-children -g none
--full-path --view python
--weight period
--weight cpu
--weight off-cpu
--weight wall
--percent-limit 2
--max-stack 5
--max-stack 5 -G
--no-truncated-root
--no-inline
--stats -q
--collapsed
--collapsed --kernel --jit --addrs --show-tid
--collapsed --show-pid --weight period --view native
--collapsed --weight off-cpu
--format svg
--format svg --icicle --width 800 --minwidth 2 --title T --view native
--format speedscope
--format speedscope --weight period --view native
--format pprof -o FILE
--format pprof --view native -o FILE
--format json
--format json --view native --weight wall
--format collapsed -o FILE
--format script
--format script --reltime --view native
--time 50%/1 --no-children
--time 25%-75% --format speedscope
--baseline DATA --no-children
--baseline DATA --collapsed
--baseline DATA --format svg
EOF
)

fail=0 runs=0
cmp_run() { # label cmd-with-BIN...
	local label=$1
	shift
	local side out
	for side in old new; do
		out=$tmp/$side
		rm -f "$out".*
		local bin
		[ $side = old ] && bin=$old || bin=$new
		local args=()
		local a
		for a in "$@"; do
			a=${a//BIN/$bin}
			a=${a//FILE/$out.file}
			a=${a//DATA/$data}
			args+=("$a")
		done
		(cd "$tmp" && "${args[@]}" >"$out.stdout" 2>"$out.stderr")
		echo $? >"$out.rc"
		# the stderr names the build folder in some messages
		sed -i "s|$bin|BIN|g" "$out.stderr"
	done
	runs=$((runs + 1))
	local f
	for f in rc stdout stderr file; do
		[ -e "$tmp/old.$f" ] || [ -e "$tmp/new.$f" ] || continue
		if ! cmp -s "$tmp/old.$f" "$tmp/new.$f"; then
			echo "DIFF ($f): $label"
			diff -a "$tmp/old.$f" "$tmp/new.$f" 2>&1 | head -n 6 | sed 's/^/    /'
			fail=1
		fi
	done
}

for data in "$@"; do
	data=$(realpath "$data")
	case $data in *.txt)
		# perf script text: folded as stackcollapse-perf.pl folds it
		for o in "" "--show-pid" "--weight samples" "--format svg" "--format speedscope" \
			"--format pprof -o FILE" "--format json"; do
			# shellcheck disable=SC2086
			cmp_run "$(basename "$data") perf-script ${o:-(defaults)}" \
				BIN/bin/pyperf-report --no-symbol-cache --input-format perf-script -i "$data" $o
		done
		continue
		;;
	esac
	while IFS= read -r line; do
		# shellcheck disable=SC2206
		o=($line)
		cmp_run "$(basename "$data") ${line:-(defaults)}" \
			BIN/bin/pyperf-report --no-symbol-cache -i "$data" "${o[@]}"
	done <<<"$opts"
	for v in native mixed python; do
		if [ -x "$old/tests/tools/stackdump" ] && [ -x "$new/tests/tools/stackdump" ]; then
			cmp_run "$(basename "$data") stackdump --view $v" BIN/tests/tools/stackdump --view $v "$data"
		fi
	done
done
echo "compare-outputs: $runs runs, $([ $fail = 0 ] && echo 'all equal' || echo 'DIFFERENCES')"
exit $fail
