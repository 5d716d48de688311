"""Errors the local org answers with, in the shapes Salesforce uses on each surface.

REST calls answer a JSON array of `{message, errorCode, fields?}`; the OAuth token endpoint answers a
JSON object `{error, error_description}`; SOAP login answers a fault. Each surface has its own
exception class so a handler can never send the wrong shape by accident.
"""

from __future__ import annotations


class ApiError(Exception):
    """A REST error: HTTP status plus one Salesforce error item."""

    def __init__(self, status: int, error_code: str, message: str, fields: list[str] | None = None) -> None:
        super().__init__(f"{error_code}: {message}")
        self.status = status
        self.error_code = error_code
        self.message = message
        self.fields = fields

    def item(self) -> dict:
        """The REST array element; `fields` only when the error concerns fields (as Salesforce does)."""
        body: dict = {"message": self.message, "errorCode": self.error_code}
        if self.fields is not None:
            body["fields"] = self.fields
        return body

    def collection_item(self) -> dict:
        """The element inside an sObject Collections result, which says `statusCode`, not `errorCode`."""
        return {"statusCode": self.error_code, "message": self.message, "fields": self.fields or []}


class OAuthError(Exception):
    """A token endpoint error; always answered as a JSON object."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status


class SoapFault(Exception):
    """A SOAP login fault (HTTP 500)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class FixtureError(Exception):
    """A fixture that cannot be loaded; the message names the record and what is wrong."""


def not_found() -> ApiError:
    return ApiError(404, "NOT_FOUND", "The requested resource does not exist")


def invalid_session() -> ApiError:
    return ApiError(401, "INVALID_SESSION_ID", "Session expired or invalid")


def malformed_id(value: object) -> ApiError:
    return ApiError(400, "MALFORMED_ID", f"malformed id {value}", [])
