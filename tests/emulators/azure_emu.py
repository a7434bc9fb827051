"""Emulator of the Azure managed-identity endpoints and of Entra ID's key discovery.

Each identity source has its own plain-HTTP listener, so a client can be
pointed at one source at a time with the same variables Azure sets:

- `imds` (a VM) and `imds_aci` (a container group): IMDS, 2018-02-01;
- `app_service`: App Service / Functions, 2019-08-01 (`IDENTITY_ENDPOINT`);
- `app_service_2017`: the legacy 2017-09-01 protocol (`MSI_ENDPOINT`);
- `arc`: an Arc-enabled server, with the 401 key-file challenge;
- `login`: OIDC discovery and JWKS, standing in for login.microsoftonline.com.

Tokens are real RS256 JWTs with v1 claims, signed by a key whose public half
is only published through `login`; the Conjur emulator fetches it over HTTP.
"""

import datetime
import hmac
import os
import re
import secrets
import threading
import time
import uuid

from . import model
from .common import Reply, correlation_id
from .jwt_tools import SigningKey

IMDS_PATH = "/metadata/identity/oauth2/token"
APP_SERVICE_PATH = "/msi/token"
APP_SERVICE_2017_PATH = "/MSI/token/"
ARC_API_VERSIONS = ("2019-08-15", "2019-11-01", "2020-06-01")
ARC_KEY_LIFETIME = 300
MULTIPLE_UA_MESSAGE = ("Multiple user assigned identities exist, please specify the clientId"
                       " / resourceId of the identity in the token request")
APP_SERVICE_NO_IDENTITY = "Unable to load the proper Managed Identity."


def imds_error(description, status=400, code="invalid_request"):
    return Reply.json(status, {"error": code, "error_description": description})


def app_service_error(status, message):
    return Reply.json(status, {"statusCode": status, "message": message,
                               "correlationId": correlation_id()})


def v1_issuer(tenant):
    return "https://sts.windows.net/%s/" % tenant


class AzureSide:
    """What the Azure listeners share: signing keys, platform secrets, Arc key files."""

    def __init__(self, state, arc_token_dir):
        self.state = state
        self.signing_key = SigningKey("emulated Entra ID token signing key")
        self._foreign_key = None
        self.identity_header = secrets.token_hex(16)
        self.msi_secret = secrets.token_hex(16)
        self.arc_token_dir = arc_token_dir
        self._arc_keys = {}          # key text -> (path, expiry)
        self._arc_lock = threading.Lock()

    @property
    def azure(self):
        return self.state.fixture["azure"]

    def foreign_key(self):
        """A key Entra ID never published, for forged-signature tests."""
        if self._foreign_key is None:
            self._foreign_key = SigningKey("foreign key")
        return self._foreign_key

    # ---- tokens ---------------------------------------------------------------

    def claims(self, platform_name, identity, resource, now=None):
        """v1 access-token claims for `identity`, shaped by the fixture's token options."""
        azure = self.azure
        options = azure.get("token", {})
        now = int(now or time.time())
        lifetime = int(options.get("lifetime", 86399))
        exp = now - 60 if options.get("expired") else now + lifetime
        iat = exp - lifetime
        tenant = azure["tenant_id"]
        v2 = options.get("issuer") == "v2"
        issuer = ("https://login.microsoftonline.com/%s/v2.0" % tenant) if v2 else v1_issuer(tenant)
        claims = {
            "aud": resource,
            "iss": issuer,
            "iat": iat,
            "nbf": iat + int(options.get("nbf_offset", 0)),
            "exp": exp,
            "aio": secrets.token_urlsafe(24),
            "appid": identity["client_id"],
            "appidacr": "2",
            "idp": issuer,
            "idtyp": "app",
            "oid": identity["object_id"],
            "rh": secrets.token_urlsafe(16) + ".",
            "sub": identity["object_id"],
            "tid": tenant,
            "uti": secrets.token_urlsafe(16),
            "ver": "2.0" if v2 else "1.0",
            "xms_mirid": identity["mirid"],
            "xms_tcdt": 1700000000,
        }
        if identity["kind"] == "user":
            platform = azure["platforms"][platform_name]
            claims["xms_az_rid"] = model.system_mirid(azure, platform)
        if options.get("omit_xms_mirid"):
            del claims["xms_mirid"]
        return claims

    def issue(self, platform_name, identity, resource):
        """(jwt, claims) for a platform token request."""
        claims = self.claims(platform_name, identity, resource)
        return self.signing_key.encode_jwt(claims), claims

    def mint(self, spec):
        """Build a token for tests (control API): any identity, claims edited at will.

        spec: platform (default "vm"), identity ("system" or a user-assigned
        name), resource, claims (merged; a null removes a claim), header
        (same), key ("emulator" or "foreign").
        """
        platform_name = spec.get("platform", "vm")
        system, users = model.identities_of(self.azure, platform_name)
        wanted = spec.get("identity", "system")
        identity = system if wanted == "system" else next(
            (u for u in users if u["name"] == wanted), None)
        if identity is None:
            identity = model.identities_of(self.azure, "vm")[0]
        claims = self.claims(platform_name, identity,
                             spec.get("resource", "https://management.azure.com/"))
        for name, value in (spec.get("claims") or {}).items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        key = self.foreign_key() if spec.get("key") == "foreign" else self.signing_key
        return key.encode_jwt(claims, spec.get("header")), claims

    # ---- Arc key files --------------------------------------------------------

    def new_arc_key(self):
        """Write a fresh key file like the Arc agent does; return its path."""
        os.makedirs(self.arc_token_dir, mode=0o700, exist_ok=True)
        key = secrets.token_hex(32)
        path = os.path.join(self.arc_token_dir, "%s.key" % uuid.uuid4().hex)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
        with self._arc_lock:
            self._arc_keys[key] = (path, time.time() + ARC_KEY_LIFETIME)
        return path

    def arc_key_valid(self, presented):
        with self._arc_lock:
            for key, (_path, expiry) in self._arc_keys.items():
                if hmac.compare_digest(key.encode(), presented.encode()) and time.time() < expiry:
                    return True
        return False

    def remove_arc_keys(self):
        with self._arc_lock:
            for path, _expiry in self._arc_keys.values():
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    pass
            self._arc_keys.clear()


