#!/usr/bin/env python3
"""The workload profiled by make_profiles.py: a slice of CPython's own test suite.

Running stdlib test modules under cProfile yields a profile with the shape of a
real application profile: thousands of Python functions spread over hundreds of
files, builtins and C methods, recursion, deep and wide call graphs.

    python3.11 bench/workload.py [--profile-module] OUT.prof [MODULE ...]

writes the cProfile dump (with --profile-module: the pure-Python `profile`
module's, whose keys include a code object and whose callers are call counts)
of running the given test modules (default: a fixed list that completes in
well under a minute under cProfile, a few minutes under `profile`) to OUT.prof. Test output goes to an
in-memory buffer; failures of individual tests do not matter for profiling.
"""
import cProfile
import importlib
import profile
import io
import os
import sys
import unittest

DEFAULT_MODULES = [
    "test.test_argparse",
    "test.test_configparser",
    "test.test_csv",
    "test.test_difflib",
    "test.test_fractions",
    "test.test_ipaddress",
    "test.test_json",
    "test.test_pprint",
    "test.test_statistics",
    "test.test_textwrap",
    "test.test_tomllib",
    "test.test_dataclasses",
    "test.test_enum",
    "test.test_calendar",
    "test.test_html",
    "test.test_htmlparser",
    "test.test_minidom",
    "test.test_shlex",
    "test.test_string",
    "test.test_gettext",
    "test.test_urllib_response",
]


def load_suite(names):
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    for name in names:
        try:
            module = importlib.import_module(name)
        except Exception as exc:  # a module missing from this Python: skip it
            sys.stderr.write("workload: skipping %s (%s)\n" % (name, exc))
            continue
        suite.addTests(loader.loadTestsFromModule(module))
    return suite


def main(argv):
    args = argv[1:]
    use_profile = bool(args) and args[0] == "--profile-module"
    if use_profile:
        args = args[1:]
    if not args:
        sys.stderr.write(__doc__)
        return 2
    out = args[0]
    names = args[1:] or DEFAULT_MODULES
    suite = load_suite(names)
    if suite.countTestCases() == 0:
        sys.stderr.write("workload: no test module could be loaded (is CPython's "
                         "test suite installed?)\n")
        return 1
    sink = io.StringIO()
    runner = unittest.TextTestRunner(stream=sink, verbosity=0)
    old_cwd = os.getcwd()
    if use_profile:
        # As `python -m profile script.py` runs a script: a code object run
        # by runctx, which the profile module keys as ('profile', 0, code).
        prof = profile.Profile()
        scope = {"runner": runner, "suite": suite}
        try:
            prof.runctx(compile("result = runner.run(suite)", "workload.py", "exec"),
                        scope, scope)
        finally:
            os.chdir(old_cwd)
        result = scope["result"]
    else:
        prof = cProfile.Profile()
        prof.enable()
        try:
            result = runner.run(suite)
        finally:
            prof.disable()
            os.chdir(old_cwd)
    prof.dump_stats(out)
    sys.stderr.write("workload: %d tests run, %d failures, %d errors\n"
                     % (result.testsRun, len(result.failures), len(result.errors)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
