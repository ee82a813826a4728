#!/usr/bin/env python3
"""Differential check of pymarshal against every installed interpreter.

Mutates the fixtures (truncations, byte flips, crafted bombs) and checks,
for each input, that `pymarshal --python=W` accepts it exactly when
marshal.loads of W accepts it, W being the Python that wrote the fixture,
and that it prints the same repr (code object addresses masked; Python 2's
values as fixtures/repr/py2_repr.py makes them, the rule of docs/marshal.md).

usage: marshal_differential.py PYMARSHAL REPO_ROOT [--full] [--seed N]
                               [--only WRITER] [--max-inputs N] [--save DIR]

The default is a sample (a fixed seed, about 1 500 inputs: ~20 s); --full
truncates every small file at every offset and flips every byte of the small
files to several values (minutes). The findings kept as regression cases,
test/marshal_differential.tsv, are replayed in both modes; --save DIR keeps
each input found to disagree as DIR/WRITER-N.bin. Exit status: 0 all
agree, 1 any disagreement, 77 no interpreter installed.
"""
import os
import random
import re
import struct
import subprocess
import sys
import tempfile

PYENV = os.environ.get("PYENV_ROOT", "/root/.pyenv") + "/versions"
VERSIONS = {"2.7": "2.7.18", "3.6": "3.6.15", "3.7": "3.7.16", "3.8": "3.8.18",
            "3.9": "3.9.18", "3.10": "3.10.13", "3.11": "3.11.7", "3.12": "3.12.1",
            "3.13": "3.13.0"}
HERE = os.path.dirname(os.path.abspath(__file__))
CODES = b"0NFTS.iIlfgxysturR([{<>c)azAZ:}"
MASK = re.compile(rb" at 0x[0-9a-f]+, file \"")


def interpreter(writer):
    if writer == "pypy":
        for d in os.environ.get("PATH", "").split(os.pathsep):
            if os.access(os.path.join(d, "pypy3"), os.X_OK):
                return os.path.join(d, "pypy3")
        return None
    path = os.path.join(PYENV, VERSIONS[writer], "bin", "python")
    return path if os.access(path, os.X_OK) else None


def writer_of(name):
    """The Python that wrote a fixture, from its name (docs/fixtures.md)."""
    m = re.match(r"py(27|3\d+|pypy3)-", name)
    if m:
        v = m.group(1)
        return "pypy" if v == "pypy3" else "2.7" if v == "27" else "3." + v[1:]
    m = re.search(r"-(cpython|pypy)(\d\.\d+)-", name)
    if m:
        return "pypy" if m.group(1) == "pypy" else m.group(2)
    if name.startswith("synth-py2-"):
        return "2.7"
    return "3.11"  # synth-*, yappi, fibonacci.prof: CPython 3.11


class Worker(object):
    def __init__(self, exe):
        self.exe = exe
        self.start()

    def start(self):
        self.p = subprocess.Popen([self.exe, os.path.join(HERE, "marshal_diff_worker.py")],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL)

    def ask(self, data):
        try:
            self.p.stdin.write(struct.pack("<I", len(data)) + data)
            self.p.stdin.flush()
            status = self.p.stdout.read(1)
        except BrokenPipeError:
            status = b""
        if not status:  # Python 2.7 aborts on some code objects: a refusal
            self.p.wait()
            self.start()
            return "E", b"the interpreter died (fatal error)"
        n = struct.unpack("<I", self.p.stdout.read(4))[0]
        return status.decode(), self.p.stdout.read(n)

    def close(self):
        self.p.stdin.close()
        self.p.wait()


