"""The org as an application: routes a request to sign-in, query, sObject REST or the control API.

Transport-free on purpose (`handle` takes method, path, headers and body, returns a Response), so the
HTTP layer in `server.py` stays thin. Cross-cutting Salesforce behaviour lives here: API version
checks, the session check, org/user API switches, the daily API limit with `Sforce-Limit-Info`,
injected faults, the request journal, and query locators.
"""

from __future__ import annotations

import collections
import logging
import random
import re
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass

from local_salesforce import control, dml, query, rest
from local_salesforce.auth import Authenticator, Sessions, soap_fault_body
from local_salesforce.errors import ApiError, OAuthError, SoapFault, invalid_session, not_found
from local_salesforce.ids import checksum
from local_salesforce.messages import Request, Response
from local_salesforce.store import Store, load_fixture

logger = logging.getLogger(__name__)

# Set by local_salesforce.testing.LoopbackAdapter: the host the client meant before being routed here.
ORIGINAL_HOST_HEADER = "x-local-org-original-host"
MAX_REQUEST_BYTES = 16_384
MIN_VERSION = 20.0
DEFAULT_BATCH, MIN_BATCH, MAX_BATCH = 2000, 200, 2000
MAX_CURSOR_ROWS = 3_000_000  # oldest locators are dropped past this, and answer INVALID_QUERY_LOCATOR
_VERSION_RE = re.compile(r"^/services/data/v(\d+\.\d)(/.*)?$")
_LOCATOR_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


_TOO_LARGE_REASONS = {414: "URI Too Long", 431: "Request Header Fields Too Large"}


def bad_message(status: int, reason: str) -> Response:
    """The HTML page Salesforce's front end sends for a request it cannot take at the HTTP level.

    The connection closes after it: the transport may have stopped reading such a request part-way.
    """
    body = f"<h1>Bad Message {status}</h1><pre>reason: {reason}</pre>".encode()
    return Response(status, body, {"Content-Type": "text/html;charset=iso-8859-1", "Connection": "close"})


def too_large_response(status: int) -> Response:
    """Over-long URI (414) or header block (431): the same answer whatever the size."""
    return bad_message(status, _TOO_LARGE_REASONS[status])


def release_name(version: float) -> str:
    """Salesforce names releases by season: v20.0 was Winter '11, then three releases a year."""
    offset = int(version) - 20
    return f"{('Winter', 'Spring', 'Summer')[offset % 3]} '{11 + offset // 3:02d}"


@dataclass
class Cursor:
    token: str
    version: str
    rows: list[dict]
    total_size: int
    aggregate: bool = False


