#!/usr/bin/env python3
"""Validate pstats2callgrind output against the rules of the real readers.

For every pstats file given: convert it with pstats2callgrind, then check
  * the callgrind file itself: header order, name compression (each id
    defined once per part, never redefined), one contiguous block per
    function, `calls=` (never 0) followed by exactly one cost line,
    unsigned integers only, LF line ends, no trailing spaces, valid UTF-8,
    summary == the sum of all self-cost lines;
  * gprof2dot's CallgrindParser rules (read from jrfonseca/gprof2dot, see
    docs/callgrind.md): every line is a header line it knows, a body line
    it knows, or a comment; function names unique (it merges by name);
  * callgrind_annotate: runs without any warning, its PROGRAM TOTALS equals
    summary:, and it lists one entry per function (no merging);
  * against Python's own pstats (whichever installed Python loads the
    file): every pstats key is exactly one callgrind function; self cost
    = tottime rounded to ns; self + outgoing calls = cumtime (within the
    documented tolerance, never above max(tottime, cumtime)); every call
    is a pstats edge with its call count.
Prints one line per file and exits non-zero when any check failed.
"""
import binascii
import concurrent.futures
import os
import re
import subprocess
import sys

# Runs under Python 2.7 and 3.x: prints the profile's keys, numbers and edges,
# strings hex-encoded (bytes as the file has them).
DUMPER = r'''
import sys, pstats, binascii
def hx(x):
    if not isinstance(x, bytes):
        if hasattr(x, "co_name"):
            x = x.co_name
        x = x.encode("utf-8", "surrogatepass") if sys.version_info[0] > 2 else x.encode("utf-8")
    return "x" + binascii.hexlify(x).decode("ascii")
def key(k):
    return "%s %d %s" % (hx(k[0]), k[1], hx(k[2]))
st = pstats.Stats(sys.argv[1])
out = []
for k, v in st.stats.items():
    if len(k) != 3:
        continue
    cc, nc, tt, ct, callers = v
    out.append("F %s %r %r %d %d" % (key(k), float(tt), float(ct), nc, cc))
    for c, e in callers.items():
        n = e[0] if isinstance(e, tuple) else e
        ect = float(e[3]) if isinstance(e, tuple) else -1.0
        out.append("E %s %s %d %r" % (key(c), key(k), n, ect))
sys.stdout.write("\n".join(out) + "\n")
'''

SCALE = 1e9  # the default unit, ns


def units(seconds):
    v = seconds * SCALE
    if not v > 0:
        return 0
    return int(v + 0.5)


def utf8_len(b, i):
    """Length of the valid UTF-8 sequence at b[i] (RFC 3629), or 0."""
    c = b[i]
    if c < 0x80:
        return 1
    lo, hi = 0x80, 0xBF
    if 0xC2 <= c <= 0xDF:
        n = 2
    elif 0xE0 <= c <= 0xEF:
        n = 3
        lo = 0xA0 if c == 0xE0 else lo
        hi = 0x9F if c == 0xED else hi
    elif 0xF0 <= c <= 0xF4:
        n = 4
        lo = 0x90 if c == 0xF0 else lo
        hi = 0x8F if c == 0xF4 else hi
    else:
        return 0
    if len(b) - i < n or not lo <= b[i + 1] <= hi:
        return 0
    if any(not 0x80 <= b[j] <= 0xBF for j in range(i + 2, i + n)):
        return 0
    return n


def callgrind_name(b):
    """The documented name rule: LF CR NUL escaped, non-UTF-8 bytes read as Latin-1."""
    out, i = [], 0
    while i < len(b):
        c = b[i]
        if c in (10, 13, 0):
            out.append({10: "\\n", 13: "\\r", 0: "\\0"}[c])
            i += 1
            continue
        n = utf8_len(b, i)
        if n == 0:
            out.append(chr(c))
            i += 1
        else:
            out.append(b[i:i + n].decode("utf-8"))
            i += n
    return "".join(out)


edge_ct = {}  # (caller, callee) -> the edge's recorded cumtime (-1: int edge)


def unhex(s):
    return binascii.unhexlify(s[1:])


