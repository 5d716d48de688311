"""Sign-in: the OAuth token endpoint (JWT bearer, client credentials, refresh token, password) and SOAP login.

Checks run in the order the field guide gives (§1.2), so the first problem a real org would report is
the one reported here. Token-endpoint errors are always JSON objects and SOAP faults always carry the
`sf:`-prefixed detail elements, because simple-salesforce crashes on anything else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass
from xml.etree import ElementTree
from xml.sax.saxutils import escape

import jwt
from cryptography import x509

from local_salesforce.errors import OAuthError, SoapFault
from local_salesforce.store import Store

logger = logging.getLogger(__name__)

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
LOGIN_AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")
GENERIC_LOGIN_HOSTS = ("login.salesforce.com", "test.salesforce.com")
SOAP_MAX_VERSION = 64.0
CODE_SECONDS = 15 * 60
_TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._"


@dataclass
class Session:
    token: str
    user_id: str
    expires_at: float
    app: str | None
    revoked: bool = False

    def valid(self, now: float) -> bool:
        return not self.revoked and now < self.expires_at


class Sessions:
    """Issued access tokens; lookups answer None for unknown, expired and revoked ones alike."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}

    def create(self, org_id: str, user_id: str, seconds: float, app: str | None) -> Session:
        body = "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(96))
        session = Session(f"{org_id[:15]}!AQ{body}", user_id, time.time() + seconds, app)
        with self._lock:
            self._sessions[session.token] = session
        return session

    def lookup(self, token: str) -> Session | None:
        session = self._sessions.get(token)
        return session if session is not None and session.valid(time.time()) else None

    def expire_all(self) -> int:
        with self._lock:
            live = [s for s in self._sessions.values() if not s.revoked]
            for session in live:
                session.revoked = True
        return len(live)

    def clear(self) -> None:
        with self._lock:
            self._sessions.clear()


