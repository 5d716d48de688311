"""Check, before a job runs, that the integration user and the org can do what the job needs.

Reads the org, the signed-in user and the system permissions of every permission set it holds (its
profile's own set and permission set groups included), then lists each missing permission or
switched-off feature with its fix. Sync and provisioning call ``raise_for_sync`` /
``raise_for_provisioning`` so they stop with one message listing every problem, instead of failing
on the first query that happens to need a missing permission.

    python -m salesforce_access.preflight --conn-id salesforce_default [--json]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

from simple_salesforce import format_soql

from salesforce_access.errors import (
    FeatureNotEnabledError,
    MissingPermissionError,
    PermanentError,
    SalesforceAccessError,
)
from salesforce_access.salesforce_errors import API_EDITIONS, TERRITORIES_OFF, translate

if TYPE_CHECKING:
    from simple_salesforce import Salesforce

    from salesforce_access.auth import SignIn

log = logging.getLogger(__name__)

# System permission API names (without the "Permissions" prefix) and the label Setup shows.
PERMISSION_LABELS = {
    "ApiEnabled": "API Enabled",
    "ViewSetup": "View Setup and Configuration",
    "ManageUsers": "Manage Users",
    "ManageInternalUsers": "Manage Internal Users",
    "AssignPermissionSets": "Assign Permission Sets",
    "ManageRoles": "Manage Roles and Role Hierarchy",
    "CustomizeApplication": "Customize Application",
    "ManageTerritories": "Manage Territories",
    "ModifyAllData": "Modify All Data",
}
# Editions that reach the API only with a paid add-on; anything answering at all has it, so only warn.
_ADD_ON_EDITIONS = ("Professional Edition", "Group Edition", "Essentials", "Team Edition", "Personal Edition")
_API_REFUSALS = ("API_DISABLED_FOR_ORG", "API_CURRENTLY_DISABLED", "FUNCTIONALITY_NOT_ENABLED")
# What each kind of provisioning needs: (permissions any one of which will do, what for).
_MANAGE_USERS = (("ManageUsers",), "to change users and their access")
PROVISIONING_NEEDS: dict[str, tuple[tuple[tuple[str, ...], str], ...]] = {
    "account": (_MANAGE_USERS,),
    "profile": (_MANAGE_USERS,),
    "permission": ((("ManageUsers", "AssignPermissionSets"), "to assign and remove permission sets"),),
    "permission_set_group": (
        (("ManageUsers", "AssignPermissionSets"), "to assign and remove permission sets"),
    ),
    "group": ((("ManageUsers", "ManageInternalUsers"), "to add users to public groups and remove them"),),
    "role": ((("ManageRoles",), "to grant and revoke roles"), _MANAGE_USERS),
    "territory": ((("ManageTerritories",), "to add users to territories and remove them"),),
}
_PERMISSION_FIX = (
    "Add it to a permission set assigned to the integration user: Setup > Permission Sets > (the set) > "
    "System Permissions > Edit."
)


@dataclass(frozen=True)
class PreflightReport:
    """What the integration user can do in the org, and what stops a job."""

    org_id: str | None
    org_name: str | None
    edition: str | None
    is_sandbox: bool | None
    instance_url: str
    user_id: str | None
    username: str | None
    permissions: dict[str, bool]
    can_sync: bool
    can_provision: bool
    problems: list[str]
    warnings: list[str]
    options: dict[str, bool] = field(default_factory=dict)
    # None when not asked (sync_territories off) or not knowable; False when Territory2 is missing.
    territories_enabled: bool | None = None
    # The code Salesforce refused the API with, when it did (API_DISABLED_FOR_ORG...).
    api_refusal: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Problem:
    text: str
    error_type: type[PermanentError]
    error_code: str
    permissions: tuple[str, ...] = ()


def run_preflight(sf: Salesforce, signin: SignIn, options: dict[str, Any]) -> PreflightReport:
    """Read the org, the integration user and its permissions, and say what stops sync or provisioning.

    ``options`` are the org's sync options; ``sync_connected_apps`` and ``sync_territories`` decide
    whether Customize Application and Enterprise Territory Management are needed.

    Raises:
        SalesforceAccessError: a failure that is not about permissions (network, API limit...).
    """
    asked = {name: bool(options.get(name)) for name in ("sync_connected_apps", "sync_territories")}
    facts: dict[str, Any] = {"instance_url": signin.instance_url, "user_id": signin.user_id, "options": asked}

    # Without API access nothing else can be read: report that alone.
    try:
        org = _first(sf, "SELECT Id, Name, OrganizationType, IsSandbox, InstanceName FROM Organization")
    except SalesforceAccessError as error:
        if error.error_code not in _API_REFUSALS:
            raise
        return _report(
            facts, permissions={}, territories_enabled=None, api_refusal=error.error_code, warnings=[]
        )
    facts.update(
        org_id=org.get("Id") or signin.org_id,
        org_name=org.get("Name"),
        edition=org.get("OrganizationType"),
        is_sandbox=org.get("IsSandbox"),
    )

    warnings: list[str] = []
    user = _first(sf, format_soql("SELECT Id, Username, ProfileId FROM User WHERE Id = {}", signin.user_id))
    facts["username"] = user.get("Username")
    permissions = _effective_permissions(sf, user, warnings)

    territories_enabled = None
    if asked["sync_territories"]:
        territories_enabled = _territories_enabled(sf, warnings)
    if facts["edition"] in _ADD_ON_EDITIONS:
        warnings.append(
            f"This org is {facts['edition']}, which reaches the API only with the API add-on; it works now, "
            f"but keep the add-on. {API_EDITIONS}"
        )
    return _report(facts, permissions, territories_enabled, api_refusal=None, warnings=warnings)


def raise_for_sync(report: PreflightReport, *, optional_features: bool = True) -> None:
    """Raise one error listing every problem that stops a sync; return when there is none.

    With ``optional_features=False`` only what stops every resource type is raised (API access,
    Manage Users); a missing feature an option asks for (territories, connected apps) is left to the
    task of that resource type, so the rest of the org's access is still read and the failure is
    reported where it belongs.

    Raises:
        FeatureNotEnabledError: the org lacks API access or Enterprise Territory Management.
        MissingPermissionError: the integration user lacks permissions.
    """
    _raise(report, _sync_problems(report, optional_features=optional_features), "sync")


def raise_for_provisioning(report: PreflightReport, action: str, resource_type: str | None = None) -> None:
    """Raise one error listing every problem that stops this provisioning action; return when none.

    ``action`` is ``grant``, ``revoke``, ``create_account`` or ``update_user_status``; with
    ``resource_type`` (``role``, ``group``, ``territory``...) only that type's permission is checked.
    """
    problems = _sync_problems(report, api_only=True) + _provisioning_problems(report, action, resource_type)
    _raise(report, problems, action if resource_type is None else f"{action} {resource_type}")


def _report(
    facts: dict[str, Any],
    permissions: dict[str, bool],
    territories_enabled: bool | None,
    api_refusal: str | None,
    warnings: list[str],
) -> PreflightReport:
    """Build the report; problems are derived from the same rules ``raise_for_*`` apply."""
    draft = PreflightReport(
        org_id=facts.get("org_id"),
        org_name=facts.get("org_name"),
        edition=facts.get("edition"),
        is_sandbox=facts.get("is_sandbox"),
        instance_url=facts["instance_url"],
        user_id=facts.get("user_id"),
        username=facts.get("username"),
        permissions=permissions,
        can_sync=False,
        can_provision=False,
        problems=[],
        warnings=warnings,
        options=facts["options"],
        territories_enabled=territories_enabled,
        api_refusal=api_refusal,
    )
    sync = _sync_problems(draft)
    # A permission sync already lacks is listed once, with the reason sync needs it.
    provisioning = [
        p
        for p in _provisioning_problems(draft, None, None)
        if p.permissions not in {q.permissions for q in sync}
    ]
    return replace(
        draft,
        can_sync=not sync,
        can_provision=not sync and not provisioning,
        problems=[p.text for p in sync + provisioning],
    )


def _sync_problems(
    report: PreflightReport, *, api_only: bool = False, optional_features: bool = True
) -> list[_Problem]:
    """Return what stops a sync: API access, then the permissions and features the options need."""
    if report.api_refusal == "API_DISABLED_FOR_ORG":
        return [
            _Problem(
                f"This org has no API access (API_DISABLED_FOR_ORG). {API_EDITIONS}",
                FeatureNotEnabledError,
                report.api_refusal,
            )
        ]
    if report.api_refusal:
        return [_missing(report, "ApiEnabled", "for every API call", code=report.api_refusal)]

    needed = [("ApiEnabled", "for every API call")]
    if not api_only:
        needed.append(("ManageUsers", "to read users, their logins and their permission set assignments"))
        if report.options.get("sync_connected_apps") and optional_features:
            needed.append(("CustomizeApplication", "to read connected apps (sync_connected_apps is on)"))
    problems = [_missing(report, name, why) for name, why in needed if not _has(report, name)]

    if report.territories_enabled is False and not api_only and optional_features:
        problems.append(_Problem(TERRITORIES_OFF, FeatureNotEnabledError, "INVALID_TYPE"))
    return problems


def _provisioning_problems(
    report: PreflightReport, action: str | None, resource_type: str | None
) -> list[_Problem]:
    """Return the permissions a provisioning action lacks; those of every action when ``action`` is None."""
    if report.api_refusal:
        return []  # nothing is known beyond the refusal, which the sync problems already name
    if action in ("create_account", "update_user_status"):
        kinds = ["account"]
    elif resource_type:
        kinds = [resource_type]
    else:
        kinds = [
            kind
            for kind in PROVISIONING_NEEDS
            if kind != "territory" or report.options.get("sync_territories")
        ]

    needed = [need for kind in kinds for need in PROVISIONING_NEEDS.get(kind, ())]
    problems: list[_Problem] = []
    for alternatives, why in dict.fromkeys(needed):
        if not any(_has(report, name) for name in alternatives):
            problems.append(_missing(report, alternatives, why))
    return problems


def _has(report: PreflightReport, name: str) -> bool:
    # Modify All Data passes every permission check Salesforce makes for these objects.
    return report.permissions.get(name, False) or report.permissions.get("ModifyAllData", False)


def _missing(
    report: PreflightReport, names: str | tuple[str, ...], why: str, *, code: str = "MISSING_PERMISSION"
) -> _Problem:
    names = (names,) if isinstance(names, str) else names
    who = f"The integration user {report.username!r}" if report.username else "The integration user"
    wanted = " or ".join(f"{PERMISSION_LABELS[name]} (Permissions{name})" for name in names)
    return _Problem(
        f"{who} lacks the system permission {wanted}, needed {why}. {_PERMISSION_FIX}",
        MissingPermissionError,
        code,
        names,
    )


def _raise(report: PreflightReport, problems: list[_Problem], job: str) -> None:
    if not problems:
        return
    org = report.org_name or report.org_id or report.instance_url
    lines = "\n".join(f"- {p.text}" for p in problems)
    # A missing feature is what the admin must deal with first, so it decides the error type.
    kind = next((p for p in problems if p.error_type is FeatureNotEnabledError), problems[0])
    raise kind.error_type(f"Cannot {job} in Salesforce org {org}:\n{lines}", error_code=kind.error_code)


def _effective_permissions(sf: Salesforce, user: dict[str, Any], warnings: list[str]) -> dict[str, bool]:
    """Return the union of the system permissions of every permission set the user holds."""
    fields = ", ".join(f"Permissions{name}" for name in PERMISSION_LABELS)
    try:
        assignments = _records(
            sf,
            format_soql(
                "SELECT PermissionSetId, PermissionSetGroupId FROM PermissionSetAssignment "
                "WHERE AssigneeId = {}",
                user["Id"],
            ),
        )
    except SalesforceAccessError as exc:
        if not isinstance(exc, MissingPermissionError):
            raise
        # Reading assignments needs Manage Users or View Setup; the profile's own set still tells a lot.
        warnings.append(
            "The integration user cannot read its permission set assignments, so only its profile's "
            "permissions were checked."
        )
        own = _records(
            sf,
            format_soql(
                "SELECT Id FROM PermissionSet WHERE IsOwnedByProfile = true AND ProfileId = {}",
                user["ProfileId"],
            ),
        )
        assignments = [{"PermissionSetId": record["Id"]} for record in own]

    set_ids = {a["PermissionSetId"] for a in assignments if a.get("PermissionSetId")}
    group_ids = sorted({a["PermissionSetGroupId"] for a in assignments if a.get("PermissionSetGroupId")})
    if group_ids:
        components = _records(
            sf,
            format_soql(
                "SELECT PermissionSetId FROM PermissionSetGroupComponent WHERE PermissionSetGroupId IN {}",
                group_ids,
            ),
        )
        set_ids.update(c["PermissionSetId"] for c in components)
    if not set_ids:
        return dict.fromkeys(PERMISSION_LABELS, False)

    sets = _records(
        sf, format_soql(f"SELECT Type, {fields} FROM PermissionSet WHERE Id IN {{}}", sorted(set_ids))
    )
    # Muting sets inside a group take permissions away; never count them as granting any.
    granting = [s for s in sets if s.get("Type") != "Muting"]
    return {name: any(bool(s.get(f"Permissions{name}")) for s in granting) for name in PERMISSION_LABELS}


def _territories_enabled(sf: Salesforce, warnings: list[str]) -> bool:
    """Tell whether Enterprise Territory Management is on: Territory2Model answers INVALID_TYPE when off."""
    try:
        models = _records(sf, "SELECT Id, Name, State FROM Territory2Model")
    except FeatureNotEnabledError:
        return False
    if not any(model.get("State") == "Active" for model in models):
        warnings.append(
            "Enterprise Territory Management is on but no territory model is active, so no territories "
            "will be synced. Activate a model in Setup > Territory Models."
        )
    return True


def _records(sf: Salesforce, soql: str) -> list[dict[str, Any]]:
    try:
        return sf.query_all(soql)["records"]
    except Exception as exc:  # every failure, simple-salesforce's or the network's, is translated
        raise translate(exc, context=f"Preflight query {soql!r}") from exc


def _first(sf: Salesforce, soql: str) -> dict[str, Any]:
    records = _records(sf, soql)
    return records[0] if records else {}


def format_report(report: PreflightReport) -> str:
    """Return the report as text for a person."""
    kind = "sandbox" if report.is_sandbox else "production" if report.is_sandbox is False else "unknown kind"
    lines = [
        f"Org:          {report.org_name or '?'} ({report.org_id or '?'}), {report.edition or '?'}, {kind}",
        f"API base:     {report.instance_url}",
        f"User:         {report.username or '?'} ({report.user_id or '?'})",
        "Permissions:",
        *(
            f"  [{'x' if report.permissions.get(name) else ' '}] {label}"
            for name, label in PERMISSION_LABELS.items()
            if report.permissions
        ),
        f"Sync:         {'ready' if report.can_sync else 'BLOCKED'}",
        f"Provisioning: {'ready' if report.can_provision else 'BLOCKED'}",
    ]
    if report.problems:
        lines += ["Problems:", *(f"  - {text}" for text in report.problems)]
    if report.warnings:
        lines += ["Warnings:", *(f"  - {text}" for text in report.warnings)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Sign in with a connection, run the preflight and print it; exit 0 when sync can run."""
    parser = argparse.ArgumentParser(
        prog="python -m salesforce_access.preflight",
        description="Check that a Salesforce connection can sign in and has what sync and provisioning need.",
    )
    parser.add_argument("--conn-id", default="salesforce_default", help="Airflow connection id (salesforce)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--sync-connected-apps", action="store_true", default=None, help="check as if this option were on"
    )
    parser.add_argument(
        "--sync-territories", action="store_true", default=None, help="check as if this option were on"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    try:
        report = _preflight_connection(args.conn_id, args)
    except SalesforceAccessError as exc:
        print(f"Preflight of connection {args.conn_id!r} failed: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report.as_dict(), indent=2) if args.json else format_report(report))
    return 0 if report.can_sync else 1


def _preflight_connection(conn_id: str, args: argparse.Namespace) -> PreflightReport:
    from simple_salesforce import Salesforce

    from salesforce_access.auth import credentials_from_connection, new_http_session, sign_in
    from salesforce_access.settings import load_settings

    org = next((o for o in load_settings().orgs if o.salesforce_conn_id == conn_id), None)
    options = org.options.as_dict() if org else {}
    for name in ("sync_connected_apps", "sync_territories"):
        if getattr(args, name) is not None:
            options[name] = True

    credentials = credentials_from_connection(conn_id)
    session = new_http_session(credentials)
    signin = sign_in(credentials, session=session)
    sf = Salesforce(
        instance_url=signin.instance_url,
        session_id=signin.access_token,
        session=session,
        version=credentials.api_version,
    )
    return run_preflight(sf, signin, options)


if __name__ == "__main__":
    sys.exit(main())
