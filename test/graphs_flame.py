#!/usr/bin/env python3
"""--format svg and --format collapsed, for every fixture and every pstats
file of ../shared/real:
  * the SVG is well-formed XML whose frames (data-x, data-t, data-d, the
    label in <title>) rebuild exactly the stacks and numbers of the
    collapsed output of the same profile (docs/graphs.md);
  * frames nest: each lies inside one frame of the level below, children
    never add up to more than their parent, the roots add up to data-total;
  * the total is what pstats recorded: at most T = max(total time, every
    cumtime), at least 95 % of the total time (the roots' time less the
    calls into them from outside; within 1 us per frame of rounding), read
    by the Python whose pstats loads the file;
  * the goldens of fixtures/golden/flame are reproduced byte for byte.
usage: graphs_flame.py PSTATS2CALLGRIND REPO_ROOT WORK_DIR
"""
import csv
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from real_files import python_for  # noqa: E402

TOTALS = r'''
import sys, pstats
s = pstats.Stats(sys.argv[1])
sys.stdout.write('%r %r\n' % (s.total_tt, max([v[3] for v in s.stats.values()] or [0.0])))
'''
SVG = '{http://www.w3.org/2000/svg}'


def svg_stacks(path):
    root = ET.parse(path).getroot()
    total = int(root.get('data-total'))
    frames = []
    for g in root.iter(SVG + 'g'):
        if g.get('data-x') is None:
            continue
        label = g.find(SVG + 'title').text.split('\n')[0].replace(';', ':')
        frames.append((int(g.get('data-d')), int(g.get('data-x')), int(g.get('data-t')), label))
    stacks, errors = {}, []
    by_depth = {}
    for f in frames:
        by_depth.setdefault(f[0], []).append(f)
    path_of = {}
    kids = {}
    for d in sorted(by_depth):
        for f in by_depth[d]:
            if d == 0:
                path_of[f] = (f[3],)
                continue
            parents = [p for p in by_depth.get(d - 1, []) if p[1] <= f[1] and f[1] + f[2] <= p[1] + p[2]]
            if len(parents) != 1:
                errors.append('frame %s at depth %d lies in %d parents' % (f[3], d, len(parents)))
                continue
            path_of[f] = path_of[parents[0]] + (f[3],)
            kids[parents[0]] = kids.get(parents[0], 0) + f[2]
    for f, p in path_of.items():
        self_ = f[2] - kids.get(f, 0)
        if self_ < 0:
            errors.append('children of %s add up to more than it' % f[3])
        if self_:
            stacks[p] = stacks.get(p, 0) + self_
    roots = sum(f[2] for f in by_depth.get(0, []))
    if roots != total:
        errors.append('roots add up to %d, data-total is %d' % (roots, total))
    return stacks, total, len(frames), errors


def folded(path):
    out = {}
    with open(path, encoding='utf-8') as f:
        for line in f:
            stack, n = line.rstrip('\n').rsplit(' ', 1)
            k = tuple(stack.split(';'))
            out[k] = out.get(k, 0) + int(n)
    return out


def pstats_totals(prof, loads_in):
    py = python_for(loads_in) if loads_in != '-' else None
    if not py:
        return None
    r = subprocess.run([py, '-c', TOTALS, prof], capture_output=True, text=True)
    if r.returncode != 0:
        return None
    tt, ct = r.stdout.split()
    return float(tt), float(ct)


