"""The Azure identity emulator: IMDS, App Service 2019/2017, Arc, discovery and tokens."""

import json
import os
import re
import time
import urllib.parse

from .jwt_tools import split_jwt, verify_rs256
from .testlib import MANAGEMENT, EmulatorTestCase, query, request

with open(os.path.join(os.path.dirname(__file__), "fixture.json"), encoding="utf-8") as _f:
    AZURE = json.load(_f)["azure"]
SUB = AZURE["subscription_id"]
TENANT = AZURE["tenant_id"]
VM = AZURE["platforms"]["vm"]["system_identity"]
SITE = AZURE["platforms"]["app_service"]["system_identity"]
UAMI = AZURE["user_assigned_identities"]["azconjur-uami"]
UAMI2 = AZURE["user_assigned_identities"]["azconjur-uami-2"]
UAMI_ARM_ID = ("/subscriptions/%s/resourceGroups/azconjur-rg/providers/"
               "Microsoft.ManagedIdentity/userAssignedIdentities/azconjur-uami" % SUB)


def claims_of(token):
    return split_jwt(token)[1]


class ImdsTest(EmulatorTestCase):
    def assert_imds_error(self, response, description):
        self.assertEqual(response.status, 400)
        self.assertEqual(response.json(), {"error": "invalid_request",
                                           "error_description": description})

    def test_metadata_header_required(self):
        response = self.imds(headers={})
        self.assert_imds_error(response, "Required metadata header not specified")

    def test_x_forwarded_for_refused(self):
        response = self.imds(headers={"Metadata": "true", "X-Forwarded-For": "10.0.0.1"})
        self.assertEqual(response.status, 400)
        self.assertIn("X-Forwarded-For", response.json()["error_description"])

    def test_api_version_and_resource_required(self):
        self.assertEqual(self.imds(**{"api-version": "2017-01-01"}).status, 400)
        response = self.imds(resource="")
        self.assert_imds_error(response, "Required audience parameter not specified")

    def test_success_body_is_all_strings(self):
        before = int(time.time())
        response = self.imds()
        self.assertEqual(response.status, 200)
        body = response.json()
        self.assertEqual(sorted(body), ["access_token", "client_id", "expires_in", "expires_on",
                                        "ext_expires_in", "not_before", "resource",
                                        "token_type"])
        self.assertTrue(all(isinstance(v, str) for v in body.values()), body)
        self.assertEqual(body["client_id"], VM["client_id"])
        self.assertEqual(body["resource"], MANAGEMENT)
        self.assertEqual(body["token_type"], "Bearer")
        claims = claims_of(body["access_token"])
        self.assertEqual(int(body["expires_on"]), claims["exp"])
        self.assertEqual(int(body["not_before"]), claims["nbf"])
        self.assertAlmostEqual(int(body["expires_in"]), 86399, delta=5)
        self.assertGreaterEqual(claims["iat"], before)

    def test_token_header_and_v1_claims(self):
        token = self.azure_token()
        header, claims, _input, _sig = split_jwt(token)
        self.assertEqual(header["alg"], "RS256")
        self.assertEqual(header["typ"], "JWT")
        self.assertEqual(header["kid"], header["x5t"])
        self.assertEqual(claims["aud"], MANAGEMENT)
        self.assertEqual(claims["iss"], "https://sts.windows.net/%s/" % TENANT)
        self.assertEqual(claims["appid"], VM["client_id"])
        self.assertEqual((claims["oid"], claims["sub"]), (VM["object_id"], VM["object_id"]))
        self.assertEqual((claims["tid"], claims["ver"], claims["idtyp"], claims["appidacr"]),
                         (TENANT, "1.0", "app", "2"))
        for name in ("iat", "nbf", "exp"):
            self.assertIsInstance(claims[name], int)
        self.assertEqual(claims["xms_mirid"], "/subscriptions/%s/resourcegroups/azconjur-rg/"
                         "providers/Microsoft.Compute/virtualMachines/azconjur-vm" % SUB)

    def test_resource_is_echoed_as_given(self):
        body = self.imds(resource="https://vault.azure.net").json()
        self.assertEqual(body["resource"], "https://vault.azure.net")
        self.assertEqual(claims_of(body["access_token"])["aud"], "https://vault.azure.net")

    def test_selector_client_id(self):
        body = self.imds(client_id=UAMI["client_id"]).json()
        self.assertEqual(body["client_id"], UAMI["client_id"])
        self.assertTrue(claims_of(body["access_token"])["xms_mirid"].endswith(
            "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/azconjur-uami"))

    def test_selector_object_id(self):
        body = self.imds(object_id=UAMI2["object_id"]).json()
        self.assertEqual(body["client_id"], UAMI2["client_id"])

    def test_selector_msi_res_id(self):
        body = self.imds(msi_res_id=UAMI_ARM_ID).json()
        self.assertEqual(body["client_id"], UAMI["client_id"])

    def test_mi_res_id_is_not_an_imds_selector(self):
        body = self.imds(mi_res_id=UAMI_ARM_ID).json()
        self.assertEqual(body["client_id"], VM["client_id"])

    def test_unknown_selector_identity_not_found(self):
        self.assert_imds_error(self.imds(client_id="00000000-0000-0000-0000-000000000000"),
                               "Identity not found")

    def test_two_selectors_refused(self):
        response = self.imds(client_id=UAMI["client_id"], object_id=UAMI["object_id"])
        self.assertEqual(response.status, 400)

    def test_several_user_assigned_and_no_selector(self):
        self.emu.patch({"azure": {"platforms": {"vm": {"system_identity": None}}}})
        self.assert_imds_error(self.imds(), (
            "Multiple user assigned identities exist, please specify the clientId / "
            "resourceId of the identity in the token request"))

    def test_single_user_assigned_answers_for_system(self):
        self.emu.patch({"azure": {"platforms": {"vm": {"system_identity": None,
                                                       "user_assigned": ["azconjur-uami"]}}}})
        self.assertEqual(self.imds().json()["client_id"], UAMI["client_id"])

    def test_no_identity(self):
        self.emu.patch({"azure": {"platforms": {"vm": {"system_identity": None,
                                                       "user_assigned": []}}}})
        self.assert_imds_error(self.imds(), "Identity not found")

    def test_aci_listener_is_a_container_group(self):
        body = self.imds(base=self.state["aci_imds_url"]).json()
        self.assertTrue(claims_of(body["access_token"])["xms_mirid"].endswith(
            "/providers/Microsoft.ContainerInstance/containerGroups/azconjur-aci"))
        self.assertEqual(self.emu.count("imds"), 1)

    def test_token_options_v2_issuer_missing_mirid_expired(self):
        self.emu.patch({"azure": {"token": {"issuer": "v2", "omit_xms_mirid": True,
                                            "expired": True, "lifetime": 3600}}})
        body = self.imds().json()
        claims = claims_of(body["access_token"])
        self.assertEqual(claims["iss"], "https://login.microsoftonline.com/%s/v2.0" % TENANT)
        self.assertNotIn("xms_mirid", claims)
        self.assertLess(claims["exp"], time.time())
        self.assertEqual(claims["exp"] - claims["iat"], 3600)
        self.assertEqual(body["expires_in"], "0")


