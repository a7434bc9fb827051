"""The example scripts and `make demo`, run for real against the
emulators (systemctl and the Functions host replaced by stand-ins)."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

from tests.integration.emuproc import ROOT, Emulators
from tests.integration.helpers import AZCONJUR, azconjur, clean_env

EXAMPLES = os.path.join(ROOT, "scripts", "examples")
PASSWORD = b"Sup3r-S3cret-Pa55word"
TRICKY = b"line one\nline \"two\" costs $5 and 'more' \\ end"


class ExamplesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emu = Emulators().__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.emu.__exit__(None, None, None)

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.env = self.emu.conjur_env(clean_env())

    def tearDown(self):
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def test_inject(self):
        r = azconjur("run", os.path.join(EXAMPLES, "inject.lua"),
                     "PW=app/db/password", "T=app/tricky", "--",
                     sys.executable, "-c",
                     "import os,sys; sys.stdout.buffer.write("
                     "os.environb[b'PW'] + b'|' + os.environb[b'T'])",
                     env=self.env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, PASSWORD + b"|" + TRICKY)

    def test_vm_bootstrap_restarts_only_on_change(self):
        bindir = self.path("bin")
        os.mkdir(bindir)
        calls = self.path("calls")
        with open(os.path.join(bindir, "systemctl"), "w") as f:
            f.write("#!/bin/sh\necho \"$*\" >> %s\n" % calls)
        os.chmod(os.path.join(bindir, "systemctl"), 0o755)
        with open(self.path("config.tmpl"), "w") as f:
            f.write("user = {{ db_user }}\npassword = {{ db_password | json }}"
                    "\nurl = pg://{{ db_user | urlencode }}:"
                    "{{ db_password | urlencode }}@db\n")
        env = dict(self.env, PATH=bindir + ":" + self.env["PATH"])
        args = ("run", os.path.join(EXAMPLES, "vm-bootstrap.lua"),
                self.path("config.tmpl"), self.path("config.ini"), "myapp")
        for _ in range(2):
            r = azconjur(*args, env=env)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertNotIn(PASSWORD, r.stdout + r.stderr)
        with open(calls) as f:
            self.assertEqual(f.read(), "restart myapp\n")
        with open(self.path("config.ini"), "rb") as f:
            self.assertEqual(f.read(), b"user = app_user\npassword = \""
                             + PASSWORD + b"\"\nurl = pg://app_user:"
                             + PASSWORD + b"@db\n")
        self.assertEqual(os.stat(self.path("config.ini")).st_mode & 0o777,
                         0o640)

    def test_functions_startup(self):
        host = self.path("host.py")
        with open(host, "w") as f:
            f.write("import json, os, sys\n"
                    "s = json.load(open(os.environ['AZCONJUR_SETTINGS_FILE']))\n"
                    "json.dump({'file': s, 'argv': sys.argv[1:],"
                    " 'env': os.environ['SqlConnectionPassword'],"
                    " 'pid': os.getpid()}, sys.stdout)\n")
        os.chmod(host, 0o755)
        with open(host) as f:
            body = f.read()
        with open(host, "w") as f:
            f.write("#!%s\n%s" % (sys.executable, body))
        env = dict(self.env, AZCONJUR_SETTINGS_FILE=self.path("s.json"))
        proc = subprocess.Popen(
            [AZCONJUR, "run", os.path.join(EXAMPLES, "functions-startup.lua"),
             host, "--flag"], env=env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)
        got = json.loads(out)
        self.assertEqual(got["file"], {"SqlConnectionPassword":
                                       PASSWORD.decode(),
                                       "SqlConnectionUser": "app_user"})
        self.assertEqual(got["env"], PASSWORD.decode())
        self.assertEqual(got["argv"], ["--flag"])
        self.assertEqual(got["pid"], proc.pid)
        self.assertEqual(os.stat(self.path("s.json")).st_mode & 0o777, 0o600)


class DemoTest(unittest.TestCase):
    def test_demo_runs_masked_and_leaves_nothing(self):
        shm_before = set(os.listdir("/dev/shm")) if os.path.isdir(
            "/dev/shm") else set()
        r = subprocess.run([os.path.join(ROOT, "scripts", "demo")],
                           env=clean_env(AZCONJUR=os.path.abspath(AZCONJUR)),
                           capture_output=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        out = r.stdout + r.stderr
        for step in (b"platform token", b"authenticate", b"one batch",
                     b"0600 file", b"child process", b"is gone"):
            self.assertIn(step, out)
        for value in (PASSWORD, TRICKY, b"Sup3r"):
            self.assertNotIn(value, out)
        self.assertIn(b"*****", r.stderr)
        if os.path.isdir("/dev/shm"):
            left = {n for n in set(os.listdir("/dev/shm")) - shm_before
                    if n.startswith("azconjur.")}
            self.assertEqual(left, set())


if __name__ == "__main__":
    unittest.main()
