"""authn-azure and authn: one test per server rule of conjur.md §1-§3."""

import base64
import json
import time
import urllib.parse

from .jwt_tools import b64url_decode
from .test_azure import SUB, TENANT, UAMI, VM
from .testlib import EmulatorTestCase

EXPIRED_BODY = {"error": {"code": "unauthorized", "message": "CONJ00016E Token expired"}}
VM_MIRID = ("/subscriptions/%s/resourcegroups/azconjur-rg/providers/"
            "Microsoft.Compute/virtualMachines/azconjur-vm" % SUB)


class AuthnAzureTest(EmulatorTestCase):
    def patch_account(self, changes, account="myorg"):
        self.emu.patch({"conjur": {"accounts": {account: changes}}})

    def annotate(self, host, annotations):
        self.patch_account({"hosts": {host: {"annotations": annotations}}})

    def assert_refused(self, response, status=401):
        self.assertEqual(response.status, status, response)
        self.assertEqual(response.body, b"")

    def auth_with_claims(self, host="azure-apps/vm-system", **claims):
        return self.authenticate(host, jwt=self.emu.mint(claims=claims))

    # ---- success and response forms -------------------------------------------

    def test_success_token_json(self):
        before = int(time.time())
        response = self.authenticate()
        self.assertEqual(response.status, 200)
        self.assertEqual(response.header("Content-Type"), "application/json")
        token = response.json()
        self.assertEqual(sorted(token), ["payload", "protected", "signature"])
        for part in token.values():
            self.assertRegex(part, r"^[A-Za-z0-9_-]+=*$")
            self.assertEqual(len(part) % 4, 0, "padding kept")
        payload = json.loads(b64url_decode(token["payload"]))
        self.assertEqual(payload["sub"], "host/azure-apps/vm-system")
        self.assertGreaterEqual(payload["iat"], before)
        self.assertEqual(payload["exp"] - payload["iat"], 480)
        protected = json.loads(b64url_decode(token["protected"]))
        self.assertEqual(protected["alg"], "conjur.org/slosilo/v2")
        self.assertRegex(protected["kid"], r"^[0-9a-f]{64}$")

    def test_accept_encoding_base64_anywhere_in_list(self):
        response = self.authenticate(headers={"Accept-Encoding": "gzip , bASe64"})
        self.assertEqual(response.status, 200)
        self.assertEqual(response.header("Content-Encoding"), "base64")
        self.assertEqual(response.header("Content-Type"), "text/plain")
        self.assertIn("payload", json.loads(base64.b64decode(response.body, validate=True)))

    def test_accept_encoding_without_base64_gives_json(self):
        response = self.authenticate(headers={"Accept-Encoding": "gzip,deflate,br"})
        self.assertIsNone(response.header("Content-Encoding"))
        self.assertIn("payload", response.json())

    def test_token_ttl_setting(self):
        self.emu.patch({"conjur": {"token_ttl": 60}})
        payload = json.loads(b64url_decode(self.authenticate().json()["payload"]))
        self.assertEqual(payload["exp"] - payload["iat"], 60)

    def test_host_id_with_several_slashes(self):
        self.assertEqual(self.authenticate("azure-apps/team/prod/db/reader").status, 200)

    def test_unencoded_slash_in_login_is_no_route(self):
        path = "/authn-azure/prod/myorg/host/azure-apps/vm-system/authenticate"
        response = self.conjur(path, "POST", body="jwt=" + self.azure_token())
        self.assertEqual(response.status, 404)

    def test_content_type_is_not_consulted(self):
        response = self.authenticate(headers={"Content-Type": "text/plain"})
        self.assertEqual(response.status, 200)

    # ---- §3.1 checks 1-7 ----------------------------------------------------------

    def test_1_authenticator_not_implemented(self):
        login = urllib.parse.quote("host/azure-apps/vm-system", safe="")
        response = self.conjur("/authn-iam/prod/myorg/%s/authenticate" % login, "POST",
                               body="jwt=" + self.azure_token())
        self.assert_refused(response)

    def test_2_account_must_exist(self):
        self.assert_refused(self.authenticate(account="no-such-account"))

    def test_3_webservice_must_be_enabled(self):
        self.patch_account({"enabled_authenticators": ["authn"]})
        self.assert_refused(self.authenticate())

    def test_3_service_id_is_required(self):
        login = urllib.parse.quote("host/azure-apps/vm-system", safe="")
        response = self.conjur("/authn-azure/myorg/%s/authenticate" % login, "POST",
                               body="jwt=" + self.azure_token())
        self.assert_refused(response)

    def test_4_role_must_exist(self):
        self.assert_refused(self.authenticate("azure-apps/nobody"))

    def test_5_webservice_must_exist(self):
        self.patch_account({"enabled_authenticators": ["authn", "authn-azure/ghost"]})
        self.assert_refused(self.authenticate(service="ghost"))

    def test_6_authenticate_permission_gives_403(self):
        self.assert_refused(self.authenticate("azure-apps/outsider"), status=403)

    def test_6_read_only_grant_is_not_enough(self):
        self.patch_account({"webservices": {"conjur/authn-azure/prod": {"authenticate": []}}})
        self.assert_refused(self.authenticate(), status=403)

    def test_7_restricted_to(self):
        self.patch_account({"hosts": {"azure-apps/vm-system": {"restricted_to": ["10.0.0.0/8"]}}})
        self.assert_refused(self.authenticate())
        self.patch_account({"hosts": {"azure-apps/vm-system": {"restricted_to": ["127.0.0.0/8"]}}})
        self.assertEqual(self.authenticate().status, 200)

    def test_checks_run_before_the_token_is_read(self):
        # An unknown host with no body at all is refused for the host, not the body.
        self.assert_refused(self.authenticate("azure-apps/nobody", jwt=False))
        self.assertEqual(self.emu.count("oidc"), 0)

    # ---- §3.1 check 8: provider-uri, body, discovery, signature, claims -----------

    def test_8_1_provider_uri_variable_missing(self):
        self.patch_account({"variables": {"conjur/authn-azure/prod/provider-uri": None}})
        self.assert_refused(self.authenticate())

    def test_8_1_provider_uri_without_value(self):
        self.assert_refused(self.authenticate(service="nouri"))

    def test_8_1_provider_uri_normalised_to_one_slash(self):
        uri = "https://sts.windows.net/%s" % TENANT
        self.emu.set_secret("conjur/authn-azure/prod/provider-uri", uri)
        self.assertEqual(self.authenticate().status, 200)
        self.emu.set_secret("conjur/authn-azure/prod/provider-uri", uri + "//")
        self.assert_refused(self.authenticate())

    def test_8_2_missing_jwt_is_400(self):
        self.assert_refused(self.authenticate(jwt=False), status=400)
        login = urllib.parse.quote("host/azure-apps/vm-system", safe="")
        path = "/authn-azure/prod/myorg/%s/authenticate" % login
        self.assert_refused(self.conjur(path, "POST", body="jwt="), status=400)
        self.assert_refused(self.conjur(path, "POST", body="other=1"), status=400)

    def test_8_2_jwt_must_have_three_parts(self):
        self.assert_refused(self.authenticate(jwt="abc.def"))
        unsigned = self.emu.mint(header={"alg": "none"})
        self.assertTrue(unsigned.endswith("."))
        self.assert_refused(self.authenticate(jwt=unsigned))

    def test_8_2_surrounding_whitespace_is_stripped(self):
        token = urllib.parse.quote(" %s\n" % self.azure_token())
        self.assertEqual(self.authenticate(jwt=token).status, 200)

    def test_8_3_discovery_failure(self):
        self.emu.fault("oidc", status=500)
        self.assert_refused(self.authenticate())
        self.assertEqual(self.emu.count("oidc"), 1)

    def test_8_3_jwks_failure(self):
        self.emu.fault("jwks", malformed=True)
        self.assert_refused(self.authenticate())

    def test_8_3_keys_fetched_over_http_and_cached(self):
        self.assertEqual(self.authenticate().status, 200)
        self.assertEqual(self.authenticate().status, 200)
        counts = self.emu.counts()
        self.assertEqual((counts.get("oidc"), counts.get("jwks")), (1, 1))
        discovery = self.emu.requests("oidc")[0]
        self.assertEqual(discovery["path"], "/%s//.well-known/openid-configuration" % TENANT)

    def test_8_3_unmapped_provider_is_unreachable(self):
        self.emu.patch({"conjur": {"provider_map": {"https://sts.windows.net/": None}}})
        self.assert_refused(self.authenticate())

    def test_8_4_foreign_signature(self):
        self.assert_refused(self.authenticate(jwt=self.emu.mint(key="foreign")))

    def test_8_4_tampered_payload(self):
        header, payload, signature = self.azure_token().split(".")
        claims = json.loads(b64url_decode(payload))
        claims["oid"] = UAMI["object_id"]
        forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
        self.assert_refused(self.authenticate(jwt="%s.%s.%s" % (header, forged, signature)))

    def test_8_4_algorithm_must_be_allowed(self):
        self.assert_refused(self.authenticate(jwt=self.emu.mint(header={"alg": "HS256"})))

    def test_8_4_issuer_must_match(self):
        self.emu.patch({"azure": {"token": {"issuer": "v2"}}})
        self.assert_refused(self.authenticate())

    def test_8_4_expired_token_has_json_body(self):
        self.emu.patch({"azure": {"token": {"expired": True}}})
        response = self.authenticate()
        self.assertEqual(response.status, 401)
        self.assertEqual(response.json(), EXPIRED_BODY)

    def test_8_4_exp_has_zero_leeway(self):
        response = self.auth_with_claims(exp=int(time.time()))
        self.assertEqual((response.status, response.json()), (401, EXPIRED_BODY))
        self.assertEqual(self.auth_with_claims(exp=int(time.time()) + 30).status, 200)

    def test_8_4_expiry_is_checked_before_issuer(self):
        response = self.auth_with_claims(exp=int(time.time()) - 5, iss="https://elsewhere/")
        self.assertEqual(response.json(), EXPIRED_BODY)

    def test_8_4_not_before_in_future(self):
        self.assert_refused(self.auth_with_claims(nbf=int(time.time()) + 120))

    def test_8_4_audience_is_not_checked(self):
        self.assertEqual(self.auth_with_claims(aud="https://vault.azure.net").status, 200)

    def test_8_5_xms_mirid_required(self):
        self.emu.patch({"azure": {"token": {"omit_xms_mirid": True}}})
        self.assert_refused(self.authenticate())

    def test_8_5_oid_required_and_non_empty(self):
        self.assert_refused(self.auth_with_claims(oid=None))
        self.assert_refused(self.auth_with_claims(oid=""))
        self.assert_refused(self.auth_with_claims(xms_mirid=""))

    # ---- §3.2 xms_mirid parsing ---------------------------------------------------

    def test_mirid_leading_slash_optional(self):
        self.assertEqual(self.auth_with_claims(xms_mirid=VM_MIRID.lstrip("/")).status, 200)

    def test_mirid_requires_all_three_keywords(self):
        mirid = "/subscriptions/%s/providers/Microsoft.Compute/virtualMachines/vm" % SUB
        self.assert_refused(self.auth_with_claims(xms_mirid=mirid))

    def test_mirid_keywords_are_case_sensitive(self):
        self.assert_refused(self.auth_with_claims(
            xms_mirid=VM_MIRID.replace("resourcegroups", "resourceGroups")))

    def test_mirid_providers_needs_exactly_three_elements(self):
        two = VM_MIRID.replace("Microsoft.Compute/virtualMachines/azconjur-vm",
                               "Microsoft.ManagedIdentity/azconjur-uami")
        self.assert_refused(self.auth_with_claims(xms_mirid=two))

    def test_mirid_app_service_slot_fails(self):
        self.emu.patch({"azure": {"app_service": {"slot": "staging"}}})
        self.patch_account({"hosts": {"azure-apps/site": {"annotations": {
            "authn-azure/system-assigned-identity": None}}}})
        jwt = self.emu.mint(platform="app_service")
        self.assertIn("/slots/staging", json.loads(b64url_decode(jwt.split(".")[1]))["xms_mirid"])
        self.assert_refused(self.authenticate("azure-apps/site", jwt=jwt))
        self.emu.patch({"azure": {"app_service": {"slot": None}}})
        jwt = self.emu.mint(platform="app_service")
        self.assertEqual(self.authenticate("azure-apps/site", jwt=jwt).status, 200)

    def test_mirid_keyword_match_is_unanchored(self):
        mirid = VM_MIRID.replace("azconjur-rg", "my-providers-rg")
        self.annotate("azure-apps/vm-system", {"authn-azure/resource-group": "my-providers-rg"})
        self.assert_refused(self.auth_with_claims(xms_mirid=mirid))
        plain = VM_MIRID.replace("azconjur-rg", "my-other-rg")
        self.annotate("azure-apps/vm-system", {"authn-azure/resource-group": "my-other-rg"})
        self.assertEqual(self.auth_with_claims(xms_mirid=plain).status, 200)

    # ---- §3.3 annotations -----------------------------------------------------------

    def test_user_assigned_identity_annotation(self):
        jwt = self.azure_token(client_id=UAMI["client_id"])
        self.assertEqual(self.authenticate("azure-apps/vm-uami", jwt=jwt).status, 200)
        self.assert_refused(self.authenticate("azure-apps/vm-uami"))   # system token

    def test_system_assigned_identity_annotation(self):
        self.assertEqual(self.authenticate("azure-apps/vm-oid").status, 200)
        jwt = self.azure_token(client_id=UAMI["client_id"])
        self.assert_refused(self.authenticate("azure-apps/vm-oid", jwt=jwt))
        self.annotate("azure-apps/vm-oid", {"authn-azure/system-assigned-identity": "other"})
        self.assert_refused(self.authenticate("azure-apps/vm-oid"))

    def test_subscription_required(self):
        self.annotate("azure-apps/vm-system", {"authn-azure/subscription-id": None})
        self.assert_refused(self.authenticate())

    def test_resource_group_required(self):
        self.annotate("azure-apps/vm-system", {"authn-azure/resource-group": None})
        self.assert_refused(self.authenticate())

    def test_empty_annotation_counts_as_absent(self):
        self.annotate("azure-apps/vm-system", {"authn-azure/resource-group": ""})
        self.assert_refused(self.authenticate())
        self.annotate("azure-apps/vm-system", {"authn-azure/resource-group": "azconjur-rg",
                                               "authn-azure/user-assigned-identity": ""})
        self.assertEqual(self.authenticate().status, 200)

    def test_unsupported_annotation(self):
        self.annotate("azure-apps/vm-system", {"authn-azure/location": "westeurope"})
        self.assert_refused(self.authenticate())

    def test_unsupported_annotation_scoped_to_this_service(self):
        self.annotate("azure-apps/vm-system", {"authn-azure/prod/location": "westeurope"})
        self.assert_refused(self.authenticate())

    def test_annotations_of_other_services_are_ignored(self):
        self.annotate("azure-apps/vm-system", {"authn-azure/other/location": "x",
                                               "authn-azure/other/resource-group": "x"})
        self.assertEqual(self.authenticate().status, 200)

    def test_illegal_identity_combination(self):
        self.annotate("azure-apps/vm-oid", {"authn-azure/user-assigned-identity": "azconjur-uami"})
        self.assert_refused(self.authenticate("azure-apps/vm-oid"))

    def test_service_scoped_annotation_wins(self):
        self.assertEqual(self.authenticate("azure-apps/scoped").status, 200)
        self.annotate("azure-apps/scoped", {"authn-azure/prod/resource-group": None})
        self.assert_refused(self.authenticate("azure-apps/scoped"))

    def test_comparison_is_case_sensitive(self):
        self.annotate("azure-apps/vm-system", {"authn-azure/resource-group": "AZCONJUR-RG"})
        self.assert_refused(self.authenticate())

    def test_wrong_subscription(self):
        self.annotate("azure-apps/vm-system", {"authn-azure/subscription-id": VM["object_id"]})
        self.assert_refused(self.authenticate())


