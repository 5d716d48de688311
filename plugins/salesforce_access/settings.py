"""Orgs and sync options: read once from the orgs config file, checked, and overridable per manual run."""

from __future__ import annotations

import dataclasses
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from salesforce_access.errors import ConfigurationError

# The Airflow pool every task that calls Salesforce takes a slot of (config/pools.json creates it).
SALESFORCE_POOL = "salesforce_api"

# The resource types of SPEC section 3, in the order the sync's extract tasks are laid out.
RESOURCE_TYPES = (
    "user",
    "group",
    "role",
    "permission",
    "permission_set_group",
    "profile",
    "connected_application",
    "territory",
)

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parents[2] / "config" / "orgs.yaml"
DEFAULT_SCHEMA = "salesforce_access"
DEFAULT_WAREHOUSE_CONN_ID = "salesforce_warehouse"
_ORG_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


# Title and help of each sync option, for the trigger form and the docs.
OPTION_HELP: dict[str, tuple[str, str]] = {
    "username_as_email": ("Username as email", "Use the Username as the user's email."),
    "sync_connected_apps": (
        "Sync connected apps",
        "Sync connected apps and who can use them; needs Customize Application.",
    ),
    "sync_deactivated_users": ("Sync deactivated users", "Include users with IsActive = false."),
    "sync_non_standard_users": (
        "Sync non-standard users",
        "Include users whose UserType is not Standard: partner, community, Chatter, guest...",
    ),
    "sync_territories": ("Sync territories", "Sync territories; needs Enterprise Territory Management 2.0."),
    "license_profile_map": (
        "License to profile map",
        "UserLicense name to the least-privileged Profile name a revoked profile falls back to.",
    ),
}


@dataclass(frozen=True)
class SyncOptions:
    """The options of SPEC section 2; every one can be overridden in a manual run's conf."""

    username_as_email: bool = False
    sync_connected_apps: bool = False
    sync_deactivated_users: bool = True
    sync_non_standard_users: bool = False
    sync_territories: bool = False
    license_profile_map: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, values: dict[str, Any], *, where: str) -> SyncOptions:
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ConfigurationError(
                f"{where}: unknown sync option(s) {', '.join(map(repr, unknown))}; "
                f"the options are {', '.join(sorted(known))}."
            )
        for name, value in values.items():
            if name == "license_profile_map":
                if not isinstance(value, dict) or not all(
                    isinstance(k, str) and isinstance(v, str) and v for k, v in value.items()
                ):
                    raise ConfigurationError(
                        f"{where}: license_profile_map must map a UserLicense name to a Profile name, "
                        f'for example {{"Salesforce": "Minimum Access - Salesforce"}}; got {value!r}.'
                    )
            elif not isinstance(value, bool):
                raise ConfigurationError(f"{where}: option {name!r} must be true or false, got {value!r}.")
        return cls(**values)

    def merged(self, overrides: dict[str, Any] | None, *, where: str = "run conf") -> SyncOptions:
        if not overrides:
            return self
        return SyncOptions.from_mapping({**self.as_dict(), **overrides}, where=where)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class OrgConfig:
    """One org the pipeline syncs: its name, its Salesforce connection and its options."""

    name: str
    salesforce_conn_id: str
    options: SyncOptions
    schedule: str | None = "@daily"

    @property
    def dag_id(self) -> str:
        base = "salesforce_entitlements_sync"
        return base if self.name == "default" else f"{base}__{self.name}"


@dataclass(frozen=True)
class PipelineSettings:
    orgs: tuple[OrgConfig, ...]
    warehouse_conn_id: str = DEFAULT_WAREHOUSE_CONN_ID
    schema: str = DEFAULT_SCHEMA

    def org(self, name: str) -> OrgConfig:
        for org in self.orgs:
            if org.name == name:
                return org
        raise ConfigurationError(
            f"No org named {name!r} in the orgs config; known: {[o.name for o in self.orgs]}."
        )


