"""Signing in to the local org by every method, and the exact message each kind of failure shows."""

from __future__ import annotations

import logging

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceExpiredSession

from salesforce_access.auth import (
    SalesforceCredentials,
    credentials_from_connection,
    credentials_from_fields,
    new_http_session,
    sign_in,
)
from salesforce_access.domains import normalize_domain
from salesforce_access.errors import (
    AuthenticationError,
    ConfigurationError,
    FeatureNotEnabledError,
    MissingPermissionError,
    RetryableError,
)
from salesforce_access.salesforce_errors import translate

pytestmark = pytest.mark.slow


def _context(org, method: str, conn_id: str = "salesforce_default") -> str:
    return f"Signing in to {org.url} with {method} (connection {conn_id!r})"


def _credentials(org, method: str, **fields) -> SalesforceCredentials:
    return SalesforceCredentials(
        conn_id="salesforce_default",
        auth_method=method,
        hosts=normalize_domain(org.url),
        ca_bundle=org.ca_bundle,
        **fields,
    )


def _organization_name(credentials, signin) -> str:
    sf = Salesforce(
        instance_url=signin.instance_url,
        session_id=signin.access_token,
        session=new_http_session(credentials),
        version=credentials.api_version,
    )
    return sf.query("SELECT Name FROM Organization")["records"][0]["Name"]


# ---- every method, from an Airflow connection ---------------------------------------------------


def _connection_fields(org, acme, method):
    common = {"domain": org.url, "ca_bundle": org.ca_bundle, "auth_method": method}
    if method == "client_credentials":
        return {}, {**common, "consumer_key": acme.cc_key, "consumer_secret": acme.cc_secret}
    if method == "jwt_bearer":
        return {"login": acme.integration}, {
            **common,
            "consumer_key": acme.jwt_key,
            "private_key_file_path": acme.private_key_path,
        }
    if method == "oauth":
        return {}, {
            **common,
            "consumer_key": acme.oauth_key,
            "consumer_secret": acme.oauth_secret,
            "refresh_token": acme.refresh_token,
        }
    return {"login": acme.integration, "password": acme.password}, {
        **common,
        "security_token": acme.security_token,
    }


@pytest.mark.parametrize("method", ["client_credentials", "jwt_bearer", "oauth", "password"])
def test_each_method_signs_in_from_an_airflow_connection(org, acme, airflow_connection, method):
    fields, extra = _connection_fields(org, acme, method)
    airflow_connection("salesforce_default", **fields, **extra)

    credentials = credentials_from_connection("salesforce_default")
    signin = sign_in(credentials)

    assert credentials.auth_method == method
    assert (signin.instance_url, signin.org_id, signin.user_id, signin.auth_method) == (
        org.url,
        acme.org_id,
        acme.user_ids[acme.integration],
        method,
    )
    assert signin.access_token.startswith(acme.org_id[:15] + "!")
    assert _organization_name(credentials, signin) == "Acme Test"


def test_jwt_bearer_takes_the_key_inline_with_escaped_newlines(org, acme, airflow_connection):
    airflow_connection(
        "salesforce_default",
        login=acme.integration,
        domain=org.url,
        ca_bundle=org.ca_bundle,
        auth_method="jwt_bearer",
        consumer_key=acme.jwt_key,
        private_key=acme.private_key.replace("\n", "\\n"),
    )

    signin = sign_in(credentials_from_connection("salesforce_default"))

    assert signin.user_id == acme.user_ids[acme.integration]


def test_jwt_subject_extra_overrides_the_login(org, acme):
    credentials = _credentials(
        org, "jwt_bearer", username=acme.admin, jwt_subject=acme.integration, consumer_key=acme.jwt_key,
        private_key=acme.private_key,
    )  # fmt: skip

    assert sign_in(credentials).user_id == acme.user_ids[acme.integration]


def test_password_sign_in_warns_that_soap_login_is_retiring(org, acme, caplog):
    credentials = _credentials(
        org, "password", username=acme.integration, password=acme.password, security_token=acme.security_token
    )

    with caplog.at_level(logging.WARNING, logger="salesforce_access.auth"):
        sign_in(credentials)

    assert caplog.messages == [
        "Connection salesforce_default signs in with username and password (SOAP login), which Salesforce "
        "is retiring: it is off by default in orgs created from Winter '26 and removed in Summer '27. Switch "
        "the connection to auth_method jwt_bearer or client_credentials."
    ]