def load_pstats(path, pythons):
    for py in pythons:
        try:
            r = subprocess.run([py, "-c", DUMPER, path], capture_output=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if r.returncode != 0:
            continue
        funcs, edges = {}, []
        edge_ct.clear()
        for line in r.stdout.decode("ascii").splitlines():
            p = line.split()
            if p[0] == "F":
                k = (unhex(p[1]), int(p[2]), unhex(p[3]))
                funcs[k] = (float(p[4]), float(p[5]), int(p[6]), int(p[7]))
            else:
                a = (unhex(p[1]), int(p[2]), unhex(p[3]))
                b = (unhex(p[4]), int(p[5]), unhex(p[6]))
                edges.append((a, b, int(p[7])))
                edge_ct[(a, b)] = float(p[8])
        return py, funcs, edges
    return None, None, None


# ------------------------------------------------------------ the file itself

HEADER_ORDER = ["version", "creator", "cmd", "part", "positions", "event", "events"]
NAME_RE = re.compile(r"^(c?f[ln])=\((\d+)\)(?: (.*))?$")
COST_RE = re.compile(r"^\d+( \d+)+$")
CALLS_RE = re.compile(r"^calls=(\d+) (\d+)$")


class Parsed:
    def __init__(self):
        self.errors = []
        self.summary = None
        self.nevents = 0
        self.functions = []   # dicts: part, fl, fn, line, self, calls
        self.self_sum = 0


def parse_callgrind(data):
    """Parses our output strictly; every deviation from the rules is an error."""
    res = Parsed()
    err = res.errors.append
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        err("not valid UTF-8: %s" % e)
        text = data.decode("utf-8", "replace")
    if "\r" in text:
        err("CR in the file")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    else:
        err("no LF at the end")
    if lines[:2] != ["# callgrind format", "version: 1"]:
        err("first lines are not '# callgrind format' / 'version: 1'")
    tables, cur, pending_call, seen_fn, cur_fl = None, None, None, None, None
    keys_seen = []
    for no, line in enumerate(lines, 1):
        if line != line.rstrip(" \t"):
            err("line %d: trailing space" % no)
        if line == "" or line.startswith("#"):
            if pending_call:
                err("line %d: calls= not followed by its cost line" % no)
                pending_call = None
            continue
        m = re.match(r"^([a-z]+): (.*)$", line)
        if m and not line.startswith(("fl=", "fn=", "cfl=", "cfn=", "calls=")):
            key, val = m.groups()
            keys_seen.append(key)
            if key == "part":
                tables = {"fl": {}, "fn": {}}
                seen_fn, cur_fl = set(), None
                cur = {"part": int(val)}
            elif key == "events":
                res.nevents = len(val.split())
            elif key == "summary":
                res.summary = [int(x) for x in val.split()]
            continue
        if tables is None:
            err("line %d: data before part:" % no)
            return res
        m = NAME_RE.match(line)
        if m:
            kind, idx, name = m.groups()
            table = tables[kind[-2:]]
            if name is not None:
                if idx in table:
                    err("line %d: %s id %s defined twice in one part" % (no, kind, idx))
                if name == "" or name != name.strip():
                    err("line %d: empty or padded name %r" % (no, name))
                table[idx] = name
            elif idx not in table:
                err("line %d: %s id %s used before its definition" % (no, kind, idx))
            value = table.get(idx, "?")
            if kind == "fl":
                cur_fl = value
            elif kind == "fn":
                if (cur_fl, value) in seen_fn:
                    err("line %d: second block for function %r" % (no, value))
                seen_fn.add((cur_fl, value))
                cur = {"part": cur["part"], "fl": cur_fl, "fn": value,
                       "line": None, "self": 0, "calls": []}
                res.functions.append(cur)
            elif kind == "cfl":
                cur["cfl"] = value
            else:
                cur["cfn"] = value
            continue
        m = CALLS_RE.match(line)
        if m:
            if int(m.group(1)) == 0:
                err("line %d: calls=0" % no)
            if "cfn" not in cur or "cfl" not in cur:
                err("line %d: calls= without cfl=/cfn=" % no)
            pending_call = (cur.pop("cfl", None), cur.pop("cfn", None),
                            int(m.group(1)), int(m.group(2)))
            continue
        if COST_RE.match(line):
            nums = [int(x) for x in line.split()]
            if len(nums) != 1 + res.nevents:
                err("line %d: %d numbers for %d events" % (no, len(nums) - 1, res.nevents))
            if "fn" not in cur:
                err("line %d: cost line outside a function" % no)
                continue
            if pending_call:
                cur["calls"].append(pending_call + (nums[0], nums[1]))
                pending_call = None
            else:
                if cur["line"] is not None:
                    err("line %d: two self-cost lines in one block" % no)
                cur["line"], cur["self"] = nums[0], nums[1]
                res.self_sum += nums[1]
            continue
        err("line %d: not a callgrind line: %r" % (no, line[:80]))
    first = keys_seen[:keys_seen.index("events") + 1] if "events" in keys_seen else []
    order = [k for k in first if k != "event"]
    if order != [k for k in HEADER_ORDER if k in order and k != "event"] or \
            first.count("events") != 1:
        err("header keys out of order: %s" % first)
    if res.summary is None:
        err("no summary:")
    elif res.summary[0] != res.self_sum:
        err("summary %d != sum of self costs %d" % (res.summary[0], res.self_sum))
    return res


def gprof2dot_rules(data):
    """gprof2dot's CallgrindParser, as rules: what it accepts and how it merges."""
    errs = []
    text = data.decode("utf-8", "replace")
    header_key = re.compile(r"^(cmd|pid|thread|part|desc|event|events|positions|summary|totals):")
    body_pos = re.compile(r"^[cj]?(?:ob|fl|fi|fe|fn)=\s*(?:\((\d+)\))?(?:\s*(.+))?")
    cost = re.compile(r"^(0x[0-9a-fA-F]+|\d+|\+\d+|-\d+|\*)( +(0x[0-9a-fA-F]+|\d+|\+\d+|-\d+|\*))*( +\d+)*$")
    lines = [l for l in text.split("\n") if not l.startswith("#")]
    i = 0
    for key in ("version", "creator"):   # only these two, only first
        if i < len(lines) and lines[i].startswith(key + ":"):
            i += 1
    names, after_calls = {}, False
    fn_names = set()
    for no in range(i, len(lines)):
        line = lines[no]
        if after_calls and not cost.match(line.rstrip()):
            errs.append("gprof2dot: calls= not followed by a cost line: %r" % line[:60])
        if line.strip() == "":
            after_calls = False
            continue
        if header_key.match(line):
            after_calls = False
            continue
        if line.startswith("calls="):
            vals = line.split("=", 1)[1].split()
            if not vals or not vals[0].isdigit():
                errs.append("gprof2dot: bad calls= %r" % line)
            after_calls = True
            continue
        after_calls = False
        m = body_pos.match(line)
        if m:
            idx, name = m.groups()
            kind = "fn" if line.lstrip("cj").startswith("fn") else "fl"
            if idx and name:
                if names.get((kind, idx), name) != name:
                    errs.append("gprof2dot: id %s of %s names two things" % (idx, kind))
                names[(kind, idx)] = name
            if kind == "fn" and not line.startswith("c"):
                fn_names.add(name or names.get((kind, idx)))
            continue
        if cost.match(line.rstrip()):
            if not all(v.isdigit() for v in line.split()[1:]):
                errs.append("gprof2dot: a cost that is not an unsigned integer: %r" % line)
            continue
        errs.append("gprof2dot: unexpected line %r" % line[:60])
    return errs, fn_names


def run_annotate(path, expect_total, nfuncs_with_self):
    errs = []
    r = subprocess.run(["callgrind_annotate", "--threshold=100", path],
                       capture_output=True, cwd=os.path.dirname(os.path.abspath(path)))
    if r.returncode != 0 or r.stderr.strip():
        errs.append("callgrind_annotate: rc %d, stderr %r" % (r.returncode, r.stderr[:200]))
        return errs
    out = r.stdout.decode("utf-8", "replace")
    col = r"[\d,]+(?: \([ \d.]+%\))?"
    m = re.search(r"^\s*([\d,]+)(?: \([ \d.]+%\))?(?:\s+" + col + r")*\s+PROGRAM TOTALS", out, re.M)
    if not m:
        errs.append("callgrind_annotate: no PROGRAM TOTALS line")
        return errs
    total = int(m.group(1).replace(",", ""))
    if total != expect_total:
        errs.append("callgrind_annotate total %d != summary %d" % (total, expect_total))
    table = out.split("file:function", 1)[-1].split("\n-----", 2)[1]
    rows = re.findall(r"^\s*([\d,]+) \([ \d.]+%\)(?:\s+" + col + r")*  (\S.*)$", table, re.M)
    listed = sum(1 for n, _ in rows if int(n.replace(",", "")) > 0)
    if listed != nfuncs_with_self:
        errs.append("callgrind_annotate lists %d functions with cost, we wrote %d (merged?)"
                    % (listed, nfuncs_with_self))
    return errs


# ------------------------------------------------------ against Python's pstats

PSEUDO = "[callee time not recorded in calls]"
ROOT = "[spontaneous calls]"


def labels_of(key):
    f, line, name = key
    if f == b"~" and line == 0:
        lab = b"{" + name[1:-1] + b"}" if name.startswith(b"<") and name.endswith(b">") else name
        lab = callgrind_name(lab) or "???"
        return "~", lab, lab
    base = re.split(rb"[/\\]", f)[-1]
    nm = callgrind_name(name) if name else "???"
    tail = ":%d(%s)" % (line, nm)
    fl = "~" if f == b"" else callgrind_name(f)
    return fl, callgrind_name(base) + tail, callgrind_name(f) + tail


def against_pstats(parsed, data, funcs, edges):
    errs = []
    keys = list(funcs)
    known = set(keys)
    for a, b, _ in edges:
        for k in (a, b):
            if k not in known:
                known.add(k)
                keys.append(k)
    lab = {k: labels_of(k) for k in keys}
    nshort = {}
    for k in keys:
        nshort[lab[k][1]] = nshort.get(lab[k][1], 0) + 1
    expected = {}
    for k in keys:
        fl, short, long_ = lab[k]
        base = long_ if nshort[short] > 1 else short
        expected.setdefault((fl, max(k[1], 0), base), []).append(k)
    by_name, matched = {}, {}
    for cf in parsed.functions:
        if cf["part"] != 1:
            continue
        if cf["fn"] == PSEUDO:
            if cf["self"] != 0 or cf["calls"]:
                errs.append("the pseudo-function has cost or calls")
            continue
        if cf["fn"] == ROOT:
            if cf["self"] != 0 or not cf["calls"]:
                errs.append("the pseudo-caller has cost or no calls")
            continue
        cand = expected.get((cf["fl"], cf["line"], cf["fn"]))
        if not cand:
            m = re.match(r"^(.*)'(\d+)$", cf["fn"])
            cand = expected.get((cf["fl"], cf["line"], m.group(1))) if m else None
        cand = [k for k in (cand or []) if k not in matched]
        if not cand:
            errs.append("callgrind function %r (%s line %s) is no pstats key"
                        % (cf["fn"], cf["fl"], cf["line"]))
            continue
        matched[cand[0]] = cf
        by_name[(cf["fl"], cf["fn"])] = cand[0]
    missing = [k for k in funcs if k not in matched]
    if missing:
        errs.append("%d pstats keys have no callgrind function, e.g. %r" % (len(missing), missing[0]))
    SHORT[0] = 0
    called_keys = set(b for _a, b, _n in edges)
    out_edges = {}
    for a, b, n in edges:
        out_edges.setdefault(a, {})[b] = n
    for k, cf in matched.items():
        pe = out_edges.get(k, {})
        calls = {}
        incl = cf["self"]
        for cfl, cfn, count, _target, _line, cost in cf["calls"]:
            incl += cost
            if cfn == PSEUDO:
                continue
            callee = by_name.get((cfl, cfn))
            if callee not in pe:
                errs.append("%s calls %s: no such pstats edge" % (cf["fn"], cfn))
                continue
            calls[callee] = count
            want = min(pe[callee], 2**63 - 1) if pe[callee] > 0 else 1
            if count != want:  # counts above 2^63-1 saturate (documented)
                errs.append("%s -> %s: calls=%d, pstats says %d" % (cf["fn"], cfn, count, pe[callee]))
        for callee, n in pe.items():
            if n > 0 and callee not in calls:
                errs.append("%s: the call to %r is missing" % (cf["fn"], callee))
        if k not in funcs:
            if cf["self"] != 0:
                errs.append("caller-only key %s has self cost" % cf["fn"])
            continue
        tt, ct, nc, cc = funcs[k]
        if cf["self"] != units(tt):
            errs.append("%s: self %d != tottime %r s" % (cf["fn"], cf["self"], tt))
        target = max(units(ct), units(tt))
        has_callers = k in called_keys
        if incl > target:
            errs.append("%s: inclusive %d > max(tottime, cumtime) %d" % (cf["fn"], incl, target))
        elif target - incl > 0.5 * len(pe) + 1:
            # documented: the gap is left out where KCachegrind takes Incl.
            # from the incoming calls; functions nobody calls must add up
            if not has_callers:
                errs.append("%s: inclusive %d < cumtime %d" % (cf["fn"], incl, target))
            SHORT[0] += 1
    errs += inclusive_check(parsed, data, matched, funcs, edges)
    total_tt = sum(v[0] for v in funcs.values())
    if parsed.summary and abs(parsed.summary[0] - units(total_tt)) > len(funcs) / 2 + 1:
        errs.append("summary %d far from the sum of tottime %r" % (parsed.summary[0], total_tt))
    return errs


KC = {}
SHORT = [0]
NOT_EXACT_RE = re.compile(r"^# not exact: (.*)$")


def sccs(nodes, succ):
    """Strongly connected components (Tarjan, iterative): node -> component id."""
    index, low, comp, onstack, stack = {}, {}, {}, set(), []
    counter, ncomp = 0, 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(succ.get(root, ())))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        onstack.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    onstack.add(w)
                    work.append((w, iter(succ.get(w, ()))))
                elif w in onstack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                u = work[-1][0]
                low[u] = min(low[u], low[v])
            if low[v] == index[v]:
                while True:
                    w = stack.pop()
                    onstack.discard(w)
                    comp[w] = ncomp
                    if w == v:
                        break
                ncomp += 1
    return comp


