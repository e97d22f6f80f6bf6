#!/usr/bin/env bash
# make install puts tools, libraries, headers and libpyperf.pc under PREFIX,
# and a program built against them with pkg-config works, linked shared.
set -euo pipefail
top=${PYPERF_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$top"
make --no-print-directory install PREFIX="$tmp/prefix" > "$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; exit 1; }
for f in bin/pyperf-report bin/pyperf-record lib/libpyperf.a lib/libpyperf.so lib/libpyperf.so.0 \
	include/pyperf/pyperf.h include/pyperf/data.h include/pyperf/map.h lib/pkgconfig/libpyperf.pc \
	lib/pyperf/python/sitecustomize.py lib/pyperf/python/perf_trampoline/__init__.py \
	lib/pyperf/python/perf_trampoline/__main__.py; do
	[ -e "$tmp/prefix/$f" ] || { echo "missing $f"; exit 1; }
done
[ "$(readelf -d "$tmp/prefix/lib/libpyperf.so" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')" = libpyperf.so.0 ] || { echo "bad soname"; exit 1; }
cat > "$tmp/use.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <pyperf/pyperf.h>
#include <pyperf/data.h>
int main(void)
{
	struct pyperf_error err;
	struct pyperf_data *d = pyperf_data__open_mem("", 0, "empty", NULL, &err);
	printf("%s %s\n", pyperf_version(), d ? "opened" : err.text);
	return d != NULL || strcmp(pyperf_version(), PYPERF_VERSION_STRING);
}
C
export PKG_CONFIG_PATH=$tmp/prefix/lib/pkgconfig
cc -o "$tmp/use" "$tmp/use.c" $(pkg-config --cflags --libs libpyperf) -Wl,-rpath,"$tmp/prefix/lib"
out=$("$tmp/use")
echo "$out"
case $out in *"file is empty"*) ;; *) echo "unexpected: $out"; exit 1 ;; esac
# not "ldd | grep -q": grep quitting early makes ldd die of SIGPIPE, which
# pipefail turns into a failure now and then
libs=$(ldd "$tmp/use")
case $libs in *"$tmp/prefix/lib/libpyperf.so.0"*) ;; *) echo "not linked against the installed library:"; echo "$libs"; exit 1 ;; esac
"$tmp/prefix/bin/pyperf-report" --version
# the installed recorder finds the installed trampolines and switches them
# on in a launched 3.8-3.11 interpreter
for py in /usr/bin/python3.11 /usr/bin/python3.9 /usr/bin/python3.10; do
	[ -x "$py" ] || continue
	ls "$tmp/prefix/lib/pyperf/python/perf_trampoline/"_trampoline*.so > /dev/null ||
		{ echo "no trampoline extension installed"; exit 1; }
	"$tmp/prefix/bin/pyperf-record" -q -o "$tmp/t.data" -- "$py" -c \
		'import perf_trampoline, sys; sys.exit(0 if perf_trampoline.is_active() else 3)' ||
		{ echo "installed trampolines not active in $py"; exit 1; }
	echo "trampolines active in $py from the installed tree"
	break
done
echo ok
