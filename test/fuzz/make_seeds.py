#!/usr/bin/env python3
"""Write the fuzz seed corpus (test/fuzz/corpus/seed-*.bin): small values of
every kind marshalled by the Pythons installed (3.x with versions 0-4, 2.7
with 0-2 when present). Run from anywhere; rerun when adding kinds.
Findings of fuzzing runs are kept next to them as crash-*/finding-* files."""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'corpus')

GEN = r'''
import marshal, sys
out = sys.argv[1]
tag = sys.argv[2]
l = [1, 2]
cyc = []
cyc.append(cyc)
vals = [None, True, False, Ellipsis, StopIteration, 0, -1, 2**31, -2**40, 2**70, -2**64,
        1.5, float('inf'), -0.0, 1+2j, b'ab\x00', u'abc', u'caf\xe9\u20ac\U0001f600',
        (), (1, (2, u'x')), [1, [2, []]], {}, {u'k': [1, 2], 3: None}, set([1, 2]),
        frozenset([3]), (l, l, [l]), {('a.py', 1, 'f'): (1, 1, 0.5, 0.5, {})}]
if sys.version_info[0] >= 3:
    vals.append(u'\ud800')
    vals.append(cyc)
    def f(a, b=1, *c, **d):
        return lambda x: a + x
    vals.append(f.__code__)
for i, v in enumerate(vals):
    for ver in range(marshal.version + 1):
        try:
            data = marshal.dumps(v, ver)
        except ValueError:
            continue
        with open('%s/seed-%s-%02d-v%d.bin' % (out, tag, i, ver), 'wb') as fh:
            fh.write(data)
'''


def main():
    os.makedirs(OUT, exist_ok=True)
    pys = [('py3', sys.executable)]
    py2 = os.path.expanduser('~/.pyenv/versions/2.7.18/bin/python')
    if os.path.exists(py2):
        pys.append(('py27', py2))
    for tag, exe in pys:
        subprocess.check_call([exe, '-c', GEN, OUT, tag])


if __name__ == '__main__':
    main()