def test_method_is_inferred_from_the_fields_when_auth_method_is_missing(
    org, acme, airflow_connection, caplog
):
    airflow_connection(
        "salesforce_default",
        domain=org.url,
        ca_bundle=org.ca_bundle,
        consumer_key=acme.cc_key,
        consumer_secret=acme.cc_secret,
    )

    with caplog.at_level(logging.INFO, logger="salesforce_access.auth"):
        credentials = credentials_from_connection("salesforce_default")

    assert credentials.auth_method == "client_credentials"
    assert caplog.messages == [
        "Salesforce connection salesforce_default has no auth_method extra; signing in with "
        "client_credentials"
    ]
    assert sign_in(credentials).auth_method == "client_credentials"


# ---- an expired session is renewed by signing in again ------------------------------------------


@pytest.mark.parametrize("method", ["client_credentials", "jwt_bearer"])
def test_a_session_expiring_mid_use_is_renewed_by_signing_in_again(org, acme, method):
    if method == "client_credentials":
        credentials = _credentials(org, method, consumer_key=acme.cc_key, consumer_secret=acme.cc_secret)
    else:
        credentials = _credentials(
            org, method, consumer_key=acme.jwt_key, private_key=acme.private_key, jwt_subject=acme.integration
        )
    first = sign_in(credentials)
    assert _organization_name(credentials, first) == "Acme Test"

    assert org.control.expire_sessions() == 1
    with pytest.raises(SalesforceExpiredSession) as expired:
        _organization_name(credentials, first)
    error = translate(expired.value, context="Querying Organization")
    second = sign_in(credentials)

    assert isinstance(error, RetryableError)
    assert error.error_code == "INVALID_SESSION_ID"
    assert str(error) == (
        'Querying Organization: Salesforce no longer accepts the session (Salesforce answered "Session '
        'expired or invalid"): it expired or was revoked, for example by an admin or a shorter session '
        "timeout. A new attempt signs in again; if this keeps happening, check Session Settings and the "
        "app's refresh token policy. [INVALID_SESSION_ID]"
    )
    assert second.access_token != first.access_token
    assert _organization_name(credentials, second) == "Acme Test"


# ---- refusals, each with the message a person reads -----------------------------------------------


def test_unknown_consumer_key(org, acme):
    credentials = _credentials(
        org, "jwt_bearer", consumer_key="3MVGnotAnAppOfThisOrg", private_key=acme.private_key,
        jwt_subject=acme.integration,
    )  # fmt: skip

    with pytest.raises(AuthenticationError) as raised:
        sign_in(credentials)

    assert raised.value.error_code == "invalid_client_id"
    assert str(raised.value) == (
        f'{_context(org, "jwt_bearer")}: Salesforce answered "client identifier invalid": {org.url} does '
        "not know the app with consumer key '3MVGnotAnAppOfThisOrg'. Copy the Consumer Key from Setup > "
        "External Client App Manager > (the app) > Settings > OAuth Settings into the connection's "
        "'consumer_key' extra; a key of another org (or of production, for a sandbox) does not work. "
        "[invalid_client_id]"
    )


def test_private_key_not_matching_the_apps_certificate(org, acme):
    credentials = _credentials(
        org, "jwt_bearer", consumer_key=acme.jwt_key, private_key=acme.other_private_key,
        jwt_subject=acme.integration,
    )  # fmt: skip

    with pytest.raises(AuthenticationError) as raised:
        sign_in(credentials)

    assert str(raised.value) == (
        f'{_context(org, "jwt_bearer")}: Salesforce answered "invalid assertion": the JWT assertion\'s '
        f"signature does not verify against the certificate of the app with consumer key '{acme.jwt_key}'. "
        "Upload the certificate of the connection's private key to the app (Settings > OAuth Settings > "
        "Enable JWT Bearer Flow), or point 'private_key' / 'private_key_file_path' at the key matching the "
        "uploaded certificate. [invalid_grant]"
    )


