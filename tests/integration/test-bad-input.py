#!/usr/bin/env python3
"""pyperf-report on damaged perf.data files, normal and ASan/UBSan builds.

A small valid recording is damaged in many ways (empty, too short, wrong
or byte-swapped magic, pipe-mode header, truncated at every offset of the
header and at offsets spread through the attrs, data and features, section
offsets past the end, absurd sizes, bad record sizes, seeded random byte
flips in the data). For each, both builds of pyperf-report must:

- end by themselves within 20 s, never by a signal, never with a sanitizer
  report;
- exit 2 (damaged input), or 0 only where the format tolerates the damage
  (the feature sections: they describe the recording, the samples do not
  need them; the reader warns and goes on);
- name the file on stderr, and for damage inside the data section give
  "offset N" with the offset of the record where reading stopped, which
  this test computes by walking the records as the format defines them;
- lose nothing: a file cut inside the data section reports exactly the
  SAMPLE records that end before the cut (their offsets are cross-checked
  against perf report -D on the whole file).
"""
import os
import random
import re
import struct
import subprocess
from lib.common import BIN, BUILD, check, helper, main, perf_record, require_perf, rows, run, tmpdir

REPORTS = [('out', os.path.join(BIN, 'pyperf-report')),
           ('san', os.path.join(BUILD, 'san/bin/pyperf-report'))]
ROWS = ['--no-children', '-g', 'none', '-F', 'sample,comm,dso,sym']
TIMEOUT = 20
HEADER = 104
SAMPLE, COMPRESSED = 9, 81
SANITIZER = re.compile(r'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:|'
                       r'==\d+==ERROR')
SAN_ENV = {'ASAN_OPTIONS': 'detect_leaks=1:abort_on_error=0',
           'UBSAN_OPTIONS': 'print_stacktrace=1:halt_on_error=1'}


def u64(b, off):
    return struct.unpack_from('<Q', b, off)[0]


def put64(b, off, v):
    b = bytearray(b)
    struct.pack_into('<Q', b, off, v & (2**64 - 1))
    return bytes(b)


def put16(b, off, v):
    b = bytearray(b)
    struct.pack_into('<H', b, off, v)
    return bytes(b)


class Layout:
    """Where the sections of a valid perf.data file are."""

    def __init__(self, b):
        self.size = len(b)
        self.attr_entry = u64(b, 16)
        self.attrs_off, self.attrs_size = u64(b, 24), u64(b, 32)
        self.data_off, self.data_size = u64(b, 40), u64(b, 48)
        self.data_end = self.data_off + self.data_size
        bits = b[72:104]
        self.nr_feat = sum(bin(x).count('1') for x in bits) - (bits[0] & 1)
        self.feat_table = self.data_end
        self.records = []  # (offset, type, size)
        off = self.data_off
        while off < self.data_end:
            typ, size = struct.unpack_from('<IxxH', b, off)
            assert size >= 8, f'valid file with a record of size {size} at {off}'
            self.records.append((off, typ, size))
            off += size
        assert off == self.data_end
        self.features = []  # (offset, size) of each feature section
        for i in range(self.nr_feat):
            self.features.append((u64(b, self.feat_table + 16 * i), u64(b, self.feat_table + 16 * i + 8)))


def open_error(b):
    """Offset the reader must name when it cannot open @b, or None: the
    checks of the perf.data header, in the order the format forces."""
    n = len(b)
    if n < 8:
        return 0
    if b[:8] != b'PERFILE2':
        return 0
    if n < 16:
        return 8
    if u64(b, 8) < HEADER:
        return 8
    if n < HEADER:
        return n
    entry = u64(b, 16)
    if entry < 80 or entry > 4112 or entry % 8:
        return 16
    aoff, asize = u64(b, 24), u64(b, 32)
    if aoff > n or asize > n - aoff:
        return 24
    if asize % entry:
        return 32
    for off in range(aoff, aoff + asize, entry):
        ioff, isize = u64(b, off + entry - 16), u64(b, off + entry - 8)
        if ioff > n or isize > n - ioff or isize % 8:
            return off + entry - 16
    if asize == 0:
        return 24
    doff = u64(b, 40)
    if doff > n:
        return 40
    if doff < HEADER:
        return 40
    return None


