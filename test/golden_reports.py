#!/usr/bin/env python3
"""Run every case of fixtures/golden/cases.tsv through pstats2callgrind and
compare its output byte for byte with Python's own report (the golden).

usage: golden_reports.py PSTATS2CALLGRIND REPO_ROOT [ID-SUBSTRING]

Code objects' addresses are masked in both (their digit count is kept).
Staging (docs/fixtures.md): fixtures/profiles and fixtures/fibonacci.prof are
copied into a temporary directory, every file's mtime set to 1700000000, and
each case runs there with TZ=UTC and the FILE arguments exactly as written.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile


def stage(root, dest):
    shutil.copytree(os.path.join(root, 'fixtures', 'profiles'),
                    os.path.join(dest, 'fixtures', 'profiles'))
    shutil.copy(os.path.join(root, 'fixtures', 'fibonacci.prof'),
                os.path.join(dest, 'fixtures', 'fibonacci.prof'))
    for top, _dirs, files in os.walk(dest):
        for f in files:
            os.utime(os.path.join(top, f), (1700000000, 1700000000))


def mask_addresses(text):
    """As fixtures/generate/make_goldens.py masks Python's: the hex digits of
    a code object's address become X, as many as were printed."""
    return re.sub(br"(<code object .*? at 0x)([0-9a-f]+)(, file )",
                  lambda m: m.group(1) + b"X" * len(m.group(2)) + m.group(3), text)


def first_difference(got, want):
    g, w = got.split(b'\n'), want.split(b'\n')
    for i in range(max(len(g), len(w))):
        a = g[i] if i < len(g) else b'<missing>'
        b = w[i] if i < len(w) else b'<missing>'
        if a != b:
            return i + 1, a, b
    return 0, b'', b''


def main():
    exe, root = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    only = sys.argv[3] if len(sys.argv) > 3 else None
    with open(os.path.join(root, 'fixtures', 'golden', 'cases.tsv'), encoding='utf-8') as f:
        rows = [line.rstrip('\n').split('\t') for line in f][1:]
    env = dict(os.environ, TZ='UTC')
    failed = []
    with tempfile.TemporaryDirectory(prefix='golden-') as tmp:
        stage(root, tmp)
        for case_id, _python, args, expected in rows:
            if only and only not in case_id:
                continue
            with open(os.path.join(root, expected), 'rb') as f:
                want = f.read()
            p = subprocess.run([exe] + args.split(' '), cwd=tmp, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            got = mask_addresses(p.stdout)
            if p.returncode != 0 or got != want:
                line, a, b = first_difference(got, want)
                failed.append(case_id)
                print('FAIL %s (exit %d): %s' % (case_id, p.returncode, args))
                if p.stderr:
                    print('  stderr: %s' % p.stderr.decode('utf-8', 'replace').strip())
                print('  line %d\n    got:  %r\n    want: %r' % (line, a, b))
    n = len([r for r in rows if not only or only in r[0]])
    print('%d of %d golden reports identical' % (n - len(failed), n))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
