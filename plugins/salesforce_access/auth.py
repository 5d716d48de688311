"""Sign the integration user in to Salesforce, by each method the connector offers.

Four methods, as on the connector's setup page: ``jwt_bearer`` and ``client_credentials`` (External
Client Apps, the ones to choose), ``oauth`` (a refresh token from the web-server flow, see
``salesforce_access.oauth_setup``) and ``password`` (SOAP login with a security token; deprecated).
Each flow is done here with ``requests`` rather than simple-salesforce, which builds login URLs only
for ``*.salesforce.com``, has no refresh-token flow and hides Salesforce's reason for a refusal. The
API base always comes from the sign-in answer, never from the configured domain.
"""

from __future__ import annotations

import logging
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

import requests

from salesforce_access.domains import SalesforceHosts, normalize_domain
from salesforce_access.errors import (
    AuthenticationError,
    ConfigurationError,
    RetryableError,
    SalesforceAccessError,
)
from salesforce_access.salesforce_errors import SignInFacts, network_failure, sign_in_failure

log = logging.getLogger(__name__)

AUTH_METHODS = ("oauth", "jwt_bearer", "client_credentials", "password")
DEFAULT_API_VERSION = "62.0"
# SOAP login() is served up to API v64.0 only; the REST version used afterwards may be newer.
NEWEST_SOAP_LOGIN_VERSION = 64.0
JWT_LIFETIME_SECONDS = 180
SIGN_IN_TIMEOUT = (10, 60)

# Spellings of the ConductorOne connector and of the provider, so a connection copied from either works.
_METHOD_ALIASES = {
    "jwt": "jwt_bearer",
    "jwt-bearer": "jwt_bearer",
    "client-credentials": "client_credentials",
    "username_password": "password",
    "username-password": "password",
    "oauth2": "oauth",
    "refresh_token": "oauth",
}
_REQUIRED = {
    "jwt_bearer": ("consumer_key", "private_key", "jwt_subject"),
    "client_credentials": ("consumer_key", "consumer_secret"),
    "oauth": ("consumer_key", "refresh_token"),
    "password": ("username", "password"),
}
# How to supply each field, for the message naming a missing one.
_FIELD_HINTS = {
    "consumer_key": "the 'consumer_key' extra (the External Client App's Consumer Key)",
    "consumer_secret": "the 'consumer_secret' extra (the External Client App's Consumer Secret)",
    "private_key": "the 'private_key' extra (PEM text) or 'private_key_file_path' (a PEM file)",
    "jwt_subject": "the 'jwt_subject' extra or the connection's login (the integration user's username)",
    "refresh_token": "the 'refresh_token' extra (get one with 'python -m salesforce_access.oauth_setup')",
    "username": "the connection's login (the integration user's username)",
    "password": "the connection's password",
}


