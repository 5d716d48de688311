"""Get a refresh token for the ``oauth`` method by walking an admin through the web-server flow once.

The admin opens the printed authorize URL, signs in as the integration user and allows the app;
Salesforce then redirects the browser to the callback URL with a one-time code. The admin pastes
that URL (or just the code) back, and the code is exchanged for a refresh token, which is printed
or stored in the Airflow connection. PKCE protects the code, a random ``state`` the redirect. No
secret is ever logged.

    python -m salesforce_access.oauth_setup --conn-id salesforce_default [--store]
"""

from __future__ import annotations

import argparse
import base64
import getpass
import hashlib
import json
import logging
import os
import secrets
import sys
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from salesforce_access import auth
from salesforce_access.domains import SalesforceHosts
from salesforce_access.errors import AuthenticationError, ConfigurationError, SalesforceAccessError
from salesforce_access.salesforce_errors import SignInFacts

log = logging.getLogger(__name__)

DEFAULT_CALLBACK_URL = "https://login.salesforce.com/services/oauth2/success"
# api: REST and SOAP calls; refresh_token: a token that outlives the session (offline access).
SCOPES = "api refresh_token"


@dataclass(frozen=True)
class PendingAuthorization:
    """One started web-server flow: what the authorize URL asked for and what proves it was us."""

    conn_id: str
    hosts: SalesforceHosts
    consumer_key: str
    callback_url: str
    authorize_url: str
    state: str
    code_verifier: str = field(repr=False)
    ca_bundle: str | None = None


@dataclass(frozen=True)
class Authorization:
    """What the code bought: the refresh token and the org and user it signs in as."""

    refresh_token: str = field(repr=False)
    instance_url: str
    org_id: str | None
    user_id: str | None


def start_authorization(
    conn_id: str,
    hosts: SalesforceHosts,
    consumer_key: str,
    callback_url: str = DEFAULT_CALLBACK_URL,
    ca_bundle: str | None = None,
) -> PendingAuthorization:
    """Return the authorize URL to open, with the state and PKCE verifier that go with it."""
    if not consumer_key:
        raise ConfigurationError(
            f"Salesforce connection {conn_id!r} has no 'consumer_key' extra, which the web-server flow "
            "needs. Copy the app's Consumer Key (Setup > External Client App Manager > (the app) > "
            "Settings > OAuth Settings) into it, or pass --consumer-key."
        )
    state = secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=")
    query = urlencode(
        {
            "response_type": "code",
            "client_id": consumer_key,
            "redirect_uri": callback_url,
            "scope": SCOPES,
            "state": state,
            "code_challenge": challenge.decode("ascii"),
            "code_challenge_method": "S256",
        }
    )
    return PendingAuthorization(
        conn_id=conn_id,
        hosts=hosts,
        consumer_key=consumer_key,
        callback_url=callback_url,
        authorize_url=f"{hosts.login_url}/services/oauth2/authorize?{query}",
        state=state,
        code_verifier=verifier,
        ca_bundle=ca_bundle,
    )


def code_from_redirect(pending: PendingAuthorization, pasted: str) -> str:
    """Return the authorization code from the pasted callback URL, or the pasted code itself.

    Raises:
        AuthenticationError: the redirect carries an error (the user denied access...) or a state
            that is not this run's, so it may come from someone else's request.
    """
    text = pasted.strip()
    if not text:
        raise ConfigurationError("Nothing was pasted. Paste the whole address the browser was sent to.")
    if "://" not in text and "?" not in text and "code=" not in text:
        return unquote(text)

    query = parse_qs(urlsplit(text).query or text.split("?", 1)[-1])
    if "error" in query:
        error = query["error"][0]
        description = query.get("error_description", [""])[0]
        raise AuthenticationError(
            f"Salesforce did not authorize the app for connection {pending.conn_id!r}: {error} "
            f"({description or 'no description'}). Sign in as the integration user and click Allow; "
            "if Salesforce shows an error page instead, check the app's callback URL and OAuth scopes "
            f"(it must allow {SCOPES!r}).",
            error_code=error,
        )
    if query.get("state", [pending.state])[0] != pending.state:
        raise AuthenticationError(
            "The pasted address carries a different 'state' than the authorize URL of this run, so it "
            "answers another request. Open the authorize URL printed above and paste what it leads to.",
            error_code="STATE_MISMATCH",
        )
    if not query.get("code"):
        raise ConfigurationError(
            "The pasted address has no 'code' parameter. Paste the whole address the browser was sent "
            f"to after you clicked Allow; it starts with {pending.callback_url}."
        )
    return query["code"][0]


