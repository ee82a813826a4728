#!/usr/bin/python3
"""Goldens of the outputs beyond the converter: the cases of
fixtures/outputs/cases.txt (diff, path mapping, JSON, callgrind of sampled
profiles: our own outputs, reviewed, and checked against Python by
outputs_json.py and outputs_diff.py) and of fixtures/sampled/golden/cases.tsv
(the reports of Python 3.15's SampledStats, fixtures/generate/make_sampled.py).
Each runs from a staging copy of fixtures/ with every mtime 1700000000 and
TZ=UTC; its standard output must equal the golden byte for byte. Every JSON
golden must also be valid against its schema in docs/schema/.

usage: outputs_golden.py PSTATS2CALLGRIND REPO_ROOT [--write]
       (--write: rewrite fixtures/outputs/*.out from this build; review them)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import jsonschema


def stage(root, dest):
    for sub in ('profiles', 'sampled'):
        shutil.copytree(os.path.join(root, 'fixtures', sub), os.path.join(dest, 'fixtures', sub))
    shutil.copy(os.path.join(root, 'fixtures', 'fibonacci.prof'),
                os.path.join(dest, 'fixtures', 'fibonacci.prof'))
    for top, _dirs, files in os.walk(dest):
        for f in files:
            os.utime(os.path.join(top, f), (1700000000, 1700000000))


def cases(root):
    with open(os.path.join(root, 'fixtures', 'outputs', 'cases.txt'), encoding='utf-8') as f:
        for line in f:
            if line.strip() and not line.startswith('#'):
                case_id, args = line.rstrip('\n').split('\t')
                yield case_id, args.split(' '), 'fixtures/outputs/%s.out' % case_id
    with open(os.path.join(root, 'fixtures', 'sampled', 'golden', 'cases.tsv'),
              encoding='utf-8') as f:
        for line in list(f)[1:]:
            case_id, args, expected = line.rstrip('\n').split('\t')
            yield 'sampled-' + case_id, args.split(' '), expected


def schema_errors(root, text):
    doc = json.loads(text.decode('utf-8'))
    name = {'pstats-json': 'pstats.schema.json',
            'pstats-diff-json': 'pstats-diff.schema.json'}[doc['format']]
    with open(os.path.join(root, 'docs', 'schema', name)) as f:
        v = jsonschema.Draft202012Validator(json.load(f))
    return [e.message for e in v.iter_errors(doc)]


def main():
    exe, root = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    write = '--write' in sys.argv[3:]
    env = dict(os.environ, TZ='UTC')
    failed, n = [], 0
    with tempfile.TemporaryDirectory(prefix='outputs-') as tmp:
        stage(root, tmp)
        for case_id, args, expected in cases(root):
            n += 1
            p = subprocess.run([exe] + args, cwd=tmp, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
            path = os.path.join(root, expected)
            if write and expected.startswith('fixtures/outputs/'):
                with open(path, 'wb') as f:
                    f.write(p.stdout)
            with open(path, 'rb') as f:
                want = f.read()
            bad = p.returncode != 0 or p.stdout != want
            if not bad and (b'"format": "pstats' in want[:40]):
                errs = schema_errors(root, want)
                if errs:
                    print('FAIL %s: schema: %s' % (case_id, errs[0]))
                    bad = True
            if bad:
                failed.append(case_id)
                print('FAIL %s (exit %d): %s' % (case_id, p.returncode, ' '.join(args)))
                if p.stderr:
                    print('  stderr: %s' % p.stderr.decode('utf-8', 'replace').strip())
                g, w = p.stdout.split(b'\n'), want.split(b'\n')
                for i in range(max(len(g), len(w))):
                    a = g[i] if i < len(g) else b'<missing>'
                    b = w[i] if i < len(w) else b'<missing>'
                    if a != b:
                        print('  line %d\n    got:  %r\n    want: %r' % (i + 1, a, b))
                        break
    print('%d of %d output goldens identical' % (n - len(failed), n))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