@dataclass(frozen=True)
class SalesforceCredentials:
    """Everything needed to sign in to one org; validated for its method on creation.

    Secrets are kept out of ``repr`` so a logged or printed object shows none.
    """

    conn_id: str
    auth_method: str
    hosts: SalesforceHosts
    api_version: str = DEFAULT_API_VERSION
    ca_bundle: str | None = None
    username: str | None = None
    consumer_key: str | None = None
    jwt_subject: str | None = None
    jwt_audience: str | None = None
    password: str | None = field(default=None, repr=False)
    security_token: str | None = field(default=None, repr=False)
    consumer_secret: str | None = field(default=None, repr=False)
    private_key: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.auth_method not in AUTH_METHODS:
            raise ConfigurationError(
                f"Salesforce connection {self.conn_id!r} has auth_method {self.auth_method!r}; use one "
                f"of {', '.join(AUTH_METHODS)} in the 'auth_method' extra."
            )
        missing = [name for name in _REQUIRED[self.auth_method] if not getattr(self, name)]
        if missing:
            fixes = " ".join(f"Set {_FIELD_HINTS[name]}." for name in missing)
            raise ConfigurationError(
                f"Salesforce connection {self.conn_id!r} uses auth_method {self.auth_method!r} but lacks "
                f"{', '.join(missing)}. {fixes}"
            )
        if self.auth_method == "client_credentials" and self.hosts.my_domain_url is None:
            raise ConfigurationError(
                f"Salesforce connection {self.conn_id!r} uses auth_method 'client_credentials' with "
                f"domain {self.hosts.login_url!r}, but Salesforce offers that flow only on the org's own "
                "My Domain. Set the 'domain' extra to the My Domain, for example "
                "'https://acme.my.salesforce.com' (Setup > My Domain)."
            )
        if self.ca_bundle and not Path(self.ca_bundle).is_file():
            raise ConfigurationError(
                f"Salesforce connection {self.conn_id!r} has ca_bundle {self.ca_bundle!r}, which is not a "
                "file. Point the 'ca_bundle' extra at the PEM file of the certificate authority to trust."
            )

    @property
    def facts(self) -> SignInFacts:
        """Return what error messages may say about this sign-in (nothing secret)."""
        return SignInFacts(
            auth_method=self.auth_method,
            login_url=self.hosts.login_url,
            username=self.jwt_subject if self.auth_method == "jwt_bearer" else self.username,
            consumer_key=self.consumer_key,
            audience=self.jwt_audience or self.hosts.jwt_audience,
            conn_id=self.conn_id,
            has_security_token=bool(self.security_token) if self.auth_method == "password" else None,
        )


@dataclass(frozen=True)
class SignIn:
    """A signed-in session: where the org's API is, the token for it and who it acts as."""

    instance_url: str
    access_token: str = field(repr=False)
    org_id: str | None
    user_id: str | None
    auth_method: str
    # Set only when Salesforce rotated the refresh token: the old one no longer works.
    new_refresh_token: str | None = field(default=None, repr=False)


class _TrustedSession(requests.Session):
    """A session whose CA bundle wins over REQUESTS_CA_BUNDLE and whose TLS check cannot be turned off.

    requests lets those environment variables replace a session's own CA bundle, which would silently
    ignore a connection's ``ca_bundle`` on machines that set them. Without a ``ca_bundle`` the
    environment still decides, so a corporate proxy's CA keeps working.
    """

    def merge_environment_settings(self, url, proxies, stream, verify, cert):  # type: ignore[no-untyped-def]
        settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if self.verify is not True or settings["verify"] is False:
            settings["verify"] = self.verify
        return settings


def new_http_session(credentials: SalesforceCredentials) -> requests.Session:
    """Return an HTTP session that verifies TLS with the connection's CA bundle, or the system's."""
    return http_session(credentials.ca_bundle)


def http_session(ca_bundle: str | None) -> requests.Session:
    """Return an HTTP session verifying TLS with this CA bundle, or the system's when None."""
    session = _TrustedSession()
    session.verify = ca_bundle or True
    session.headers["User-Agent"] = "salesforce-access-pipeline"
    return session


def credentials_from_connection(conn_id: str = "salesforce_default") -> SalesforceCredentials:
    """Read and validate the sign-in settings of an Airflow connection of type ``salesforce``.

    Raises:
        ConfigurationError: the connection is missing, of another type, or lacks a field its method
            needs; the message names the field and how to fill it.
    """
    conn, extras = read_connection(conn_id)
    return credentials_from_fields(
        conn_id,
        login=conn.login or None,
        password=conn.password or None,
        host=conn.host or None,
        extras=extras,
    )


def read_connection(conn_id: str) -> tuple[Any, dict[str, Any]]:
    """Return the Airflow connection and its extras, blank ones dropped (as the provider's hook does)."""
    conn = _lookup_connection(conn_id)
    if conn is None:
        raise ConfigurationError(
            f"Airflow connection {conn_id!r} does not exist. Create it with conn type 'salesforce' "
            f"(Admin > Connections, 'airflow connections add', or an AIRFLOW_CONN_{conn_id.upper()} "
            "environment variable)."
        )
    if conn.conn_type != "salesforce":
        raise ConfigurationError(
            f"Airflow connection {conn_id!r} has conn type {conn.conn_type!r}; the Salesforce sign-in "
            "reads connections of type 'salesforce'. Recreate it with that type."
        )
    return conn, _extras(conn.extra_dejson)


