"""Turn whatever Salesforce address an admin pastes into the hosts sign-in uses.

Admins copy the URL from their browser, so the value may be a Lightning page with a long path, a
Setup page, a My Domain, a generic login host or the short ``domain`` labels of the Airflow
provider (``login``, ``test``, ``acme.my``). Everything is reduced to an https origin. The API
base is never taken from here: it always comes from the sign-in response.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from salesforce_access.errors import ConfigurationError

LOGIN_HOST = "login.salesforce.com"
SANDBOX_LOGIN_HOST = "test.salesforce.com"

# Domain suffixes Salesforce itself owns; a host under them follows Salesforce's rules (port 443,
# audience login/test), any other host is a proxy or a local org and is used exactly as given.
_SALESFORCE_SUFFIXES = (".salesforce.com", ".force.com", ".salesforce-setup.com", ".site.com")

# Partition labels of enhanced domains (``acme--uat.sandbox.my.salesforce.com``). Sandboxes and
# scratch orgs sign in through test.salesforce.com, the others through login.salesforce.com.
_SANDBOX_PARTITIONS = frozenset({"sandbox", "scratch"})
_PARTITIONS = _SANDBOX_PARTITIONS | {"develop", "trailblaze", "demo", "patch", "free"}

# Very old orgs still answer on their instance host (na123, cs42, eu5...); cs* are sandboxes.
_INSTANCE_LABEL = re.compile(r"^[a-z]{2,4}\d{1,3}s?$")
_HOST_CHARS = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)*$")
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)?[^/@]*@")


@dataclass(frozen=True)
class SalesforceHosts:
    """Where to sign in to one org.

    ``login_url`` is the https origin that receives the token request or SOAP login: the org's My
    Domain when one is known, else ``login``/``test.salesforce.com``, else a custom host as given.
    ``my_domain_url`` is the org's own host, which the client credentials flow requires.
    """

    login_url: str
    my_domain_url: str | None
    is_sandbox: bool

    @property
    def is_custom_host(self) -> bool:
        """Tell whether the host is not Salesforce's own (a proxy or a local org)."""
        return not _is_salesforce_host(urlsplit(self.login_url).hostname or "")

    @property
    def jwt_audience(self) -> str:
        """Return the ``aud`` claim Salesforce expects in a JWT bearer assertion for this org."""
        if self.is_custom_host:
            return self.login_url
        return f"https://{SANDBOX_LOGIN_HOST if self.is_sandbox else LOGIN_HOST}"

    @property
    def token_url(self) -> str:
        """Return the OAuth token endpoint on the login host."""
        return f"{self.login_url}/services/oauth2/token"


def normalize_domain(value: str) -> SalesforceHosts:
    """Return the sign-in hosts for a domain in any form an admin may paste.

    Raises:
        ConfigurationError: the value is empty, not https, or a Salesforce host that does not
            serve the API (a Visualforce, Experience Cloud or help site), with the fix.
    """
    host, port = _split_host(value)
    if _is_provider_label(value, host, port):
        host = f"{host}.salesforce.com"

    if not _is_salesforce_host(host):
        origin = f"https://{_bracket(host)}" + (f":{port}" if port not in (None, 443) else "")
        return SalesforceHosts(login_url=origin, my_domain_url=origin, is_sandbox=False)

    if port not in (None, 443):
        raise ConfigurationError(
            f"Salesforce domain {_shown(value)!r} has port {port}, but Salesforce hosts answer on "
            f"443 only. Remove ':{port}' from the domain."
        )
    if host in (LOGIN_HOST, SANDBOX_LOGIN_HOST):
        return SalesforceHosts(f"https://{host}", my_domain_url=None, is_sandbox=host == SANDBOX_LOGIN_HOST)
    for suffix, resolve in _SALESFORCE_FORMS:
        if host.endswith(suffix):
            return resolve(host, value)
    return _reject_unknown(host, value)


