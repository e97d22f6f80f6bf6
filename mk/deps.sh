#!/usr/bin/env bash
# Installs (as root) or names (otherwise) the Debian packages pyperf needs.
# usage: mk/deps.sh build|test
# Idempotent: packages already present are not touched, and apt-get update
# runs only when something has to be installed.
set -euo pipefail

# libbpf-dev, bpftool and clang build the interpreter-frame walker's BPF
# program (clang -target bpf) and embed it (bpftool gen skeleton);
# libncurses-dev the tools' full-screen views (tools/common/tui_term.c).
build_pkgs=(gcc make pkg-config xz-utils libelf-dev libdw-dev libtraceevent-dev
	    libjansson-dev zlib1g-dev libzstd-dev linux-source-6.12 python3-dev
	    libprotobuf-c-dev protobuf-c-compiler libbpf-dev bpftool clang libncurses-dev)
# The tests compare against perf itself, fuzz with clang's libFuzzer, run
# Python workloads under the interpreters of the machine, and open each
# output format in its real consumer: Chromium (SVG, and the speedscope app
# that npm brings), go tool pprof, a JSON Schema validator, hotspot's
# perfparser (it reads pyperf-record's files as it reads perf's). The
# unwinding tests run real programs from Debian's packages (tests/corpus);
# Debian's python3.11-dbg gives inlined frames to compare with perf's;
# tmux is the terminal the full-screen views are driven in.
# (clang is a build package: it compiles the BPF program.)
test_pkgs=(linux-perf libclang-rt-14-dev python3 python3-jsonschema chromium golang-go
	   hotspot python3-docutils python3-sympy python3-pygments python3-numpy python3-jinja2
	   python3.11-dbg tmux)
# node and npm may come from elsewhere (NodeSource's nodejs bundles npm and
# conflicts with Debian's npm package): ask for them only when missing.
if [ "${1:-build}" = test ] && ! command -v npm > /dev/null; then
	test_pkgs+=(nodejs npm)
fi

case "${1:-build}" in
build) want=("${build_pkgs[@]}") ;;
test) want=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
*) echo "usage: $0 build|test" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "pyperf: missing Debian packages: ${missing[*]}" >&2
	echo "pyperf: install them with: sudo apt-get install ${missing[*]}" >&2
	exit 1
fi

echo "pyperf: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