class OrgApp:
    """All server state; one instance per process."""

    def __init__(self, fixture: dict, source: str = "fixture") -> None:
        self.initial_fixture = fixture
        self.store: Store = load_fixture(fixture, source)
        self.base_url = "https://127.0.0.1"
        self.sessions = Sessions()
        self.auth = Authenticator(lambda: self.store, self.sessions, self.base_url)
        self.lock = threading.Lock()
        self.cursors: collections.OrderedDict[str, Cursor] = collections.OrderedDict()
        self.cursor_rows = 0
        self.journal: collections.deque[dict] = collections.deque(maxlen=20_000)
        self.api_usage = 0
        self.logins = 0
        self.faults: list[dict] = []
        self.fault_random = random.Random(0)  # seeded, so probabilistic faults repeat run to run

    def set_base_url(self, url: str) -> None:
        self.base_url = self.auth.base_url = url

    # ---- control-API hooks ---------------------------------------------------------------------

    def reset(self, fixture: dict | None = None, source: str = "fixture") -> None:
        """Load `fixture` (default: the one the server started with); forget sessions, cursors, faults."""
        store = load_fixture(fixture if fixture is not None else self.initial_fixture, source)
        with self.lock:
            self.store = store
            self.sessions.clear()
            self.auth.forget_codes()
            self.cursors.clear()
            self.cursor_rows = 0
            self.journal.clear()
            self.api_usage = 0
            self.logins = 0
            self.faults = []
            self.fault_random = random.Random(0)

    # ---- entry point ---------------------------------------------------------------------------

    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Response:
        started = time.monotonic()
        parsed = urllib.parse.urlsplit(raw_path)
        path = parsed.path
        params = {k: v[0] for k, v in urllib.parse.parse_qs(parsed.query, keep_blank_values=True).items()}
        request = Request(method, path, params, headers, body)
        journal_path = path if path.startswith(("/services/oauth2", "/services/Soap")) else raw_path
        try:
            response = self._route(request, raw_path)
        except ApiError as exc:
            response = Response.error(exc)
        except Exception:  # never a stack trace on the wire: answer as Salesforce's platform error does
            logger.exception("unexpected error handling %s %s", method, path)
            response = Response.json(
                500, [{"message": _unknown_exception_message(), "errorCode": "UNKNOWN_EXCEPTION"}]
            )
        if path.startswith("/services/data/v"):
            response.headers.setdefault(
                "Sforce-Limit-Info", f"api-usage={self.api_usage}/{self.store.org['daily_api_limit']}"
            )
        if not path.startswith(control.PREFIX):
            self.journal.append(
                {
                    "time": time.time(),
                    "method": method,
                    "path": journal_path,
                    "status": response.status,
                    "ms": round((time.monotonic() - started) * 1000, 1),
                }
            )
        return response

    def _route(self, request: Request, raw_path: str) -> Response:
        path = request.path
        if path.startswith(control.PREFIX):
            return control.handle(self, request)
        if len(raw_path) > MAX_REQUEST_BYTES:
            return too_large_response(414)
        if len(raw_path) + sum(len(k) + len(v) + 4 for k, v in request.headers.items()) > MAX_REQUEST_BYTES:
            return too_large_response(431)
        fault = self._take_fault(request)
        if fault is not None:
            return fault
        original_host = request.headers.get(ORIGINAL_HOST_HEADER, "").split(":")[0].lower()
        if original_host.endswith(".lightning.force.com"):
            # The Lightning UI host answers API calls with a redirect to the My Domain (field guide §2).
            my_domain = original_host.removesuffix(".lightning.force.com") + ".my.salesforce.com"
            return Response(302, b"", {"Location": f"https://{my_domain}{raw_path}"})
        if path.rstrip("/") == "/services/oauth2/token":
            return self._token(request)
        if path.rstrip("/") == "/services/oauth2/authorize" and request.method == "GET":
            status, answer = self.auth.authorize(request.query)
            if status == 302:
                return Response(302, b"", {"Location": answer})
            return Response(status, answer.encode(), {"Content-Type": "text/html;charset=UTF-8"})
        soap = re.match(r"^/services/Soap/[uc]/(\d+\.\d+)/?$", path)
        if soap:
            return self._soap(request, soap.group(1))
        if path.rstrip("/") == "/services/data":
            return self._versions()
        match = _VERSION_RE.match(path)
        if match:
            return self._data(request, match.group(1), (match.group(2) or "/").strip("/"))
        raise not_found()

    # ---- sign-in -------------------------------------------------------------------------------

    def _token(self, request: Request) -> Response:
        if request.method != "POST":
            return Response.json(400, {"error": "invalid_request", "error_description": "must use HTTP POST"})
        try:
            payload = self.auth.token(
                request.body,
                request.headers.get("authorization"),
                request.headers.get(ORIGINAL_HOST_HEADER, ""),
            )
        except OAuthError as exc:
            return Response.json(exc.status, {"error": exc.error, "error_description": exc.description})
        self.logins += 1
        return Response.json(200, payload)

    def _soap(self, request: Request, version: str) -> Response:
        xml_type = {"Content-Type": "text/xml;charset=UTF-8"}
        try:
            body = self.auth.soap_login(version, request.body)
        except SoapFault as fault:
            return Response(500, soap_fault_body(fault).encode(), xml_type)
        self.logins += 1
        return Response(200, body.encode(), xml_type)

    def _versions(self) -> Response:
        newest = float(self.store.org["max_api_version"])
        versions = []
        number = MIN_VERSION
        while number <= newest + 1e-9:
            versions.append(
                {
                    "label": release_name(number),
                    "url": f"/services/data/v{number:.1f}",
                    "version": f"{number:.1f}",
                }
            )
            number += 1.0
        return Response.json(200, versions)

    # ---- data API ------------------------------------------------------------------------------

    def _data(self, request: Request, version: str, rest_path: str) -> Response:
        if not MIN_VERSION <= float(version) <= float(self.store.org["max_api_version"]):
            raise not_found()
        request.version = version
        self._authorise(request)
        head, _, tail = rest_path.partition("/")
        if rest_path == "":
            return Response.json(200, rest.resource_map(version))
        if head in ("query", "queryAll"):
            if tail:
                return self._query_more(request, tail)
            return self._query(request, include_deleted=head == "queryAll")
        if head == "limits":
            return Response.json(200, self._limits())
        return rest.handle(self, request, head, tail)

    def _authorise(self, request: Request) -> None:
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else ""
        session = self.sessions.lookup(token) if token else None
        if session is None:
            raise invalid_session()
        store = self.store
        with store.lock:
            user = store.tables["User"].get(session.user_id)
            if user is None or not user.get("IsActive"):
                raise invalid_session()  # deactivating a user ends its sessions
            permissions = store.effective_permissions(user["Id"])
        if not store.org.get("api_enabled", True):
            raise ApiError(403, "API_DISABLED_FOR_ORG", "The REST API is not enabled for this Organization.")
        if "PermissionsApiEnabled" not in permissions and "PermissionsModifyAllData" not in permissions:
            raise ApiError(403, "API_CURRENTLY_DISABLED", "API is disabled for this User")
        with self.lock:
            if self.api_usage >= int(store.org["daily_api_limit"]):
                raise ApiError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
            self.api_usage += 1
        request.session, request.user, request.permissions = session, user, permissions

    def _limits(self) -> dict:
        daily = int(self.store.org["daily_api_limit"])
        return {
            "DailyApiRequests": {"Max": daily, "Remaining": max(0, daily - self.api_usage)},
            "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
            "DataStorageMB": {"Max": 1024, "Remaining": 1024},
            "PermissionSets": {
                "Max": 1500,
                "Remaining": 1500,
                "CreateCustom": {"Max": 1000, "Remaining": 1000},
            },
        }

    # ---- query ---------------------------------------------------------------------------------

    def _query(self, request: Request, include_deleted: bool) -> Response:
        if request.method != "GET":
            raise _method_not_allowed(request.method, "GET,HEAD")
        text = request.query.get("q")
        if text is None:
            raise ApiError(400, "MALFORMED_QUERY", "A query string has to be specified")
        caller = query.Caller(request.permissions, request.version)
        store = self.store
        with store.lock:
            dml.settle_recalculations(store)
            result = query.execute(store, text, caller, include_deleted)
        if not result.pageable:
            return Response.json(200, {"totalSize": result.total_size, "done": True, "records": result.rows})
        batch = self._batch_size(request)
        if len(result.rows) <= batch:
            return Response.json(200, {"totalSize": result.total_size, "done": True, "records": result.rows})
        assert request.session is not None
        cursor = Cursor(
            request.session.token, request.version, result.rows, result.total_size, result.aggregate
        )
        locator = self._new_cursor(cursor)
        return self._page(locator, 0, batch)

    def _query_more(self, request: Request, tail: str) -> Response:
        locator, _, offset_text = tail.strip("/").rpartition("-")
        cursor = self.cursors.get(locator)
        bound = self.store.org.get("locators_bound_to_session", True)
        assert request.session is not None
        if cursor is None or not offset_text.isdigit() or (bound and cursor.token != request.session.token):
            raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        offset = int(offset_text)
        if cursor.aggregate:
            raise ApiError(
                400,
                "INVALID_QUERY_LOCATOR",
                "Aggregate query does not support queryMore(), use LIMIT to restrict the results to a single "
                "batch",
            )
        if offset <= 0 or offset >= len(cursor.rows):
            raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(locator, offset, self._batch_size(request))

    def _batch_size(self, request: Request) -> int:
        batch = DEFAULT_BATCH
        options = request.headers.get("sforce-query-options", "")
        match = re.search(r"batchSize\s*=\s*(\d+)", options, re.IGNORECASE)
        if match:
            batch = min(MAX_BATCH, max(MIN_BATCH, int(match.group(1))))
        return max(1, min(batch, int(self.store.org.get("page_size_cap") or DEFAULT_BATCH)))

    def _new_cursor(self, cursor: Cursor) -> str:
        body = "01g" + "0" + "".join(secrets.choice(_LOCATOR_ALPHABET) for _ in range(11))
        locator = body + checksum(body)
        with self.lock:
            self.cursors[locator] = cursor
            self.cursor_rows += len(cursor.rows)
            while self.cursor_rows > MAX_CURSOR_ROWS and len(self.cursors) > 1:
                _, dropped = self.cursors.popitem(last=False)
                self.cursor_rows -= len(dropped.rows)
        return locator

    def _page(self, locator: str, offset: int, batch: int) -> Response:
        cursor = self.cursors[locator]
        end = min(offset + batch, len(cursor.rows))
        done = end >= len(cursor.rows)
        payload: dict = {"totalSize": cursor.total_size, "done": done}
        if not done:
            payload["nextRecordsUrl"] = f"/services/data/v{cursor.version}/query/{locator}-{end}"
        payload["records"] = cursor.rows[offset:end]
        return Response.json(200, payload)

    # ---- faults --------------------------------------------------------------------------------

    def _take_fault(self, request: Request) -> Response | None:
        with self.lock:
            fault = next((f for f in self.faults if _fault_matches(f, request, self.fault_random)), None)
            if fault is None:
                return None
            if fault.get("count") is not None:
                fault["count"] -= 1
                if fault["count"] <= 0:
                    self.faults.remove(fault)
        return _fault_response(fault)


