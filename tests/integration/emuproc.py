"""Start the emulators for a test class and give tests what they need.

A stop-gap until tests/emulators grows its own client: runs
`python3 -m tests.emulators serve` in a private state directory, waits
for state.json, and offers the Conjur environment, a platform token taken
from the IMDS emulator (passed as CONJUR_AUTHN_JWT_TOKEN, so the tests do
not depend on the identity layer), request counts and resets.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PYTHON = os.environ.get("PYTHON") or sys.executable


class Emulators:
    def __enter__(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.proc = subprocess.Popen(
            [PYTHON, "-m", "tests.emulators", "serve", "--state-dir",
             self.tmp.name, "--exit-with-parent"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        state = os.path.join(self.tmp.name, "state.json")
        deadline = time.monotonic() + 30
        while not os.path.exists(state):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError("emulators did not start")
            time.sleep(0.05)
        with open(state) as f:
            self.state = json.load(f)
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stderr.close()
        self.tmp.cleanup()

    def control(self, route, payload=None):
        data = None if payload is None else json.dumps(payload).encode()
        req = urllib.request.Request(self.state["control_url"] + route,
                                     data=data, method="POST" if data
                                     else "GET")
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.load(r)

    def reset(self):
        return self.control("/_emu/reset", {})

    def counts(self):
        return self.control("/_emu/counts")

    def platform_token(self):
        url = (self.state["imds_url"] + "/metadata/identity/oauth2/token"
               "?api-version=2018-02-01&resource=https://management.azure.com/")
        req = urllib.request.Request(url, headers={"Metadata": "true"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.load(r)["access_token"]

    def env(self, base):
        """base (a clean environment) plus everything to reach Conjur."""
        env = dict(base)
        env.update(self.state["env"])
        env["CONJUR_AUTHN_JWT_TOKEN"] = self.platform_token()
        env["AZCONJUR_RETRY_SCALE"] = "0.01"
        return env
