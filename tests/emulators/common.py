"""HTTP plumbing shared by every emulator listener.

One `Hub` per process holds what all listeners share: the lock around the
live fixture, the fault queues, the request log and the per-kind counts.
Each listener is an `EmuServer` bound to 127.0.0.1 on an ephemeral port,
speaking HTTP/1.1 with keep-alive (always with Content-Length) and, for
Conjur, TLS. An *app* object gives each listener its routes: it sorts a
request into a route kind (`classify`) and answers it (`handle`); faults
are applied here, between the two, so every route can be broken the same way.
"""

import collections
import http.server
import itertools
import json
import socket
import ssl
import sys
import threading
import time
import traceback
import urllib.parse
import uuid

# Limits that keep a misbehaving client from tying the emulator up.
MAX_BODY = 256 * 1024          # request bodies on product routes
MAX_CONTROL_BODY = 8 * 1024 * 1024
IDLE_TIMEOUT = 30              # seconds a keep-alive connection may sit idle
HANDSHAKE_TIMEOUT = 10
MAX_DELAY = 300                # a fault may not stall a request longer than this
LOG_CAPACITY = 20000
POLL_INTERVAL = 0.1            # how often a listener looks for a shutdown request

ROUTE_KINDS = (
    "imds", "app_service", "app_service_2017", "arc", "oidc", "jwks",
    "authn_azure", "authn", "secret", "batch", "whoami", "status",
    "authenticators", "resources", "root", "other",
)


class Reply:
    """A complete HTTP answer: status, headers (list of pairs) and body bytes."""

    def __init__(self, status, body=b"", content_type="application/json", headers=None):
        self.status = status
        self.body = body.encode("utf-8") if isinstance(body, str) else body
        self.headers = []
        if content_type:
            self.headers.append(("Content-Type", content_type))
        self.headers.extend(headers or [])

    @classmethod
    def json(cls, status, obj, headers=None):
        return cls(status, json.dumps(obj, separators=(",", ":")), "application/json", headers)

    @classmethod
    def text(cls, status, text):
        return cls(status, text, "text/plain")

    @classmethod
    def empty(cls, status):
        return cls(status, b"", None)

    def set_header(self, name, value):
        self.headers = [(k, v) for k, v in self.headers if k.lower() != name.lower()]
        self.headers.append((name, value))


class Request:
    """What a handler needs to know about one request, already parsed."""

    def __init__(self, method, target, headers, body, client_ip, conn_id, scheme):
        self.method = method
        self.target = target
        raw_path, _, self.query_string = target.partition("?")
        self.raw_path = raw_path
        self.query = urllib.parse.parse_qs(self.query_string, keep_blank_values=True)
        self.headers = headers
        self.body = body
        self.client_ip = client_ip
        self.conn_id = conn_id
        self.scheme = scheme

    def header(self, name, default=None):
        return self.headers.get(name, default)

    def param(self, name):
        """The first value of a query parameter, or None."""
        values = self.query.get(name)
        return values[0] if values else None