def _fault_matches(fault: dict, request: Request, chance: random.Random) -> bool:
    if fault.get("method") and fault["method"].upper() != request.method:
        return False
    if fault.get("probability") is not None and chance.random() >= float(fault["probability"]):
        return False
    return str(fault.get("path_contains") or "") in request.path


def _fault_response(fault: dict) -> Response | None:
    kind = fault.get("kind", "503")
    if fault.get("latency_ms"):
        time.sleep(float(fault["latency_ms"]) / 1000)
    headers = {"Retry-After": str(fault["retry_after"])} if fault.get("retry_after") is not None else {}
    if kind == "latency":
        return None
    if kind == "503":
        return Response.json(
            503, [{"message": "Server too busy", "errorCode": "SERVER_UNAVAILABLE"}], headers
        )
    if kind == "503_html":
        page = (
            b"<html><head><title>Service Unavailable</title></head><body><h1>Service Unavailable</h1>"
            b"<p>The server is temporarily unable to service your request. Please try again later.</p>"
            b"</body></html>"
        )
        return Response(503, page, {"Content-Type": "text/html;charset=UTF-8", **headers})
    if kind == "500":
        return Response.json(
            500, [{"message": _unknown_exception_message(), "errorCode": "UNKNOWN_EXCEPTION"}]
        )
    if kind == "lock":
        return Response.json(
            400,
            [
                {
                    "message": "unable to obtain exclusive access to this record or 1 records: "
                    f"{fault.get('record_id') or '005000000000000AAA'}",
                    "errorCode": "UNABLE_TO_LOCK_ROW",
                    "fields": [],
                }
            ],
        )
    if kind == "timeout":
        return Response.json(
            400, [{"message": "Your query request was running for too long.", "errorCode": "QUERY_TIMEOUT"}]
        )
    if kind == "401":
        return Response.error(invalid_session())
    if kind == "limit":
        return Response.json(
            403, [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
        )
    return Response.json(503, [{"message": "Server too busy", "errorCode": "SERVER_UNAVAILABLE"}], headers)


def _unknown_exception_message() -> str:
    error_id = f"{secrets.randbelow(10**9)}-{secrets.randbelow(10**6)} ({secrets.randbelow(10**9)})"
    return f"An unexpected error occurred. Please include this ErrorId if you contact support: {error_id}"


def _method_not_allowed(method: str, allowed: str) -> ApiError:
    return ApiError(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are {allowed}")