def _not_pre_authorized(org, acme, username: str) -> str:
    return (
        f'{_context(org, "jwt_bearer")}: Salesforce answered "user hasn\'t approved this consumer": user '
        f"'{username}' is not pre-authorized for the app with consumer key '{acme.jwt_key}'. In the app's "
        "Policies, set Permitted Users to 'Admin approved users are pre-authorized' and add the user's "
        "profile or one of its permission sets under Select Profiles / Select Permission Sets; also check "
        "that the connection's 'jwt_subject' (or login) is the user's Salesforce username, not its email. "
        "[invalid_grant]"
    )


@pytest.mark.parametrize("subject", ["unapproved@acme.test", "integration@acme.example", "Integration Test"])
def test_unapproved_or_unknown_jwt_subject(org, acme, subject):
    credentials = _credentials(
        org, "jwt_bearer", consumer_key=acme.jwt_key, private_key=acme.private_key, jwt_subject=subject
    )

    with pytest.raises(AuthenticationError) as raised:
        sign_in(credentials)

    assert str(raised.value) == _not_pre_authorized(org, acme, subject)


@pytest.mark.parametrize(
    ("username", "message"),
    [
        (
            "frozen@acme.test",
            "Salesforce answered \"authentication failure\": user 'frozen@acme.test' is frozen or locked "
            "out. Unfreeze or unlock the user in Setup > Users > (the user). [invalid_grant]",
        ),
        (
            "locked@acme.test",
            "Salesforce answered \"authentication failure\": user 'locked@acme.test' is frozen or locked "
            "out. Unfreeze or unlock the user in Setup > Users > (the user). [invalid_grant]",
        ),
        (
            "inactive@acme.test",
            "Salesforce answered \"inactive user\": user 'inactive@acme.test' is deactivated or frozen. "
            "Reactivate or unfreeze the user in Setup > Users, or sign in as another integration user. "
            "[invalid_grant]",
        ),
    ],
)
def test_jwt_subject_that_cannot_sign_in(org, acme, username, message):
    credentials = _credentials(
        org, "jwt_bearer", consumer_key=acme.jwt_key, private_key=acme.private_key, jwt_subject=username
    )

    with pytest.raises(AuthenticationError) as raised:
        sign_in(credentials)

    assert str(raised.value) == f"{_context(org, 'jwt_bearer')}: {message}"


def test_wrong_client_secret(org, acme):
    credentials = _credentials(org, "client_credentials", consumer_key=acme.cc_key, consumer_secret="not-it")

    with pytest.raises(AuthenticationError) as raised:
        sign_in(credentials)

    assert str(raised.value) == (
        f'{_context(org, "client_credentials")}: Salesforce answered "invalid client credentials": the '
        f"consumer secret does not match the app with consumer key '{acme.cc_key}'. Copy the Consumer "
        "Secret again (Setup > External Client App Manager > (the app) > Settings > OAuth Settings > "
        "Consumer Key and Secret) into the connection's 'consumer_secret' extra. [invalid_client]"
    )
    assert "not-it" not in str(raised.value)


def test_client_credentials_app_without_run_as_user(org, acme):
    credentials = _credentials(
        org, "client_credentials", consumer_key=acme.no_run_as_key, consumer_secret=acme.cc_secret
    )

    with pytest.raises(ConfigurationError) as raised:
        sign_in(credentials)

    assert str(raised.value) == (
        f'{_context(org, "client_credentials")}: Salesforce answered "no client credentials user enabled": '
        f"the app with consumer key '{acme.no_run_as_key}' has the client credentials flow enabled but no "
        "Run As user. In the app's Policies > OAuth Flows and External Client App Enhancements, check "
        "Enable Client Credentials Flow and enter the integration user's username under Run As "
        "(username). [invalid_grant]"
    )


