"""`azconjur doctor` against the emulators: one test per cause it must name.

Every run goes through `doctor()`, which also checks that neither stdout nor
stderr holds a token (anything JWT- or Conjur-token-shaped, both start with
base64 of '{"'), a secret value or API key of the fixture, the reader's
token, or IDENTITY_HEADER.
"""
import json
import os
import tempfile
import unittest

from tests.emulators.client import Emulators
from tests.integration.helpers import azconjur, clean_env

SUB = "9c8b7a6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d"
UAMI2_CLIENT = "1a2b3c4d-0012-4000-8000-00000000a012"
UAMI_CLIENT = "1a2b3c4d-0011-4000-8000-00000000a011"


def host_patch(host, **fields):
    return {"conjur": {"accounts": {"myorg": {"hosts": {host: fields}}}}}


class DoctorTest(unittest.TestCase):
    emu = None

    @classmethod
    def setUpClass(cls):
        cls.emu = Emulators()
        cls.emu.start()
        fixture = cls.emu.fixture_data()
        account = fixture["conjur"]["accounts"]["myorg"]
        cls.forbidden = [v["value"] for v in account["variables"].values()
                         if isinstance(v, dict) and isinstance(v.get("value"), str)
                         and len(v["value"]) > 6 and "/" not in v["value"]]
        cls.forbidden += [r["api_key"] for kind in ("users", "hosts")
                          for r in account[kind].values() if r.get("api_key")]
        cls.forbidden.append(cls.emu.state["app_service"]["identity_header"])

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()

    def setUp(self):
        self.emu.reset(fixture=True)
        self.tmp = tempfile.TemporaryDirectory()
        self.env = clean_env(**self.emu.env, AZCONJUR_RETRY_SCALE="0.01",
                             HOME=self.tmp.name,
                             AZCONJUR_SYSTEM_CONFIG=os.path.join(self.tmp.name, "none"))
        self.extra_forbidden = []

    def tearDown(self):
        self.tmp.cleanup()

    # ---- helpers ---------------------------------------------------------------

    def doctor(self, *args, expect, **extra_env):
        env = dict(self.env, **extra_env)
        proc = azconjur("doctor", *args, env=env)
        out, err = proc.stdout.decode(), proc.stderr.decode()
        self.assertEqual(proc.returncode, expect, out + err)
        self.assert_clean(out + err)
        self.assertEqual(err, "", "stderr stays quiet at the default level")
        return out

    def assert_clean(self, text):
        self.assertNotIn("eyJ", text, "a JWT or Conjur token reached the output")
        for value in self.forbidden + self.extra_forbidden:
            self.assertNotIn(value, text)

    def reader(self, host="azure-apps/vm-system"):
        """A token file for user alice, who is made able to read the host."""
        self.emu.patch(host_patch(host, read=["host:" + host, "user:alice"]))
        token = self.emu.conjur_token("alice")
        self.extra_forbidden += [token["base64"], json.loads(token["token"])["signature"]]
        path = os.path.join(self.tmp.name, "reader.json")
        with open(path, "w") as f:
            f.write(token["token"])
        return ["--reader-token-file", path]

    def line(self, out, step):
        for text in out.splitlines():
            if text[6:].startswith(step + " "):
                return text
        self.fail("no step '%s' in:\n%s" % (step, out))

    # ---- all well --------------------------------------------------------------

    def test_all_steps_pass(self):
        out = self.doctor("app/db/password", expect=0)
        for step in ("configuration", "identity source", "platform token", "conjur",
                     "authenticator", "authentication", "authenticator status",
                     "host annotations", "secret"):
            self.assertTrue(self.line(out, step).startswith("ok    "), out)
        self.assertIn("'app/db/password' readable, 21 bytes", out)

    def test_json_shape(self):
        out = self.doctor("--json", "app/nope", expect=6)
        doc = json.loads(out)
        self.assertEqual(set(doc), {"ok", "exit_code", "steps"})
        self.assertIs(doc["ok"], False)
        self.assertEqual(doc["exit_code"], 6)
        for step in doc["steps"]:
            self.assertEqual(set(step), {"name", "status", "detail", "hints"})
            self.assertIn(step["status"], ("ok", "fail", "skip"))
            self.assertIsInstance(step["hints"], list)
        self.assertEqual(doc["steps"][-1]["name"], "secret")
        self.assertEqual(doc["steps"][-1]["status"], "fail")

    def test_exit_code_is_the_first_failing_step(self):
        # a v2 token (4), so a refused login (5), so no secret: 4 wins
        self.emu.patch({"azure": {"token": {"issuer": "v2"}}})
        out = self.doctor("app/nope", expect=4)
        self.assertIn("the platform token has the problems shown above", out)
        self.assertTrue(self.line(out, "authentication").startswith("fail"), out)
        self.assertTrue(self.line(out, "secret").startswith("skip"), out)

    # ---- one test per cause ----------------------------------------------------

    def test_wrong_subscription(self):
        self.emu.patch(host_patch("azure-apps/vm-system", annotations={
            "authn-azure/subscription-id": "00000000-0000-4000-8000-000000000000"}))
        out = self.doctor(*self.reader(), expect=5)
        self.assertIn("annotation 'authn-azure/subscription-id' is "
                      "'00000000-0000-4000-8000-000000000000' but the token says '%s'" % SUB, out)

    def test_resource_group_differs_in_case_only(self):
        self.emu.patch(host_patch("azure-apps/vm-system", annotations={
            "authn-azure/resource-group": "AzConjur-RG"}))
        out = self.doctor(*self.reader(), expect=5)
        self.assertIn("'authn-azure/resource-group' is 'AzConjur-RG' but the token says "
                      "'azconjur-rg' (they differ only in letter case", out)
        self.assertIn("fix: authn-azure/resource-group: azconjur-rg", out)

    def test_wrong_user_assigned_identity(self):
        out = self.doctor(*self.reader("azure-apps/vm-uami"), expect=5,
                          CONJUR_AUTHN_JWT_HOST_ID="azure-apps/vm-uami",
                          CONJUR_AUTHN_AZURE_CLIENT_ID=UAMI2_CLIENT)
        self.assertIn("'authn-azure/user-assigned-identity' is 'azconjur-uami' but the token "
                      "says 'azconjur-uami-2'", out)
        self.assertIn("selected by client_id = %s (from CONJUR_AUTHN_AZURE_CLIENT_ID)"
                      % UAMI2_CLIENT, out)

    def test_system_assigned_annotation_with_user_assigned_token(self):
        out = self.doctor(*self.reader("azure-apps/vm-oid"), expect=5,
                          CONJUR_AUTHN_JWT_HOST_ID="azure-apps/vm-oid",
                          CONJUR_AUTHN_AZURE_CLIENT_ID=UAMI_CLIENT)
        self.assertIn("'authn-azure/system-assigned-identity' expects a system-assigned "
                      "identity, but the token is for a user-assigned identity", out)

    def test_without_reader_prints_the_annotations_needed(self):
        self.emu.patch(host_patch("azure-apps/vm-system", annotations={
            "authn-azure/resource-group": "AzConjur-RG"}))
        out = self.doctor(expect=5)
        self.assertIn("hint:   authn-azure/resource-group: azconjur-rg", out)
        self.assertIn("hint:   authn-azure/subscription-id: " + SUB, out)
        self.assertIn("--reader-token-file", out)

    def test_host_not_in_the_authenticators_group(self):
        out = self.doctor(expect=5, CONJUR_AUTHN_JWT_HOST_ID="azure-apps/outsider")
        self.assertIn("403 from POST /authn-azure/prod/myorg/host%2Fazure-apps%2Foutsider/"
                      "authenticate", out)
        self.assertIn("not permitted to authenticate: grant it membership of the group that "
                      "has 'authenticate' on conjur/authn-azure/prod", out)

    def test_authenticator_not_enabled(self):
        self.emu.patch({"conjur": {"accounts": {"myorg": {
            "enabled_authenticators": ["authn"]}}}})
        out = self.doctor(expect=5)
        self.assertIn("fail  authenticator        authn-azure/prod is not enabled", out)
        self.assertIn("CONJUR_AUTHENTICATORS", out)
        self.assertTrue(self.line(out, "authentication").startswith("skip"), out)
        self.assertEqual(self.emu.count("authn_azure"), 0)

    def test_untrusted_ca(self):
        env = dict(self.env)
        del env["CONJUR_CERT_FILE"]
        self.env = env
        out = self.doctor(expect=7)
        self.assertTrue(self.line(out, "conjur").startswith("fail"), out)
        self.assertIn("CONJUR_CERT_FILE", out)
        self.assertIn("TLS verification failed", out)
        self.assertTrue(self.line(out, "authentication").startswith("skip"), out)

    def test_expired_platform_token(self):
        self.emu.patch({"azure": {"token": {"expired": True}}})
        out = self.doctor(expect=4)
        self.assertIn("sent a token that expired at", self.line(out, "platform token"))
        self.assertIn("Conjur would refuse an expired token too (CONJ00016E)", out)
        self.assertTrue(self.line(out, "authentication").startswith("skip"), out)

    def test_unknown_variable(self):
        out = self.doctor("app/nope", expect=6)
        self.assertTrue(self.line(out, "secret").startswith("fail"), out)
        self.assertIn("status 404", out)
        self.assertIn("does not exist, has no value yet, or the host has no privilege", out)

    def test_no_identity_on_the_platform(self):
        self.emu.patch({"azure": {"platforms": {"vm": {"system_identity": None,
                                                        "user_assigned": []}}}})
        out = self.doctor(expect=4)
        self.assertIn("Identity not found", self.line(out, "platform token"))
        self.assertIn("the platform has no managed identity to give", out)
        self.assertTrue(self.line(out, "authentication").startswith("skip"), out)

    # ---- Conjur's rules, spotted locally ----------------------------------------

    def test_app_service_slot_is_flagged(self):
        self.emu.patch({"azure": {"app_service": {"slot": "staging"}}})
        app = self.emu.state["app_service"]
        out = self.doctor(expect=4, IDENTITY_ENDPOINT=app["identity_endpoint"],
                          IDENTITY_HEADER=app["identity_header"],
                          CONJUR_AUTHN_JWT_HOST_ID="azure-apps/site")
        self.assertIn("app_service", self.line(out, "identity source"))
        self.assertIn("CONJ00054E", out)
        self.assertIn("deployment slots have five provider segments", out)

    def test_v2_issuer_is_flagged(self):
        self.emu.patch({"azure": {"token": {"issuer": "v2"}}})
        out = self.doctor(expect=4)
        self.assertIn("not a v1 issuer", out)
        self.assertIn("/v2.0", out)

    def test_missing_xms_mirid_is_flagged(self):
        jwt = self.emu.mint(claims={"xms_mirid": None})
        out = self.doctor(expect=4, CONJUR_AUTHN_JWT_TOKEN=jwt)
        self.assertIn("static", self.line(out, "identity source"))
        self.assertIn("the token has no 'xms_mirid' claim", out)

    def test_configuration_error_names_the_setting(self):
        env = dict(self.env)
        del env["CONJUR_APPLIANCE_URL"]
        self.env = env
        out = self.doctor(expect=3)
        self.assertIn("no Conjur URL is configured: set CONJUR_APPLIANCE_URL", out)

    def test_identity_deadline_is_short_off_azure(self):
        # nothing listens there: the IMDS step fails fast and says how long doctor waits
        out = self.doctor(expect=4, AZURE_POD_IDENTITY_AUTHORITY_HOST="http://127.0.0.1:9",
                          AZCONJUR_IDENTITY_TIMEOUT="2")
        self.assertIn("no managed identity endpoint answered", out)
        self.assertIn("doctor waits 2 s", out)

    def test_status_not_readable_is_skipped(self):
        out = self.doctor(expect=0, CONJUR_AUTHN_JWT_HOST_ID="azure-apps/vm-uami",
                          CONJUR_AUTHN_AZURE_CLIENT_ID=UAMI_CLIENT)
        self.assertTrue(self.line(out, "authenticator status").startswith("skip"), out)


if __name__ == "__main__":
    unittest.main()
