"""Bad input answered as Salesforce answers it: impossible literals, deep nesting, over-long requests,
malformed control-API bodies and fixtures, and command-line mistakes (exit 2, one line on stderr)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import certifi
import pytest
import requests
from simple_salesforce.exceptions import SalesforceGeneralError, SalesforceMalformedRequest

from local_salesforce import soql, testing
from local_salesforce.errors import ApiError

REPO = Path(__file__).resolve().parents[2]
TOO_LONG_URI = "<h1>Bad Message 414</h1><pre>reason: URI Too Long</pre>"
TOO_LARGE_HEADERS = "<h1>Bad Message 431</h1><pre>reason: Request Header Fields Too Large</pre>"


def _query_error(sf, query: str) -> dict:
    with pytest.raises(SalesforceMalformedRequest) as failure:
        sf.query(query)
    [item] = failure.value.content
    return dict(item)


def _caret_message(query: str, token: str, detail: str) -> str:
    """Salesforce's one-line-query message with the caret under the first `token` (§3.7)."""
    column = query.index(token) + 1
    return f"\n{query}\n{' ' * (column - 1)}^\nERROR at Row:1:Column:{column}\n{detail}"


# ---- 1. impossible date and datetime literals ------------------------------------------------------


def test_impossible_datetime_is_malformed_query_with_caret(sf):
    query = "SELECT Id FROM User WHERE CreatedDate > 2020-13-45T00:00:00Z"

    assert _query_error(sf, query) == {
        "message": "\nSELECT Id FROM User WHERE CreatedDate > 2020-13-45T00:00:00Z\n"
        "                                        ^\n"
        "ERROR at Row:1:Column:41\n"
        "unexpected token: '2020-13-45T00:00:00Z'",
        "errorCode": "MALFORMED_QUERY",
    }


@pytest.mark.parametrize(
    "literal",
    [
        "2020-02-30T00:00:00Z",  # no 30 February
        "2021-02-29T00:00:00Z",  # not a leap year
        "2020-01-01T24:00:00Z",
        "2020-01-01T00:60:00Z",
        "2020-02-10T00:00:00+25:00",  # no such offset
        "2020-02-10T00:00:00-18:30",
        "2020-02-10T00:00:00+05:60",
        "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
        "2020-02-30",  # a date literal of a day that does not exist
        "2020-00-10",
    ],
)
def test_impossible_literals_are_malformed_query(sf, literal):
    query = f"SELECT Id FROM User WHERE CreatedDate > {literal}"

    assert _query_error(sf, query) == {
        "message": _caret_message(query, literal, f"unexpected token: '{literal}'"),
        "errorCode": "MALFORMED_QUERY",
    }


@pytest.mark.parametrize(
    "literal", ["2020-02-29T00:00:00Z", "2020-02-10T00:00:00+18:00", "2020-02-10T00:00:00-14:00"]
)
def test_real_datetimes_at_the_edges_still_work(sf, literal):
    assert sf.query(f"SELECT COUNT() FROM User WHERE CreatedDate > {literal}")["totalSize"] == 8


def test_a_real_date_against_a_datetime_field_is_still_a_type_error(sf):
    query = "SELECT Id FROM User WHERE CreatedDate > 2020-02-29"

    assert _query_error(sf, query)["errorCode"] == "INVALID_FIELD"


def test_an_impossible_date_after_a_syntax_error_reports_the_syntax_error(sf):
    query = "SELECT Id FROM User WHERE CreatedDate > > 2020-02-30"

    assert _query_error(sf, query) == {
        "message": _caret_message(query, "> 2020", "unexpected token: '>'"),
        "errorCode": "MALFORMED_QUERY",
    }


def test_a_number_too_long_for_python_is_malformed_query(sf):
    digits = "1" * 5000
    query = f"SELECT Id FROM User WHERE Id = {digits}"

    assert _query_error(sf, query) == {
        "message": _caret_message(query, digits, f"unexpected token: '{digits[:40]}'"),
        "errorCode": "MALFORMED_QUERY",
    }


