"""deliver.* against real processes and files: exec in place and
supervised, signals, 126/127, the scrubbed environment, atomic files."""
import os
import signal
import stat
import subprocess
import sys
import tempfile
import time
import unittest

from tests.integration.helpers import AZCONJUR, azconjur, clean_env

TRICKY = "line one\nit's \"q\" costs $5 \\ \u00fc\u2603 `x`"
PY = sys.executable

def lua_str(text):
    """A Lua string literal for text (bytes escaped one by one)."""
    return '"' + "".join("\\%d" % b for b in text.encode()) + '"'


SCRUBBED = ("IDENTITY_HEADER", "MSI_SECRET", "CONJUR_AUTHN_API_KEY",
            "CONJUR_AUTHN_JWT_TOKEN")


def wait_for(predicate, timeout=10.0):
    """Poll until predicate() is true; fail the test on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    raise AssertionError("condition not reached in %ss" % timeout)


class DeliverProcessTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.env = clean_env()

    def tearDown(self):
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def script(self, body):
        p = self.path("script.lua")
        with open(p, "w") as f:
            f.write("local deliver = require 'deliver'\n"
                    "local function secret(s) return deliver.template("
                    "'{{ v }}', { v = s }) end\n"
                    "local TRICKY = %s\n%s" % (lua_str(TRICKY), body))
        return p

    def run_lua(self, body, **kw):
        kw.setdefault("env", self.env)
        return azconjur("run", self.script(body), **kw)

    def test_sourced_dotenv_runs_nothing(self):
        marker = self.path("ran")
        hostile = "`touch %s`$(touch %s)'\"\\x" % (marker, marker)
        r = self.run_lua("""
local f = deliver.format({ V = secret(%s) }, "dotenv")
deliver.file(%s, f)
""" % (lua_str(hostile), lua_str(self.path("app.env"))))
        self.assertEqual(r.returncode, 0, r.stderr)
        sh = subprocess.run(["sh", "-c", '. "$1"; printf %s "$V"', "sh", self.path("app.env")],
                            capture_output=True, env=self.env)
        self.assertFalse(os.path.exists(marker), "sourcing the dotenv file ran a command")
        self.assertEqual(sh.stdout.decode(), hostile)

    def test_exec_in_place_passes_value_byte_for_byte(self):
        r = self.run_lua("""
deliver.exec({ %s, "-c", "import os,sys; sys.stdout.buffer.write(" ..
  "os.environb[b'V']); sys.exit(7)" }, { env = { V = secret(TRICKY) } })
print("not reached")
""" % lua_str(PY))
        self.assertEqual(r.returncode, 7, r.stderr)
        self.assertEqual(r.stdout, TRICKY.encode())
        self.assertEqual(r.stderr, b"")

    def test_exec_in_place_keeps_pid(self):
        r = self.run_lua("""
local f = assert(io.open("/proc/self/stat")); local pid = f:read("n"); f:close()
io.stdout:write(pid, " "); io.stdout:flush()
deliver.exec({ %s, "-c", "import os; print(os.getpid())" })
""" % lua_str(PY))
        self.assertEqual(r.returncode, 0, r.stderr)
        before, after = r.stdout.split()
        self.assertEqual(before, after)

    def test_child_never_inherits_platform_secrets(self):
        extra = {name: "leak-%s-value" % name.lower() for name in SCRUBBED}
        extra["KEEP_ME"] = "kept"
        for mode in ("", ", supervise = true"):
            r = self.run_lua("""
local s = deliver.exec({ "env" }, { env = { ADDED = "a" }%s })
""" % mode, extra_env=extra)
            self.assertEqual(r.returncode, 0, r.stderr)
            lines = r.stdout.decode().splitlines()
            self.assertIn("KEEP_ME=kept", lines)
            self.assertIn("ADDED=a", lines)
            for name in SCRUBBED:
                self.assertNotIn(name, r.stdout.decode())
                self.assertNotIn(extra[name].encode(), r.stdout + r.stderr)

    def test_clear_env_and_false_unset(self):
        r = self.run_lua("""
deliver.exec({ "/usr/bin/env" }, { clear_env = true, env = { ONLY = "1" } })
""", extra_env={"OTHER": "x"})
        self.assertEqual(r.stdout, b"ONLY=1\n")
        r = self.run_lua("""