def _lookup_connection(conn_id: str) -> Any | None:
    """Find a connection through the Task SDK, or in the metadata database when run as a command."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return Connection.get(conn_id)
    except AirflowNotFoundException:
        pass

    # Outside a task (the preflight and oauth_setup commands) the Task SDK sees environment variables
    # and secrets backends only; connections saved in the UI live in the metadata database.
    from airflow.exceptions import AirflowException
    from airflow.models.connection import Connection as StoredConnection
    from sqlalchemy.exc import SQLAlchemyError

    try:
        return StoredConnection.get_connection_from_secrets(conn_id)
    except (AirflowException, SQLAlchemyError, RuntimeError):
        # Not there, no database here, or inside a task, where the ORM is off limits.
        return None


def credentials_from_fields(
    conn_id: str, *, login: str | None, password: str | None, host: str | None, extras: dict[str, Any]
) -> SalesforceCredentials:
    """Build credentials from a connection's fields; split out so it needs no Airflow to test."""
    private_key = extras.get("private_key")
    if private_key:
        # Single-line secret stores often keep a PEM with its newlines written as "\n".
        private_key = private_key.replace("\\n", "\n")
    elif extras.get("private_key_file_path"):
        private_key = _read_key_file(conn_id, extras["private_key_file_path"])

    auth_method = _auth_method(conn_id, extras, login=login, password=password, has_key=bool(private_key))
    hosts, audience = hosts_from_fields(conn_id, extras, host)
    return SalesforceCredentials(
        conn_id=conn_id,
        auth_method=auth_method,
        hosts=hosts,
        api_version=_api_version(conn_id, extras.get("version")),
        ca_bundle=extras.get("ca_bundle"),
        username=login,
        consumer_key=extras.get("consumer_key"),
        jwt_subject=extras.get("jwt_subject") or login,
        jwt_audience=audience,
        password=password,
        security_token=extras.get("security_token"),
        consumer_secret=extras.get("consumer_secret"),
        private_key=private_key,
        refresh_token=extras.get("refresh_token"),
    )


def sign_in(credentials: SalesforceCredentials, session: requests.Session | None = None) -> SignIn:
    """Sign in with the connection's method and return where the API is and the token for it.

    Raises:
        AuthenticationError: Salesforce refused the credentials (the message says which and why).
        ConfigurationError: the domain, key or TLS settings are wrong.
        MissingPermissionError, FeatureNotEnabledError: the user or the org has no API access.
        RetryableError: Salesforce or the network failed for a moment.
    """
    session = session or new_http_session(credentials)
    flows = {
        "jwt_bearer": _jwt_bearer,
        "client_credentials": _client_credentials,
        "oauth": _refresh_token,
        "password": _soap_login,
    }
    signin = flows[credentials.auth_method](credentials, session)
    log.debug(
        "Connection %s signed in to org %s as user %s with %s; API at %s",
        credentials.conn_id,
        signin.org_id,
        signin.user_id,
        signin.auth_method,
        signin.instance_url,
    )
    return signin


def _jwt_bearer(credentials: SalesforceCredentials, session: requests.Session) -> SignIn:
    """Exchange an RS256-signed assertion for a token (RFC 7523); no secret travels."""
    import jwt

    audience = credentials.jwt_audience or credentials.hosts.jwt_audience
    claims = {
        "iss": credentials.consumer_key,
        "sub": credentials.jwt_subject,
        "aud": audience,
        "exp": int(time.time()) + JWT_LIFETIME_SECONDS,
    }
    try:
        assertion = jwt.encode(claims, credentials.private_key, algorithm="RS256")
    except (ValueError, TypeError, jwt.exceptions.PyJWTError) as exc:
        raise ConfigurationError(
            f"Salesforce connection {credentials.conn_id!r}: the private key is not an RSA private key "
            f"in PEM form ({type(exc).__name__}). Set 'private_key' or 'private_key_file_path' to the "
            "key whose certificate is uploaded to the External Client App (it starts with "
            "'-----BEGIN PRIVATE KEY-----' or '-----BEGIN RSA PRIVATE KEY-----')."
        ) from exc

    form = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion}
    return _token_sign_in(credentials, session, credentials.hosts.token_url, form)