def imds_body(jwt, claims, client_id):
    """The IMDS/Arc success body: every value a JSON string, as the real service sends."""
    now = int(time.time())
    return {
        "access_token": jwt,
        "client_id": client_id,
        "expires_in": str(max(0, claims["exp"] - now)),
        "expires_on": str(claims["exp"]),
        "ext_expires_in": str(claims["exp"] - claims["iat"]),
        "not_before": str(claims["nbf"]),
        "resource": claims["aud"],
        "token_type": "Bearer",
    }


def _api_version_ok(value, minimum="2018-02-01"):
    return bool(value) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) and value >= minimum


class ImdsApp:
    """IMDS on a VM or an ACI container group (route kind `imds`)."""

    SELECTORS = {"client_id": "client_id", "object_id": "object_id", "msi_res_id": "resource_id"}

    def __init__(self, side, platform_name):
        self.side = side
        self.platform_name = platform_name

    def classify(self, request):
        return "imds"

    def error_reply(self, kind, status):
        return imds_error("Fault injected by the emulator", status, "emulated_fault")

    def handle(self, kind, request):
        if request.raw_path.rstrip("/") != IMDS_PATH:
            return imds_error("Resource not found", 404, "not_found")
        if request.method != "GET":
            return imds_error("Method not allowed", 405)
        if (request.header("Metadata") or "").lower() != "true":
            return imds_error("Required metadata header not specified")
        if request.header("X-Forwarded-For") is not None:
            return imds_error("Request with X-Forwarded-For header is not allowed")
        if request.param("api-version") is None:
            return imds_error("Required query variable 'api-version' is missing")
        if not _api_version_ok(request.param("api-version")):
            return imds_error("Invalid api-version")
        resource = request.param("resource")
        if not resource:
            return imds_error("Required audience parameter not specified")
        with self.side.state.hub.lock:
            identity, error = self._identity(request)
            if error:
                return error
            jwt, claims = self.side.issue(self.platform_name, identity, resource)
        return Reply.json(200, imds_body(jwt, claims, identity["client_id"]))

    def _identity(self, request):
        given = [(name, request.param(name)) for name in self.SELECTORS
                 if request.param(name)]
        azure = self.side.azure
        if len(given) > 1:
            return None, imds_error("Only one of client_id, object_id and msi_res_id may be given")
        if given:
            name, value = given[0]
            identity = model.find_identity(azure, self.platform_name, self.SELECTORS[name], value)
            return identity, (None if identity else imds_error("Identity not found"))
        identity, reason = model.default_identity(azure, self.platform_name)
        if reason == "multiple":
            return None, imds_error(MULTIPLE_UA_MESSAGE)
        if reason == "none":
            return None, imds_error("Identity not found")
        return identity, None


