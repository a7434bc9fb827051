"""The Conjur client against the emulators: authn, reads, retries, TLS, config.

Each test class starts one private emulator instance and resets it before
every test. Request counts come from the emulator's own log, so they see
exactly what reached the wire.
"""
import base64
import json
import os
import subprocess
import tempfile
import unittest
import urllib.parse
import urllib.request

from tests.emulators.client import Emulators
from tests.integration.helpers import azconjur, clean_env

# Route kinds that are requests made by azconjur (the emulator also counts
# its own OIDC/JWKS fetches and control calls).
CLIENT_KINDS = ("imds", "app_service", "app_service_2017", "arc", "authn_azure",
                "authn", "secret", "batch", "whoami", "status")
TOKEN_EXPIRED = {"error": {"code": "unauthorized", "message": "CONJ00016E Token expired"}}


class ConjurTestCase(unittest.TestCase):
    emu = None

    @classmethod
    def setUpClass(cls):
        cls.emu = Emulators()
        cls.emu.start()
        cls.fixture = cls.emu.control("GET", "/_emu/fixture")
        cls.imds_jwt = cls.platform_jwt()

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()

    @classmethod
    def platform_jwt(cls):
        url = cls.emu.state["imds_url"] + "/metadata/identity/oauth2/token?" + \
            urllib.parse.urlencode({"api-version": "2018-02-01",
                                    "resource": "https://management.azure.com/"})
        req = urllib.request.Request(url, headers={"Metadata": "true"})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(req, timeout=30) as resp:
            return json.loads(resp.read())["access_token"]

    def setUp(self):
        self.emu.reset(fixture=True)
        self.tmp = tempfile.TemporaryDirectory()
        self.env = self.base_env()

    def tearDown(self):
        self.tmp.cleanup()

    def base_env(self, **extra):
        env = clean_env(**self.emu.env, AZCONJUR_RETRY_SCALE="0.01",
                        HOME=self.tmp.name,
                        AZCONJUR_SYSTEM_CONFIG=os.path.join(self.tmp.name, "none"))
        env.update(extra)
        return env

    # ---- helpers ---------------------------------------------------------------

    def run_az(self, *args, **kw):
        kw.setdefault("env", self.env)
        return azconjur(*args, **kw)

    def lua(self, text, **kw):
        path = os.path.join(self.tmp.name, "script.lua")
        with open(path, "w") as f:
            f.write(text)
        return self.run_az("run", path, **kw)

    def client_requests(self):
        counts = self.emu.counts()
        return sum(counts.get(k, 0) for k in CLIENT_KINDS)

    def value(self, var_id, account="myorg"):
        entry = self.fixture["conjur"]["accounts"][account]["variables"][var_id]
        return base64.b64decode(entry["versions"][-1]["b64"])

    def secrets_involved(self):
        """Every value, key and token a leaking run could print."""
        out = [self.imds_jwt.encode()]
        for account in self.fixture["conjur"]["accounts"].values():
            for var in account.get("variables", {}).values():
                out.extend(base64.b64decode(v["b64"]) for v in var.get("versions", []))
            for table in ("users", "hosts"):
                for role in account.get(table, {}).values():
                    if role.get("api_key"):
                        out.append(role["api_key"].encode())
        return [s for s in out if len(s) >= 6]

    def assert_no_leak(self, result, *extra):
        blob = result.stdout + result.stderr
        for s in list(self.secrets_involved()) + [e.encode() if isinstance(e, str) else e
                                                  for e in extra]:
            self.assertNotIn(s, blob, "a secret reached the output")
            # token and JWT pieces: their signatures alone must not show either
            if s.count(b".") == 2:
                self.assertNotIn(s.split(b".")[2], blob)
        self.assertNotIn(b"eyJ", blob, "something JWT-like reached the output")

    def assert_fails(self, result, code, *needles):
        self.assertEqual(result.returncode, code, result.stderr)
        self.assertEqual(result.stdout, b"")
        for n in needles:
            self.assertIn(n.encode(), result.stderr)
        self.assert_no_leak(result)


