#!/usr/bin/env bash
# Builds the kernel's libperf (tools/lib/perf) from Debian's linux-source-6.12
# package into a private prefix. Debian does not package libperf.
# usage: mk/libperf.sh PREFIX
# The result is cached: PREFIX/.stamp marks a finished build.
set -euo pipefail

prefix=$(realpath -m "$1")
tarball=/usr/src/linux-source-6.12.tar.xz
# libapi's fs helpers (tracefs__mount) are used too; their header is not
# among libperf's installed ones. (Also copied into caches built before.)
api_header() {
	install -D -m 644 "$prefix/src/tools/lib/api/fs/fs.h" "$prefix/include/api/fs/fs.h"
}
if [ -f "$prefix/.stamp" ]; then
	[ -f "$prefix/include/api/fs/fs.h" ] || api_header
	exit 0
fi
if [ ! -f "$tarball" ]; then
	echo "pyperf: $tarball is missing; install the linux-source-6.12 package" >&2
	exit 1
fi

src="$prefix/src"
rm -rf "$prefix"
mkdir -p "$src"
echo "pyperf: building libperf from $tarball (once)" >&2
# Only the folders libperf's Makefile reaches into.
tar -xJf "$tarball" -C "$src" --strip-components=1 \
	linux-source-6.12/tools/lib/perf linux-source-6.12/tools/lib/api \
	linux-source-6.12/tools/lib/zalloc.c linux-source-6.12/tools/lib/ctype.c \
	linux-source-6.12/tools/lib/str_error_r.c linux-source-6.12/tools/lib/string.c \
	linux-source-6.12/tools/include linux-source-6.12/tools/build \
	linux-source-6.12/tools/scripts linux-source-6.12/tools/arch/x86 \
	linux-source-6.12/tools/arch/arm64 linux-source-6.12/include/uapi/linux/perf_event.h
make -s -C "$src/tools/lib/perf" -j"$(nproc)" EXTRA_CFLAGS="-fPIC -O2 -g" \
	DESTDIR="$prefix" prefix= libdir_relative=lib install_lib install_headers >/dev/null
# libperf.a calls into libapi (fdarray, fs helpers) but does not contain it.
cp "$src/tools/lib/api/libapi.a" "$prefix/lib/"
rm -f "$prefix"/lib/libperf.so*
api_header
touch "$prefix/.stamp"
