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

from local_salesforce.app import OrgApp

logger = logging.getLogger(__name__)


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
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        response = self.server.org.handle(self.command, self.path, headers, body)
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Date", self.date_time_string())
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = do_HEAD = _serve

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