class Authenticator:
    """Answers the sign-in endpoints against the current store; `base_url` is this server's https URL."""

    def __init__(self, store_ref, sessions: Sessions, base_url: str) -> None:
        self._store_ref = store_ref  # callable returning the current Store (fixtures can be reloaded)
        self.sessions = sessions
        self.base_url = base_url
        self._codes: dict[str, dict] = {}  # authorization codes of the web-server flow

    @property
    def store(self) -> Store:
        return self._store_ref()

    # ---- OAuth ---------------------------------------------------------------------------------

    def token(self, body: bytes, authorization: str | None, original_host: str = "") -> dict:
        try:
            form = {
                k: v[0]
                for k, v in urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True).items()
            }
        except UnicodeDecodeError as exc:
            raise OAuthError("invalid_request", "invalid request body") from exc
        grant = form.get("grant_type")
        if not grant:
            raise OAuthError("unsupported_grant_type", "grant type not supported")
        handlers = {
            JWT_GRANT: self._jwt_bearer,
            "client_credentials": lambda f: self._client_credentials(f, authorization, original_host),
            "refresh_token": self._refresh_token,
            "password": self._password,
            "authorization_code": self._authorization_code,
        }
        handler = handlers.get(grant)
        if handler is None:
            raise OAuthError("unsupported_grant_type", "grant type not supported")
        with self.store.lock:
            return handler(form)

    def _app_by_key(self, consumer_key: str | None) -> dict:
        for app in self.store.org["oauth_apps"]:
            if consumer_key and app.get("consumer_key") == consumer_key:
                return app
        raise OAuthError("invalid_client_id", "client identifier invalid")

    def _jwt_bearer(self, form: dict) -> dict:
        assertion = form.get("assertion")
        if not assertion:
            raise OAuthError("invalid_request", "missing required parameter: assertion")
        try:
            claims = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise OAuthError("invalid_grant", "invalid assertion") from exc
        app = self._app_by_key(claims.get("iss"))
        self._verify_signature(assertion, app)
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if not any(a in (*LOGIN_AUDIENCES, self.base_url) for a in audiences):
            raise OAuthError("invalid_grant", "audience is invalid")
        try:
            expires = float(claims.get("exp"))
        except (TypeError, ValueError) as exc:
            raise OAuthError("invalid_grant", "invalid assertion") from exc
        if expires <= time.time():
            raise OAuthError("invalid_grant", "expired authorization code")
        user = self._usable_user(str(claims.get("sub") or ""), unknown="user hasn't approved this consumer")
        self._check_approved(app, user)
        return self._grant(user, app, signed=False)

    def _verify_signature(self, assertion: str, app: dict) -> None:
        try:
            certificate = x509.load_pem_x509_certificate(str(app.get("certificate") or "").encode())
            jwt.decode(
                assertion,
                certificate.public_key(),
                algorithms=["RS256"],
                options={
                    "verify_exp": False,
                    "verify_aud": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "verify_iss": False,
                    "verify_sub": False,
                    "verify_jti": False,
                },
            )
        except (ValueError, jwt.PyJWTError) as exc:
            raise OAuthError("invalid_grant", "invalid assertion") from exc

    def _client_credentials(self, form: dict, authorization: str | None, original_host: str) -> dict:
        if original_host.split(":")[0].lower() in GENERIC_LOGIN_HOSTS:
            # The flow needs the org's My Domain; the shared login hosts refuse it.
            raise OAuthError("invalid_grant", "request not supported on this domain")
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if authorization and authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:].strip()).decode("utf-8")
            except (ValueError, UnicodeDecodeError) as exc:
                raise OAuthError("invalid_client", "invalid client credentials") from exc
            client_id, _, client_secret = decoded.partition(":")
            client_id, client_secret = urllib.parse.unquote(client_id), urllib.parse.unquote(client_secret)
        app = self._app_by_key(client_id)
        self._check_secret(app, client_secret)
        run_as = app.get("client_credentials_user")
        if not run_as:
            raise OAuthError("invalid_grant", "no client credentials user enabled")
        user = self._usable_user(run_as, unknown="no client credentials user enabled")
        return self._grant(user, app, signed=True)

    def _check_secret(self, app: dict, secret: str | None) -> None:
        expected = str(app.get("consumer_secret") or "")
        if not secret or not hmac.compare_digest(secret.encode(), expected.encode()):
            raise OAuthError("invalid_client", "invalid client credentials")

    def _refresh_token(self, form: dict) -> dict:
        app = self._app_by_key(form.get("client_id"))
        if form.get("client_secret") is not None:
            self._check_secret(app, form.get("client_secret"))
        token = form.get("refresh_token")
        if not token:
            raise OAuthError("invalid_request", "missing required parameter: refresh_token")
        entry = next((t for t in app.get("refresh_tokens") or [] if t.get("token") == token), None)
        if entry is None or entry.get("revoked"):
            raise OAuthError("invalid_grant", "expired access/refresh token")
        user = self._usable_user(str(entry.get("username") or ""), unknown="expired access/refresh token")
        self._check_approved(app, user)
        return self._grant(user, app, signed=True)

    # ---- web-server flow ------------------------------------------------------------------------

    def forget_codes(self) -> None:
        self._codes.clear()

    def authorize(self, params: dict[str, str]) -> tuple[int, str]:
        """GET /services/oauth2/authorize, with the local org standing in for the user clicking Allow.

        Returns (status, Location or HTML page). Salesforce only redirects errors back when it trusts
        the client and its redirect_uri; anything else gets an error page.
        """
        with self.store.lock:
            try:
                app = self._app_by_key(params.get("client_id"))
            except OAuthError:
                return 400, _error_page("OAUTH_EC_APP_NOT_FOUND", "client identifier invalid")
            redirect_uri = params.get("redirect_uri") or ""
            allowed = app.get("callback_urls")
            if not redirect_uri or (allowed is not None and redirect_uri not in allowed):
                return 400, _error_page("redirect_uri_mismatch", "redirect_uri must match configuration")
            state = {"state": params["state"]} if "state" in params else {}
            if params.get("response_type") != "code":
                return 302, _with_query(
                    redirect_uri,
                    {
                        "error": "unsupported_response_type",
                        "error_description": "response type not supported",
                        **state,
                    },
                )
            username = app.get("authorize_user") or next(iter(app.get("approved_usernames") or []), None)
            user = self.store.user_by_username(username) if username else None
            if user is None or not user.get("IsActive"):
                return 302, _with_query(
                    redirect_uri,
                    {"error": "access_denied", "error_description": "end-user denied authorization", **state},
                )
            code = "aPrx" + "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(80))
            self._codes[code] = {
                "client_id": app["consumer_key"],
                "redirect_uri": redirect_uri,
                "username": user["Username"],
                "challenge": params.get("code_challenge"),
                "expires": time.time() + CODE_SECONDS,
            }
            return 302, _with_query(redirect_uri, {"code": code, **state})

    def _authorization_code(self, form: dict) -> dict:
        app = self._app_by_key(form.get("client_id"))
        if form.get("client_secret") is not None or app.get("consumer_secret"):
            self._check_secret(app, form.get("client_secret"))
        grant = self._codes.pop(form.get("code") or "", None)  # a code works once
        if grant is None or grant["expires"] < time.time() or grant["client_id"] != app["consumer_key"]:
            raise OAuthError("invalid_grant", "expired authorization code")
        if form.get("redirect_uri") != grant["redirect_uri"]:
            raise OAuthError("invalid_grant", "redirect_uri must match configuration")
        if grant["challenge"]:
            verifier = (form.get("code_verifier") or "").encode()
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=").decode()
            if not hmac.compare_digest(digest, grant["challenge"]):
                raise OAuthError("invalid_grant", "invalid code verifier")
        user = self._usable_user(grant["username"], unknown="expired authorization code")
        response = self._grant(user, app, signed=True)
        refresh = "5Aep861" + "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(80))
        app.setdefault("refresh_tokens", []).append({"token": refresh, "username": user["Username"]})
        response["refresh_token"] = refresh
        response["scope"] = "api refresh_token"
        return response

    def _password(self, form: dict) -> dict:
        app = self._app_by_key(form.get("client_id"))
        self._check_secret(app, form.get("client_secret"))
        username, password = form.get("username") or "", form.get("password") or ""
        if not self._password_ok(username, password):
            raise OAuthError("invalid_grant", "authentication failure")
        user = self._usable_user(username, unknown="authentication failure")
        return self._grant(user, app, signed=True)

    def _usable_user(self, username: str, unknown: str) -> dict:
        """The active, unfrozen, unlocked user with this username; else the flow's error."""
        user = self.store.user_by_username(username)
        if user is None:
            raise OAuthError("invalid_grant", unknown)
        if not user.get("IsActive"):
            raise OAuthError("invalid_grant", "inactive user")
        login = self._user_login(user["Id"])
        if login and (login.get("IsFrozen") or login.get("IsPasswordLocked")):
            raise OAuthError("invalid_grant", "authentication failure")
        return user

    def _user_login(self, user_id: str) -> dict | None:
        return next((r for r in self.store.tables["UserLogin"].values() if r.get("UserId") == user_id), None)

    def _check_approved(self, app: dict, user: dict) -> None:
        """Pre-authorised: listed by name, or (admin-approved apps) holding a permission set for the app."""
        approved = {u.lower() for u in app.get("approved_usernames") or []}
        if app.get("permitted_users", "all") == "all" and user["Username"].lower() in approved:
            return
        if user["Username"].lower() in approved:
            return
        if app.get("permitted_users") == "admin_approved" and self._granted_by_permission_set(app, user):
            return
        raise OAuthError("invalid_grant", "user hasn't approved this consumer")

    def _granted_by_permission_set(self, app: dict, user: dict) -> bool:
        store = self.store
        app_ids = {
            a["Id"] for a in store.tables["ConnectedApplication"].values() if a.get("Name") == app.get("name")
        }
        held = {
            store.tables["PermissionSetAssignment"][p]["PermissionSetId"]
            for p in store.psa_by_assignee.get(user["Id"], ())
        }
        return any(
            access.get("SetupEntityId") in app_ids and access.get("ParentId") in held
            for access in store.tables["SetupEntityAccess"].values()
        )

    def _grant(self, user: dict, app: dict, signed: bool) -> dict:
        store = self.store
        session = self.sessions.create(
            store.org_id, user["Id"], float(store.org["session_seconds"]), app.get("name")
        )
        identity = f"{self.base_url}/id/{store.org_id}/{user['Id']}"
        response = {
            "access_token": session.token,
            "instance_url": self.base_url,
            "id": identity,
            "token_type": "Bearer",
            "scope": "api",
        }
        if signed:
            issued_at = str(int(time.time() * 1000))
            digest = hmac.new(
                str(app.get("consumer_secret") or "").encode(),
                (identity + issued_at).encode(),
                hashlib.sha256,
            ).digest()
            response["issued_at"] = issued_at
            response["signature"] = base64.b64encode(digest).decode()
        logger.info("issued a session for %s via %s", user["Username"], app.get("name"))
        return response

    def _password_ok(self, username: str, password: str) -> bool:
        for credential in self.store.org["credentials"]:
            if str(credential.get("username", "")).lower() != username.lower():
                continue
            secret = str(credential.get("password") or "")
            token = str(credential.get("security_token") or "")
            if hmac.compare_digest(password.encode(), (secret + token).encode()):
                return True
        return False

    # ---- SOAP ----------------------------------------------------------------------------------

    def soap_login(self, version: str, body: bytes) -> str:
        store = self.store
        try:
            number = float(version)
        except ValueError as exc:
            raise SoapFault("UNSUPPORTED_API_VERSION", "Invalid Api version specified on URL") from exc
        if number < 20.0 or number > SOAP_MAX_VERSION:
            raise SoapFault("UNSUPPORTED_API_VERSION", "Invalid Api version specified on URL")
        if not store.org.get("soap_login_enabled", True):
            raise SoapFault("INVALID_OPERATION", "SOAP API login() is disabled by default in this org.")
        username, password = _soap_credentials(body)
        invalid = SoapFault(
            "INVALID_LOGIN", "Invalid username, password, security token; or user locked out."
        )
        with store.lock:
            if not self._password_ok(username, password):
                raise invalid
            try:
                user = self._usable_user(username, unknown="")
            except OAuthError as exc:
                raise invalid from exc
            if not store.org.get("api_enabled", True):
                raise SoapFault("API_DISABLED_FOR_ORG", "API is not enabled for this Organization or Partner")
            if "PermissionsApiEnabled" not in store.effective_permissions(
                user["Id"]
            ) and "PermissionsModifyAllData" not in store.effective_permissions(user["Id"]):
                raise SoapFault("API_CURRENTLY_DISABLED", "API is disabled for this User")
            session = self.sessions.create(
                store.org_id, user["Id"], float(store.org["session_seconds"]), None
            )
            return _soap_success(self.base_url, version, store, user, session)


