#!/usr/bin/env python3
"""Round trip through libpymarshal, judged by real Pythons.

usage: marshal_roundtrip.py TOOL WORKDIR [PROFILE ...]

1. Every installed Python (2.7, 3.6-3.13, PyPy) writes a set of sample
   values with every marshal version it knows (GEN below).
2. TOOL (marshal_rt_tool) decodes each sample, encodes it again in
   versions 4, 3 and 2, and checks decode(encode(decode(x))) == decode(x).
3. The Python that wrote a sample loads our output and compares it with
   what it loads from its own bytes: equal values of the same types, and
   the same bytes when it marshals both again (so sharing and interning
   survived). Python 2.7 also loads our version-2 output of the Python 3
   samples that Python 2 can represent.
PROFILE files are checked the same way, by the Python named in their file
name (fib-cpython3.12-profile.prof: 3.12).
Exit 0 ok, 1 failure, 77 when no Python is installed (test skipped).
"""
import glob
import os
import subprocess
import sys

GEN = r'''
import marshal, sys
out, tag = sys.argv[1], sys.argv[2]
PY3 = sys.version_info[0] >= 3
vals = []
def add(name, v, portable=True, cyclic=False):
    vals.append((name, v, portable, cyclic))
for v in (None, True, False, Ellipsis, StopIteration):
    add('single', v)
ints = [0, 1, -1, 255, 32767, 32768, 2**30, 2**31 - 1, -2**31, 2**31, -2**31 - 1,
        2**40, -2**45, 2**62, 2**63 - 1, -2**63, 2**63, -2**63 - 1, 2**64, 10**40, -10**40]
add('ints', tuple(ints))
for i in ints:
    add('int', i)
add('floats', (0.0, -0.0, 1.5, -2.25, 0.1, 1e300, 5e-324, 1e16, float('inf'), float('-inf')))
add('complex', (1+2j, -0.5j, complex(float('inf'), -0.0)))
add('bytes', (b'', b'abc', b'\x00\xff' * 10, b'x' * 300), portable=False)
strs = [u'', u'abc', u'caf\xe9', u'\u20ac uro', u'\U0001f600', u'a' * 300, u'\xe9' * 300,
        u'tab\tnl\n', u'\u0416\u043a']
if PY3:
    strs.append(u'\ud800 lone')
add('strs', tuple(strs), portable=False)
add('tuples', ((), (1,), tuple(range(300)), ((1, 2), (3, (4, (5,))))))
add('lists', ([], [1, [2, [3, []]]], list(range(1000))))
add('dicts', ({}, {1: 2, u'a': [1, 2], (1, 2): None}, dict((i, str(i)) for i in range(50))))
add('sets', (set(), set([1, 2, 3]), frozenset(), frozenset([1, u'x', (2, 3)])))
shared = [1, 2]
s = u'shared string'
add('shared', (shared, shared, [shared, (shared,)], s, s, 2**70, 2**70))
big = 2**100
add('shared_big', [big, big, -big])
nest = None
for i in range(300):
    nest = [nest, i]
add('nested', nest)
cyc = []
cyc.append(cyc)
add('cyclic_list', cyc, portable=False, cyclic=True)
d = {}
d[u'me'] = d
add('cyclic_dict', (d, d), portable=False, cyclic=True)
fs = frozenset([1, 2])
add('shared_frozenset', (fs, [fs], fs), portable=False)
src = 'def f(a, b=2, *c, **d):\n    x = a + 1\n    def g(y):\n        return x + y\n    return g(b), u"caf\\xe9", 1.5, (1, 2)\n'
code = compile(src, 'sample.py', 'exec')
add('code', code, portable=False)
add('code_pair', (code, code), portable=False)
pstats_like = {}
for i in range(40):
    key = (u'/path/mod%d.py' % (i % 3), i, u'func%d' % i)
    pstats_like[key] = (i, i + 1, 0.5 * i, 1.25 * i, {key: (1, 1, 0.1, 0.2)})
add('pstats_like', pstats_like)
n = 0
for name, v, portable, cyclic in vals:
    for ver in range(0, marshal.version + 1):
        if cyclic and ver < 3:
            continue
        data = marshal.dumps(v, ver)
        f = open('%s/%s-%03d-%s-v%d%s.bin' % (out, tag, n, name, ver,
                                             '-portable' if portable else ''), 'wb')
        f.write(data)
        f.close()
    n += 1
'''

VERIFY = r'''
import marshal, sys
bad = 0
def same(a, b):
    if type(a) is not type(b):
        return False
    try:
        if marshal.dumps(a) == marshal.dumps(b):
            return True
    except Exception:
        pass
    try:
        return a == b
    except RuntimeError:
        return repr(a) == repr(b)
for line in sys.stdin.read().splitlines():
    orig, ours, need_orig = line.split('\t')
    try:
        a = marshal.loads(open(orig, 'rb').read())
    except Exception:
        if need_orig == '1':
            print('%s: cannot load the original' % orig)
            bad += 1
        continue
    try:
        b = marshal.loads(open(ours, 'rb').read())
    except Exception as e:
        print('%s: cannot load our output: %r' % (ours, e))
        bad += 1
        continue
    if not same(a, b):
        print('%s: loads to a different value' % ours)
        bad += 1
print('checked')
sys.exit(1 if bad else 0)
'''

