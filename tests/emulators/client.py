"""Start a private emulator instance from a test and steer it.

    from tests.emulators.client import Emulators   # from the repository root

    with Emulators() as emu:
        env = dict(os.environ, **emu.env)       # point a child process at it
        emu.fault("imds", status=500, count=2)
        emu.counts()["imds"]

The instance runs in its own process with a temporary state directory; it
is stopped and the directory removed when the block ends, failed tests
included. If the test process dies, the instance notices and exits too.
"""

import json
import os
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

PYTHON = "/usr/bin/python3"
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
START_TIMEOUT = 30


class EmulatorError(Exception):
    pass


class Emulators:
    def __init__(self, fixture_overrides=None, fixture=None, verbose=False):
        self.fixture_overrides = fixture_overrides
        self.fixture = fixture
        self.verbose = verbose
        self.process = None
        self.dir = None
        self.state = None
        self.env = None

    # ---- life cycle -----------------------------------------------------------

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        self.dir = tempfile.mkdtemp(prefix="azconjur-emu-")
        command = [PYTHON, "-m", "tests.emulators", "serve", "--state-dir", self.dir,
                   "--exit-with-parent"]
        if self.fixture:
            command += ["--fixture", self.fixture]
        if self.fixture_overrides:
            command += ["--overrides", json.dumps(self.fixture_overrides)]
        if self.verbose:
            command.append("--verbose")
        self._log = open(os.path.join(self.dir, "emulator.log"), "wb")
        self.process = subprocess.Popen(command, cwd=REPO_ROOT, stdin=subprocess.DEVNULL,
                                        stdout=self._log, stderr=self._log)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self):
        state_file = os.path.join(self.dir, "state.json")
        deadline = time.monotonic() + START_TIMEOUT
        while not os.path.exists(os.path.join(self.dir, "env")):
            if self.process.poll() is not None:
                raise EmulatorError("emulator exited with %s: %s" % (
                    self.process.returncode, self.log_text()))
            if time.monotonic() > deadline:
                raise EmulatorError("emulator did not start within %ds" % START_TIMEOUT)
            time.sleep(0.05)
        with open(state_file, encoding="utf-8") as handle:
            self.state = json.load(handle)
        self.env = dict(self.state["env"])

    def log_text(self):
        try:
            with open(os.path.join(self.dir, "emulator.log"), encoding="utf-8") as handle:
                return handle.read()[-4000:]
        except OSError:
            return ""

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None
        if getattr(self, "_log", None):
            self._log.close()
            self._log = None
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    # ---- control API ------------------------------------------------------------

    def control(self, method, path, payload=None):
        """Call the control API; return the decoded JSON answer."""
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(self.state["control_url"] + path, data=data,
                                         method=method,
                                         headers={"Content-Type": "application/json"})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=30) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as err:
            raise EmulatorError("control %s %s: %s %s" % (method, path, err.code,
                                                         err.read()[:500])) from None

    def fault(self, kind, **spec):
        """Queue a fault for the next requests of `kind`; see README.md for the fields."""
        spec["kind"] = kind
        return self.control("POST", "/_emu/faults", spec)

    def counts(self):
        return self.control("GET", "/_emu/counts")

    def count(self, kind):
        return self.counts().get(kind, 0)

    def requests(self, kind=None):
        query = "?kind=" + urllib.parse.quote(kind) if kind else ""
        return self.control("GET", "/_emu/requests" + query)

    def patch(self, merge_patch):
        return self.control("POST", "/_emu/patch", merge_patch)

    def reset(self, fixture=False):
        return self.control("POST", "/_emu/reset", {"fixture": fixture})

    def set_secret(self, variable_id, value=None, value_b64=None, account=None):
        payload = {"id": variable_id, "account": account}
        if value_b64 is not None:
            payload["value_b64"] = value_b64
        else:
            payload["value"] = value
        return self.control("POST", "/_emu/secret", payload)["version"]

    def mint(self, **spec):
        """An Azure token built to order (identity, claims edits, foreign key...)."""
        return self.control("POST", "/_emu/mint", spec)["access_token"]

    def conjur_token(self, login, **spec):
        spec["login"] = login
        return self.control("POST", "/_emu/conjur-token", spec)

    def fixture_data(self):
        return self.control("GET", "/_emu/fixture")

    # ---- conveniences for tests that speak HTTP themselves ------------------------

    def ssl_context(self):
        """A client TLS context trusting only the emulator's test CA."""
        context = ssl.create_default_context(cafile=self.state["conjur"]["ca_file"])
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context