class ReadTest(ConjurTestCase):
    def test_single_value_is_printed_raw(self):
        r = self.run_az("get", "app/db/password")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, b"Sup3r-S3cret-Pa55word")
        self.assertEqual(r.stderr, b"")

    def test_binary_value_is_reproduced_byte_for_byte(self):
        for var in ("app/binary", "app/random-blob"):
            r = self.run_az("get", var)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout, self.value(var))

    def test_binary_values_survive_a_batch(self):
        r = self.lua('local c = require("conjur").connect()\n'
                     'local v = c:secrets{"app/binary", "app/random-blob", "app/unicode"}\n'
                     'for _, k in ipairs{"app/binary", "app/random-blob", "app/unicode"} do\n'
                     '  io.write(require("base64").encode(v[k]:reveal()), "\\n")\n'
                     'end\n')
        self.assertEqual(r.returncode, 0, r.stderr)
        got = [base64.b64decode(x) for x in r.stdout.split()]
        self.assertEqual(got, [self.value("app/binary"), self.value("app/random-blob"),
                               self.value("app/unicode")])
        self.assertEqual(self.emu.counts().get("batch"), 1)

    def test_several_ids_give_one_json_object_in_order(self):
        ids = ["app/db/username", "app/tricky", "app/unicode", "app/db/password"]
        r = self.run_az("get", *ids)
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual(list(doc), ids)
        for i in ids:
            self.assertEqual(doc[i].encode(), self.value(i))

    def test_not_utf8_in_json_needs_base64(self):
        r = self.run_az("get", "app/binary", "app/db/password")
        self.assert_fails(r, 1, "'app/binary' is not valid UTF-8", "--base64")
        r = self.run_az("get", "--base64", "app/binary", "app/db/password")
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual(base64.b64decode(doc["app/binary"]), self.value("app/binary"))
        self.assertEqual(base64.b64decode(doc["app/db/password"]),
                         self.value("app/db/password"))

    def test_version(self):
        r = self.run_az("get", "--version", "1", "app/rotated")
        self.assertEqual((r.returncode, r.stdout), (0, b"rotated-v1"), r.stderr)
        q = [e["query"] for e in self.emu.requests("secret")]
        self.assertEqual(q, ["version=1"])
        r = self.run_az("get", "--version", "9", "app/rotated")
        self.assert_fails(r, 6, "app/rotated' version 9", "404")

    def test_fully_qualified_and_odd_ids(self):
        ids = ["myorg:variable:app/db/password", "app/sales&marketing key",
               "app/with,comma"]
        r = self.run_az("get", *ids)
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual(doc, {ids[0]: "Sup3r-S3cret-Pa55word", ids[1]: "odd-id-value",
                               ids[2]: "comma-id-value"})
        # the comma id was read singly, the other two in one batch
        singles = [e["path"] for e in self.emu.requests("secret")]
        self.assertEqual(singles, ["/secrets/myorg/variable/app%2Fwith%2Ccomma"])
        batch = self.emu.requests("batch")
        self.assertEqual(len(batch), 1)
        self.assertIn("myorg%3Avariable%3Aapp%2Fsales%26marketing%20key", batch[0]["query"])

    def test_cold_run_of_ten_secrets_makes_three_requests(self):
        ids = ["bench/secret-%d" % i for i in range(1, 11)]
        r = self.run_az("get", *ids)
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual(doc["bench/secret-7"], "bench-value-7")
        self.assertEqual(self.client_requests(), 3)
        counts = self.emu.counts()
        self.assertEqual((counts.get("imds"), counts.get("authn_azure"), counts.get("batch")),
                         (1, 1, 1))
        conns = {e["conn"] for e in self.emu.requests() if e["server"] == "conjur"}
        self.assertEqual(len(conns), 1, "one keep-alive connection for authn and batch")

    def test_hundred_secrets_at_most_four_requests(self):
        ids = ["bench/secret-%d" % i for i in range(1, 101)]
        r = self.run_az("get", *ids)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(json.loads(r.stdout)), 100)
        self.assertLessEqual(self.client_requests(), 4)

    def test_thousand_secrets_are_split_under_six_kib(self):
        ids = ["bench/secret-%d" % i for i in range(1, 1001)]
        r = self.run_az("get", *ids)
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual(len(doc), 1000)
        self.assertEqual(doc["bench/secret-1000"], "bench-value-1000")
        batches = self.emu.requests("batch")
        self.assertGreater(len(batches), 1)
        base = len(self.emu.state["conjur"]["url"])
        for b in batches:
            self.assertLess(base + len(b["path"]) + 1 + len(b["query"]), 6 * 1024)
        conns = {e["conn"] for e in self.emu.requests() if e["server"] == "conjur"}
        self.assertEqual(len(conns), 1)

    def test_missing_variable_in_batch_is_named(self):
        r = self.run_az("get", "app/db/password", "app/nope", "app/db/username")
        self.assert_fails(r, 6, "app/nope", "status 404", "CONJ00076E")
        self.assertEqual(self.emu.counts().get("batch"), 1)

    def test_forbidden_variable_in_batch_is_named(self):
        r = self.run_az("get", "app/db/password", "app/read-only")
        self.assert_fails(r, 6, "'app/read-only'", "status 403", "execute")

    def test_empty_variable(self):
        r = self.run_az("get", "app/empty")
        self.assert_fails(r, 6, "app/empty", "404")


