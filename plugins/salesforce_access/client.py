"""A signed-in Salesforce client: renews its token once on expiry, pages queries, counts API calls."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from salesforce_access.errors import RetryableError, SalesforceAccessError

if TYPE_CHECKING:
    import requests
    from simple_salesforce import Salesforce

    from salesforce_access.auth import SalesforceCredentials, SignIn

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_BATCH_SIZE = 2000


class QueryCursorLost(RetryableError):
    """Salesforce no longer knows a query cursor (expired, or its session ended): restart that query."""


class SalesforceClient:
    """One integration user's session with one org.

    Every call goes through :meth:`call`, which renews an expired access token once and retries, and
    turns Salesforce failures into the pipeline's error types. The number of REST calls made is
    kept in :attr:`api_calls` so a sync can record its API budget.
    """

    def __init__(self, credentials: SalesforceCredentials, session: requests.Session | None = None) -> None:
        from salesforce_access import auth

        self.credentials = credentials
        self.session = session or auth.new_http_session(credentials)
        self.session.hooks["response"].append(self._count_call)
        self.api_calls = 0
        self.api_usage: tuple[int, int] | None = None
        self.signin: SignIn | None = None
        self._sf: Salesforce | None = None

    @property
    def sf(self) -> Salesforce:
        if self._sf is None:
            self.sign_in()
        assert self._sf is not None
        return self._sf

    @property
    def org_id(self) -> str | None:
        return self.signin.org_id if self.signin else None

    def sign_in(self) -> None:
        """Sign in (again) and point a fresh simple-salesforce client at the instance the auth call named."""
        from simple_salesforce import Salesforce

        from salesforce_access import auth

        self.signin = auth.sign_in(self.credentials, session=self.session)
        self._sf = Salesforce(
            instance_url=self.signin.instance_url,
            session_id=self.signin.access_token,
            session=self.session,
            version=self.credentials.api_version,
        )
        log.info(
            "Signed in to %s as user %s with %s",
            self.signin.instance_url,
            self.signin.user_id,
            self.signin.auth_method,
        )

    def call(self, operation: Callable[[Salesforce], T], *, context: str = "") -> T:
        """Run ``operation(sf)``; on an expired session sign in again and retry once."""
        from simple_salesforce.exceptions import SalesforceExpiredSession

        from salesforce_access.salesforce_errors import translate

        try:
            try:
                return operation(self.sf)
            except SalesforceExpiredSession:
                log.warning(
                    "Salesforce session expired during %s; signing in again and retrying once", context
                )
                self.sign_in()
                return operation(self.sf)
        except SalesforceAccessError:
            raise
        except Exception as exc:
            if _is_lost_cursor(exc):
                raise QueryCursorLost(
                    f"Salesforce dropped the query cursor while reading {context}; the query restarts.",
                    error_code="INVALID_QUERY_LOCATOR",
                ) from exc
            raise translate(exc, context=context) from exc

    def query_pages(
        self, soql: str, *, batch_size: int = MAX_BATCH_SIZE, context: str = ""
    ) -> Iterator[list[dict]]:
        """Yield the records of ``soql`` one Salesforce page at a time, following ``nextRecordsUrl``.

        Raises:
            QueryCursorLost: the cursor died between pages; the caller restarts the query from the start.
        """
        headers = {"Sforce-Query-Options": f"batchSize={batch_size}"}
        page = self.call(lambda sf: sf.query(soql, headers=headers), context=context or soql)
        while True:
            yield page["records"]
            if page.get("done", True) or not page.get("nextRecordsUrl"):
                return
            page = self.call(
                lambda sf, next_url=page["nextRecordsUrl"]: sf.query_more(
                    next_url, identifier_is_url=True, headers=headers
                ),
                context=context or soql,
            )

    def describe(self, object_name: str) -> dict[str, Any]:
        return self.call(lambda sf: getattr(sf, object_name).describe(), context=f"describe {object_name}")

    def _count_call(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if "/services/data/" not in response.url:
            return
        self.api_calls += 1
        usage = response.headers.get("Sforce-Limit-Info", "")
        if usage.startswith("api-usage="):
            used, _, limit = usage.removeprefix("api-usage=").partition("/")
            if used.isdigit() and limit.isdigit():
                self.api_usage = (int(used), int(limit))


def _is_lost_cursor(exc: BaseException) -> bool:
    content = getattr(exc, "content", None)
    if isinstance(content, list):
        return any(
            isinstance(item, dict) and item.get("errorCode") == "INVALID_QUERY_LOCATOR" for item in content
        )
    return False


def connect(conn_id: str = "salesforce_default") -> SalesforceClient:
    """Build a client from an Airflow Salesforce connection and sign in."""
    from salesforce_access import auth

    client = SalesforceClient(auth.credentials_from_connection(conn_id))
    client.sign_in()
    return client