def walk(b):
    """Walks the data section of @b as the reader must: returns the offsets
    of the SAMPLE records read whole, and the offset where reading must
    stop with an error (None if it ends cleanly; 'compressed' where a
    COMPRESSED record makes the outcome depend on zstd)."""
    n = len(b)
    doff, claimed = u64(b, 40), u64(b, 48)
    size = claimed
    if size == 0:
        size = n - doff
    elif size > n - doff:
        size = n - doff
    end, pos, samples = doff + size, doff, []
    while True:
        if pos >= end:
            return samples, (n if size < claimed else None)
        if end - pos < 8:
            return samples, pos
        typ, rsize = struct.unpack_from('<IxxH', b, pos)
        if rsize < 8 or rsize > end - pos:
            return samples, pos
        if typ == COMPRESSED:
            return samples, 'compressed'
        if typ == SAMPLE:
            samples.append(pos)
        pos += rsize


def report(binary, path, args=ROWS, env=None):
    e = dict(os.environ)
    e.update(env or {})
    try:
        p = subprocess.run([binary, '-i', path, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, errors='replace', timeout=TIMEOUT, env=e)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return 'timeout', '', ''


def sanitizer_summary(err):
    """'LeakSanitizer at tools/pyperf-report/main.c:332': what and where."""
    kind = re.search(r'ERROR: (\w+Sanitizer)|(runtime error): ', err)
    where = re.search(r'#\d+ 0x[0-9a-f]+ in \S+ ((?:libpyperf|tools)/\S+)', err) or \
        re.search(r'^((?:libpyperf|tools)/\S+): runtime error', err, re.M)
    return f'{(kind.group(1) or kind.group(2)) if kind else "sanitizer"} report' + \
        (f' at {where.group(1)}' if where else '')


def nr_samples(stdout):
    return sum(sum(c.values()) for c in rows(stdout).values())


class Cases:
    def __init__(self, d):
        self.d = d
        self.failed = 0
        self.count = 0

    def run(self, name, data, status, offset=None, text=None, samples=None, warn=False):
        """Runs both builds on @data. @status: the allowed exit statuses.
        @offset: the offset stderr must give (with "offset"); @text: a
        substring of stderr; @samples: the samples the report must hold;
        @warn: status 0 must come with a warning naming the file."""
        path = os.path.join(self.d, f'bad-{name}.data')
        with open(path, 'wb') as f:
            f.write(data)
        for label, binary in REPORTS:
            if not os.path.exists(binary):
                continue
            self.count += 1
            rc, out, err = report(binary, path, env=SAN_ENV if label == 'san' else None)
            what = f'{name} ({len(data)} bytes, {label})'
            problems = []
            if rc == 'timeout':
                problems.append(f'no exit after {TIMEOUT}s')
            elif rc < 0:
                problems.append(f'killed by signal {-rc}')
            elif rc not in status:
                problems.append(f'exit {rc}, expected {"/".join(map(str, status))}')
            if SANITIZER.search(err):
                problems.append(sanitizer_summary(err))
            if rc != 0 and path not in err:
                problems.append('file not named on stderr')
            if rc == 0 and warn and not re.search(rf'libpyperf: {re.escape(path)}: ', err):
                problems.append('tolerated damage without a warning naming the file')
            if rc == 2 and offset is not None and not re.search(rf'\boffset {offset}\b', err):
                problems.append(f'"offset {offset}" not on stderr')
            if rc == 2 and text and text not in err:
                problems.append(f'"{text}" not on stderr')
            if samples is not None and rc in (0, 2):
                got = nr_samples(out)
                if got != samples:
                    problems.append(f'{got} samples reported, {samples} expected')
            if problems:
                self.failed += 1
                check(False, f'{what}: {"; ".join(problems)}\n      stderr: '
                      + '\n              '.join(err.strip().splitlines()[-12:]))
        os.unlink(path)


def test():
    require_perf()
    d = tmpdir()
    cp = helper('callpaths')
    check(os.path.exists(REPORTS[1][1]), f'{REPORTS[1][1]} exists (make SANITIZE=1)')

    full = f'{d}/full.data'
    perf_record(full, [cp, '0.3'], args=('-e', 'cpu-clock', '-F', '999', '-g'))
    b = open(full, 'rb').read()
    lay = Layout(b)
    all_samples = [off for off, typ, _ in lay.records if typ == SAMPLE]
    print(f'recorded {len(b)} bytes: data {lay.data_off}..{lay.data_end} with {len(lay.records)} records, '
          f'{len(all_samples)} samples; {lay.nr_feat} features')
    check(len(all_samples) >= 50 and lay.nr_feat > 0, 'the recording has samples and features')

    # The walk agrees with perf on where the samples are.
    dump = run(['perf', 'report', '-D', '-i', full]).stdout
    perf_samples = [int(m.group(1), 16) for m in
                    re.finditer(r'^\d+ (0x[0-9a-f]+) \[0x[0-9a-f]+\]: PERF_RECORD_SAMPLE', dump, re.M)]
    # (-D prints records as perf delivers them, in time order: records of
    # two CPUs out of order in the file come out swapped now and then)
    check(sorted(perf_samples) == all_samples,
          f'perf report -D finds the same {len(all_samples)} SAMPLE offsets')

    # The valid file itself: every sample, status 0, both builds.
    for label, binary in REPORTS:
        if os.path.exists(binary):
            rc, out, err = report(binary, full, env=SAN_ENV if label == 'san' else None)
            check(rc == 0 and not SANITIZER.search(err) and nr_samples(out) == len(all_samples),
                  f'valid file ({label}): exit {rc}, {nr_samples(out)} of {len(all_samples)} samples'
                  + (f'\n      stderr: {err.strip()[-800:]}' if rc else ''))

    c = Cases(d)

    # Not perf.data at all.
    c.run('empty', b'', [2], offset=0, text='empty')
    c.run('3-bytes', b[:3], [2], offset=0, text='too short')
    c.run('wrong-magic', b'PERFILE3' + b[8:], [2], offset=0, text='not a perf.data file')
    c.run('byte-swapped', b[7::-1] + b[8:], [2], offset=0, text='byte-swapped')
    c.run('version1', b'PERFFILE' + b[8:], [2], offset=0, text='version 1')
    c.run('pipe-mode', put64(b, 8, 16), [2], offset=8, text='pipe-mode')
    c.run('header-size-small', put64(b, 8, 64), [2], offset=8)

    # Cut inside the header: every offset.
    for t in range(0, HEADER + 1):
        c.run(f'cut-header-{t}', b[:t], [2], offset=open_error(b[:t]))

    # Cut inside the ids and attrs: the header points past the end.
    for t in sorted(set(HEADER + (lay.data_off - HEADER) * k // 6 for k in range(1, 6))):
        c.run(f'cut-attrs-{t}', b[:t], [2], offset=open_error(b[:t]))

    # Cut inside the data section: every record before the cut is
    # reported, then an error at the record the cut falls in (or, cut on a
    # record boundary, at the end of the file).
    cuts = sorted(set(lay.data_off + (lay.data_size * k) // 27 for k in range(0, 27)))
    for t in cuts:
        samples, err_off = walk(b[:t])
        assert err_off is not None and err_off != 'compressed'
        c.run(f'cut-data-{t}', b[:t], [2], offset=err_off, text='truncated',
              samples=len(samples))
    # Loses nothing, spelled out for one cut in the middle of a sample.
    mid = lay.records[len(lay.records) // 2]
    t = mid[0] + mid[2] // 2
    before = [off for off, typ, size in lay.records if typ == SAMPLE and off + size <= t]
    c.run('cut-mid-record', b[:t], [2], offset=mid[0], samples=len(before))

    # Cut inside the feature table and sections: every sample is there,
    # the reader warns that features are missing and goes on (exit 0): the
    # features hold build ids, names and host facts, not samples.
    feat_end = len(b)
    for t in sorted(set(lay.data_end + 1 + (feat_end - lay.data_end - 1) * k // 8 for k in range(0, 8))):
        c.run(f'cut-features-{t}', b[:t], [0], samples=len(all_samples), warn=True)

    # Sections pointing past the end of the file.
    c.run('attrs-past-end', put64(b, 24, len(b) + 64), [2], offset=24, text='attrs section')
    c.run('attrs-size-past-end', put64(b, 32, len(b)), [2], offset=24)
    c.run('data-past-end', put64(b, 40, len(b) + 64), [2], offset=40, text='data section')
    ids_field = lay.attrs_off + lay.attr_entry - 16
    c.run('ids-past-end', put64(b, ids_field, len(b) + 64), [2], offset=ids_field)
    # A feature section past the end is ignored with a warning (exit 0).
    for i, (off, size) in enumerate(lay.features[:3]):
        c.run(f'feature{i}-offset-past-end', put64(b, lay.feat_table + 16 * i, len(b) + 64), [0],
              samples=len(all_samples), warn=True)
        c.run(f'feature{i}-size-huge', put64(b, lay.feat_table + 16 * i + 8, 1 << 62), [0],
              samples=len(all_samples), warn=True)

    # Absurd sizes.
    c.run('attr-size-2^40', put64(b, 16, 1 << 40), [2], offset=16, text='attr size')
    c.run('attr-size-odd', put64(b, 16, lay.attr_entry + 4), [2], offset=16)
    # A data size past the end: the records are read, then the feature
    # table is read as records until one cannot be; where is computed.
    # (Bytes of the features read as records may pass for samples: the
    # count is not checked there.)
    bad = put64(b, 48, 1 << 62)
    samples, err_off = walk(bad)
    c.run('data-size-2^62', bad, [2], offset=err_off if isinstance(err_off, int) else None)
    bad = put64(b, 48, lay.data_size + 4)
    samples, err_off = walk(bad)
    c.run('data-size-plus-4', bad, [2], offset=err_off, samples=len(samples))

    # Bad record sizes in the middle of the data.
    for frac in (4, 2):
        off, typ, size = lay.records[len(lay.records) // frac]
        samples = [o for o, ty, _ in lay.records if ty == SAMPLE and o < off]
        c.run(f'record-size-0-at-{off}', put16(b, off + 6, 0), [2], offset=off, samples=len(samples))
        c.run(f'record-size-4-at-{off}', put16(b, off + 6, 4), [2], offset=off, samples=len(samples))
    off, typ, size = lay.records[-3]
    bad = put16(b, off + 6, lay.data_end - off + 8)
    samples = [o for o, ty, _ in lay.records if ty == SAMPLE and o < off]
    c.run(f'record-past-data-end-at-{off}', bad, [2], offset=off, text='runs past the end',
          samples=len(samples))

    # Random byte flips in the data area, reproducible. Where the flips
    # break the chain of record sizes, the offset is known; elsewhere
    # (a flipped sample field, a flipped type) the record is skipped or
    # read differently: exit 0 or 2, and never a crash.
    rnd = random.Random(20240601)
    for i in range(40):
        bad = bytearray(b)
        for _ in range(rnd.choice((1, 2, 4, 8, 16))):
            pos = rnd.randrange(lay.data_off, lay.data_end)
            bad[pos] ^= 1 << rnd.randrange(8) if rnd.random() < 0.7 else rnd.randrange(1, 256)
        bad = bytes(bad)
        samples, err_off = walk(bad)
        if err_off is None or err_off == 'compressed':
            c.run(f'flips-{i}', bad, [0, 2])
        else:
            c.run(f'flips-{i}', bad, [2], offset=err_off)

    print(f'{c.count} runs, {c.failed} failed')
    check(c.failed == 0, f'every damaged file handled ({c.count} runs of pyperf-report)')


if __name__ == '__main__':
    main(test)
