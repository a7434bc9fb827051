"""Start every emulator listener in one process and publish where they are.

    /usr/bin/python3 -m tests.emulators serve --state-dir DIR [--fixture F] [--verbose]

Once all listeners accept connections, DIR/state.json (URLs, ports, pid,
header secrets) and DIR/env (shell `export` lines) are written. SIGTERM or
SIGINT stops the listeners, removes state.json, env and the Arc key files,
and exits 0. The process is quiet unless --verbose, which prints one line
per request (never a header value or a body).
"""

import argparse
import copy
import json
import os
import shlex
import signal
import sys
import threading

from . import model, tls
from .azure_emu import (APP_SERVICE_2017_PATH, APP_SERVICE_PATH, IMDS_PATH, AppService2017App,
                        AppServiceApp, ArcApp, AzureSide, ImdsApp, LoginApp)
from .common import MAX_CONTROL_BODY, EmuServer, Hub, stop_servers
from .conjur_emu import ConjurApp
from .control import ControlApp

DEFAULT_FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixture.json")


class State:
    """Everything the listeners share; the fixture is replaced, never mutated, by patches."""

    def __init__(self, fixture, state_dir, arc_token_dir, verbose):
        self.hub = Hub(verbose)
        self.fixture = fixture
        self.initial = copy.deepcopy(fixture)
        self.state_dir = state_dir
        self.urls = {}
        self.azure = AzureSide(self, arc_token_dir)
        self.conjur = ConjurApp(self)
        self.tls = None
        self.servers = {}

    def reset(self, fixture=False):
        with self.hub.lock:
            self.hub.reset()
            self.conjur.clear_caches()
            if fixture:
                self.fixture = copy.deepcopy(self.initial)

    def describe(self):
        """The state.json document: where everything listens and the secrets tests need."""
        urls = self.urls
        conjur = self.fixture["conjur"]
        return {
            "pid": os.getpid(),
            "state_dir": self.state_dir,
            "control_url": urls["control"],
            "imds_url": urls["imds"],
            "aci_imds_url": urls["imds_aci"],
            "login_url": urls["login"],
            "app_service": {
                "identity_endpoint": urls["app_service"] + APP_SERVICE_PATH,
                "identity_header": self.azure.identity_header,
            },
            "app_service_2017": {
                "msi_endpoint": urls["app_service_2017"] + APP_SERVICE_2017_PATH,
                "msi_secret": self.azure.msi_secret,
            },
            "arc": {
                "identity_endpoint": urls["arc"] + IMDS_PATH,
                "imds_endpoint": urls["arc"],
                "token_dir": self.azure.arc_token_dir,
            },
            "conjur": {
                "url": urls["conjur"],
                "cloud_url": urls["conjur"] + "/api",
                "expired_cert_url": urls["conjur_expired"],
                "wrong_name_url": urls["conjur_wrong_name"],
                "ca_file": self.tls["ca_file"],
                "account": conjur["default_account"],
                "service_id": conjur["service_id"],
                "host_id": conjur["default_host"],
            },
            "ports": {name: server.port for name, server in self.servers.items()},
            "env": self.env(),
        }

    def env(self):
        conjur = self.fixture["conjur"]
        return {
            "AZURE_POD_IDENTITY_AUTHORITY_HOST": self.urls["imds"],
            "CONJUR_APPLIANCE_URL": self.urls["conjur"],
            "CONJUR_ACCOUNT": conjur["default_account"],
            "CONJUR_CERT_FILE": self.tls["ca_file"],
            "CONJUR_AUTHN_TYPE": "azure",
            "CONJUR_SERVICE_ID": conjur["service_id"],
            "CONJUR_AUTHN_JWT_HOST_ID": conjur["default_host"],
            "AZCONJUR_ARC_TOKEN_DIR": self.azure.arc_token_dir,
        }


def build_servers(state):
    side = state.azure
    contexts = state.tls["contexts"]
    servers = {
        "control": EmuServer("control", ControlApp(state), state.hub,
                             max_body=MAX_CONTROL_BODY, logged=False),
        "imds": EmuServer("imds", ImdsApp(side, "vm"), state.hub),
        "imds_aci": EmuServer("imds_aci", ImdsApp(side, "aci"), state.hub),
        "app_service": EmuServer("app_service", AppServiceApp(side), state.hub),
        "app_service_2017": EmuServer("app_service_2017", AppService2017App(side), state.hub),
        "arc": EmuServer("arc", ArcApp(side), state.hub),
        "login": EmuServer("login", LoginApp(side), state.hub),
        "conjur": EmuServer("conjur", state.conjur, state.hub, contexts["valid"]),
        "conjur_expired": EmuServer("conjur_expired", state.conjur, state.hub,
                                    contexts["expired"]),
        "conjur_wrong_name": EmuServer("conjur_wrong_name", state.conjur, state.hub,
                                       contexts["wrong_name"]),
    }
    state.servers = servers
    state.urls = {name: server.url for name, server in servers.items()}


def write_atomically(path, text, mode=0o600):
    temporary = path + ".tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)


def publish(state):
    document = state.describe()
    write_atomically(os.path.join(state.state_dir, "state.json"),
                     json.dumps(document, indent=2, sort_keys=True) + "\n")
    lines = ["export %s=%s" % (k, shlex.quote(v)) for k, v in document["env"].items()]
    write_atomically(os.path.join(state.state_dir, "env"), "\n".join(lines) + "\n")


def unpublish(state):
    for name in ("env", "state.json"):
        try:
            os.unlink(os.path.join(state.state_dir, name))
        except FileNotFoundError:
            pass
    state.azure.remove_arc_keys()


def watch_parent(parent_pid, stop):
    """Stop when the process that started us is gone (tests killed hard leave no orphans)."""
    while not stop.wait(1.0):
        if os.getppid() != parent_pid:
            stop.set()


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python3 -m tests.emulators")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run all emulators until SIGTERM")
    serve.add_argument("--state-dir", required=True)
    serve.add_argument("--fixture", default=DEFAULT_FIXTURE)
    serve.add_argument("--overrides", help="JSON merge patch applied to the fixture at start")
    serve.add_argument("--arc-token-dir", help="default: STATE_DIR/arc-tokens")
    serve.add_argument("--exit-with-parent", action="store_true",
                       help="stop when the parent process exits")
    serve.add_argument("--verbose", action="store_true", help="one line per request on stderr")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    state_dir = os.path.abspath(args.state_dir)
    os.makedirs(state_dir, mode=0o700, exist_ok=True)
    overrides = json.loads(args.overrides) if args.overrides else None
    fixture = model.load(args.fixture, overrides)
    arc_dir = os.path.abspath(args.arc_token_dir or os.path.join(state_dir, "arc-tokens"))
    state = State(fixture, state_dir, arc_dir, args.verbose)
    state.tls = tls.prepare(state_dir)
    build_servers(state)

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    for account in fixture["conjur"].get("accounts", {}):
        state.conjur.account_key(account)     # generate keys now, not on the first login
    for server in state.servers.values():
        server.start()
    publish(state)
    if args.exit_with_parent:
        threading.Thread(target=watch_parent, args=(os.getppid(), stop), daemon=True).start()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        unpublish(state)
        stop_servers(list(state.servers.values()))
    return 0
