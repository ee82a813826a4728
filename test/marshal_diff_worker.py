# -*- coding: utf-8 -*-
"""The interpreter's side of test/marshal_differential.py (runs under Python
2.7, every Python 3 and PyPy): reads inputs from stdin, answers for each
whether this interpreter's marshal.loads accepts it and, under Python 3,
the repr() of what it loaded.

Protocol, one record per input: 4 bytes little-endian length, then the
bytes. Answer: 1 status byte, 4 bytes length, payload.
  'O' + repr (UTF-8, surrogatepass)  loaded; repr printed
  'L'                                loaded; repr not compared (Python 2,
                                     a repr too big to print, RecursionError)
  'E' + message                      marshal.loads raised
"""
import marshal
import struct
import sys

PY3 = sys.version_info[0] >= 3
MAX_NODES = 200000  # objects a repr may visit (shared objects at each use)

try:  # a hostile count makes 2.7 allocate before it reads: bound it
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (1 << 31, 1 << 31))
except (ImportError, ValueError):
    pass
if hasattr(sys, "set_int_max_str_digits"):
    sys.set_int_max_str_digits(0)  # pymarshal prints every int; compare that
sys.setrecursionlimit(6000)


def repr_size(v):
    """How many objects repr(v) visits, counting shared objects at each use,
    or None past MAX_NODES (an explicit stack: no recursion)."""
    memo, stack = {}, [(v, False)]
    while stack:
        obj, done = stack.pop()
        key = id(obj)
        if isinstance(obj, dict):
            kids = [x for kv in obj.items() for x in kv]
        elif isinstance(obj, (tuple, list, set, frozenset)):
            kids = list(obj)
        else:
            memo[key] = 1
            continue
        if done:
            total = 1 + sum(memo.get(id(k), 1) for k in kids)
            memo[key] = total
            if total > MAX_NODES:
                return None
            continue
        if key in memo:
            continue
        memo[key] = 1  # a cycle prints as [...]: count it once
        stack.append((obj, True))
        for k in kids:
            if id(k) not in memo:
                stack.append((k, False))
    return memo[id(v)]


def answer(data):
    try:
        v = marshal.loads(data)
    except Exception as e:  # every refusal is an exception
        try:
            text = u"%s: %s" % (type(e).__name__, e)
        except UnicodeError:  # Python 2: a message of non-ASCII bytes
            text = u"%s: %r" % (type(e).__name__, e.args)
        return b"E", text.encode("utf-8", "replace")
    if not PY3:
        return b"L", b""
    try:
        if repr_size(v) is None:
            return b"L", b"big"
        return b"O", repr(v).encode("utf-8", "surrogatepass")
    except (RecursionError, MemoryError, ValueError) as e:
        return b"L", str(type(e).__name__).encode()


def main():
    inp = getattr(sys.stdin, "buffer", sys.stdin)
    out = getattr(sys.stdout, "buffer", sys.stdout)
    while True:
        head = inp.read(4)
        if len(head) < 4:
            return
        n = struct.unpack("<I", head)[0]
        status, payload = answer(inp.read(n))
        out.write(status + struct.pack("<I", len(payload)) + payload)
        out.flush()


if __name__ == "__main__":
    main()
