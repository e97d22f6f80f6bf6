#!/usr/bin/env bash
# Builds the perf_trampoline Python package into OUT/python for every
# CPython 3.8-3.11 found here (one extension per ABI tag), plus the
# pure-Python part that 3.12+ uses.
#
# usage: mk/python.sh OUT LIBPYPERF_A
# Interpreters: $PYPERF_PYTHONS (space-separated) if set, else Debian's
# /usr/bin/python3.N and pyenv's versions. An interpreter without its
# headers (Debian: pythonX.Y-dev) is skipped with a note. Extensions do
# not link libpython: the interpreter that loads them provides it.
set -euo pipefail
out=$1
lib=$2
CC=${CC:-gcc}
dest=$out/python
tmp=$dest.tmp
rm -rf "$tmp"
mkdir -p "$tmp/perf_trampoline"
cp libpyperf/python/perf_trampoline/*.py "$tmp/perf_trampoline/"
cp libpyperf/python/sitecustomize.py "$tmp/"

if [ -n "${PYPERF_PYTHONS:-}" ]; then
	candidates=($PYPERF_PYTHONS)
else
	candidates=()
	for p in /usr/bin/python3.[0-9] /usr/bin/python3.[0-9][0-9]; do
		[ -x "$p" ] && candidates+=("$p")
	done
	root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
	for p in "$root"/versions/*/bin/python3.[0-9] "$root"/versions/*/bin/python3.[0-9][0-9]; do
		[ -x "$p" ] && candidates+=("$p")
	done
fi

declare -A built=() compiled=()
for py in "${candidates[@]}"; do
	info=$("$py" -c 'import sys, sysconfig
print(sys.implementation.name, sys.version_info[0] * 100 + sys.version_info[1],
      sysconfig.get_config_var("EXT_SUFFIX"), sysconfig.get_paths()["include"])' 2>/dev/null) || continue
	read -r impl ver suffix inc <<< "$info"
	[ "$impl" = cpython ] || continue
	# Byte code for every version, checked by nothing but the build: the
	# bootstrap then costs no compile at each start (where byte code is
	# not written: PYTHONDONTWRITEBYTECODE, a read-only install), which
	# on 3.12+ would show in profiles under site's execsitecustomize.
	if [ "$ver" -ge 308 ] && [ -z "${compiled[$ver]:-}" ]; then
		"$py" -c 'import compileall, py_compile, sys
sys.exit(not compileall.compile_dir(sys.argv[1], quiet=1,
         invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH))' "$tmp" ||
			{ echo "mk/python.sh: byte-compiling with $py failed" >&2; exit 1; }
		compiled[$ver]=1
	fi
	[ "$ver" -ge 308 ] && [ "$ver" -le 311 ] || continue
	[ -z "${built[$suffix]:-}" ] || continue
	if [ ! -f "$inc/Python.h" ]; then
		echo "  note: $py has no headers ($inc/Python.h); install its -dev package" >&2
		continue
	fi
	printf '  %-6s %s\n' PYEXT "$dest/perf_trampoline/_trampoline$suffix ($py)"
	$CC -shared -fPIC -O2 -g -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
		-Wno-missing-field-initializers -fvisibility=hidden -D_GNU_SOURCE \
		-isystem "$inc" -Ilibpyperf/include \
		-Wl,-z,noexecstack -Wl,--exclude-libs,ALL -o "$tmp/perf_trampoline/_trampoline$suffix" \
		libpyperf/python/_trampoline.c "$lib" -lpthread
	built[$suffix]=$py
done
rm -rf "$dest"
mv "$tmp" "$dest"