def check(tool, prof, work, name, loads_in):
    svg, col = os.path.join(work, name + '.svg'), os.path.join(work, name + '.folded')
    for fmt, out in (('svg', svg), ('collapsed', col)):
        r = subprocess.run([tool, '-f', fmt, '-o', out, prof], capture_output=True, text=True)
        if r.returncode != 0:
            loads = subprocess.run([tool, '--stats', '-o', os.devnull, prof],
                                   capture_output=True).returncode == 0
            if fmt == 'svg' and not loads:
                return None  # not a profile (synth-empty: no Python loads it either)
            return 'no %s output: %s' % (fmt, r.stderr.strip())
    stacks, total, nframes, errors = svg_stacks(svg)
    if errors:
        return errors[0]
    col_stacks = folded(col)
    if stacks != col_stacks:
        diff = sorted(k for k in set(stacks) | set(col_stacks) if stacks.get(k) != col_stacks.get(k))
        return 'svg and collapsed differ at %s: %s vs %s' % (
            ';'.join(diff[0])[-100:], stacks.get(diff[0]), col_stacks.get(diff[0]))
    info = '%d frames, total %d %s' % (nframes, total, ET.parse(svg).getroot().get('data-unit'))
    tot = pstats_totals(prof, loads_in)
    if tot:
        lo, hi = tot[0] * 1e9, max(tot[0], tot[1]) * 1e9
        slack = 1000 * nframes + 1
        if not 0.95 * lo - slack <= total <= hi + slack + 1e-9 * hi:
            return 'total %d ns outside [0.95 x total time %.0f, T %.0f]' % (total, lo, hi)
        info += ' (pstats: %.0f .. %.0f)' % (lo, hi)
    return 'ok ' + info


def main():
    tool, root, work = [os.path.abspath(a) for a in sys.argv[1:4]]
    os.makedirs(work, exist_ok=True)
    cases = []
    profiles = os.path.join(root, 'fixtures', 'profiles')
    for n in sorted(os.listdir(profiles)):
        if n.endswith('.prof'):
            cases.append((os.path.join(profiles, n), n, ''))
    cases.append((os.path.join(root, 'fixtures', 'fibonacci.prof'), 'fibonacci.prof', ''))
    sampled = os.path.join(root, 'fixtures', 'sampled')  # Tachyon: stacks in samples
    for n in sorted(os.listdir(sampled)) if os.path.isdir(sampled) else []:
        if n.endswith('.prof'):
            cases.append((os.path.join(sampled, n), n, '-'))
    real = os.path.join(root, '..', 'shared', 'real')
    if os.path.exists(os.path.join(real, 'MANIFEST.tsv')):
        with open(os.path.join(real, 'MANIFEST.tsv')) as f:
            for row in csv.DictReader(f, delimiter='\t'):
                if not row['kind'].startswith('other'):
                    cases.append((os.path.join(real, row['file']), row['file'], row['loads_in']))
    fails = 0
    for prof, name, loads_in in cases:
        if not loads_in:  # a fixture: the Python that wrote it loads it
            v = name.split('-')[1] if name.count('-') >= 2 else '3.11'
            v = v.replace('cpython', '').replace('pypy', '')
            loads_in = v if v in ('2.7', '3.6', '3.7', '3.8', '3.9', '3.10', '3.11', '3.12', '3.13') else '3.11'
        res = check(tool, prof, work, name, loads_in)
        if res is None:
            print('skip %s: not a profile Python loads' % name)
        elif res.startswith('ok'):
            print('%s %s' % (name, res))
        else:
            print('FAIL %s: %s' % (name, res))
            fails += 1
    gdir = os.path.join(root, 'fixtures', 'golden', 'flame')
    for g in sorted(os.listdir(gdir)):
        base, ext = os.path.splitext(g)
        fmt = 'svg' if ext == '.svg' else 'collapsed'
        prof = os.path.join(profiles, base + '.prof')
        if not os.path.exists(prof):
            prof = os.path.join(root, 'fixtures', base + '.prof')
        out = os.path.join(work, 'golden-' + g)
        subprocess.run([tool, '-f', fmt, '-o', out, os.path.basename(prof)], capture_output=True,
                       check=True, cwd=os.path.dirname(prof))
        with open(out, 'rb') as a, open(os.path.join(gdir, g), 'rb') as b:
            if a.read() != b.read():
                print('FAIL golden %s differs (%s)' % (g, out))
                fails += 1
            else:
                print('golden %s ok' % g)
    print('%d failed' % fails)
    return 1 if fails else 0


if __name__ == '__main__':
    sys.exit(main())