def _client_credentials(credentials: SalesforceCredentials, session: requests.Session) -> SignIn:
    """Trade the app's key and secret for a token acting as the app's Run As user (My Domain only)."""
    form = {
        "grant_type": "client_credentials",
        "client_id": credentials.consumer_key,
        "client_secret": credentials.consumer_secret,
    }
    token_url = f"{credentials.hosts.my_domain_url}/services/oauth2/token"
    return _token_sign_in(credentials, session, token_url, form)


def _refresh_token(credentials: SalesforceCredentials, session: requests.Session) -> SignIn:
    """Trade the stored refresh token for a new access token."""
    form = {
        "grant_type": "refresh_token",
        "client_id": credentials.consumer_key,
        "refresh_token": credentials.refresh_token,
    }
    # Apps may waive the secret for the refresh flow; send it only when the connection has one.
    if credentials.consumer_secret:
        form["client_secret"] = credentials.consumer_secret
    signin = _token_sign_in(credentials, session, credentials.hosts.token_url, form)

    if signin.new_refresh_token and signin.new_refresh_token != credentials.refresh_token:
        log.warning(
            "Salesforce rotated the refresh token of connection %s, so the stored one stops working; "
            "save the new one in the connection (the app's refresh token policy decides this)",
            credentials.conn_id,
        )
    return signin


def _soap_login(credentials: SalesforceCredentials, session: requests.Session) -> SignIn:
    """Sign in with username, password and security token through the SOAP API's login() call."""
    log.warning(
        "Connection %s signs in with username and password (SOAP login), which Salesforce is retiring: "
        "it is off by default in orgs created from Winter '26 and removed in Summer '27. Switch the "
        "connection to auth_method jwt_bearer or client_credentials.",
        credentials.conn_id,
    )
    version = min(float(credentials.api_version), NEWEST_SOAP_LOGIN_VERSION)
    url = f"{credentials.hosts.login_url}/services/Soap/u/{version:.1f}"
    secret = (credentials.password or "") + (credentials.security_token or "")
    envelope = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:urn="urn:partner.soap.sforce.com">'
        "<soapenv:Header><urn:CallOptions><urn:client>salesforce-access-pipeline</urn:client>"
        "</urn:CallOptions></soapenv:Header>"
        f"<soapenv:Body><urn:login><urn:username>{escape(credentials.username or '')}</urn:username>"
        f"<urn:password>{escape(secret)}</urn:password></urn:login></soapenv:Body></soapenv:Envelope>"
    )
    headers = {"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": "login"}
    response = _post(credentials.facts, session, url, data=envelope.encode("utf-8"), headers=headers)

    root = _parse_xml(response)
    if response.status_code != 200 or root is None:
        code = _xml_text(root, "exceptionCode") or _xml_text(root, "faultcode") or ""
        message = _xml_text(root, "exceptionMessage") or _xml_text(root, "faultstring") or ""
        if root is None or not (code or message):
            raise _unexpected_answer(credentials.facts, url, response)
        raise sign_in_failure(
            code.split(":")[-1], message, facts=credentials.facts, context=_context(credentials.facts)
        )

    if _xml_text(root, "passwordExpired") == "true":
        raise sign_in_failure(
            "INVALID_OPERATION_WITH_EXPIRED_PASSWORD",
            "The user's password has expired",
            facts=credentials.facts,
            context=_context(credentials.facts),
        )
    session_id, server_url = _xml_text(root, "sessionId"), _xml_text(root, "serverUrl")
    if not session_id or not server_url:
        raise _unexpected_answer(credentials.facts, url, response)
    return SignIn(
        instance_url=api_origin(credentials.facts, server_url),
        access_token=session_id,
        org_id=_xml_text(root, "organizationId"),
        user_id=_xml_text(root, "userId"),
        auth_method=credentials.auth_method,
    )