def test_date_literal_n_past_the_calendar(sf):
    assert sf.query("SELECT COUNT() FROM User WHERE CreatedDate = LAST_N_DAYS:999999999")["totalSize"] == 8
    assert sf.query("SELECT COUNT() FROM User WHERE CreatedDate = NEXT_N_MONTHS:999999999")["totalSize"] == 0
    query = "SELECT Id FROM User WHERE CreatedDate = LAST_N_DAYS:1234567890"
    assert _query_error(sf, query) == {
        "message": _caret_message(query, "LAST_N", "unexpected token: 'LAST_N_DAYS:1234567890'"),
        "errorCode": "MALFORMED_QUERY",
    }


# ---- 2. nesting ------------------------------------------------------------------------------------


def test_two_thousand_nested_parentheses_are_malformed_query(sf):
    query = "SELECT Id FROM User WHERE " + "(" * 2000 + "IsActive = true" + ")" * 2000
    column = len("SELECT Id FROM User WHERE ") + soql.MAX_NESTING + 1  # the first paren past the limit

    assert _query_error(sf, query) == {
        "message": f"\n{query}\n{' ' * (column - 1)}^\nERROR at Row:1:Column:{column}\nunexpected token: '('",
        "errorCode": "MALFORMED_QUERY",
    }


def test_nesting_up_to_the_limit_is_answered(sf):
    depth = soql.MAX_NESTING
    parens = "SELECT COUNT() FROM User WHERE " + "(" * depth + "IsActive = true" + ")" * depth
    nots = "SELECT COUNT() FROM User WHERE " + "NOT " * (depth - 1) + "IsActive = false"  # odd: negated
    active = sf.query("SELECT COUNT() FROM User WHERE IsActive = true")["totalSize"]

    assert 0 < active < 8
    assert sf.query(parens)["totalSize"] == sf.query(nots)["totalSize"] == active


@pytest.mark.parametrize(
    "query",
    [
        "SELECT Id FROM User WHERE " + "NOT " * 2000 + "IsActive = true",
        "SELECT Id FROM User WHERE Id IN "
        + "(SELECT AssigneeId FROM PermissionSetAssignment WHERE AssigneeId IN " * 150
        + "('005000000000000AAA')"
        + ")" * 150,
    ],
    ids=["NOT", "semi-join"],
)
def test_other_deep_nesting_is_malformed_query(sf, query):
    item = _query_error(sf, query)

    assert item["errorCode"] == "MALFORMED_QUERY"
    assert item["message"].startswith(f"\n{query}\n")
    assert item["message"].endswith(("unexpected token: 'NOT'", "unexpected token: 'SELECT'"))


# ---- 3. length limits ------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [20_000, 60_000, 200_000, 2_000_000])
def test_every_over_long_uri_gets_salesforces_414(sf, size):
    with pytest.raises(SalesforceGeneralError) as failure:
        sf.query("SELECT Id FROM User WHERE Username = '" + "a" * size + "'")

    assert failure.value.status == 414
    assert failure.value.content == TOO_LONG_URI


def test_414_headers_and_connection_close(local_org, http):
    for size in (20_000, 200_000):
        response = http.get(f"{local_org.url}/services/data/v59.0/query", params={"q": "x" * size})

        assert (response.status_code, response.text) == (414, TOO_LONG_URI)
        assert response.headers["Content-Type"] == "text/html;charset=iso-8859-1"
        assert response.headers["Connection"] == "close"


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Padding": "x" * 17_000},  # URI + headers over 16,384 bytes
        {"X-Padding": "x" * 70_000},  # one header line longer than the HTTP layer reads
        {f"X-Header-{number}": "1" for number in range(150)},  # more headers than the HTTP layer takes
    ],
    ids=["total", "one-line", "count"],
)
def test_every_oversized_header_block_gets_salesforces_431(local_org, http, headers):
    response = http.get(f"{local_org.url}/services/data/v59.0/limits", headers=headers)

    assert (response.status_code, response.text) == (431, TOO_LARGE_HEADERS)
    assert response.headers["Content-Type"] == "text/html;charset=iso-8859-1"