def reader_inclusive(parsed):
    """Inclusive cost per (fl, fn) of part 1 by the readers' rules:
    KCachegrind (libcore/tracedata.cpp, TracePartFunction::update): a
    function with calls into it (count > 0) gets the sum of its incoming
    calls, self-recursive calls left out; any other gets self + outgoing
    calls (self-recursion left out). callgrind_annotate --inclusive=yes:
    a function named by some cfn= gets the sum of all its incoming calls,
    self-recursive ones included; any other self + all outgoing calls."""
    kc_in, an_in, called, named = {}, {}, {}, set()
    for cf in parsed.functions:
        if cf["part"] != 1:
            continue
        me = (cf["fl"], cf["fn"])
        for cfl, cfn, count, _t, _l, cost in cf["calls"]:
            callee = (cfl, cfn)
            named.add(callee)
            an_in[callee] = an_in.get(callee, 0) + cost
            called[callee] = called.get(callee, 0) + count
            if callee != me:
                kc_in[callee] = kc_in.get(callee, 0) + cost
    kc, an = {}, {}
    for cf in parsed.functions:
        if cf["part"] != 1:
            continue
        me = (cf["fl"], cf["fn"])
        if called.get(me):
            kc[me] = kc_in.get(me, 0)
        else:
            kc[me] = cf["self"] + sum(c[5] for c in cf["calls"] if (c[0], c[1]) != me)
        if me in named:
            an[me] = an_in.get(me, 0)
        else:
            an[me] = cf["self"] + sum(c[5] for c in cf["calls"])
    return kc, an