def _split_host(value: str) -> tuple[str, int | None]:
    """Return the lower-cased host and port of a pasted domain, URL or provider label."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(
            f"Salesforce domain is missing or empty ({value!r}). Set it to the org's My Domain, for "
            "example 'https://acme.my.salesforce.com' (Setup > My Domain), or to the address of any "
            "Lightning page of the org."
        )
    text = value.strip()
    scheme, separator, _ = text.partition("://")
    if separator:
        if scheme.lower() == "http":
            raise ConfigurationError(
                f"Salesforce domain {_shown(text)!r} uses http://; Salesforce and this pipeline sign "
                "in over TLS only. Write the domain with https:// (or without a scheme)."
            )
        if scheme.lower() != "https":
            raise ConfigurationError(
                f"Salesforce domain {_shown(text)!r} has scheme {scheme!r}; only https:// is "
                "supported. Write the domain as https://<host> or just <host>."
            )
        text = text[len(scheme) + 3 :]

    try:
        parts = urlsplit(f"https://{text}")
        host, port = (parts.hostname or "").rstrip("."), parts.port
    except ValueError as exc:
        raise ConfigurationError(
            f"Salesforce domain {_shown(value)!r} is not a valid host or URL ({exc}). Paste the "
            "address from your browser's address bar, for example 'acme.lightning.force.com'."
        ) from exc
    if parts.username is not None or parts.password is not None:
        raise ConfigurationError(
            f"Salesforce domain {_shown(value)!r} contains a user name or password before '@'. Put "
            "only the host in the domain; credentials belong in the connection's own fields."
        )
    if not host or not (_HOST_CHARS.match(host) or _is_ip(host)):
        raise ConfigurationError(
            f"Salesforce domain {_shown(value)!r} has no valid host name. Paste the address from "
            "your browser's address bar, for example 'https://acme.lightning.force.com'."
        )
    return host, port


def _is_provider_label(value: str, host: str, port: int | None) -> bool:
    """Tell a label of the provider's ``domain`` extra: ``test``, ``acme.my``, ``acme--uat.sandbox.my``.

    The provider completes these with ".salesforce.com". Only a bare value can be one: with a scheme
    or a port, ``something.my`` is a host of its own (.my is also Malaysia's top-level domain).
    """
    if "://" in value or port is not None:
        return False
    labels = host.split(".")
    if labels in (["login"], ["test"]):
        return True
    return labels[-1] == "my" and (len(labels) == 2 or (len(labels) == 3 and labels[1] in _PARTITIONS))


def _my_domain(host: str, value: str) -> SalesforceHosts:
    """Resolve ``name[.partition].my.salesforce.com``: the org's own login and API host."""
    labels = host[: -len(".my.salesforce.com")].split(".")
    is_sandbox = "--" in labels[0] or any(label in _SANDBOX_PARTITIONS for label in labels[1:])
    url = f"https://{host}"
    return SalesforceHosts(login_url=url, my_domain_url=url, is_sandbox=is_sandbox)


def _lightning(host: str, value: str) -> SalesforceHosts:
    """Map a Lightning UI host to its My Domain; Lightning hosts redirect API POSTs and lose the body."""
    return _my_domain(host[: -len(".lightning.force.com")] + ".my.salesforce.com", value)


def _setup_domain(host: str, value: str) -> SalesforceHosts:
    """Map a Setup UI host (``acme.my.salesforce-setup.com``) to its My Domain."""
    return _my_domain(host[: -len(".my.salesforce-setup.com")] + ".my.salesforce.com", value)


def _visualforce(host: str, value: str) -> SalesforceHosts:
    """Derive the My Domain from an enhanced Visualforce host.

    ``acme--pkg.vf.force.com`` belongs to ``acme`` and ``acme--uat--pkg.sandbox.vf.force.com`` to
    ``acme--uat``; the package part is always the last ``--`` segment of the first label.
    """
    labels = host[: -len(".vf.force.com")].split(".")
    name, _, package = labels[0].rpartition("--")
    expected_dashes = 1 if "sandbox" in labels[1:] else 0
    if not name or not package or name.count("--") != expected_dashes:
        return _reject_unknown(host, value)
    return _my_domain(".".join([name, *labels[1:]]) + ".my.salesforce.com", value)


def _instance_or_reject(host: str, value: str) -> SalesforceHosts:
    """Accept a legacy instance host (``na123.salesforce.com``); refuse other salesforce.com sites."""
    label = host[: -len(".salesforce.com")]
    if not _INSTANCE_LABEL.match(label):
        return _reject_unknown(host, value)
    return SalesforceHosts(login_url=f"https://{host}", my_domain_url=None, is_sandbox=label.startswith("cs"))


def _reject_unknown(host: str, value: str) -> SalesforceHosts:
    """Refuse a Salesforce host that serves pages or files but not the API."""
    raise ConfigurationError(
        f"Salesforce domain {_shown(value)!r} is not a host where Salesforce serves sign-in and the API "
        "(Visualforce, Experience Cloud, file and help sites are not). Use the org's My Domain, shown "
        "in Setup > My Domain (for example 'acme.my.salesforce.com'), or the address of any Lightning "
        "page of the org (for example 'acme.lightning.force.com')."
    )


# Checked in order, most specific suffix first: each maps a suffix to the function resolving it.
_SALESFORCE_FORMS: tuple[tuple[str, Callable[[str, str], SalesforceHosts]], ...] = (
    (".my.salesforce.com", _my_domain),
    (".lightning.force.com", _lightning),
    (".my.salesforce-setup.com", _setup_domain),
    (".vf.force.com", _visualforce),
    (".salesforce.com", _instance_or_reject),
)


def _is_salesforce_host(host: str) -> bool:
    return any(host.endswith(suffix) for suffix in _SALESFORCE_SUFFIXES)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _bracket(host: str) -> str:
    """Put an IPv6 literal in brackets so it can carry a port."""
    return f"[{host}]" if ":" in host else host


def _shown(value: str) -> str:
    """Return the value safe to show in a message: whatever precedes an '@' in the host may be a password."""
    return _USERINFO.sub(r"\1***@", value.strip())
