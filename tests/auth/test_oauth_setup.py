"""The web-server flow command: the authorize URL, reading the redirect back, the exchange and storing."""

from __future__ import annotations

import base64
import hashlib
import json
from urllib.parse import parse_qs, urlsplit

import pytest

from salesforce_access import oauth_setup
from salesforce_access.auth import http_session
from salesforce_access.domains import normalize_domain
from salesforce_access.errors import AuthenticationError, ConfigurationError
from salesforce_access.oauth_setup import code_from_redirect, exchange_code, start_authorization

CALLBACK = "https://localhost:8443/oauth/callback"


def _pending(domain: str = "acme.lightning.force.com", ca_bundle: str | None = None):
    return start_authorization(
        "salesforce_default", normalize_domain(domain), "3MVGwebServerFlowConsumerKey", CALLBACK, ca_bundle
    )


def test_authorize_url_asks_for_a_code_with_pkce_and_state():
    pending = _pending()

    url = urlsplit(pending.authorize_url)
    query = {name: values[0] for name, values in parse_qs(url.query).items()}
    challenge = base64.urlsafe_b64encode(hashlib.sha256(pending.code_verifier.encode()).digest()).rstrip(b"=")

    assert (
        f"{url.scheme}://{url.netloc}{url.path}" == "https://acme.my.salesforce.com/services/oauth2/authorize"
    )
    assert query == {
        "response_type": "code",
        "client_id": "3MVGwebServerFlowConsumerKey",
        "redirect_uri": CALLBACK,
        "scope": "api refresh_token",
        "state": pending.state,
        "code_challenge": challenge.decode(),
        "code_challenge_method": "S256",
    }
    assert len(pending.code_verifier) >= 43
    assert pending.code_verifier not in repr(pending)


def test_code_is_read_from_the_pasted_redirect_or_taken_as_is():
    pending = _pending()

    from_url = code_from_redirect(pending, f"  {CALLBACK}?code=aPrx9%3D%3D&state={pending.state}\n")
    bare = code_from_redirect(pending, "aPrx9%3D%3D")

    assert from_url == bare == "aPrx9=="


@pytest.mark.parametrize(
    ("pasted", "error_type", "message"),
    [
        (
            f"{CALLBACK}?error=access_denied&error_description=end-user+denied+authorization&state=x",
            AuthenticationError,
            "Salesforce did not authorize the app for connection 'salesforce_default': access_denied "
            "(end-user denied authorization). Sign in as the integration user and click Allow; if "
            "Salesforce shows an error page instead, check the app's callback URL and OAuth scopes (it must "
            "allow 'api refresh_token'). [access_denied]",
        ),
        (
            f"{CALLBACK}?code=aPrx9&state=someone-elses",
            AuthenticationError,
            "The pasted address carries a different 'state' than the authorize URL of this run, so it "
            "answers another request. Open the authorize URL printed above and paste what it leads to. "
            "[STATE_MISMATCH]",
        ),
        (
            f"{CALLBACK}?foo=bar",
            ConfigurationError,
            "The pasted address has no 'code' parameter. Paste the whole address the browser was sent to "
            f"after you clicked Allow; it starts with {CALLBACK}.",
        ),
        ("   ", ConfigurationError, "Nothing was pasted. Paste the whole address the browser was sent to."),
    ],
    ids=["denied", "foreign state", "no code", "empty"],
)
def test_bad_redirects_are_refused_with_the_reason(pasted, error_type, message):
    with pytest.raises(error_type) as raised:
        code_from_redirect(_pending(), pasted)

    assert str(raised.value) == message


