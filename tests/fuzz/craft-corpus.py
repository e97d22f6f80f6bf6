#!/usr/bin/env python3
"""Crafted seeds of the jitdump and perf-script fuzz corpora.

    tests/fuzz/craft-corpus.py jitdump OUTDIR
    tests/fuzz/craft-corpus.py script OUTDIR

Called by tests/fuzz/make-corpus.sh, which adds the real files (a jitdump of
CPython 3.13 -X perf_jit, perf script text of a recording). crash-* files
are regression inputs of defects found by fuzzing; they are rewritten here
byte for byte, so that regenerating keeps them.
"""
import os
import struct
import sys

JIT_LOAD, JIT_MOVE, JIT_UNWIND = 0, 1, 4


def jit_header():
    # magic, version, header size, elf machine (x86-64), pad, pid, timestamp, flags
    return struct.pack('<IIIIIIQQ', 0x4A695444, 1, 40, 62, 0, 4242, 1, 0)


def jit_load(vma, size, name, index=0):
    body = struct.pack('<IIQQQQ', 4242, 4242, vma, vma, size, index) + name + b'\0' + b'\xc3' * size
    return struct.pack('<IIQ', JIT_LOAD, 16 + len(body), 2) + body


def jit_move(old, new, size, index=0):
    body = struct.pack('<IIQQQQ', 4242, 4242, new, old, new, size) + struct.pack('<Q', index)
    return struct.pack('<IIQ', JIT_MOVE, 16 + len(body), 3) + body


def jit_unwind(eh, hdr=b''):
    data = hdr + eh
    pad = b'\0' * (-len(data) % 8)
    body = struct.pack('<QQQ', len(data), len(hdr), len(data)) + data + pad
    return struct.pack('<IIQ', JIT_UNWIND, 16 + len(body), 4) + body


def cie(fde_encoding=0x1b, length=None):
    # id 0, version 1, "zR", code align 1, data align -8, return register 16,
    # augmentation data: the FDE pointer encoding; then DW_CFA_def_cfa rsp+8,
    # DW_CFA_offset rip at cfa-8
    body = (struct.pack('<I', 0) + b'\x01zR\0' + b'\x01\x78\x10' + b'\x01' + bytes([fde_encoding]) +
            b'\x0c\x07\x08\x90\x01')
    body += b'\0' * (-(len(body) + 4) % 4)
    if length is not None:
        body = body[:length].ljust(length, b'\0')
    return struct.pack('<I', len(body)) + body


def fde(cie_offset, size, instructions=b'\x41\x0e\x10'):
    # pc-relative start (rewritten by the parser), range, no augmentation data
    body = struct.pack('<IiI', cie_offset, 0, size) + b'\0' + instructions
    body += b'\0' * (-(len(body) + 4) % 4)
    return struct.pack('<I', len(body)) + body


def jitdump(out):
    files = {}
    files['loads.dump'] = jit_header() + b''.join(
        jit_load(0x7f0000001000 + 64 * i, 48, b'py::f%d:/tmp/x.py' % i) for i in range(20))
    c = cie()
    eh = c + fde(len(c) + 4, 48)
    files['unwind.dump'] = jit_header() + b''.join(
        jit_unwind(eh) + jit_load(0x7f0000002000 + 64 * i, 48, b'py::g%d:/tmp/y.py' % i)
        for i in range(8))
    files['moves.dump'] = jit_header() + b''.join(
        jit_load(0x1000 + 0x100 * i, 32, b'm%d' % i) for i in range(10)) + b''.join(
        jit_move(0x1000 + 0x100 * (i % 10), 0x9000 + 0x40 * i, 32) for i in range(40))
    files['overlapping.dump'] = jit_header() + jit_load(0x10000, 0x2000, b'cover') + b''.join(
        jit_load(0x10000 + 32 * i, 8, b'tiny%d' % i) for i in range(200))
    files['cut-record.dump'] = (jit_header() + jit_load(0x1000, 16, b'whole') +
                                jit_load(0x2000, 16, b'cut')[:40])
    files['no-cie.dump'] = jit_header() + jit_unwind(fde(4, 48)) + jit_load(0x3000, 48, b'orphan')
    # An .eh_frame whose length is a power of two (the copy's buffer grows
    # to exactly that) ending in an FDE of length 4: the FDE's start field,
    # rewritten at offset 8 of the record, lay 4 bytes past the buffer.
    c = cie(length=20)
    eh = c + struct.pack('<II', 4, len(c) + 4)
    assert len(eh) == 32
    files['crash-fde-len4.dump'] = jit_header() + jit_unwind(eh) + jit_load(0x4000, 16, b'f')
    # An unwinding-info record with no data: memcpy from and to NULL (UB).
    files['crash-empty-unwind.dump'] = jit_header() + jit_unwind(b'') + jit_load(0x5000, 16, b'g')
    for name, b in files.items():
        open(os.path.join(out, name), 'wb').write(b)
        print(f'  jitdump/{name:<27} {len(b):6d}')


def script(out):
    files = {}
    files['simple.txt'] = (b'python3 1234/1234 [000] 100.000001:     250000 cpu-clock:ppp: \n'
                           b'\t    55d0c0a0 fib+0x10 (/usr/bin/python3.11)\n'
                           b'\t    55d0c0b0 main+0x20 (/usr/bin/python3.11)\n'
                           b'\tffffffff8103ce3b native_write_msr+0xb ([kernel.kallsyms])\n\n'
                           b'python3 1234/1235 [001] 100.000002:     250000 cpu-clock:ppp: \n'
                           b'\t    7f0000001000 py::f:/x.py (/tmp/perf-1234.map)\n'
                           b'\t    55d0c0c0 [unknown] ([unknown])\n\n')
    files['odd-lines.txt'] = (b'# comment\n\na b 1/0 1.0: cycles: \n\t1 x->y->z (inlined)\n'
                              b'sp  ace 12/ 2.0: 7 cycles:\n\tzz (f) (m(o)d)\n\n'
                              b'java 5//6 3.0: cycles:  prev_comm=x\n\t1 Lorg/x/Y;.m (/j)\n\n'
                              b'kworker/u8:2-ev 0/0 4.0: 1 sched:sched_switch: \n\t1 f ()\n\n')
    # NUL bytes in the event name: the filter was copied short (strndup)
    # and compared past its end; the fold dropped the second sample.
    files['crash-nul-event.txt'] = (b'zz 1 1.0: 10 cpu\0clock: \n\t1 main (/x)\n\n'
                                    b'zz 1 1.0: 10 cpu\0clock: \n\t1 main (/x)\n\n')
    files['long-line.txt'] = b'a 1 1.0: 1 c: \n\t1 ' + b'f' * 5000 + b' (/m)\n\n'
    for name, b in files.items():
        open(os.path.join(out, name), 'wb').write(b)
        print(f'  script/{name:<28} {len(b):6d}')


if __name__ == '__main__':
    kind, outdir = sys.argv[1], sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    {'jitdump': jitdump, 'script': script}[kind](outdir)
