#!/usr/bin/env -S /usr/bin/python3
"""Run unittest suites and print one TAP line per test.

usage: pytap.py DIR_OR_FILE...

Discovers test_*.py under each directory (or takes the files named), runs
them, and prints `ok N - id`, `not ok N - id` (with `# ` diagnostics) or
`ok N - id # SKIP reason`.  Exits 0 when nothing failed.
"""
import os
import sys
import unittest


class TapResult(unittest.TestResult):
    """A TestResult that reports each test as it finishes."""

    def __init__(self):
        super().__init__()
        self.count = 0
        self.bad = 0

    def _line(self, ok, test, note=""):
        self.count += 1
        word = "ok" if ok else "not ok"
        print(f"{word} {self.count} - {test.id()}{note}", flush=True)

    def addSuccess(self, test):
        self._line(True, test)

    def addSkip(self, test, reason):
        self._line(True, test, f" # SKIP {reason}")

    def _failed(self, test, err):
        self.bad += 1
        self._line(False, test)
        for line in self._exc_info_to_string(err, test).splitlines():
            print(f"#   {line}")

    def addFailure(self, test, err):
        self._failed(test, err)

    def addError(self, test, err):
        self._failed(test, err)

    def addExpectedFailure(self, test, err):
        self._line(True, test, " # TODO expected failure")

    def addUnexpectedSuccess(self, test):
        self.bad += 1
        self._line(False, test, " # unexpected success")


def load(paths):
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for path in paths:
        if os.path.isdir(path):
            suite.addTests(loader.discover(path, pattern="test_*.py", top_level_dir=top))
        else:
            rel = os.path.relpath(os.path.abspath(path), top)
            name = rel[:-3].replace(os.sep, ".")
            suite.addTests(loader.loadTestsFromName(name))
    return suite


def main(argv):
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sys.path.insert(0, top)
    result = TapResult()
    load(argv[1:] or ["tests"]).run(result)
    print(f"1..{result.count}")
    return 1 if result.bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