def post_token_grant(
    session: requests.Session, url: str, form: dict[str, Any], facts: SignInFacts
) -> dict[str, Any]:
    """POST a grant to an OAuth token endpoint; return Salesforce's answer or raise its translated refusal."""
    response = _post(facts, session, url, data=form, headers={"Accept": "application/json"})
    try:
        body = response.json()
    except ValueError:
        body = None

    if response.status_code != 200:
        if isinstance(body, dict) and body.get("error"):
            raise sign_in_failure(
                str(body["error"]),
                str(body.get("error_description") or ""),
                facts=facts,
                context=_context(facts),
            )
        raise _unexpected_answer(facts, url, response)
    if not isinstance(body, dict) or not body.get("access_token") or not body.get("instance_url"):
        raise _unexpected_answer(facts, url, response)
    return body


def _token_sign_in(
    credentials: SalesforceCredentials, session: requests.Session, url: str, form: dict[str, Any]
) -> SignIn:
    """Run a token grant and read the answer into a SignIn."""
    facts = credentials.facts
    body = post_token_grant(session, url, form, facts)

    # The identity URL ends in /id/<org id>/<user id>.
    identity = urlsplit(str(body.get("id") or "")).path.rstrip("/").split("/")
    org_id, user_id = (
        (identity[-2], identity[-1]) if len(identity) >= 3 and identity[-3] == "id" else (None, None)
    )
    return SignIn(
        instance_url=api_origin(facts, str(body["instance_url"])),
        access_token=str(body["access_token"]),
        org_id=org_id,
        user_id=user_id,
        auth_method=credentials.auth_method,
        new_refresh_token=body.get("refresh_token"),
    )


def _post(facts: SignInFacts, session: requests.Session, url: str, **kwargs: Any) -> requests.Response:
    """POST without following redirects: a sign-in redirected elsewhere loses its body on the way."""
    try:
        response = session.post(url, timeout=SIGN_IN_TIMEOUT, allow_redirects=False, **kwargs)
    except requests.exceptions.RequestException as exc:
        raise network_failure(exc, url, context=_context(facts)) from None

    if response.is_redirect:
        target = urlsplit(response.headers.get("Location", ""))
        raise ConfigurationError(
            f"{_context(facts)}: {url} redirects sign-ins to {target.scheme}://{target.netloc}, so "
            f"the domain {facts.login_url!r} is not where this org signs in. Set the 'domain' extra to "
            "the org's My Domain (Setup > My Domain).",
            error_code=f"HTTP_{response.status_code}",
        )
    return response


def _unexpected_answer(facts: SignInFacts, url: str, response: requests.Response) -> SalesforceAccessError:
    """Explain an answer that is not Salesforce's: usually the domain points at another server."""
    if response.status_code >= 500:
        return RetryableError(
            f"{_context(facts)}: {url} failed with HTTP {response.status_code}; Salesforce may be "
            "unavailable for a moment.",
            error_code=f"HTTP_{response.status_code}",
        )
    return ConfigurationError(
        f"{_context(facts)}: {url} answered HTTP {response.status_code} with "
        f"{response.headers.get('Content-Type') or 'no content type'}, which is not a Salesforce sign-in "
        f"answer. Check that the domain {facts.login_url!r} is the org's My Domain or a Salesforce "
        "login host.",
        error_code=f"HTTP_{response.status_code}",
    )


