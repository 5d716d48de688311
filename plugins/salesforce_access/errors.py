"""Errors of the pipeline: retryable failures are a type of their own so Airflow retries only those."""

from __future__ import annotations


class SalesforceAccessError(Exception):
    """Root of every error this pipeline raises on purpose.

    ``error_code`` keeps the raw Salesforce or OAuth code (``INVALID_SESSION_ID``, ``invalid_grant``...)
    next to the message a person reads; the message names the cause and the fix.
    """

    retryable = False

    def __init__(self, message: str, *, error_code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.error_code = error_code

    def __str__(self) -> str:
        if self.error_code and f"[{self.error_code}]" not in self.message:
            return f"{self.message} [{self.error_code}]"
        return self.message


class RetryableError(SalesforceAccessError):
    """A failure that may pass on its own: Salesforce unavailable, a row lock, a network blip."""

    retryable = True


class PermanentError(SalesforceAccessError):
    """A failure that repeats until a person changes something: credentials, permissions, settings, input."""


class ConfigurationError(PermanentError):
    """A connection, option or config file is wrong; the message says which field and how to fix it."""


class AuthenticationError(PermanentError):
    """Salesforce refused to sign the integration user in."""


class MissingPermissionError(PermanentError):
    """The integration user lacks a permission Salesforce requires for this call."""


class FeatureNotEnabledError(PermanentError):
    """The org does not have a feature turned on (API access, Enterprise Territory Management...)."""


class ApiLimitError(PermanentError):
    """The org's daily API request limit is used up; retrying before it resets only burns more."""


class ProvisioningRejected(PermanentError):
    """A provisioning request is invalid; it is recorded as rejected and nothing is changed."""

    def __init__(self, message: str, *, parameter: str | None = None, error_code: str | None = None) -> None:
        super().__init__(message, error_code=error_code)
        self.parameter = parameter


class SalesforceRefused(PermanentError):
    """Salesforce refused a write (validation rule, duplicate username, no licenses left...)."""
