#!/usr/bin/env bash
# What the libraries show to a program that links them:
# - libpyperf.so exports exactly the functions the public headers declare
#   with PYPERF_API, each under a version node of libpyperf.map, and no
#   other symbol (data, or a name without the pyperf_ prefix);
# - libpyperf.a defines no global symbol but those same functions: the
#   static libperf and libapi inside it, and libpyperf's own internal
#   names, are local to its one partially linked object, so that they
#   cannot meet a program's own page_size, readn or zalloc.
#
#   tests/abi/check-exports.sh [LIBPYPERF.so [LIBPYPERF.a]]
#   tests/abi/check-exports.sh --self-test   (the check fails on bad libraries)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ "${1:-}" = --self-test ]; then
	# A library with one foreign global (a copy of libperf's readn) and
	# one unprefixed internal name must fail the check, each alone.
	cat > "$tmp/bad.c" <<-'EOF'
	#define API __attribute__((visibility("default")))
	API int pyperf_version(void) { return 1; }
	API long BAD_NAME(int fd) { return fd; }
	EOF
	status=0
	for bad in readn pp_internal; do
		mkdir -p "$tmp/$bad"
		cc -c -fPIC -DBAD_NAME=$bad -o "$tmp/$bad/bad.o" "$tmp/bad.c"
		ar rcs "$tmp/$bad/libbad.a" "$tmp/$bad/bad.o"
		echo 'PYPERF_0.1 { global: pyperf_version; local: *; };' > "$tmp/$bad/good.map"
		echo "PYPERF_0.1 { global: pyperf_version; $bad; local: *; };" > "$tmp/$bad/bad.map"
		cc -shared -Wl,--version-script="$tmp/$bad/bad.map" -o "$tmp/$bad/libbad.so" "$tmp/$bad/bad.o"
		cc -shared -Wl,--version-script="$tmp/$bad/good.map" -o "$tmp/$bad/libgood.so" "$tmp/$bad/bad.o"
		if PYPERF_EXPORTS_ONLY=pyperf_version "$0" "$tmp/$bad/libgood.so" "$tmp/$bad/libbad.a" > "$tmp/out" 2>&1; then
			echo "self-test: an archive defining '$bad' passed"
			status=1
		fi
		if PYPERF_EXPORTS_ONLY=pyperf_version "$0" "$tmp/$bad/libbad.so" > "$tmp/out" 2>&1; then
			echo "self-test: a shared library exporting '$bad' passed"
			status=1
		fi
	done
	[ $status = 0 ] && echo "ok: the check fails on a foreign and on an unprefixed global, in either library"
	exit $status
fi

so=${1:-$top/build/out/lib/libpyperf.so}
ar=${2:-}

if [ -n "${PYPERF_EXPORTS_ONLY:-}" ]; then
	# (the self-test's libraries: one declared function)
	echo "$PYPERF_EXPORTS_ONLY" | tr ' ' '\n' | sort -u > "$tmp/map"
	cp "$tmp/map" "$tmp/declared"
else
	grep -oE 'pyperf_[a-z0-9_]+;' "$top/libpyperf/libpyperf.map" | tr -d ';' | sort -u > "$tmp/map"
	# Declarations span lines: join each PYPERF_API declaration up to its '('.
	cat "$top"/libpyperf/include/pyperf/*.h | tr '\n' ' ' |
		grep -oE 'PYPERF_API [^;(]*\(' | grep -oE 'pyperf_[a-z0-9_]+ *\($' | tr -d ' (' | sort -u > "$tmp/declared"
fi

status=0
if ! diff -u "$tmp/declared" "$tmp/map" > "$tmp/d1"; then
	echo "libpyperf.map and the PYPERF_API declarations differ (- headers, + map):"
	cat "$tmp/d1"
	status=1
fi
# Every defined dynamic symbol but the version nodes (type A).
nm -D --defined-only "$so" | awk '$2 != "A" {print $3}' | sed 's/@@.*//' | sort -u > "$tmp/exported"
if ! diff -u "$tmp/map" "$tmp/exported" > "$tmp/d2"; then
	echo "$so: exports differ from libpyperf.map (- map, + exported):"
	cat "$tmp/d2"
	status=1
fi
# (into a variable: "| grep -q" would end the pipe early, and pipefail
# would take the SIGPIPE of the writer for "none found")
unversioned=$(nm -D --defined-only "$so" | awk '$2 != "A" && $3 !~ /@@PYPERF_/ {print $3}')
if [ -n "$unversioned" ]; then
	echo "unversioned exports:"
	echo "$unversioned"
	status=1
fi
if [ -n "$ar" ]; then
	# global definitions of every member (weak ones too: V, W)
	nm -g --defined-only "$ar" 2>/dev/null | awk 'NF == 3 {print $3}' | sort -u > "$tmp/ar-globals"
	if ! diff -u "$tmp/map" "$tmp/ar-globals" > "$tmp/d3"; then
		echo "$ar: global symbols differ from libpyperf.map (- map, + defined in the archive):"
		grep '^[-+][^-+]' "$tmp/d3" | head -n 40
		echo "($(grep -c '^+[^+]' "$tmp/d3" || true) unexpected, $(grep -c '^-[^-]' "$tmp/d3" || true) missing)"
		status=1
	fi
fi
[ $status = 0 ] && echo "ok: $(wc -l < "$tmp/exported") exported symbols, all declared and versioned${ar:+; the archive defines those only}"
exit $status