def annotate_inclusive(path, expect):
    """callgrind_annotate --inclusive=yes itself: its number for every
    function, compared with the rule computed above (expect: (fl, fn) ->
    cost). Returns the errors."""
    r = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", path],
                       capture_output=True, cwd=os.path.dirname(os.path.abspath(path)))
    if r.returncode != 0 or r.stderr.strip():
        return ["callgrind_annotate --inclusive=yes: rc %d, stderr %r"
                % (r.returncode, r.stderr[:200])]
    out = r.stdout.decode("utf-8", "replace")
    table = out.split("file:function", 1)[-1].split("\n-----", 2)[1]
    by_text = {"%s:%s" % k: k for k in expect}
    seen, errs = set(), []
    for m in re.finditer(r"^\s*([\d,]+) \([ \d.]+%\)(?:\s+[\d,]+(?: \([ \d.]+%\))?)*  (\S.*)$",
                         table, re.M):
        k = by_text.get(m.group(2))
        if k is None:
            continue
        seen.add(k)
        got = int(m.group(1).replace(",", ""))
        if got != expect[k]:
            errs.append("callgrind_annotate --inclusive=yes shows %d for %s, the rule says %d"
                        % (got, m.group(2), expect[k]))
    missing = [k for k, v in expect.items() if v > 0 and k not in seen]
    if missing:
        errs.append("callgrind_annotate --inclusive=yes does not list %d functions, e.g. %s:%s"
                    % (len(missing), missing[0][0], missing[0][1]))
    return errs


