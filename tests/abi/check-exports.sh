#!/usr/bin/env bash
# The shared library must export exactly the functions the public headers
# declare with PYPERF_API, each under a version node of libpyperf.map.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
so=${1:-$top/build/out/lib/libpyperf.so}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

nm -D --defined-only "$so" | awk '$2 == "T" {print $3}' | sed 's/@@.*//' | sort -u > "$tmp/exported"
grep -oE 'pyperf_[a-z0-9_]+;' "$top/libpyperf/libpyperf.map" | tr -d ';' | sort -u > "$tmp/map"
# Declarations span lines: join each PYPERF_API declaration up to its '('.
cat "$top"/libpyperf/include/pyperf/*.h | tr '\n' ' ' |
	grep -oE 'PYPERF_API [^;(]*\(' | grep -oE 'pyperf_[a-z0-9_]+ *\($' | tr -d ' (' | sort -u > "$tmp/declared"

status=0
if ! diff -u "$tmp/declared" "$tmp/map" > "$tmp/d1"; then
	echo "libpyperf.map and the PYPERF_API declarations differ (- headers, + map):"
	cat "$tmp/d1"
	status=1
fi
if ! diff -u "$tmp/map" "$tmp/exported" > "$tmp/d2"; then
	echo "libpyperf.so exports differ from libpyperf.map (- map, + exported):"
	cat "$tmp/d2"
	status=1
fi
# (into a variable: "| grep -q" would end the pipe early, and pipefail
# would take the SIGPIPE of the writer for "none found")
unversioned=$(nm -D --defined-only "$so" | awk '$2 == "T" && $3 !~ /@@PYPERF_/ {print $3}')
if [ -n "$unversioned" ]; then
	echo "unversioned exports:"
	echo "$unversioned"
	status=1
fi
[ $status = 0 ] && echo "ok: $(wc -l < "$tmp/exported") exported symbols, all declared and versioned"
exit $status
