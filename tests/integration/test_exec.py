"""`azconjur exec` against the emulators: every secrets.yml feature, the
value that must reach the child byte for byte, !file lifetimes, signals
and exit codes."""
import json
import os
import re
import signal
import stat
import subprocess
import sys
import textwrap
import time
import unittest

from tests.integration.emuproc import EmulatorTestCase
from tests.integration.helpers import AZCONJUR, azconjur

FIXTURE = {
    "app/db/password": b"Sup3r-S3cret-Pa55word",
    "app/db/username": b"app_user",
    "app/tricky": b"line one\nline \"two\" costs $5 and 'more' \\ end",
    "app/unicode": "p\u00e4ssw\u00f6rd \u2603".encode(),
}

# The child: reports its environment (hex, so every byte survives), the
# mode and content of every path-valued variable, and its pid.
CHILD = textwrap.dedent("""
    import json, os, stat, sys
    env = {k.decode(): v.hex() for k, v in os.environb.items()}
    files = {}
    for k, v in os.environ.items():
        if (os.path.basename(os.path.dirname(v)).startswith("azconjur.")
                and os.path.isfile(v)):
            st = os.stat(v)
            files[k] = {"path": v, "mode": stat.S_IMODE(st.st_mode),
                        "dir_mode": stat.S_IMODE(os.stat(os.path.dirname(v)).st_mode),
                        "content": open(v, "rb").read().hex()}
    json.dump({"env": env, "files": files, "pid": os.getpid()}, sys.stdout)
    sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
""")


