"""Proxy rules of DESIGN §5: HTTPS_PROXY and NO_PROXY are honoured for
Conjur and never for the identity endpoints."""
import select
import socket
import socketserver
import tempfile
import threading
import unittest

from tests.emulators.client import Emulators
from tests.integration.helpers import azconjur, clean_env


class ConnectProxy(socketserver.ThreadingTCPServer):
    """A loopback HTTP CONNECT proxy that records where it was asked to go."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), ProxyHandler)
        self.targets = []
        self.plain = []   # non-CONNECT requests (plain-http proxying)

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.server_address[1]


class ProxyHandler(socketserver.StreamRequestHandler):
    timeout = 30

    def handle(self):
        request_line = self.rfile.readline(8192).decode("latin-1").strip()
        while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
            pass
        method, target = request_line.split(" ")[:2]
        if method != "CONNECT":
            self.server.plain.append(target)
            self.wfile.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        self.server.targets.append(target)
        host, port = target.rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=10) as upstream:
            self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self.wfile.flush()
            self.relay(self.connection, upstream)

    @staticmethod
    def relay(a, b):
        while True:
            ready, _, _ = select.select([a, b], [], [], 10)
            if not ready:
                return
            for s in ready:
                data = s.recv(65536)
                if not data:
                    return
                (b if s is a else a).sendall(data)


class ProxyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emu = Emulators()
        cls.emu.start()

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()

    def setUp(self):
        self.proxy = ConnectProxy()
        threading.Thread(target=self.proxy.serve_forever, daemon=True).start()
        self.home = tempfile.TemporaryDirectory()
        self.conjur_hostport = self.emu.env["CONJUR_APPLIANCE_URL"].split("//", 1)[1]

    def tearDown(self):
        self.proxy.shutdown()
        self.proxy.server_close()
        self.home.cleanup()

    def get(self, **proxy_env):
        env = clean_env(**self.emu.env, AZCONJUR_RETRY_SCALE="0.01", HOME=self.home.name)
        for name in ("http_proxy", "https_proxy", "HTTPS_PROXY", "HTTP_PROXY",
                     "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
            env.pop(name, None)
        env.update(proxy_env)
        return azconjur("get", "app/db/password", env=env)

    def test_conjur_goes_through_https_proxy_identity_does_not(self):
        r = self.get(HTTPS_PROXY=self.proxy.url, http_proxy=self.proxy.url,
                     ALL_PROXY=self.proxy.url)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, b"Sup3r-S3cret-Pa55word")
        # every Conjur request went through the tunnel, on one connection
        self.assertEqual(self.proxy.targets, [self.conjur_hostport])
        # and the IMDS request did not touch the proxy at all
        self.assertEqual(self.proxy.plain, [])
        self.assertEqual(self.emu.counts().get("imds"), 1)

    def test_no_proxy_bypasses_it(self):
        host = self.conjur_hostport.rsplit(":", 1)[0]
        r = self.get(HTTPS_PROXY=self.proxy.url, NO_PROXY=host)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.proxy.targets, [])

    def test_dead_proxy_is_a_network_error(self):
        dead = socket.socket()
        dead.bind(("127.0.0.1", 0))
        port = dead.getsockname()[1]
        dead.close()
        r = self.get(HTTPS_PROXY="http://127.0.0.1:%d" % port)
        self.assertEqual(r.returncode, 7, r.stderr)
        self.assertEqual(r.stdout, b"")
        last = r.stderr.splitlines()[-1]
        self.assertTrue(last.startswith(b"azconjur: error: "), r.stderr)
        self.assertIn(b"HTTPS_PROXY is set, so the request may have gone through that proxy",
                      last)


if __name__ == "__main__":
    unittest.main()