class AuthnApiKeyTest(EmulatorTestCase):
    def authn(self, login, api_key, account="myorg", headers=None):
        path = "/authn/%s/%s/authenticate" % (account, urllib.parse.quote(login, safe=""))
        return self.conjur(path, "POST", headers=headers, body=api_key)

    def api_key(self, table, name):
        return self.emu.fixture_data()["conjur"]["accounts"]["myorg"][table][name]["api_key"]

    def test_user_and_host_api_keys(self):
        response = self.authn("alice", self.api_key("users", "alice"))
        self.assertEqual(response.status, 200)
        payload = json.loads(b64url_decode(response.json()["payload"]))
        self.assertEqual(payload["sub"], "alice")
        response = self.authn("host/api-client", self.api_key("hosts", "api-client"),
                              headers={"Accept-Encoding": "base64"})
        self.assertEqual(response.status, 200)
        self.assertEqual(response.header("Content-Encoding"), "base64")
        self.assertEqual(self.emu.count("authn"), 2)

    def test_wrong_key_unknown_role_unknown_account(self):
        for response in (self.authn("alice", "wrong"), self.authn("host/nobody", "x"),
                         self.authn("alice", self.api_key("users", "alice"), account="nope")):
            self.assertEqual((response.status, response.body), (401, b""))

    def test_role_without_api_key(self):
        response = self.authn("host/azure-apps/vm-system", "")
        self.assertEqual(response.status, 401)
