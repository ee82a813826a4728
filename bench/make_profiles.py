#!/usr/bin/env python3
"""Build big, real-shaped pstats profiles for the benchmarks.

    python3 bench/make_profiles.py [--outdir bench/data] [--sizes 1,10,100]
                                   [--fleet 50] [--seed 1] [--python PY] [--force]

1. base.prof: a real cProfile dump of bench/workload.py (a slice of CPython's
   test suite) run by PY (default: Python 3.11 if found, else python3) with
   PYTHONHASHSEED=0. Kept once made; delete it to profile the workload again.
2. profile-<N>mb.prof for each N in --sizes: K renamed copies of the base
   profile in one dict, K chosen so the file is about N MB. Copy k renames every
   file path (/srv/svcKKK/...) and every function name (suffix _kKKK, inside the
   angle brackets of builtins so they still print as {...}), keeps the call graph
   shape and the call counts, and scales all times of the copy by one seeded
   factor, so callee times still add up as in the original.
3. fleet/host-NN.prof (--fleet files, 0 to skip): the base profile as seen on
   NN hosts of a fleet: same function names, except that a seeded tenth of the
   source files carry one of five version tags per host; times scaled by a seeded
   factor and counts by a seeded integer per host. Merging them sums most
   functions and keeps the version-skewed ones apart.

Sharing follows cProfile's: each transformed copy reuses one new object for each
original string and tuple object (memoized on identity), so key tuples, caller
key tuples and interned strings are shared exactly as in the real dump and
marshal version 4 writes the same pattern of references; a renamed string is
interned when its original was written as an interned string (Z/A/t), so the
copies use the same type codes too. Everything after the
base profile is deterministic for a given base and seed.
"""
import argparse
import marshal
import os
import random
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
MB = 1000 * 1000


