#!/usr/bin/env python3
"""Writes the golden cases of damaged perf.data files:
tests/data/perfdata/invalid/<case>/{input,expected}, which
tests/unit/test-data-golden.c reads.

    tests/data/perfdata/make-invalid.py          rewrite every case
    tests/data/perfdata/make-invalid.py --check  exit 1 if a committed case differs

Inputs are built from scratch (no perf needed, byte for byte the same on
every run): a minimal valid perf.data of one cpu-clock event with a COMM,
an MMAP, four SAMPLEs and a FINISHED_ROUND, and a HOSTNAME feature, then
damaged one way per case. The expected error is what the format makes of
the damage, worked out here from the layout (not taken from the library):

    stage   open | read      where the error must come: pyperf_data__open(),
                             or pyperf_data__next() after the file opened
    code    EBADMSG ...      the errno name of struct pyperf_error.code (negated)
    offset  N | none         struct pyperf_error.offset
    text    SUBSTRING        must occur in struct pyperf_error.text
    records N                (read) records pyperf_data__next() returns first
    requires zstd            (optional) skipped by a library built without zstd

A new regression case needs a function here and no new C.
"""
import os
import shutil
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'invalid')

HEADER = 104
ATTR_SIZE = 128                         # PERF_ATTR_SIZE_VER7
ENTRY = ATTR_SIZE + 16                  # attr + perf_file_section of its ids
IDS_OFF = HEADER
ATTRS_OFF = IDS_OFF + 8                 # one id
DATA_OFF = ATTRS_OFF + ENTRY
SAMPLE_TYPE = 0x1 | 0x2 | 0x4 | 0x100   # IP TID TIME PERIOD
FEAT_HOSTNAME = 3

MMAP, COMM, SAMPLE, FINISHED_ROUND, COMPRESSED = 1, 3, 9, 68, 81


def rec(typ, body, misc=0, size=None):
    """A record: header (type, misc, size) and body, padded to 8."""
    body += b'\0' * (-len(body) % 8)
    return struct.pack('<IHH', typ, misc, size if size is not None else 8 + len(body)) + body


def sample(ip, t):
    return rec(SAMPLE, struct.pack('<QIIQQ', ip, 42, 42, t, 1000000), misc=2)  # PERF_RECORD_MISC_USER


def records():
    """The data section, as a list of records."""
    return [
        rec(COMM, struct.pack('<II', 42, 42) + b'prog\0'),
        rec(MMAP, struct.pack('<IIQQQ', 42, 42, 0x400000, 0x1000, 0) + b'/bin/prog\0', misc=2),
        sample(0x400100, 1000),
        sample(0x400200, 2000),
        sample(0x400300, 3000),
        sample(0x400400, 4000),
        rec(FINISHED_ROUND, b''),
    ]


