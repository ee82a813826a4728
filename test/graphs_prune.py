#!/usr/bin/env python3
"""--node-thres / --edge-thres (pstats_prune): for every fixture and every
pstats file of ../shared/real, at two settings, the pruned profile
(written with --format pstats and read back by Python's own pstats) must
  * keep every function whose cumtime is at least the node threshold of
    T = max(total time, every cumtime), with all its numbers unchanged, and
    no other function of the profile;
  * keep every call between kept functions at least the edge threshold of
    T, and every call of a kept function to itself, with its numbers, and
    no other call;
  * give each kept function that lost calls one "[other] NAME" callee at
    its file and line, called by it alone; plus at most one "[other]" that
    nobody calls;
  * keep the total tottime (sum of every function's) and the header totals
    that Python computes from the functions (calls, primitive calls: the
    left-out functions' counts go to the [other] functions);
then the pruned profile's callgrind output must pass test/readers_check.py
(callgrind_annotate, gprof2dot's parser rules, summary = sum of self).
usage: graphs_prune.py PSTATS2CALLGRIND REPO_ROOT WORK_DIR
"""
import csv
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from real_files import python_for  # noqa: E402

SETTINGS = [(1.0, 0.5), (5.0, 0.0)]
DUMP = r'''
import sys, pstats, binascii
def hx(x):
    if not isinstance(x, bytes):
        if hasattr(x, "co_name"):
            x = x.co_name
        x = x.encode("utf-8", "surrogatepass") if sys.version_info[0] > 2 else x.encode("utf-8")
    return binascii.hexlify(x).decode("ascii")
def key(k):
    return "%s|%d|%s" % (hx(k[0]), k[1], hx(k[2]))
s = pstats.Stats(sys.argv[1])
out = ["T %r %d %d" % (s.total_tt, s.total_calls, s.prim_calls)]
for k, v in s.stats.items():
    if len(k) != 3:
        continue
    cc, nc, tt, ct, callers = v
    out.append("F %s %d %d %r %r" % (key(k), cc, nc, tt, ct))
    for c, e in callers.items():
        out.append("E %s %s %s" % (key(c), key(k), " ".join(repr(x) for x in (e if isinstance(e, tuple) else (e,)))))
sys.stdout.write("\n".join(out) + "\n")
'''


def dump(py, path):
    r = subprocess.run([py, '-c', DUMP, path], capture_output=True, text=True)
    if r.returncode != 0:
        return None
    tot, funcs, edges = None, {}, {}
    for line in r.stdout.splitlines():
        w = line.split(' ')
        if w[0] == 'T':
            tot = (float(w[1]), int(w[2]), int(w[3]))
        elif w[0] == 'F':
            funcs[w[1]] = (int(w[2]), int(w[3]), float(w[4]), float(w[5]))
        else:
            edges[(w[1], w[2])] = tuple(float(x) for x in w[3:])
    return tot, funcs, edges


def name_of(key):
    return bytes.fromhex(key.split('|')[2]).decode('utf-8', 'replace')


def call_time(e, callee, funcs, edges):
    if len(e) == 4:
        return max(e[3], 0.0)
    outer = sum(v[0] for (c, f), v in edges.items() if f == callee and c != callee)
    if outer == 0 or callee not in funcs:
        return 0.0
    return max(min(e[0] / outer, 1.0) * funcs[callee][3], 0.0)