def test_revoked_refresh_token(org, acme):
    credentials = _credentials(
        org, "oauth", consumer_key=acme.oauth_key, consumer_secret=acme.oauth_secret,
        refresh_token=acme.revoked_refresh_token,
    )  # fmt: skip

    with pytest.raises(AuthenticationError) as raised:
        sign_in(credentials)

    assert str(raised.value) == (
        f'{_context(org, "oauth")}: Salesforce answered "expired access/refresh token": the refresh token '
        "of connection 'salesforce_default' was revoked or has expired (revoked by the user or an admin, "
        "expired by the app's refresh token policy, or replaced under rotation). Get a new one with "
        "'python -m salesforce_access.oauth_setup --conn-id salesforce_default --store'. [invalid_grant]"
    )
    assert acme.revoked_refresh_token not in str(raised.value)


def _invalid_login(org, username: str, advice: str) -> str:
    return (
        f'{_context(org, "password")}: Salesforce answered "Invalid username, password, security token; or '
        f"user locked out\": {org.url} refused user '{username}': the password or security token is wrong, "
        f"or the user is locked out. {advice}. A locked-out user is unlocked in Setup > Users > (the user). "
        "[INVALID_LOGIN]"
    )


CHECK_BOTH = (
    "Check the connection's password and 'security_token' extra (Settings > Reset My Security Token emails "
    "a new token; resetting the password also changes it)"
)
NO_TOKEN = (
    "The connection has no 'security_token' extra: unless the user's profile trusts this machine's IP "
    "address, Salesforce needs the user's security token (Settings > Reset My Security Token emails a new "
    "one) there"
)


@pytest.mark.parametrize(
    ("username", "password", "token", "advice"),
    [
        ("integration@acme.test", "Wrong-Horse-7", "tokENabc123XYZ", CHECK_BOTH),
        ("integration@acme.test", "Correct-Horse-7", None, NO_TOKEN),
        ("locked@acme.test", "Correct-Horse-7", "tokENabc123XYZ", CHECK_BOTH),
    ],
    ids=["wrong password", "missing security token", "locked-out user"],
)
def test_password_refusals(org, username, password, token, advice):
    credentials = _credentials(org, "password", username=username, password=password, security_token=token)

    with pytest.raises(AuthenticationError) as raised:
        sign_in(credentials)

    assert str(raised.value) == _invalid_login(org, username, advice)
    assert password not in str(raised.value)


def test_soap_login_switched_off_in_the_org(org, acme):
    org.control.set_switches(soap_login_enabled=False)
    credentials = _credentials(
        org, "password", username=acme.integration, password=acme.password, security_token=acme.security_token
    )

    with pytest.raises(ConfigurationError) as raised:
        sign_in(credentials)

    assert str(raised.value) == (
        f'{_context(org, "password")}: Salesforce answered "SOAP API login() is disabled by default in this '
        'org": this org has SOAP API login() turned off, which username and password sign-in needs (it is '
        "off by default in orgs created from Winter '26 and retired in Summer '27). Switch the connection's "
        "auth_method to jwt_bearer or client_credentials. [INVALID_OPERATION]"
    )


API_EDITIONS = (
    "Only Enterprise, Unlimited, Developer and Performance editions, or Professional Edition with the API "
    "add-on, have API access."
)
USER_API_DISABLED = (
    'the integration user may not use the API (Salesforce answered "API is disabled for this User"). Give '
    "the integration user the 'API Enabled' system permission: Setup > Permission Sets > (a permission set "
    "assigned to the user) > System Permissions > Edit. If it is already there, the org's edition lacks API "
    f"access. {API_EDITIONS} [API_CURRENTLY_DISABLED]"
)


def test_user_without_api_enabled_is_refused_at_soap_login(org, acme):
    credentials = _credentials(
        org, "password", username=acme.no_api, password=acme.password, security_token=acme.security_token
    )

    with pytest.raises(MissingPermissionError) as raised:
        sign_in(credentials)

    assert str(raised.value) == f"{_context(org, 'password')}: {USER_API_DISABLED}"


def test_user_without_api_enabled_signs_in_by_jwt_but_is_refused_at_the_first_call(org, acme):
    credentials = _credentials(
        org, "jwt_bearer", consumer_key=acme.jwt_key, private_key=acme.private_key, jwt_subject=acme.no_api
    )
    signin = sign_in(credentials)

    with pytest.raises(Exception) as raised:
        _organization_name(credentials, signin)
    error = translate(raised.value, context="Reading the Organization")

    assert isinstance(error, MissingPermissionError)
    assert str(error) == f"Reading the Organization: {USER_API_DISABLED}"