LOADS = r'''
import marshal, sys
bad = 0
for path in sys.stdin.read().splitlines():
    try:
        marshal.loads(open(path, 'rb').read())
    except Exception as e:
        print('%s: %r' % (path, e))
        bad += 1
sys.exit(1 if bad else 0)
'''


def pythons():
    found = []
    root = os.path.expanduser('~/.pyenv/versions')
    for exe in sorted(glob.glob(os.path.join(root, '*', 'bin', 'python'))):
        ver = os.path.basename(os.path.dirname(os.path.dirname(exe)))
        if ver[:1].isdigit():
            found.append(('cpython' + '.'.join(ver.split('.')[:2]), exe))
    for name in ('pypy3',):
        for d in os.environ.get('PATH', '').split(os.pathsep):
            exe = os.path.join(d, name)
            if os.access(exe, os.X_OK):
                found.append(('pypy3', exe))
                break
    return found


def run(cmd, stdin=None):
    p = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True)
    return p.returncode, p.stdout


def main():
    tool, work = sys.argv[1], sys.argv[2]
    profiles = sys.argv[3:]
    pys = pythons()
    if not pys:
        print('no Python found: skipped')
        return 77
    os.makedirs(work, exist_ok=True)
    for old in glob.glob(os.path.join(work, '*')):
        os.remove(old)
    failures = 0
    copies = []
    for prof in profiles:
        dst = os.path.join(work, 'profile-' + os.path.basename(prof))
        with open(prof, 'rb') as f, open(dst, 'wb') as g:
            g.write(f.read())
        copies.append(dst)
    profiles = copies
    samples = {}  # tag -> list of sample paths
    for tag, exe in pys:
        rc, out = run([exe, '-c', GEN, work, tag])
        if rc != 0:
            print('%s: sample generation failed:\n%s' % (tag, out))
            failures += 1
        samples[tag] = sorted(glob.glob(os.path.join(work, tag + '-*.bin')))
    checks = {tag: [] for tag, _ in pys}
    py2_loads = []
    outputs = 0
    failed = set()
    everything = [p for paths in samples.values() for p in paths]
    for ver in (4, 3, 2):
        todo = [p for p in everything + profiles if not (ver == 2 and 'cyclic' in p)]
        for k in range(0, len(todo), 200):
            rc, msg = run([tool, str(ver), '.v%d.out' % ver] + todo[k:k + 200])
            outputs += len(todo[k:k + 200])
            if rc != 0:
                print(msg.strip())
                failures += 1
                failed.update(line.split(':')[0] for line in msg.splitlines())
    for tag, paths in samples.items():
        for path in paths:
            for ver in (4, 3, 2):
                out = '%s.v%d.out' % (path, ver)
                if path in failed or (ver == 2 and 'cyclic' in path):
                    continue
                if ver >= 3 and tag == 'cpython2.7':
                    continue  # Python 2 reads no references
                checks[tag].append('%s\t%s\t1' % (path, out))
                if ver == 2 and tag != 'cpython2.7' and path.endswith('-portable.bin'):
                    py2_loads.append(out)
    for prof in profiles:
        for ver in (4, 2):
            out = '%s.v%d.out' % (prof, ver)
            if prof in failed:
                continue
            # Only the writer's own Python: a foreign code object can crash
            # an interpreter that loads it.
            for tag, _ in pys:
                if tag not in os.path.basename(prof) or (ver == 4 and tag == 'cpython2.7'):
                    continue
                checks[tag].append('%s\t%s\t1' % (prof, out))
    nchecks = 0
    for tag, exe in pys:
        if not checks[tag]:
            continue
        nchecks += len(checks[tag])
        rc, out = run([exe, '-c', VERIFY], '\n'.join(checks[tag]) + '\n')
        if rc != 0:
            print('%s (exit %d):\n%s' % (tag, rc, out))
            failures += 1
    py2 = [exe for tag, exe in pys if tag == 'cpython2.7']
    if py2 and py2_loads:
        rc, out = run([py2[0], '-c', LOADS], '\n'.join(py2_loads) + '\n')
        if rc != 0:
            print('Python 2.7 cannot load our version-2 output:\n%s' % out)
            failures += 1
    print('%d interpreters, %d samples, %d encodings, %d interpreter checks, %d loads in 2.7, '
          '%d failures' % (len(pys), sum(len(p) for p in samples.values()), outputs, nchecks,
                           len(py2_loads), failures))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
