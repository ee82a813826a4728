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
import types

HERE = os.path.dirname(os.path.abspath(__file__))
MB = 1000 * 1000
# The file of built-in functions' keys: cProfile's '~', the profile module's ''.
BUILTIN_FILES = ("~", "")
# The profile module's caller of the functions it was started in.
PROFILE_ROOT = ("profile", 0, "profiler")


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


def make_base(path, python, module_profiler=False):
    """Profile the workload into PATH (run from a scratch directory), with
    cProfile or (module_profiler) the pure-Python profile module."""
    env = dict(os.environ, PYTHONHASHSEED="0")
    env.pop("PYTHONSTARTUP", None)
    workload = os.path.join(HERE, "workload.py")
    tmp = path + ".tmp"
    with tempfile.TemporaryDirectory(prefix="pstats-bench-") as scratch:
        subprocess.run([python, workload] + (["--profile-module"] if module_profiler else [])
                       + [os.path.abspath(tmp)],
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
        """A function key (file, line, name) or (file, line, code object);
        the profile module's root ('profile', 0, 'profiler'), 1-tuples and
        odd keys pass through."""
        k = ("key", id(key))
        new = self.memo.get(k)
        if new is not None:
            return new
        if key == PROFILE_ROOT or len(key) != 3 or not isinstance(key[0], str):
            new = key
        elif isinstance(key[2], str):
            new = (self._str("file", key[0], self.file_fn), self.count(key[1]),
                   self._str("name", key[2], self.name_fn))
        elif isinstance(key[2], types.CodeType):
            code = self.memo.get(("code", id(key[2])))
            if code is None:
                code = key[2].replace(co_name=self.name_fn(key[2].co_name),
                                      co_filename=self.file_fn(key[2].co_filename))
                self.memo[("code", id(key[2]))] = code
            new = (self._str("file", key[0], self.file_fn), self.count(key[1]), code)
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
        if f in BUILTIN_FILES:
            return f
        if f.startswith("/"):
            return "/srv/" + tag + f
        return tag + "/" + f

    def name_fn(n):
        if n.startswith("<") and n.endswith(">"):
            return n[:-1] + suffix + ">"
        return n + suffix

    return Renamer(file_fn, name_fn, factor, 1, interned)


def fresh_text(text):
    """A new str object with TEXT's characters (not interned, not shared)."""
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "surrogatepass")


def unshared(stats, strings_too):
    """STATS with every key and caller tuple a distinct object, so that
    marshal writes each in full; with strings_too, every string as well."""
    def item(x):
        return fresh_text(x) if strings_too and isinstance(x, str) else x

    def key(k):
        return tuple(item(x) for x in k)

    return {key(k): (cc, nc, tt, ct, {key(c): tuple(e) if isinstance(e, tuple) else e
                                      for c, e in callers.items()})
            for k, (cc, nc, tt, ct, callers) in stats.items()}


# Python 2.7 rewrites a profile that Python 3 wrote as marshal version 2 (no
# references; strings as unicode) the way Python 2's cProfile dumps it: str
# keys, function names and '~' interned (written once as 't', then as 'R'
# references), file names and built-ins' names plain 's' strings.
PY2_REWRITE = r"""
import marshal, sys
with open(sys.argv[1], "rb") as f:
    d = marshal.load(f)
names = {}
def text(u, interned):
    b = u.encode("utf-8")
    if not interned:
        return b
    if b not in names:
        names[b] = intern(b)
    return names[b]
def key(k):
    if len(k) != 3:
        return k
    builtin = k[0] == u"~"
    return (text(k[0], builtin), k[1], text(k[2], not builtin))
out = {}
for k, (cc, nc, tt, ct, callers) in d.items():
    out[key(k)] = (cc, nc, tt, ct, dict((key(c), e) for c, e in callers.items()))
del d
with open(sys.argv[2], "wb") as f:
    marshal.dump(out, f, 2)
"""


def find_python2():
    for cand in (os.path.expanduser("~/.pyenv/versions/2.7.18/bin/python"),
                 shutil.which("python2.7"), shutil.which("python2")):
        if cand and os.access(cand, os.X_OK):
            return cand
    sys.exit("make_profiles: the py2 shape needs Python 2.7 (pyenv install 2.7.18)")


def write_profile(path, stats, shape="shared"):
    """STATS as SHAPE writes it (see SHAPES), atomically."""
    tmp = path + ".tmp"
    if shape == "py2":
        with open(tmp + "3", "wb") as f:
            marshal.dump(stats, f, 2)
        subprocess.run([find_python2(), "-c", PY2_REWRITE, tmp + "3", tmp], check=True)
        os.unlink(tmp + "3")
    else:
        if shape in ("distinct", "flat"):
            stats = unshared(stats, shape == "flat")
        with open(tmp, "wb") as f:
            marshal.dump(stats, f, 4)
    os.replace(tmp, path)


