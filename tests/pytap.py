#!/usr/bin/env -S /usr/bin/python3
"""Run unittest test files and report each test as one TAP line.

    /usr/bin/python3 tests/pytap.py [-k SUBSTRING] [--no-capture] PATH...

PATH is a test file or a folder searched recursively for `test_*.py`.
Output: `ok N - module.Class.test`, `not ok N - ...` followed by `# `
diagnostic lines, `ok N - ... # SKIP reason`, and the plan `1..N` at the end.
Exit status is 0 when nothing failed, 1 otherwise.

Whatever the tests themselves write to stdout or stderr (including their
child processes, which inherit the file descriptors) is captured, so it
cannot be mistaken for a TAP line; it is shown as diagnostics when the test
fails.
"""

import argparse
import importlib
import importlib.util
import os
import sys
import tempfile
import traceback
import unittest


def find_test_files(paths):
    files = []
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__")))
                files += [os.path.join(root, n) for n in sorted(names)
                          if n.startswith("test_") and n.endswith(".py")]
        elif os.path.isfile(path):
            files.append(path)
        else:
            raise SystemExit("pytap: no such file or folder: %s" % path)
    return [os.path.abspath(f) for f in files]


def import_test_file(path):
    """Import a test file under a dotted name that follows its path.

    Below the working directory (normally the repository root, which goes on
    sys.path) the name is the relative path: `tests/emulators/test_x.py` is
    `tests.emulators.test_x`, so tests import shared code the same way
    (`from tests.emulators.client import Emulators`). A file in a folder
    without `__init__.py` also gets its folder on sys.path, for its helpers.
    """
    folder = os.path.dirname(path)
    if not os.path.isfile(os.path.join(folder, "__init__.py")) and folder not in sys.path:
        sys.path.insert(0, folder)
    cwd = os.getcwd()
    parts = os.path.relpath(path, cwd)[:-3].split(os.sep)
    if parts[0] != ".." and all(part.isidentifier() for part in parts):
        if cwd not in sys.path:
            sys.path.insert(0, cwd)
        return importlib.import_module(".".join(parts))
    unique = "pytap_" + "".join(c if c.isalnum() else "_" for c in path)
    spec = importlib.util.spec_from_file_location(unique, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[unique] = module
    spec.loader.exec_module(module)
    return module


class OutputCapture:
    """Points fds 1 and 2 at a temporary file; TAP lines go to a saved copy of fd 1."""

    def __init__(self, enabled):
        self.enabled = enabled
        self.tap = os.fdopen(os.dup(1), "w", buffering=1)
        self.offset = 0
        if enabled:
            self.sink = tempfile.TemporaryFile()
            sys.stdout.flush()
            sys.stderr.flush()
            self.saved = (os.dup(1), os.dup(2))
            os.dup2(self.sink.fileno(), 1)
            os.dup2(self.sink.fileno(), 2)

    def take(self):
        """What the tests wrote since the last call."""
        if not self.enabled:
            return ""
        sys.stdout.flush()
        sys.stderr.flush()
        self.sink.seek(self.offset)
        data = self.sink.read()
        self.offset += len(data)
        self.sink.seek(0, os.SEEK_END)
        return data.decode("utf-8", "replace")

    def close(self):
        if self.enabled:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(self.saved[0], 1)
            os.dup2(self.saved[1], 2)
        self.tap.flush()


class TapResult(unittest.TestResult):
    def __init__(self, capture):
        super().__init__()
        self.capture = capture
        self.number = 0
        self.failed = 0

    def _emit(self, ok, name, directive="", diagnostics=""):
        self.number += 1
        line = "%s %d - %s%s" % ("ok" if ok else "not ok", self.number, name, directive)
        self.capture.tap.write(line.replace("\n", " ") + "\n")
        for text in diagnostics.splitlines():
            self.capture.tap.write("# " + text + "\n")
        if not ok:
            self.failed += 1

    @staticmethod
    def _name(test):
        return test.id()

    def startTest(self, test):
        super().startTest(test)
        self.capture.take()

    def addSuccess(self, test):
        super().addSuccess(test)
        self._emit(True, self._name(test))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._emit(True, self._name(test), " # SKIP " + reason)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._emit(True, self._name(test), " # TODO expected failure")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._emit(False, self._name(test), " # unexpected success")

    def _failure(self, test, err):
        text = self._exc_info_to_string(err, test) if isinstance(test, unittest.TestCase) \
            else "".join(traceback.format_exception(*err))
        output = self.capture.take()
        if output.strip():
            text += "\n--- output of the test ---\n" + output
        self._emit(False, self._name(test), diagnostics=text)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._failure(test, err)

    def addError(self, test, err):
        super().addError(test, err)
        self._failure(test, err)   # also covers setUpClass/tearDownClass errors

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._failure(subtest, err)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+")
    parser.add_argument("-k", dest="pattern", help="run only tests whose id contains this")
    parser.add_argument("--no-capture", action="store_true",
                        help="let tests write straight to the terminal")
    args = parser.parse_args(argv)

    capture = OutputCapture(not args.no_capture)
    result = TapResult(capture)
    try:
        for path in find_test_files(args.paths):
            try:
                module = import_test_file(path)
            except Exception:  # noqa: BLE001 - report the broken file and keep going
                result._emit(False, os.path.relpath(path) + " (import)",
                             diagnostics=traceback.format_exc())
                continue
            suite = unittest.defaultTestLoader.loadTestsFromModule(module)
            if args.pattern:
                suite = unittest.TestSuite(t for t in iterate(suite) if args.pattern in t.id())
            suite.run(result)
        capture.tap.write("1..%d\n" % result.number)
    finally:
        capture.close()
    return 1 if result.failed else 0


def iterate(suite):
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from iterate(item)
        else:
            yield item


if __name__ == "__main__":
    sys.exit(main())