class AppServiceTest(EmulatorTestCase):
    def call(self, header=True, **params):
        params.setdefault("api-version", "2019-08-01")
        params.setdefault("resource", MANAGEMENT)
        info = self.state["app_service"]
        headers = {"X-IDENTITY-HEADER": info["identity_header"]} if header is True else header
        return request(info["identity_endpoint"] + "?" + query(**params), headers=headers)

    def test_success_shape(self):
        response = self.call()
        self.assertEqual(response.status, 200)
        body = response.json()
        self.assertEqual(sorted(body), ["access_token", "client_id", "expires_on", "resource",
                                        "token_type"])
        self.assertRegex(body["expires_on"], r"^\d{10}$")
        claims = claims_of(body["access_token"])
        self.assertEqual(int(body["expires_on"]), claims["exp"])
        self.assertEqual(claims["xms_mirid"], "/subscriptions/%s/resourcegroups/azconjur-web-rg"
                         "/providers/Microsoft.Web/sites/azconjur-site" % SUB)
        self.assertEqual(body["client_id"], SITE["client_id"])
        self.assertEqual(self.emu.count("app_service"), 1)

    def test_identity_header_required(self):
        for header in ({}, {"X-IDENTITY-HEADER": "wrong"}):
            response = self.call(header=header)
            self.assertEqual(response.status, 401)
            self.assertEqual(sorted(response.json()), ["correlationId", "message", "statusCode"])

    def test_selectors(self):
        uami_arm_id = UAMI_ARM_ID
        for params in ({"client_id": UAMI["client_id"]}, {"principal_id": UAMI["object_id"]},
                       {"object_id": UAMI["object_id"]}, {"mi_res_id": uami_arm_id}):
            with self.subTest(params=params):
                self.assertEqual(self.call(**params).json()["client_id"], UAMI["client_id"])

    def test_unknown_identity_error_shape(self):
        response = self.call(client_id=UAMI2["client_id"])
        self.assertEqual(response.status, 400)
        body = response.json()
        self.assertEqual(body["statusCode"], 400)
        self.assertEqual(body["message"], "Unable to load the proper Managed Identity.")
        self.assertRegex(body["correlationId"], r"^[0-9a-f-]{36}$")

    def test_unsupported_api_version_option(self):
        self.emu.patch({"azure": {"app_service": {"unsupported_api_version": True}}})
        response = self.call()
        self.assertEqual(response.status, 400)
        error = response.json()["error"]
        self.assertEqual(error["code"], "UnsupportedApiVersion")
        self.assertIn("does not support the API version '2019-08-01'", error["message"])

    def test_slot_mirid_option(self):
        self.emu.patch({"azure": {"app_service": {"slot": "staging"}}})
        claims = claims_of(self.call().json()["access_token"])
        self.assertTrue(claims["xms_mirid"].endswith("/Microsoft.Web/sites/azconjur-site/slots/"
                                                     "staging"))


