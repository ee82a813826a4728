#!/usr/bin/env python3
"""Real profiles from public repositories (../shared/real, never committed):
for every file that some installed Python's pstats loads (MANIFEST.tsv
`loads_in`), our --stats (three sorts), --callers and --callees must equal
that Python's report computed now (Python 2.7 files: 2.7's pstats over the
dict in file order, fixtures/generate/py2_ordered.py); every other file must
be refused with an error naming what it is.

usage: real_files.py PSTATS2CALLGRIND REPO_ROOT    (exit 77: no ../shared/real)
"""
import csv
import os
import re
import shutil
import subprocess
import sys

PYENV = '/root/.pyenv/versions'
VERSIONS = {'2.7': '2.7.18', '3.6': '3.6.15', '3.7': '3.7.16', '3.8': '3.8.18',
            '3.9': '3.9.18', '3.10': '3.10.13', '3.11': '3.11.7', '3.12': '3.12.1',
            '3.13': '3.13.0'}
VIEWS = [('stats', 'cumulative'), ('stats', 'tottime'), ('stats', 'calls'),
         ('callers', 'cumulative'), ('callees', 'cumulative')]
# what our error message must name, by MANIFEST kind
KINDS = {'gperftools': 'gperftools', 'hotshot': 'hotshot', 'pickle': 'pickle',
         'callgrind': 'callgrind', 'ghc': 'GHC', 'gprof': 'gprof',
         'stdout-capture': 'text report of pstats'}

REPORT = r'''
import sys
sys.path.insert(0, sys.argv[2])
if sys.version_info[0] == 2:
    import py2_ordered
    Stats = py2_ordered.OrderedStats
else:
    import pstats
    Stats = pstats.Stats
for spec in sys.argv[3:]:
    view, key = spec.split(':')
    sys.stdout.write('=== %s\n' % spec)
    sys.stdout.flush()
    try:
        s = Stats(sys.argv[1], stream=sys.stdout)
        getattr(s.sort_stats(key), 'print_' + view)()
    except (KeyError, TypeError) as e:
        sys.stdout.write('!!! python failed: %s\n' % type(e).__name__)
    sys.stdout.flush()
'''
ADDR = re.compile(rb' at 0x[0-9a-f]+, file ')


def python_for(loads_in):
    vs = loads_in.split(',')
    for v in ['3.11', '3.12', '3.13', '3.10', '3.9', '3.8', '3.7', '3.6', '2.7']:
        if v in vs:
            py = os.path.join(PYENV, VERSIONS[v], 'bin', 'python')
            if os.path.exists(py):
                return py
    return None


def split_views(out):
    parts, cur = {}, None
    if out.endswith(b'\n'):
        out = out[:-1]
    for line in out.split(b'\n'):
        if line.startswith(b'=== '):
            cur = line[4:].decode()
            parts[cur] = []
        elif cur:
            parts[cur].append(line)
    return {k: b'\n'.join(v) for k, v in parts.items()}


def check_profile(exe, root, path, py, env):
    specs = ['%s:%s' % v for v in VIEWS]
    p = subprocess.run([py, '-c', REPORT, path, os.path.join(root, 'fixtures', 'generate')]
                       + specs, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    want = split_views(p.stdout)
    bad = []
    for view, key in VIEWS:
        w = want.get('%s:%s' % (view, key), b'')
        if b'!!! python failed' in w:
            continue
        q = subprocess.run([exe, '--' + view, '--sort', key, path], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=env)
        got = ADDR.sub(b' at 0xADDR, file ', q.stdout)
        w = ADDR.sub(b' at 0xADDR, file ', w + b'\n')
        if q.returncode != 0 or got != w:
            g, x = got.split(b'\n'), w.split(b'\n')
            for i in range(max(len(g), len(x))):
                a = g[i] if i < len(g) else b'<missing>'
                b = x[i] if i < len(x) else b'<missing>'
                if a != b:
                    bad.append('%s --sort %s: line %d\n    got:  %r\n    want: %r'
                               % (view, key, i + 1, a, b))
                    break
            else:
                bad.append('%s --sort %s: exit %d %s' % (view, key, q.returncode,
                                                        q.stderr.decode().strip()))
    return bad


def main():
    exe, root = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    real = os.path.normpath(os.path.join(root, '..', 'shared', 'real'))
    manifest = os.path.join(real, 'MANIFEST.tsv')
    if not os.path.exists(manifest):
        print('no %s: skipped' % real)
        return 77
    env = dict(os.environ, TZ='UTC')
    with open(manifest, encoding='utf-8') as f:
        rows = list(csv.DictReader(f, delimiter='\t'))
    ok, failed, skipped = 0, 0, 0
    for row in rows:
        path = os.path.join(real, row['file'])
        if not os.path.exists(path):
            skipped += 1
            continue
        if row['kind'].startswith('other:'):
            need = [v for k, v in KINDS.items() if k in row['kind']]
            q = subprocess.run([exe, '--stats', path], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=env)
            msg = q.stderr.decode('utf-8', 'replace')
            if q.returncode == 0 or not need or need[0] not in msg:
                print('FAIL %s (%s): exit %d, %r' % (row['file'], row['kind'], q.returncode,
                                                     msg.strip()))
                failed += 1
            else:
                ok += 1
            continue
        py = python_for(row['loads_in'])
        if not py:
            skipped += 1
            continue
        bad = check_profile(exe, root, path, py, env)
        if bad:
            failed += 1
            print('FAIL %s (%s):\n  %s' % (row['file'], py, '\n  '.join(bad)))
        else:
            ok += 1
    print('%d real files as Python reports them (or named correctly), %d failed, %d skipped'
          % (ok, failed, skipped))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
