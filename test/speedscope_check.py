#!/usr/bin/env python3
"""Check what the real speedscope made of our outputs (its exports, written
by test/js/speedscope_export.mjs) against the files it was given.

  * NAME.folded (--format collapsed), read by speedscope's collapsed-stack
    importer: the stacks and weights speedscope shows are exactly ours (each
    stack's self weight, summed over identical stacks);
  * NAME.cg (callgrind), read by its callgrind importer: every frame is a
    function of the file; speedscope's self weight of a function is never
    more than the file's self cost of it (it drops subtrees below 1e-4 of
    the total, never invents time), and equals it for every function it
    reaches when nothing was dropped; the total is the summed self weight.

usage: speedscope_check.py DIR NAME.folded|NAME.cg...   (exit 1 on a failure)
Prints one line per file.
"""
import json
import os
import re
import sys


def stacks_of(export):
    """(stack tuple -> self weight, frame name -> self weight) of an export."""
    names = [f['name'] for f in export['shared']['frames']]
    prof = export['profiles'][0]
    stacks, selfw, stack, last = {}, {}, [], prof['startValue']
    for ev in prof['events']:
        if stack:
            w = ev['at'] - last
            key = tuple(names[i] for i in stack)
            stacks[key] = stacks.get(key, 0) + w
            selfw[names[stack[-1]]] = selfw.get(names[stack[-1]], 0) + w
        last = ev['at']
        if ev['type'] == 'O':
            stack.append(ev['frame'])
        else:
            stack.pop()
    return {k: v for k, v in stacks.items() if v}, selfw, prof['endValue'] - prof['startValue']


def read_folded(path):
    out = {}
    with open(path, encoding='utf-8') as f:
        for line in f:
            stack, n = line.rstrip('\n').rsplit(' ', 1)
            key = tuple(stack.split(';'))
            out[key] = out.get(key, 0) + int(n)
    return {k: v for k, v in out.items() if v}


def callgrind_costs(path):
    """(fn name -> self cost, fn name -> self + outgoing call costs, names
    of the functions some call names) of a single-part callgrind file."""
    names, selfc, incl, called = {}, {}, {}, set()
    fn, in_call = None, False
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.rstrip('\n')
            m = re.match(r'^(c?)fn=\((\d+)\)(?: (.*))?$', line)
            if m:
                if m.group(3) is not None:
                    names[m.group(2)] = m.group(3)
                if m.group(1):
                    called.add(names[m.group(2)])
                else:
                    fn = names[m.group(2)]
                continue
            if line.startswith('calls='):
                in_call = True
                continue
            if fn is not None and re.match(r'^[+-]?\d', line):
                cost = int(line.split()[1])
                if not in_call:
                    selfc[fn] = selfc.get(fn, 0) + cost
                incl[fn] = incl.get(fn, 0) + cost
                in_call = False
    return selfc, incl, called


def check_folded(path, export):
    ours = read_folded(path)
    theirs, _, total = stacks_of(export)
    if ours == theirs:
        return None, '%d stacks, total %d' % (len(ours), total)
    diff = [k for k in set(ours) | set(theirs) if ours.get(k) != theirs.get(k)]
    k = sorted(diff)[0]
    return 'stack %s: ours %s, speedscope %s' % (';'.join(k)[-120:], ours.get(k), theirs.get(k)), ''


def check_callgrind(path, export):
    selfc, incl, called = callgrind_costs(path)
    _, selfw, total = stacks_of(export)
    for name in selfw:
        if name not in selfc:
            return 'speedscope frame %r is no function of the file' % name, ''
    if sum(selfw.values()) != total:
        return 'self weights do not add up to the total', ''
    # speedscope draws top-down from the functions nobody calls: never more
    # than their inclusive costs (nor, the file's total, when it has none)
    roots = sum(incl[n] for n in selfc if n not in called)
    if total > max(roots, sum(selfc.values())):
        return 'speedscope total %d above the roots\' %d' % (total, roots), ''
    exact = sum(1 for n, w in selfw.items() if w == selfc[n])
    return None, 'total %d of %d, %d of %d frames with the file\'s self cost' % (
        total, sum(selfc.values()), exact, len(selfw))


def main():
    d = sys.argv[1]
    fails = 0
    for name in sys.argv[2:]:
        src = os.path.join(d, name)
        exp = os.path.join(d, name + '.speedscope.json')
        if not os.path.exists(exp):
            print('FAIL %s: speedscope exported nothing' % name)
            fails += 1
            continue
        with open(exp, encoding='utf-8') as f:
            export = json.load(f)
        check = check_folded if name.endswith('.folded') else check_callgrind
        err, info = check(src, export)
        if err:
            print('FAIL %s: %s' % (name, err))
            fails += 1
        else:
            print('ok %s: %s' % (name, info))
    print('%d files, %d failed' % (len(sys.argv) - 2, fails))
    return 1 if fails else 0


if __name__ == '__main__':
    sys.exit(main())