class AppService2017Test(EmulatorTestCase):
    def call(self, secret=True, **params):
        params.setdefault("api-version", "2017-09-01")
        params.setdefault("resource", MANAGEMENT)
        info = self.state["app_service_2017"]
        headers = {"secret": info["msi_secret"]} if secret is True else secret
        return request(info["msi_endpoint"] + "?" + query(**params), headers=headers)

    def test_secret_header_required(self):
        self.assertEqual(self.call(secret={}).status, 401)
        self.assertEqual(self.call(secret={"secret": "nope"}).status, 401)
        self.assertEqual(self.emu.count("app_service_2017"), 2)

    def test_linux_expires_on(self):
        body = self.call().json()
        exp = claims_of(body["access_token"])["exp"]
        expected = time.strftime("%m/%d/%Y %H:%M:%S +00:00", time.gmtime(exp))
        self.assertEqual(body["expires_on"], expected)

    def test_windows_expires_on(self):
        self.emu.patch({"azure": {"app_service": {"expires_on_2017": "windows"}}})
        body = self.call().json()
        self.assertRegex(body["expires_on"],
                         r"^\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d\d:\d\d (AM|PM) \+00:00$")
        exp = claims_of(body["access_token"])["exp"]
        parsed = time.strptime(body["expires_on"], "%m/%d/%Y %I:%M:%S %p +00:00")
        self.assertEqual(time.strftime("%Y%m%d%H%M%S", parsed),
                         time.strftime("%Y%m%d%H%M%S", time.gmtime(exp)))

    def test_integer_expires_on(self):
        self.emu.patch({"azure": {"app_service": {"expires_on_2017": "integer"}}})
        body = self.call().json()
        self.assertEqual(body["expires_on"], claims_of(body["access_token"])["exp"])

    def test_clientid_selector_only(self):
        self.assertEqual(self.call(clientid=UAMI["client_id"]).json()["client_id"],
                         UAMI["client_id"])
        # `client_id` means nothing to this endpoint: the system identity answers.
        self.assertEqual(self.call(client_id=UAMI["client_id"]).json()["client_id"],
                         SITE["client_id"])
        self.assertEqual(self.call(clientid=UAMI2["client_id"]).status, 400)


