#!/usr/bin/python3
"""--diff and --map-path against Python.

1. Pairs of fixture profiles (merged lists on either side, --strip-dirs):
   every row of `--diff BASE NEW --format json` must hold the numbers that
   Python's pstats.Stats(BASE...) and Stats(NEW...) hold for that function,
   the status (same / changed / new / gone) and the change new - base; the
   rows must come in the order each --sort key promises (computed here).
2. Every fixture and every pstats file of ../shared/real diffed with itself:
   every function "same", as many rows as the profile has functions; valid
   against docs/schema/pstats-diff.schema.json.
3. Every real profile with Windows file names mapped from its drive root
   (--map-path 'X:\\=/mnt/x'): each name on that drive, in any case and with
   either separator, becomes /mnt/x/REST with '/' separators; nothing else
   changes.

usage: outputs_diff.py PSTATS2CALLGRIND REPO_ROOT
"""
import csv
import glob
import json
import marshal
import math
import os
import pstats
import re
import subprocess
import sys

import jsonschema

F = 'fixtures/profiles/'
PAIRS = [
    ([F + 'fib-cpython3.11-cprofile.prof'], [F + 'fib-cpython3.12-cprofile.prof'], False),
    ([F + 'mix-cpython3.11-cprofile.prof'], [F + 'mix-cpython3.12-cprofile.prof'], False),
    ([F + 'fib-cpython3.11-cprofile.prof', F + 'fib-cpython3.12-cprofile.prof'],
     [F + 'fib-cpython3.13-cprofile.prof', F + 'fib-pypy3.9-cprofile.prof'], False),
    ([F + 'fib-cpython3.12-cprofile.prof'], [F + 'mix-cpython3.12-cprofile.prof'], True),
    ([F + 'mix-cpython3.11-profile.prof'], [F + 'mix-cpython3.12-profile.prof'], True),
    ([F + 'synth-bigcounts.prof'], [F + 'synth-inttimes.prof'], False),
    (['fixtures/sampled/tachyon-fib-100us.prof'], ['fixtures/sampled/tachyon-fib-100us-run2.prof'],
     False),
]
SORTS = ['cumulative', 'time', '+time', '-cumulative', 'calls%', '+tottime%', 'pcalls',
         'stdname', 'nfl']
FIELDS = ('cc', 'nc', 'tt', 'ct')


