"""jinja2: templates with inheritance, macros, loops and filters.
usage: jinja2_render.py SECONDS"""
import sys
import time

import jinja2

TEMPLATES = {
    'base.html': '<html><head><title>{% block title %}{% endblock %}</title></head>'
                 '<body>{% block body %}{% endblock %}</body></html>',
    'macros.html': '{% macro row(item, loop) %}<tr class="{{ loop.cycle("odd", "even") }}">'
                   '<td>{{ loop.index }}</td><td>{{ item.name|title|e }}</td>'
                   '<td>{{ "%.2f"|format(item.price) }}</td>'
                   '<td>{{ item.tags|join(", ")|upper }}</td></tr>{% endmacro %}',
    'page.html': '{% extends "base.html" %}{% import "macros.html" as m %}'
                 '{% block title %}{{ title|truncate(20) }}{% endblock %}'
                 '{% block body %}{% for group in items|groupby("kind") %}<h2>{{ group.grouper }}</h2>'
                 '<table>{% for item in group.list|sort(attribute="price") %}{{ m.row(item, loop) }}'
                 '{% endfor %}</table>{% endfor %}<p>{{ items|sum(attribute="price")|round(2) }}</p>'
                 '{% endblock %}',
}


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3
    env = jinja2.Environment(loader=jinja2.DictLoader(TEMPLATES), autoescape=True)
    items = [{'name': f'item <{i}>', 'price': (i * 37 % 101) / 3, 'kind': f'k{i % 7}',
              'tags': [f't{j}' for j in range(i % 5)]} for i in range(400)]
    end = time.time() + seconds
    n = size = 0
    while time.time() < end:
        # a new environment now and then: the compiler runs too, not only the cache
        if n % 20 == 0:
            env = jinja2.Environment(loader=jinja2.DictLoader(TEMPLATES), autoescape=True)
        size += len(env.get_template('page.html').render(title=f'Page {n}', items=items))
        n += 1
    print(f'jinja2: {n} pages, {size} bytes')


main()