class AppServiceApp:
    """App Service / Functions, api-version 2019-08-01 (route kind `app_service`)."""

    SELECTORS = {"client_id": "client_id", "principal_id": "object_id",
                 "object_id": "object_id", "mi_res_id": "resource_id"}

    def __init__(self, side):
        self.side = side

    def classify(self, request):
        return "app_service"

    def error_reply(self, kind, status):
        return app_service_error(status, "Fault injected by the emulator")

    def handle(self, kind, request):
        if request.raw_path.rstrip("/").lower() != APP_SERVICE_PATH:
            return app_service_error(404, "Not found")
        api_version = request.param("api-version")
        if self.side.azure.get("app_service", {}).get("unsupported_api_version"):
            return self._unsupported(request, api_version)
        header = request.header("X-IDENTITY-HEADER") or ""
        if not hmac.compare_digest(header.encode(), self.side.identity_header.encode()):
            return app_service_error(401, "X-IDENTITY-HEADER is missing or does not match")
        if api_version != "2019-08-01":
            return app_service_error(400, "Unsupported api-version %r" % (api_version,))
        resource = request.param("resource")
        if not resource:
            return app_service_error(400, "The resource parameter is required")
        given = [(n, request.param(n)) for n in self.SELECTORS if request.param(n)]
        if len(given) > 1:
            return app_service_error(400, "Only one identity selector may be given")
        with self.side.state.hub.lock:
            azure = self.side.azure
            if given:
                name, value = given[0]
                identity = model.find_identity(azure, "app_service", self.SELECTORS[name], value)
            else:
                system, _users = model.identities_of(azure, "app_service")
                identity = system
            if identity is None:
                return app_service_error(400, APP_SERVICE_NO_IDENTITY)
            jwt, claims = self.side.issue("app_service", identity, resource)
        return Reply.json(200, {
            "access_token": jwt,
            "expires_on": str(claims["exp"]),
            "resource": resource,
            "token_type": "Bearer",
            "client_id": identity["client_id"],
        })

    def _unsupported(self, request, api_version):
        """What old Linux Consumption plans said to 2019-08-01."""
        uri = "http://127.0.0.1%s" % request.target
        return Reply.json(400, {"error": {
            "code": "UnsupportedApiVersion",
            "message": ("The HTTP resource that matches the request URI '%s' does not support"
                        " the API version '%s'." % (uri, api_version)),
            "innerError": None}})


def format_expires_on_2017(epoch, style):
    """`expires_on` as the 2017-09-01 endpoint writes it on each platform."""
    moment = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
    if style == "integer":
        return epoch
    if style == "windows":
        hour = moment.hour % 12 or 12
        return "%d/%d/%d %d:%02d:%02d %s +00:00" % (
            moment.month, moment.day, moment.year, hour, moment.minute, moment.second,
            "AM" if moment.hour < 12 else "PM")
    return moment.strftime("%m/%d/%Y %H:%M:%S +00:00")


class AppService2017App:
    """Legacy App Service / Azure ML, api-version 2017-09-01 (route kind `app_service_2017`)."""

    def __init__(self, side):
        self.side = side

    def classify(self, request):
        return "app_service_2017"

    def error_reply(self, kind, status):
        return app_service_error(status, "Fault injected by the emulator")

    def handle(self, kind, request):
        if request.raw_path.rstrip("/").lower() != APP_SERVICE_2017_PATH.rstrip("/").lower():
            return app_service_error(404, "Not found")
        secret = request.header("secret") or ""
        if not hmac.compare_digest(secret.encode(), self.side.msi_secret.encode()):
            return app_service_error(401, "The secret header is missing or does not match")
        if request.param("api-version") != "2017-09-01":
            return app_service_error(400, "Unsupported api-version")
        resource = request.param("resource")
        if not resource:
            return app_service_error(400, "The resource parameter is required")
        with self.side.state.hub.lock:
            azure = self.side.azure
            client_id = request.param("clientid")
            if client_id:
                identity = model.find_identity(azure, "app_service", "client_id", client_id)
            else:
                identity = model.identities_of(azure, "app_service")[0]
            if identity is None:
                return app_service_error(400, APP_SERVICE_NO_IDENTITY)
            jwt, claims = self.side.issue("app_service", identity, resource)
            style = azure.get("app_service", {}).get("expires_on_2017", "linux")
        return Reply.json(200, {
            "access_token": jwt,
            "expires_on": format_expires_on_2017(claims["exp"], style),
            "resource": resource,
            "token_type": "Bearer",
            "client_id": identity["client_id"],
        })