class ArcTest(EmulatorTestCase):
    def url(self, **params):
        params.setdefault("api-version", "2020-06-01")
        params.setdefault("resource", MANAGEMENT)
        return self.state["arc"]["identity_endpoint"] + "?" + query(**params)

    def challenge(self):
        response = request(self.url(), headers={"Metadata": "true"})
        self.assertEqual(response.status, 401)
        match = re.fullmatch(r"Basic realm=(.+)", response.header("WWW-Authenticate"))
        self.assertIsNotNone(match)
        return match.group(1)

    def test_handshake(self):
        path = self.challenge()
        self.assertEqual(os.path.dirname(path), self.state["arc"]["token_dir"])
        self.assertEqual(self.state["env"]["AZCONJUR_ARC_TOKEN_DIR"],
                         self.state["arc"]["token_dir"])
        self.assertTrue(path.endswith(".key"))
        with open(path, encoding="utf-8") as handle:
            key = handle.read()
        response = request(self.url(), headers={"Metadata": "true",
                                                "Authorization": "Basic " + key})
        self.assertEqual(response.status, 200, response)
        body = response.json()
        self.assertIn("expires_in", body)
        self.assertTrue(claims_of(body["access_token"])["xms_mirid"].endswith(
            "/resourcegroups/OnPrem-RG/providers/Microsoft.HybridCompute/machines/azconjur-arc"))
        self.assertEqual(self.emu.count("arc"), 2)

    def test_fresh_key_each_challenge(self):
        self.assertNotEqual(self.challenge(), self.challenge())

    def test_wrong_key(self):
        self.challenge()
        response = request(self.url(), headers={"Metadata": "true",
                                                "Authorization": "Basic not-the-key"})
        self.assertEqual(response.status, 401)
        self.assertIsNone(response.header("WWW-Authenticate"))

    def test_metadata_required_and_selectors_refused(self):
        self.assertEqual(request(self.url(), headers={}).status, 400)
        response = request(self.url(client_id=UAMI["client_id"]), headers={"Metadata": "true"})
        self.assertEqual(response.status, 400)
        self.assertEqual(response.json()["error"], "invalid_request")


class DiscoveryTest(EmulatorTestCase):
    def test_discovery_document_and_jwks_verify_tokens(self):
        login = self.state["login_url"]
        # Conjur asks with a doubled slash: provider-uri ends in "/".
        response = request("%s/%s//.well-known/openid-configuration" % (login, TENANT))
        self.assertEqual(response.status, 200)
        document = response.json()
        self.assertEqual(document["issuer"], "https://sts.windows.net/%s/" % TENANT)
        self.assertEqual(document["id_token_signing_alg_values_supported"], ["RS256"])
        self.assertEqual(document["jwks_uri"],
                         "https://login.microsoftonline.com/common/discovery/keys")
        jwks = request(login + urllib.parse.urlsplit(document["jwks_uri"]).path).json()
        claims = verify_rs256(self.azure_token(), jwks, ["RS256"])
        self.assertEqual(claims["oid"], VM["object_id"])
        self.assertEqual(self.emu.counts().get("oidc"), 1)
        self.assertEqual(self.emu.counts().get("jwks"), 1)

    def test_foreign_key_does_not_verify(self):
        jwks = request(self.state["login_url"] + "/common/discovery/keys").json()
        with self.assertRaises(Exception):
            verify_rs256(self.emu.mint(key="foreign"), jwks, ["RS256"])

    def test_unknown_tenant(self):
        response = request(self.state["login_url"] + "/nope/.well-known/openid-configuration")
        self.assertEqual(response.status, 400)