class AuthnTest(ConjurTestCase):
    def test_host_id_with_slashes_reaches_the_right_host(self):
        env = self.base_env(CONJUR_AUTHN_JWT_HOST_ID="azure-apps/team/prod/db/reader")
        r = self.lua('local c = require("conjur").connect()\n'
                     'io.write(c:whoami().username)\n', env=env)
        self.assertEqual((r.returncode, r.stdout), (0, b"host/azure-apps/team/prod/db/reader"),
                         r.stderr)
        paths = [e["path"] for e in self.emu.requests("authn_azure")]
        self.assertEqual(paths, ["/authn-azure/prod/myorg/"
                                 "host%2Fazure-apps%2Fteam%2Fprod%2Fdb%2Freader/authenticate"])

    def test_host_prefix_is_optional(self):
        env = self.base_env(CONJUR_AUTHN_JWT_HOST_ID="host/azure-apps/vm-system")
        r = self.run_az("get", "app/db/username", env=env)
        self.assertEqual((r.returncode, r.stdout), (0, b"app_user"), r.stderr)

    def test_refused_host_exits_5(self):
        env = self.base_env(CONJUR_AUTHN_JWT_HOST_ID="azure-apps/outsider")
        r = self.run_az("get", "app/db/username", env=env)
        self.assert_fails(r, 5, "host/azure-apps/outsider", "status 403",
                          "authn-azure/prod")
        env = self.base_env(CONJUR_AUTHN_JWT_HOST_ID="azure-apps/vm-uami")
        r = self.run_az("-vv", "get", "app/db/username", env=env)
        self.assert_fails(r, 5, "status 401", "annotations")

    def test_401_on_a_data_call_authenticates_once_more(self):
        self.emu.fault("secret", status=401, count=1)
        r = self.run_az("get", "app/db/password")
        self.assertEqual((r.returncode, r.stdout), (0, b"Sup3r-S3cret-Pa55word"), r.stderr)
        counts = self.emu.counts()
        self.assertEqual((counts.get("authn_azure"), counts.get("secret")), (2, 2))

    def test_401_again_after_reauthenticating_exits_5(self):
        self.emu.fault("batch", status=401, count=-1)
        r = self.run_az("get", "app/db/password", "app/db/username")
        self.assert_fails(r, 5, "status 401", "refused even after authenticating again")
        counts = self.emu.counts()
        self.assertEqual((counts.get("authn_azure"), counts.get("batch")), (2, 2))

    def test_expired_platform_token_is_replaced_once(self):
        self.emu.fault("authn_azure", status=401, body=TOKEN_EXPIRED, count=1)
        r = self.run_az("get", "app/db/password")
        self.assertEqual((r.returncode, r.stdout), (0, b"Sup3r-S3cret-Pa55word"), r.stderr)
        counts = self.emu.counts()
        self.assertEqual(counts.get("authn_azure"), 2)
        self.assertEqual(counts.get("imds"), 2)

    def test_expired_platform_token_twice_exits_5(self):
        self.emu.fault("authn_azure", status=401, body=TOKEN_EXPIRED, count=-1)
        r = self.run_az("get", "app/db/password")
        self.assert_fails(r, 5, "CONJ00016E", "status 401")
        self.assertEqual(self.emu.counts().get("authn_azure"), 2)

    def test_token_is_cached_and_whoami(self):
        r = self.lua('local c <close> = require("conjur").connect()\n'
                     'local a = c:secret("app/db/password")\n'
                     'local b = c:secrets{"app/db/username", "app/tricky"}\n'
                     'local t = c:token()\n'
                     'local w = c:whoami()\n'
                     'print(w.username, w.account, math.type(t.expires_at))\n')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, b"host/azure-apps/vm-system\tmyorg\tinteger\n")
        self.assertEqual(self.emu.counts().get("authn_azure"), 1)

    def test_api_key_mode(self):
        key = self.fixture["conjur"]["accounts"]["myorg"]["hosts"]["api-client"]["api_key"]
        env = self.base_env(CONJUR_AUTHN_LOGIN="host/api-client", CONJUR_AUTHN_API_KEY=key)
        del env["CONJUR_AUTHN_TYPE"]  # the default rules pick api-key
        r = self.run_az("get", "app/db/password", "app/db/username", env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["app/db/username"], "app_user")
        counts = self.emu.counts()
        self.assertEqual((counts.get("authn"), counts.get("authn_azure", 0)), (1, 0))
        paths = [e["path"] for e in self.emu.requests("authn")]
        self.assertEqual(paths, ["/authn/myorg/host%2Fapi-client/authenticate"])

        env["CONJUR_AUTHN_API_KEY"] = key[:-4] + "beef"
        r = self.run_az("get", "app/db/password", env=env)
        self.assert_fails(r, 5, "status 401", "CONJUR_AUTHN_API_KEY")
        self.assert_no_leak(r, key[:-4] + "beef")

    def write_token(self, name, text):
        path = os.path.join(self.tmp.name, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_token_file_mode_json_and_base64(self):
        tok = self.emu.conjur_token("host/azure-apps/vm-system")
        for text in (tok["token"], "\n  " + tok["base64"] + "\n"):
            path = self.write_token("token", text)
            env = self.base_env(CONJUR_AUTHN_TOKEN_FILE=path)
            del env["CONJUR_AUTHN_TYPE"]
            r = self.run_az("get", "app/db/username", env=env)
            self.assertEqual((r.returncode, r.stdout), (0, b"app_user"), r.stderr)
        self.assertEqual(self.emu.counts().get("authn_azure", 0), 0)

    def test_token_file_is_read_again_when_it_changes(self):
        first = self.emu.conjur_token("host/azure-apps/vm-system")
        second = self.emu.conjur_token("host/api-client")
        path = self.write_token("token", first["token"])
        env = self.base_env(CONJUR_AUTHN_TOKEN_FILE=path, CONJUR_AUTHN_TYPE="token-file")
        r = self.lua('local c = require("conjur").connect()\n'
                     'print(c:whoami().username)\n'
                     'local f = assert(io.open(%r, "w"))\n'
                     'f:write(%r) f:close()\n'
                     'print(c:whoami().username)\n' % (path, second["token"]), env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, b"host/azure-apps/vm-system\nhost/api-client\n")

    def test_token_file_garbage_and_absent(self):
        path = self.write_token("token", "not a token")
        env = self.base_env(CONJUR_AUTHN_TOKEN_FILE=path, CONJUR_HTTP_TIMEOUT="1",
                            CONJUR_AUTHN_TYPE="token-file")
        r = self.run_az("get", "app/db/username", env=env)
        self.assert_fails(r, 5, path, "neither an access token")
        env["CONJUR_AUTHN_TOKEN_FILE"] = path + ".absent"
        r = self.run_az("get", "app/db/username", env=env)
        self.assert_fails(r, 5, path + ".absent", "No such file")

    def test_malformed_token_from_authenticate_exits_7(self):
        for body in ("not a token", [1, 2], {"protected": "a", "payload": "!!",
                                             "signature": "s"}):
            self.emu.fault("authn_azure", status=200, body=body)
            r = self.run_az("get", "app/db/username")
            self.assert_fails(r, 7, "Conjur's authenticate")

    def test_malformed_token_file_json_exits_5(self):
        path = self.write_token("token", '{"protected": "x", "payload": 5')
        env = self.base_env(CONJUR_AUTHN_TOKEN_FILE=path,
                            CONJUR_AUTHN_TYPE="token-file")
        r = self.run_az("get", "app/db/username", env=env)
        self.assert_fails(r, 5, path)

    def test_token_command(self):
        r = self.run_az("token")
        self.assertEqual(r.returncode, 0, r.stderr)
        tok = json.loads(base64.b64decode(r.stdout.strip()))
        self.assertEqual(set(tok), {"protected", "payload", "signature"})
        r = self.run_az("token", "--header")
        self.assertTrue(r.stdout.startswith(b'Token token="') and r.stdout.endswith(b'"\n'))


class RetryAndTlsTest(ConjurTestCase):
    def test_5xx_then_success_is_retried(self):
        self.emu.fault("batch", status=503, count=1)
        r = self.run_az("get", "app/db/password", "app/db/username")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.emu.counts().get("batch"), 2)
        self.assertIn(b"answered 503; trying again", r.stderr)
        self.assert_no_leak(subprocess.CompletedProcess(r.args, 0, b"", r.stderr))

    def test_5xx_until_the_end_exits_7(self):
        self.emu.fault("secret", status=502, count=-1)
        r = self.run_az("get", "app/db/password")
        self.assert_fails(r, 7, "status 502 after 3 attempts", "app/db/password")
        self.assertEqual(self.emu.counts().get("secret"), 3)

    def test_authenticate_5xx_is_retried(self):
        self.emu.fault("authn_azure", status=503, count=2)
        r = self.run_az("get", "app/db/password")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.emu.counts().get("authn_azure"), 3)

    def test_dropped_connection_is_retried(self):
        self.emu.fault("secret", drop=True, count=1)
        r = self.run_az("get", "app/db/password")
        self.assertEqual((r.returncode, r.stdout), (0, b"Sup3r-S3cret-Pa55word"), r.stderr)

    def test_malformed_answer_exits_7(self):
        self.emu.fault("batch", malformed=True, count=1)
        r = self.run_az("get", "app/db/password", "app/db/username")
        self.assert_fails(r, 7, "batch")

    def test_batch_answer_of_the_wrong_shape_exits_7(self):
        pw, user = "myorg:variable:app/db/password", "myorg:variable:app/db/username"
        for body, needle in (({pw: 1234, user: "c2VjcmV0LXZhbHVl"}, "no value for 'app/db/password'"),
                             ({pw: "!!!", user: "c2VjcmV0LXZhbHVl"}, "invalid base64"),
                             ({pw: "c2VjcmV0LXZhbHVl"}, "no value for 'app/db/username'"),
                             ([], "no value")):
            self.emu.fault("batch", status=200, body=body,
                           headers={"Content-Encoding": "base64"})
            r = self.run_az("get", "app/db/password", "app/db/username")
            self.assert_fails(r, 7, needle)

    def test_wrong_ca_fails_once_with_exit_7(self):
        other_ca = os.path.join(self.tmp.name, "other-ca.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-keyout", os.path.join(self.tmp.name, "k.pem"), "-out", other_ca,
                        "-subj", "/CN=not the emulator CA", "-days", "2"],
                       check=True, capture_output=True)
        env = self.base_env(CONJUR_CERT_FILE=other_ca)
        r = self.run_az("-vv", "get", "app/db/password", env=env)
        self.assert_fails(r, 7, "TLS verification failed", "not trusted", "CONJUR_CERT_FILE")
        self.assertEqual(r.stderr.count(b"debug: POST "), 1, "no second attempt")
        self.assertEqual(self.emu.counts().get("authn_azure", 0), 0)

    def test_inline_pem_replaces_system_roots(self):
        with open(self.emu.state["conjur"]["ca_file"]) as f:
            pem = f.read()
        env = self.base_env(CONJUR_SSL_CERTIFICATE=pem)
        del env["CONJUR_CERT_FILE"]
        r = self.run_az("get", "app/db/username", env=env)
        self.assertEqual((r.returncode, r.stdout), (0, b"app_user"), r.stderr)
        env = self.base_env()
        del env["CONJUR_CERT_FILE"]   # system roots do not know the test CA
        r = self.run_az("get", "app/db/username", env=env)
        self.assert_fails(r, 7, "not trusted")

    def test_expired_and_wrong_name_certificates(self):
        cases = (("expired_cert_url", "expired"), ("wrong_name_url", "does not name this host"))
        for key, words in cases:
            env = self.base_env(CONJUR_APPLIANCE_URL=self.emu.state["conjur"][key])
            r = self.run_az("get", "app/db/password", env=env)
            self.assert_fails(r, 7, "TLS verification failed", words)

    def test_plain_http_to_a_remote_host_is_refused(self):
        env = self.base_env(CONJUR_APPLIANCE_URL="http://conjur.example.com")
        r = self.run_az("get", "app/db/password", env=env)
        self.assert_fails(r, 3, "CONJUR_APPLIANCE_URL", "not loopback", "https://")


