"""`azconjur provider` and the summon-azconjur link, driven the way summon
drives a provider: stream mode over pipes, legacy mode one process per
secret."""
import base64
import os
import subprocess
import unittest

from tests.integration.emuproc import EmulatorTestCase
from tests.integration.helpers import AZCONJUR, clean_env

VALUES = {
    "app/db/password": b"Sup3r-S3cret-Pa55word",
    "app/tricky": b"line one\nline \"two\" costs $5 and 'more' \\ end",
    "app/unicode": "p\u00e4ssw\u00f6rd \u2603".encode(),
    "app/binary": base64.b64decode("AP8BgH9+/f7/AA=="),
    "app/sales&marketing key": b"odd-id-value",
}


class ProviderTest(EmulatorTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.link = os.path.join(cls.tmp.name, "summon-azconjur")
        os.symlink(os.path.abspath(AZCONJUR), cls.link)

    def start(self, *args, exe=None):
        argv = [exe] if exe else [AZCONJUR, "provider"]
        return subprocess.Popen(argv + list(args), env=self.env,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)

    def legacy(self, ident, exe=None):
        argv = [exe, ident] if exe else [AZCONJUR, "provider", ident]
        return subprocess.run(argv, env=self.env, capture_output=True,
                              timeout=60)

    def test_legacy_mode_prints_raw_value(self):
        for exe in (None, self.link):
            for ident, value in VALUES.items():
                r = self.legacy(ident, exe)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(r.stdout, value, ident)
                self.assertEqual(r.stderr, b"")

    def test_legacy_mode_failure(self):
        r = self.legacy("app/nope", self.link)
        self.assertEqual(r.returncode, 6)
        self.assertEqual(r.stdout, b"")
        self.assertIn(b"app/nope", r.stderr)
        self.assertEqual(len(r.stderr.splitlines()), 1)
        r = self.legacy("app/read-only", self.link)
        self.assertEqual(r.returncode, 6)
        r = subprocess.run([self.link, "a", "b"], env=self.env,
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 2)

    def test_stream_mode_like_summon(self):
        # summon writes every path first, then reads one line per path,
        # and only closes stdin when done
        for exe in (None, self.link):
            self.emu.reset()
            proc = self.start(exe=exe)
            ids = list(VALUES)
            proc.stdin.write(b"".join(i.encode() + b"\n" for i in ids))
            proc.stdin.flush()
            lines = [proc.stdout.readline() for _ in ids]
            proc.stdin.close()
            rest = proc.stdout.read()
            err = proc.stderr.read()
            proc.wait(timeout=30)
            self.assertEqual(proc.returncode, 0, err)
            self.assertEqual(err, b"")
            self.assertEqual(rest, b"")
            for ident, line in zip(ids, lines):
                self.assertTrue(line.endswith(b"\n"))
                self.assertEqual(base64.b64decode(line[:-1], validate=True),
                                 VALUES[ident], ident)
            counts = self.emu.counts()
            self.assertEqual(counts.get("authn_azure"), 1)
            # the paths arrived together: one batch request, no single reads
            self.assertEqual(counts.get("batch"), 1, counts)
            self.assertIsNone(counts.get("secret"), counts)

    def test_stream_mode_answers_each_line_at_once(self):
        proc = self.start()
        try:
            for ident in ("app/tricky", "app/binary", "app/tricky"):
                proc.stdin.write(ident.encode() + b"\n")
                proc.stdin.flush()
                line = proc.stdout.readline()  # blocks unless flushed
                self.assertEqual(base64.b64decode(line), VALUES[ident])
        finally:
            proc.stdin.close()
            proc.wait(timeout=30)
        self.assertEqual(proc.returncode, 0)
        self.assertEqual(proc.stderr.read(), b"")

    def test_stream_mode_failure_reports_on_stderr(self):
        proc = self.start()
        out, err = proc.communicate(b"app/db/password\napp/nope\n"
                                    b"app/tricky\n", timeout=60)
        self.assertEqual(proc.returncode, 6)
        self.assertEqual(out.splitlines(),
                         [base64.b64encode(VALUES["app/db/password"])])
        self.assertIn(b"app/nope", err)
        for v in VALUES.values():
            self.assertNotIn(v, err)

    def test_stream_mode_line_endings(self):
        # a last line without newline still counts; CRLF lines are accepted
        proc = self.start()
        out, err = proc.communicate(b"app/tricky\r\napp/db/password", timeout=60)
        self.assertEqual((proc.returncode, err), (0, b""))
        self.assertEqual(out.splitlines(), [base64.b64encode(VALUES["app/tricky"]),
                                            base64.b64encode(VALUES["app/db/password"])])

    def test_stream_mode_refuses_an_endless_line(self):
        proc = self.start()
        out, err = proc.communicate(b"x" * 70000, timeout=60)
        self.assertNotEqual(proc.returncode, 0)
        self.assertEqual(out, b"")
        self.assertIn(b"stdin line 1 is longer than 65536 bytes", err)

    def test_stream_mode_blank_line_is_an_error(self):
        proc = self.start()
        out, err = proc.communicate(b"\n", timeout=60)
        self.assertEqual(proc.returncode, 2)
        self.assertIn(b"line 1 of stdin is empty", err)
        self.assertEqual(out, b"")

    def test_stream_mode_with_nothing_to_read(self):
        proc = self.start()
        out, err = proc.communicate(b"", timeout=60)
        self.assertEqual((proc.returncode, out, err), (0, b"", b""))
        self.assertEqual(self.emu.counts().get("authn_azure"), None)

    def test_version(self):
        for argv in ([AZCONJUR, "provider", "--version"],
                     [self.link, "--version"], [self.link, "-V"]):
            r = subprocess.run(argv, env=clean_env(), capture_output=True,
                               timeout=30)
            self.assertEqual(r.returncode, 0)
            self.assertRegex(r.stdout, rb"^azconjur \d+\.\d+\.\d+\n$")


if __name__ == "__main__":
    unittest.main()