def has_testsuite(python):
    """Does PYTHON have CPython's test package (Debian: libpython3.X-testsuite)?"""
    try:
        return subprocess.run([python, "-c", "import test.test_json, test.test_argparse"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def find_python(explicit):
    """The interpreter that runs the workload: --python, else the first of
    Python 3.11 (pyenv), python3.11, python3 that has the test suite."""
    if explicit:
        return explicit
    candidates = [os.path.expanduser("~/.pyenv/versions/3.11.7/bin/python"),
                  shutil.which("python3.11"), "/usr/bin/python3",
                  shutil.which("python3"), sys.executable]
    for cand in candidates:
        if cand and os.access(cand, os.X_OK) and has_testsuite(cand):
            return cand
    sys.exit("make_profiles: no Python with CPython's test suite found; install "
             "libpython3.11-testsuite (apt-get install libpython3.11-testsuite) "
             "or pass --python")


def make_base(path, python):
    """Profile the workload into PATH (run from a scratch directory)."""
    env = dict(os.environ, PYTHONHASHSEED="0")
    env.pop("PYTHONSTARTUP", None)
    workload = os.path.join(HERE, "workload.py")
    tmp = path + ".tmp"
    with tempfile.TemporaryDirectory(prefix="pstats-bench-") as scratch:
        subprocess.run([python, workload, os.path.abspath(tmp)],
                       cwd=scratch, env=env, check=True)
    os.replace(tmp, path)


def interned_texts(data):
    """The texts that a marshal stream writes as interned strings (t, A, Z).

    A small scanner of the codes a cProfile dump uses (pstats nests 4 levels,
    so recursion is fine here); None when it meets any other code."""
    texts = set()
    pos = 0

    def obj():
        nonlocal pos
        code = chr(data[pos] & 0x7F)
        pos += 1
        if code in "NFTS.0":
            return code
        if code in "ir":
            pos += 4
        elif code == "g":
            pos += 8
        elif code in "zZ":
            n = data[pos]
            if code == "Z":
                texts.add(data[pos + 1:pos + 1 + n].decode("latin-1"))
            pos += 1 + n
        elif code in "uatAs":
            n = int.from_bytes(data[pos:pos + 4], "little", signed=True)
            if code in "tA":
                texts.add(data[pos + 4:pos + 4 + n].decode("utf-8" if code == "t" else "latin-1"))
            pos += 4 + n
        elif code == "l":
            n = int.from_bytes(data[pos:pos + 4], "little", signed=True)
            pos += 4 + 2 * abs(n)
        elif code in "()":
            if code == ")":
                n, pos = data[pos], pos + 1
            else:
                n, pos = int.from_bytes(data[pos:pos + 4], "little", signed=True), pos + 4
            for _ in range(n):
                obj()
        elif code == "{":
            while obj() != "0":
                obj()
        else:
            raise ValueError(code)
        return code

    try:
        obj()
    except (ValueError, IndexError):
        return None
    return texts


class Renamer:
    """Maps the original profile's objects to one renamed copy, sharing-preserving.

    file_fn and name_fn give the new text of a file name and a function name;
    the memo maps id(original object) to its replacement, so an object shared
    in the original stays shared (one object) in the copy. The originals stay
    alive in the base dict, so their ids are stable while a Renamer lives; drop
    the Renamer before dumping, so that objects used once have one reference
    and marshal gives them no FLAG_REF, as in cProfile's own dumps.
    """

    def __init__(self, file_fn, name_fn, time_factor, count_factor, interned=None):
        self.interned = interned or set()
        self.file_fn = file_fn
        self.name_fn = name_fn
        self.tf = time_factor
        self.cf = count_factor
        self.memo = {}

    def _was_interned(self, obj):
        # Only asked for texts that the file has as interned strings: then
        # sys.intern returns that (loaded, interned) object and interns nothing.
        return obj in self.interned and sys.intern(obj) is obj

    def _str(self, role, obj, fn):
        k = (role, id(obj))
        new = self.memo.get(k)
        if new is None:
            new = fn(obj)
            if self._was_interned(obj):
                new = sys.intern(new)
            self.memo[k] = new
        return new

    def key(self, key):
        """A function key (file, line, name); 1-tuples and odd keys pass through."""
        k = ("key", id(key))
        new = self.memo.get(k)
        if new is not None:
            return new
        if len(key) == 3 and isinstance(key[0], str) and isinstance(key[2], str):
            new = (self._str("file", key[0], self.file_fn), self.count(key[1]),
                   self._str("name", key[2], self.name_fn))
        else:
            new = key
        self.memo[k] = new
        return new

    def count(self, n):
        """An int of the copy: a new object per original object (ints outside
        CPython's small-int cache are objects of their own in a real profile,
        shared only where the original shares them)."""
        if not isinstance(n, int) or isinstance(n, bool):
            return n * self.cf if self.cf != 1 else n
        k = ("int", id(n))
        new = self.memo.get(k)
        if new is None:
            new = n * self.cf if self.cf != 1 else n + 0
            self.memo[k] = new
        return new

    def edge(self, value):
        if isinstance(value, tuple):
            nc, cc, tt, ct = value
            return (self.count(nc), self.count(cc), tt * self.tf, ct * self.tf)
        return self.count(value)

    def add_to(self, out, stats):
        """Add the renamed copy of STATS to the dict OUT, in STATS' order."""
        for key, (cc, nc, tt, ct, callers) in stats.items():
            new_callers = {self.key(ck): self.edge(cv) for ck, cv in callers.items()}
            out[self.key(key)] = (self.count(cc), self.count(nc),
                                  tt * self.tf, ct * self.tf, new_callers)


def copy_renamer(k, factor, interned):
    """The renamer for copy K of a scaled profile."""
    tag = "svc%03d" % k
    suffix = "_k%03d" % k

    def file_fn(f):
        if f == "~":
            return f
        if f.startswith("/"):
            return "/srv/" + tag + f
        return tag + "/" + f

    def name_fn(n):
        if n.startswith("<") and n.endswith(">"):
            return n[:-1] + suffix + ">"
        return n + suffix

    return Renamer(file_fn, name_fn, factor, 1, interned)


def write_profile(path, stats):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        marshal.dump(stats, f, 4)
    os.replace(tmp, path)


def make_scaled(path, base, interned, target_mb, seed):
    """K renamed copies of BASE in one file of about TARGET_MB megabytes."""
    probe = {}
    copy_renamer(0, 1.0, interned).add_to(probe, base)
    copy_size = len(marshal.dumps(probe, 4))
    del probe
    copies = max(1, int(round(target_mb * MB / copy_size)))
    rng = random.Random("%d/%d" % (seed, target_mb))
    stats = {}
    for k in range(copies):
        copy_renamer(k, rng.uniform(0.5, 2.0), interned).add_to(stats, base)
    write_profile(path, stats)
    return copies, len(stats), sum(len(v[4]) for v in stats.values())


def make_fleet(outdir, base, interned, hosts, seed):
    """HOSTS profiles of the same program on a fleet (see the module doc)."""
    rng = random.Random("%d/fleet" % seed)
    files = sorted({k[0] for k in base if len(k) == 3 and k[0] != "~"})
    skewed = set(rng.sample(files, max(1, len(files) // 10)))
    os.makedirs(outdir, exist_ok=True)
    for h in range(hosts):
        version = h % 5

        def file_fn(f, version=version):
            return "%s@v%d" % (f, version) if f in skewed else f

        renamer = Renamer(file_fn, lambda n: n, rng.uniform(0.5, 2.0),
                          rng.randint(1, 3), interned)
        stats = {}
        renamer.add_to(stats, base)
        write_profile(os.path.join(outdir, "host-%02d.prof" % h), stats)


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--outdir", default=os.path.join(HERE, "data"))
    ap.add_argument("--sizes", default="1,10,100",
                    help="comma-separated sizes in MB (default 1,10,100)")
    ap.add_argument("--fleet", type=int, default=50,
                    help="number of fleet profiles to make (default 50, 0: none)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--python", help="interpreter that runs the workload")
    ap.add_argument("--force", action="store_true",
                    help="rebuild the derived files even if present")
    return ap.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    os.makedirs(args.outdir, exist_ok=True)
    base_path = os.path.join(args.outdir, "base.prof")
    if not os.path.exists(base_path):
        python = find_python(args.python)
        print("make_profiles: profiling the workload with %s" % python, flush=True)
        make_base(base_path, python)
    with open(base_path, "rb") as f:
        raw = f.read()
    base = marshal.loads(raw)
    interned = interned_texts(raw) or set()
    del raw
    print("make_profiles: base.prof: %d bytes, %d functions, %d edges"
          % (os.path.getsize(base_path), len(base),
             sum(len(v[4]) for v in base.values())), flush=True)
    for size in [int(s) for s in args.sizes.split(",") if s.strip()]:
        path = os.path.join(args.outdir, "profile-%dmb.prof" % size)
        if os.path.exists(path) and not args.force:
            continue
        copies, nfunc, nedge = make_scaled(path, base, interned, size, args.seed)
        print("make_profiles: %s: %d bytes, %d copies, %d functions, %d edges"
              % (os.path.basename(path), os.path.getsize(path), copies, nfunc, nedge),
              flush=True)
    if args.fleet > 0:
        fleet_dir = os.path.join(args.outdir, "fleet")
        last = os.path.join(fleet_dir, "host-%02d.prof" % (args.fleet - 1))
        if args.force or not os.path.exists(last):
            make_fleet(fleet_dir, base, interned, args.fleet, args.seed)
            print("make_profiles: fleet/: %d host profiles" % args.fleet, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