deliver.exec({ "/usr/bin/env" }, { env = { OTHER = false } })
""", extra_env={"OTHER": "x"})
        self.assertNotIn(b"OTHER=", r.stdout)

    def test_path_lookup_uses_child_path_and_no_shell(self):
        bindir = self.path("bin")
        os.mkdir(bindir)
        tool = os.path.join(bindir, "azc-tool")
        with open(tool, "w") as f:
            f.write("#!/bin/sh\nprintf '%s|' \"$@\"\n")
        os.chmod(tool, 0o755)
        r = self.run_lua("""
deliver.exec({ "azc-tool", "$(id)", "a b", "*" },
  { env = { PATH = %s } })
""" % lua_str(bindir + ":/usr/bin:/bin"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, b"$(id)|a b|*|")

    def test_not_found_and_not_executable(self):
        noexec = self.path("noexec")
        with open(noexec, "w") as f:
            f.write("echo no shebang\n")
        os.chmod(noexec, 0o755)
        plain = self.path("plain")
        with open(plain, "w") as f:
            f.write("x")
        cases = [
            ("azconjur-no-such-cmd", 127,
             "cannot run 'azconjur-no-such-cmd': command not found in PATH"),
            (self.path("missing"), 127, "no such file"),
            (plain, 126, "Permission denied"),
            (noexec, 126, "not an executable format (a script needs a #! "
                          "line; no shell is used)"),
        ]
        for cmd, code, message in cases:
            for supervise in ("false", "true"):
                r = self.run_lua("""
local ok, err = pcall(deliver.exec, { %s }, { supervise = %s })
print(ok, err.exit_code, err.code, tostring(err))
""" % (lua_str(cmd), supervise))
                out = r.stdout.decode()
                self.assertTrue(out.startswith("false\t%d\texec\t" % code),
                                (cmd, out, r.stderr))
                self.assertIn(message, out)

    def test_supervised_returns_status_and_signal_deaths(self):
        r = self.run_lua("""
print(deliver.exec({ "sh", "-c", "exit 9" }, { supervise = true }))
print(deliver.exec({ "sh", "-c", "kill -KILL $$" }, { supervise = true }))
print(deliver.exec({ "sh", "-c", "kill -TERM $$" }, { supervise = true }))
print("after")
""")
        self.assertEqual(r.stdout, b"9\n137\n143\nafter\n", r.stderr)

    def test_supervised_forwards_signals(self):
        record = self.path("record")
        ready = self.path("ready")
        child = self.path("child.py")
        with open(child, "w") as f:
            f.write("""
import os, signal, sys, time
record, ready = sys.argv[1], sys.argv[2]
def note(sig, frame):
    with open(record, "a") as f:
        f.write(signal.Signals(sig).name + "\\n")
    if sig == signal.SIGTERM:
        sys.exit(42)
for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT,
          signal.SIGUSR1, signal.SIGUSR2):
    signal.signal(s, note)
open(ready, "w").close()
while True:
    time.sleep(0.05)
""")
        script = self.script("""
local st = deliver.exec({ %s, %s, %s, %s }, { supervise = true })
print("status " .. st)
""" % (lua_str(PY), lua_str(child), lua_str(record), lua_str(ready)))
        proc = subprocess.Popen([AZCONJUR, "run", script], env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            wait_for(lambda: os.path.exists(ready))
            sent = [signal.SIGUSR1, signal.SIGUSR2, signal.SIGHUP,
                    signal.SIGINT, signal.SIGQUIT]
            for n, sig in enumerate(sent, 1):
                proc.send_signal(sig)
                wait_for(lambda: os.path.exists(record) and
                         len(open(record).read().split()) == n)
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        names = open(record).read().split()
        self.assertEqual(names, [s.name for s in sent] + ["SIGTERM"])
        self.assertEqual(out, b"status 42\n", err)
        self.assertEqual(proc.returncode, 0)

    def test_stdout_writes_bytes_as_they_are(self):
        r = self.run_lua("""
deliver.stdout(secret(TRICKY .. "\\0end"))
deliver.stdout("|plain")
""")
        self.assertEqual(r.stdout, TRICKY.encode() + b"\0end|plain")

    def test_errors_never_show_values(self):
        r = self.run_lua("""