class Fault:
    """One scripted misbehaviour, applied to the next `count` requests of a kind.

    count < 0 means "until reset". A fault without `status` keeps the normal
    answer but may still delay it, add headers, or damage its body.
    """

    FIELDS = ("kind", "status", "headers", "retry_after", "delay", "body", "truncate",
              "malformed", "oversize", "drop", "count")

    def __init__(self, spec):
        unknown = set(spec) - set(self.FIELDS)
        if unknown:
            raise ValueError("unknown fault fields: %s" % ", ".join(sorted(unknown)))
        self.kind = spec.get("kind")
        if self.kind not in ROUTE_KINDS:
            raise ValueError("unknown route kind: %r" % (self.kind,))
        self.status = _optional_int(spec, "status", 100, 599)
        self.headers = spec.get("headers") or {}
        if not isinstance(self.headers, dict):
            raise ValueError("headers must be an object")
        self.retry_after = spec.get("retry_after")
        if self.retry_after is not None:
            self.headers["Retry-After"] = str(self.retry_after)
        self.delay = float(spec.get("delay") or 0)
        if not 0 <= self.delay <= MAX_DELAY:
            raise ValueError("delay must be between 0 and %d seconds" % MAX_DELAY)
        self.body = spec.get("body")
        if self.body is not None and not isinstance(self.body, str):
            self.body = json.dumps(self.body)
        self.truncate = bool(spec.get("truncate"))
        self.malformed = bool(spec.get("malformed"))
        self.oversize = _optional_int(spec, "oversize", 16, 256 * 1024 * 1024)
        self.drop = bool(spec.get("drop"))
        self.count = _optional_int(spec, "count", -1, 1_000_000)
        if self.count is None:
            self.count = 1
        if self.count == 0:
            raise ValueError("count must be positive, or -1 for 'until reset'")

    def describe(self):
        return {name: getattr(self, name) for name in self.FIELDS}

    def apply(self, reply, default_error):
        """Turn the normal reply (or None, when `status` replaces it) into the faulty one."""
        if self.status is not None:
            if self.body is not None:
                reply = Reply(self.status, self.body, "application/json")
            else:
                reply = default_error(self.status)
        elif self.body is not None:
            reply.body = self.body.encode("utf-8")
        for name, value in self.headers.items():
            reply.set_header(str(name), str(value))
        if self.malformed:
            reply.body = b'{"access_token": "eyJ0eXAiOiJKV1QiLCJh", "expires_on": '
            reply.set_header("Content-Type", "application/json")
        if self.oversize:
            filler = b"x" * (self.oversize - len(b'{"padding":""}'))
            reply.body = b'{"padding":"' + filler + b'"}'
            reply.set_header("Content-Type", "application/json")
        return reply


def _optional_int(spec, name, low, high):
    value = spec.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError("%s must be an integer between %d and %d" % (name, low, high))
    return value


class Hub:
    """Process-wide shared state: lock, faults, request log, counts, connection ids."""

    def __init__(self, verbose=False):
        self.lock = threading.RLock()
        self.verbose = verbose
        self._conn_ids = itertools.count(1)
        self._seq = itertools.count(1)
        self.faults = collections.defaultdict(collections.deque)
        self.log = collections.deque(maxlen=LOG_CAPACITY)
        self.counts = collections.Counter()

    def next_conn_id(self):
        with self.lock:
            return next(self._conn_ids)

    def add_fault(self, fault):
        with self.lock:
            self.faults[fault.kind].append(fault)

    def take_fault(self, kind):
        """The fault that applies to this request of `kind`, if any (consumes one use)."""
        with self.lock:
            queue = self.faults.get(kind)
            if not queue:
                return None
            fault = queue[0]
            if fault.count > 0:
                fault.count -= 1
                if fault.count == 0:
                    queue.popleft()
            return fault

    def pending_faults(self):
        with self.lock:
            return [f.describe() for q in self.faults.values() for f in q]

    def record(self, entry):
        with self.lock:
            entry["seq"] = next(self._seq)
            self.log.append(entry)
            self.counts[entry["kind"]] += 1
        if self.verbose:
            print("%(server)s %(kind)s %(method)s %(path)s -> %(status)s conn=%(conn)s" % entry,
                  file=sys.stderr, flush=True)

    def requests(self, kind=None):
        with self.lock:
            return [dict(e) for e in self.log if kind is None or e["kind"] == kind]

    def reset(self):
        with self.lock:
            self.faults.clear()
            self.log.clear()
            self.counts.clear()