def test_statement_over_100000_characters_is_malformed_query():
    # No REST path takes a statement in a body (query is GET only and its URI stops at 16,384 bytes),
    # so the statement limit is checked where the parser is called.
    statement = "SELECT Id FROM User WHERE Username = '" + "a" * 100_000 + "'"

    with pytest.raises(ApiError) as failure:
        soql.parse(statement)

    assert (failure.value.status, failure.value.item()) == (
        400,
        {
            "message": "SOQL statements can not be longer than 100000 characters",
            "errorCode": "MALFORMED_QUERY",
        },
    )


def test_a_statement_of_exactly_100000_characters_is_parsed():
    statement = "SELECT Id FROM User WHERE Username = '" + "a" * (100_000 - 39) + "'"

    assert len(statement) == 100_000
    assert soql.parse(statement).object_name == "User"


@pytest.mark.parametrize("length", ["abc", "-1", "²"])
def test_invalid_content_length_is_a_bad_message(local_org, length):
    response = local_org.http_session().post(
        f"{local_org.url}/services/data/v59.0/limits", headers={"Content-Length": length}
    )

    assert (response.status_code, response.text) == (
        400,
        "<h1>Bad Message 400</h1><pre>reason: Invalid Content-Length Value</pre>",
    )


def test_deeply_nested_rest_body_is_a_json_parser_error(local_org, sf):
    response = local_org.http_session().post(
        f"{sf.base_url}sobjects/User/",
        data="[" * 100_000,
        headers={"Authorization": f"Bearer {sf.session_id}", "Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert response.json() == [
        {"message": "Request body nested too deeply", "errorCode": "JSON_PARSER_ERROR"}
    ]


# ---- 4. control API bodies ---------------------------------------------------------------------------


def _control(local_org, method: str, action: str, body: str) -> requests.Response:
    return local_org.http_session().request(method, f"{local_org.url}/__local_org__/{action}", data=body)


@pytest.mark.parametrize(
    ("method", "action"),
    [
        ("POST", "reset"),
        ("POST", "fixture"),
        ("POST", "switches"),
        ("GET", "switches"),
        ("POST", "faults"),
        ("GET", "faults"),
        ("DELETE", "faults"),
        ("POST", "expire_sessions"),
        ("GET", "journal"),
        ("GET", "api_calls"),
        ("GET", "records/User"),
    ],
)
@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("[1,2]", "body must be a JSON object, got a list"),
        ("5", "body must be a JSON object, got a number"),
        ('"x"', "body must be a JSON object, got a string"),
        ("null", "body must be a JSON object, got null"),
        (
            "{bad",
            "body is not JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        ),
        ('{"a": NaN}', "body is not JSON: NaN is not a JSON value"),
        ("[" * 100_000, "body is not JSON: nested too deeply"),
        (
            b"\xff{",
            "body is not JSON: 'utf-8' codec can't decode byte 0xff in position 0: invalid start byte",
        ),
    ],
    ids=["list", "number", "string", "null", "broken", "NaN", "deep", "not-utf8"],
)
def test_every_control_endpoint_rejects_a_body_that_is_not_an_object(local_org, method, action, body, error):
    response = _control(local_org, method, action, body)

    assert (response.status_code, response.json()) == (400, {"error": error})


@pytest.mark.parametrize(
    ("method", "action"),
    [
        ("POST", "reset"),
        ("GET", "switches"),
        ("POST", "expire_sessions"),
        ("GET", "journal"),
        ("DELETE", "faults"),
    ],
)
def test_actions_without_parameters_reject_body_fields(local_org, method, action):
    response = _control(local_org, method, action, '{"b": 1, "a": 2}')

    assert (response.status_code, response.json()) == (
        400,
        {"error": f"{method} {action} takes no body fields, got: a, b"},
    )


