"""Fault injection, the request log and counts, resets and patches, quietness."""

import http.client
import json
import socket
import time
import urllib.parse

from .client import EmulatorError, Emulators
from .testlib import EmulatorTestCase, request


class FaultTest(EmulatorTestCase):
    def imds_status(self):
        return self.imds().status

    def test_status_with_retry_after_then_normal(self):
        self.emu.fault("imds", status=429, retry_after=3, count=2)
        first = self.imds()
        self.assertEqual((first.status, first.header("Retry-After")), (429, "3"))
        self.assertEqual(first.json()["error"], "emulated_fault")
        self.assertEqual(self.imds_status(), 429)
        self.assertEqual(self.imds_status(), 200)
        self.assertEqual(self.emu.counts()["imds"], 3)
        self.assertEqual([r["fault"] for r in self.emu.requests("imds")], [True, True, False])
        self.assertEqual([r["status"] for r in self.emu.requests("imds")], [429, 429, 200])

    def test_status_sequence(self):
        for status in (500, 404, 410):
            self.emu.fault("imds", status=status)
        self.assertEqual([self.imds_status() for _ in range(4)], [500, 404, 410, 200])

    def test_until_reset(self):
        self.emu.fault("imds", status=503, count=-1)
        self.assertEqual([self.imds_status() for _ in range(3)], [503, 503, 503])
        self.emu.reset()
        self.assertEqual(self.imds_status(), 200)
        self.assertEqual(self.emu.counts(), {"imds": 1})

    def test_fault_only_hits_its_kind(self):
        self.emu.fault("batch", status=500)
        self.assertEqual(self.imds_status(), 200)
        self.assertEqual(len(self.emu.control("GET", "/_emu/faults")), 1)

    def test_delay(self):
        self.emu.fault("imds", delay=0.4)
        started = time.monotonic()
        self.assertEqual(self.imds_status(), 200)
        self.assertGreaterEqual(time.monotonic() - started, 0.4)

    def test_custom_body_and_headers(self):
        self.emu.fault("app_service", status=500, body={"statusCode": 500, "message": "boom"},
                       headers={"X-Test": "yes"})
        info = self.state["app_service"]
        response = request(info["identity_endpoint"] + "?api-version=2019-08-01&resource=x",
                           headers={"X-IDENTITY-HEADER": info["identity_header"]})
        self.assertEqual((response.status, response.json()["message"]), (500, "boom"))
        self.assertEqual(response.header("X-Test"), "yes")

    def test_default_error_shapes_per_family(self):
        self.emu.fault("app_service_2017", status=500)
        info = self.state["app_service_2017"]
        body = request(info["msi_endpoint"] + "?api-version=2017-09-01&resource=x",
                       headers={"secret": info["msi_secret"]}).json()
        self.assertEqual(sorted(body), ["correlationId", "message", "statusCode"])
        self.emu.fault("authn_azure", status=401)
        self.assertEqual(self.authenticate().body, b"")
        self.emu.fault("authn_azure", status=502)
        self.assertEqual(self.authenticate().json()["error"]["code"], "emulated_fault")

    def test_truncated_body(self):
        self.emu.fault("imds", truncate=True)
        parts = urllib.parse.urlsplit(self.state["imds_url"])
        with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
            sock.sendall(b"GET /metadata/identity/oauth2/token?api-version=2018-02-01&"
                         b"resource=x HTTP/1.1\r\nHost: x\r\nMetadata: true\r\n\r\n")
            data = b""
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break      # the emulator closed the connection
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = int([line.split(b":")[1] for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length")][0])
        self.assertGreater(length, len(body))
        self.assertEqual(len(body), length // 2)

    def test_truncated_body_seen_by_http_client(self):
        self.emu.fault("secret", truncate=True)
        with self.assertRaises(http.client.IncompleteRead):
            self.read_secret("app/db/password", self.login())

    def test_malformed_json(self):
        self.emu.fault("imds", malformed=True)
        response = self.imds()
        self.assertEqual(response.status, 200)
        with self.assertRaises(ValueError):
            json.loads(response.body)

    def test_oversize(self):
        self.emu.fault("imds", oversize=3 * 1024 * 1024)
        response = self.imds()
        self.assertEqual(len(response.body), 3 * 1024 * 1024)
        self.assertEqual(response.header("Content-Length"), str(3 * 1024 * 1024))
        self.assertIn("padding", response.json())

    def test_drop_connection(self):
        self.emu.fault("imds", drop=True)
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            self.imds()
        self.assertEqual(self.imds_status(), 200)

    def test_invalid_fault_specs(self):
        for spec in ({"kind": "nope"}, {"kind": "imds", "colour": "red"},
                     {"kind": "imds", "count": 0}, {"kind": "imds", "status": 99},
                     {"kind": "imds", "delay": 10000}):
            with self.assertRaises(EmulatorError, msg=spec):
                self.emu.control("POST", "/_emu/faults", spec)
        self.assertEqual(self.emu.control("GET", "/_emu/faults"), [])

    def test_request_body_limit(self):
        parts = urllib.parse.urlsplit(self.state["imds_url"])
        with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
            sock.sendall(b"POST /metadata/identity/oauth2/token HTTP/1.1\r\nHost: x\r\n"
                         b"Content-Length: 100000000\r\n\r\n")
            answer = sock.recv(4096)
        self.assertTrue(answer.startswith(b"HTTP/1.1 413 "), answer)
        self.assertIn(b"Connection: close", answer)

    def test_request_log_fields(self):
        self.imds(client_id="abc")
        entry = self.emu.requests("imds")[0]
        self.assertEqual(set(entry), {"seq", "time", "server", "kind", "method", "path",
                                      "query", "status", "conn", "fault"})
        self.assertEqual((entry["method"], entry["path"], entry["status"]),
                         ("GET", "/metadata/identity/oauth2/token", 400))
        self.assertIn("client_id=abc", entry["query"])

    def test_reset_fixture_restores_start_state(self):
        self.emu.patch({"conjur": {"accounts": {"myorg": {"enabled_authenticators": []}}}})
        self.assertEqual(self.authenticate().status, 401)
        self.emu.reset(fixture=True)
        self.assertEqual(self.authenticate().status, 200)

    def test_patch_must_be_an_object(self):
        with self.assertRaises(EmulatorError):
            self.emu.control("POST", "/_emu/patch", [1, 2])


class QuietnessTest(EmulatorTestCase):
    def test_no_secret_in_log_or_output(self):
        jwt = self.azure_token()
        token = self.login(jwt=jwt)
        value = self.read_secret("app/db/password", token).body.decode()
        info = self.state["app_service"]
        request(info["identity_endpoint"] + "?api-version=2019-08-01&resource=x",
                headers={"X-IDENTITY-HEADER": info["identity_header"]})
        logged = json.dumps(self.emu.requests())
        for secret in (jwt, token, value, info["identity_header"], jwt.split(".")[2]):
            self.assertNotIn(secret, logged)
        self.assertEqual(self.emu.log_text(), "")

    def test_verbose_lines_carry_no_secrets(self):
        with Emulators(verbose=True) as emu:
            info = emu.state["app_service"]
            response = request(info["identity_endpoint"] + "?api-version=2019-08-01&resource=x",
                               headers={"X-IDENTITY-HEADER": info["identity_header"]})
            token = response.json()["access_token"]
            time.sleep(0.1)
            text = emu.log_text()
        self.assertIn("app_service GET /msi/token -> 200", text)
        self.assertNotIn(info["identity_header"], text)
        self.assertNotIn(token, text)
