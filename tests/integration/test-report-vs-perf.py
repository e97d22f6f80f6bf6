#!/usr/bin/env python3
"""perf is the oracle: on files recorded by `perf record` at test time,
pyperf-report's per-(comm, dso, sym) sample counts equal perf report's row
for row, its folded stacks equal the folding of `perf script`, and its text
reports equal perf report --stdio's.

Where pyperf differs from perf on purpose, cut stacks: pyperf puts them
under a [truncated] root (perf shows them from the outermost frame found,
e.g. the garbage address a frame-pointer chain ends in without frame
pointers). The comparisons with perf use --no-truncated-root, and check
that the default output differs from that by the [truncated] frames only."""
import os
import shutil
from lib.common import (artifacts, check, compare_rows, compare_text, dso_paths, fold_script, helper, main,
                        perf_record, plt_normalized_folded, pyperf_report, python, require_perf, tmpdir,
                        without_truncated_root, workload)

def compare_collapsed(name, data, *flags, fields=None):
    opt = {'kernel': '--kernel', 'addrs': '--addrs', 'pid': '--show-pid', 'tid': '--show-tid'}
    if 'pid' in flags or 'tid' in flags:
        fields = 'comm,pid,tid,time,event,ip,sym,dso'
    theirs = fold_script(data, *flags, fields=fields)
    args = ['--view', 'native', '-i', data, '--collapsed', *[opt[f] for f in flags]]
    ours = pyperf_report(*args, '--no-truncated-root').stdout
    rooted = pyperf_report(*args).stdout
    cut = sum(int(ln.rsplit(' ', 1)[1]) for ln in rooted.splitlines() if ';[truncated];' in ln)
    check(without_truncated_root(rooted) == without_truncated_root(ours),
          f'{name}: collapsed {"+".join(flags) or "plain"} differs from --no-truncated-root by the '
          f'[truncated] root of {cut} cut samples only')
    if theirs != ours:
        # Two differences perf 6.1 makes, each proven, alone or together:
        # PLT stubs named otherwise (equal by their addresses), and samples
        # whose callchain it drops (an invalid context in the chain, a fork
        # child's first sample): its script prints them without a frame
        # where ours shows the sampled one (perf report still counts its
        # symbol, and the per-symbol rows agree). Such a frameless stack
        # matches single-frame stacks of ours with the same prefix and count.
        paths = dso_paths(data)
        a = plt_normalized_folded(fold_script(data, 'addrs', *flags, fields=fields), paths)
        b = plt_normalized_folded(pyperf_report('--view', 'native', '-i', data, '--collapsed', '--addrs',
                                                '--no-truncated-root', *[opt[f] for f in flags]).stdout,
                                  paths)
        plt_only = a == b
        bare = 0
        for k in [k for k in a if ';' not in k and a[k] != b.get(k, 0)]:
            need = a[k] - b.get(k, 0)
            for x in [x for x in b if x.count(';') == 1 and x.startswith(k + ';')]:
                take = max(0, min(need, b[x] - a.get(x, 0)))  # only what perf lacks
                b[x] -= take
                need -= take
                bare += take
                if not b[x]:
                    del b[x]
            a[k] = b.get(k, 0) + need  # what is left unmatched stays a difference
        a = +a
        if a == +b:
            print(f'  note: {name}: collapsed {flags} differs from perf 6.1 in PLT stub names'
                  + ('' if plt_only else f' and {bare} sample(s) perf script printed without frames')
                  + ' only')
            theirs = ours
    ok = check(theirs == ours and theirs,
               f'{name}: collapsed {"+".join(flags) or "plain"} equals folded perf script '
               f'({len(theirs.splitlines())} stacks)')
    if not ok:
        a, b = set(theirs.splitlines()), set(ours.splitlines())
        print('    only perf:', sorted(a - b)[:5])
        print('    only ours:', sorted(b - a)[:5])
        keep = os.path.join(artifacts(), os.path.basename(data))
        shutil.copy(data, keep)
        print(f'    recording kept as {keep}')