class ConfigTest(ConjurTestCase):
    def write(self, name, text):
        path = os.path.join(self.tmp.name, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_files_fill_what_the_environment_leaves_unset(self):
        state = self.emu.state["conjur"]
        system = self.write("conjur.conf",
                            "appliance_url: %s\naccount: wrong\ncert_file: %s\n"
                            "service_id: prod\n" % (state["url"], state["ca_file"]))
        rc = self.write("conjurrc", "conjur_account: myorg\n"
                                    "netrc_path: /ignored\nplugins: []\n")
        env = self.base_env(AZCONJUR_SYSTEM_CONFIG=system, CONJURRC=rc)
        for name in ("CONJUR_APPLIANCE_URL", "CONJUR_ACCOUNT", "CONJUR_CERT_FILE",
                     "CONJUR_SERVICE_ID"):
            del env[name]
        r = self.run_az("get", "app/db/username", env=env)
        self.assertEqual((r.returncode, r.stdout), (0, b"app_user"), r.stderr)

        # the environment beats both files, an option beats the environment
        env["CONJUR_ACCOUNT"] = "nosuch"
        r = self.run_az("get", "app/db/username", env=env)
        self.assert_fails(r, 5, "/authn-azure/prod/nosuch/")
        r = self.lua('io.write(require("conjur").connect{account = "myorg"}'
                     ':secret("app/db/username"):reveal())', env=env)
        self.assertEqual((r.returncode, r.stdout), (0, b"app_user"), r.stderr)

    def test_home_conjurrc_is_read(self):
        self.write(".conjurrc", "appliance_url: https://127.0.0.1:1\n")
        env = self.base_env()
        del env["CONJUR_APPLIANCE_URL"]
        r = self.run_az("-vv", "get", "app/db/username", env=env)
        self.assert_fails(r, 7, "https://127.0.0.1:1/authn-azure/")

    def test_bad_files_are_named(self):
        rc = self.write("conjurrc", "appliance_url: [unclosed\n")
        r = self.run_az("get", "x", env=self.base_env(CONJURRC=rc))
        self.assert_fails(r, 3, rc)
        rc = self.write("conjurrc2", "account:\n  nested: map\n")
        r = self.run_az("get", "x", env=self.base_env(CONJURRC=rc))
        self.assert_fails(r, 3, "account in " + rc)
        os.chmod(rc, 0)
        if os.geteuid() != 0:
            r = self.run_az("get", "x", env=self.base_env(CONJURRC=rc))
            self.assert_fails(r, 3, rc, "Permission denied")

    def test_missing_settings_are_named(self):
        cases = (("CONJUR_APPLIANCE_URL", "no Conjur URL", "CONJUR_APPLIANCE_URL"),
                 ("CONJUR_SERVICE_ID", "service id", "CONJUR_SERVICE_ID"),
                 ("CONJUR_AUTHN_JWT_HOST_ID", "host id", "CONJUR_AUTHN_JWT_HOST_ID"))
        for name, *needles in cases:
            env = self.base_env()
            del env[name]
            r = self.run_az("get", "app/db/password", env=env)
            self.assert_fails(r, 3, *needles)
        r = self.run_az("get", "x", env=self.base_env(CONJUR_AUTHN_TYPE="magic"))
        self.assert_fails(r, 3, "CONJUR_AUTHN_TYPE 'magic'")
        r = self.run_az("get", "x", env=self.base_env(CONJUR_HTTP_TIMEOUT="0"))
        self.assert_fails(r, 3, "CONJUR_HTTP_TIMEOUT")
        r = self.run_az("get", "x", env=self.base_env(CONJUR_AUTHN_AZURE_CLIENT_ID="a",
                                                      CONJUR_AUTHN_AZURE_OBJECT_ID="b"))
        self.assert_fails(r, 3, "CONJUR_AUTHN_AZURE_CLIENT_ID and CONJUR_AUTHN_AZURE_OBJECT_ID")
        r = self.run_az("get", "x", env=self.base_env(CONJUR_CERT_FILE="/nonexistent/ca.pem"))
        self.assert_fails(r, 3, "CONJUR_CERT_FILE '/nonexistent/ca.pem'")

    def test_conjur_cloud_layout(self):
        state = self.emu.state["conjur"]
        env = self.base_env(CONJUR_APPLIANCE_URL=state["cloud_url"] + "/",
                            CONJUR_ACCOUNT="conjur",
                            CONJUR_AUTHN_JWT_HOST_ID="data/azure-apps/vm-system")
        r = self.run_az("get", "data/vault/db/password", "data/vault/api/key", env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout), {"data/vault/db/password": "cloud-db-password",
                                                "data/vault/api/key": "cloud-api-key"})
        paths = [e["path"] for e in self.emu.requests() if e["server"] == "conjur"]
        self.assertEqual(paths, ["/api/authn-azure/prod/conjur/"
                                 "host%2Fdata%2Fazure-apps%2Fvm-system/authenticate",
                                 "/api/secrets"])

    def test_usage_errors(self):
        self.assertEqual(self.run_az("get").returncode, 2)
        self.assertEqual(self.run_az("get", "--version", "x", "a").returncode, 2)
        self.assertEqual(self.run_az("get", "--bogus", "a").returncode, 2)
        self.assertEqual(self.run_az("token", "extra").returncode, 2)


