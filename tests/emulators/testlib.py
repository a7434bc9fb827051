"""Helpers for the emulator tests: one instance per test class, plain HTTP calls."""

import base64
import http.client
import json
import unittest
import urllib.parse

from .client import Emulators

MANAGEMENT = "https://management.azure.com/"
TOKEN_PATH = "/metadata/identity/oauth2/token"


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name):
        return self.headers.get(name.lower())

    def json(self):
        return json.loads(self.body)

    @property
    def text(self):
        return self.body.decode("utf-8")

    def __repr__(self):
        return "<Response %d %r>" % (self.status, self.body[:200])


def request(url, method="GET", headers=None, body=None, context=None, connection=None):
    """One HTTP(S) request; reuse `connection` when given (keep-alive)."""
    parts = urllib.parse.urlsplit(url)
    target = parts.path + ("?" + parts.query if parts.query else "")
    if connection is None:
        if parts.scheme == "https":
            connection = http.client.HTTPSConnection(parts.hostname, parts.port,
                                                     context=context, timeout=20)
        else:
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=20)
        close = True
    else:
        close = False
    try:
        connection.request(method, target, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        headers = {k.lower(): v for k, v in response.getheaders()}
        return Response(response.status, headers, data)
    finally:
        if close:
            connection.close()


def query(**params):
    return urllib.parse.urlencode(params)


class EmulatorTestCase(unittest.TestCase):
    """Starts one emulator instance for the class; resets faults/log/fixture per test."""

    fixture_overrides = None
    reset_fixture = True

    @classmethod
    def setUpClass(cls):
        cls.emu = Emulators(cls.fixture_overrides)
        cls.emu.start()
        cls.state = cls.emu.state
        cls.ctx = cls.emu.ssl_context()
        cls.conjur_url = cls.state["conjur"]["url"]
        cls.account = cls.state["conjur"]["account"]

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()

    def setUp(self):
        self.emu.reset(fixture=self.reset_fixture)

    # ---- Azure --------------------------------------------------------------------

    def imds(self, base=None, headers=None, **params):
        params.setdefault("api-version", "2018-02-01")
        params.setdefault("resource", MANAGEMENT)
        hdrs = {"Metadata": "true"} if headers is None else headers
        return request("%s%s?%s" % (base or self.state["imds_url"], TOKEN_PATH,
                                    query(**params)), headers=hdrs)

    def azure_token(self, **params):
        response = self.imds(**params)
        self.assertEqual(response.status, 200, response)
        return response.json()["access_token"]

    # ---- Conjur -------------------------------------------------------------------

    def conjur(self, path, method="GET", headers=None, body=None, token=None, base=None,
               connection=None):
        hdrs = dict(headers or {})
        if token is not None:
            hdrs["Authorization"] = 'Token token="%s"' % token
        return request((base or self.conjur_url) + path, method, hdrs, body, self.ctx,
                       connection)

    def authenticate(self, host="azure-apps/vm-system", jwt=None, service="prod",
                     account=None, headers=None, base=None):
        login = urllib.parse.quote("host/" + host, safe="")
        path = "/authn-azure/%s/%s/%s/authenticate" % (service, account or self.account, login)
        body = None if jwt is False else "jwt=" + (jwt or self.azure_token())
        return self.conjur(path, "POST", headers, body, base=base)

    def login(self, host="azure-apps/vm-system", **kwargs):
        """A Conjur access token, base64 as it goes in the Authorization header."""
        response = self.authenticate(host, **kwargs)
        self.assertEqual(response.status, 200, response)
        return base64.b64encode(response.body).decode()

    def read_secret(self, variable_id, token, account=None, params="", encode=True):
        ident = urllib.parse.quote(variable_id, safe="") if encode else variable_id
        return self.conjur("/secrets/%s/variable/%s%s" % (account or self.account, ident,
                                                           params), token=token)

    def batch(self, ids, token, headers=None, raw=None):
        value = raw if raw is not None else ",".join(
            i if ":" in i else "%s:variable:%s" % (self.account, i) for i in ids)
        return self.conjur("/secrets?" + query(variable_ids=value), headers=headers,
                           token=token)
