"""scripts/emulators: one instance at a time, and nothing left behind after stop."""

import json
import os
import socket
import subprocess
import tempfile
import unittest

from .client import REPO_ROOT

SCRIPT = os.path.join(REPO_ROOT, "scripts", "emulators")


def processes_using(state_dir):
    """Pids whose command line mentions `state_dir`."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % name, "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "--state-dir " + state_dir in cmdline:
            found.append(int(name))
    return found


def port_open(port):
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class ScriptTest(unittest.TestCase):
    def setUp(self):
        self.parent = tempfile.mkdtemp(prefix="azconjur-emu-script-")
        self.dir = os.path.join(self.parent, "state")
        self.env = dict(os.environ, AZCONJUR_EMU_DIR=self.dir)

    def tearDown(self):
        self.run_script("stop")
        for pid in processes_using(self.dir):
            os.kill(pid, 9)
        os.rmdir(self.parent)

    def run_script(self, *args):
        return subprocess.run([SCRIPT, *args], env=self.env, capture_output=True, text=True,
                              timeout=60, check=False)

    def start(self):
        result = self.run_script("start")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("export CONJUR_APPLIANCE_URL=https://127.0.0.1:", result.stdout)
        with open(os.path.join(self.dir, "state.json"), encoding="utf-8") as handle:
            return json.load(handle)

    def test_start_stop_twice_leaves_nothing(self):
        for _round in range(2):
            state = self.start()
            ports = list(state["ports"].values())
            self.assertEqual(processes_using(self.dir), [state["pid"]])
            self.assertTrue(all(port_open(p) for p in ports))
            self.assertEqual(self.run_script("status").returncode, 0)

            result = self.run_script("stop")
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertFalse(os.path.exists(self.dir))
            self.assertEqual(processes_using(self.dir), [])
            self.assertFalse(any(port_open(p) for p in ports))
        self.assertEqual(os.listdir(self.parent), [])

    def test_second_start_keeps_one_instance(self):
        first = self.start()
        second = self.run_script("start")
        self.assertEqual(second.returncode, 0)
        self.assertIn("already running (pid %d)" % first["pid"], second.stderr)
        self.assertEqual(processes_using(self.dir), [first["pid"]])

    def test_stop_and_status_when_not_running(self):
        self.assertEqual(self.run_script("stop").returncode, 0)
        self.assertEqual(self.run_script("status").returncode, 3)
        self.assertEqual(self.run_script("bogus").returncode, 2)