def load_settings(path: str | os.PathLike | None = None) -> PipelineSettings:
    """Read the orgs config file (``SALESFORCE_ORGS_CONFIG`` or ``config/orgs.yaml``).

    A missing file means one org, ``default``, on ``salesforce_default`` with default options.

    Raises:
        ConfigurationError: the file cannot be parsed or an entry is wrong; the message names it.
    """
    config_path = Path(path or os.environ.get("SALESFORCE_ORGS_CONFIG") or DEFAULT_CONFIG_PATH)
    if not config_path.exists():
        if path or os.environ.get("SALESFORCE_ORGS_CONFIG"):
            raise ConfigurationError(f"Orgs config file {str(config_path)!r} does not exist; fix the path.")
        return PipelineSettings(orgs=(OrgConfig("default", "salesforce_default", SyncOptions()),))

    raw = _read_config(config_path)
    where = str(config_path)
    orgs = []
    for index, entry in enumerate(raw.get("orgs") or []):
        entry_where = f"{where}: orgs[{index}]"
        if not isinstance(entry, dict):
            raise ConfigurationError(
                f"{entry_where} must be a mapping with name, salesforce_conn_id, options."
            )
        name = entry.get("name", "")
        if not isinstance(name, str) or not _ORG_NAME.match(name):
            raise ConfigurationError(
                f"{entry_where}: name {name!r} must be lower case letters, digits and _ "
                "(it becomes a DAG id)."
            )
        extra = sorted(set(entry) - {"name", "salesforce_conn_id", "options", "schedule"})
        if extra:
            raise ConfigurationError(f"{entry_where}: unknown key(s) {extra}.")
        conn_id = entry.get("salesforce_conn_id", "salesforce_default")
        if not isinstance(conn_id, str) or not conn_id.strip():
            raise ConfigurationError(
                f"{entry_where}: salesforce_conn_id must be the id of an Airflow Salesforce connection, "
                f"got {conn_id!r}."
            )
        options = entry.get("options") or {}
        if not isinstance(options, dict):
            raise ConfigurationError(
                f"{entry_where}: options must be a mapping of option to value, for example "
                f"{{sync_territories: true}}; got {options!r}."
            )
        orgs.append(
            OrgConfig(
                name=name,
                salesforce_conn_id=conn_id.strip(),
                options=SyncOptions.from_mapping(options, where=entry_where),
                schedule=_checked_schedule(entry.get("schedule", "@daily"), entry_where),
            )
        )
    if not orgs:
        raise ConfigurationError(f"{where}: lists no orgs; add at least one under 'orgs:'.")
    names = [org.name for org in orgs]
    if len(set(names)) != len(names):
        raise ConfigurationError(f"{where}: org names must be unique, got {names}.")
    return PipelineSettings(
        orgs=tuple(orgs),
        warehouse_conn_id=raw.get("warehouse_conn_id") or DEFAULT_WAREHOUSE_CONN_ID,
        schema=_checked_schema(raw.get("schema") or DEFAULT_SCHEMA, where),
    )


def _read_config(config_path: Path) -> dict[str, Any]:
    import yaml

    try:
        raw = yaml.safe_load(config_path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"Cannot read orgs config {str(config_path)!r}: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigurationError(f"{config_path}: expected a mapping with an 'orgs' list at the top.")
    return raw


_SCHEDULE_PRESETS = frozenset({"@once", "@hourly", "@daily", "@weekly", "@monthly", "@quarterly", "@yearly"})


def _checked_schedule(schedule: Any, where: str) -> str | None:
    """A cron expression, an Airflow preset, or null for manual runs only."""
    if schedule is None or schedule in _SCHEDULE_PRESETS:
        return schedule
    from croniter import croniter

    if isinstance(schedule, str) and croniter.is_valid(schedule):
        return schedule
    raise ConfigurationError(
        f"{where}: schedule {schedule!r} is neither a cron expression (five fields, e.g. '0 3 * * *') nor "
        f"one of {', '.join(sorted(_SCHEDULE_PRESETS))}, nor null (manual runs only)."
    )


def _checked_schema(schema: str, where: str) -> str:
    if not re.match(r"^[a-z_][a-z0-9_]{0,62}$", schema):
        raise ConfigurationError(f"{where}: schema {schema!r} must be a lower-case Postgres identifier.")
    return schema


def options_json(options: SyncOptions) -> str:
    return json.dumps(options.as_dict(), sort_keys=True)