class ArcApp:
    """An Arc-enabled server's identity endpoint (route kind `arc`)."""

    SELECTORS = ("client_id", "object_id", "msi_res_id", "mi_res_id", "principal_id")

    def __init__(self, side):
        self.side = side

    def classify(self, request):
        return "arc"

    def error_reply(self, kind, status):
        return imds_error("Fault injected by the emulator", status, "emulated_fault")

    def handle(self, kind, request):
        if request.raw_path.rstrip("/") != IMDS_PATH:
            return imds_error("Resource not found", 404, "not_found")
        if (request.header("Metadata") or "").lower() != "true":
            return imds_error("Required metadata header not specified")
        if request.param("api-version") not in ARC_API_VERSIONS:
            return imds_error("Invalid api-version")
        resource = request.param("resource")
        if not resource:
            return imds_error("Required audience parameter not specified")
        if any(request.param(name) for name in self.SELECTORS):
            return imds_error("User assigned identities are not supported on Azure Arc")
        authorization = request.header("Authorization")
        if authorization is None:
            path = self.side.new_arc_key()
            return Reply.json(401, {"error": "unauthorized",
                                    "error_description": "Key file challenge issued"},
                              [("WWW-Authenticate", "Basic realm=%s" % path)])
        scheme, _, presented = authorization.partition(" ")
        if scheme.lower() != "basic" or not self.side.arc_key_valid(presented.strip()):
            return imds_error("Invalid key in Authorization header", 401, "unauthorized")
        with self.side.state.hub.lock:
            identity, _reason = model.default_identity(self.side.azure, "arc")
            if identity is None:
                return imds_error("Identity not found")
            jwt, claims = self.side.issue("arc", identity, resource)
        return Reply.json(200, imds_body(jwt, claims, identity["client_id"]))


class LoginApp:
    """OIDC discovery (`oidc`) and signing keys (`jwks`), like login.microsoftonline.com."""

    def __init__(self, side):
        self.side = side

    def classify(self, request):
        path = request.raw_path.rstrip("/")
        return "jwks" if "/discovery/" in path and path.endswith("/keys") else "oidc"

    def error_reply(self, kind, status):
        return Reply.json(status, {"error": "emulated_fault",
                                   "error_description": "Fault injected by the emulator"})

    def handle(self, kind, request):
        # Conjur appends the discovery path to a URI that ends in "/", so "//" is normal.
        parts = [p for p in request.raw_path.split("/") if p]
        tenant = self.side.azure["tenant_id"]
        if kind == "jwks":
            if parts[0] not in (tenant, "common"):
                return self._bad_tenant(parts[0])
            return Reply.json(200, {"keys": [self.side.signing_key.jwk()]})
        if parts[-2:] != [".well-known", "openid-configuration"] or len(parts) not in (3, 4):
            return Reply.json(404, {"error": "not_found"})
        if parts[0] != tenant:
            return self._bad_tenant(parts[0])
        return Reply.json(200, self._discovery(tenant, v2=len(parts) == 4))

    def _discovery(self, tenant, v2):
        login = "https://login.microsoftonline.com/%s" % tenant
        return {
            "token_endpoint": login + ("/oauth2/v2.0/token" if v2 else "/oauth2/token"),
            "token_endpoint_auth_methods_supported": ["client_secret_post",
                                                      "private_key_jwt", "client_secret_basic"],
            "jwks_uri": ("%s/discovery/v2.0/keys" % login) if v2 else
                        "https://login.microsoftonline.com/common/discovery/keys",
            "response_types_supported": ["code", "id_token", "code id_token", "token id_token"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "issuer": (login + "/v2.0") if v2 else v1_issuer(tenant),
            "authorization_endpoint": login + "/oauth2/authorize",
            "tenant_region_scope": "EU",
        }

    def _bad_tenant(self, tenant):
        return Reply.json(400, {"error": "invalid_tenant",
                                "error_description": "Tenant '%s' not found." % tenant})