@pytest.mark.slow
def test_code_is_exchanged_for_a_refresh_token_at_the_local_org(org, acme):
    """Needs the local org to serve the web-server flow; skipped, saying what is missing, until it does."""
    pending = start_authorization(
        "salesforce_default", normalize_domain(org.url), acme.oauth_key, CALLBACK, org.ca_bundle
    )

    # The org stands in for the browser step: it approves for its configured user and redirects.
    answer = http_session(org.ca_bundle).get(pending.authorize_url, allow_redirects=False, timeout=30)
    if answer.status_code == 404:
        pytest.skip(
            "local org lacks GET /services/oauth2/authorize (302 to redirect_uri?code=&state=) and the "
            "authorization_code grant with PKCE at /services/oauth2/token"
        )
    code = code_from_redirect(pending, answer.headers["Location"])
    authorization = exchange_code(pending, code, acme.oauth_secret)

    assert (authorization.instance_url, authorization.org_id, authorization.user_id) == (
        org.url,
        acme.org_id,
        acme.user_ids[acme.integration],
    )
    assert authorization.refresh_token


def test_store_refuses_a_connection_defined_in_the_environment(airflow_connection):
    airflow_connection("salesforce_default", auth_method="oauth", consumer_key="3MVGx")

    with pytest.raises(ConfigurationError) as raised:
        oauth_setup.store_refresh_token("salesforce_default", "5Aep-new")

    assert str(raised.value) == (
        "Connection 'salesforce_default' comes from the environment variable "
        "AIRFLOW_CONN_SALESFORCE_DEFAULT, which this command cannot change. Run it without --store and put "
        "the printed refresh token in that variable's extra as 'refresh_token' (with 'auth_method': "
        "'oauth')."
    )


def test_command_stops_on_a_denied_authorization_without_echoing_secrets(
    org, acme, airflow_connection, monkeypatch, capsys
):
    airflow_connection(
        "salesforce_default",
        domain=org.url,
        ca_bundle=org.ca_bundle,
        consumer_key=acme.oauth_key,
        consumer_secret=acme.oauth_secret,
    )
    monkeypatch.setattr("builtins.input", lambda prompt: f"{CALLBACK}?error=access_denied&state=x")

    status = oauth_setup.main(["--conn-id", "salesforce_default", "--callback-url", CALLBACK])
    captured = capsys.readouterr()

    assert status == 2
    assert (
        f"{org.url}/services/oauth2/authorize?response_type=code&client_id={acme.oauth_key}" in captured.out
    )
    assert captured.err == (
        "OAuth setup of connection 'salesforce_default' failed: Salesforce did not authorize the app for "
        "connection 'salesforce_default': access_denied (no description). Sign in as the integration user "
        "and click Allow; if Salesforce shows an error page instead, check the app's callback URL and OAuth "
        "scopes (it must allow 'api refresh_token'). [access_denied]\n"
    )
    assert acme.oauth_secret not in captured.out + captured.err
    assert json.dumps(acme.oauth_secret) not in captured.out


@pytest.fixture
def metadata_db():
    """Airflow's metadata tables in the test session's throwaway AIRFLOW_HOME (SQLite)."""
    from airflow.utils import db

    db.initdb()
    yield
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session

    with create_session() as session:
        session.query(Connection).filter(Connection.conn_id == "salesforce_stored").delete()


@pytest.mark.slow
def test_stored_refresh_token_signs_in_from_a_connection_saved_in_the_database(org, acme, metadata_db):
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session

    from salesforce_access.auth import credentials_from_connection, sign_in

    extra = {"domain": org.url, "ca_bundle": org.ca_bundle, "consumer_key": acme.oauth_key,
             "consumer_secret": acme.oauth_secret}  # fmt: skip
    with create_session() as session:
        session.add(Connection(conn_id="salesforce_stored", conn_type="salesforce", extra=json.dumps(extra)))

    oauth_setup.store_refresh_token("salesforce_stored", acme.refresh_token)
    credentials = credentials_from_connection("salesforce_stored")
    signin = sign_in(credentials)

    assert (credentials.auth_method, credentials.refresh_token) == ("oauth", acme.refresh_token)
    assert (signin.org_id, signin.user_id) == (acme.org_id, acme.user_ids[acme.integration])
