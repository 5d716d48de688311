"""HTTPS transport: a threading HTTP/1.1 server on 127.0.0.1 whose connections are wrapped in TLS.

TLS is negotiated in the worker thread of each connection (not in the accept loop), so one slow or
broken client cannot stall the others. Keep-alive matters: the real client reuses its connection for
every page of a query.
"""

from __future__ import annotations

import logging
import socket
import ssl
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from local_salesforce.app import OrgApp, bad_message, too_large_response
from local_salesforce.messages import Response

logger = logging.getLogger(__name__)

# How much of an over-long request head is read and thrown away before the 414/431 goes out: a client
# still sending when the socket closes gets a connection reset instead of the answer. The pause ends
# the draining when the client has nothing more to send (after 100+ headers the blank line that ends
# them may already have been read).
_DRAIN_BYTES = 4 << 20
_DRAIN_PAUSE_SECONDS = 1


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Status line, headers and body leave in one segment: with separate small writes, Nagle's algorithm
    # and the client's delayed ACK add ~40 ms to every response.
    disable_nagle_algorithm = True
    wbufsize = 1 << 16
    server_version = "local_salesforce"
    sys_version = ""
    server: OrgServer

    def _serve(self) -> None:
        length_text = (self.headers.get("Content-Length") or "0").strip()
        if not (length_text.isascii() and length_text.isdigit()):  # "-1", "abc", "²": int() would fail here
            self._write(bad_message(400, "Invalid Content-Length Value"))
            return
        length = int(length_text)
        body = self.rfile.read(length) if length > 0 else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        self._write(self.server.org.handle(self.command, self.path, headers, body))

    def _write(self, response: Response) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Date", self.date_time_string())
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = do_HEAD = _serve

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # http.server itself refuses request lines over 64 KiB (414) and header lines over 64 KiB or more
        # than 100 headers (431), with a page of its own; answer those as Salesforce does (app.py).
        if code not in (414, 431):
            super().send_error(code, message, explain)
            return
        # Only an over-long line stops mid-line; after "Too many headers" the next line is a fresh one.
        self._drain_request(mid_line=code == 414 or message == "Line too long")
        self._write(too_large_response(code))

    def _drain_request(self, mid_line: bool) -> None:
        """Read what is left of the request head (up to the blank line) so the client sees the answer."""
        budget = _DRAIN_BYTES
        self.connection.settimeout(_DRAIN_PAUSE_SECONDS)
        try:
            while budget > 0:
                line = self.rfile.readline(min(budget, 1 << 16))
                budget -= len(line)
                if not line:
                    return
                if not line.endswith(b"\n"):
                    mid_line = True
                    continue
                if not mid_line and line in (b"\r\n", b"\n"):
                    return
                mid_line = False
        except (OSError, ValueError):
            return  # the client gave up or timed out; the answer below may still reach it

    def send_response(self, code: int, message: str | None = None) -> None:
        # BaseHTTPRequestHandler would add its own Server and Date headers; send only the status line.
        self.log_request(code)
        self.send_response_only(code, message)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - signature from the base class
        logger.debug("%s %s", self.address_string(), format % args)


class OrgServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, org: OrgApp, port: int, cert: Path, key: Path) -> None:
        self.org = org
        self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.tls.minimum_version = ssl.TLSVersion.TLSv1_2
        self.tls.load_cert_chain(str(cert), str(key))
        super().__init__(("127.0.0.1", port), _Handler)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.server_address[1]}"

    def finish_request(self, request: socket.socket, client_address: tuple) -> None:  # type: ignore[override]
        request.settimeout(300)
        try:
            tls_socket = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            logger.debug("TLS handshake with %s failed: %s", client_address, exc)
            return
        try:
            self.RequestHandlerClass(tls_socket, client_address, self)
        except (ssl.SSLError, ConnectionError, TimeoutError) as exc:
            logger.debug("connection from %s ended: %s", client_address, exc)
        finally:
            try:
                tls_socket.close()
            except OSError:
                pass

    def shutdown_request(self, request: socket.socket) -> None:  # type: ignore[override]
        try:
            request.close()
        except OSError:
            pass
