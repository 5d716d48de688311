"""Sign-in flows of the local org, driven through the real simple-salesforce client and raw token calls."""

from __future__ import annotations

import json
import time

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceAuthenticationFailed, SalesforceExpiredSession

from tests.local_org import orgdata
from tests.local_org.conftest import (
    API_VERSION,
    client_credentials_token,
    direct_client,
    jwt_assertion,
    jwt_token,
)

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def _token_call(local_org, data, auth=None):
    return local_org.http_session().post(f"{local_org.url}/services/oauth2/token", data=data, auth=auth)


def test_client_credentials_with_basic_auth_answers_like_salesforce(local_org, ids):
    response = _token_call(
        local_org, {"grant_type": "client_credentials"}, (orgdata.CONSUMER_KEY, orgdata.CONSUMER_SECRET)
    )

    body = response.json()
    assert response.status_code == 200
    assert sorted(body) == [
        "access_token",
        "id",
        "instance_url",
        "issued_at",
        "scope",
        "signature",
        "token_type",
    ]
    assert body["instance_url"] == local_org.url
    assert body["token_type"] == "Bearer"
    assert body["id"] == f"{local_org.url}/id/{ids['org']}/{ids['user_int']}"
    assert body["access_token"].startswith(ids["org"][:15] + "!")


def test_client_credentials_in_the_body_runs_as_the_configured_user(local_org, ids):
    response = _token_call(
        local_org,
        {
            "grant_type": "client_credentials",
            "client_id": orgdata.CONSUMER_KEY,
            "client_secret": orgdata.CONSUMER_SECRET,
        },
    )

    sf = direct_client(local_org, response.json()["access_token"])
    records = sf.query(f"SELECT Username FROM User WHERE Id = '{ids['user_int']}'")["records"]
    assert [r["Username"] for r in records] == [orgdata.INTEGRATION_USER]


@pytest.mark.parametrize(
    ("key", "secret", "error", "description"),
    [
        ("unknown-key", orgdata.CONSUMER_SECRET, "invalid_client_id", "client identifier invalid"),
        (orgdata.CONSUMER_KEY, "wrong", "invalid_client", "invalid client credentials"),
    ],
)
def test_client_credentials_failures(local_org, key, secret, error, description):
    response = _token_call(local_org, {"grant_type": "client_credentials"}, (key, secret))

    assert response.status_code == 400
    assert response.json() == {"error": error, "error_description": description}


def test_client_credentials_through_simple_salesforce(local_org):
    sf = Salesforce(
        consumer_key=orgdata.CONSUMER_KEY,
        consumer_secret=orgdata.CONSUMER_SECRET,
        domain="acme.my",
        session=local_org.loopback_session(),
        version=API_VERSION,
    )

    assert sf.sf_instance == local_org.url.removeprefix("https://")
    assert sf.query("SELECT COUNT() FROM Organization")["totalSize"] == 1


def test_client_credentials_wrong_secret_raises_authentication_failed(local_org):
    with pytest.raises(SalesforceAuthenticationFailed) as failure:
        Salesforce(
            consumer_key=orgdata.CONSUMER_KEY,
            consumer_secret="nope",
            domain="acme.my",
            session=local_org.loopback_session(),
        )

    assert failure.value.code == "invalid_client"
    assert failure.value.auth_message == "invalid client credentials"


def test_client_credentials_without_run_as_user(local_org, org_data):
    fixture = json.loads(json.dumps(org_data.fixture))
    fixture["org"]["oauth_apps"][0]["client_credentials_user"] = None
    local_org.control.load_fixture(fixture)

    response = _token_call(
        local_org, {"grant_type": "client_credentials"}, (orgdata.CONSUMER_KEY, orgdata.CONSUMER_SECRET)
    )

    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "no client credentials user enabled",
    }


def test_jwt_bearer_through_simple_salesforce(local_org, org_data):
    sf = Salesforce(
        username=orgdata.ADMIN_USER,
        consumer_key=orgdata.CONSUMER_KEY,
        privatekey=org_data.private_key,
        session=local_org.loopback_session(),
        version=API_VERSION,
    )

    records = sf.query("SELECT Username FROM User WHERE Username = 'admin@acme.test'")["records"]
    assert [r["Username"] for r in records] == [orgdata.ADMIN_USER]


def test_jwt_response_has_no_refresh_token_nor_signature(local_org, org_data):
    response = _token_call(
        local_org, {"grant_type": JWT_GRANT, "assertion": jwt_assertion(org_data.private_key)}
    )

    assert sorted(response.json()) == ["access_token", "id", "instance_url", "scope", "token_type"]


@pytest.mark.parametrize("audience", ["https://login.salesforce.com", "https://test.salesforce.com", "ORG"])
def test_jwt_accepted_audiences_and_numeric_exp(local_org, org_data, audience):
    audience = local_org.url if audience == "ORG" else audience
    token = jwt_token(local_org, org_data.private_key, aud=audience, exp=int(time.time()) + 120)

    assert direct_client(local_org, token).query("SELECT Id FROM Organization")["totalSize"] == 1


