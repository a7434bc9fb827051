"""Whole flows as azconjur performs them: platform token, authenticate, read secrets."""

import base64
import http.client
import json
import os
import re
import urllib.parse

from .test_azure import UAMI
from .testlib import MANAGEMENT, EmulatorTestCase, query, request

TEN_IDS = ["bench/secret-%d" % n for n in range(1, 11)]


class FlowTest(EmulatorTestCase):
    def exchange(self, jwt, host):
        """authenticate with Accept-Encoding: base64, as a client would, and return the header."""
        response = self.authenticate(host, jwt=jwt, headers={"Accept-Encoding": "base64"})
        self.assertEqual(response.status, 200, response)
        return response.body.decode()

    def read_all(self, token):
        parts = urllib.parse.urlsplit(self.conjur_url)
        connection = http.client.HTTPSConnection(parts.hostname, parts.port, context=self.ctx,
                                                 timeout=10)
        try:
            single = self.conjur("/secrets/myorg/variable/app%2Fdb%2Fpassword", token=token,
                                 connection=connection)
            ids = ",".join("myorg:variable:" + i for i in TEN_IDS + ["app/binary"])
            batch = self.conjur("/secrets?" + query(variable_ids=ids), token=token,
                                headers={"Accept-Encoding": "base64"}, connection=connection)
        finally:
            connection.close()
        self.assertEqual(single.body, b"Sup3r-S3cret-Pa55word")
        self.assertEqual(batch.status, 200)
        values = {k: base64.b64decode(v) for k, v in batch.json().items()}
        self.assertEqual(values["myorg:variable:bench/secret-10"], b"bench-value-10")
        self.assertEqual(values["myorg:variable:app/binary"], base64.b64decode("AP8BgH9+/f7/AA=="))
        self.assertEqual(len({r["conn"] for r in self.emu.requests()
                              if r["kind"] in ("secret", "batch")}), 1)

    def test_vm_imds_flow(self):
        jwt = self.azure_token()
        self.read_all(self.exchange(jwt, "azure-apps/vm-system"))
        counts = self.emu.counts()
        self.assertEqual({k: counts[k] for k in ("imds", "authn_azure", "secret", "batch")},
                         {"imds": 1, "authn_azure": 1, "secret": 1, "batch": 1})

    def test_user_assigned_flow(self):
        jwt = self.azure_token(client_id=UAMI["client_id"])
        self.read_all(self.exchange(jwt, "azure-apps/vm-uami"))

    def test_aci_flow(self):
        jwt = self.imds(base=self.state["aci_imds_url"]).json()["access_token"]
        self.read_all(self.exchange(jwt, "azure-apps/aci"))

    def test_app_service_flow(self):
        info = self.state["app_service"]
        body = request(info["identity_endpoint"] + "?" + query(**{
            "api-version": "2019-08-01", "resource": MANAGEMENT}),
            headers={"X-IDENTITY-HEADER": info["identity_header"]}).json()
        self.read_all(self.exchange(body["access_token"], "azure-apps/site"))

    def test_app_service_2017_flow(self):
        info = self.state["app_service_2017"]
        body = request(info["msi_endpoint"] + "?" + query(**{
            "api-version": "2017-09-01", "resource": MANAGEMENT}),
            headers={"secret": info["msi_secret"]}).json()
        self.read_all(self.exchange(body["access_token"], "azure-apps/site"))

    def test_arc_flow(self):
        url = self.state["arc"]["identity_endpoint"] + "?" + query(**{
            "api-version": "2020-06-01", "resource": MANAGEMENT})
        challenge = request(url, headers={"Metadata": "true"})
        path = re.fullmatch(r"Basic realm=(.+)", challenge.header("WWW-Authenticate")).group(1)
        self.assertTrue(path.startswith(self.state["env"]["AZCONJUR_ARC_TOKEN_DIR"] + os.sep))
        with open(path, encoding="utf-8") as handle:
            key = handle.read()
        body = request(url, headers={"Metadata": "true", "Authorization": "Basic " + key}).json()
        self.read_all(self.exchange(body["access_token"], "azure-apps/arc"))

    def test_env_points_at_this_instance(self):
        env = self.emu.env
        self.assertEqual(env["AZURE_POD_IDENTITY_AUTHORITY_HOST"], self.state["imds_url"])
        self.assertEqual(env["CONJUR_APPLIANCE_URL"], self.conjur_url)
        self.assertEqual((env["CONJUR_ACCOUNT"], env["CONJUR_SERVICE_ID"],
                          env["CONJUR_AUTHN_TYPE"], env["CONJUR_AUTHN_JWT_HOST_ID"]),
                         ("myorg", "prod", "azure", "azure-apps/vm-system"))
        with open(env["CONJUR_CERT_FILE"], encoding="ascii") as handle:
            self.assertIn("BEGIN CERTIFICATE", handle.read())
        with open(os.path.join(self.state["state_dir"], "env"), encoding="utf-8") as handle:
            lines = handle.read().splitlines()
        self.assertIn("export CONJUR_ACCOUNT=myorg", lines)
        self.assertEqual(len(lines), 8)
        self.assertEqual(json.loads(json.dumps(self.state))["pid"], self.emu.process.pid)
