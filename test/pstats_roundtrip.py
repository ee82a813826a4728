#!/usr/bin/env python3
"""pstats_write_pstats round trip: every fixture profile is rewritten by
`pstats2callgrind --format pstats` and the Python that wrote the fixture
prints its reports (print_stats under three sorts, print_callers,
print_callees) of the original and of the rewrite; they must be identical.

usage: pstats_roundtrip.py PSTATS2CALLGRIND REPO_ROOT
Skips (exit 77) when no Python is installed. Code-object keys are written
with the code's name as a str (docs/pstats.md), so their printed names are
compared after replacing `<code object NAME at 0x..., ...>` by NAME.
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile

PYENV = '/root/.pyenv/versions'
VERSIONS = {'2.7': '2.7.18', '3.6': '3.6.15', '3.7': '3.7.16', '3.8': '3.8.18',
            '3.9': '3.9.18', '3.10': '3.10.13', '3.11': '3.11.7', '3.12': '3.12.1',
            '3.13': '3.13.0'}

# Runs under the target Python (2.7 or 3.x): prints both reports.
REPORT = r'''
import io, re, sys
sys.path.insert(0, sys.argv[3])
py2 = sys.version_info[0] == 2
if py2:
    import py2_ordered
    import pstats
    Stats = py2_ordered.OrderedStats
else:
    import pstats
    Stats = pstats.Stats
code = re.compile(r'<code object (\S+) at 0x[0-9a-f]+, file "[^"]*", line \d+>')
def report(path):
    out = io.BytesIO() if py2 else io.StringIO()
    views = [('calls', 'print_stats'), ('time', 'print_stats'), ('cumulative', 'print_stats'),
             ('cumulative', 'print_callers'), ('cumulative', 'print_callees')]
    for key, view in views:
        s = Stats(path, stream=out)
        s.files = []
        try:
            getattr(s.sort_stats(key), view)()
        except (KeyError, TypeError) as e:  # Python's own failures (docs/fixtures.md)
            out.write('%s failed: %s\n' % (view, type(e).__name__))
    return out.getvalue()
a, b = report(sys.argv[1]), report(sys.argv[2])
if code.search(a):  # names of code keys change length: compare unpadded
    a, b = [re.sub(' +', ' ', code.sub(r'\1', t)) for t in (a, b)]
if a != b:
    al, bl = a.split('\n'), b.split('\n')
    for i in range(max(len(al), len(bl))):
        x = al[i] if i < len(al) else '<missing>'
        y = bl[i] if i < len(bl) else '<missing>'
        if x != y:
            sys.stdout.write('line %d\n  original: %r\n  rewrite:  %r\n' % (i + 1, x, y))
            break
    sys.exit(1)
'''


def python_for(name):
    if 'cpython2.7' in name or name.startswith('synth-py2'):
        return os.path.join(PYENV, VERSIONS['2.7'], 'bin', 'python')
    for v in sorted(VERSIONS, key=len, reverse=True):
        if 'cpython%s-' % v in name:
            return os.path.join(PYENV, VERSIONS[v], 'bin', 'python')
    if 'pypy3' in name:
        return shutil.which('pypy3')
    if 'yappi' in name or name == 'fibonacci.prof':
        return '/usr/bin/python3'
    return os.path.join(PYENV, VERSIONS['3.11'], 'bin', 'python')


def loads_in(py, path):
    code = 'import pstats, sys\npstats.Stats(sys.argv[1]).sort_stats("calls")'
    return subprocess.run([py, '-c', code, path], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0


def main():
    exe, root = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    files = sorted(glob.glob(os.path.join(root, 'fixtures', 'profiles', '*.prof')))
    files.append(os.path.join(root, 'fixtures', 'fibonacci.prof'))
    gen = os.path.join(root, 'fixtures', 'generate')
    ok = failed = skipped = 0
    with tempfile.TemporaryDirectory(prefix='roundtrip-') as tmp:
        for path in files:
            name = os.path.basename(path)
            py = python_for(name)
            if not py or not os.path.exists(py) or not loads_in(py, path):
                skipped += 1
                continue
            out = os.path.join(tmp, name)
            p = subprocess.run([exe, '--format', 'pstats', '-o', out, path],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            if p.returncode != 0:
                print('FAIL %s: pstats2callgrind exit %d: %s' % (name, p.returncode,
                                                               p.stderr.decode().strip()))
                failed += 1
                continue
            r = subprocess.run([py, '-c', REPORT, path, out, gen], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
            if r.returncode != 0:
                print('FAIL %s (%s):\n%s' % (name, py, r.stdout.decode('utf-8', 'replace')))
                failed += 1
            else:
                ok += 1
    print('%d rewritten profiles report identically, %d failed, %d skipped '
          '(no Python loads them)' % (ok, failed, skipped))
    if ok == 0 and failed == 0:
        return 77
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
