"""Every form of Salesforce address an admin may paste, and what sign-in makes of it."""

from __future__ import annotations

import pytest

from salesforce_access.domains import SalesforceHosts, normalize_domain
from salesforce_access.errors import ConfigurationError

LOGIN = "https://login.salesforce.com"
TEST = "https://test.salesforce.com"

# input -> (login URL, My Domain URL, is_sandbox, JWT audience)
FORMS = {
    # The six forms of the connector's setup page.
    "acme.my.salesforce.com": (
        "https://acme.my.salesforce.com",
        "https://acme.my.salesforce.com",
        False,
        LOGIN,
    ),
    "acme--uat.sandbox.my.salesforce.com": (
        "https://acme--uat.sandbox.my.salesforce.com",
        "https://acme--uat.sandbox.my.salesforce.com",
        True,
        TEST,
    ),
    "test.salesforce.com": (TEST, None, True, TEST),
    "acme.lightning.force.com": (
        "https://acme.my.salesforce.com",
        "https://acme.my.salesforce.com",
        False,
        LOGIN,
    ),
    "acme-dev-ed.develop.lightning.force.com": (
        "https://acme-dev-ed.develop.my.salesforce.com",
        "https://acme-dev-ed.develop.my.salesforce.com",
        False,
        LOGIN,
    ),
    "acme--uat.sandbox.lightning.force.com": (
        "https://acme--uat.sandbox.my.salesforce.com",
        "https://acme--uat.sandbox.my.salesforce.com",
        True,
        TEST,
    ),
    # Generic login host, and the browser's decorations around any form.
    "login.salesforce.com": (LOGIN, None, False, LOGIN),
    "https://login.salesforce.com/": (LOGIN, None, False, LOGIN),
    "https://acme.my.salesforce.com/": (
        "https://acme.my.salesforce.com",
        "https://acme.my.salesforce.com",
        False,
        LOGIN,
    ),
    "  HTTPS://Acme.Lightning.Force.com/lightning/setup/SetupOneHome/home?setupid=Users#top  ": (
        "https://acme.my.salesforce.com",
        "https://acme.my.salesforce.com",
        False,
        LOGIN,
    ),
    "https://acme--uat.sandbox.lightning.force.com/lightning/page/home": (
        "https://acme--uat.sandbox.my.salesforce.com",
        "https://acme--uat.sandbox.my.salesforce.com",
        True,
        TEST,
    ),
    "acme.my.salesforce.com.": (
        "https://acme.my.salesforce.com",
        "https://acme.my.salesforce.com",
        False,
        LOGIN,
    ),
    "https://acme.my.salesforce.com:443/": (
        "https://acme.my.salesforce.com",
        "https://acme.my.salesforce.com",
        False,
        LOGIN,
    ),
    # Other partitions, the legacy sandbox form, the Setup and Visualforce hosts, old instances.
    "acme--uat.my.salesforce.com": (
        "https://acme--uat.my.salesforce.com",
        "https://acme--uat.my.salesforce.com",
        True,
        TEST,
    ),
    "acme--uat.lightning.force.com": (
        "https://acme--uat.my.salesforce.com",
        "https://acme--uat.my.salesforce.com",
        True,
        TEST,
    ),
    "play.scratch.lightning.force.com": (
        "https://play.scratch.my.salesforce.com",
        "https://play.scratch.my.salesforce.com",
        True,
        TEST,
    ),
    "acme.my.salesforce-setup.com/lightning/setup": (
        "https://acme.my.salesforce.com",
        "https://acme.my.salesforce.com",
        False,
        LOGIN,
    ),
    "acme--c.vf.force.com/apex/Page": (
        "https://acme.my.salesforce.com",
        "https://acme.my.salesforce.com",
        False,
        LOGIN,
    ),
    "acme--uat--c.sandbox.vf.force.com": (
        "https://acme--uat.sandbox.my.salesforce.com",
        "https://acme--uat.sandbox.my.salesforce.com",
        True,
        TEST,
    ),
    "na123.salesforce.com": ("https://na123.salesforce.com", None, False, LOGIN),
    "cs42.salesforce.com": ("https://cs42.salesforce.com", None, True, TEST),
    # The Airflow provider's ``domain`` labels.
    "login": (LOGIN, None, False, LOGIN),
    "test": (TEST, None, True, TEST),
    "acme.my": ("https://acme.my.salesforce.com", "https://acme.my.salesforce.com", False, LOGIN),
    "acme--uat.sandbox.my": (
        "https://acme--uat.sandbox.my.salesforce.com",
        "https://acme--uat.sandbox.my.salesforce.com",
        True,
        TEST,
    ),
    "acme-dev-ed.develop.my": (
        "https://acme-dev-ed.develop.my.salesforce.com",
        "https://acme-dev-ed.develop.my.salesforce.com",
        False,
        LOGIN,
    ),
    # Any other https host (a proxy, a local org) is used as given, port included; .my is also a TLD.
    "https://sf-proxy.example.com.my": (
        "https://sf-proxy.example.com.my",
        "https://sf-proxy.example.com.my",
        False,
        "https://sf-proxy.example.com.my",
    ),
    "https://127.0.0.1:8443": (
        "https://127.0.0.1:8443",
        "https://127.0.0.1:8443",
        False,
        "https://127.0.0.1:8443",
    ),
    "127.0.0.1:8443/services/": (
        "https://127.0.0.1:8443",
        "https://127.0.0.1:8443",
        False,
        "https://127.0.0.1:8443",
    ),
    "https://SF-Proxy.corp.example/": (
        "https://sf-proxy.corp.example",
        "https://sf-proxy.corp.example",
        False,
        "https://sf-proxy.corp.example",
    ),
    "https://[::1]:9443": ("https://[::1]:9443", "https://[::1]:9443", False, "https://[::1]:9443"),
}


