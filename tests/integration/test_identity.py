"""The identity step against the emulators: every source, selector, expiry
shape, retry rule and limit, through `azconjur identity` and `azure.token()`.

Every run is scanned for tokens and platform secrets (DESIGN §6 rule 1).
"""
import json
import os
import re
import tempfile
import time
import unittest

from tests.emulators.client import Emulators
from tests.integration.helpers import azconjur, clean_env

SUB = "9c8b7a6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d"
VM_OID = "5e6f7a8b-0001-4000-8000-00000000b001"
SITE_OID = "5e6f7a8b-0002-4000-8000-00000000b002"
ACI_OID = "5e6f7a8b-0003-4000-8000-00000000b003"
UAMI_CLIENT = "1a2b3c4d-0011-4000-8000-00000000a011"
UAMI_OBJECT = "5e6f7a8b-0011-4000-8000-00000000b011"
UAMI_ARM = ("/subscriptions/%s/resourceGroups/azconjur-rg/providers/"
            "Microsoft.ManagedIdentity/userAssignedIdentities/azconjur-uami" % SUB)
JWT_RE = re.compile(rb"eyJ[A-Za-z0-9_-]{8,}\.")

EXPIRY_SCRIPT = """
local azure = require "azure"
local t = azure.token()
print(t.source, t.expires_on, t:claims().exp, math.type(t.expires_on))
"""


class IdentityTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emu = Emulators()
        cls.emu.start()
        cls.tmp = tempfile.TemporaryDirectory()

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()
        cls.tmp.cleanup()

    def setUp(self):
        self.emu.reset(fixture=True)
        self.secrets = [self.emu.state["app_service"]["identity_header"].encode(),
                        self.emu.state["app_service_2017"]["msi_secret"].encode()]

    # ---- helpers ----------------------------------------------------------

    def env(self, source="imds", **extra):
        state = self.emu.state
        env = clean_env(AZCONJUR_RETRY_SCALE="0.01",
                        AZCONJUR_ARC_TOKEN_DIR=state["arc"]["token_dir"])
        if source == "imds":
            env["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = state["imds_url"]
        elif source == "aci":
            env["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = state["aci_imds_url"]
        elif source == "app_service":
            env["IDENTITY_ENDPOINT"] = state["app_service"]["identity_endpoint"]
            env["IDENTITY_HEADER"] = state["app_service"]["identity_header"]
        elif source == "app_service_2017":
            env["MSI_ENDPOINT"] = state["app_service_2017"]["msi_endpoint"]
            env["MSI_SECRET"] = state["app_service_2017"]["msi_secret"]
        elif source == "arc":
            env["IDENTITY_ENDPOINT"] = state["arc"]["identity_endpoint"]
            env["IMDS_ENDPOINT"] = state["arc"]["imds_endpoint"]
        env.update(extra)
        return env

    def run_az(self, *args, env, verbose=True):
        """Run with debug logs on, so the scan covers every log line too."""
        flags = ("-vv",) if verbose else ()
        r = azconjur(*flags, *args, env=env)
        self.assert_no_leak(r)
        return r

    def assert_no_leak(self, r):
        for stream in (r.stdout, r.stderr):
            self.assertIsNone(JWT_RE.search(stream), "a JWT reached the output")
            for secret in self.secrets:
                self.assertNotIn(secret, stream)

    def identity_json(self, env):
        r = self.run_az("identity", "--json", env=env, verbose=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def fails(self, env, code=4, *args):
        r = self.run_az("identity", *args, env=env)
        self.assertEqual(r.returncode, code, r.stderr)
        self.assertEqual(r.stdout, b"")
        return r.stderr.decode().strip().splitlines()[-1]

    def script(self, text, env):
        path = os.path.join(self.tmp.name, "s.lua")
        with open(path, "w") as handle:
            handle.write(text)
        return self.run_az("run", path, env=env, verbose=False)

    def expiry(self, env):
        r = self.script(EXPIRY_SCRIPT, env)
        self.assertEqual(r.returncode, 0, r.stderr)
        source, expires_on, exp, kind = r.stdout.decode().split()
        self.assertEqual(kind, "integer")
        return source, int(expires_on), int(exp)

    def platform_counts(self):
        """Requests per identity endpoint (control-API calls count as "other")."""
        return {k: v for k, v in self.emu.counts().items()
                if k in ("imds", "app_service", "app_service_2017", "arc") and v}

    def last_query(self, kind):
        return self.emu.requests(kind)[-1]["query"]

    # ---- IMDS: VM, scale set, container group ---------------------------------

    def test_imds_system_identity(self):
        out = self.identity_json(self.env())
        self.assertEqual(out["source"], "imds")
        self.assertEqual(out["identity_kind"], "system-assigned")
        self.assertEqual(out["annotations"], {
            "authn-azure/subscription-id": SUB,
            "authn-azure/resource-group": "azconjur-rg",
            "authn-azure/system-assigned-identity": VM_OID})
        self.assertNotIn("warnings", out)
        query = self.last_query("imds")
        self.assertIn("api-version=2018-02-01", query)
        self.assertIn("resource=https%3A%2F%2Fmanagement.azure.com%2F", query)

    def test_imds_text_report_and_policy_snippet(self):
        r = self.run_az("identity", env=self.env())
        self.assertEqual(r.returncode, 0, r.stderr)
        text = r.stdout.decode()
        self.assertRegex(text, r"source +imds\n")
        self.assertRegex(text, r"expires +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(in 2[34]h")
        self.assertIn("  annotations:\n    authn-azure/subscription-id: %s\n"
                      "    authn-azure/resource-group: azconjur-rg\n"
                      "    authn-azure/system-assigned-identity: %s\n" % (SUB, VM_OID), text)

    def test_imds_selectors(self):
        for var, value, param in (
                ("CONJUR_AUTHN_AZURE_CLIENT_ID", UAMI_CLIENT, "client_id="),
                ("CONJUR_AUTHN_AZURE_OBJECT_ID", UAMI_OBJECT, "object_id="),
                ("CONJUR_AUTHN_AZURE_RESOURCE_ID", UAMI_ARM, "msi_res_id=")):
            with self.subTest(var=var):
                out = self.identity_json(self.env(**{var: value}))
                self.assertEqual(out["identity_kind"], "user-assigned")
                self.assertEqual(out["annotations"]["authn-azure/user-assigned-identity"],
                                 "azconjur-uami")
                self.assertIn(param, self.last_query("imds"))

    def test_container_instances(self):
        out = self.identity_json(self.env("aci"))
        self.assertEqual(out["source"], "imds")
        self.assertTrue(out["xms_mirid"].endswith(
            "/Microsoft.ContainerInstance/containerGroups/azconjur-aci"))
        self.assertEqual(out["annotations"]["authn-azure/system-assigned-identity"], ACI_OID)

    def test_resource_option_and_scope(self):
        self.identity_json(self.env(CONJUR_AUTHN_AZURE_RESOURCE="https://vault.azure.net"))
        self.assertIn("resource=https%3A%2F%2Fvault.azure.net&", self.last_query("imds") + "&")
        r = self.run_az("identity", "--resource", "https://example.org/.default", env=self.env())
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("resource=https%3A%2F%2Fexample.org&", self.last_query("imds") + "&")

    def test_two_selectors_are_a_config_error(self):
        line = self.fails(self.env(CONJUR_AUTHN_AZURE_CLIENT_ID=UAMI_CLIENT,
                                   CONJUR_AUTHN_AZURE_OBJECT_ID=UAMI_OBJECT), 3)
        self.assertIn("CONJUR_AUTHN_AZURE_CLIENT_ID and CONJUR_AUTHN_AZURE_OBJECT_ID", line)
        self.assertEqual(self.platform_counts(), {})

    def test_identity_not_found_hints(self):
        self.emu.patch({"azure": {"platforms": {"vm": {"system_identity": None,
                                                       "user_assigned": []}}}})
        line = self.fails(self.env())
        self.assertIn("answered 400 invalid_request: Identity not found", line)
        self.assertIn("no managed identity is assigned to this resource", line)
        self.assertIn(self.emu.state["imds_url"], line)
        self.emu.reset(fixture=True)
        line = self.fails(self.env(CONJUR_AUTHN_AZURE_CLIENT_ID="0000-nobody"))
        self.assertIn("the identity client_id=0000-nobody is not assigned", line)
        self.assertEqual(self.emu.counts()["imds"], 1, "400 is not retried")

    def test_multiple_user_assigned_identities(self):
        self.emu.patch({"azure": {"platforms": {"vm": {"system_identity": None}}}})
        line = self.fails(self.env())
        self.assertIn("Multiple user assigned identities exist", line)
        self.assertIn("set CONJUR_AUTHN_AZURE_CLIENT_ID", line)

    # ---- App Service and Functions ------------------------------------------------

    def test_app_service(self):
        out = self.identity_json(self.env("app_service"))
        self.assertEqual(out["source"], "app_service")
        self.assertEqual(out["annotations"]["authn-azure/resource-group"], "azconjur-web-rg")
        self.assertEqual(out["annotations"]["authn-azure/system-assigned-identity"], SITE_OID)
        self.assertIn("api-version=2019-08-01", self.last_query("app_service"))

    def test_app_service_selectors(self):
        for var, value, param in (
                ("CONJUR_AUTHN_AZURE_CLIENT_ID", UAMI_CLIENT, "client_id="),
                ("CONJUR_AUTHN_AZURE_OBJECT_ID", UAMI_OBJECT, "principal_id="),
                ("CONJUR_AUTHN_AZURE_RESOURCE_ID", UAMI_ARM, "mi_res_id=")):
            with self.subTest(var=var):
                out = self.identity_json(self.env("app_service", **{var: value}))
                self.assertEqual(out["identity_name"], "azconjur-uami")
                self.assertIn(param, self.last_query("app_service"))

    def test_app_service_unknown_client_id(self):
        line = self.fails(self.env("app_service", CONJUR_AUTHN_AZURE_CLIENT_ID="c-unknown"))
        self.assertIn("Unable to load the proper Managed Identity", line)
        self.assertIn("the identity client_id=c-unknown is not assigned to this app", line)
        self.assertIn("correlation id", line)

    def test_app_service_unsupported_api_version(self):
        self.emu.patch({"azure": {"app_service": {"unsupported_api_version": True}}})
        line = self.fails(self.env("app_service"))
        self.assertIn("400 UnsupportedApiVersion", line)
        self.assertIn("uses MSI_ENDPOINT and MSI_SECRET", line)

    def test_app_service_wrong_header(self):
        env = self.env("app_service", IDENTITY_HEADER="wrong-header-value")
        line = self.fails(env)
        self.assertIn("answered 401", line)
        self.assertIn("IDENTITY_HEADER was refused", line)
        self.assertNotIn("wrong-header-value", line)

    def test_echoed_header_cut_by_the_message_limit_shows_no_prefix(self):
        header = self.emu.state["app_service"]["identity_header"]
        for pad in (500, 505):  # the cut falls inside the echoed header
            self.emu.fault("app_service", status=400, body={
                "error": "bad_request",
                "error_description": "x" * pad + header + " was refused"})
            line = self.fails(self.env("app_service"))
            self.assertIn("answered 400 bad_request", line)
            self.assertNotIn(header[:8], line)

    def test_doctor_report_masks_an_echoed_header(self):
        header = self.emu.state["app_service"]["identity_header"]
        self.emu.fault("app_service", status=400, body={
            "error": "bad_request", "error_description": "got " + header})
        r = self.run_az("doctor", env=self.env("app_service"), verbose=False)
        self.assertNotEqual(r.returncode, 0)  # 3: no Conjur URL here
        self.assertIn(b"bad_request: got *****", r.stdout)

    def test_slot_warns_and_gives_no_snippet(self):
        self.emu.patch({"azure": {"app_service": {"slot": "staging"}}})
        r = self.run_az("identity", env=self.env("app_service"))
        self.assertEqual(r.returncode, 0, r.stderr)
        text = r.stdout.decode()
        self.assertIn("No Conjur host policy", text)
        self.assertIn("warning: Conjur will refuse this xms_mirid: the providers part has "
                      "5 elements", text)

    def test_v2_issuer_and_missing_mirid_warn(self):
        self.emu.patch({"azure": {"token": {"issuer": "v2", "omit_xms_mirid": True}}})
        out = self.identity_json(self.env())
        self.assertEqual(len(out["warnings"]), 2)
        self.assertIn("accepts only v1 tokens", out["warnings"][0])
        self.assertIn("no 'xms_mirid' claim", out["warnings"][1])

    # ---- legacy 2017-09-01 / Azure ML ---------------------------------------------

    def test_app_service_2017_expiry_styles(self):
        for style in ("linux", "windows", "integer"):
            with self.subTest(style=style):
                self.emu.patch({"azure": {"app_service": {"expires_on_2017": style}}})
                source, expires_on, exp = self.expiry(self.env("app_service_2017"))
                self.assertEqual(source, "app_service_2017")
                self.assertEqual(expires_on, exp)
        self.assertIn("api-version=2017-09-01", self.last_query("app_service_2017"))

    def test_app_service_2017_selectors(self):
        self.identity_json(self.env("app_service_2017", CONJUR_AUTHN_AZURE_CLIENT_ID=UAMI_CLIENT))
        self.assertIn("clientid=" + UAMI_CLIENT, self.last_query("app_service_2017"))
        for var, value in (("CONJUR_AUTHN_AZURE_OBJECT_ID", UAMI_OBJECT),
                           ("CONJUR_AUTHN_AZURE_RESOURCE_ID", UAMI_ARM)):
            with self.subTest(var=var):
                line = self.fails(self.env("app_service_2017", **{var: value}), 3)
                self.assertIn("takes only a client id", line)
        self.assertEqual(self.emu.counts().get("app_service_2017"), 1)

    def test_azure_ml_default_client_id(self):
        self.identity_json(self.env("app_service_2017", DEFAULT_IDENTITY_CLIENT_ID=UAMI_CLIENT))
        self.assertIn("clientid=" + UAMI_CLIENT, self.last_query("app_service_2017"))

    def test_both_protocols_set_prefers_2019(self):
        env = self.env("app_service")
        env.update(self.env("app_service_2017"))
        self.assertEqual(self.identity_json(env)["source"], "app_service")
        self.assertNotIn("app_service_2017", self.emu.counts())

    # ---- Azure Arc ------------------------------------------------------------------

    def test_arc_challenge(self):
        out = self.identity_json(self.env("arc"))
        self.assertEqual(out["source"], "arc")
        self.assertEqual(out["annotations"]["authn-azure/resource-group"], "OnPrem-RG")
        statuses = [r["status"] for r in self.emu.requests("arc")]
        self.assertEqual(statuses, [401, 200])
        self.assertIn("api-version=2020-06-01", self.last_query("arc"))

    def test_arc_selector_is_a_config_error(self):
        line = self.fails(self.env("arc", CONJUR_AUTHN_AZURE_CLIENT_ID=UAMI_CLIENT), 3)
        self.assertIn("Azure Arc servers have only their system identity", line)
        self.assertEqual(self.platform_counts(), {})

    def arc_realm(self, realm):
        headers = {} if realm is None else {"WWW-Authenticate": "Basic realm=" + realm}
        self.emu.fault("arc", status=401, headers=headers)
        return self.fails(self.env("arc"))

    def test_arc_key_file_rules(self):
        token_dir = self.emu.state["arc"]["token_dir"]
        os.makedirs(token_dir, exist_ok=True)
        outside = os.path.join(self.tmp.name, "outside.key")
        with open(outside, "w") as handle:
            handle.write("k" * 64)
        big = os.path.join(token_dir, "big.key")
        with open(big, "w") as handle:
            handle.write("k" * 4097)
        link = os.path.join(token_dir, "link.key")
        if not os.path.lexists(link):
            os.symlink(outside, link)
        wrong_ext = os.path.join(token_dir, "key.txt")
        with open(wrong_ext, "w") as handle:
            handle.write("k")
        cases = (
            (outside, "not in the agent's tokens directory"),
            (token_dir + "/../" + os.path.basename(token_dir) + "-x/a.key", "cannot read"),
            (big, "4097 bytes, more than 4096"),
            (link, "not a regular file (a symbolic link)"),
            (wrong_ext, "must be a '.key' file"),
            ("relative.key", "must be a '.key' file"),
            (None, "without a WWW-Authenticate challenge"),
        )
        for realm, message in cases:
            with self.subTest(realm=realm):
                self.assertIn(message, self.arc_realm(realm))

    def test_arc_challenge_with_two_equals_is_refused(self):
        self.assertIn("not 'Basic realm=<key file>'", self.arc_realm("/a=b.key"))

    def test_arc_challenge_with_control_bytes_is_refused_unquoted(self):
        line = self.arc_realm("/tmp/\x1b[2J\x1b]0;pwned\x07.key")
        self.assertIn("not 'Basic realm=<key file>'", line)
        self.assertNotIn("\x1b", line)

    # ---- static token -------------------------------------------------------------

    def test_static_token(self):
        token = self.emu.mint()
        out = self.identity_json(self.env(CONJUR_AUTHN_JWT_TOKEN="  %s\n" % token))
        self.assertEqual(out["source"], "static")
        self.assertEqual(out["endpoint"], "CONJUR_AUTHN_JWT_TOKEN")
        self.assertEqual(self.platform_counts(), {})

    def test_static_token_refusals(self):
        expired = self.emu.mint(claims={"exp": 1600000000})
        no_exp = self.emu.mint(claims={"exp": None})
        for value, message in (("not-a-jwt", "not a JWT"),
                               ("a.b", "three dot-separated parts"),
                               (expired, "expired at 2020-09-13T12:26:40Z"),
                               (no_exp, "no usable 'exp' claim")):
            with self.subTest(message=message):
                line = self.fails(self.env(CONJUR_AUTHN_JWT_TOKEN=value))
                self.assertIn("CONJUR_AUTHN_JWT_TOKEN", line)
                self.assertNotIn(value, line)

    # ---- expiry shapes ------------------------------------------------------------

    def body_with(self, **fields):
        token = self.emu.mint()
        body = {"access_token": token, "resource": "https://management.azure.com/",
                "token_type": "Bearer"}
        body.update(fields)
        self.emu.fault("imds", body=body)
        return token

    def test_expires_on_shapes(self):
        now = int(time.time())
        for value, want in (
                ("2031-05-06T07:08:09.0000000+00:00", 1935817689),
                ("2031-05-06T09:08:09+02:00", 1935817689),
                ("5/6/2031 7:08:09 AM +00:00", 1935817689),
                ("05/06/2031 07:08:09 +00:00", 1935817689),
                (1935898089, 1935898089),
                ("1935898089", 1935898089)):
            with self.subTest(value=value):
                self.body_with(expires_on=value)
                self.assertEqual(self.expiry(self.env())[1], want)
        self.body_with(expires_in="3600")
        self.assertAlmostEqual(self.expiry(self.env())[1], now + 3600, delta=60)
        self.body_with(expires_on="soon", expires_in=7200)
        self.assertAlmostEqual(self.expiry(self.env())[1], now + 7200, delta=60)

    def test_missing_expiry_or_token(self):
        self.body_with()
        line = self.fails(self.env())
        self.assertIn("without a usable expiry (expires_on absent, expires_in absent)", line)
        self.emu.fault("imds", body={"expires_on": "1935898089"})
        self.assertIn("without an access_token", self.fails(self.env()))

    # ---- retries, limits, deadline --------------------------------------------------

    def test_410_sequence_outlasts_the_retry_budget(self):
        self.emu.fault("imds", status=410, count=6)
        self.identity_json(self.env())
        self.assertEqual(self.emu.counts()["imds"], 7)

    def test_410_forever_gives_up(self):
        self.emu.fault("imds", status=410, count=-1)
        line = self.fails(self.env())
        self.assertIn("answered 410", line)

    def test_429_with_retry_after(self):
        self.emu.fault("imds", status=429, retry_after=30)
        self.identity_json(self.env())
        log = self.emu.requests("imds")
        self.assertEqual([r["status"] for r in log], [429, 200])
        # 30 s scaled by 0.01: at least 0.3 s between the two (a lower bound only)
        self.assertGreaterEqual(log[1]["time"] - log[0]["time"], 0.25)

    def test_5xx_then_success(self):
        self.emu.fault("imds", status=500, count=2)
        self.emu.fault("imds", status=503)
        self.identity_json(self.env())
        self.assertEqual([r["status"] for r in self.emu.requests("imds")], [500, 500, 503, 200])

    def test_5xx_forever_stops_after_five_retries(self):
        self.emu.fault("imds", status=500, count=-1)
        line = self.fails(self.env())
        self.assertIn("no token after 6 attempts", line)
        self.assertEqual(self.emu.counts()["imds"], 6)

    def test_no_retry_on_400_403(self):
        for status in (400, 403):
            with self.subTest(status=status):
                self.emu.reset()
                self.emu.fault("imds", status=status, count=3)
                line = self.fails(self.env())
                self.assertIn("answered %d" % status, line)
                self.assertEqual(self.emu.counts()["imds"], 1)

    def test_dead_proxy_is_ignored(self):
        dead = "http://127.0.0.1:9"
        for source in ("imds", "app_service", "arc", "app_service_2017"):
            with self.subTest(source=source):
                env = self.env(source, http_proxy=dead, HTTP_PROXY=dead, https_proxy=dead,
                               HTTPS_PROXY=dead, ALL_PROXY=dead, all_proxy=dead)
                self.assertEqual(self.identity_json(env)["source"], source)

    def test_malformed_body(self):
        self.emu.fault("imds", malformed=True)
        line = self.fails(self.env())
        self.assertIn("malformed JSON from the IMDS token endpoint", line)
        self.assertEqual(self.emu.counts()["imds"], 1)

    def test_truncated_body_is_retried(self):
        self.emu.fault("imds", truncate=True)
        self.identity_json(self.env())
        self.assertEqual(self.emu.counts()["imds"], 2)

    def test_oversized_body(self):
        self.emu.fault("imds", oversize=100000)
        line = self.fails(self.env())
        self.assertIn("larger than 65536 bytes", line)

    def test_deadline(self):
        self.emu.fault("imds", delay=5, count=-1)
        line = self.fails(self.env(AZCONJUR_IDENTITY_TIMEOUT="1"))
        self.assertIn("no token within the 1 s deadline (AZCONJUR_IDENTITY_TIMEOUT)", line)
        self.assertIn("timed out", line)

    def test_no_endpoint_off_azure(self):
        line = self.fails(self.env(AZURE_POD_IDENTITY_AUTHORITY_HOST="http://127.0.0.1:9",
                                   AZCONJUR_IDENTITY_TIMEOUT="2"))
        self.assertIn("no managed identity endpoint answered at "
                      "http://127.0.0.1:9/metadata/identity/oauth2/token", line)
        self.assertIn("set CONJUR_AUTHN_JWT_TOKEN", line)

    def test_bad_timeout_is_a_config_error(self):
        line = self.fails(self.env(AZCONJUR_IDENTITY_TIMEOUT="soon"), 3)
        self.assertIn("AZCONJUR_IDENTITY_TIMEOUT must be a whole number", line)

    def test_request_headers_and_method(self):
        self.identity_json(self.env())
        entry = self.emu.requests("imds")[-1]
        self.assertEqual((entry["method"], entry["status"]), ("GET", 200))

    # ---- the azure module -----------------------------------------------------------

    def test_two_calls_make_one_request(self):
        r = self.script("""
            local azure = require "azure"
            local a = azure.token()
            local b = azure.token()
            assert(a.expires_on == b.expires_on)
            local c = azure.token{resource = "https://vault.azure.net"}
            local d = azure.token{refresh = true}
            print(azure.source())
        """, self.env())
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, b"imds\n")
        self.assertEqual(self.emu.counts()["imds"], 3)

    def test_token_object(self):
        r = self.script("""
            local azure = require "azure"
            local t = azure.token{client_id = "%s"}
            local claims = t:claims()
            print(tostring(t))
            print(claims.xms_mirid, math.type(claims.exp), claims.exp == t.expires_on)
            local s = t:secret()
            print(tostring(s), #s > 100)
            local m = azure.mirid(claims.xms_mirid)
            print(m.identity_kind, m.name, m.acceptable)
            local ok, err = pcall(azure.token, {colour = "blue"})
            print(ok, err)
            ok, err = pcall(azure.token, {client_id = "a", object_id = "b"})
            print(ok, err.code, err.exit_code)
        """ % UAMI_CLIENT, self.env())
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.decode().splitlines()
        self.assertRegex(lines[0], r"^azure-token\(imds, expires \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)$")
        self.assertTrue(lines[1].endswith("userAssignedIdentities/azconjur-uami\tinteger\ttrue"))
        self.assertEqual(lines[2], "secret(azure-token)\ttrue")
        self.assertEqual(lines[3], "user-assigned\tazconjur-uami\ttrue")
        self.assertIn("bad argument #1 to 'azure.token' (unknown option 'colour')", lines[4])
        self.assertEqual(lines[5], "false\tconfig\t3")

    def test_failure_is_an_error_value(self):
        self.emu.fault("imds", status=400, body={"error": "invalid_request",
                                                 "error_description": "Identity not found"})
        r = self.script("""
            local ok, err = pcall(require("azure").token)
            print(ok, err.code, err.status, err.exit_code)
        """, self.env())
        self.assertEqual(r.stdout, b"false\tidentity\t400\t4\n", r.stderr)

    def test_source_names(self):
        token = self.emu.mint()
        for source, env in (("static", self.env(CONJUR_AUTHN_JWT_TOKEN=token)),
                            ("app_service", self.env("app_service")),
                            ("arc", self.env("arc")),
                            ("app_service_2017", self.env("app_service_2017")),
                            ("imds", self.env())):
            with self.subTest(source=source):
                r = self.script('print(require("azure").source())', env)
                self.assertEqual(r.stdout.decode(), source + "\n")
        self.assertEqual(self.platform_counts(), {})


if __name__ == "__main__":
    unittest.main()