@pytest.mark.parametrize(
    ("claims", "error", "description"),
    [
        ({"aud": "https://evil.example"}, "invalid_grant", "audience is invalid"),
        ({"exp": "1000"}, "invalid_grant", "expired authorization code"),
        ({"sub": "user1@acme.test"}, "invalid_grant", "user hasn't approved this consumer"),
        ({"sub": "nobody@acme.test"}, "invalid_grant", "user hasn't approved this consumer"),
        ({"sub": "user6@acme.test"}, "invalid_grant", "inactive user"),
        ({"iss": "someone-else"}, "invalid_client_id", "client identifier invalid"),
    ],
)
def test_jwt_failures(local_org, org_data, claims, error, description):
    response = _token_call(
        local_org, {"grant_type": JWT_GRANT, "assertion": jwt_assertion(org_data.private_key, **claims)}
    )

    assert response.status_code == 400
    assert response.json() == {"error": error, "error_description": description}


def test_jwt_signed_with_another_key_is_an_invalid_assertion(local_org, org_data):
    response = _token_call(
        local_org, {"grant_type": JWT_GRANT, "assertion": jwt_assertion(org_data.other_key)}
    )

    assert response.json() == {"error": "invalid_grant", "error_description": "invalid assertion"}


def test_jwt_user_granted_by_permission_set_is_pre_authorised(local_org, org_data):
    """Admin-approved app: the integration user holds a permission set with SetupEntityAccess to the app."""
    token = jwt_token(local_org, org_data.private_key, sub=orgdata.INTEGRATION_USER)

    assert token.startswith("00D")


def test_jwt_failure_through_simple_salesforce(local_org, org_data):
    with (
        pytest.raises(SalesforceAuthenticationFailed) as failure,
        pytest.warns(UserWarning, match="self-authorize"),
    ):
        Salesforce(
            username="user1@acme.test",
            consumer_key=orgdata.CONSUMER_KEY,
            privatekey=org_data.private_key,
            session=local_org.loopback_session(),
        )

    assert (failure.value.code, failure.value.auth_message) == (
        "invalid_grant",
        "user hasn't approved this consumer",
    )


def test_refresh_token_flow(local_org):
    response = _token_call(
        local_org,
        {
            "grant_type": "refresh_token",
            "refresh_token": orgdata.REFRESH_TOKEN,
            "client_id": orgdata.CONSUMER_KEY,
            "client_secret": orgdata.CONSUMER_SECRET,
        },
    )

    assert response.status_code == 200
    assert "refresh_token" not in response.json()
    assert (
        direct_client(local_org, response.json()["access_token"]).query("SELECT Id FROM Organization")[
            "totalSize"
        ]
        == 1
    )


def test_unknown_refresh_token(local_org):
    response = _token_call(
        local_org,
        {
            "grant_type": "refresh_token",
            "refresh_token": "5Aep-revoked",
            "client_id": orgdata.CONSUMER_KEY,
            "client_secret": orgdata.CONSUMER_SECRET,
        },
    )

    assert response.json() == {"error": "invalid_grant", "error_description": "expired access/refresh token"}


def test_username_password_oauth_through_simple_salesforce(local_org):
    sf = Salesforce(
        username=orgdata.ADMIN_USER,
        password=orgdata.ADMIN_PASSWORD + orgdata.ADMIN_TOKEN,
        consumer_key=orgdata.CONSUMER_KEY,
        consumer_secret=orgdata.CONSUMER_SECRET,
        session=local_org.loopback_session(),
    )

    assert sf.query("SELECT Id FROM Organization")["totalSize"] == 1


def test_username_password_oauth_bad_password(local_org):
    with pytest.raises(SalesforceAuthenticationFailed) as failure:
        Salesforce(
            username=orgdata.ADMIN_USER,
            password="wrong",
            consumer_key=orgdata.CONSUMER_KEY,
            consumer_secret=orgdata.CONSUMER_SECRET,
            session=local_org.loopback_session(),
        )

    assert (failure.value.code, failure.value.auth_message) == ("invalid_grant", "authentication failure")


def test_soap_login_through_simple_salesforce(local_org, ids):
    sf = Salesforce(
        username=orgdata.ADMIN_USER,
        password=orgdata.ADMIN_PASSWORD,
        security_token=orgdata.ADMIN_TOKEN,
        session=local_org.loopback_session(),
        version=API_VERSION,
    )

    assert sf.sf_instance == local_org.url.removeprefix("https://")
    assert sf.session_id.startswith(ids["org"][:15] + "!")
    assert sf.query("SELECT Name FROM Organization")["records"][0]["Name"] == "Acme Test"


