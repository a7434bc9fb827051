"""Secret reads (conjur.md §4) and access-token checks on protected calls (§2.3)."""

import base64
import json

from .testlib import EmulatorTestCase

BINARY = base64.b64decode("AP8BgH9+/f7/AA==")
TRICKY = "line one\nline \"two\" costs $5 and 'more' \\ end"


def not_found(full_id):
    return {"error": {"code": "not_found",
                      "message": "CONJ00076E Variable %s is empty or not found." % full_id}}


class SingleReadTest(EmulatorTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.token = cls.emu.conjur_token("host/azure-apps/vm-system")["base64"]

    def test_read_with_encoded_and_raw_slashes(self):
        for encode in (True, False):
            response = self.read_secret("app/db/password", self.token, encode=encode)
            self.assertEqual((response.status, response.body), (200, b"Sup3r-S3cret-Pa55word"))
            self.assertEqual(response.header("Content-Type"), "application/octet-stream")
        self.assertEqual(self.emu.count("secret"), 2)

    def test_binary_safe_and_special_characters(self):
        self.assertEqual(self.read_secret("app/binary", self.token).body, BINARY)
        self.assertEqual(self.read_secret("app/tricky", self.token).body.decode(), TRICKY)
        self.assertEqual(self.read_secret("app/sales&marketing key", self.token).body,
                         b"odd-id-value")
        self.assertEqual(self.read_secret("app/with,comma", self.token).body, b"comma-id-value")

    def test_mime_type_annotation(self):
        response = self.read_secret("app/json-config", self.token)
        self.assertEqual(response.header("Content-Type"), "application/json")

    def test_versions_are_absolute(self):
        self.assertEqual(self.read_secret("app/rotated", self.token).body, b"rotated-v3")
        for number in (1, 2, 3):
            response = self.read_secret("app/rotated", self.token, params="?version=%d" % number)
            self.assertEqual(response.body, b"rotated-v%d" % number)
        response = self.read_secret("app/rotated", self.token, params="?version=4")
        self.assertEqual(response.status, 404)
        self.assertEqual(response.json(), not_found("myorg:variable:app/rotated"))

    def test_only_last_twenty_versions_kept(self):
        for number in range(4, 22):
            self.assertEqual(self.emu.set_secret("app/rotated", "rotated-v%d" % number), number)
        self.assertEqual(self.read_secret("app/rotated", self.token, "myorg", "?version=1").status,
                         404)
        self.assertEqual(self.read_secret("app/rotated", self.token, params="?version=2").body,
                         b"rotated-v2")
        self.assertEqual(self.read_secret("app/rotated", self.token).body, b"rotated-v21")

    def test_non_integer_version_is_422(self):
        response = self.read_secret("app/rotated", self.token, params="?version=latest")
        self.assertEqual(response.status, 422)
        self.assertEqual(response.json()["error"]["message"],
                         "invalid type for parameter 'version'")

    def test_missing_empty_and_invisible_look_alike(self):
        for ident in ("app/nothing-here", "app/empty", "app/hidden"):
            response = self.read_secret(ident, self.token)
            self.assertEqual(response.status, 404, ident)
            self.assertEqual(response.json(), not_found("myorg:variable:" + ident))

    def test_read_without_execute_is_403(self):
        self.assertEqual(self.read_secret("app/read-only", self.token).status, 403)

    def test_other_account_is_not_visible(self):
        response = self.read_secret("data/vault/db/password", self.token, account="conjur")
        self.assertEqual(response.status, 404)

    def test_value_changed_at_run_time(self):
        self.emu.set_secret("app/db/password", value_b64=base64.b64encode(b"\x00new").decode())
        self.assertEqual(self.read_secret("app/db/password", self.token).body, b"\x00new")


class TokenCheckTest(EmulatorTestCase):
    def read(self, authorization):
        headers = {} if authorization is None else {"Authorization": authorization}
        return self.conjur("/secrets/myorg/variable/app%2Fdb%2Fpassword", headers=headers)

    def assert_401(self, response, text):
        self.assertEqual((response.status, response.text), (401, text))
        self.assertTrue(response.header("Content-Type").startswith("text/plain"))

    def test_missing_authorization(self):
        self.assert_401(self.read(None), "Authorization missing")
        self.assert_401(self.read("Bearer abc"), "Authorization missing")

    def test_malformed_token(self):
        self.assert_401(self.read('Token token="open sesame"'), "Malformed authorization token")

    def test_bad_signature(self):
        token = json.loads(self.emu.conjur_token("host/azure-apps/vm-system")["token"])
        token["signature"] = base64.urlsafe_b64encode(b"x" * 32).decode()
        value = base64.b64encode(json.dumps(token).encode()).decode()
        self.assert_401(self.read('Token token="%s"' % value), "Unauthorized: Invalid token")

    def test_expired_token(self):
        token = self.emu.conjur_token("host/azure-apps/vm-system", ttl=0)["base64"]
        self.assert_401(self.read('Token token="%s"' % token), "Unauthorized: Invalid token")

    def test_valid_token_with_whitespace(self):
        token = self.emu.conjur_token("host/azure-apps/vm-system")["base64"]
        self.assertEqual(self.read('Token token=" %s "' % token).status, 200)

    def test_authenticated_token_works_on_every_protected_route(self):
        token = self.login()
        for path in ("/whoami", "/secrets/myorg/variable/app%2Fdb%2Fusername",
                     "/secrets?variable_ids=myorg%3Avariable%3Aapp%2Fdb%2Fusername",
                     "/authn-azure/prod/myorg/status",
                     "/resources/myorg/host/azure-apps%2Fvm-system"):
            self.assertEqual(self.conjur(path, token=token).status, 200, path)
            self.assertEqual(self.conjur(path).status, 401, path)


class BatchTest(EmulatorTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.token = cls.emu.conjur_token("host/azure-apps/vm-system")["base64"]

    def test_batch_success(self):
        response = self.batch(["app/db/password", "app/tricky", "app/unicode"], self.token)
        self.assertEqual(response.status, 200)
        self.assertEqual(response.json(), {
            "myorg:variable:app/db/password": "Sup3r-S3cret-Pa55word",
            "myorg:variable:app/tricky": TRICKY,
            "myorg:variable:app/unicode": "p\u00e4ssw\u00f6rd \u2603",
        })
        self.assertIsNone(response.header("Content-Encoding"))
        self.assertEqual(self.emu.count("batch"), 1)

    def test_bad_parameter_is_422(self):
        expected = {"error": {"code": "argument_error", "message": "variable_ids"}}
        for raw in ("", ",,,", "myorg:variable:app/db/password,,myorg:variable:app/tricky"):
            response = self.batch(None, self.token, raw=raw)
            self.assertEqual((response.status, response.json()), (422, expected), raw)
        response = self.conjur("/secrets", token=self.token)
        self.assertEqual(response.status, 422)

    def test_first_missing_id_is_named(self):
        response = self.batch(["app/db/password", "app/empty", "app/nope"], self.token)
        self.assertEqual(response.status, 404)
        self.assertEqual(response.json(), not_found("myorg:variable:app/empty"))
        response = self.batch(None, self.token, raw="1,2,3")
        self.assertEqual(response.json(), not_found("1"))

    def test_permission_is_evaluated_first(self):
        response = self.batch(["app/nope", "app/read-only"], self.token)
        self.assertEqual(response.status, 403)
        self.assertEqual(self.batch(["app/hidden"], self.token).status, 403)

    def test_binary_without_base64_is_406(self):
        body = {"error": {"code": "not_acceptable", "message": (
            "CONJ00074E Issue encoding secret into JSON format, try including "
            "'Accept-Encoding: base64' header in request.")}}
        for header in (None, "gzip, base64", "*", "base64, gzip"):
            headers = {"Accept-Encoding": header} if header else {}
            response = self.batch(["app/binary", "app/db/password"], self.token, headers)
            self.assertEqual((response.status, response.json()), (406, body), header)

    def test_base64_values_like_ruby_encode64(self):
        for header in ("base64", "Base64", " BASE64 "):
            response = self.batch(["app/binary", "app/random-blob", "app/db/username"],
                                  self.token, {"Accept-Encoding": header})
            self.assertEqual(response.status, 200, header)
            self.assertEqual(response.header("Content-Encoding"), "base64")
            values = response.json()
            self.assertEqual(values["myorg:variable:app/binary"], "AP8BgH9+/f7/AA==\n")
            self.assertEqual(values["myorg:variable:app/db/username"], "YXBwX3VzZXI=\n")
            blob = values["myorg:variable:app/random-blob"]
            lines = blob.split("\n")
            self.assertEqual([len(x) for x in lines], [60, 36, 0])
            self.assertEqual(len(base64.b64decode(blob)), 72)

    def test_generated_bench_variables(self):
        ids = ["bench/secret-%d" % n for n in range(1, 1001)]
        response = self.batch(ids[:250], self.token)
        self.assertEqual(response.status, 200)
        values = response.json()
        self.assertEqual(len(values), 250)
        self.assertEqual(values["myorg:variable:bench/secret-17"], "bench-value-17")
        self.assertEqual(self.read_secret(ids[-1], self.token).body, b"bench-value-1000")
