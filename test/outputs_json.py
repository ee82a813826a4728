#!/usr/bin/python3
"""--format json on every fixture profile and every pstats file of
../shared/real (when present): each output must be valid JSON for Python's
json module, valid against docs/schema/pstats.schema.json (python3-jsonschema),
and hold exactly the numbers and names that the profile's own Python reads
from it (marshal.load by the interpreter that wrote it: ints equal, floats the
same double, names the same bytes, callers the same, in file order).

usage: outputs_json.py PSTATS2CALLGRIND REPO_ROOT
"""
import csv
import glob
import json
import os
import re
import subprocess
import sys

import jsonschema

PYENV = '/root/.pyenv/versions'
VERSIONS = {'2.7': '2.7.18', '3.6': '3.6.15', '3.7': '3.7.16', '3.8': '3.8.18',
            '3.9': '3.9.18', '3.10': '3.10.13', '3.11': '3.11.7', '3.12': '3.12.1',
            '3.13': '3.13.0'}

# Run by the profile's own Python: the dict as canonical JSON text (every
# number as repr/str text, every name as the hex of its bytes).
DUMP = r'''
import json, marshal, sys
PY2 = sys.version_info[0] == 2
def hx(s):
    if not isinstance(s, bytes):
        s = s.encode('utf-8', 'surrogatepass')
    return ''.join('%02x' % c for c in bytearray(s))
def num(v):
    if isinstance(v, float):
        return 'f' + repr(v)
    return 'i' + str(int(v))
def key(k):
    f, l, n = k
    if hasattr(n, 'co_name'):
        return [hx(f), l, hx(n.co_name), hx(n.co_filename), n.co_firstlineno]
    return [hx(f), l, hx(n)]
sys.path.insert(0, sys.argv[2])
if PY2:
    import py2_ordered
    with open(sys.argv[1], 'rb') as fh:
        data = py2_ordered.Reader(fh.read()).obj(top=True)
else:
    with open(sys.argv[1], 'rb') as fh:
        data = marshal.load(fh)
out = []
for k, v in data.items():
    if k == ('__sampled__',):
        continue
    cc, nc, tt, ct, callers = v
    cl = []
    for ck, cv in callers.items():
        cl.append([key(ck), [num(x) for x in cv] if isinstance(cv, tuple) else num(cv)])
    out.append([key(k), [num(cc), num(nc), num(tt), num(ct)], cl])
sys.stdout.write(json.dumps(out))
'''


def python_for(versions):
    for v in ['3.11', '3.12', '3.13', '3.10', '3.9', '3.8', '3.7', '3.6', '2.7']:
        if v in versions:
            py = os.path.join(PYENV, VERSIONS[v], 'bin', 'python')
            if os.path.exists(py):
                return py
    return None


def fixture_python(name):
    """The interpreter that wrote a fixture, from its name."""
    if 'pypy3.9' in name:
        return 'pypy3'
    m = re.search(r'cpython(\d\.\d+)', name)
    if m:
        return python_for([m.group(1)])
    if name.startswith('synth-py2') or 'cpython2.7' in name:
        return python_for(['2.7'])
    return python_for(['3.11'])


def hexs(s):
    return s.encode('utf-8', 'surrogatepass').hex()


def ours_name(entry, field):
    if field + '_bytes' in entry:
        return entry[field + '_bytes']
    return hexs(entry[field])


def ours_num(v):
    if isinstance(v, str):
        return 'f' + {'NaN': 'nan', 'Infinity': 'inf', '-Infinity': '-inf'}[v]
    if isinstance(v, float):
        return 'f' + repr(v)
    return 'i' + str(v)


def ours_key(entry):
    k = [ours_name(entry, 'file'), entry['line'], ours_name(entry, 'name')]
    if 'code' in entry:
        c = entry['code']
        k += [c['filename_bytes'] if 'filename_bytes' in c else hexs(c['filename']),
              c['firstlineno']]
    return k


def compare(doc, want):
    """Differences between our JSON and the dict the profile's Python read."""
    keys = {}
    for e in doc['functions'] + doc['callers_only']:
        keys[e['id']] = ours_key(e)
    got = []
    for e in doc['functions']:
        cl = []
        for c in e['callers']:
            v = ours_num(c['count']) if 'count' in c else [ours_num(c[f]) for f in
                                                          ('nc', 'cc', 'tt', 'ct')]
            cl.append([keys[c['id']], v])
        got.append([keys[e['id']], [ours_num(e[f]) for f in ('cc', 'nc', 'tt', 'ct')], cl])
    if len(got) != len(want):
        return ['%d functions, Python has %d' % (len(got), len(want))]
    bad = []
    for g, w in zip(got, want):
        if g[0] != w[0] or g[1] != w[1] or sorted(map(json.dumps, g[2])) != sorted(
                map(json.dumps, w[2])):
            bad.append('function %r: got %r, want %r' % (w[0], g, w))
            break
    return bad


def check(exe, root, path, py, validator):
    p = subprocess.run([exe, '--format', 'json', path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    if p.returncode != 0:
        return ['exit %d: %s' % (p.returncode, p.stderr.decode(errors='replace'))]
    try:
        doc = json.loads(p.stdout.decode('utf-8'))
    except ValueError as e:
        return ['not JSON: %s' % e]
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    if errors:
        return ['schema: %s at %s' % (errors[0].message, list(errors[0].path))]
    q = subprocess.run([py, '-c', DUMP, path, os.path.join(root, 'fixtures', 'generate')],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if q.returncode != 0:
        return ['%s cannot read it: %s' % (py, q.stderr.decode(errors='replace')[-300:])]
    return compare(doc, json.loads(q.stdout.decode('utf-8')))


def inputs(root):
    fx = os.path.join(root, 'fixtures')
    for path in sorted(glob.glob(os.path.join(fx, 'profiles', '*.prof')) +
                       glob.glob(os.path.join(fx, 'sampled', '*.prof')) +
                       [os.path.join(fx, 'fibonacci.prof')]):
        name = os.path.basename(path)
        if name == 'synth-empty.prof':
            continue
        yield path, fixture_python(name)
    real = os.path.normpath(os.path.join(root, '..', 'shared', 'real'))
    manifest = os.path.join(real, 'MANIFEST.tsv')
    if os.path.exists(manifest):
        with open(manifest, encoding='utf-8') as f:
            for row in csv.DictReader(f, delimiter='\t'):
                path = os.path.join(real, row['file'])
                if not row['kind'].startswith('other:') and os.path.exists(path):
                    yield path, python_for(row['loads_in'].split(','))


def main():
    exe, root = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    with open(os.path.join(root, 'docs', 'schema', 'pstats.schema.json')) as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    ok = failed = skipped = 0
    for path, py in inputs(root):
        if not py:
            skipped += 1
            continue
        bad = check(exe, root, path, py, validator)
        if bad:
            failed += 1
            print('FAIL %s (%s):\n  %s' % (os.path.basename(path), py, '\n  '.join(bad)))
        else:
            ok += 1
    print('%d profiles as JSON equal to what their Python reads, %d failed, %d skipped'
          % (ok, failed, skipped))
    return 1 if failed or ok == 0 else 0


if __name__ == '__main__':
    sys.exit(main())