def test_actions_without_parameters_accept_an_empty_object(local_org):
    assert _control(local_org, "POST", "reset", "{}").json() == {"ok": True}


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ({}, "kind is required and must be one of 401, 500, 503, 503_html, latency, limit, lock, timeout"),
        (
            {"kind": "nope"},
            'kind must be one of 401, 500, 503, 503_html, latency, limit, lock, timeout, got "nope"',
        ),
        (
            {"kind": "503", "colour": "red"},
            "unknown fault fields: colour (known: kind, path_contains, method, count, probability, "
            "retry_after, latency_ms, record_id)",
        ),
        (
            {"kind": "503", "count": "2"},
            'count must be an integer of at least 1, or null for every call, got "2"',
        ),
        (
            {"kind": "503", "count": 0},
            "count must be an integer of at least 1, or null for every call, got 0",
        ),
        (
            {"kind": "503", "count": True},
            "count must be an integer of at least 1, or null for every call, got true",
        ),
        ({"kind": "503", "probability": 1.5}, "probability must be a number from 0 to 1, got 1.5"),
        ({"kind": "503", "probability": "half"}, 'probability must be a number from 0 to 1, got "half"'),
        ({"kind": "latency", "latency_ms": -5}, "latency_ms must be a non-negative number, got -5"),
        ({"kind": "503", "retry_after": 1.5}, "retry_after must be a non-negative integer, got 1.5"),
        ({"kind": "503", "method": ["GET"]}, 'method must be an HTTP method such as GET, got ["GET"]'),
        ({"kind": "503", "path_contains": 5}, "path_contains must be a string, got 5"),
        ({"kind": "lock", "record_id": 5}, "record_id must be a string, got 5"),
    ],
)
def test_fault_bodies_are_checked_field_by_field(local_org, fault, error):
    response = _control(local_org, "POST", "faults", json.dumps(fault))

    assert (response.status_code, response.json()) == (400, {"error": error})
    assert _control(local_org, "GET", "faults", "").json() == []


def test_a_valid_fault_with_nulls_is_still_taken(local_org, sf):
    fault = {"kind": "503", "path_contains": "/query", "count": 1, "method": None, "probability": None}

    assert _control(local_org, "POST", "faults", json.dumps(fault)).json() == {"ok": True}
    with pytest.raises(SalesforceGeneralError) as failure:
        sf.query("SELECT Id FROM Organization")
    assert failure.value.status == 503


@pytest.mark.parametrize(
    ("switches", "error"),
    [
        (
            {"validation_rules": [1]},
            'validation_rules: [0]: must be an object like {"object": "User", "field": '
            '"...", "message": "..."}',
        ),
        ({"validation_rules": [{"object": "User"}]}, "validation_rules: [0]: 'field' must be a string"),
        (
            {"validation_rules": [{"object": "User", "field": "Title", "when": "create"}]},
            "validation_rules: [0]: unknown keys when (known: object, field, on, message, top_of_page)",
        ),
        (
            {"validation_rules": [{"object": "User", "field": "Title", "on": "delete"}]},
            "validation_rules: [0]: 'on' must be create, update or both",
        ),
        (
            {"validation_rules": [{"object": "User", "field": "Title", "top_of_page": "yes"}]},
            "validation_rules: [0]: 'top_of_page' must be true or false",
        ),
        (
            {"other_org_usernames": ["a@b.test", 7]},
            "other_org_usernames: must be a list of usernames (strings)",
        ),
    ],
)
def test_switch_values_that_dml_reads_are_checked_for_shape(local_org, switches, error):
    response = _control(local_org, "POST", "switches", json.dumps(switches))

    assert (response.status_code, response.json()) == (400, {"error": error})


# ---- 5. fixtures and the command line ----------------------------------------------------------------

OBJECTS_FIXTURE_PROBLEM = (
    "unknown top-level keys 'objects' (allowed: format, org, records); 'format' is missing (it must be 1); "
    "'records' is missing (an object keyed by sObject name)"
)


@pytest.mark.parametrize(
    ("fixture", "problem"),
    [
        ({"objects": 5}, OBJECTS_FIXTURE_PROBLEM),
        ({"format": 2, "records": {}}, "unsupported format 2 (expected 1)"),
        ({"format": "1", "records": {}}, 'unsupported format "1" (expected 1)'),
        ({"format": 1}, "'records' is missing (an object keyed by sObject name)"),
        ({"records": {}}, "'format' is missing (it must be 1)"),
        ({"format": 1, "records": []}, "'records' must be an object keyed by sObject name, got a list"),
        ({"format": 1, "records": {}, "org": None}, "'org' must be an object"),
    ],
)
def test_control_fixture_of_the_wrong_shape_is_refused(local_org, fixture, problem):
    response = _control(local_org, "POST", "fixture", json.dumps(fixture))

    assert (response.status_code, response.json()) == (400, {"error": f"control fixture: {problem}"})
    assert len(local_org.control.records("User")) == 8  # the org still serves what it had


