"""The control API: a plain-HTTP listener that tests use to steer the emulators.

All routes take and return JSON:

  GET  /_emu/state                 the same document as state.json
  GET  /_emu/counts                {"<kind>": n, ...}
  GET  /_emu/requests[?kind=K]     request log entries (no headers, no bodies)
  GET  /_emu/faults                faults still queued
  POST /_emu/faults                queue one fault (object) or several (list)
  POST /_emu/reset                 clear faults, log, counts, JWKS cache;
                                   {"fixture": true} also restores the fixture
  GET  /_emu/fixture               the live fixture
  POST /_emu/patch                 JSON merge patch (RFC 7396) of the live fixture
  POST /_emu/secret                {"id", "value" | "value_b64", "account"?}: add a version
  POST /_emu/mint                  an Azure token built to order (see azure_emu.mint)
  POST /_emu/conjur-token          {"login", "account"?, "ttl"?, "iat"?}: an access token
"""

import base64
import copy
import json

from . import model
from .common import Fault, Reply, merge_patch


class ControlApp:
    def __init__(self, state):
        self.state = state

    def classify(self, request):
        return "other"

    def error_reply(self, kind, status):
        return Reply.json(status, {"error": "fault"})

    def handle(self, kind, request):
        name = request.raw_path.rstrip("/")
        route = self.ROUTES.get((request.method, name))
        if route is None:
            return Reply.json(404, {"error": "no such control route: %s %s" % (
                request.method, name)})
        try:
            payload = json.loads(request.body) if request.body.strip() else None
            return route(self, request, payload)
        except (ValueError, KeyError, TypeError) as err:
            return Reply.json(400, {"error": "%s: %s" % (err.__class__.__name__, err)})

    def get_state(self, request, payload):
        return Reply.json(200, self.state.describe())

    def get_counts(self, request, payload):
        with self.state.hub.lock:
            return Reply.json(200, dict(self.state.hub.counts))

    def get_requests(self, request, payload):
        return Reply.json(200, self.state.hub.requests(request.param("kind")))

    def get_faults(self, request, payload):
        return Reply.json(200, self.state.hub.pending_faults())

    def post_faults(self, request, payload):
        specs = payload if isinstance(payload, list) else [payload]
        faults = [Fault(dict(spec)) for spec in specs]   # validate all before queueing any
        for fault in faults:
            self.state.hub.add_fault(fault)
        return Reply.json(200, {"queued": len(faults)})

    def post_reset(self, request, payload):
        self.state.reset(fixture=bool((payload or {}).get("fixture")))
        return Reply.json(200, {"reset": True})

    def get_fixture(self, request, payload):
        with self.state.hub.lock:
            return Reply.json(200, self.state.fixture)

    def post_patch(self, request, payload):
        if not isinstance(payload, dict):
            raise ValueError("a merge patch must be a JSON object")
        with self.state.hub.lock:
            merged = merge_patch(copy.deepcopy(self.state.fixture), payload)
            model.normalise(merged)
            self.state.fixture = merged
        return Reply.json(200, {"patched": True})

    def post_secret(self, request, payload):
        with self.state.hub.lock:
            conjur = self.state.fixture["conjur"]
            account = conjur["accounts"][payload.get("account") or conjur["default_account"]]
            entry = account.setdefault("variables", {}).setdefault(payload["id"], {})
            if "value_b64" in payload:
                base64.b64decode(payload["value_b64"], validate=True)
                entry["value_b64"] = payload["value_b64"]
            else:
                entry["value"] = payload["value"]
            model.normalise_variable(entry)
            latest = entry["first_version"] + len(entry["versions"]) - 1
        return Reply.json(200, {"version": latest})

    def post_mint(self, request, payload):
        with self.state.hub.lock:
            token, claims = self.state.azure.mint(payload or {})
        return Reply.json(200, {"access_token": token, "claims": claims})

    def post_conjur_token(self, request, payload):
        conjur = self.state.fixture["conjur"]
        token = self.state.conjur.issue_token(payload.get("account") or conjur["default_account"],
                                              payload["login"], payload.get("ttl"),
                                              payload.get("iat"))
        return Reply.json(200, {"token": token.decode(),
                                "base64": base64.b64encode(token).decode()})

    ROUTES = {
        ("GET", "/_emu/state"): get_state,
        ("GET", "/_emu/counts"): get_counts,
        ("GET", "/_emu/requests"): get_requests,
        ("GET", "/_emu/faults"): get_faults,
        ("POST", "/_emu/faults"): post_faults,
        ("POST", "/_emu/reset"): post_reset,
        ("GET", "/_emu/fixture"): get_fixture,
        ("POST", "/_emu/patch"): post_patch,
        ("POST", "/_emu/secret"): post_secret,
        ("POST", "/_emu/mint"): post_mint,
        ("POST", "/_emu/conjur-token"): post_conjur_token,
    }