def not_exact_claims(data):
    """The functions the file says cannot be exact (comment lines)."""
    names = set()
    for line in data.decode("utf-8", "replace").split("\n"):
        m = NOT_EXACT_RE.match(line)
        if m:
            names.add(m.group(1))
    return names


def inclusive_check(parsed, data, matched, funcs, edges):
    """Every function's inclusive cost as KCachegrind and callgrind_annotate
    compute it, against pstats' cumtime: none above max(tottime, cumtime);
    outside cycles through several functions, none off by more than 0.1 %
    of the run, except those the file names as not exact because a caller
    recorded more in its calls than it had (the claim is checked: such a
    caller gives all it has). Counts go to KC."""
    errs = []
    kc, an = reader_inclusive(parsed)
    succ = {}
    for a, b, _n in edges:
        if a != b:
            succ.setdefault(a, []).append(b)
    comp = sccs(list(matched), succ)
    size = {}
    for c in comp.values():
        size[c] = size.get(c, 0) + 1
    claims = not_exact_claims(data)
    total = max(parsed.summary[0] if parsed.summary else 1, 1)
    tol = 0.001 * total
    callers = {}
    for a, b, _n in edges:
        if a != b:
            callers.setdefault(b, []).append(a)
    counts = {"in": [0, 0, 0], "out": [0, 0, 0]}
    worst = {"in": 0.0, "out": 0.0}
    excused = 0
    for k, cf in matched.items():
        if k not in funcs:
            continue
        me = (cf["fl"], cf["fn"])
        want = max(units(funcs[k][1]), units(funcs[k][0]))
        where = "in" if size[comp[k]] > 1 else "out"
        rounding = 1 + len(cf["calls"]) + len(callers.get(k, ()))
        d = max(abs(kc[me] - want), abs(an[me] - want))
        for reader, v in (("KCachegrind", kc[me]), ("callgrind_annotate", an[me])):
            if v > want + rounding:
                errs.append("%s: %s shows %d, above max(tottime, cumtime) %d"
                            % (cf["fn"], reader, v, want))
        cls = 0 if d <= rounding else 1 if d <= tol else 2
        counts[where][cls] += 1
        worst[where] = max(worst[where], d / float(total))
        if where == "out" and cls == 2:
            if cf["fn"] in claims and at_cap_caller(k, callers, matched, funcs, comp):
                excused += 1
                continue
            errs.append("%s (outside cycles): KCachegrind %d, callgrind_annotate %d, "
                        "cumtime %d (off by %.3f%% of the run)"
                        % (cf["fn"], kc[me], an[me], want, 100.0 * d / total))
    KC.update(counts=counts, worst=worst, excused=excused, claims=len(claims))
    return errs


