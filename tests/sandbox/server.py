"""The HTTP layer and the ``Sandbox`` object tests and tools start.

HTTP/1.1 with Content-Length on every answer, so clients keep connections alive as they
do against ConnectWise (a benchmark that opened a connection per request would measure the
sandbox, not the client).
"""

import json
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

from . import rules
from .app import KEEP, Request, Response, SandboxApp

LOG = logging.getLogger("tests.sandbox")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ConnectWiseSandbox/1.0"
    timeout = 120  # idle keep-alive connections are closed after this many seconds
    disable_nagle_algorithm = True  # headers and body are separate writes: avoid 40 ms delayed-ACK stalls

    def do_GET(self):  # noqa: N802 - http.server naming
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def log_message(self, format, *args):  # noqa: A002 - http.server signature
        """Quiet by default (tests make thousands of requests); available at DEBUG level."""
        LOG.debug("%s - %s", self.address_string(), format % args)

    def _serve(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        split = urlsplit(self.path)
        host = self.headers.get("Host") or "%s:%s" % self.server.server_address[:2]
        request = Request(self.command, unquote(split.path), parse_qsl(split.query, keep_blank_values=True),
                          self.headers, body, host, split.path)
        try:
            response = self.server.app.handle(request)
        except Exception:  # noqa: BLE001 - last resort: answer 500 and log, never kill the server thread
            LOG.exception("sandbox error on %s %s", self.command, self.path)
            response = Response(500, {"code": "ConnectWiseApi", "message": "Sandbox internal error (see its log)"})
        if response.drop:
            self._drop()
            return
        self._send(response)

    def _drop(self):
        """Close the socket without an answer (the request was committed)."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            LOG.debug("socket already closed while dropping a response")

    def _send(self, response):
        payload = b"" if response.body is None else json.dumps(response.body).encode("utf-8")
        self.send_response(response.status)
        if response.body is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if payload and self.command != "HEAD":
            self.wfile.write(payload)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class Sandbox:
    """A ConnectWise Manage + MSP360 sandbox on a local port.

    ``Sandbox(fixture="demo", port=0).start()`` serves in a background thread; ``url`` is
    the ConnectWise ``site`` value and ``mbs_url`` the MSP360 base URL.
    """

    def __init__(self, fixture="demo", port=0, host="127.0.0.1", latency_ms=0, today=None, rate_limit=None):
        self.app = SandboxApp(fixture, latency_ms, today, rate_limit=rate_limit)
        self.host = host
        self.port = port
        self._server = None
        self._thread = None

    # ----------------------------------------------------------------- lifecycle
    def bind(self):
        """Open the listening socket now, so ``url`` knows the port (port 0 picks a free one)."""
        self._server = _Server((self.host, self.port), _Handler)
        self._server.app = self.app
        self.port = self._server.server_address[1]

    def start(self):
        """Serve in a daemon thread; returns self."""
        if self._server is None:
            self.bind()
            self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                            name=f"sandbox-{self.port}", daemon=True)
            self._thread.start()
        return self

    def serve_forever(self):
        """Serve in the calling thread (the command line); Ctrl-C raises KeyboardInterrupt."""
        if self._server is None:
            self.bind()
        self._server.serve_forever(poll_interval=0.2)

    def stop(self):
        """Stop serving and free the port (safe to call twice)."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
        if self._server is not None:
            self._server.server_close()
        self._server = None
        self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    # ----------------------------------------------------------------- addresses and state
    @property
    def url(self):
        return f"http://{self.host}:{self.port}"

    @property
    def mbs_url(self):
        return self.url + "/mbs"

    @property
    def store(self):
        return self.app.store

    @property
    def mbs(self):
        return self.app.mbs

    def journal(self):
        return self.app.journal_entries()

    def clear_journal(self):
        self.app.clear_journal()

    def reset(self, fixture=None, today=KEEP):
        """Reload the fixture; ``today`` (``YYYY-MM-DD``, or None for the real date) sets the clock first."""
        self.app.reset(fixture, today)

    @property
    def today(self):
        """The sandbox's today, a ``datetime.date``."""
        return self.app.clock.today()

    def set_today(self, today):
        """Move the clock without reloading (None: the real date)."""
        self.app.clock.set(today)

    def add_faults(self, rules):
        self.app.faults.add(rules)

    def clear_faults(self):
        self.app.faults.clear()

    def faults(self):
        return self.app.faults.describe()

    def invoice_through(self, agreement_id, day):
        """Invoice an agreement's outstanding cycles through ``day`` (``YYYY-MM-DD``): ConnectWise then
        refuses additions before its next invoice date (unless the agreement prorates)."""
        with self.app.store.lock:
            if rules.invoice_through(self.app.store, agreement_id, day) is None:
                raise KeyError("no agreement %s" % agreement_id)

    def invoice(self, period=None, agreement=None, through=None, date=None):
        """Agreement invoicing, as ``POST /_sandbox/invoice``: the invoices made, rendered."""
        body = {key: value for key, value in (("period", period), ("agreement", agreement), ("through", through),
                                              ("date", date)) if value is not None}
        response = self.app.handle_control("POST", "/invoice", body)
        if response.status != 200:
            raise ValueError(response.body["message"])
        return response.body["invoices"]

    def invoice_lines(self, invoice_id):
        """The lines of an invoice (ConnectWise has no endpoint for them)."""
        response = self.app.handle_control("GET", "/invoices/%d/lines" % invoice_id, None)
        if response.status != 200:
            raise KeyError(response.body["message"])
        return response.body["lines"]

    def set_latency(self, ms):
        self.app.latency_ms = ms

    def set_rate_limit(self, rate, burst=None):
        """ConnectWise requests per second (None: no limit); see ratelimit.py."""
        self.app.rate_limit.set(rate, burst)

    def stats(self):
        return self.app.stats_snapshot()
