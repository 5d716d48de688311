"""What Salesforce's refusals become: the pipeline's error type, its code and the message a person reads."""

from __future__ import annotations

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceError,
    SalesforceRefusedRequest,
)

from salesforce_access.auth import SalesforceCredentials, new_http_session, sign_in
from salesforce_access.domains import normalize_domain
from salesforce_access.errors import (
    ApiLimitError,
    AuthenticationError,
    ConfigurationError,
    FeatureNotEnabledError,
    MissingPermissionError,
    PermanentError,
    RetryableError,
    SalesforceRefused,
)
from salesforce_access.salesforce_errors import translate

pytestmark = pytest.mark.slow

TERRITORIES_OFF = (
    "Enterprise Territory Management 2.0 is not enabled in this org, so the Territory2 objects do not exist. "
    "Turn it on in Setup > Territory Settings > Enable Enterprise Territory Management, or set the option "
    "sync_territories to false."
)
PERMISSIONS = (
    "Sync needs the system permissions API Enabled and Manage Users, plus Customize Application to sync "
    "connected apps; provisioning also needs Manage Roles and Role Hierarchy (roles), Manage Users "
    "(profiles, permission sets, public groups, accounts) and Manage Territories (territories). Add them to "
    "a permission set assigned to the integration user (Setup > Permission Sets), then check with 'python -m "
    "salesforce_access.preflight'."
)


def _client(org, acme, username: str | None = None) -> Salesforce:
    """A real simple-salesforce client signed in by JWT as ``username`` (the integration user by default)."""
    credentials = SalesforceCredentials(
        conn_id="salesforce_default",
        auth_method="jwt_bearer",
        hosts=normalize_domain(org.url),
        ca_bundle=org.ca_bundle,
        consumer_key=acme.jwt_key,
        private_key=acme.private_key,
        jwt_subject=username or acme.integration,
    )
    signin = sign_in(credentials)
    return Salesforce(
        instance_url=signin.instance_url,
        session_id=signin.access_token,
        session=new_http_session(credentials),
        version="62.0",
    )


def _translated(call, context: str):
    with pytest.raises(SalesforceError) as raised:
        call()
    return translate(raised.value, context=context)


def test_territory_query_with_territory_management_off(org, acme):
    sf = _client(org, acme)

    error = _translated(lambda: sf.query("SELECT Id FROM Territory2"), "Querying Territory2")

    assert isinstance(error, FeatureNotEnabledError)
    assert str(error) == (
        f"Querying Territory2: {TERRITORIES_OFF} Salesforce answered \"sObject type 'Territory2' is not "
        'supported". [INVALID_TYPE]'
    )


def test_territory_describe_with_territory_management_off(org, acme):
    sf = _client(org, acme)

    error = _translated(lambda: sf.Territory2.describe(), "Describing Territory2")

    assert isinstance(error, FeatureNotEnabledError)
    assert str(error) == (
        f'Describing Territory2: {TERRITORIES_OFF} Salesforce answered "The requested resource does not '
        'exist". [NOT_FOUND]'
    )


def test_reading_setup_objects_without_manage_users(org, acme):
    sf = _client(org, acme, acme.limited)

    error = _translated(lambda: sf.query("SELECT Id FROM PermissionSetAssignment"), "Querying PSA")

    assert isinstance(error, MissingPermissionError)
    assert str(error) == (
        'Querying PSA: the integration user lacks a permission (Salesforce answered "insufficient access '
        f'rights on object id"). {PERMISSIONS} [INSUFFICIENT_ACCESS]'
    )


def test_daily_api_limit_used_up(org, acme):
    sf = _client(org, acme)
    org.control.set_switches(daily_api_limit=0)

    error = _translated(lambda: sf.query("SELECT Id FROM User"), "Querying User")

    assert isinstance(error, ApiLimitError)
    assert not error.retryable
    assert str(error) == (
        'Querying User: the org has used up its API request allowance (Salesforce answered "TotalRequests '
        'Limit exceeded"). Wait until the 24-hour window frees requests (Setup > Company Information > API '
        "Requests, Last 24 Hours) or ask Salesforce for a higher limit; retrying before then only fails "
        "again. [REQUEST_LIMIT_EXCEEDED]"
    )


@pytest.mark.parametrize(
    ("kind", "code", "said"),
    [
        ("503", "SERVER_UNAVAILABLE", "Server too busy"),
        ("503_html", "HTTP_503", "HTTP 503 with a non-JSON body"),
        ("lock", "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record or 1 records: "
                                       "005000000000000AAA"),
        ("timeout", "QUERY_TIMEOUT", "Your query request was running for too long"),
    ],
)  # fmt: skip
def test_passing_failures_are_retryable(org, acme, kind, code, said):
    sf = _client(org, acme)
    org.control.inject_fault(kind, "/query")

    error = _translated(lambda: sf.query("SELECT Id FROM User"), "Querying User")

    assert isinstance(error, RetryableError)
    assert str(error) == (
        f'Querying User: Salesforce could not serve the request just now (Salesforce answered "{said}"); '
        f"retry later. [{code}]"
    )