def py2_repr(data, tmp):
    """Python 2 values as Python 3 would print them (fixtures/repr/py2_repr.py)."""
    path = os.path.join(tmp, "py2.bin")
    with open(path, "wb") as f:
        f.write(data)
    p = subprocess.run([sys.executable, os.path.join(HERE, "..", "fixtures", "repr",
                                                      "py2_repr.py"), path],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    return p.stdout.rstrip(b"\n") if p.returncode == 0 else None


def run_pymarshal(exe, writer, data, tmp):
    path = os.path.join(tmp, "in.bin")
    with open(path, "wb") as f:
        f.write(data)
    try:
        p = subprocess.run([exe, "--python=" + writer, "--max-output=50000000", path],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    except subprocess.TimeoutExpired:
        return "T", b""
    if p.returncode == 0:
        return "O", p.stdout.rstrip(b"\n")
    if p.returncode == 1 and b"longer than the limit" in p.stderr:
        return "L", b""
    if p.returncode == 1:
        return "E", p.stderr
    return "C", p.stderr  # a crash or a usage error


# ------------------------------------------------------------------ inputs

def ref_bomb(depth):
    """A list of `depth` tuples, each two references to the one before: a
    few hundred bytes whose repr has 2**depth leaves."""
    out = b"[" + struct.pack("<i", depth) + b"\xa9\x02NN"
    for k in range(1, depth):
        ref = b"r" + struct.pack("<i", k - 1)
        out += b"\xa9\x02" + ref + ref
    return out


def crafted():
    """Hand-made hostile and corner-case inputs, tried under every writer."""
    i = lambda n: b"i" + struct.pack("<i", n)
    s = lambda t: b"z" + bytes([len(t)]) + t
    key = b")\x03" + s(b"a.py") + i(1) + s(b"f")
    val = b")\x05" + i(1) + i(1) + b"g" + struct.pack("<d", 0.5) + b"g" + struct.pack("<d", 0.5)
    out = [
        b"{" + key + val + b"{0" + b"0",                  # a tiny profile
        b"{" + key + b"0" + key + val + b"{00",            # NULL as a stats value
        b"{" + key + val + b"{" + key + b"00" + b"0",       # NULL as a caller's value
        b"{N0NN0", b"{N0", b"{[\x00\x00\x00\x00N0", b"{[\x00\x00\x00\x000",
        b"{{0N0", b"{<\x00\x00\x00\x00N0", b"{>\x00\x00\x00\x00N0",
        b"{(\x01\x00\x00\x00[\x00\x00\x00\x00N0", b"<\x01\x00\x00\x00[\x00\x00\x00\x00",
        b">\x01\x00\x00\x00{0", b"[\x02\x00\x00\x00{N0N0" + i(5),
        b"\xdb\x01\x00\x00\x00r\x00\x00\x00\x00", b"\xfb" + i(1) + b"r\x00\x00\x00\x000",
        b"\xa8\x01\x00\x00\x00r\x00\x00\x00\x00",
        b"{\xdb\x00\x00\x00\x00N" + b"r\x00\x00\x00\x00N0",
        ref_bomb(30), b"(\xff\xff\xff\x7f", b"[\x00\x00\x00\x80",
        b"[\x01\x00\x00\x00" * 1999 + b"N", b"[\x01\x00\x00\x00" * 2000 + b"N",
        b"{" * 1998 + b"N" + b"N0" * 1998,
    ]
    return out


def mutations(data, rng, full):
    """Truncations and byte flips of one file."""
    n = len(data)
    if full:
        cuts = range(n) if n <= 8192 else sorted(rng.sample(range(n), 200))
    else:
        cuts = sorted(rng.sample(range(n), min(n, 2)))
    for k in cuts:
        yield data[:k]
    if full and n <= 2048:
        spots = [(k, v) for k in range(n) for v in (data[k] ^ 0x80, data[k] ^ 1,
                                                    CODES[k % len(CODES)], 0xff)]
    else:
        spots = [(rng.randrange(n), rng.choice([0x80, 1, 0x100, 0x100]))
                 for _ in range(400 if full else 2)] if n else []
        spots = [(k, data[k] ^ v if v < 0x100 else rng.choice(CODES)) for k, v in spots]
    for k, v in spots:
        yield data[:k] + bytes([v & 0xff]) + data[k + 1:]


def inputs(root, rng, full, only):
    files = []
    prof = os.path.join(root, "fixtures", "profiles")
    for name in sorted(os.listdir(prof)):
        if name.endswith(".prof"):
            files.append(os.path.join(prof, name))
    cases = os.path.join(root, "fixtures", "repr", "cases")
    for name in sorted(os.listdir(cases)):
        if name.endswith(".bin"):
            files.append(os.path.join(cases, name))
    seen = set()
    for path in files:
        writer = writer_of(os.path.basename(path))
        if only and writer != only:
            continue
        with open(path, "rb") as f:
            data = f.read()
        if not full and path.endswith(".prof") and rng.random() < 0.75:
            continue  # the sample takes 1 profile in 4 (by the seed)
        for m in mutations(data, rng, full):
            if (writer, m) not in seen:
                seen.add((writer, m))
                yield writer, m, os.path.basename(path)
    for m in crafted():
        for writer in sorted(VERSIONS) + ["pypy"]:
            if not only or writer == only:
                yield writer, m, "crafted"


def regressions(root, only):
    path = os.path.join(root, "test", "marshal_differential.tsv")
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            writer, hexdata, note = line.rstrip("\n").split("\t")[:3]
            if not only or writer == only:
                yield writer, bytes.fromhex(hexdata), "regression: " + note


# ------------------------------------------------------------------ check

def compare(exe, workers, writer, data, tmp):
    """None when pymarshal agrees with the writer, else what differs."""
    status, payload = workers[writer].ask(data)
    got, out = run_pymarshal(exe, writer, data, tmp)
    if got in ("T", "C"):
        return "pymarshal %s: %s" % ("timed out" if got == "T" else "crashed", out[:200])
    if status == "E":
        return None if got == "E" else "Python refuses (%s), pymarshal accepts" % (
            payload.decode("utf-8", "replace")[:120])
    if got == "E" and b"PyPy accepts it with a value of its own" in out:
        return None  # known: docs/marshal-decoder.md (PyPy's 16-bit long digits)
    if got == "E":
        return "Python accepts, pymarshal refuses: %s" % out.decode("utf-8", "replace")[:200]
    if writer == "2.7" and status == "L":
        payload = py2_repr(data, tmp)
        status = "O" if payload is not None else "L"
    if status != "O" or got != "O":
        return None
    out = MASK.sub(b" at 0xADDR, file \"", out)
    payload = MASK.sub(b" at 0xADDR, file \"", payload)
    if out == payload:
        return None
    if sorted(out) == sorted(payload) and (b"{" in out or b"frozenset(" in out):
        return None  # set order of str items: Python's follows its hash seed
    k = next(i for i in range(min(len(out), len(payload)) + 1)
             if i == min(len(out), len(payload)) or out[i] != payload[i])
    k = max(0, k - 60)
    return "repr differs at byte %d:\n      python:    %r\n      pymarshal: %r" % (
        k + 60, payload[k:k + 160], out[k:k + 160])


def main():
    args = sys.argv[1:]
    full = "--full" in args
    seed = int(args[args.index("--seed") + 1]) if "--seed" in args else 20261206
    only = args[args.index("--only") + 1] if "--only" in args else None
    cap = int(args[args.index("--max-inputs") + 1]) if "--max-inputs" in args else None
    save = args[args.index("--save") + 1] if "--save" in args else None
    exe, root = os.path.abspath(args[0]), os.path.abspath(args[1])
    workers = {}
    for w in sorted(VERSIONS) + ["pypy"]:
        path = interpreter(w)
        if path:
            workers[w] = Worker(path)
    if not workers:
        print("no interpreter installed: skipped")
        return 77
    rng = random.Random(seed)
    n = bad = skipped = 0
    with tempfile.TemporaryDirectory(prefix="mdiff-") as tmp:
        todo = list(regressions(root, only)) + list(inputs(root, rng, full, only))
        for writer, data, origin in todo[:cap] if cap else todo:
            if writer not in workers:
                skipped += 1
                continue
            n += 1
            why = compare(exe, workers, writer, data, tmp)
            if why:
                bad += 1
                if save:
                    with open(os.path.join(save, "%s-%d.bin" % (writer, bad)), "wb") as f:
                        f.write(data)
                print("DISAGREE [%s] %s (%d bytes) %s\n    %s" % (
                    writer, origin, len(data), data[:64].hex(), why))
    for w in workers.values():
        w.close()
    print("%d passed, %d failed, %d skipped" % (n - bad, bad, skipped))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
