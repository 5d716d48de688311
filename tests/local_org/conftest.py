"""Fixtures for the local-org tests: one server per session, reset before every test."""

from __future__ import annotations

import time

import jwt
import pytest
import requests
from simple_salesforce import Salesforce

from local_salesforce.testing import LocalOrg, start_local_org
from tests.local_org import orgdata

API_VERSION = "59.0"


@pytest.fixture(scope="session")
def org_data() -> orgdata.Org:
    return orgdata.build()


@pytest.fixture(scope="session")
def local_org(org_data: orgdata.Org):
    with start_local_org(fixture=org_data.fixture) as org:
        yield org


@pytest.fixture(autouse=True)
def _fresh_org(request: pytest.FixtureRequest) -> None:
    """Reset the org before every test that uses it (and start nothing for tests that don't)."""
    if "local_org" in request.fixturenames:
        request.getfixturevalue("local_org").control.reset()


@pytest.fixture
def ids(org_data: orgdata.Org) -> dict[str, str]:
    return org_data.ids


@pytest.fixture
def http(local_org: LocalOrg) -> requests.Session:
    return local_org.http_session()


def client_credentials_token(org: LocalOrg) -> str:
    response = org.http_session().post(
        f"{org.url}/services/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(orgdata.CONSUMER_KEY, orgdata.CONSUMER_SECRET),
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def jwt_assertion(private_key: str, **claims: object) -> str:
    body = {
        "iss": orgdata.CONSUMER_KEY,
        "sub": orgdata.ADMIN_USER,
        "aud": "https://login.salesforce.com",
        "exp": f"{time.time() + 180:.0f}",
    }
    body.update(claims)
    return jwt.encode(body, private_key, algorithm="RS256")


def jwt_token(org: LocalOrg, private_key: str, **claims: object) -> str:
    response = org.http_session().post(
        f"{org.url}/services/oauth2/token",
        data={
            "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "assertion": jwt_assertion(private_key, **claims),
        },
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def direct_client(org: LocalOrg, token: str) -> Salesforce:
    """The pipeline's way in: instance URL + session id, session verifying the org's CA."""
    return Salesforce(instance_url=org.url, session_id=token, session=org.http_session(), version=API_VERSION)


@pytest.fixture
def sf(local_org: LocalOrg) -> Salesforce:
    """The integration user (client credentials run-as user)."""
    return direct_client(local_org, client_credentials_token(local_org))


@pytest.fixture
def admin_sf(local_org: LocalOrg, org_data: orgdata.Org) -> Salesforce:
    """The System Administrator, signed in with the JWT bearer flow."""
    return direct_client(local_org, jwt_token(local_org, org_data.private_key))
