#!/usr/bin/env python3
"""Write the paths corpus' code-object seeds (test/fuzz/paths_corpus/code-*.bin):
small pstats dicts keyed by (file, line, code object), as the profile module
writes them, marshalled by every CPython 3 that pyenv has (each writes its own
code layout: 3.6-3.7, 3.8-3.10, 3.11+). They exercise what the loader's fast
path reads of code objects (pstats_fast_code.c) and where it must leave the
file to the general loader: code objects named again by reference, shared
bytecode, strings shared between keys and code objects, nested code,
frozensets, and a NaN or a big int among the constants. Run from anywhere;
rerun when adding cases."""
import os
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'paths_corpus')

GEN = r'''
import marshal, sys
out, tag = sys.argv[1], sys.argv[2]
src = "def f(x):\n    return x in {1, 2} or (x, 'f')\n"
mod = compile(src, 'm.py', 'exec')
f = [c for c in mod.co_consts if hasattr(c, 'co_code')][0]
nan = compile('x = float("nan") if 0 else 1e308 * 10 - 1e308 * 10', 'n.py', 'exec')
big = compile('x = 1208925819614629174706176', 'b.py', 'exec')  # 2**80: a long
try:
    g = f.replace(co_name='g')          # 3.8+: the same bytecode object shared
except AttributeError:
    g = compile("def g(x):\n    return x\n", 'm.py', 'exec').co_consts[0]
root = ('profile', 0, 'profiler')
kmod = ('profile', 0, mod)
kf = ('m.py', 1, f)
kname = ('m.py', 1, 'f')               # 'f': the same interned str as f.co_name
cases = {
    'module': {root: (0, 0, 0, 0, {}), kmod: (1, 1, 0.5, 1.5, {root: 1}),
               kname: (2, 2, 0.25, 0.25, {kmod: 2})},
    'nested': {root: (0, 0, 0, 0, {}), kmod: (1, 1, 0.5, 1.5, {root: 1}),
               kf: (3, 4, 0.125, 0.5, {kmod: 3, kf: 1})},
    'shared': {root: (0, 0, 0, 0, {}), kf: (1, 1, 0.5, 0.5, {root: 1}),
               ('m.py', 1, g): (2, 2, 0.5, 0.5, {kf: (2, 2, 0.5, 0.5)})},
    'codefirst': {kmod: (1, 1, 0.5, 1.5, {root: 1}), root: (0, 0, 0, 0, {kmod: 1})},
    'nan': {root: (0, 0, 0, 0, {}), ('n.py', 0, nan): (1, 1, 0.5, 0.5, {root: 1})},
    'bigint': {root: (0, 0, 0, 0, {}), ('b.py', 0, big): (1, 1, 0.5, 0.5, {root: 1})},
}
for name, d in cases.items():
    with open('%s/code-%s-%s.bin' % (out, tag, name), 'wb') as fh:
        fh.write(marshal.dumps(d))
'''


def pythons():
    root = os.path.expanduser('~/.pyenv/versions')
    if not os.path.isdir(root):
        return []
    found = []
    for v in sorted(os.listdir(root)):
        exe = os.path.join(root, v, 'bin', 'python')
        if v.startswith('3.') and os.access(exe, os.X_OK):
            found.append((v, exe))
    return found


def main():
    os.makedirs(OUT, exist_ok=True)
    for version, exe in pythons():
        tag = 'cpython' + '.'.join(version.split('.')[:2])
        subprocess.run([exe, '-c', GEN, OUT, tag], check=True)


if __name__ == '__main__':
    main()