def test_soap_login_bad_token_is_invalid_login_with_http_500(local_org):
    with pytest.raises(SalesforceAuthenticationFailed) as failure:
        Salesforce(
            username=orgdata.ADMIN_USER,
            password=orgdata.ADMIN_PASSWORD,
            security_token="WRONG",
            session=local_org.loopback_session(),
        )

    assert failure.value.code == "INVALID_LOGIN"
    assert failure.value.auth_message == "Invalid username, password, security token; or user locked out."
    raw = local_org.http_session().post(
        f"{local_org.url}/services/Soap/u/59.0",
        data=b"<x/>",
        headers={"Content-Type": "text/xml", "SOAPAction": "login"},
    )
    assert raw.status_code == 500
    assert "<faultcode>sf:INVALID_LOGIN</faultcode>" in raw.text


def test_soap_login_refuses_versions_after_64(local_org):
    with pytest.raises(SalesforceAuthenticationFailed) as failure:
        Salesforce(
            username=orgdata.ADMIN_USER,
            password=orgdata.ADMIN_PASSWORD,
            security_token=orgdata.ADMIN_TOKEN,
            session=local_org.loopback_session(),
            version="65.0",
        )

    assert failure.value.code == "UNSUPPORTED_API_VERSION"


def test_expired_sessions_answer_invalid_session_id(local_org, sf, http):
    local_org.control.expire_sessions()

    with pytest.raises(SalesforceExpiredSession):
        sf.query("SELECT Id FROM User")
    raw = http.get(
        f"{local_org.url}/services/data/v59.0/query",
        params={"q": "SELECT Id FROM User"},
        headers={"Authorization": f"Bearer {sf.session_id}"},
    )
    assert raw.status_code == 401
    assert raw.json() == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


def test_sessions_end_after_session_seconds(local_org):
    local_org.control.set_switches(session_seconds=1)
    sf = direct_client(local_org, client_credentials_token(local_org))
    sf.query("SELECT Id FROM Organization")

    time.sleep(1.1)

    with pytest.raises(SalesforceExpiredSession):
        sf.query("SELECT Id FROM Organization")


def test_unknown_grant_type_and_journal_without_secrets(local_org, org_data):
    response = _token_call(local_org, {"grant_type": "magic", "code": "x"})
    _token_call(local_org, {"grant_type": JWT_GRANT, "assertion": jwt_assertion(org_data.private_key)})

    assert response.json() == {
        "error": "unsupported_grant_type",
        "error_description": "grant type not supported",
    }
    journal = local_org.control.journal()
    assert [(e["method"], e["path"], e["status"]) for e in journal] == [
        ("POST", "/services/oauth2/token", 400),
        ("POST", "/services/oauth2/token", 200),
    ]
    assert "assertion" not in json.dumps(journal) and orgdata.CONSUMER_SECRET not in json.dumps(journal)


def test_web_server_flow_with_pkce(local_org):
    import base64
    import hashlib
    import urllib.parse

    verifier = "v" * 64
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    callback = "https://localhost:1717/callback"
    http = local_org.http_session()
    answer = http.get(
        f"{local_org.url}/services/oauth2/authorize",
        params={
            "response_type": "code",
            "client_id": orgdata.CONSUMER_KEY,
            "redirect_uri": callback,
            "state": "s1",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
        allow_redirects=False,
    )
    location = urllib.parse.urlsplit(answer.headers["Location"])
    query = dict(urllib.parse.parse_qsl(location.query))
    form = {
        "grant_type": "authorization_code",
        "code": query["code"],
        "client_id": orgdata.CONSUMER_KEY,
        "client_secret": orgdata.CONSUMER_SECRET,
        "redirect_uri": callback,
    }

    wrong = _token_call(local_org, {**form, "code_verifier": "x" * 64})
    answer_status, state = answer.status_code, query["state"]
    # A code works once, so a failed exchange uses it up: ask for a second one.
    second = http.get(answer.url, allow_redirects=False).headers["Location"]
    form["code"] = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(second).query))["code"]
    granted = _token_call(local_org, {**form, "code_verifier": verifier})
    replayed = _token_call(local_org, {**form, "code_verifier": verifier})

    assert (answer_status, location.netloc, state) == (302, "localhost:1717", "s1")
    assert wrong.json() == {"error": "invalid_grant", "error_description": "invalid code verifier"}
    assert granted.status_code == 200 and granted.json()["refresh_token"].startswith("5Aep861")
    assert replayed.json() == {"error": "invalid_grant", "error_description": "expired authorization code"}
    refreshed = _token_call(
        local_org,
        {
            "grant_type": "refresh_token",
            "refresh_token": granted.json()["refresh_token"],
            "client_id": orgdata.CONSUMER_KEY,
            "client_secret": orgdata.CONSUMER_SECRET,
        },
    )
    assert refreshed.status_code == 200