def _with_query(url: str, params: dict[str, str]) -> str:
    return url + ("&" if "?" in url else "?") + urllib.parse.urlencode(params)


def _error_page(code: str, description: str) -> str:
    return (
        "<html><head><title>Error</title></head><body><h1>error="
        + escape(code)
        + "</h1><p>"
        + escape(description)
        + "</p></body></html>"
    )


def _soap_credentials(body: bytes) -> tuple[str, str]:
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as exc:
        raise SoapFault(
            "INVALID_LOGIN", "Invalid username, password, security token; or user locked out."
        ) from exc
    found: dict[str, str] = {}
    for element in root.iter():
        local = element.tag.rsplit("}", 1)[-1]
        if local in ("username", "password") and local not in found:
            found[local] = element.text or ""
    return found.get("username", ""), found.get("password", "")


def _soap_success(base_url: str, version: str, store: Store, user: dict, session: Session) -> str:
    org = store.tables["Organization"].get(store.org_id) or {}
    server_url = f"{base_url}/services/Soap/u/{version}/{store.org_id[:15]}"
    metadata_url = f"{base_url}/services/Soap/m/{version}/{store.org_id[:15]}"
    seconds = int(store.org["session_seconds"])
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns="urn:partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<soapenv:Body><loginResponse><result>"
        f"<metadataServerUrl>{escape(metadata_url)}</metadataServerUrl>"
        "<passwordExpired>false</passwordExpired>"
        f"<sandbox>{'true' if org.get('IsSandbox') else 'false'}</sandbox>"
        f"<serverUrl>{escape(server_url)}</serverUrl>"
        f"<sessionId>{escape(session.token)}</sessionId>"
        f"<userId>{user['Id']}</userId>"
        "<userInfo>"
        f"<organizationId>{store.org_id}</organizationId>"
        f"<organizationName>{escape(str(org.get('Name') or ''))}</organizationName>"
        f"<sessionSecondsValid>{seconds}</sessionSecondsValid>"
        f"<userEmail>{escape(str(user.get('Email') or ''))}</userEmail>"
        f"<userFullName>{escape(str(user.get('Name') or ''))}</userFullName>"
        f"<userId>{user['Id']}</userId>"
        f"<userName>{escape(user['Username'])}</userName>"
        f"<userTimeZone>{escape(str(user.get('TimeZoneSidKey') or ''))}</userTimeZone>"
        "</userInfo></result></loginResponse></soapenv:Body></soapenv:Envelope>"
    )


def soap_fault_body(fault: SoapFault) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:sf="urn:fault.partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<soapenv:Body><soapenv:Fault>"
        f"<faultcode>sf:{fault.code}</faultcode>"
        f"<faultstring>{fault.code}: {escape(fault.message)}</faultstring>"
        '<detail><sf:LoginFault xsi:type="sf:LoginFault">'
        f"<sf:exceptionCode>{fault.code}</sf:exceptionCode>"
        f"<sf:exceptionMessage>{escape(fault.message)}</sf:exceptionMessage>"
        "</sf:LoginFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )
