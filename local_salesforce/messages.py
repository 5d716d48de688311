"""What flows between the HTTP layer and the application: a parsed request and a ready response."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from local_salesforce.errors import ApiError

if TYPE_CHECKING:
    from local_salesforce.auth import Session

JSON_TYPE = "application/json;charset=UTF-8"


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
        body = json.dumps(payload, separators=(",", ":")).encode()
        return cls(status, body, {"Content-Type": JSON_TYPE, **(headers or {})})

    @classmethod
    def error(cls, exc: ApiError) -> Response:
        return cls.json(exc.status, [exc.item()])


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    version: str = ""
    session: Session | None = None
    user: dict | None = None
    permissions: frozenset[str] = frozenset()
