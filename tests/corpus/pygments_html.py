"""pygments: the standard library's sources highlighted to HTML.
usage: pygments_html.py SECONDS"""
import glob
import os
import sys
import time

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3
    files = sorted(glob.glob(os.path.join(os.path.dirname(os.__file__), '*.py')))
    lexer, fmt = PythonLexer(), HtmlFormatter(linenos=True)
    end = time.time() + seconds
    n = size = 0
    while time.time() < end:
        with open(files[n % len(files)], encoding='utf-8', errors='replace') as f:
            size += len(highlight(f.read(), lexer, fmt))
        n += 1
    print(f'pygments: {n} files, {size} bytes of HTML')


main()
