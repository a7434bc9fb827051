"""whoami, status, authenticators, resources, the Cloud /api layout, TLS and keep-alive."""

import base64
import http.client
import ssl
import urllib.parse

from .testlib import EmulatorTestCase, request


class EndpointsTest(EmulatorTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.token = cls.emu.conjur_token("host/azure-apps/vm-system")["base64"]

    def status(self, token=None, service="prod"):
        return self.conjur("/authn-azure/%s/myorg/status" % service, token=token or self.token)

    def test_whoami(self):
        response = self.conjur("/whoami", token=self.token, headers={"User-Agent": "tester/1"})
        body = response.json()
        self.assertEqual(body["username"], "host/azure-apps/vm-system")
        self.assertEqual(body["account"], "myorg")
        self.assertEqual(body["client_ip"], "127.0.0.1")
        self.assertEqual(body["user_agent"], "tester/1")
        self.assertRegex(body["token_issued_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
        self.assertEqual(self.emu.count("whoami"), 1)

    def test_status_ok(self):
        response = self.status()
        self.assertEqual((response.status, response.json()), (200, {"status": "ok"}))

    def test_status_403_without_read(self):
        token = self.emu.conjur_token("host/azure-apps/vm-uami")["base64"]
        response = self.status(token)
        self.assertEqual(response.status, 403)
        self.assertEqual(response.json()["status"], "error")
        self.assertIn("CONJ00006E", response.json()["error"])

    def test_status_404_unknown_webservice(self):
        self.emu.patch({"conjur": {"accounts": {"myorg": {"webservices": {
            "conjur/authn-azure/prod": None}}}}})
        response = self.status()
        self.assertEqual(response.status, 404)
        self.assertIn("CONJ00005E", response.json()["error"])

    def test_status_500_cases(self):
        response = self.status(service="nouri")
        self.assertEqual(response.status, 500)
        self.assertRegex(response.json()["error"], r"^#<Errors::.*CONJ00037E")
        self.emu.fault("oidc", status=503)
        response = self.status()
        self.assertEqual(response.status, 500)
        self.assertIn("CONJ00011E", response.json()["error"])
        self.emu.patch({"conjur": {"accounts": {"myorg": {
            "enabled_authenticators": ["authn"]}}}})
        response = self.status()
        self.assertEqual(response.status, 500)
        self.assertIn("CONJ00004E", response.json()["error"])

    def test_authenticators(self):
        response = self.conjur("/authenticators")
        body = response.json()
        self.assertIn("authn-azure", body["installed"])
        self.assertIn("authn-azure/prod", body["configured"])
        self.assertEqual(body["enabled"], ["authn", "authn-azure/prod", "authn-azure/nouri"])
        self.emu.patch({"conjur": {"accounts": {"myorg": {"enabled_authenticators": ["authn"]}}}})
        self.assertEqual(self.conjur("/authenticators").json()["enabled"], ["authn"])

    def test_root_json_and_html(self):
        response = self.conjur("/", headers={"Accept": "application/json"})
        self.assertEqual(response.json()["version"], "1.21.1-emulated")
        self.assertTrue(self.conjur("/").header("Content-Type").startswith("text/html"))
        self.assertEqual(self.emu.count("root"), 2)

    def test_host_reads_its_own_annotations(self):
        path = "/resources/myorg/host/" + urllib.parse.quote("azure-apps/vm-system", safe="")
        body = self.conjur(path, token=self.token).json()
        self.assertEqual(body["id"], "myorg:host:azure-apps/vm-system")
        annotations = {a["name"]: a["value"] for a in body["annotations"]}
        self.assertEqual(annotations["authn-azure/resource-group"], "azconjur-rg")
        other = "/resources/myorg/host/azure-apps%2Fvm-oid"
        self.assertEqual(self.conjur(other, token=self.token).status, 404)
        self.assertEqual(self.emu.count("resources"), 2)

    def test_variable_resource_lists_versions(self):
        body = self.conjur("/resources/myorg/variable/app/rotated", token=self.token).json()
        self.assertEqual([s["version"] for s in body["secrets"]], [1, 2, 3])


class CloudLayoutTest(EmulatorTestCase):
    def test_cloud_flow_under_api_prefix(self):
        cloud = self.state["conjur"]["cloud_url"]
        self.assertTrue(cloud.endswith("/api"))
        response = self.authenticate("data/azure-apps/vm-system", account="conjur", base=cloud)
        self.assertEqual(response.status, 200, response)
        token = base64.b64encode(response.body).decode()
        single = self.conjur("/secrets/conjur/variable/data%2Fvault%2Fdb%2Fpassword",
                             token=token, base=cloud)
        self.assertEqual(single.body, b"cloud-db-password")
        batch = self.conjur("/secrets?variable_ids=conjur%3Avariable%3Adata%2Fvault%2Fapi%2Fkey",
                            token=token, base=cloud)
        self.assertEqual(batch.json(), {"conjur:variable:data/vault/api/key": "cloud-api-key"})
        for path in ("/whoami", "/authn-azure/prod/conjur/status"):
            self.assertEqual(self.conjur(path, token=token, base=cloud).status, 200, path)
        paths = [r["path"] for r in self.emu.requests() if r["server"] == "conjur"]
        self.assertTrue(all(p.startswith("/api/") for p in paths), paths)
        self.assertEqual(self.emu.count("authn_azure"), 1)

    def test_cloud_host_in_other_account_is_unknown(self):
        self.assertEqual(self.authenticate("data/azure-apps/vm-system").status, 401)


class TlsTest(EmulatorTestCase):
    def handshake(self, url, context):
        parts = urllib.parse.urlsplit(url)
        connection = http.client.HTTPSConnection(parts.hostname, parts.port, context=context,
                                                 timeout=10)
        try:
            connection.request("GET", "/", headers={"Accept": "application/json"})
            return connection.getresponse().status
        finally:
            connection.close()

    def test_valid_certificate_for_ip_and_localhost(self):
        self.assertEqual(self.handshake(self.conjur_url, self.ctx), 200)
        localhost = self.conjur_url.replace("127.0.0.1", "localhost")
        self.assertEqual(self.handshake(localhost, self.ctx), 200)

    def test_untrusted_without_the_test_ca(self):
        with self.assertRaises(ssl.SSLCertVerificationError):
            self.handshake(self.conjur_url, ssl.create_default_context())

    def test_expired_certificate(self):
        with self.assertRaises(ssl.SSLCertVerificationError) as caught:
            self.handshake(self.state["conjur"]["expired_cert_url"], self.ctx)
        self.assertIn("expired", str(caught.exception))

    def test_wrong_name_certificate(self):
        with self.assertRaises(ssl.SSLCertVerificationError) as caught:
            self.handshake(self.state["conjur"]["wrong_name_url"], self.ctx)
        self.assertIn("mismatch", str(caught.exception).lower())

    def test_tls_below_1_2_refused(self):
        context = self.emu.ssl_context()
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
        with self.assertRaises(ssl.SSLError):
            self.handshake(self.conjur_url, context)

    def test_keep_alive_reuses_connection(self):
        parts = urllib.parse.urlsplit(self.conjur_url)
        connection = http.client.HTTPSConnection(parts.hostname, parts.port, context=self.ctx,
                                                 timeout=10)
        token = self.login()
        try:
            for _ in range(3):
                response = self.conjur("/secrets/myorg/variable/app%2Fdb%2Fusername",
                                       token=token, connection=connection)
                self.assertEqual(response.status, 200)
                self.assertEqual(response.header("Content-Length"), "8")
        finally:
            connection.close()
        secret_conns = {r["conn"] for r in self.emu.requests("secret")}
        self.assertEqual(len(secret_conns), 1)
        authn_conn = self.emu.requests("authn_azure")[0]["conn"]
        self.assertNotIn(authn_conn, secret_conns)


class AzureKeepAliveTest(EmulatorTestCase):
    def test_imds_keep_alive(self):
        parts = urllib.parse.urlsplit(self.state["imds_url"])
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        try:
            for _ in range(2):
                response = request(self.state["imds_url"] + "/metadata/identity/oauth2/token"
                                   "?api-version=2018-02-01&resource=x",
                                   headers={"Metadata": "true"}, connection=connection)
                self.assertEqual(response.status, 200)
        finally:
            connection.close()
        self.assertEqual(len({r["conn"] for r in self.emu.requests("imds")}), 1)