deliver.exec({ "true" }, { env = { X = secret("hunter2-value\\0") } })
""")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"value of environment variable 'X' holds a NUL byte",
                      r.stderr)
        self.assertNotIn(b"hunter2", r.stdout + r.stderr)
        r = self.run_lua("""
deliver.exec({ "echo", secret("hunter2-value") })
""")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"argument 2 of the command is a secret", r.stderr)
        self.assertNotIn(b"hunter2", r.stdout + r.stderr)


class DeliverFileTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.env = clean_env()
        self.target = os.path.join(self.tmp.name, "app.conf")

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, content, opts="nil"):
        script = os.path.join(self.tmp.name, "w.lua")
        with open(script, "w") as f:
            f.write("""
local deliver = require 'deliver'
local v = deliver.template("{{ v }}", { v = %s })
io.write(tostring(deliver.file(%s, v, %s)))
""" % (lua_str(content), lua_str(self.target), opts))
        return azconjur("run", script, env=self.env)

    def test_new_file_is_0600_even_with_open_umask(self):
        old = os.umask(0)
        try:
            r = self.write(TRICKY)
        finally:
            os.umask(old)
        self.assertEqual(r.stdout, b"true", r.stderr)
        self.assertEqual(stat.S_IMODE(os.stat(self.target).st_mode), 0o600)
        with open(self.target, "rb") as f:
            self.assertEqual(f.read(), TRICKY.encode())

    def test_mode_is_applied_despite_umask(self):
        old = os.umask(0o077)
        try:
            r = self.write("x", '{ mode = "0644" }')
        finally:
            os.umask(old)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(stat.S_IMODE(os.stat(self.target).st_mode), 0o644)

    def test_unchanged_content_is_not_written(self):
        self.assertEqual(self.write("same").stdout, b"true")
        before = os.stat(self.target)
        self.assertEqual(self.write("same").stdout, b"false")
        after = os.stat(self.target)
        self.assertEqual(before.st_ino, after.st_ino)
        self.assertEqual(before.st_mtime_ns, after.st_mtime_ns)

    def test_replacement_is_atomic_rename(self):
        self.write("old content")
        with open(self.target, "rb") as reader:
            inode = os.fstat(reader.fileno()).st_ino
            self.assertEqual(self.write("new content").stdout, b"true")
            # the old file was never written in place
            self.assertEqual(reader.read(), b"old content")
        self.assertNotEqual(os.stat(self.target).st_ino, inode)
        with open(self.target, "rb") as f:
            self.assertEqual(f.read(), b"new content")
        self.assertEqual(sorted(os.listdir(self.tmp.name)),
                         ["app.conf", "w.lua"])

    def test_symlink_is_refused_and_target_untouched(self):
        victim = os.path.join(self.tmp.name, "victim")
        with open(victim, "w") as f:
            f.write("precious")
        os.symlink(victim, self.target)
        r = self.write("hunter2-secret")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"refusing to write '%s': it is a symbolic link"
                      % self.target.encode(), r.stderr)
        self.assertNotIn(b"hunter2", r.stdout + r.stderr)
        with open(victim) as f:
            self.assertEqual(f.read(), "precious")
        self.assertTrue(os.path.islink(self.target))

    def test_unwritable_directory_names_it(self):
        if os.geteuid() == 0:
            self.skipTest("root ignores directory permissions")
        os.chmod(self.tmp.name, 0o500)
        try:
            r = self.write("x")
        finally:
            os.chmod(self.tmp.name, 0o700)
        self.assertIn(b"cannot create a temporary file in", r.stderr)

    def test_owner_and_group(self):
        if os.geteuid() != 0:
            self.skipTest("changing owners needs root")
        r = self.write("x", "{ owner = 65534, group = 65534, mode = 0o640 }"
                       .replace("0o640", "416"))
        self.assertEqual(r.returncode, 0, r.stderr)
        st = os.stat(self.target)
        self.assertEqual((st.st_uid, st.st_gid), (65534, 65534))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o640)
        self.assertEqual(self.write("x", "{ owner = 65534, group = 65534, "
                                    "mode = 416 }").stdout, b"false")


if __name__ == "__main__":
    unittest.main()
