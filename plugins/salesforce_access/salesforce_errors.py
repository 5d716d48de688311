"""Turn what Salesforce and the HTTP stack raise into the pipeline's errors, each with its cause and fix.

Salesforce reports failures three ways: REST calls answer a list of ``{"errorCode", "message"}``
(simple-salesforce raises them as ``SalesforceError`` subclasses), the OAuth token endpoint answers
``{"error", "error_description"}`` and SOAP login answers a fault with an ``exceptionCode``. All
three end up here, so a person reads the same explanation whichever way the job signed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import requests
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceResourceNotFound,
)
from urllib3.exceptions import NameResolutionError

from salesforce_access.errors import (
    ApiLimitError,
    AuthenticationError,
    ConfigurationError,
    FeatureNotEnabledError,
    MissingPermissionError,
    PermanentError,
    RetryableError,
    SalesforceAccessError,
    SalesforceRefused,
)

API_EDITIONS = (
    "Only Enterprise, Unlimited, Developer and Performance editions, or Professional Edition with the "
    "API add-on, have API access."
)
API_ENABLED_FIX = (
    "Give the integration user the 'API Enabled' system permission: Setup > Permission Sets > (a "
    "permission set assigned to the user) > System Permissions > Edit."
)
SYNC_PERMISSIONS = (
    "Sync needs the system permissions API Enabled and Manage Users, plus Customize Application to "
    "sync connected apps; provisioning also needs Manage Roles and Role Hierarchy (roles), Manage Users "
    "(profiles, permission sets, public groups, accounts) and Manage Territories (territories)."
)
PERMISSIONS_FIX = (
    "Add them to a permission set assigned to the integration user (Setup > Permission Sets), then "
    "check with 'python -m salesforce_access.preflight'."
)
TERRITORIES_OFF = (
    "Enterprise Territory Management 2.0 is not enabled in this org, so the Territory2 objects do not "
    "exist. Turn it on in Setup > Territory Settings > Enable Enterprise Territory Management, or set "
    "the option sync_territories to false."
)

_TERRITORY_OBJECTS = re.compile(r"\b(Territory2\w*|UserTerritory2Association|RoleInTerritory2)\b")
# An access token is the 15-character org id, '!', then opaque characters; never let one through.
_ACCESS_TOKEN = re.compile(r"\b00D[A-Za-z0-9]{12,15}![A-Za-z0-9._-]+")

_RETRYABLE_CODES = frozenset(
    {
        "UNABLE_TO_LOCK_ROW",
        "UNKNOWN_EXCEPTION",
        "SERVER_UNAVAILABLE",
        "QUERY_TIMEOUT",
        "API_TEMPORARILY_UNAVAILABLE",
        "INVALID_QUERY_LOCATOR",
        "CONCURRENT_REQUEST_LIMIT_EXCEEDED",
    }
)
_QUERY_CODES = frozenset({"MALFORMED_QUERY", "INVALID_QUERY_FILTER_OPERATOR", "NUMBER_OUTSIDE_VALID_RANGE"})
# Salesforce appends this advice to every unknown object or field; it only hides the useful part.
_BOILERPLATE = re.compile(r"\s*If you are attempting to use a custom (object|field),.*$", re.DOTALL)
# Codes a write answers when Salesforce refuses the data itself; provisioning records them as refused.
_REFUSED_CODES = frozenset(
    {
        "DUPLICATE_VALUE",
        "DUPLICATE_USERNAME",
        "DUPLICATE_COMM_NICKNAME",
        "REQUIRED_FIELD_MISSING",
        "STRING_TOO_LONG",
        "INVALID_EMAIL_ADDRESS",
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        "FIELD_CUSTOM_VALIDATION_EXCEPTION",
        "FIELD_INTEGRITY_EXCEPTION",
        "INVALID_CROSS_REFERENCE_KEY",
        "LICENSE_LIMIT_EXCEEDED",
        "MALFORMED_ID",
        "ENTITY_IS_DELETED",
        "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY",
        "INVALID_FIELD_FOR_INSERT_UPDATE",
    }
)
_RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class SignInFacts:
    """What a sign-in message may name; left empty when a caller does not know it."""

    auth_method: str | None = None
    login_url: str | None = None
    username: str | None = None
    consumer_key: str | None = None
    audience: str | None = None
    conn_id: str | None = None
    has_security_token: bool | None = None


def translate(exc: BaseException, *, context: str = "") -> SalesforceAccessError:
    """Return the pipeline error for an exception raised while talking to Salesforce.

    ``context`` says what was being done ("querying PermissionSetAssignment") and starts the message.
    Errors of the pipeline's own pass through unchanged.
    """
    if isinstance(exc, SalesforceAccessError):
        return exc
    if isinstance(exc, SalesforceAuthenticationFailed):
        return sign_in_failure(str(exc.code or ""), exc.auth_message or "", context=context)
    if isinstance(exc, SalesforceError):
        return _from_rest(exc, context)
    if isinstance(exc, requests.exceptions.RequestException):
        return network_failure(exc, getattr(exc.request, "url", None) or "Salesforce", context=context)
    return PermanentError(
        _join(context, f"unexpected {type(exc).__name__} from the Salesforce client: {_scrub(str(exc))}.")
    )


def rest_failure(
    code: str, message: str, *, status: int | None = None, resource: str = "", context: str = ""
) -> SalesforceAccessError:
    """Return the pipeline error for one REST error ``{"errorCode": code, "message": message}``."""
    shown = _first_line(message).rstrip(".")
    said = f'Salesforce answered "{shown}"' if shown else "Salesforce gave no message"

    if code == "API_DISABLED_FOR_ORG":
        return FeatureNotEnabledError(
            _join(context, f"this org has no API access ({said}). {API_EDITIONS}"), error_code=code
        )
    if code in ("API_CURRENTLY_DISABLED", "FUNCTIONALITY_NOT_ENABLED"):
        return MissingPermissionError(
            _join(
                context,
                f"the integration user may not use the API ({said}). {API_ENABLED_FIX} If it is already "
                f"there, the org's edition lacks API access. {API_EDITIONS}",
            ),
            error_code=code,
        )
    if code.startswith("INSUFFICIENT_ACCESS"):
        return MissingPermissionError(
            _join(
                context,
                f"the integration user lacks a permission ({said}). {SYNC_PERMISSIONS} {PERMISSIONS_FIX}",
            ),
            error_code=code,
        )
    if code in ("INVALID_TYPE", "NOT_FOUND") and _TERRITORY_OBJECTS.search(f"{message} {resource}"):
        return FeatureNotEnabledError(_join(context, f"{TERRITORIES_OFF} {said}."), error_code=code)
    if code == "INVALID_TYPE":
        return MissingPermissionError(
            _join(
                context,
                f"an object is not available to the integration user ({said}). The feature behind it may "
                "be off in this org, or the user may not see the object; check its permission sets.",
            ),
            error_code=code,
        )
    if code == "REQUEST_LIMIT_EXCEEDED" and "Concurrent" in message:
        return RetryableError(
            _join(
                context, f"too many long-running requests are open in this org at once ({said}); retry later."
            ),
            error_code=code,
        )
    if code == "REQUEST_LIMIT_EXCEEDED":
        return ApiLimitError(
            _join(
                context,
                f"the org has used up its API request allowance ({said}). Wait until the 24-hour window "
                "frees requests (Setup > Company Information > API Requests, Last 24 Hours) or ask "
                "Salesforce for a higher limit; retrying before then only fails again.",
            ),
            error_code=code,
        )
    if code == "INVALID_SESSION_ID":
        return RetryableError(
            _join(
                context,
                f"Salesforce no longer accepts the session ({said}): it expired or was revoked, for "
                "example by an admin or a shorter session timeout. A new attempt signs in again; if this "
                "keeps happening, check Session Settings and the app's refresh token policy.",
            ),
            error_code=code,
        )
    if code in _RETRYABLE_CODES or (not code and status in _RETRYABLE_STATUSES):
        return RetryableError(
            _join(context, f"Salesforce could not serve the request just now ({said}); retry later."),
            error_code=code or f"HTTP_{status}",
        )
    if code == "INVALID_FIELD":
        return PermanentError(
            _join(
                context,
                f"Salesforce does not know a field of the query ({said}). It may not exist at the "
                "connection's API version ('version' extra), or field-level security may hide it from the "
                "integration user.",
            ),
            error_code=code,
        )
    if code in _QUERY_CODES:
        return PermanentError(
            _join(
                context,
                f"Salesforce rejected the query ({said}). The pipeline built a query this org does not "
                "accept: report it with this message.",
            ),
            error_code=code,
        )
    if code in _REFUSED_CODES:
        return SalesforceRefused(_join(context, f"Salesforce refused the change ({said})."), error_code=code)
    if status is not None and status >= 500:
        return RetryableError(
            _join(context, f"Salesforce failed with HTTP {status} ({said})."), error_code=code
        )
    return PermanentError(
        _join(context, f"Salesforce refused the request with {code or f'HTTP {status}'} ({said})."),
        error_code=code or None,
    )


def sign_in_failure(
    code: str, description: str, *, facts: SignInFacts | None = None, context: str = ""
) -> SalesforceAccessError:
    """Return the pipeline error for a refused sign-in.

    ``code`` is the OAuth ``error`` (``invalid_grant``...) or the SOAP ``exceptionCode``
    (``INVALID_LOGIN``...); ``description`` is Salesforce's text for it.
    """
    facts = facts or SignInFacts()
    shown = _scrub(description).strip().rstrip(".")
    said = f'Salesforce answered "{shown}"' if shown else f"Salesforce answered {code}"
    text = description.lower()
    user = f"user {facts.username!r}" if facts.username else "the integration user"
    app = f"the app with consumer key {facts.consumer_key!r}" if facts.consumer_key else "the app"
    where = facts.login_url or "the login host"
    conn = f"connection {facts.conn_id!r}" if facts.conn_id else "the connection"

    def fail(kind: type[SalesforceAccessError], explanation: str) -> SalesforceAccessError:
        return kind(_join(context, f"{said}: {explanation}."), error_code=code)

    if code == "invalid_client_id":
        return fail(
            AuthenticationError,
            f"{where} does not know {app}. Copy the Consumer Key from Setup > External Client App "
            "Manager > (the app) > Settings > OAuth Settings into the connection's 'consumer_key' extra; "
            "a key of another org (or of production, for a sandbox) does not work",
        )
    if code == "invalid_client":
        return fail(
            AuthenticationError,
            f"the consumer secret does not match {app}. Copy the Consumer Secret again (Setup > "
            "External Client App Manager > (the app) > Settings > OAuth Settings > Consumer Key and "
            "Secret) into the connection's 'consumer_secret' extra",
        )
    if code == "invalid_app_access" or "approved" in text:
        if facts.auth_method == "oauth":
            return fail(
                AuthenticationError,
                f"{user} has not approved {app}, or the approval was withdrawn. Run 'python -m "
                "salesforce_access.oauth_setup' again as that user",
            )
        return fail(
            AuthenticationError,
            f"{user} is not pre-authorized for {app}. In the app's Policies, set Permitted Users to "
            "'Admin approved users are pre-authorized' and add the user's profile or one of its "
            "permission sets under Select Profiles / Select Permission Sets; also check that the "
            "connection's 'jwt_subject' (or login) is the user's Salesforce username, not its email",
        )
    if "invalid assertion" in text:
        return fail(
            AuthenticationError,
            f"the JWT assertion's signature does not verify against the certificate of {app}. Upload "
            "the certificate of the connection's private key to the app (Settings > OAuth Settings > "
            "Enable JWT Bearer Flow), or point 'private_key' / 'private_key_file_path' at the key "
            "matching the uploaded certificate",
        )
    if "audience" in text:
        audience = f"audience {facts.audience!r}" if facts.audience else "the JWT audience"
        return fail(
            AuthenticationError,
            f"Salesforce does not accept {audience} for this org. Production and Developer Edition "
            "orgs expect https://login.salesforce.com, sandboxes and scratch orgs "
            "https://test.salesforce.com: set the connection's 'login_url' extra to the right one",
        )
    if "expired authorization code" in text:
        return fail(
            AuthenticationError,
            "Salesforce found the JWT assertion already expired, so this machine's clock is off. "
            "Synchronise the clock (NTP) and try again",
        )
    if "inactive user" in text or "frozen" in text:
        return fail(
            AuthenticationError,
            f"{user} is deactivated or frozen. Reactivate or unfreeze the user in Setup > Users, or "
            "sign in as another integration user",
        )
    if "expired access/refresh token" in text or (facts.auth_method == "oauth" and code == "invalid_grant"):
        return fail(
            AuthenticationError,
            f"the refresh token of {conn} was revoked or has expired (revoked "
            "by the user or an admin, expired by the app's refresh token policy, or replaced under "
            "rotation). Get a new one with 'python -m salesforce_access.oauth_setup --conn-id "
            f"{facts.conn_id or 'salesforce_default'} --store'",
        )
    if "not supported on this domain" in text:
        return fail(
            ConfigurationError,
            f"{where} does not offer the client credentials flow, which works only on the org's My "
            "Domain. Set the connection's 'domain' extra to the org's My Domain, for example "
            "'https://acme.my.salesforce.com' (Setup > My Domain)",
        )
    if "client credentials user" in text:
        return fail(
            ConfigurationError,
            f"{app} has the client credentials flow enabled but no Run As user. In the app's Policies "
            "> OAuth Flows and External Client App Enhancements, check Enable Client Credentials Flow "
            "and enter the integration user's username under Run As (username)",
        )
    if code == "unsupported_grant_type":
        flow = {"jwt_bearer": "JWT Bearer Flow", "client_credentials": "Client Credentials Flow"}.get(
            facts.auth_method or "", "flow this connection uses"
        )
        return fail(
            ConfigurationError,
            f"{app} does not allow the {flow}. Enable it under Settings > OAuth Settings > Flow "
            "Enablement (and, for client credentials, under Policies as well)",
        )

    if "authentication failure" in text and facts.auth_method in (
        "jwt_bearer",
        "client_credentials",
        "oauth",
    ):
        return fail(
            AuthenticationError,
            f"{user} is frozen or locked out. Unfreeze or unlock the user in Setup > Users > (the user)",
        )
    if code == "INVALID_LOGIN" or "authentication failure" in text:
        if facts.has_security_token is False:
            token_advice = (
                "The connection has no 'security_token' extra: unless the user's profile trusts this "
                "machine's IP address, Salesforce needs the user's security token (Settings > Reset My "
                "Security Token emails a new one) there"
            )
        else:
            token_advice = (
                "Check the connection's password and 'security_token' extra (Settings > Reset My "
                "Security Token emails a new token; resetting the password also changes it)"
            )
        return fail(
            AuthenticationError,
            f"{where} refused {user}: the password or security token is wrong, or the user is "
            f"locked out. {token_advice}. A locked-out user is unlocked in Setup > Users > (the user)",
        )
    if code == "INVALID_OPERATION" and "login()" in description:
        return fail(
            ConfigurationError,
            "this org has SOAP API login() turned off, which username and password sign-in needs (it "
            "is off by default in orgs created from Winter '26 and retired in Summer '27). Switch the "
            "connection's auth_method to jwt_bearer or client_credentials",
        )
    if code == "LOGIN_MUST_USE_SECURITY_TOKEN":
        return fail(
            AuthenticationError,
            f"{user} must sign in with a security token from this IP address. Put the user's security "
            "token in the connection's 'security_token' extra (Settings > Reset My Security Token "
            "emails a new one), or add this machine's IP range to the profile's Login IP Ranges",
        )
    if code in ("PASSWORD_LOCKOUT", "LOGIN_ERROR_LOGIN_LOCKED") or "locked" in text:
        return fail(
            AuthenticationError,
            f"{user} is locked out after too many failed sign-ins. Unlock the user in Setup > Users "
            "(or wait for the lockout period to end), then fix the password before the next run",
        )
    if code == "INVALID_OPERATION_WITH_EXPIRED_PASSWORD":
        return fail(
            AuthenticationError,
            f"the password of {user} has expired. Sign in once in a browser to set a new one and "
            "update the connection, or give the integration user a profile whose password never expires",
        )
    if code in ("API_DISABLED_FOR_ORG", "API_CURRENTLY_DISABLED", "FUNCTIONALITY_NOT_ENABLED"):
        return rest_failure(code, description, context=context)
    if code == "REQUEST_LIMIT_EXCEEDED":
        return fail(RetryableError, f"{where} refused more sign-ins for now: the login rate limit is reached")
    return fail(AuthenticationError, f"{where} refused to sign {user} in")


def network_failure(
    exc: requests.exceptions.RequestException, url: str, *, context: str = ""
) -> SalesforceAccessError:
    """Return the pipeline error for a request that got no HTTP answer."""
    root = _root_cause(exc)
    reason = _scrub(str(root))
    if isinstance(exc, requests.exceptions.SSLError):
        return ConfigurationError(
            _join(
                context,
                f"the TLS certificate of {url} could not be verified ({reason}). If the org is "
                "reached through a proxy or is a local test org with its own certificate authority, "
                "set the connection's 'ca_bundle' extra to that authority's PEM file; TLS checks "
                "cannot be turned off.",
            ),
            error_code="TLS_VERIFY_FAILED",
        )
    if isinstance(root, NameResolutionError):
        return ConfigurationError(
            _join(
                context,
                f"the host of {url} does not exist ({reason}). Check the connection's 'domain' extra.",
            ),
            error_code="HOST_NOT_FOUND",
        )
    return RetryableError(
        _join(
            context,
            f"could not reach {url} ({reason}). Salesforce or the network may be down for a moment; if it "
            "persists, check the connection's 'domain' extra.",
        ),
        error_code="CONNECTION_FAILED",
    )


def _from_rest(exc: SalesforceError, context: str) -> SalesforceAccessError:
    """Unpack the REST error list simple-salesforce keeps in ``content``."""
    code, message = "", ""
    content = exc.content
    if isinstance(content, list) and content and isinstance(content[0], dict):
        code = str(content[0].get("errorCode") or content[0].get("statusCode") or "")
        message = str(content[0].get("message") or "")
        fields = content[0].get("fields")
        if fields:
            message = f"{message} (fields: {', '.join(map(str, fields))})"
    elif isinstance(content, dict):
        code = str(content.get("errorCode") or content.get("error") or "")
        message = str(content.get("message") or content.get("error_description") or "")
    elif isinstance(content, str | bytes) and content:
        message = f"HTTP {exc.status} with a non-JSON body"
    if not code and isinstance(exc, SalesforceExpiredSession):
        code = "INVALID_SESSION_ID"
    if not code and isinstance(exc, SalesforceResourceNotFound):
        code = "NOT_FOUND"
    version = re.search(r"/services/data/v([0-9.]+)/", str(getattr(exc, "url", "") or ""))
    if code == "NOT_FOUND" and exc.resource_name == "query" and version:
        # A query endpoint that does not exist means the API version is not served by this org.
        return ConfigurationError(
            _join(
                context,
                f"this org does not serve REST API version {version.group(1)} (Salesforce answered "
                f'"{_first_line(message).rstrip(".")}"). Set the Salesforce connection\'s `version` extra to '
                "a version the org serves, for example 62.0.",
            ),
            error_code=code,
        )
    return rest_failure(code, message, status=exc.status, resource=exc.resource_name or "", context=context)


def _root_cause(exc: BaseException) -> BaseException:
    """Return the innermost reason of a requests/urllib3 error: they nest it in ``args`` and ``reason``."""
    while True:
        inner = getattr(exc, "reason", None)
        if not isinstance(inner, BaseException) and exc.args and isinstance(exc.args[0], BaseException):
            inner = exc.args[0]
        if not isinstance(inner, BaseException):
            return exc
        exc = inner


def _first_line(text: str) -> str:
    """Keep the part of a message that says what is wrong: query errors put the query and a caret first."""
    lines = [line.strip() for line in _scrub(text).splitlines() if line.strip()]
    return _BOILERPLATE.sub("", lines[-1]) if lines else ""


def _scrub(text: str) -> str:
    return _ACCESS_TOKEN.sub("00D…!***", text)


def _join(context: str, message: str) -> str:
    """Start the message with what was being done, when the caller said."""
    return f"{context}: {message}" if context else message[:1].upper() + message[1:]