class ExecTest(EmulatorTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.child = os.path.join(cls.tmp.name, "child.py")
        with open(cls.child, "w") as f:
            f.write(CHILD)

    def secrets_file(self, text):
        path = os.path.join(self.tmp.name, "secrets.yml")
        with open(path, "w") as f:
            f.write(textwrap.dedent(text))
        return path

    def exec(self, text, *options, cmd=None, extra_env=None, code=0):
        path = self.secrets_file(text)
        cmd = cmd or [sys.executable, self.child, str(code)]
        return azconjur("exec", "-f", path, *options, "--", *cmd,
                        env=self.env, extra_env=extra_env)

    def report(self, r):
        self.assertEqual(r.stderr, b"", r.stderr)
        out = json.loads(r.stdout)
        out["env"] = {k: bytes.fromhex(v) for k, v in out["env"].items()}
        return out

    def assert_no_leak(self, r, values=FIXTURE.values()):
        for v in values:
            self.assertNotIn(v, r.stdout + r.stderr)
        # no JWT (platform token) and no Conjur access token, in any form
        self.assertIsNone(re.search(rb"eyJ[A-Za-z0-9_-]{8,}\.", r.stdout + r.stderr))
        self.assertNotIn(b'"protected"', r.stdout + r.stderr)

    def test_values_reach_the_child_byte_for_byte_in_one_batch(self):
        r = self.exec("""
            DB_PASS: !var app/db/password
            DB_USER: !var app/db/username
            TRICKY: !var app/tricky
            UNICODE: !var app/unicode
        """)
        self.assertEqual(r.returncode, 0, r.stderr)
        env = self.report(r)["env"]
        self.assertEqual(env["DB_PASS"], FIXTURE["app/db/password"])
        self.assertEqual(env["DB_USER"], FIXTURE["app/db/username"])
        self.assertEqual(env["TRICKY"], FIXTURE["app/tricky"])
        self.assertEqual(env["UNICODE"], FIXTURE["app/unicode"])
        counts = self.emu.counts()
        self.assertEqual(counts.get("batch"), 1, counts)
        self.assertEqual(counts.get("authn_azure"), 1, counts)
        self.assertNotIn("secret", counts)

    def test_replaces_itself_without_file_entries(self):
        path = self.secrets_file("A: !var app/db/username\n")
        proc = subprocess.Popen([AZCONJUR, "exec", "-f", path, "--",
                                 sys.executable, self.child],
                                env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(json.loads(out)["pid"], proc.pid)

    def test_exit_status_is_the_commands(self):
        r = self.exec("A: plain\n", code=42)
        self.assertEqual(r.returncode, 42)
        r = self.exec("A: !var:file app/db/username\n", code=43)
        self.assertEqual(r.returncode, 43)

    def test_child_environment_is_scrubbed(self):
        extra = {"IDENTITY_HEADER": "hdr-secret-1", "MSI_SECRET": "msi-2",
                 "CONJUR_AUTHN_API_KEY": "apikey-3", "KEEP": "kept",
                 "CONJUR_AUTHN_JWT_TOKEN": self.emu.mint()}
        r = self.exec("A: !var app/db/username\n", extra_env=extra)
        env = self.report(r)["env"]
        for name in ("IDENTITY_HEADER", "MSI_SECRET", "CONJUR_AUTHN_API_KEY",
                     "CONJUR_AUTHN_JWT_TOKEN"):
            self.assertNotIn(name, env)
        self.assertEqual(env["KEEP"], b"kept")
        self.assertEqual(env["A"], b"app_user")

    def test_child_inherits_no_network_connection(self):
        # every TCP socket the child holds, by inode from /proc/net/tcp*
        probe = textwrap.dedent("""
            import os, sys
            inodes = set()
            for table in ("/proc/net/tcp", "/proc/net/tcp6"):
                try:
                    with open(table) as f:
                        inodes |= {line.split()[9] for line in list(f)[1:]}
                except OSError:
                    pass
            held = []
            for fd in os.listdir("/proc/self/fd"):
                try:
                    target = os.readlink("/proc/self/fd/" + fd)
                except OSError:
                    continue
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    held.append(fd)
            print(" ".join(held))
        """)
        for entry in ("A: !var app/db/username\n",          # replaces itself
                      "A: !var:file app/db/username\n"):    # supervises
            r = self.exec(entry, cmd=[sys.executable, "-c", probe])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout.strip(), b"", "TCP sockets leaked to the child")

    def test_child_gets_inherited_descriptors_and_none_of_ours(self):
        # a descriptor azconjur was started with (socket activation, a
        # parent's pipe) reaches the child; curl's sockets and every other
        # descriptor azconjur opened do not
        probe = "import os; print(' '.join(sorted(os.listdir('/proc/self/fd'), key=int)))"
        path = os.path.join(self.tmp.name, "inherit.yml")
        read_end, write_end = os.pipe()
        try:
            for entry in ("A: !var app/db/username\n",          # replaces itself
                          "A: !var:file app/db/username\n"):    # supervises
                with open(path, "w") as f:
                    f.write(entry)
                r = subprocess.run([AZCONJUR, "exec", "-f", path, "--", sys.executable, "-c",
                                    probe], env=self.env, capture_output=True, timeout=60,
                                   pass_fds=(write_end,))
                self.assertEqual(r.returncode, 0, r.stderr)
                fds = [int(x) for x in r.stdout.split()]
                extra = [fd for fd in fds if fd > 2]
                # the probe's own listing descriptor is the one other entry
                self.assertIn(write_end, extra, entry)
                self.assertEqual(len(extra), 2, (entry, extra))
        finally:
            os.close(read_end)
            os.close(write_end)

    def test_revealed_value_refused_in_argv(self):
        # a revealed value is a plain Lua string, but still a secret's bytes:
        # deliver.exec refuses it in argv (visible to every local user)
        script = os.path.join(self.tmp.name, "argv.lua")
        with open(script, "w") as f:
            f.write('local c = require("conjur").connect()\n'
                    'local pw = c:secret("app/db/password"):reveal()\n'
                    'require("deliver").exec({ "echo", "--password=" .. pw })\n')
        r = azconjur("run", script, env=self.env)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(b"argument 2 of the command contains the value of a secret", r.stderr)
        self.assert_no_leak(r)

    def test_literals_and_tags(self):
        r = self.exec("""
            PLAIN: hello
            STR: !str 0123
            INT: !int 42
            BOOL: !bool true
            FLOAT: !float 1.5
            QUOTED: "with: colon"
            LITERAL_DEFAULT: !default='lit'
        """)
        env = self.report(r)["env"]
        self.assertEqual(
            {k: env[k] for k in ("PLAIN", "STR", "INT", "BOOL", "FLOAT",
                                 "QUOTED", "LITERAL_DEFAULT")},
            {"PLAIN": b"hello", "STR": b"0123", "INT": b"42", "BOOL": b"true",
             "FLOAT": b"1.5", "QUOTED": b"with: colon",
             "LITERAL_DEFAULT": b"lit"})
        self.assertEqual(self.emu.counts().get("authn_azure"), None)

    def test_substitution_and_double_dollar(self):
        r = self.exec("""
            PASS: !var app/$part/password
            PRICE: costs $$5 in $region
        """, "-D", "part=db", "-D", "region=eu-west")
        env = self.report(r)["env"]
        self.assertEqual(env["PASS"], FIXTURE["app/db/password"])
        self.assertEqual(env["PRICE"], b"costs $5 in eu-west")

    def test_undeclared_substitution_is_an_error(self):
        r = self.exec("PASS: !var app/$part/password\n")
        self.assertEqual(r.returncode, 3)
        self.assertIn(b"'PASS' uses $part, which is not defined (pass -D "
                      b"part=VALUE, or write $$ for a literal $)", r.stderr)
        self.assertEqual(r.stdout, b"")

    def test_environments(self):
        text = """
            common:
              USER: !var app/db/username
              SHARED: common-value
            default:
              IGNORED: because-common-exists
            prod:
              SHARED: prod-value
              PASS: !var app/db/password
        """
        env = self.report(self.exec(text, "-e", "prod"))["env"]
        self.assertEqual(env["SHARED"], b"prod-value")
        self.assertEqual(env["USER"], b"app_user")
        self.assertEqual(env["PASS"], FIXTURE["app/db/password"])
        self.assertEqual(env["SUMMON_ENV"], b"prod")
        self.assertNotIn("IGNORED", env)

        env = self.report(self.exec("""
            default: {A: from-default}
            dev: {B: dev}
        """, "-e", "dev"))["env"]
        self.assertEqual((env["A"], env["B"]), (b"from-default", b"dev"))

        r = self.exec(text, "-e", "staging")
        self.assertEqual(r.returncode, 3)
        self.assertIn(b"No such environment 'staging' found in secrets file",
                      r.stderr)
        r = self.exec("A: flat\n", "-e", "prod")
        self.assertIn(b"No such environment 'prod'", r.stderr)
        r = self.exec(text)
        self.assertEqual(r.returncode, 3)
        self.assertIn(b"is a section; pick one with -e ENVIRONMENT", r.stderr)

    def test_defaults(self):
        r = self.exec("""
            MISSING: !var:default='fallback' app/does-not-exist
            EMPTY: !var:default='was-empty' app/empty
            PRESENT: !var:default='unused' app/db/username
            PLAIN: !var app/db/password
        """)
        env = self.report(r)["env"]
        self.assertEqual(env["MISSING"], b"fallback")
        self.assertEqual(env["EMPTY"], b"was-empty")
        self.assertEqual(env["PRESENT"], b"app_user")
        self.assertEqual(env["PLAIN"], FIXTURE["app/db/password"])

    def test_forbidden_stays_an_error_despite_default(self):
        # app/read-only may be seen but not read: Conjur answers 403
        r = self.exec("RO: !var:default='x' app/read-only\n"
                      "PASS: !var app/db/password\n")
        self.assertEqual(r.returncode, 6, r.stderr)
        self.assertIn(b"app/read-only", r.stderr)
        self.assertEqual(r.stdout, b"")
        self.assert_no_leak(r)

    def test_missing_variable_names_it(self):
        r = self.exec("A: !var app/db/password\nB: !var app/nope\n")
        self.assertEqual(r.returncode, 6)
        self.assertIn(b"app/nope", r.stderr)
        self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
        self.assert_no_leak(r)

    def test_unknown_tag_and_bad_files(self):
        r = self.exec("A: !vra app/db/password\n")
        self.assertEqual(r.returncode, 3)
        self.assertIn(b"unknown tag '!vra' for 'A'", r.stderr)
        r = self.exec("A: [unclosed\n")
        self.assertEqual(r.returncode, 3)
        self.assertIn(b"secrets.yml", r.stderr)
        r = azconjur("exec", "-f", "/nonexistent/secrets.yml", "--", "true",
                     env=self.env)
        self.assertEqual(r.returncode, 3)
        self.assertIn(b"cannot read secrets file: /nonexistent/secrets.yml",
                      r.stderr)

    def test_default_file_is_secrets_yml_in_cwd(self):
        self.secrets_file("FROM_CWD: yes-it-is\n")
        r = subprocess.run([AZCONJUR, "exec", sys.executable, self.child],
                           cwd=self.tmp.name, env=self.env,
                           capture_output=True, timeout=60)
        self.assertEqual(self.report(r)["env"]["FROM_CWD"], b"yes-it-is")

    def test_command_that_cannot_run(self):
        r = self.exec("A: x\n", cmd=["azconjur-no-such-command"])
        self.assertEqual(r.returncode, 127)
        self.assertIn(b"command not found", r.stderr)
        r = self.exec("A: x\n", cmd=["/etc/hostname"])
        self.assertEqual(r.returncode, 126)
        r = self.exec("A: !var:file app/db/password\n", cmd=["/etc/hostname"])
        self.assertEqual(r.returncode, 126)
        self.assertEqual(os.listdir(self.tmp.name).count("x"), 0)

    def test_usage_errors(self):
        for args, message in ((["exec"], b"exec needs a command to run"),
                              (["exec", "--bogus", "x"],
                               b"unknown option '--bogus'"),
                              (["exec", "-D", "novalue", "true"],
                               b"-D takes NAME=VALUE")):
            r = azconjur(*args, env=self.env)
            self.assertEqual(r.returncode, 2, args)
            self.assertIn(message, r.stderr)
        r = azconjur("exec", "--help", env=self.env)
        self.assertEqual(r.returncode, 0)
        self.assertIn(b"usage: azconjur exec", r.stdout)

    def test_inline_yaml(self):
        r = azconjur("exec", "--yaml", "A: !var app/db/username", "--",
                     sys.executable, self.child, env=self.env)
        self.assertEqual(self.report(r)["env"]["A"], b"app_user")

    def test_file_entries_are_0600_during_the_run_and_gone_after(self):
        r = self.exec("""
            CERT: !var:file app/tricky
            ALSO: !file:var app/db/password
            LITERAL_FILE: !file some literal text
            PLAIN: !var app/db/username
        """)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = self.report(r)
        files = out["files"]
        self.assertEqual(set(files), {"CERT", "ALSO", "LITERAL_FILE"})
        for f in files.values():
            self.assertEqual(f["mode"], 0o600)
            self.assertEqual(f["dir_mode"], 0o700)
            if os.path.isdir("/dev/shm"):
                self.assertTrue(f["path"].startswith("/dev/shm/"), f)
            self.assertFalse(os.path.exists(f["path"]))
            self.assertFalse(os.path.exists(os.path.dirname(f["path"])))
        self.assertEqual(bytes.fromhex(files["CERT"]["content"]),
                         FIXTURE["app/tricky"])
        self.assertEqual(bytes.fromhex(files["ALSO"]["content"]),
                         FIXTURE["app/db/password"])
        self.assertEqual(bytes.fromhex(files["LITERAL_FILE"]["content"]),
                         b"some literal text")
        self.assertEqual(out["env"]["PLAIN"], b"app_user")
        self.assertEqual(self.emu.counts().get("batch"), 1)

    def test_file_removed_when_child_dies_of_a_signal(self):
        for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGSEGV):
            marker = os.path.join(self.tmp.name, "path")
            cmd = [sys.executable, "-c",
                   "import os,sys; open(sys.argv[1],'w').write("
                   "os.environ['CERT']); os.kill(os.getpid(), %d)" % sig,
                   marker]
            r = self.exec("CERT: !var:file app/tricky\n", cmd=cmd)
            self.assertEqual(r.returncode, 128 + sig, r.stderr)
            with open(marker) as f:
                path = f.read()
            self.assertTrue(path)
            self.assertFalse(os.path.exists(path))
            self.assertFalse(os.path.exists(os.path.dirname(path)))

    def test_file_removed_when_azconjur_gets_sigterm(self):
        ready = os.path.join(self.tmp.name, "ready")
        if os.path.exists(ready):
            os.unlink(ready)
        path = self.secrets_file("CERT: !var:file app/tricky\n")
        cmd = [sys.executable, "-c", textwrap.dedent("""
            import os, signal, sys, time
            def bye(sig, frame):
                sys.exit(3)
            signal.signal(signal.SIGTERM, bye)
            with open(sys.argv[1] + ".tmp", "w") as f:
                f.write(os.environ["CERT"])
            os.rename(sys.argv[1] + ".tmp", sys.argv[1])
            while True:
                time.sleep(0.05)
        """), ready]
        proc = subprocess.Popen([AZCONJUR, "exec", "-f", path, "--", *cmd],
                                env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 30
            while not os.path.exists(ready):
                self.assertLess(time.monotonic(), deadline)
                self.assertIsNone(proc.poll())
                time.sleep(0.01)
            with open(ready) as f:
                secret_path = f.read()
            self.assertEqual(stat.S_IMODE(os.stat(secret_path).st_mode),
                             0o600)
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.assertEqual(proc.returncode, 3, err)
        self.assertFalse(os.path.exists(secret_path))
        self.assertNotIn(FIXTURE["app/tricky"], out + err)


if __name__ == "__main__":
    unittest.main()