def at_cap_caller(k, callers, matched, funcs, comp):
    """A caller of k (outside k's cycle) that gives all it has: self +
    outgoing calls = max(tottime, cumtime), and whose own recorded calls
    out of its cycle (tuple edges) add up to more than cumtime - tottime."""
    for c in callers.get(k, ()):
        cf = matched.get(c)
        if cf is None or c not in funcs:
            continue
        want = max(units(funcs[c][1]), units(funcs[c][0]))
        me = (cf["fl"], cf["fn"])
        given = cf["self"] + sum(x[5] for x in cf["calls"] if (x[0], x[1]) != me)
        if abs(given - want) > 1 + len(cf["calls"]):
            continue
        out = [edge_ct.get((c, b), -1.0) for b in matched if b != c and comp[b] != comp[c]
               and (c, b) in edge_ct]
        if any(x < 0 for x in out):
            return True  # profile-module edges: only counts were recorded
        if units(sum(out)) > want - units(funcs[c][0]):
            return True
    return False


# ------------------------------------------------------------------- driver

def default_pythons():
    cands = ["python3"]
    root = "/root/.pyenv/versions"
    for v in ("2.7.18", "3.8.18", "3.9.18", "3.10.13", "3.12.1", "3.13.0", "3.6.15", "3.7.16"):
        cands.append(os.path.join(root, v, "bin", "python"))
    cands.append("pypy3")
    env = os.environ.get("READERS_PYTHONS")
    return env.split(":") if env else cands