def _run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "local_salesforce", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def _one_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    return line


def test_cli_refuses_a_fixture_of_another_shape(tmp_path):
    path = tmp_path / "org.json"
    path.write_text('{"objects": 5}')

    line = _one_line(_run_cli("--port", "0", "--fixture", str(path)))

    assert line == f"local_salesforce: bad fixture: {path}: {OBJECTS_FIXTURE_PROBLEM}"


def test_cli_refuses_a_fixture_that_is_not_utf8(tmp_path):
    path = tmp_path / "org.json"
    content = b'{"format": 1, "records": {"User": [{"LastName": "M\xfcller"}]}}'  # Latin-1, not UTF-8
    path.write_bytes(content)

    line = _one_line(_run_cli("--port", "0", "--fixture", str(path)))

    offset = content.index(b"\xfc")
    assert line == f"local_salesforce: bad fixture: {path}: not UTF-8 text: byte 0xfc at offset {offset}"


def test_cli_refuses_a_fixture_nested_too_deeply(tmp_path):
    path = tmp_path / "org.json"
    path.write_text("[" * 100_000)

    line = _one_line(_run_cli("--port", "0", "--fixture", str(path)))

    assert line == f"local_salesforce: bad fixture: {path}: not valid JSON: nested too deeply"


@pytest.mark.parametrize("port", ["70000", "-1", "http"])
def test_cli_refuses_a_port_out_of_range(port):
    line = _one_line(_run_cli("--port", port, "--demo"))

    assert line == (
        "python -m local_salesforce: error: argument --port: must be a TCP port from 0 to 65535 "
        f"(0 picks a free one), got '{port}'"
    )


def test_cli_usage_errors_are_one_line_too():
    line = _one_line(_run_cli("--demo"))

    assert line == "python -m local_salesforce: error: the following arguments are required: --port"


def test_cli_refuses_an_unknown_log_level():
    line = _one_line(_run_cli("--port", "0", "--demo", "--log-level", "LOUD"))

    assert line == (
        "python -m local_salesforce: error: argument --log-level: must be DEBUG, INFO, WARNING, ERROR or "
        "CRITICAL (also in LOCAL_SALESFORCE_LOG), got 'LOUD'"
    )


@pytest.mark.parametrize(
    ("state_dir", "reason"),
    [("/proc/nope", "No such file or directory"), ("/dev/null/state", "Not a directory")],
)
def test_cli_refuses_a_state_dir_it_cannot_write(state_dir, reason):
    line = _one_line(_run_cli("--port", "0", "--demo", "--state-dir", state_dir))

    assert line == f"local_salesforce: --state-dir {state_dir}: cannot write there: {reason}"


def test_cli_port_in_use_is_one_line_and_leaves_no_temp_dir(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "TMPDIR": str(tmp_path)}  # where the state directory would be made

        line = _one_line(_run_cli("--port", str(port), "--demo", env=env))

    assert line == f"local_salesforce: --port {port}: port {port} is already in use on 127.0.0.1"
    assert list(tmp_path.iterdir()) == []


# ---- 6. the documented client set-up -------------------------------------------------------------------


def test_documented_client_setup_survives_requests_ca_bundle(local_org, monkeypatch):
    """The reason testing.py's example uses http_session(): the environment beats Session.verify."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
    plain = requests.Session()
    plain.verify = local_org.ca_bundle

    with pytest.raises(requests.exceptions.SSLError):
        plain.get(f"{local_org.url}/services/data")
    assert local_org.http_session().get(f"{local_org.url}/services/data").status_code == 200
    assert "session=org.http_session()" in testing.__doc__
    assert "session.verify = org.ca_bundle" not in testing.__doc__