def run(exe, args):
    p = subprocess.run([exe] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise RuntimeError('exit %d: %s' % (p.returncode, p.stderr.decode(errors='replace')))
    return json.loads(p.stdout.decode('utf-8'))


def stats(files, strip):
    marker = ('__sampled__',)
    loaded = []
    for f in files:  # 3.11's pstats reads the sampled files once their marker is dropped
        s = pstats.Stats.__new__(pstats.Stats)
        with open(f, 'rb') as fh:
            d = marshal.load(fh)
        d.pop(marker, None)

        class Dump:
            def create_stats(self):
                pass
        dump = Dump()
        dump.stats = d
        s.__init__(dump)
        loaded.append(s)
    s = loaded[0]
    if len(loaded) > 1:
        s.add(*loaded[1:])
    if strip:
        s.strip_dirs()
    return s.stats


def norm(k):
    """A key as the diff pairs it: a code object by co_name, co_filename and
    co_firstlineno (Python would compare the whole code objects)."""
    f, l, n = k
    if hasattr(n, 'co_name'):
        return (f, l, ('code', n.co_name, n.co_filename, n.co_firstlineno))
    return k


def row_key(row):
    if 'code' in row:
        c = row['code']
        return (row['file'], row['line'], ('code', row['name'], c['filename'], c['firstlineno']))
    return (row['file'], row['line'], row['name'])


def label(k):
    return pstats.func_std_string(k)


def merged(st):
    out = {}
    for k, v in st.items():
        k = norm(k)
        out[k] = pstats.add_func_stats(out[k], v) if k in out else v
    return out


def check_pair(exe, base, new, strip):
    args = ['--diff', ','.join(base), ','.join(new), '--format', 'json']
    if strip:
        args.append('--strip-dirs')
    doc = run(exe, args)
    b, n = merged(stats(base, strip)), merged(stats(new, strip))
    want = {}
    for k in list(b) + [k for k in n if k not in b]:
        want[k] = (b.get(k), n.get(k))
    bad = []
    if doc['nfunctions'] != len(want) or len(doc['functions']) != len(want):
        return ['%d rows, Python has %d functions' % (len(doc['functions']), len(want))]
    for row in doc['functions']:
        bv, nv = want[row_key(row)]
        status = 'new' if bv is None else 'gone' if nv is None else (
            'same' if tuple(bv[:4]) == tuple(nv[:4]) else 'changed')
        if row['status'] != status:
            bad.append('%s: status %s, want %s' % (row['label'], row['status'], status))
        for side, v in (('base', bv), ('new', nv)):
            got = row[side]
            if (v is None) != (got is None) or (v and [got[f] for f in FIELDS] != list(v[:4])):
                bad.append('%s: %s %r, Python %r' % (row['label'], side, got, v and v[:4]))
        for i, f in enumerate(FIELDS):
            d = (nv[i] if nv else 0) - (bv[i] if bv else 0)
            if row['delta'][f] != d:
                bad.append('%s: delta %s %r, want %r' % (row['label'], f, row['delta'][f], d))
    return bad[:5]


def sort_value(row, key):
    """What a --sort key orders by, as a tuple that sorts ascending."""
    m = re.match(r'^([+-]?)([a-z]+)(%?)$', key)
    sign, word, rel = m.groups()
    if word in ('stdname', 'nfl'):
        return None
    f = {'cumulative': 'ct', 'time': 'tt', 'tottime': 'tt', 'calls': 'nc', 'pcalls': 'cc'}[word]
    if rel:
        v = row['percent'][f]
        if v is None:
            v = math.inf if row['delta'][f] > 0 else -math.inf
    else:
        v = row['delta'][f]
    v = float(v)
    return -(abs(v) if sign == '' else v if sign == '+' else -v)


def check_order(exe, base, new):
    bad = []
    # ties keep the rows' own order: base's dict order, then new's
    b, n = stats([base], False), stats([new], False)
    union = [label(k) for k in list(b) + [k for k in n if k not in b]]
    pos = {lab: i for i, lab in enumerate(union)}
    for key in SORTS:
        doc = run(exe, ['--diff', base, new, '--format', 'json', '--sort', key])
        rows = doc['functions']
        if key == 'stdname':
            want = sorted(rows, key=lambda r: (r['label'].encode('utf-8'), pos[r['label']]))
        elif key == 'nfl':
            want = sorted(rows, key=lambda r: (r['name'], r['file'], r['line'], pos[r['label']]))
        else:
            want = sorted(rows, key=lambda r: (sort_value(r, key), pos[r['label']]))
        if [r['label'] for r in rows] != [r['label'] for r in want]:
            bad.append('--sort %s: rows out of order' % key)
    return bad


def self_diff(exe, path, validator):
    ours = run(exe, ['--format', 'json', path])
    doc = run(exe, ['--diff', path, path, '--format', 'json'])
    errs = list(validator.iter_errors(doc))
    if errs:
        return ['schema: %s' % errs[0].message]
    if len(doc['functions']) != len(ours['functions']):
        return ['%d rows for %d functions' % (len(doc['functions']), len(ours['functions']))]
    if any(r['status'] != 'same' for r in doc['functions']):
        return ['a function differs from itself']
    return []


def windows_map(exe, path):
    doc = run(exe, ['--format', 'json', path])
    names = [f['file'] for f in doc['functions'] + doc['callers_only']]
    drives = [n[0] for n in names if re.match(r'^[A-Za-z]:[\\/]', n)]
    if not drives:
        return None
    d = drives[0]
    mapped = run(exe, ['--format', 'json', '--map-path', d + ':\\=/mnt/' + d.lower(), path])
    got = [f['file'] for f in mapped['functions'] + mapped['callers_only']]
    want = []
    for n in names:
        if re.match(r'^[%s%s]:([\\/]|$)' % (d.lower(), d.upper()), n):
            n = '/mnt/' + d.lower() + '/' + n[2:].lstrip('\\/').replace('\\', '/')
        want.append(n)
    # mapping may merge keys: compare the sets of names, and the totals
    if sorted(set(got)) != sorted(set(want)):
        diff = sorted(set(got) ^ set(want))[:3]
        return ['mapped names differ: %r' % diff]
    if mapped['totals'] != doc['totals']:
        return ['totals changed by mapping']
    return []


USAGE = [  # option combinations the program must refuse with exit status 2
    ['--diff', F + 'fib-cpython3.11-cprofile.prof'],
    ['--diff', F + 'fib-cpython3.11-cprofile.prof', F + 'fib-cpython3.12-cprofile.prof', '--stats'],
    ['--diff', F + 'fib-cpython3.11-cprofile.prof', F + 'fib-cpython3.12-cprofile.prof',
     '--format', 'pstats'],
    ['--diff', F + 'fib-cpython3.11-cprofile.prof', F + 'fib-cpython3.12-cprofile.prof',
     '--sort', '+name'],
    ['--diff', F + 'fib-cpython3.11-cprofile.prof', F + 'fib-cpython3.12-cprofile.prof',
     '--sort', 'cum'],
    ['--map-path', 'no-equals-sign', F + 'fib-cpython3.11-cprofile.prof'],
    ['--map-path', '=/x', F + 'fib-cpython3.11-cprofile.prof'],
    ['--format', 'json', '--parts', F + 'fib-cpython3.11-cprofile.prof'],
    ['--unit', 'samples', '-o', '-', F + 'fib-cpython3.11-cprofile.prof'],
    ['--stats', '--sort', 'calls', 'fixtures/sampled/tachyon-fib-100us.prof'],
]


def usage_errors(exe):
    bad = []
    for args in USAGE:
        p = subprocess.run([exe] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if p.returncode != 2 or not p.stderr.startswith(b'pstats2callgrind: '):
            bad.append('exit %d for %s' % (p.returncode, ' '.join(args)))
    return bad


def real_files(root):
    real = os.path.normpath(os.path.join(root, '..', 'shared', 'real'))
    manifest = os.path.join(real, 'MANIFEST.tsv')
    if not os.path.exists(manifest):
        return []
    with open(manifest, encoding='utf-8') as f:
        return [(os.path.join(real, r['file']), r['notes']) for r in csv.DictReader(f, delimiter='\t')
                if not r['kind'].startswith('other:')
                and os.path.exists(os.path.join(real, r['file']))]


def main():
    exe, root = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    os.chdir(root)
    with open(os.path.join('docs', 'schema', 'pstats-diff.schema.json')) as f:
        validator = jsonschema.Draft202012Validator(json.load(f))
    ok = failed = 0
    checks = [('diff %s -> %s' % (','.join(b), ','.join(n)), check_pair, (exe, b, n, s))
              for b, n, s in PAIRS]
    checks.append(('sort orders (mix 3.11 -> 3.12)', check_order,
                   (exe, F + 'mix-cpython3.11-cprofile.prof', F + 'mix-cpython3.12-cprofile.prof')))
    checks.append(('usage errors', usage_errors, (exe,)))
    fixtures = sorted(glob.glob('fixtures/profiles/*.prof') + glob.glob('fixtures/sampled/*.prof'))
    for path in fixtures:
        if not path.endswith('synth-empty.prof'):
            checks.append(('self-diff ' + path, self_diff, (exe, path, validator)))
    nwin = 0
    for path, notes in real_files(root):
        checks.append(('self-diff ' + os.path.basename(path), self_diff, (exe, path, validator)))
        if 'windows-paths' in notes:
            nwin += 1
            checks.append(('map-path ' + os.path.basename(path), windows_map, (exe, path)))
    for name, fn, args in checks:
        try:
            bad = fn(*args)
        except Exception as e:  # a crash of the tool or a parse error is a failure
            bad = ['%s: %s' % (type(e).__name__, e)]
        if bad is None:
            continue
        if bad:
            failed += 1
            print('FAIL %s:\n  %s' % (name, '\n  '.join(bad)))
        else:
            ok += 1
    print('%d diff and map-path checks as Python computes them (%d real profiles with Windows '
          'paths), %d failed' % (ok, nwin, failed))
    return 1 if failed or ok == 0 else 0


if __name__ == '__main__':
    sys.exit(main())