def api_origin(facts: SignInFacts, url: str) -> str:
    """Return the scheme and host of the API base Salesforce named; refuse one without TLS."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc:
        raise AuthenticationError(
            f"{_context(facts)}: Salesforce named {parts.scheme}://{parts.netloc} as the API base, which "
            "is not an https address; the pipeline only talks to Salesforce over TLS.",
            error_code="INSECURE_INSTANCE_URL",
        )
    return f"https://{parts.netloc}"


def _context(facts: SignInFacts) -> str:
    """Say what was being done, so a refusal names the connection, the method and the host."""
    return f"Signing in to {facts.login_url} with {facts.auth_method} (connection {facts.conn_id!r})"


def _parse_xml(response: requests.Response) -> ElementTree.Element | None:
    try:
        return ElementTree.fromstring(response.content)
    except ElementTree.ParseError:
        return None


def _xml_text(root: ElementTree.Element | None, name: str) -> str | None:
    """Return the text of the first element with this local name, whatever its namespace prefix."""
    if root is None:
        return None
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1] == name:
            return (element.text or "").strip()
    return None


def _extras(raw: dict[str, Any]) -> dict[str, Any]:
    """Return the extras with blank values dropped and the provider's old prefixed keys read too."""
    extras: dict[str, Any] = {}
    for key, value in raw.items():
        name = key.removeprefix("extra__salesforce__")
        if isinstance(value, str):
            value = value.strip()
        if value not in (None, "") and name not in extras:
            extras[name] = value
    return extras


def _auth_method(
    conn_id: str, extras: dict[str, Any], *, login: str | None, password: str | None, has_key: bool
) -> str:
    """Return the configured method, or infer it from the fields present, as the provider's hook does."""
    configured = extras.get("auth_method")
    if configured:
        method = str(configured).strip().lower()
        return _METHOD_ALIASES.get(method, method)

    if has_key and extras.get("consumer_key"):
        method = "jwt_bearer"
    elif extras.get("refresh_token"):
        method = "oauth"
    elif extras.get("consumer_key") and extras.get("consumer_secret") and not password:
        method = "client_credentials"
    elif login and password:
        method = "password"
    else:
        raise ConfigurationError(
            f"Salesforce connection {conn_id!r} has no 'auth_method' extra and its fields fit no "
            f"method. Set 'auth_method' to one of {', '.join(AUTH_METHODS)} and fill that method's fields."
        )
    log.info("Salesforce connection %s has no auth_method extra; signing in with %s", conn_id, method)
    return method


def hosts_from_fields(
    conn_id: str, extras: dict[str, Any], host: str | None
) -> tuple[SalesforceHosts, str | None]:
    """Return the org's hosts and the JWT audience, from whichever address fields the connection fills.

    The provider keeps the My Domain in ``instance_url`` and ``login``/``test`` in ``domain`` (the JWT
    audience); ConductorOne keeps the My Domain in ``domain`` and the audience in ``login_url``. The
    most specific address found is where sign-in goes.
    """
    found: dict[str, SalesforceHosts] = {}
    for name, value in (
        ("domain", extras.get("domain")),
        ("instance_url", extras.get("instance_url")),
        ("host", host),
        ("login_url", extras.get("login_url")),
    ):
        if value:
            try:
                found[name] = normalize_domain(str(value))
            except ConfigurationError as exc:
                raise ConfigurationError(
                    f"Salesforce connection {conn_id!r}, field {name!r}: {exc.message}"
                ) from exc
    if not found:
        found["default"] = normalize_domain("login.salesforce.com")

    hosts = next((h for h in found.values() if h.my_domain_url), next(iter(found.values())))
    if "login_url" in found:
        return hosts, found["login_url"].jwt_audience
    generic = [h for h in found.values() if h.my_domain_url is None and not h.is_custom_host]
    return hosts, generic[0].jwt_audience if generic else None


def _api_version(conn_id: str, value: Any) -> str:
    text = str(value or DEFAULT_API_VERSION).strip().lower().removeprefix("v")
    try:
        number = float(text)
    except ValueError:
        number = 0.0
    if not 20.0 <= number < 1000 or text != f"{number:.1f}":
        raise ConfigurationError(
            f"Salesforce connection {conn_id!r} has version {value!r}; write the API version as "
            f"'NN.0', for example {DEFAULT_API_VERSION!r}."
        )
    return text


def _read_key_file(conn_id: str, path: str) -> str:
    try:
        return Path(path).expanduser().read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(
            f"Salesforce connection {conn_id!r} has private_key_file_path {path!r}, which cannot be read "
            f"({exc.strerror}). Point it at the PEM private key file, readable by the Airflow worker."
        ) from exc