def test_platform_error_is_retryable(org, acme):
    sf = _client(org, acme)
    org.control.inject_fault("500", "/query")

    error = _translated(lambda: sf.query("SELECT Id FROM User"), "Querying User")

    assert isinstance(error, RetryableError)
    assert error.error_code == "UNKNOWN_EXCEPTION"
    assert str(error).startswith(
        'Querying User: Salesforce could not serve the request just now (Salesforce answered "An unexpected '
        "error occurred. Please include this ErrorId if you contact support: "
    )


def test_unknown_field_and_malformed_query_are_permanent(org, acme):
    sf = _client(org, acme)

    unknown = _translated(lambda: sf.query("SELECT Foo__c FROM User"), "Querying User")
    malformed = _translated(lambda: sf.query("SELECT Id FROM User WHERE"), "Querying User")

    assert type(unknown) is PermanentError
    assert str(unknown) == (
        'Querying User: Salesforce does not know a field of the query (Salesforce answered "No such column '
        "'Foo__c' on entity 'User'\"). It may not exist at the connection's API version ('version' extra), "
        "or field-level security may hide it from the integration user. [INVALID_FIELD]"
    )
    assert type(malformed) is PermanentError
    assert str(malformed) == (
        "Querying User: Salesforce rejected the query (Salesforce answered \"unexpected token: '<EOF>'\"). "
        "The pipeline built a query this org does not accept: report it with this message. [MALFORMED_QUERY]"
    )


def test_unreachable_org_is_retryable(acme, unused_port):
    sf = Salesforce(instance_url=f"https://127.0.0.1:{unused_port}", session_id="00Dx!y", version="62.0")

    with pytest.raises(requests.exceptions.ConnectionError) as raised:
        sf.query("SELECT Id FROM User")
    error = translate(raised.value, context="Querying User")

    assert isinstance(error, RetryableError)
    assert error.error_code == "CONNECTION_FAILED"
    assert str(error).startswith(f"Querying User: could not reach https://127.0.0.1:{unused_port}/services/")


def test_concurrent_request_limit_is_retryable_unlike_the_daily_one():
    refused = SalesforceRefusedRequest(
        "https://acme.my.salesforce.com/services/data/v62.0/query",
        403,
        "query",
        [{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "ConcurrentRequests (Concurrent API Requests) "
                                                            "Limit exceeded."}],
    )  # fmt: skip

    error = translate(refused)

    assert isinstance(error, RetryableError)
    assert str(error) == (
        "Too many long-running requests are open in this org at once (Salesforce answered "
        '"ConcurrentRequests (Concurrent API Requests) Limit exceeded"); retry later. '
        "[REQUEST_LIMIT_EXCEEDED]"
    )


def test_write_refused_for_its_data_is_recorded_as_refused():
    refused = SalesforceError(
        "https://acme.my.salesforce.com/services/data/v62.0/sobjects/PermissionSetAssignment",
        400,
        "PermissionSetAssignment",
        [{"errorCode": "DUPLICATE_VALUE", "message": "Duplicate PermissionSetAssignment. Assignee: "
                                                     "005000000000002AAA; Permission Set: 0PS000000000004AAA",
          "fields": []}],
    )  # fmt: skip

    error = translate(refused, context="Granting permission:0PS000000000004AAA:assigned")

    assert isinstance(error, SalesforceRefused)
    assert str(error) == (
        "Granting permission:0PS000000000004AAA:assigned: Salesforce refused the change (Salesforce answered "
        '"Duplicate PermissionSetAssignment. Assignee: 005000000000002AAA; Permission Set: '
        '0PS000000000004AAA"). [DUPLICATE_VALUE]'
    )


def test_simple_salesforce_login_failure_reads_like_our_own():
    failed = SalesforceAuthenticationFailed(
        "INVALID_LOGIN", "INVALID_LOGIN: Invalid username, password, security token; or user locked out."
    )

    error = translate(failed)

    assert isinstance(error, AuthenticationError)
    assert str(error) == (
        'Salesforce answered "INVALID_LOGIN: Invalid username, password, security token; or user locked '
        'out": the login host refused the integration user: the password or security token is wrong, or '
        "the user is locked out. Check the connection's password and 'security_token' extra (Settings > "
        "Reset My Security Token emails a new token; resetting the password also changes it). A locked-out "
        "user is unlocked in Setup > Users > (the user). [INVALID_LOGIN]"
    )


def test_access_tokens_never_reach_a_message():
    token = "00D000000000001!AQcAQH0dMHZfz972Szmpkb58urFRkgeBGsxL_QJWwYMfAbUeeG7c1E6L"
    failed = SalesforceError("https://x/services/data", 400, "query", [{"errorCode": "X", "message": token}])

    error = translate(failed)

    assert token not in str(error)
    assert str(error) == 'Salesforce refused the request with X (Salesforce answered "00D…!***"). [X]'


def test_tls_failure_names_the_ca_bundle_fix_and_pipeline_errors_pass_through():
    own = ConfigurationError("already ours")
    tls = requests.exceptions.SSLError("certificate verify failed")

    assert translate(own) is own
    assert isinstance(translate(tls), ConfigurationError)
    assert translate(tls).error_code == "TLS_VERIFY_FAILED"
    assert type(translate(ValueError("odd"))) is PermanentError
    assert str(translate(ValueError("odd"))) == "Unexpected ValueError from the Salesforce client: odd."