def check_file(tool, workdir, path, pythons, extra_args):
    name = re.sub(r"[^A-Za-z0-9._-]", "_", os.path.basename(path))
    out = os.path.join(workdir, "callgrind.out." + name)
    if os.path.exists(out):
        os.unlink(out)
    r = subprocess.run([tool, "-o", out] + extra_args + [path], capture_output=True)
    py, funcs, edges = load_pstats(path, pythons)
    if r.returncode != 0:
        if funcs is None and r.returncode == 1 and not os.path.exists(out):
            return "skip", "no Python loads it; pstats2callgrind: %s" % r.stderr.decode(
                "utf-8", "replace").strip()[:120]
        return "FAIL", ["pstats2callgrind exit %d: %s" % (r.returncode, r.stderr[:300])]
    data = open(out, "rb").read()
    parsed = parse_callgrind(data)
    errs = list(parsed.errors)
    g_errs, fn_names = gprof2dot_rules(data)
    errs += g_errs
    nblocks = [f for f in parsed.functions if f["part"] == 1]
    if len(fn_names) != len(set(f["fn"] for f in parsed.functions)):
        errs.append("gprof2dot would merge functions: %d names for %d blocks"
                    % (len(fn_names), len(nblocks)))
    bases = set((os.path.basename(f["fl"]), f["fn"]) for f in nblocks)
    if len(bases) != len(nblocks) or len(set(f["fn"] for f in nblocks)) != len(nblocks):
        errs.append("two functions share a name (or a name and a file basename)")
    if parsed.summary is not None and "--parts" not in extra_args:
        nself = sum(1 for f in parsed.functions if f["self"] > 0)
        errs += run_annotate(out, parsed.summary[0], nself)
        errs += annotate_inclusive(out, reader_inclusive(parsed)[1])
    if funcs is not None:
        errs += against_pstats(parsed, data, funcs, edges)
        stats = os.environ.get("READERS_STATS")
        if stats and "counts" in KC:  # a TSV line per file: docs/callgrind.md
            with open(stats, "a") as f:
                f.write("%s\t%s\t%s\t%d\n" % (path, " ".join(map(str, KC["counts"]["out"])),
                                             " ".join(map(str, KC["counts"]["in"])),
                                             KC["excused"]))
    if errs:
        return "FAIL", errs
    info = "%d functions, summary %s, checked against %s" % (
        len(nblocks), parsed.summary[0] if parsed.summary else "-", py or "no Python (none loads it)")
    if funcs:
        ci, co = KC["counts"]["in"], KC["counts"]["out"]
        info += ("; inclusive (KCachegrind, callgrind_annotate) vs cumtime: outside cycles "
                 "%d exact, %d within 0.1%% of the run, %d worse (%d named not exact, "
                 "worst %.2f%%); in cycles %d/%d/%d (worst %.2f%%)") % (
            co[0], co[1], co[2], KC["excused"], 100 * KC["worst"]["out"],
            ci[0], ci[1], ci[2], 100 * KC["worst"]["in"])
        info += "; self + calls < cumtime (gap left out) for %d" % SHORT[0]
    return "ok", info