def test_org_without_api_access_is_refused_at_soap_login(org, acme):
    org.control.set_switches(api_enabled=False)
    credentials = _credentials(
        org, "password", username=acme.integration, password=acme.password, security_token=acme.security_token
    )

    with pytest.raises(FeatureNotEnabledError) as raised:
        sign_in(credentials)

    assert str(raised.value) == (
        f'{_context(org, "password")}: this org has no API access (Salesforce answered "API is not enabled '
        f'for this Organization or Partner"). {API_EDITIONS} [API_DISABLED_FOR_ORG]'
    )


def test_org_without_api_access_refuses_the_first_call_after_an_oauth_sign_in(org, acme):
    org.control.set_switches(api_enabled=False)
    credentials = _credentials(
        org, "client_credentials", consumer_key=acme.cc_key, consumer_secret=acme.cc_secret
    )
    signin = sign_in(credentials)

    with pytest.raises(Exception) as raised:
        _organization_name(credentials, signin)
    error = translate(raised.value)

    assert isinstance(error, FeatureNotEnabledError)
    assert str(error) == (
        'This org has no API access (Salesforce answered "The REST API is not enabled for this '
        f'Organization"). {API_EDITIONS} [API_DISABLED_FOR_ORG]'
    )


# ---- wrong domain, TLS and configuration ---------------------------------------------------------


def test_client_credentials_on_a_generic_login_host_is_refused_before_any_call(acme):
    with pytest.raises(ConfigurationError) as raised:
        credentials_from_fields(
            "salesforce_default",
            login=None,
            password=None,
            host=None,
            extras={"auth_method": "client_credentials", "consumer_key": acme.cc_key,
                    "consumer_secret": acme.cc_secret, "domain": "https://login.salesforce.com/"},
        )  # fmt: skip

    assert str(raised.value) == (
        "Salesforce connection 'salesforce_default' uses auth_method 'client_credentials' with domain "
        "'https://login.salesforce.com', but Salesforce offers that flow only on the org's own My Domain. "
        "Set the 'domain' extra to the My Domain, for example 'https://acme.my.salesforce.com' (Setup > My "
        "Domain)."
    )


def test_jwt_audience_from_a_wrong_login_url(org, acme, airflow_connection):
    airflow_connection(
        "salesforce_default",
        login=acme.integration,
        domain=org.url,
        login_url="https://sso.acme.example/",
        ca_bundle=org.ca_bundle,
        auth_method="jwt_bearer",
        consumer_key=acme.jwt_key,
        private_key_file_path=acme.private_key_path,
    )

    with pytest.raises(AuthenticationError) as raised:
        sign_in(credentials_from_connection("salesforce_default"))

    assert str(raised.value) == (
        f'{_context(org, "jwt_bearer")}: Salesforce answered "audience is invalid": Salesforce does not '
        "accept audience 'https://sso.acme.example' for this org. Production and Developer Edition orgs "
        "expect https://login.salesforce.com, sandboxes and scratch orgs https://test.salesforce.com: set "
        "the connection's 'login_url' extra to the right one. [invalid_grant]"
    )


def test_domain_where_nothing_answers(acme, unused_port):
    credentials = SalesforceCredentials(
        conn_id="salesforce_default",
        auth_method="client_credentials",
        hosts=normalize_domain(f"127.0.0.1:{unused_port}"),
        consumer_key=acme.cc_key,
        consumer_secret=acme.cc_secret,
    )

    with pytest.raises(RetryableError) as raised:
        sign_in(credentials)

    url = f"https://127.0.0.1:{unused_port}"
    assert str(raised.value) == (
        f"Signing in to {url} with client_credentials (connection 'salesforce_default'): could not reach "
        f"{url}/services/oauth2/token (HTTPSConnection(host='127.0.0.1', port={unused_port}): Failed to "
        "establish a new connection: [Errno 111] Connection refused). Salesforce or the network may be down "
        "for a moment; if it persists, check the connection's 'domain' extra. [CONNECTION_FAILED]"
    )