def perf_data(recs=None, data_size=None):
    """A whole valid file (the header fields can be damaged afterwards)."""
    recs = records() if recs is None else recs
    data = b''.join(recs)
    if data_size is None:
        data_size = len(data)
    attr = struct.pack('<IIQQQQQ', 1, ATTR_SIZE, 0, 1000000, SAMPLE_TYPE, 0, 1 << 0)  # disabled
    attr += b'\0' * (ATTR_SIZE - len(attr))
    feat_table = DATA_OFF + len(data)
    host = b'host\0\0\0\0'
    feature = struct.pack('<I', len(host)) + host
    bits = bytearray(32)
    bits[FEAT_HOSTNAME // 8] |= 1 << (FEAT_HOSTNAME % 8)
    header = b'PERFILE2' + struct.pack('<QQQQQQQQ', HEADER, ENTRY, ATTRS_OFF, ENTRY, DATA_OFF, data_size,
                                       0, 0) + bytes(bits)
    assert len(header) == HEADER
    ids = struct.pack('<Q', 1)
    entry = attr + struct.pack('<QQ', IDS_OFF, len(ids))
    table = struct.pack('<QQ', feat_table + 16, len(feature))
    return header + ids + entry + data + table + feature


def put64(b, off, v):
    b = bytearray(b)
    struct.pack_into('<Q', b, off, v & (2**64 - 1))
    return bytes(b)


def offsets(recs):
    out, off = [], DATA_OFF
    for r in recs:
        out.append(off)
        off += len(r)
    return out


def zstd_raw_frame(payload):
    """A zstd frame holding @payload in one raw (stored) block: valid zstd
    without a compressor (RFC 8878: frame header with single-segment flag
    and a 2-byte content size, then a last raw block)."""
    assert 256 <= len(payload) < 65536 + 256
    fhd = 0x60  # Frame_Content_Size_flag = 1 (2 bytes), Single_Segment_flag
    block = (len(payload) << 3) | (0 << 1) | 1  # raw block, last
    return (struct.pack('<I', 0xFD2FB528) + bytes([fhd]) + struct.pack('<H', len(payload) - 256)
            + struct.pack('<I', block)[:3] + payload)


CASES = {}


def case(fn):
    CASES[fn.__name__.replace('_', '-')] = fn
    return fn


@case
def empty():
    return b'', dict(stage='open', code='EBADMSG', offset=0, text='file is empty')


@case
def three_bytes():
    return b'PER', dict(stage='open', code='EBADMSG', offset=0, text='too short')


@case
def wrong_magic():
    return b'PERFILE3' + perf_data()[8:], dict(stage='open', code='EBADMSG', offset=0,
                                               text='not a perf.data file')


@case
def byte_swapped():
    return b'2ELIFREP' + perf_data()[8:], dict(stage='open', code='EOPNOTSUPP', offset=0,
                                               text='byte-swapped')


@case
def version1():
    # perf's first format: magic "PERFFILE" (tools/perf/util/header.c, __perf_magic1)
    return b'PERFFILE' + perf_data()[8:], dict(stage='open', code='EOPNOTSUPP', offset=0,
                                               text='version 1')


@case
def pipe_mode():
    # perf record -o -: a 16-byte header (magic, size 16), then records
    return perf_data()[:8] + struct.pack('<Q', 16) + b''.join(records()), \
        dict(stage='open', code='EOPNOTSUPP', offset=8, text='pipe-mode')


@case
def header_size_small():
    return put64(perf_data(), 8, 64), dict(stage='open', code='EBADMSG', offset=8,
                                           text='header size is too small')


@case
def cut_in_magic_size():
    return perf_data()[:12], dict(stage='open', code='EBADMSG', offset=8, text='ends inside the header')


@case
def cut_in_header():
    return perf_data()[:60], dict(stage='open', code='EBADMSG', offset=60,
                                  text='ends inside the 104-byte header')


@case
def attr_size_huge():
    return put64(perf_data(), 16, 1 << 40), dict(stage='open', code='EBADMSG', offset=16,
                                                 text='attr size is out of range')


@case
def attr_size_unaligned():
    return put64(perf_data(), 16, ENTRY + 4), dict(stage='open', code='EBADMSG', offset=16,
                                                   text='attr size is out of range')


@case
def attrs_past_end():
    b = perf_data()
    return put64(b, 24, len(b) + 8), dict(stage='open', code='EBADMSG', offset=24,
                                          text='attrs section points past the end')


@case
def attrs_size_past_end():
    b = perf_data()
    return put64(b, 32, 2**64 - 8), dict(stage='open', code='EBADMSG', offset=24,
                                         text='attrs section points past the end')


@case
def attrs_size_not_multiple():
    return put64(perf_data(), 32, ENTRY - 8), dict(stage='open', code='EBADMSG', offset=32,
                                                   text='not a multiple of the attr entry size')


@case
def no_attrs():
    return put64(perf_data(), 32, 0), dict(stage='open', code='EBADMSG', offset=24,
                                           text='describes no events')


@case
def ids_past_end():
    b = perf_data()
    field = ATTRS_OFF + ATTR_SIZE
    return put64(b, field, len(b)), dict(stage='open', code='EBADMSG', offset=field,
                                         text='id list points outside the file')


@case
def data_past_end():
    b = perf_data()
    return put64(b, 40, len(b) + 1), dict(stage='open', code='EBADMSG', offset=40,
                                          text='data section starts past the end')


@case
def data_overlaps_header():
    return put64(perf_data(), 40, 48), dict(stage='open', code='EBADMSG', offset=40,
                                            text='overlaps the header')


@case
def cut_before_data():
    # The file ends where the data section starts: no record, and the
    # header promises some.
    return perf_data()[:DATA_OFF], dict(stage='read', code='EBADMSG', offset=DATA_OFF, records=0,
                                        text='file is truncated')


@case
def cut_in_record_header():
    recs = records()
    off = offsets(recs)[3]
    return perf_data()[:off + 5], dict(stage='read', code='EBADMSG', offset=off, records=3,
                                       text='ends inside a record header')


@case
def cut_in_record():
    recs = records()
    off = offsets(recs)[4]
    return perf_data()[:off + 20], dict(stage='read', code='EBADMSG', offset=off, records=4,
                                        text='SAMPLE record of 40 bytes runs past the end')


@case
def cut_at_record_boundary():
    recs = records()
    off = offsets(recs)[5]
    return perf_data()[:off], dict(stage='read', code='EBADMSG', offset=off, records=5,
                                   text='header promises')


@case
def record_size_0():
    recs = records()
    recs[3] = recs[3][:6] + b'\0\0' + recs[3][8:]
    return perf_data(recs, data_size=len(b''.join(records()))), \
        dict(stage='read', code='EBADMSG', offset=offsets(recs)[3], records=3,
             text='record of type 9 has size 0')


@case
def record_size_4():
    recs = records()
    recs[2] = recs[2][:6] + struct.pack('<H', 4) + recs[2][8:]
    return perf_data(recs), dict(stage='read', code='EBADMSG', offset=offsets(recs)[2], records=2,
                                 text='has size 4')


@case
def record_past_data_end():
    # Inside the file (the features follow) but past the data section.
    recs = records()
    recs[5] = recs[5][:6] + struct.pack('<H', 0x1000) + recs[5][8:]
    return perf_data(recs), dict(stage='read', code='EBADMSG', offset=offsets(recs)[5], records=5,
                                 text='runs past the end of the data')


@case
def data_size_past_end():
    # The header promises more records than the file holds: the records
    # are read, then the feature table as records, whose first u64 (the
    # offset of the HOSTNAME section, < 64 KiB) gives a size field of 0.
    recs = records()
    b = perf_data(recs, data_size=1 << 40)
    return b, dict(stage='read', code='EBADMSG', offset=DATA_OFF + len(b''.join(recs)),
                   records=len(recs), text='has size 0')


@case
def compressed_not_zstd():
    recs = records()
    recs.insert(2, rec(COMPRESSED, b'not a zstd frame'))
    return perf_data(recs), dict(stage='read', code='EBADMSG', offset=offsets(recs)[2], records=2,
                                 text='does not decompress', requires='zstd')


@case
def compressed_record_size_0():
    # A valid zstd frame whose records are a SAMPLE, then one of size 0.
    # (Sized so that the frame needs no padding: zstd would take padding
    # for the start of another frame.)
    inner = sample(0x400500, 5000) + struct.pack('<IHH', SAMPLE, 2, 0) + b'\0' * 302
    assert len(zstd_raw_frame(inner)) % 8 == 0
    recs = records()
    recs.insert(2, rec(COMPRESSED, zstd_raw_frame(inner)))
    return perf_data(recs), dict(stage='read', code='EBADMSG', offset=offsets(recs)[2], records=3,
                                 text='inside this COMPRESSED record has size 0', requires='zstd')


def zstd_rle_frame(blocks, byte):
    """A zstd frame of @blocks RLE blocks, each 128 KiB of @byte from 4 bytes
    (RFC 8878: no content size, a 128 KiB window): a decompression bomb."""
    out = struct.pack('<I', 0xFD2FB528) + bytes([0x00, 7 << 3])
    for i in range(blocks):
        header = (1 if i == blocks - 1 else 0) | (1 << 1) | ((128 * 1024) << 3)
        out += struct.pack('<I', header)[:3] + bytes([byte])
    return out


@case
def compressed_bomb():
    # 2.4 KB that inflate to 75 MB (records of an unknown type, 2056 bytes
    # each: all of it would be read and skipped). The file has no
    # COMPRESSED feature: the fixed ceiling, 64 MiB per record, applies.
    recs = records()
    recs.insert(2, rec(COMPRESSED, zstd_rle_frame(600, 0x08)))
    return perf_data(recs), dict(stage='read', code='EBADMSG', offset=offsets(recs)[2], records=2,
                                 text='inflates to more than 67108864 bytes', requires='zstd')


def expected_text(exp):
    lines = [f'stage {exp["stage"]}', f'code {exp["code"]}',
             f'offset {exp["offset"] if exp["offset"] is not None else "none"}',
             f'text {exp["text"]}']
    if 'records' in exp:
        lines.append(f'records {exp["records"]}')
    if 'requires' in exp:
        lines.append(f'requires {exp["requires"]}')
    return '\n'.join(lines) + '\n'


def main():
    check = '--check' in sys.argv[1:]
    cases = {name: fn() for name, fn in CASES.items()}
    if check:
        bad = []
        for name, (data, exp) in cases.items():
            d = os.path.join(OUT, name)
            try:
                same = (open(os.path.join(d, 'input'), 'rb').read() == data and
                        open(os.path.join(d, 'expected')).read() == expected_text(exp))
            except OSError:
                same = False
            if not same:
                bad.append(name)
        extra = sorted(set(os.listdir(OUT)) - set(cases)) if os.path.isdir(OUT) else []
        for name in bad + extra:
            print(f'{name}: differs from make-invalid.py')
        return 1 if bad or extra else 0
    shutil.rmtree(OUT, ignore_errors=True)
    for name, (data, exp) in cases.items():
        d = os.path.join(OUT, name)
        os.makedirs(d)
        with open(os.path.join(d, 'input'), 'wb') as f:
            f.write(data)
        with open(os.path.join(d, 'expected'), 'w') as f:
            f.write(expected_text(exp))
        print(f'  {name:<28} {len(data):5d} bytes  {exp["code"]} at {exp["offset"]}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
