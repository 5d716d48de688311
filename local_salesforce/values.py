"""Value encodings Salesforce uses on the wire: datetimes and dates, and parsing them from input."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

_DATETIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$"
)
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def format_datetime(moment: datetime) -> str:
    """Salesforce's REST form: UTC, milliseconds, offset without a colon."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def now_string() -> str:
    return format_datetime(datetime.now(UTC))


def parse_datetime(text: str) -> datetime | None:
    """Parse the ISO forms Salesforce accepts in bodies and SOQL; None when it is not one."""
    match = _DATETIME_RE.match(text)
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=UTC)
    except ValueError:
        return None
    if fraction:
        moment += timedelta(microseconds=int(fraction[:6].ljust(6, "0")))
    if offset and offset != "Z":
        sign = 1 if offset[0] == "+" else -1
        digits = offset[1:].replace(":", "")
        moment -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return moment


def normalize_datetime(text: str) -> str | None:
    """Return the canonical stored/output form of a datetime string, or None when it does not parse."""
    moment = parse_datetime(text)
    return format_datetime(moment) if moment else None


def normalize_date(text: str) -> str | None:
    if not _DATE_RE.match(text):
        return None
    try:
        date.fromisoformat(text)
    except ValueError:
        return None
    return text