def check(orig, pruned, node, edge):
    (tt0, calls0, prim0), f0, e0 = orig
    (tt1, calls1, prim1), f1, e1 = pruned
    if (calls0, prim0) != (calls1, prim1):
        return 'header totals changed: %d (%d primitive) calls, now %d (%d)' % (
            calls0, prim0, calls1, prim1)
    if abs(tt1 - tt0) > 1e-9 * max(abs(tt0), 1.0):
        return 'total time %r became %r' % (tt0, tt1)
    big = max([tt0] + [v[3] for v in f0.values()])
    share = (lambda t: 1.0 if big == 0 else min(max(t / big, 0.0), 1.0))
    kept = {k for k, v in f0.items() if not share(v[3]) < node / 100}
    others = {k for k in f1 if name_of(k).startswith('[other]')}
    for k in kept:
        if f1.get(k) != f0[k]:
            return 'kept function %s changed: %s -> %s' % (name_of(k), f0[k], f1.get(k))
    extra = set(f1) - kept - others
    if extra:
        return 'function %s should have been folded' % name_of(sorted(extra)[0])
    s0 = sum(v[2] for v in f0.values())
    s1 = sum(v[2] for v in f1.values())
    if abs(s1 - s0) > 1e-9 * max(abs(s0), 1.0) + 1e-12 * len(f0):
        return 'total tottime %r became %r' % (s0, s1)
    for (c, f), e in e0.items():
        if c in kept and f in kept:
            want = c == f or not share(call_time(e, f, f0, e0)) < edge / 100
            if want != ((c, f) in e1) or (want and e1[(c, f)] != e):
                return 'call %s -> %s %s' % (name_of(c), name_of(f), 'lost' if want else 'kept')
    for o in others:
        callers = [c for (c, f) in e1 if f == o]
        if name_of(o) == '[other]' and not callers:
            continue
        if len(callers) != 1 or name_of(o) != '[other] ' + name_of(callers[0]) or \
                o.split('|')[:2] != callers[0].split('|')[:2]:
            return '%s is called by %s' % (name_of(o), [name_of(c) for c in callers])
    return None


def main():
    tool, root, work = [os.path.abspath(a) for a in sys.argv[1:4]]
    os.makedirs(work, exist_ok=True)
    cases = []
    prof_dir = os.path.join(root, 'fixtures', 'profiles')
    for n in sorted(os.listdir(prof_dir)):
        if n.endswith('.prof'):
            v = n.split('-')[1].replace('cpython', '').replace('pypy', '')
            cases.append((os.path.join(prof_dir, n), v if v[:1] in '23' else '3.11'))
    real = os.path.join(root, '..', 'shared', 'real')
    if os.path.exists(os.path.join(real, 'MANIFEST.tsv')):
        with open(os.path.join(real, 'MANIFEST.tsv')) as f:
            for row in csv.DictReader(f, delimiter='\t'):
                if not row['kind'].startswith('other'):
                    cases.append((os.path.join(real, row['file']), row['loads_in']))
    fails, checked, pruned_files = 0, 0, []
    for prof, loads_in in cases:
        py = python_for(loads_in)
        orig = dump(py, prof) if py else None
        if orig is None:
            continue
        for node, edge in SETTINGS:
            out = os.path.join(work, '%s.n%g-e%g.prof' % (os.path.basename(prof), node, edge))
            r = subprocess.run([tool, '--node-thres', str(node), '--edge-thres', str(edge),
                                '-f', 'pstats', '-o', out, prof], capture_output=True, text=True)
            pruned = dump(py, out) if r.returncode == 0 else None
            err = 'not pruned: ' + r.stderr.strip() if pruned is None else check(orig, pruned, node, edge)
            checked += 1
            if err:
                print('FAIL %s -n %g -e %g: %s' % (os.path.basename(prof), node, edge, err))
                fails += 1
            else:
                print('ok %s -n %g -e %g: %d of %d functions' % (
                    os.path.basename(prof), node, edge, len(pruned[1]), len(orig[1])))
                pruned_files.append(out)
    # the pruned profiles as callgrind files, checked against the real readers
    r = subprocess.run([sys.executable, os.path.join(HERE, 'readers_check.py'), tool,
                        os.path.join(work, 'callgrind')] + pruned_files)
    print('%d pruned profiles, %d failed; readers_check: %s' % (checked, fails, r.returncode))
    return 1 if fails or r.returncode else 0


if __name__ == '__main__':
    sys.exit(main())