class LuaApiTest(ConjurTestCase):
    def test_module(self):
        r = self.lua(r'''
local conjur = require("conjur")
local c <close> = conjur.connect()
assert(tostring(c):match("^conjur.client%(https://127.0.0.1:%d+, host/azure%-apps/vm%-system%)$"))
local s = c:secret("app/db/password")
assert(tostring(s) == "secret(app/db/password)")
assert(s:reveal() == "Sup3r-S3cret-Pa55word")
assert(c:secret("app/rotated", {version = 2}):reveal() == "rotated-v2")
local m = c:secrets{db = "app/db/password", user = "app/db/username"}
assert(m.user:reveal() == "app_user" and tostring(m.db) == "secret(app/db/password)")
local a = c:secrets{"app/db/username", "app/db/username"}
assert(a["app/db/username"]:reveal() == "app_user")
assert(next(c:secrets{}) == nil)
local t = c:token()
assert(tostring(t):match("^conjur.token%(expires_at=%d+%)$"))
assert(t.expires_at > os.time() and t.issued_at <= os.time())
assert(t:header():reveal():match('^Token token="[A-Za-z0-9+/=]+"$'))
assert(tostring(t:header()) == "secret(conjur token header)")
local ok, e = pcall(c.secret, c, "app/nope")
assert(not ok and e.code == "not_found" and e.status == 404 and e.exit_code == 6)
assert(tostring(e):find("app/nope", 1, true))
ok, e = pcall(c.secret, c, "app/read-only")
assert(not ok and e.code == "forbidden" and e.status == 403)
c:close()
ok, e = pcall(c.secret, c, "app/db/password")
assert(not ok and tostring(e):find("closed"))
io.write("done")
''')
        self.assertEqual((r.returncode, r.stdout), (0, b"done"), r.stderr)

    def test_bad_arguments(self):
        r = self.lua(r'''
local conjur = require("conjur")
local function err(f, ...) local ok, e = pcall(f, ...) assert(not ok) return tostring(e) end
assert(err(conjur.connect, {bogus = 1}):find("unknown option 'bogus'"))
assert(err(conjur.connect, {url = 5}):find("option 'url' must be a string"))
assert(err(conjur.connect, {identity = {tenant = "x"}}):find("unknown identity selector"))
assert(err(conjur.connect, {timeout = 1.5}):find("whole number"))
local e = select(2, pcall(conjur.connect, {url = "http://example.com"}))
assert(e.code == "config" and e.exit_code == 3)
e = select(2, pcall(function() conjur.connect{identity = "a.b.c&x=y"}:token() end))
assert(e.code == "config" and tostring(e):find("not a JWT"))
local c = conjur.connect()
assert(err(c.secret, c, ""):find("empty variable id"))
assert(err(c.secret, c, "x", {version = 0}):find("positive integer"))
assert(err(c.secrets, c, {1}):find("non%-empty string"))
assert(err(c.secrets, c, {"a", b = "c"}):find("not both"))
assert(err(c.secret, c, "app/db/password\0x"):find("NUL byte"))
assert(err(c.secrets, c, {x = "app/db/password\0x"}):find("NUL byte"))
io.write("done")
''')
        self.assertEqual((r.returncode, r.stdout), (0, b"done"), r.stderr)

    def test_identity_jwt_option_and_options_over_config(self):
        env = self.base_env()
        for name in ("CONJUR_SERVICE_ID", "CONJUR_AUTHN_JWT_HOST_ID", "CONJUR_AUTHN_JWT_TOKEN"):
            env.pop(name, None)
        r = self.lua('local c = require("conjur").connect{service_id = "prod",\n'
                     '  host_id = "azure-apps/vm-system", identity = %r, timeout = 10}\n'
                     'io.write(c:secret("app/db/username"):reveal())' % self.imds_jwt, env=env)
        self.assertEqual((r.returncode, r.stdout), (0, b"app_user"), r.stderr)

    def test_uncaught_failure_in_a_script_leaks_nothing(self):
        self.emu.fault("batch", status=401, count=-1)
        r = self.lua('local c = require("conjur").connect()\n'
                     'local t = c:token()\n'
                     'c:secrets{"app/db/password", "app/db/username"}\n', extra_env={})
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"status 401", r.stderr)
        self.assert_no_leak(r)


    def test_echoed_value_cut_by_the_message_limit_shows_no_prefix(self):
        value = self.value("app/db/password")
        for pad in (190, 195):  # the 200-byte cut falls inside the value
            self.emu.fault("secret", status=422, body={"error": {
                "code": "unprocessable",
                "message": "x" * pad + value.decode() + " is not allowed"}})
            r = self.lua('local c = require("conjur").connect()\n'
                         'c:secrets{"app/db/password", "app/db/username"}\n'
                         'c:secret("app/db/username")\n')
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn(b"status 422: xxxx", r.stderr)
            self.assertNotIn(value[:6], r.stderr)
            self.assert_no_leak(r)

if __name__ == "__main__":
    unittest.main()
