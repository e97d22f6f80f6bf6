#!/usr/bin/env bash
# Regenerates the fuzz seed corpora (see tests/fuzz/corpus/README.md):
#
#   tests/fuzz/make-corpus.sh            rewrite tests/fuzz/corpus/{data,perfmap,jitdump,script}
#   tests/fuzz/make-corpus.sh OUTDIR     write OUTDIR/... instead
#
# Needs perf (allowed to sample: perf_event_paranoid <= 2 or root), the
# test helpers (make -f mk/build.mk test-bins), pyperf-record (make), and
# python3.12 and python3.13 (pyenv or PATH). Recordings are of tiny
# runs so that every file stays under 64 KiB, the fuzzers' -max_len; the
# script fails if one does not. Recordings differ from run to run (times,
# addresses, pids), so regenerating changes every real file.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
BUILD=${BUILD:-build}
out=${1:-tests/fuzz/corpus}
max=65536

callpaths=$top/$BUILD/out/tests/helpers/callpaths
record=$top/$BUILD/out/bin/pyperf-record
for f in "$callpaths" "$record"; do
	[ -x "$f" ] || { echo "make-corpus: $f missing: run make && make -f mk/build.mk test-bins" >&2; exit 1; }
done
command -v perf > /dev/null || { echo "make-corpus: perf is not installed" >&2; exit 1; }
pyver() {
	local root exe
	root=$(pyenv root 2> /dev/null || echo "$HOME/.pyenv")
	for exe in "$root"/versions/"$1"*/bin/python"$1"; do
		[ -x "$exe" ] && { echo "$exe"; return; }
	done
	command -v "python$1" || true
}
py312=$(pyver 3.12)
[ -n "$py312" ] || { echo "make-corpus: python3.12 not found" >&2; exit 1; }
py313=$(pyver 3.13)
[ -n "$py313" ] || { echo "make-corpus: python3.13 not found (its -X perf_jit jitdump is a seed)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/pyperf-corpus.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out/data" "$out/perfmap" "$out/jitdump" "$out/script"
# Regression inputs (crash-*) are kept; see the corpus README.
find "$out/data" "$out/perfmap" "$out/jitdump" "$out/script" -maxdepth 1 -type f ! -name 'crash-*' -delete

fib='def f(n): return n if n < 2 else f(n - 1) + f(n - 2)
f(18)'

# rec NAME PERF-RECORD-ARGS... -- COMMAND: a real perf.data file.
rec() {
	local name=$1
	shift
	perf record -q -o "$tmp/$name" "$@" > /dev/null 2> "$tmp/err" || {
		echo "make-corpus: perf record $* failed:" >&2
		cat "$tmp/err" >&2
		exit 1
	}
	keep "$name"
}

keep() {
	local size
	size=$(stat -c %s "$tmp/$1")
	if [ "$size" -gt "$max" ]; then
		echo "make-corpus: $1 is $size bytes (> $max); shorten its run" >&2
		exit 1
	fi
	cp "$tmp/$1" "$out/data/$1"
	printf '  %-32s %6d\n' "data/$1" "$size"
}

# The recordings name callpaths by its path in this checkout; the corpus
# carries the binary itself in perf's build-id cache layout, which the unit
# tests read (with a symfs that hides every recorded path).
rm -rf "$out/buildid-cache"
bid=$(readelf -n "$callpaths" | sed -n 's/.*Build ID: *//p')
[ -n "$bid" ] || { echo "make-corpus: $callpaths has no build id" >&2; exit 1; }
mkdir -p "$out/buildid-cache/.build-id/${bid:0:2}/${bid:2}"
cp "$callpaths" "$out/buildid-cache/.build-id/${bid:0:2}/${bid:2}/elf"

echo "real recordings (perf record):"
rec plain.data -e cpu-clock -F 999 -- "$callpaths" 0.05
rec fp-callchain.data -e cpu-clock -F 999 -g -- "$callpaths" 0.05
rec threads-forks.data -e cpu-clock -F 999 -g -- "$callpaths" -t 1 -f 1 0.04
rec sched-raw.data -e cpu-clock -e sched:sched_switch -R -F 999 -- "$callpaths" -t 1 0.05
rec dwarf1024.data -e cpu-clock -F 300 --call-graph dwarf,1024 -- "$callpaths" 0.05
rec compressed.data -e cpu-clock -F 999 -g -z -- "$callpaths" 0.05
rec data-addr.data -e cpu-clock -F 999 -d -- "$callpaths" 0.05
rec sample-cpu.data -e cpu-clock -F 999 --sample-cpu -- "$callpaths" 0.05
rec group-read.data -e '{cpu-clock,task-clock}:S' -F 999 -- "$callpaths" 0.05
rec regs.data -e cpu-clock -F 999 --user-regs=ip,sp --intr-regs=ip -- "$callpaths" 0.05
rec misc-fields.data -e cpu-clock -F 999 --switch-events --namespaces --all-cgroups -P -W \
	--data-page-size --code-page-size --phys-data -- "$callpaths" -f 1 0.05
rec fixed-period.data -e cpu-clock -c 400000 -T -- "$callpaths" 0.05
rec system-wide.data -e cpu-clock -F 49 -a -- sleep 0.05
rec true.data -e cpu-clock -F 999 -- true
# python3.12 -X perf: the perf map it writes is a seed of the other corpus.
sh -c 'echo $$ > "$0"; exec "$1" -X perf -c "$2"' "$tmp/pid" "$py312" "$fib" > /dev/null
rm -f "/tmp/perf-$(cat "$tmp/pid").map"
perf record -q -o "$tmp/python312-xperf.data" -e cpu-clock -F 999 -g -- \
	sh -c 'echo $$ > "$0"; exec "$1" -X perf -c "$2"' "$tmp/pid" "$py312" "$fib" > /dev/null 2>&1
keep python312-xperf.data
pymap=/tmp/perf-$(cat "$tmp/pid").map
# A pipe-mode file (perf record -o -): read by nobody yet, rejected at the header.
perf record -q -e cpu-clock -F 999 -o - -- true > "$tmp/pipe-mode.data" 2> /dev/null
keep pipe-mode.data

echo "real recordings (pyperf-record):"
prec() {
	local name=$1
	shift
	"$record" -q -o "$tmp/$name" "$@" > /dev/null 2> "$tmp/err" || {
		echo "make-corpus: pyperf-record $* failed:" >&2
		cat "$tmp/err" >&2
		exit 1
	}
	keep "$name"
}
# dwarf mode, compressed, perf maps embedded (feature 250), stacks unwound
prec pyperf-python312.data -F 499 -g --clean-maps -- "$py312" -c "$fib"
# --raw-stacks keeps the stack copies, as perf does
prec pyperf-raw-stacks.data -F 300 --call-graph dwarf,2048 --raw-stacks --clean-maps -- "$py312" -c "$fib"
prec pyperf-fp.data -F 999 --call-graph fp --no-compress -- "$callpaths" 0.05

echo "crafted perf.data variants (of fp-callchain.data, compressed.data):"
python3 - "$out/data" << 'EOF'
import os, struct, sys
out = sys.argv[1]
base = open(os.path.join(out, 'fp-callchain.data'), 'rb').read()
comp = open(os.path.join(out, 'compressed.data'), 'rb').read()

def u64(b, o):
    return struct.unpack_from('<Q', b, o)[0]

def put64(b, o, v):
    b = bytearray(b)
    struct.pack_into('<Q', b, o, v & (2**64 - 1))
    return bytes(b)

def records(b):
    """(offset, type, size) of each record of the data section."""
    off, end = u64(b, 40), u64(b, 40) + u64(b, 48)
    while off + 8 <= end:
        typ, size = struct.unpack_from('<IxxH', b, off)
        if size < 8:
            break
        yield off, typ, size
        off += size

def save(name, b):
    open(os.path.join(out, name), 'wb').write(b)
    print(f'  data/{name:<30} {len(b):6d}')

attrs_off, data_off, data_size = u64(base, 24), u64(base, 40), u64(base, 48)
recs = list(records(base))
samples = [r for r in recs if r[1] == 9]
mid = samples[len(samples) // 2]
feat = data_off + data_size

save('cut-in-header.data', base[:50])
save('cut-in-attrs.data', base[:attrs_off + 40])
save('cut-mid-data.data', base[:mid[0] + mid[2] // 2])
save('cut-in-features.data', base[:feat + 40])
save('unfinished.data', put64(base[:feat], 48, 0))          # data size 0: runs to EOF
save('byteswapped.data', base[7::-1] + base[8:])
save('version1.data', b'PERFFILE' + base[8:])
save('attr-size-huge.data', put64(base, 16, 1 << 40))
save('attrs-past-end.data', put64(base, 24, len(base) + 8))
save('data-past-end.data', put64(base, 40, len(base) + 8))
save('data-size-huge.data', put64(base, 48, 1 << 62))
b = bytearray(base)
b[72:104] = b'\xff' * 32                                        # every feature bit
save('all-features.data', bytes(b))
b = bytearray(base)
struct.pack_into('<H', b, mid[0] + 6, 0)
save('record-size-0.data', bytes(b))
b = bytearray(base)
last = recs[-1]
struct.pack_into('<H', b, last[0] + 6, 0xfff8)
save('record-past-end.data', bytes(b))
b = bytearray(base)
struct.pack_into('<Q', b, attrs_off + 24, 0x1ffffff)            # every sample_type bit
save('sample-type-all.data', bytes(b))
st = u64(base, attrs_off + 24)
assert st & (1 << 5), 'fp-callchain.data has no callchains'
# u64 fields before the callchain: IDENTIFIER IP TID TIME ADDR ID STREAM_ID CPU PERIOD
pos = sum(1 for bit in (16, 0, 1, 2, 3, 6, 9, 7, 8) if st & (1 << bit))
b = bytearray(base)
struct.pack_into('<Q', b, mid[0] + 8 + 8 * pos, 1 << 40)        # callchain nr
save('callchain-nr-huge.data', bytes(b))
b = bytearray(comp)
for off, typ, size in records(comp):
    if typ == 81:
        b[off + 8 + size // 2] ^= 0x5a
        break
save('compressed-bitflip.data', bytes(b))
# sched_switch's format with one byte changed, in a field's declaration and
# in the print format: libtraceevent followed the undeclared field and
# crashed. Padded so that the harness reads them weighed by off-CPU time
# (it picks the weight from the size).
sched = open(os.path.join(out, 'sched-raw.data'), 'rb').read()
decl = sched.find(b'field:long prev_state;')
fmt = sched.find(b'__print_flags(REC->prev_state')
assert decl > 0 and fmt > 0
for name, at in (('crash-sched-field-renamed.data', decl + 11),
                 ('crash-sched-print-renamed.data', fmt + 19)):
    b = bytearray(sched)
    assert b[at:at + 10] == b'prev_state'
    b[at:at + 10] = b'prev_stafe'
    while len(b) // 3 % 4 != 2:
        b += b'\0'
    save(name, bytes(b))
EOF

echo "perf maps:"
cp "$pymap" "$out/perfmap/python312-xperf.map"
rm -f "$pymap"
printf '  %-32s %6d\n' perfmap/python312-xperf.map "$(stat -c %s "$out/perfmap/python312-xperf.map")"
python3 - "$out/perfmap" << 'EOF'
import os, sys
out = sys.argv[1]
maps = {
    'simple.map': b'1000 10 first\n1010 20 second\n2000 8 py::f:/x.py\n',
    'empty.map': b'',
    'crlf-tabs-0x.map': b'0x1000 0x10 a\r\n1010\t20\tb c d\r\n0X2000 0X8 upper\r\n',
    'bad-lines.map': (b'\n\n   \nzz 10 nohex\n1000\n1000 \n1000 10\n1000 10 \n'
                      b'10000000000000000 10 seventeen-digits\nffffffffffffffff 2 wraps\n'
                      b'-1 10 negative\n1000 10 ok\n'),
    'nul-in-name.map': b'1000 10 na\x00me\n2000 10 fine\n',
    'duplicates-overlaps.map': (b'1000 100 outer\n1000 10 same-start-last-wins\n'
                                b'1010 10 inner\n1005 0 empty\n5000 0 zero-size\n'
                                b'ffffffffffffff00 ff top\n0 1 bottom\n'),
    'long-name.map': b'1000 10 ' + b'n' * 3000 + b'\n2000 10 short\n',
    'no-final-newline.map': b'1000 10 one\n2000 10 two',
    'unsorted.map': b''.join(b'%x %x f%d\n' % ((97 * i) % 1000 * 16, 8 + i % 5, i)
                             for i in range(300)),
}
for name, text in maps.items():
    open(os.path.join(out, name), 'wb').write(text)
    print(f'  perfmap/{name:<27} {len(text):6d}')
EOF

echo "jitdumps:"
# A real one: CPython 3.13 -X perf_jit, code loads with unwinding info.
sh -c 'echo $$ > "$0"; exec "$1" -X perf_jit -c "$2"' "$tmp/pid" "$py313" "$fib" > /dev/null
jd=/tmp/jit-$(cat "$tmp/pid").dump
cp "$jd" "$out/jitdump/python313-perf-jit.dump"
rm -f "$jd" "/tmp/perf-$(cat "$tmp/pid").map"
printf '  %-32s %6d\n' jitdump/python313-perf-jit.dump "$(stat -c %s "$out/jitdump/python313-perf-jit.dump")"
python3 tests/fuzz/craft-corpus.py jitdump "$out/jitdump"

echo "perf script text:"
perf script -i "$out/data/fp-callchain.data" > "$out/script/fp-callchain.txt" 2> /dev/null
perf script -i "$out/data/python312-xperf.data" > "$out/script/python312-xperf.txt" 2> /dev/null
for f in fp-callchain python312-xperf; do
	head -c "$max" "$out/script/$f.txt" > "$tmp/cut" && mv "$tmp/cut" "$out/script/$f.txt"
	printf '  %-32s %6d\n' "script/$f.txt" "$(stat -c %s "$out/script/$f.txt")"
done
python3 tests/fuzz/craft-corpus.py script "$out/script"

total=$(du -cb "$out"/data/* "$out"/perfmap/* "$out"/jitdump/* "$out"/script/* | tail -1 | cut -f1)
echo "total: $total bytes"
[ "$total" -lt 1500000 ] || { echo "make-corpus: corpus too big" >&2; exit 1; }