def test_untrusted_certificate_names_the_ca_bundle_fix(org, acme):
    credentials = SalesforceCredentials(
        conn_id="salesforce_default",
        auth_method="client_credentials",
        hosts=normalize_domain(org.url),
        consumer_key=acme.cc_key,
        consumer_secret=acme.cc_secret,
    )

    with pytest.raises(ConfigurationError) as raised:
        sign_in(credentials)

    assert raised.value.error_code == "TLS_VERIFY_FAILED"
    assert str(raised.value).startswith(
        f"{_context(org, 'client_credentials')}: the TLS certificate of {org.url}/services/oauth2/token "
        "could not be verified ("
    )
    assert str(raised.value).endswith(
        "). If the org is reached through a proxy or is a local test org with its own certificate authority, "
        "set the connection's 'ca_bundle' extra to that authority's PEM file; TLS checks cannot be turned "
        "off. [TLS_VERIFY_FAILED]"
    )


def test_ca_bundle_wins_over_requests_ca_bundle_in_the_environment(org, acme, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    credentials = _credentials(
        org, "client_credentials", consumer_key=acme.cc_key, consumer_secret=acme.cc_secret
    )

    signin = sign_in(credentials)

    assert _organization_name(credentials, signin) == "Acme Test"


def test_https_host_name_in_the_certificate_works_as_a_domain(org, acme):
    port = org.url.rsplit(":", 1)[1]
    credentials = SalesforceCredentials(
        conn_id="salesforce_default",
        auth_method="client_credentials",
        hosts=normalize_domain(f"https://localhost:{port}/lightning/page/home"),
        ca_bundle=org.ca_bundle,
        consumer_key=acme.cc_key,
        consumer_secret=acme.cc_secret,
    )

    signin = sign_in(credentials)

    # The API base comes from the sign-in answer, not from the domain that was configured.
    assert signin.instance_url == org.url


@pytest.mark.parametrize(
    ("method", "fields", "message"),
    [
        (
            "jwt_bearer",
            {},
            "Salesforce connection 'salesforce_default' uses auth_method 'jwt_bearer' but lacks "
            "consumer_key, private_key, jwt_subject. Set the 'consumer_key' extra (the External Client "
            "App's Consumer Key). Set the 'private_key' extra (PEM text) or 'private_key_file_path' (a PEM "
            "file). Set the 'jwt_subject' extra or the connection's login (the integration user's username).",
        ),
        (
            "client_credentials",
            {"consumer_key": "3MVGx"},
            "Salesforce connection 'salesforce_default' uses auth_method 'client_credentials' but lacks "
            "consumer_secret. Set the 'consumer_secret' extra (the External Client App's Consumer Secret).",
        ),
        (
            "oauth",
            {"consumer_key": "3MVGx"},
            "Salesforce connection 'salesforce_default' uses auth_method 'oauth' but lacks refresh_token. "
            "Set the 'refresh_token' extra (get one with 'python -m salesforce_access.oauth_setup').",
        ),
        (
            "password",
            {"username": "integration@acme.test"},
            "Salesforce connection 'salesforce_default' uses auth_method 'password' but lacks password. Set "
            "the connection's password.",
        ),
        (
            "saml",
            {},
            "Salesforce connection 'salesforce_default' has auth_method 'saml'; use one of oauth, "
            "jwt_bearer, client_credentials, password in the 'auth_method' extra.",
        ),
    ],
    ids=["jwt_bearer", "client_credentials", "oauth", "password", "unknown"],
)
def test_missing_fields_are_named_with_the_method(method, fields, message):
    with pytest.raises(ConfigurationError) as raised:
        SalesforceCredentials(
            conn_id="salesforce_default", auth_method=method, hosts=normalize_domain("acme.my"), **fields
        )

    assert str(raised.value) == message


def test_private_key_that_is_not_a_key(org, acme):
    credentials = _credentials(
        org, "jwt_bearer", consumer_key=acme.jwt_key, private_key="not a key", jwt_subject=acme.integration
    )

    with pytest.raises(ConfigurationError) as raised:
        sign_in(credentials)

    assert str(raised.value) == (
        "Salesforce connection 'salesforce_default': the private key is not an RSA private key in PEM form "
        "(InvalidKeyError). Set 'private_key' or 'private_key_file_path' to the key whose certificate is "
        "uploaded to the External Client App (it starts with '-----BEGIN PRIVATE KEY-----' or '-----BEGIN "
        "RSA PRIVATE KEY-----')."
    )


def test_missing_connection_and_unreadable_key_file(airflow_connection, tmp_path):
    with pytest.raises(ConfigurationError) as missing:
        credentials_from_connection("salesforce_nowhere")
    airflow_connection("salesforce_default", login="a@b.c", auth_method="jwt_bearer", consumer_key="3MVGx",
                       private_key_file_path=str(tmp_path / "gone.pem"))  # fmt: skip
    with pytest.raises(ConfigurationError) as unreadable:
        credentials_from_connection("salesforce_default")

    assert str(missing.value) == (
        "Airflow connection 'salesforce_nowhere' does not exist. Create it with conn type 'salesforce' "
        "(Admin > Connections, 'airflow connections add', or an AIRFLOW_CONN_SALESFORCE_NOWHERE environment "
        "variable)."
    )
    assert str(unreadable.value) == (
        f"Salesforce connection 'salesforce_default' has private_key_file_path '{tmp_path}/gone.pem', which "
        "cannot be read (No such file or directory). Point it at the PEM private key file, readable by the "
        "Airflow worker."
    )


def test_bad_domain_in_a_connection_names_the_field(airflow_connection):
    airflow_connection("salesforce_default", auth_method="client_credentials", consumer_key="3MVGx",
                       consumer_secret="s", domain="http://acme.my.salesforce.com")  # fmt: skip

    with pytest.raises(ConfigurationError) as raised:
        credentials_from_connection("salesforce_default")

    assert str(raised.value) == (
        "Salesforce connection 'salesforce_default', field 'domain': Salesforce domain "
        "'http://acme.my.salesforce.com' uses http://; Salesforce and this pipeline sign in over TLS only. "
        "Write the domain with https:// (or without a scheme)."
    )


# ---- how connection fields map to hosts, as the provider and ConductorOne write them ------------


@pytest.mark.parametrize(
    ("extras", "login_url", "audience"),
    [
        (
            {"domain": "acme.my.salesforce.com"},
            "https://acme.my.salesforce.com",
            "https://login.salesforce.com",
        ),
        ({"domain": "test"}, "https://test.salesforce.com", "https://test.salesforce.com"),
        (
            {"domain": "login", "instance_url": "acme.my"},
            "https://acme.my.salesforce.com",
            "https://login.salesforce.com",
        ),
        (
            {"domain": "test", "instance_url": "acme--uat.sandbox.my"},
            "https://acme--uat.sandbox.my.salesforce.com",
            "https://test.salesforce.com",
        ),
        (
            {"domain": "https://acme--uat.lightning.force.com/", "login_url": "https://test.salesforce.com"},
            "https://acme--uat.my.salesforce.com",
            "https://test.salesforce.com",
        ),
        (
            {"login_url": "https://test.salesforce.com"},
            "https://test.salesforce.com",
            "https://test.salesforce.com",
        ),
        ({}, "https://login.salesforce.com", "https://login.salesforce.com"),
    ],
    ids=[
        "my domain",
        "provider test",
        "provider jwt",
        "provider sandbox jwt",
        "c1 sandbox",
        "login_url",
        "none",
    ],
)
def test_connection_fields_choose_the_login_host_and_jwt_audience(extras, login_url, audience):
    credentials = credentials_from_fields(
        "salesforce_default",
        login="integration@acme.test",
        password=None,
        host=None,
        extras={"auth_method": "jwt_bearer", "consumer_key": "3MVGx", "private_key": "pem", **extras},
    )

    assert credentials.hosts.login_url == login_url
    assert credentials.facts.audience == audience


def test_secrets_stay_out_of_repr(org, acme):
    credentials = _credentials(
        org, "password", username=acme.integration, password=acme.password, security_token=acme.security_token
    )

    signin = sign_in(credentials)

    shown = repr(credentials) + repr(signin)
    for secret in (acme.password, acme.security_token, signin.access_token):
        assert secret not in shown