class EmuServer(http.server.ThreadingHTTPServer):
    """A loopback listener on an ephemeral port, optionally TLS, serving one app."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, name, app, hub, tls_context=None, max_body=MAX_BODY, logged=True):
        self.name = name
        self.logged = logged
        self.app = app
        self.hub = hub
        self.tls_context = tls_context
        self.max_body = max_body
        super().__init__(("127.0.0.1", 0), EmuHandler)

    @property
    def port(self):
        return self.server_address[1]

    @property
    def url(self):
        scheme = "https" if self.tls_context else "http"
        return "%s://127.0.0.1:%d" % (scheme, self.port)

    def get_request(self):
        sock, addr = super().get_request()
        # Headers and body go out in two writes; without this, Nagle's algorithm
        # and the client's delayed ACK add about 40 ms to every answer.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.tls_context:
            # The handshake happens in the handler thread, so a stalled client
            # cannot block the accept loop.
            sock = self.tls_context.wrap_socket(sock, server_side=True,
                                                do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        # Failed handshakes and dropped connections are expected in tests; stay quiet.
        if self.hub.verbose:
            print("%s: connection error from %s: %s" % (
                self.name, client_address[0], sys.exc_info()[1]), file=sys.stderr, flush=True)

    def start(self):
        thread = threading.Thread(target=self.serve_forever, args=(POLL_INTERVAL,),
                                  name=self.name, daemon=True)
        thread.start()
        return thread


def stop_servers(servers):
    """Stop every listener at once (each `shutdown` waits for its poll loop) and close them."""
    stoppers = [threading.Thread(target=s.shutdown, daemon=True) for s in servers]
    for thread in stoppers:
        thread.start()
    for thread in stoppers:
        thread.join(5)
    for server in servers:
        server.server_close()


class EmuHandler(http.server.BaseHTTPRequestHandler):
    """Reads one request, applies any fault for its kind, asks the app, writes the reply."""

    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT
    server_version = "azconjur-emulator"
    sys_version = ""

    def setup(self):
        self.conn_id = self.server.hub.next_conn_id()
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(HANDSHAKE_TIMEOUT)
            self.request.do_handshake()
        super().setup()

    def log_message(self, format, *args):  # noqa: A002 - signature from the base class
        """Silence the default access log: our own log never carries headers or bodies."""

    def do_GET(self):
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _read_body(self):
        if self.headers.get("Transfer-Encoding"):
            return None, Reply.text(411, "Content-Length required")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return None, Reply.text(400, "bad Content-Length")
        if length < 0 or length > self.server.max_body:
            return None, Reply.text(413, "request body too large")
        return self.rfile.read(length), None

    def _serve(self):
        server = self.server
        body, refusal = self._read_body()
        request = Request(self.command, self.path, self.headers, body or b"",
                          self.client_address[0], self.conn_id,
                          "https" if server.tls_context else "http")
        kind = "other"
        try:
            kind = server.app.classify(request)
            if refusal is not None:
                self.close_connection = True
                self._finish(request, kind, refusal, False)
                return
            fault = server.hub.take_fault(kind)
            if fault is not None and fault.delay:
                time.sleep(fault.delay)
            if fault is not None and fault.drop:
                self.close_connection = True
                self._record(request, kind, 0, True)
                return
            reply = None if fault is not None and fault.status else server.app.handle(kind, request)
            if fault is not None:
                reply = fault.apply(reply, lambda status: server.app.error_reply(kind, status))
        except Exception:  # noqa: BLE001 - one bad request must not kill the listener
            if server.hub.verbose:
                traceback.print_exc()
            fault = None
            reply = Reply.json(500, {"error": "emulator internal error"})
        self._finish(request, kind, reply, fault is not None and fault.truncate,
                     faulted=fault is not None)

    def _finish(self, request, kind, reply, truncate, faulted=False):
        # Record first: a client that has its answer must find it in the log and counts.
        self._record(request, kind, reply.status, faulted)
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        if self.close_connection or truncate:
            self.send_header("Connection", "close")
        self.end_headers()
        body = reply.body[: len(reply.body) // 2] if truncate else reply.body
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()
        if truncate:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _record(self, request, kind, status, faulted):
        if not self.server.logged:
            return
        self.server.hub.record({
            "time": time.time(),
            "server": self.server.name,
            "kind": kind,
            "method": request.method,
            "path": request.raw_path,
            "query": request.query_string,
            "status": status,
            "conn": request.conn_id,
            "fault": faulted,
        })


def merge_patch(target, patch):
    """Apply an RFC 7396 JSON merge patch to `target` in place; return the result."""
    if not isinstance(patch, dict):
        return patch
    if not isinstance(target, dict):
        target = {}
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = merge_patch(target.get(key), value)
    return target


def correlation_id():
    return str(uuid.uuid4())