def exchange_code(pending: PendingAuthorization, code: str, consumer_secret: str | None) -> Authorization:
    """Trade the one-time code for a refresh token at the token endpoint.

    Raises:
        AuthenticationError: Salesforce refused the code, the key or the secret.
        ConfigurationError: the app issued no refresh token (its scopes lack refresh_token).
    """
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": pending.consumer_key,
        "redirect_uri": pending.callback_url,
        "code_verifier": pending.code_verifier,
    }
    if consumer_secret:
        form["client_secret"] = consumer_secret
    facts = SignInFacts(
        auth_method="oauth",
        login_url=pending.hosts.login_url,
        consumer_key=pending.consumer_key,
        conn_id=pending.conn_id,
    )
    body = auth.post_token_grant(auth.http_session(pending.ca_bundle), pending.hosts.token_url, form, facts)

    if not body.get("refresh_token"):
        raise ConfigurationError(
            f"Salesforce authorized the app for connection {pending.conn_id!r} but issued no refresh "
            "token. Add the OAuth scope 'Perform requests at any time (refresh_token, offline_access)' to "
            "the app (Settings > OAuth Settings > Selected OAuth Scopes), then run this again.",
            error_code="NO_REFRESH_TOKEN",
        )
    identity = urlsplit(str(body.get("id") or "")).path.rstrip("/").split("/")
    return Authorization(
        refresh_token=str(body["refresh_token"]),
        instance_url=auth.api_origin(facts, str(body["instance_url"])),
        org_id=identity[-2] if len(identity) >= 3 else None,
        user_id=identity[-1] if len(identity) >= 3 else None,
    )


def store_refresh_token(conn_id: str, refresh_token: str) -> None:
    """Save the refresh token and ``auth_method: oauth`` in the connection in Airflow's database.

    Raises:
        ConfigurationError: the connection lives in an environment variable or a secrets backend,
            or not at all, so it cannot be written from here.
    """
    if os.environ.get(f"AIRFLOW_CONN_{conn_id.upper()}"):
        raise ConfigurationError(
            f"Connection {conn_id!r} comes from the environment variable AIRFLOW_CONN_{conn_id.upper()}, "
            "which this command cannot change. Run it without --store and put the printed refresh token "
            "in that variable's extra as 'refresh_token' (with 'auth_method': 'oauth')."
        )
    # Writing needs the ORM model: the Task SDK's Connection can only read. This runs as an admin
    # command on a machine with the metadata database, never inside a task.
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session

    with create_session() as session:
        conn = session.query(Connection).filter(Connection.conn_id == conn_id).one_or_none()
        if conn is None:
            raise ConfigurationError(
                f"Connection {conn_id!r} is not in Airflow's database (it may come from a secrets "
                "backend), so it cannot be updated here. Run without --store and save the printed "
                "refresh token in the connection's extra as 'refresh_token'."
            )
        extras = conn.extra_dejson
        extras.update(refresh_token=refresh_token, auth_method="oauth")
        conn.set_extra(json.dumps(extras))
    log.info("Stored a new refresh token in connection %s", conn_id)


def main(argv: list[str] | None = None) -> int:
    """Run the web-server flow interactively; exit 0 once the refresh token is printed or stored."""
    parser = argparse.ArgumentParser(
        prog="python -m salesforce_access.oauth_setup",
        description="Authorize the pipeline's app as the integration user and get a refresh token.",
    )
    parser.add_argument("--conn-id", default="salesforce_default", help="Airflow connection id (salesforce)")
    parser.add_argument("--callback-url", default=None, help="the app's callback URL (extra 'callback_url')")
    parser.add_argument("--consumer-key", default=None, help="overrides the connection's consumer_key")
    parser.add_argument("--domain", default=None, help="overrides the connection's domain")
    parser.add_argument("--store", action="store_true", help="save the refresh token in the connection")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    try:
        _run(args)
    except SalesforceAccessError as exc:
        print(f"OAuth setup of connection {args.conn_id!r} failed: {exc}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, EOFError):
        print("\nStopped; nothing was changed.", file=sys.stderr)
        return 130
    return 0


def _run(args: argparse.Namespace) -> None:
    conn, extras = auth.read_connection(args.conn_id)
    if args.domain:
        extras["domain"] = args.domain
    hosts, _ = auth.hosts_from_fields(args.conn_id, extras, conn.host or None)
    pending = start_authorization(
        args.conn_id,
        hosts,
        args.consumer_key or extras.get("consumer_key") or "",
        callback_url=args.callback_url or extras.get("callback_url") or DEFAULT_CALLBACK_URL,
        ca_bundle=extras.get("ca_bundle"),
    )

    print("1. Open this address in a browser, sign in as the integration user and click Allow:\n")
    print(f"   {pending.authorize_url}\n")
    print(f"2. The browser then goes to {pending.callback_url}?code=... (the page itself may fail to load).")
    code = code_from_redirect(pending, input("   Paste that whole address (or just the code) here: "))
    # The secret is typed without echo; it never appears on the command line or in the shell history.
    secret = extras.get("consumer_secret") or getpass.getpass("   Consumer secret (empty if none): ") or None
    authorization = exchange_code(pending, code, secret)

    who = f"org {authorization.org_id}, user {authorization.user_id}"
    print(f"\nAuthorized: {who}, API {authorization.instance_url}.")
    if args.store:
        store_refresh_token(args.conn_id, authorization.refresh_token)
        print(f"Saved the refresh token in connection {args.conn_id!r} and set auth_method to 'oauth'.")
        return
    print(
        "Refresh token (a secret: put it in the connection's extra as 'refresh_token', with "
        "'auth_method': 'oauth', and nowhere else):\n"
    )
    print(authorization.refresh_token)


if __name__ == "__main__":
    sys.exit(main())
