"""Emulator of the Conjur API that azconjur uses, served over HTTPS.

Routes (all also under the Conjur Cloud prefix `/api`):

  POST /authn-azure/<svc>/<account>/<login>/authenticate   kind authn_azure
  POST /authn/<account>/<login>/authenticate               kind authn
  GET  /secrets/<account>/variable/<id>[?version=N]        kind secret
  GET  /secrets?variable_ids=<account>:variable:<id>,...   kind batch
  GET  /whoami                                             kind whoami
  GET  /authn-azure/<svc>/<account>/status                 kind status
  GET  /authenticators                                     kind authenticators
  GET  /resources/<account>/<kind>/<id>                    kind resources
  GET  /                                                   kind root

authn-azure runs the server's checks in the order of conjur.md §3.1; the
first failing check decides the answer. Access tokens are signed with an
key per account and verified on every protected call (conjur.md §2.3).
"""

import base64
import datetime
import hashlib
import hmac
import ipaddress
import json
import re
import secrets
import threading
import time
import urllib.parse
import urllib.request

from . import model
from .common import Reply
from .jwt_tools import JwtError, b64url_decode, verify_rs256

JWT_SHAPE = re.compile(r"\A[-A-Za-z0-9_=]+\.[-A-Za-z0-9_=]+\.[-A-Za-z0-9_=]+\Z")
MIRID_KEYWORD = re.compile(r"subscriptions|resourcegroups|providers")
AZURE_RESTRICTIONS = ("subscription-id", "resource-group", "user-assigned-identity",
                      "system-assigned-identity")
ROUTED_AUTHENTICATORS = ("authn", "authn-azure", "authn-iam", "authn-k8s", "authn-ldap")
INSTALLED_AUTHENTICATORS = ["authn", "authn-azure", "authn-gcp", "authn-iam", "authn-jwt",
                            "authn-k8s", "authn-ldap", "authn-oidc"]
FETCH_TIMEOUT = 5
FETCH_LIMIT = 1024 * 1024
TOKEN_EXPIRED_BODY = {"error": {"code": "unauthorized", "message": "CONJ00016E Token expired"}}
NOT_ACCEPTABLE_BODY = {"error": {"code": "not_acceptable", "message": (
    "CONJ00074E Issue encoding secret into JSON format, try including "
    "'Accept-Encoding: base64' header in request.")}}
FORBIDDEN_BODY = {"error": {"code": "forbidden", "message": "Forbidden"}}


class AuthFailure(Exception):
    """authn-azure refused; `code` is the Conjur error id written to its log."""

    def __init__(self, code, status=401):
        super().__init__(code)
        self.code = code
        self.status = status


def not_found_body(full_id):
    return {"error": {"code": "not_found",
                      "message": "CONJ00076E Variable %s is empty or not found." % full_id}}


def argument_error(message):
    return Reply.json(422, {"error": {"code": "argument_error", "message": message}})


def encode64(raw):
    """Ruby's Base64.encode64: standard alphabet, a newline after every 60 characters."""
    return "".join(base64.b64encode(raw[i:i + 45]).decode("ascii") + "\n"
                   for i in range(0, len(raw), 45))


def lenient_b64decode(text):
    """Ruby's Base64.decode64: ignore characters outside the alphabet and missing padding."""
    cleaned = re.sub(r"[^A-Za-z0-9+/]", "", text.split("=", 1)[0])
    cleaned = cleaned[: len(cleaned) - len(cleaned) % 4] if len(cleaned) % 4 == 1 else cleaned
    return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4))


def parse_xms_mirid(text):
    """(subscription, resource group, user-assigned name or None) from an `xms_mirid`.

    Follows conjur.md §3.2: elements are grouped into runs that start at any
    element matching the case-sensitive, unanchored keyword regex.
    """
    elements = text.split("/")
    if elements and elements[0] == "":
        elements = elements[1:]
    runs = {}
    current = None
    for element in elements:
        if MIRID_KEYWORD.search(element):
            current = element
            runs[current] = []
        elif current is not None:
            runs[current].append(element)
    if not all(key in runs for key in ("subscriptions", "resourcegroups", "providers")):
        raise AuthFailure("CONJ00053E")
    providers = runs["providers"]
    if len(providers) != 3:
        raise AuthFailure("CONJ00054E")
    subscription = runs["subscriptions"][0] if runs["subscriptions"] else None
    group = runs["resourcegroups"][0] if runs["resourcegroups"] else None
    user_assigned = providers[-1] if "Microsoft.ManagedIdentity" in providers else None
    return subscription, group, user_assigned


def azure_restrictions(annotations, service_id):
    """The host's authn-azure restrictions for `service_id` (conjur.md §3.3).

    A service-scoped annotation beats the general one; annotations scoped to
    another service, and empty values, are ignored.
    """
    general, scoped = {}, {}
    for name, value in (annotations or {}).items():
        if not name.startswith("authn-azure/") or value in (None, ""):
            continue
        rest = name[len("authn-azure/"):]
        if service_id and rest.startswith(service_id + "/"):
            scoped[rest[len(service_id) + 1:]] = value
        elif "/" not in rest:
            general[rest] = value
    general.update(scoped)
    return general


def check_restrictions(restrictions, subscription, group, user_assigned, oid):
    if "subscription-id" not in restrictions or "resource-group" not in restrictions:
        raise AuthFailure("CONJ00057E")
    if any(name not in AZURE_RESTRICTIONS for name in restrictions):
        raise AuthFailure("CONJ00050E")
    if "user-assigned-identity" in restrictions and "system-assigned-identity" in restrictions:
        raise AuthFailure("CONJ00055E")
    token_side = {"subscription-id": subscription, "resource-group": group,
                  "user-assigned-identity": user_assigned,
                  "system-assigned-identity": None if user_assigned else oid}
    for name, wanted in restrictions.items():
        if token_side[name] is None or token_side[name] != wanted:
            raise AuthFailure("CONJ00049E")


class AccountKey:
    """An account's token-signing key; tokens name it by its SHA-256 fingerprint.

    Real Conjur signs with RSA (Slosilo). The emulator uses HMAC-SHA256 with a
    random secret: clients never verify the signature, only the server does,
    and it keeps start-up fast.
    """

    def __init__(self):
        self.secret = secrets.token_bytes(32)
        self.fingerprint = hashlib.sha256(b"fingerprint:" + self.secret).hexdigest()

    def sign(self, message):
        return hmac.new(self.secret, message, hashlib.sha256).digest()

    def verify(self, signature, message):
        return hmac.compare_digest(self.sign(message), signature)


def _compact(obj):
    """JSON bytes without spaces, as Ruby's to_json writes them."""
    return json.dumps(obj, separators=(",", ":")).encode()


def _b64url_padded(data):
    return base64.urlsafe_b64encode(data).decode("ascii")


