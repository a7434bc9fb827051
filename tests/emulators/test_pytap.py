"""tests/pytap.py: TAP lines, diagnostics, skips, captured output and exit status."""

import os
import subprocess
import tempfile
import textwrap
import unittest

from .client import PYTHON, REPO_ROOT

PYTAP = os.path.join(REPO_ROOT, "tests", "pytap.py")

SAMPLE = '''
import os
import sys
import unittest

class Sample(unittest.TestCase):
    def test_a_passes(self):
        print("ok 99 - printed by a test")
        os.system("echo not ok 98 - printed by a child")

    def test_b_fails(self):
        print("helpful output")
        self.assertEqual(1, 2)

    @unittest.skip("not today")
    def test_c_skipped(self):
        pass

    def test_d_errors(self):
        raise RuntimeError("boom")
'''


class PytapTest(unittest.TestCase):
    def run_pytap(self, *args, files=None):
        with tempfile.TemporaryDirectory() as folder:
            for name, text in (files or {}).items():
                with open(os.path.join(folder, name), "w", encoding="utf-8") as handle:
                    handle.write(textwrap.dedent(text))
            return subprocess.run([PYTHON, PYTAP, *args, folder], capture_output=True,
                                  text=True, timeout=60, check=False, cwd=folder)

    def test_tap_lines_and_exit_status(self):
        result = self.run_pytap(files={"test_sample.py": SAMPLE, "helper.py": "X = 1\n"})
        self.assertEqual(result.returncode, 1)
        lines = result.stdout.splitlines()
        verdicts = [l for l in lines if l.startswith(("ok ", "not ok "))]
        self.assertEqual(verdicts, [
            "ok 1 - test_sample.Sample.test_a_passes",
            "not ok 2 - test_sample.Sample.test_b_fails",
            "ok 3 - test_sample.Sample.test_c_skipped # SKIP not today",
            "not ok 4 - test_sample.Sample.test_d_errors",
        ])
        self.assertEqual(lines[-1], "1..4")
        self.assertTrue(all(l.startswith(("ok ", "not ok ", "# ", "1..")) for l in lines),
                        lines)
        self.assertIn("# AssertionError: 1 != 2", lines)
        self.assertIn("# helpful output", lines)
        self.assertIn("# RuntimeError: boom", lines)

    def test_all_passing_exits_zero_and_k_filters(self):
        result = self.run_pytap("-k", "test_a", files={"test_sample.py": SAMPLE})
        self.assertEqual(result.returncode, 0, result.stdout)
        self.assertEqual(result.stdout.splitlines(),
                         ["ok 1 - test_sample.Sample.test_a_passes", "1..1"])

    def test_import_error_is_a_failure(self):
        result = self.run_pytap(files={"test_broken.py": "import no_such_module_here\n"})
        self.assertEqual(result.returncode, 1)
        self.assertTrue(result.stdout.startswith("not ok 1 - test_broken.py (import)"))

    def test_class_setup_failure_is_reported(self):
        text = '''
        import unittest
        class Broken(unittest.TestCase):
            @classmethod
            def setUpClass(cls):
                raise OSError("no emulator")
            def test_x(self):
                pass
        '''
        result = self.run_pytap(files={"test_setup.py": text})
        self.assertEqual(result.returncode, 1)
        self.assertIn("not ok 1 - setUpClass (test_setup.Broken)", result.stdout)