def test():
    require_perf()
    d = tmpdir()
    try:
        cp = helper('callpaths')
        # C with frame pointers: threads and forked children.
        data = perf_record(f'{d}/c.data', [cp, '-t', '1', '-f', '1', '1.0'])
        compare_rows('C fp', data)
        for flags in ((), ('kernel',), ('addrs',), ('pid',), ('tid',)):
            compare_collapsed('C fp', data, *flags)
        for args in (('--no-children',), ('--hierarchy',), ('--hierarchy', '--sort', 'comm,dso,sample'),
                     ('--no-children', '--sort', 'dso,sym'), ('--no-children', '-g', 'folded'),
                     ('--no-children', '-g', 'flat'), ('--no-children', '-g', 'caller'),
                     ('--no-children', '--sort', 'pid,sym', '-n'), ('--sort', 'comm,dso', '-g', 'none')):
            compare_text('C fp', data, *args)
        # With Children, perf orders equal entries of different threads by
        # the shape of its sort tree; one thread keeps the order defined.
        data = perf_record(f'{d}/c1.data', [cp, '0.5'])
        for args in ((), ('-g', 'folded'), ('-n', '--sort', 'pid,sym')):
            compare_text('C fp, one thread', data, *args)

        # A fixed period (perf record -c): samples carry no PERIOD field.
        data = perf_record(f'{d}/period.data', [cp, '0.3'], args=('-g', '-c', '500000'))
        compare_rows('fixed period', data)
        compare_text('fixed period', data, '--hierarchy')

        # Several events at once, most sample_type bits, tracepoint raw data.
        data = perf_record(f'{d}/many.data', [cp, '0.5'],
                           args=('-e', 'cpu-clock', '-e', 'sched:sched_switch', '-g', '-d',
                                 '--phys-data', '--data-page-size', '--code-page-size',
                                 '--sample-cpu', '-P', '-W', '--intr-regs=ax,bx',
                                 '--user-regs=ax,sp', '-R'))
        compare_rows('many sample types', data)
        # stackcollapse-perf.pl keeps the first event by the name that ends
        # the header line; perf script ends tracepoint headers with the
        # trace text instead, so the script folds sched_switch samples in
        # with cpu-clock ones. pyperf folds the first event only: compare
        # on perf script output without the trace field.
        compare_collapsed('many sample types', data, fields='comm,tid,time,event,ip,sym,dso')
        compare_text('many sample types', data, '--hierarchy')

        # Compressed records (perf record -z).
        data = perf_record(f'{d}/z.data', [cp, '0.5'], args=('-g', '-z'))
        compare_rows('compressed', data)
        compare_collapsed('compressed', data)

        # DWARF mode: stack copies and registers in every sample. Until
        # pyperf unwinds them, the self counts must still agree.
        data = perf_record(f'{d}/dwarf.data', [cp, '0.5'], args=('--call-graph', 'dwarf,4096'))
        compare_rows('dwarf samples', data)

        # Python 3.12 -X perf: JIT maps, threads, forked workers.
        py = python('3.12')
        data = perf_record(f'{d}/fib.data', [py, '-X', 'perf', workload('fib.py'), '24', '2'])
        compare_rows('python3.12 fib', data)
        compare_collapsed('python3.12 fib', data)
        compare_collapsed('python3.12 fib', data, 'kernel')
        compare_text('python3.12 fib', data, '--no-children')
        compare_text('python3.12 fib', data, '--hierarchy')
        data = perf_record(f'{d}/threads.data', [py, '-X', 'perf', workload('threads.py'), '2000000'])
        compare_rows('python3.12 threads', data)
        compare_collapsed('python3.12 threads', data, 'tid')
        data = perf_record(f'{d}/mp.data', [py, '-X', 'perf', workload('mp_pool.py'), '4', '300000'])
        compare_rows('python3.12 multiprocessing', data)
        compare_collapsed('python3.12 multiprocessing', data, 'pid')
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == '__main__':
    main(test)