# The shapes of profile the benchmarks measure: what differs is how much of
# the file is shared objects (marshal references) and which loader path
# reads it.
SHAPES = {
    "shared": "cProfile's own sharing: key and caller tuples and strings written once",
    "distinct": "every key and caller tuple written in full, strings interned (re-dumps, other tools)",
    "flat": "nothing shared: every tuple and every string written in full",
    "py2": "written by Python 2.7: marshal version 2, interned names as 'R' references",
    "profile": "the pure-Python profile module: a code-object key, call counts as callers",
}


def as_cprofile(stats):
    """The profile module's STATS as cProfile would record the same calls:
    each call count as an (n, n, 0.0, 0.0) edge, code-object keys named by
    their code's name. pyprof2calltree cannot read the profile module's files
    (it unpacks every caller as a tuple), so bench/run times it on this
    equivalent file: same functions, same edges, same sizes within a few %."""
    def key(k):
        return (k[0], k[1], k[2].co_name) if isinstance(k[2], types.CodeType) else k

    return {key(k): (cc, nc, tt, ct, {key(c): (e, e, 0.0, 0.0) if isinstance(e, int) else e
                                      for c, e in callers.items()})
            for k, (cc, nc, tt, ct, callers) in stats.items()}


def equivalent_path(path):
    """Where make_scaled puts the cProfile-shaped twin of a profile-module file."""
    return path[:-len(".prof")] + ".as-cprofile.prof"


def make_scaled(path, base, interned, target_mb, seed, shape="shared"):
    """K renamed copies of BASE in one file of about TARGET_MB megabytes,
    written in SHAPE."""
    probe_path = path + ".probe"
    probe = {}
    copy_renamer(0, 1.0, interned).add_to(probe, base)
    write_profile(probe_path, probe, shape)
    copy_size = os.path.getsize(probe_path)
    os.unlink(probe_path)
    del probe
    copies = max(1, int(round(target_mb * MB / copy_size)))
    rng = random.Random("%d/%d" % (seed, target_mb))
    stats = {}
    for k in range(copies):
        copy_renamer(k, rng.uniform(0.5, 2.0), interned).add_to(stats, base)
    write_profile(path, stats, shape)
    if shape == "profile":
        write_profile(equivalent_path(path), as_cprofile(stats))
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
    ap.add_argument("--shapes", default="shared",
                    help="comma-separated shapes: %s (default shared)" % ", ".join(SHAPES))
    ap.add_argument("--fleet", type=int, default=50,
                    help="number of fleet profiles to make (default 50, 0: none)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--python", help="interpreter that runs the workload")
    ap.add_argument("--force", action="store_true",
                    help="rebuild the derived files even if present")
    args = ap.parse_args(argv)
    args.shapes = [x for x in args.shapes.split(",") if x.strip()]
    for shape in args.shapes:
        if shape not in SHAPES:
            ap.error("unknown shape %r (known: %s)" % (shape, ", ".join(SHAPES)))
    return args


def profile_path(outdir, shape, size):
    """Where the profile of SHAPE and SIZE MB is (bench/run reads it there)."""
    return os.path.join(outdir, "%s-%dmb.prof" % (shape, size))


def load_base(args, module_profiler):
    """The base profile (made once): cProfile's, or the profile module's."""
    name = "base-profile.prof" if module_profiler else "base.prof"
    base_path = os.path.join(args.outdir, name)
    if not os.path.exists(base_path):
        python = find_python(args.python)
        print("make_profiles: profiling the workload with %s%s"
              % (python, " under the profile module (minutes)" if module_profiler else ""),
              flush=True)
        make_base(base_path, python, module_profiler)
    with open(base_path, "rb") as f:
        raw = f.read()
    base = marshal.loads(raw)
    interned = interned_texts(raw) or set()
    del raw
    print("make_profiles: %s: %d bytes, %d functions, %d edges"
          % (name, os.path.getsize(base_path), len(base),
             sum(len(v[4]) for v in base.values())), flush=True)
    return base, interned


def main(argv):
    args = parse_args(argv)
    os.makedirs(args.outdir, exist_ok=True)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    bases = {}
    for shape in args.shapes:
        module_profiler = shape == "profile"
        for size in sizes:
            path = profile_path(args.outdir, shape, size)
            if os.path.exists(path) and not args.force:
                continue
            if module_profiler not in bases:
                bases[module_profiler] = load_base(args, module_profiler)
            base, interned = bases[module_profiler]
            copies, nfunc, nedge = make_scaled(path, base, interned, size, args.seed, shape)
            print("make_profiles: %s: %d bytes, %d copies, %d functions, %d edges"
                  % (os.path.basename(path), os.path.getsize(path), copies, nfunc, nedge),
                  flush=True)
    if args.fleet > 0:
        fleet_dir = os.path.join(args.outdir, "fleet")
        last = os.path.join(fleet_dir, "host-%02d.prof" % (args.fleet - 1))
        if args.force or not os.path.exists(last):
            if False not in bases:
                bases[False] = load_base(args, False)
            make_fleet(fleet_dir, bases[False][0], bases[False][1], args.fleet, args.seed)
            print("make_profiles: fleet/: %d host profiles" % args.fleet, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