@pytest.mark.parametrize(("value", "expected"), FORMS.items(), ids=list(FORMS))
def test_normalize_domain_accepts_each_pasted_form(value, expected):
    login_url, my_domain_url, is_sandbox, audience = expected

    hosts = normalize_domain(value)

    assert hosts == SalesforceHosts(login_url=login_url, my_domain_url=my_domain_url, is_sandbox=is_sandbox)
    assert hosts.jwt_audience == audience
    assert hosts.token_url == f"{login_url}/services/oauth2/token"


HINT_LIGHTNING = (
    "Paste the address from your browser's address bar, for example 'https://acme.lightning.force.com'."
)
NOT_API = (
    "is not a host where Salesforce serves sign-in and the API (Visualforce, Experience Cloud, file and help "
    "sites are not). Use the org's My Domain, shown in Setup > My Domain (for example "
    "'acme.my.salesforce.com'), or the address of any Lightning page of the org (for example "
    "'acme.lightning.force.com')."
)
EMPTY = (
    "is missing or empty ({!r}). Set it to the org's My Domain, for example 'https://acme.my.salesforce.com' "
    "(Setup > My Domain), or to the address of any Lightning page of the org."
)
GARBAGE = {
    "": "Salesforce domain " + EMPTY.format(""),
    "   ": "Salesforce domain " + EMPTY.format("   "),
    "http://acme.my.salesforce.com": (
        "Salesforce domain 'http://acme.my.salesforce.com' uses http://; Salesforce and this pipeline "
        "sign in over TLS only. Write the domain with https:// (or without a scheme)."
    ),
    "http://127.0.0.1:8443": (
        "Salesforce domain 'http://127.0.0.1:8443' uses http://; Salesforce and this pipeline sign in "
        "over TLS only. Write the domain with https:// (or without a scheme)."
    ),
    "ftp://acme.my.salesforce.com": (
        "Salesforce domain 'ftp://acme.my.salesforce.com' has scheme 'ftp'; only https:// is supported. "
        "Write the domain as https://<host> or just <host>."
    ),
    "https://integration:hunter2@acme.my.salesforce.com": (
        "Salesforce domain 'https://***@acme.my.salesforce.com' contains a user name or password before '@'. "
        "Put only the host in the domain; credentials belong in the connection's own fields."
    ),
    "acme my salesforce": f"Salesforce domain 'acme my salesforce' has no valid host name. {HINT_LIGHTNING}",
    "https://": f"Salesforce domain 'https://' has no valid host name. {HINT_LIGHTNING}",
    "acme.my.salesforce.com:8443": (
        "Salesforce domain 'acme.my.salesforce.com:8443' has port 8443, but Salesforce hosts answer on 443 "
        "only. Remove ':8443' from the domain."
    ),
    "acme.my.site.com": f"Salesforce domain 'acme.my.site.com' {NOT_API}",
    "help.salesforce.com/s/articleView": f"Salesforce domain 'help.salesforce.com/s/articleView' {NOT_API}",
    "my.salesforce.com": f"Salesforce domain 'my.salesforce.com' {NOT_API}",
    "c.na123.visual.force.com": f"Salesforce domain 'c.na123.visual.force.com' {NOT_API}",
}


@pytest.mark.parametrize(("value", "message"), GARBAGE.items(), ids=list(GARBAGE))
def test_normalize_domain_refuses_garbage_with_the_fix(value, message):
    with pytest.raises(ConfigurationError) as raised:
        normalize_domain(value)

    assert str(raised.value) == message
    assert "hunter2" not in str(raised.value)