def check_variants(tool, workdir, a, b):
    """The options that change the file's shape: --parts, --call-events, --unit."""
    errs = []

    def conv(name, args):
        out = os.path.join(workdir, "callgrind.out.variant-" + name)
        r = subprocess.run([tool, "-o", out] + args, capture_output=True)
        if r.returncode != 0:
            errs.append("%s: exit %d %r" % (name, r.returncode, r.stderr[:200]))
            return None, None
        data = open(out, "rb").read()
        parsed = parse_callgrind(data)
        errs.extend("%s: %s" % (name, e) for e in parsed.errors)
        errs.extend("%s: %s" % (name, e) for e in gprof2dot_rules(data)[0])
        return out, parsed

    ns_out, ns = conv("ns", [a])
    for unit, div in (("us", 1e3), ("ms", 1e6)):
        out, p = conv(unit, ["--unit", unit, a])
        if p and ns and abs(p.summary[0] - ns.summary[0] / div) > len(p.functions) / 2.0 + 1:
            errs.append("--unit %s: summary %d, ns summary %d" % (unit, p.summary[0], ns.summary[0]))
        if out:
            errs.extend(run_annotate(out, p.summary[0], sum(1 for f in p.functions if f["self"] > 0)))
    out, p = conv("events", ["--call-events", a])
    if p:
        if p.nevents != 2 or len(p.summary) != 2:
            errs.append("--call-events: events %d, summary %r" % (p.nevents, p.summary))
        errs.extend(run_annotate(out, p.summary[0], sum(1 for f in p.functions if f["self"] > 0)))
    _out, pa = conv("part-a", [a])
    _out, pb = conv("part-b", [b])
    _out, pp = conv("parts", ["--parts", a, b])
    if pp and pa and pb:
        if sorted(set(f["part"] for f in pp.functions)) != [1, 2]:
            errs.append("--parts: parts %r" % sorted(set(f["part"] for f in pp.functions)))
        if pp.summary[0] != pa.summary[0] + pb.summary[0]:
            errs.append("--parts: summary %d != %d + %d" % (pp.summary[0], pa.summary[0], pb.summary[0]))
        for part, single in ((1, pa), (2, pb)):
            mine = sorted(f["self"] for f in pp.functions if f["part"] == part)
            alone = sorted(f["self"] for f in single.functions)
            if mine != alone:
                errs.append("--parts: part %d differs from converting its input alone" % part)
    return errs


def main(argv):
    if len(argv) >= 2 and argv[1] == "--variants":
        if len(argv) != 6:
            sys.stderr.write("usage: readers_check.py --variants TOOL WORKDIR A B\n")
            return 2
        os.makedirs(argv[3], exist_ok=True)
        errs = check_variants(argv[2], argv[3], argv[4], argv[5])
        for e in errs:
            print("FAIL " + e)
        print("variants (--unit us/ms, --call-events, --parts): %s" % ("FAIL" if errs else "ok"))
        return 1 if errs else 0
    if len(argv) < 4:
        sys.stderr.write("usage: readers_check.py TOOL WORKDIR FILE...\n"
                         "       readers_check.py --variants TOOL WORKDIR A B\n")
        return 2
    tool, workdir, files = argv[1], argv[2], argv[3:]
    os.makedirs(workdir, exist_ok=True)
    pythons = default_pythons()
    failed = 0
    jobs = int(os.environ.get("READERS_JOBS", os.cpu_count() or 1))
    with concurrent.futures.ProcessPoolExecutor(max_workers=max(jobs, 1)) as pool:
        results = list(pool.map(check_file, [tool] * len(files), [workdir] * len(files),
                                files, [pythons] * len(files), [[]] * len(files)))
    for path, (status, info) in zip(files, results):
        if status == "FAIL":
            failed += 1
            print("FAIL %s" % path)
            for e in info[:15]:
                print("    " + e)
            if len(info) > 15:
                print("    ... %d more" % (len(info) - 15))
        else:
            print("%s %s: %s" % (status, path, info))
    print("%d files, %d failed" % (len(files), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
