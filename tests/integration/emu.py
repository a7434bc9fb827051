"""The emulator harness for integration tests.

Uses tests.emulators.client.Emulators when the emulator branch provides it;
until then, a minimal stand-in with the same methods this suite needs
(start/stop, env, state, fault, counts, requests, patch, reset, mint).
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

try:
    from tests.emulators.client import Emulators  # noqa: F401
except ImportError:
    REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

    class Emulators:
        """Start a private emulator process; steer it through its control API."""

        def __init__(self):
            self.process = None
            self.dir = None
            self.state = None
            self.env = None

        def __enter__(self):
            self.start()
            return self

        def __exit__(self, *exc):
            self.stop()
            return False

        def start(self):
            self.dir = tempfile.mkdtemp(prefix="azconjur-emu-")
            self.process = subprocess.Popen(
                ["/usr/bin/python3", "-m", "tests.emulators", "serve", "--state-dir", self.dir,
                 "--exit-with-parent"], cwd=REPO_ROOT, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 30
            while not os.path.exists(os.path.join(self.dir, "env")):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("the emulator did not start")
                time.sleep(0.05)
            with open(os.path.join(self.dir, "state.json"), encoding="utf-8") as handle:
                self.state = json.load(handle)
            self.env = dict(self.state["env"])

        def stop(self):
            if self.process is not None and self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(5)
            self.process = None
            if self.dir:
                shutil.rmtree(self.dir, ignore_errors=True)
                self.dir = None

        def control(self, method, path, payload=None):
            data = None if payload is None else json.dumps(payload).encode()
            request = urllib.request.Request(self.state["control_url"] + path, data=data,
                                             method=method,
                                             headers={"Content-Type": "application/json"})
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            try:
                with opener.open(request, timeout=30) as response:
                    return json.loads(response.read())
            except urllib.error.HTTPError as err:
                raise RuntimeError("control %s %s: %s %s" % (
                    method, path, err.code, err.read()[:300])) from None

        def fault(self, kind, **spec):
            spec["kind"] = kind
            return self.control("POST", "/_emu/faults", spec)

        def counts(self):
            return self.control("GET", "/_emu/counts")

        def requests(self, kind=None):
            return self.control("GET", "/_emu/requests" + ("?kind=" + kind if kind else ""))

        def patch(self, merge_patch):
            return self.control("POST", "/_emu/patch", merge_patch)

        def reset(self, fixture=False):
            return self.control("POST", "/_emu/reset", {"fixture": fixture})

        def mint(self, **spec):
            return self.control("POST", "/_emu/mint", spec)["access_token"]