class ConjurApp:
    """Routes and rules of the Conjur emulator. One instance serves every TLS variant."""

    def __init__(self, state):
        self.state = state
        self._keys = {}
        self._keys_lock = threading.Lock()
        self._jwks_cache = {}

    # ---- plumbing ---------------------------------------------------------------

    @property
    def conjur(self):
        return self.state.fixture["conjur"]

    def account(self, name):
        return (self.conjur.get("accounts") or {}).get(name)

    def account_key(self, account_name):
        with self._keys_lock:
            if account_name not in self._keys:
                self._keys[account_name] = AccountKey()
            return self._keys[account_name]

    def clear_caches(self):
        self._jwks_cache.clear()

    def error_reply(self, kind, status):
        if status in (401, 403):
            return Reply.empty(status)
        return Reply.json(status, {"error": {"code": "emulated_fault",
                                             "message": "Fault injected by the emulator"}})

    def route(self, request):
        """(kind, handler, args) for a request; cached on the request."""
        if getattr(request, "route", None) is None:
            request.route = self._route(request)
        return request.route

    def _route(self, request):
        path = request.raw_path
        if path == "/api" or path.startswith("/api/"):
            path = path[4:] or "/"
        segments = path.split("/")[1:]
        method = request.method
        head = segments[0]
        if path == "/" and method == "GET":
            return "root", self.root, ()
        if head == "authn-azure" and len(segments) == 4 and segments[3] == "status" \
                and method == "GET":
            return "status", self.status, (segments[1], segments[2])
        if head in ROUTED_AUTHENTICATORS and segments[-1] == "authenticate" and method == "POST":
            if "%2f" in (segments[-3] if len(segments) >= 3 else "").lower():
                return "other", self.no_route, ()
            if head == "authn" and len(segments) == 4:
                return "authn", self.authn, (segments[1], segments[2])
            if head != "authn" and len(segments) in (4, 5):
                svc = segments[1] if len(segments) == 5 else None
                return "authn_azure", self.authn_azure, (head, svc, segments[-3], segments[-2])
        if head == "secrets" and method == "GET":
            if len(segments) == 1:
                return "batch", self.batch, ()
            if len(segments) >= 4 and all(segments[1:4]):
                return "secret", self.secret, (segments[1], segments[2], "/".join(segments[3:]))
        if head == "whoami" and len(segments) == 1 and method == "GET":
            return "whoami", self.whoami, ()
        if head == "authenticators" and len(segments) == 1 and method == "GET":
            return "authenticators", self.authenticators, ()
        if head == "resources" and len(segments) >= 4 and method == "GET":
            return "resources", self.resources, (segments[1], segments[2],
                                                 "/".join(segments[3:]))
        return "other", self.no_route, ()

    def classify(self, request):
        return self.route(request)[0]

    def handle(self, kind, request):
        _kind, handler, args = self.route(request)
        return handler(request, *args)

    def no_route(self, request):
        return Reply.json(404, {"error": {"code": "not_found", "message": "No route matches"}})

    # ---- access tokens ----------------------------------------------------------

    def issue_token(self, account_name, login, ttl=None, iat=None):
        """The access token JSON (bytes) for `login`, Slosilo-style."""
        key = self.account_key(account_name)
        iat = int(time.time()) if iat is None else int(iat)
        ttl = int(self.conjur.get("token_ttl", 480) if ttl is None else ttl)
        protected = _b64url_padded(_compact(
            {"alg": "conjur.org/slosilo/v2", "kid": key.fingerprint}))
        payload = _b64url_padded(_compact({"iat": iat, "sub": login, "exp": iat + ttl}))
        signature = _b64url_padded(key.sign(("%s.%s" % (protected, payload)).encode()))
        return _compact({"protected": protected, "payload": payload, "signature": signature})

    def token_reply(self, request, account_name, login):
        token = self.issue_token(account_name, login)
        codings = [c.strip().lower() for c in (request.header("Accept-Encoding") or "").split(",")]
        if "base64" in codings:
            return Reply(200, base64.b64encode(token), "text/plain",
                         [("Content-Encoding", "base64")])
        return Reply(200, token, "application/json")

    def authorize(self, request):
        """(account, login, claims) for a valid Authorization header, or a 401 Reply."""
        header = request.header("Authorization") or ""
        match = re.match(r'Token token="(.*)"', header, re.S)
        if not match:
            return Reply.text(401, "Authorization missing")
        try:
            token = json.loads(lenient_b64decode(match.group(1).strip()))
            parts = [token[name] for name in ("protected", "payload", "signature")]
            if not all(isinstance(p, str) for p in parts):
                raise ValueError("token fields must be strings")
            header_obj = json.loads(b64url_decode(parts[0]))
            claims = json.loads(b64url_decode(parts[1]))
            signature = b64url_decode(parts[2])
        except (ValueError, TypeError, KeyError, UnicodeDecodeError, AttributeError):
            return Reply.text(401, "Malformed authorization token")
        invalid = Reply.text(401, "Unauthorized: Invalid token")
        if not isinstance(header_obj, dict) or not isinstance(claims, dict):
            return invalid
        account_name = self._account_of_kid(header_obj.get("kid"))
        if account_name is None or header_obj.get("alg") != "conjur.org/slosilo/v2":
            return invalid
        message = ("%s.%s" % (parts[0], parts[1])).encode()
        if not self.account_key(account_name).verify(signature, message):
            return invalid
        if set(claims) - {"iat", "sub", "exp"} or not isinstance(claims.get("sub"), str):
            return invalid
        try:
            exp = claims["exp"] if "exp" in claims else int(claims["iat"]) + 480
        except (KeyError, TypeError, ValueError):
            return invalid
        if not isinstance(exp, int) or exp <= time.time():
            return invalid
        return account_name, claims["sub"], claims

    def _account_of_kid(self, kid):
        with self._keys_lock:
            for name, key in self._keys.items():
                if isinstance(kid, str) and hmac.compare_digest(key.fingerprint, kid):
                    return name
        return None

    def _can(self, token_account, login, account_name, grantees):
        """Does the token's role hold a privilege granted to `grantees` in `account_name`?"""
        if token_account != account_name:
            return False
        kind, ident = model.role_of_login(login)
        account = self.account(account_name)
        return account is not None and model.permitted(account, "%s:%s" % (kind, ident), grantees)

    # ---- authentication ---------------------------------------------------------

    def authn_azure(self, request, authenticator, svc, account_seg, login_seg):
        account_name = urllib.parse.unquote(account_seg)
        login = urllib.parse.unquote(login_seg)
        try:
            provider_uri, jwt = self._azure_preflight(request, authenticator, svc,
                                                      account_name, login)
            claims = self._verify_azure_token(provider_uri, jwt)
            self._check_azure_identity(svc, account_name, login, claims)
        except AuthFailure as failure:
            if failure.code == "CONJ00016E":
                return Reply.json(401, TOKEN_EXPIRED_BODY)
            return Reply.empty(failure.status)
        return self.token_reply(request, account_name, login)

    def _azure_preflight(self, request, authenticator, svc, account_name, login):
        """Checks 1-8.2 of conjur.md §3.1: everything before the token is looked at."""
        with self.state.hub.lock:
            if authenticator != "authn-azure":
                raise AuthFailure("CONJ00001E")
            account = self.account(account_name)
            if account is None:
                raise AuthFailure("CONJ00008E")
            webservice = "authn-azure/%s" % svc if svc else "authn-azure"
            if webservice not in (account.get("enabled_authenticators") or []):
                raise AuthFailure("CONJ00004E")
            kind, ident = model.role_of_login(login)
            if not model.role_exists(account, kind, ident):
                raise AuthFailure("CONJ00007E")
            service = (account.get("webservices") or {}).get("conjur/" + webservice)
            if service is None:
                raise AuthFailure("CONJ00005E")
            if not model.permitted(account, "%s:%s" % (kind, ident), service.get("authenticate")):
                raise AuthFailure("CONJ00006E", status=403)
            role = account[model.ROLE_KINDS[kind]][ident] or {}
            if not self._origin_allowed(role.get("restricted_to"), request.client_ip):
                raise AuthFailure("CONJ00003E")
            provider_uri = self._provider_uri(account, webservice)
        return provider_uri, self._jwt_from_body(request.body)

    @staticmethod
    def _origin_allowed(cidrs, client_ip):
        if not cidrs:
            return True
        address = ipaddress.ip_address(client_ip)
        return any(address in ipaddress.ip_network(c, strict=False) for c in cidrs)

    @staticmethod
    def _provider_uri(account, webservice):
        entry = (account.get("variables") or {}).get("conjur/%s/provider-uri" % webservice)
        if entry is None:
            raise AuthFailure("CONJ00036E")
        versions = model.variable_versions(entry)
        if not versions:
            raise AuthFailure("CONJ00037E")
        uri = versions[-1][1].decode("utf-8", "replace")
        return (uri[:-1] if uri.endswith("/") else uri) + "/"

    @staticmethod
    def _jwt_from_body(body):
        fields = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        jwt = (fields.get("jwt") or [""])[0]
        if not jwt:
            raise AuthFailure("CONJ00009E", status=400)
        jwt = jwt.strip()
        if not JWT_SHAPE.match(jwt):
            raise AuthFailure("CONJ00077E")
        return jwt

    def _verify_azure_token(self, provider_uri, jwt):
        """Signature via discovery + JWKS, then exp, nbf and iss with zero leeway."""
        algorithms, jwks, cached = self._provider_keys(provider_uri, refresh=False)
        try:
            claims = verify_rs256(jwt, jwks, algorithms)
        except JwtError:
            if not cached:
                raise AuthFailure("CONJ00035E") from None
            # Keys may have rotated: fetch them once more before giving up.
            algorithms, jwks, _cached = self._provider_keys(provider_uri, refresh=True)
            try:
                claims = verify_rs256(jwt, jwks, algorithms)
            except JwtError:
                raise AuthFailure("CONJ00035E") from None
        now = time.time()
        try:
            if "exp" in claims and int(claims["exp"]) <= now:
                raise AuthFailure("CONJ00016E")
            if "nbf" in claims and int(claims["nbf"]) > now:
                raise AuthFailure("CONJ00035E")
        except (TypeError, ValueError):
            raise AuthFailure("CONJ00035E") from None
        if claims.get("iss") != provider_uri:
            raise AuthFailure("CONJ00035E")
        return claims

    def _provider_keys(self, provider_uri, refresh):
        """(algorithms, jwks, came_from_cache), fetched over HTTP like Conjur does."""
        ttl = float(self.conjur.get("jwks_cache_seconds", 300))
        entry = self._jwks_cache.get(provider_uri)
        if entry and not refresh and time.time() - entry[0] < ttl:
            return entry[1], entry[2], True
        try:
            # As Conjur does: the normalised URI ends in "/", so the path gets "//".
            discovery = self._fetch_json(provider_uri + "/.well-known/openid-configuration")
            algorithms = discovery["id_token_signing_alg_values_supported"]
            jwks = self._fetch_json(discovery["jwks_uri"])
            if not isinstance(algorithms, list) or not isinstance(jwks.get("keys"), list):
                raise ValueError("unexpected discovery or JWKS shape")
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            raise AuthFailure("CONJ00011E") from None
        self._jwks_cache[provider_uri] = (time.time(), algorithms, jwks)
        return algorithms, jwks, False

    def map_url(self, url):
        """Send provider URLs to the local login emulator, as the fixture's map says."""
        mapping = self.conjur.get("provider_map") or {}
        for prefix in sorted(mapping, key=len, reverse=True):
            if url.startswith(prefix):
                return mapping[prefix].format(login_url=self.state.urls["login"]) + \
                    url[len(prefix):]
        return url

    def _fetch_json(self, url):
        target = self.map_url(url)
        host = urllib.parse.urlsplit(target).hostname
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the emulator only fetches from loopback: %s" % url)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(target, timeout=FETCH_TIMEOUT) as response:
            body = response.read(FETCH_LIMIT + 1)
        if len(body) > FETCH_LIMIT:
            raise ValueError("response too large")
        document = json.loads(body)
        if not isinstance(document, dict):
            raise ValueError("not a JSON object")
        return document

    def _check_azure_identity(self, svc, account_name, login, claims):
        """Checks 8.5-8.7: required claims, xms_mirid shape, host annotations."""
        mirid, oid = claims.get("xms_mirid"), claims.get("oid")
        if not isinstance(mirid, str) or not mirid or not isinstance(oid, str) or not oid:
            raise AuthFailure("CONJ00051E")
        subscription, group, user_assigned = parse_xms_mirid(mirid)
        with self.state.hub.lock:
            account = self.account(account_name) or {}
            kind, ident = model.role_of_login(login)
            role = (account.get(model.ROLE_KINDS.get(kind, "")) or {}).get(ident)
            if role is None:
                raise AuthFailure("CONJ00007E")
            restrictions = azure_restrictions(role.get("annotations"), svc)
        check_restrictions(restrictions, subscription, group, user_assigned, oid)

    def authn(self, request, account_seg, login_seg):
        account_name = urllib.parse.unquote(account_seg)
        login = urllib.parse.unquote(login_seg)
        with self.state.hub.lock:
            account = self.account(account_name)
            if account is None or "authn" not in (account.get("enabled_authenticators") or []):
                return Reply.empty(401)
            kind, ident = model.role_of_login(login)
            if not model.role_exists(account, kind, ident):
                return Reply.empty(401)
            api_key = (account[model.ROLE_KINDS[kind]][ident] or {}).get("api_key")
        if not api_key or not hmac.compare_digest(api_key.encode(), request.body):
            return Reply.empty(401)
        return self.token_reply(request, account_name, login)

    # ---- secrets ----------------------------------------------------------------

    def secret(self, request, account_seg, kind_seg, ident_raw):
        auth = self.authorize(request)
        if isinstance(auth, Reply):
            return auth
        token_account, login, _claims = auth
        account_name = urllib.parse.unquote(account_seg)
        ident = urllib.parse.unquote(ident_raw)
        full_id = "%s:%s:%s" % (account_name, urllib.parse.unquote(kind_seg), ident)
        version = request.param("version")
        if version is not None and not re.fullmatch(r"-?[0-9]+", version):
            return argument_error("invalid type for parameter 'version'")
        with self.state.hub.lock:
            account = self.account(account_name) or {}
            entry = (account.get("variables") or {}).get(ident) \
                if kind_seg == "variable" else None
            if entry is None or not self._visible(token_account, login, account_name, account,
                                                  entry):
                return Reply.json(404, not_found_body(full_id))
            if not self._can(token_account, login, account_name,
                             model.variable_permit(account, entry, "execute")):
                return Reply.json(403, FORBIDDEN_BODY)
            versions = model.variable_versions(entry)
            mime_type = entry.get("mime_type") or "application/octet-stream"
        if version is not None:
            versions = [v for v in versions if v[0] == int(version)]
        if not versions:
            return Reply.json(404, not_found_body(full_id))
        return Reply(200, versions[-1][1], mime_type)

    def _visible(self, token_account, login, account_name, account, entry):
        grantees = set(model.variable_permit(account, entry, "read"))
        grantees.update(model.variable_permit(account, entry, "execute"))
        return self._can(token_account, login, account_name, grantees)

    def batch(self, request):
        auth = self.authorize(request)
        if isinstance(auth, Reply):
            return auth
        token_account, login, _claims = auth
        raw = request.query.get("variable_ids")
        ids = raw[0].split(",") if raw else []
        while ids and ids[-1] == "":
            ids.pop()          # Ruby's String#split drops trailing empty fields
        if not ids or any(not i.strip() for i in ids):
            return argument_error("variable_ids")
        with self.state.hub.lock:
            found = {full: self._lookup(full) for full in ids}
            for full, (account_name, account, entry) in found.items():
                if entry is not None and not self._can(
                        token_account, login, account_name,
                        model.variable_permit(account, entry, "execute")):
                    return Reply.json(403, FORBIDDEN_BODY)
            values = {}
            for full in ids:
                entry = found[full][2]
                versions = model.variable_versions(entry) if entry is not None else []
                if not versions:
                    return Reply.json(404, not_found_body(full))
                values[full] = versions[-1][1]
        return self._batch_reply(request, values)

    def _lookup(self, full_id):
        account_name, _, rest = full_id.partition(":")
        kind, _, ident = rest.partition(":")
        account = self.account(account_name)
        if account is None or kind != "variable":
            return account_name, account, None
        return account_name, account, (account.get("variables") or {}).get(ident)

    @staticmethod
    def _batch_reply(request, values):
        wants_base64 = (request.header("Accept-Encoding") or "").strip().lower() == "base64"
        if wants_base64:
            body = {k: encode64(v) for k, v in values.items()}
            return Reply.json(200, body, [("Content-Encoding", "base64")])
        try:
            body = {k: v.decode("utf-8") for k, v in values.items()}
        except UnicodeDecodeError:
            return Reply.json(406, NOT_ACCEPTABLE_BODY)
        return Reply.json(200, body)

    # ---- everything else ----------------------------------------------------------

    def whoami(self, request):
        auth = self.authorize(request)
        if isinstance(auth, Reply):
            return auth
        account_name, login, claims = auth
        issued = datetime.datetime.fromtimestamp(int(claims.get("iat", 0)),
                                                 datetime.timezone.utc)
        return Reply.json(200, {
            "client_ip": request.client_ip,
            "user_agent": request.header("User-Agent") or "",
            "account": account_name,
            "username": login,
            "token_issued_at": issued.strftime("%Y-%m-%dT%H:%M:%S.000+00:00"),
        })

    def status(self, request, svc_seg, account_seg):
        auth = self.authorize(request)
        if isinstance(auth, Reply):
            return auth
        token_account, login, _claims = auth
        svc = urllib.parse.unquote(svc_seg)
        account_name = urllib.parse.unquote(account_seg)
        webservice = "authn-azure/%s" % svc
        with self.state.hub.lock:
            account = self.account(account_name) or {}
            services = account.get("webservices") or {}
            status_service = services.get("conjur/%s/status" % webservice) or {}
            if not self._can(token_account, login, account_name, status_service.get("read")):
                return self._status_error(403, "Authentication::Security::"
                                          "RoleNotAuthorizedOnResource: CONJ00006E '%s' does not"
                                          " have 'read' privilege on %s:webservice:conjur/%s/"
                                          "status" % (login, account_name, webservice))
            if "conjur/" + webservice not in services:
                return self._status_error(404, "Authentication::Security::WebserviceNotFound: "
                                          "CONJ00005E Webservice '%s' not found" % webservice)
            enabled = webservice in (account.get("enabled_authenticators") or [])
            try:
                provider_uri = self._provider_uri(account, webservice)
            except AuthFailure as failure:
                variable = "%s:variable:conjur/%s/provider-uri" % (account_name, webservice)
                if failure.code == "CONJ00036E":
                    text = "Conjur::RequiredResourceMissing: CONJ00036E Missing required " \
                           "resource: %s" % variable
                else:
                    text = "Conjur::RequiredSecretMissing: CONJ00037E Missing value for " \
                           "resource: %s" % variable
                return self._status_error(500, text)
        try:
            self._provider_keys(provider_uri, refresh=True)
        except AuthFailure:
            return self._status_error(500, "Authentication::OAuth::ProviderDiscoveryFailed: "
                                      "CONJ00011E Failed to discover Identity Provider "
                                      "(Provider URI: '%s')" % provider_uri)
        if not enabled:
            return self._status_error(500, "Authentication::Security::"
                                      "AuthenticatorNotWhitelisted: CONJ00004E '%s' is not "
                                      "enabled" % webservice)
        return Reply.json(200, {"status": "ok"})

    @staticmethod
    def _status_error(status, text):
        return Reply.json(status, {"status": "error", "error": "#<Errors::%s>" % text})

    def authenticators(self, request):
        with self.state.hub.lock:
            account = self.account(self.conjur.get("default_account")) or {}
            configured = ["authn"] + sorted(
                name[len("conjur/"):] for name in (account.get("webservices") or {})
                if name.startswith("conjur/authn-") and not name.endswith("/status"))
            enabled = list(account.get("enabled_authenticators") or [])
        return Reply.json(200, {"installed": INSTALLED_AUTHENTICATORS,
                                "configured": configured, "enabled": enabled})

    def root(self, request):
        version = self.conjur.get("version", "1.21.1")
        if "application/json" in (request.header("Accept") or ""):
            return Reply.json(200, {"version": version, "services": {"possum": "ok"}})
        page = ("<!DOCTYPE html><html><head><title>Conjur Status</title></head><body>"
                "<h1>Conjur (emulated)</h1><p>Version %s</p></body></html>" % version)
        return Reply(200, page, "text/html")

    RESOURCE_TABLES = {"host": "hosts", "user": "users", "variable": "variables",
                       "webservice": "webservices", "group": "groups"}

    def resources(self, request, account_seg, kind_seg, ident_raw):
        auth = self.authorize(request)
        if isinstance(auth, Reply):
            return auth
        token_account, login, _claims = auth
        account_name = urllib.parse.unquote(account_seg)
        kind = urllib.parse.unquote(kind_seg)
        ident = urllib.parse.unquote(ident_raw)
        with self.state.hub.lock:
            account = self.account(account_name) or {}
            table = account.get(self.RESOURCE_TABLES.get(kind, ""), None) or {}
            entry = table.get(ident)
            permissions = self._privileges(account, kind, entry)
            grantees = {g for values in permissions.values() for g in values}
            if entry is None or not self._can(token_account, login, account_name, grantees):
                message = "%s '%s' not found in account '%s'" % (kind.capitalize(), ident,
                                                                 account_name)
                return Reply.json(404, {"error": {
                    "code": "not_found", "message": message, "target": "id",
                    "details": {"code": "not_found", "target": "id",
                                "message": "%s:%s:%s" % (account_name, kind, ident)}}})
            return Reply.json(200, self._resource_body(account_name, kind, ident, entry,
                                                       permissions))

    def _privileges(self, account, kind, entry):
        if entry is None:
            return {}
        if kind == "variable":
            return {p: model.variable_permit(account, entry, p) for p in ("read", "execute")}
        if kind == "group":
            return {"read": list(entry)}
        return {p: entry[p] for p in ("read", "execute", "authenticate", "update")
                if isinstance(entry, dict) and p in entry}

    @staticmethod
    def _resource_body(account_name, kind, ident, entry, permissions):
        policy = "%s:policy:root" % account_name
        body = {
            "created_at": "2024-01-01T00:00:00.000+00:00",
            "id": "%s:%s:%s" % (account_name, kind, ident),
            "owner": "%s:user:admin" % account_name,
            "policy": policy,
            "permissions": [{"privilege": p, "role": "%s:%s" % (account_name, g),
                             "policy": policy}
                            for p, grantees in permissions.items() for g in grantees],
            "annotations": [{"name": n, "value": v, "policy": policy}
                            for n, v in ((entry.get("annotations") or {}).items()
                                         if isinstance(entry, dict) else [])],
        }
        if kind in ("host", "user"):
            body["restricted_to"] = entry.get("restricted_to") or []
        if kind == "variable":
            body["secrets"] = [{"version": number, "expires_at": None}
                               for number, _value in model.variable_versions(entry)]
        return body
