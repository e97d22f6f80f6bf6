"""docutils: a generated reST document to HTML, again and again.
usage: docutils_html.py SECONDS"""
import random
import sys
import time

import docutils.core


def document(sections=25, seed=1):
    rnd = random.Random(seed)
    words = ('profile stack frame unwind python interpreter sample kernel perf '
             'report record symbol thread process memory copy call graph').split()

    def sentence(n):
        return ' '.join(rnd.choice(words) for _ in range(n)).capitalize() + '.'

    out = ['=' * 40, 'A generated document', '=' * 40, '', '.. contents::', '']
    for s in range(sections):
        title = f'Section {s}: {sentence(3)[:-1]}'
        out += [title, '-' * len(title), '']
        for p in range(4):
            out += [' '.join(sentence(rnd.randint(6, 14)) for _ in range(4)) +
                    f' See [#f{s}x{p}]_ and *emphasis*, **strong**, ``literal``.', '']
        out += [f'* item {i}: {sentence(5)}' for i in range(6)] + ['']
        out += [f'{i}. {sentence(4)}' for i in range(1, 5)] + ['']
        out += ['+--------+--------------------+', '| key    | value              |',
                '+========+====================+']
        for i in range(4):
            out += [f'| k{i:<5}| {sentence(2)[:18]:<19}|', '+--------+--------------------+']
        out += ['', '.. code-block:: python', '', '    def f(x):', '        return x * 2', '']
        out += [f'.. [#f{s}x{p}] {sentence(6)}' for p in range(4)] + ['']
    return '\n'.join(out)


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3
    src = document()
    end = time.time() + seconds
    n = 0
    while time.time() < end:
        html = docutils.core.publish_string(src, writer_name='html',
                                            settings_overrides={'report_level': 5})
        n += 1
    print(f'docutils: {n} documents, {len(html)} bytes of HTML each')


main()
