"""Value encodings Salesforce uses on the wire: datetimes and dates, and parsing them from input."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

_DATETIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$"
)
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# No zone is more than 14 hours from UTC and ISO-8601 parsers (Java's ZoneOffset among them) stop at
# +-18:00: a wider "offset" such as +25:00 makes the literal malformed, not a moment to shift.
_MAX_OFFSET = timedelta(hours=18)


def format_datetime(moment: datetime) -> str:
    """Salesforce's REST form: UTC, milliseconds, offset without a colon."""
    moment = moment.astimezone(UTC)
    # Not strftime: glibc's %Y drops the leading zeros of years before 1000, which breaks string order.
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:{moment.minute:02d}:"
        f"{moment.second:02d}.{moment.microsecond // 1000:03d}+0000"
    )


def now_string() -> str:
    return format_datetime(datetime.now(UTC))


def parse_datetime(text: str) -> datetime | None:
    """Parse the ISO forms Salesforce accepts in bodies and SOQL; None when it is not one."""
    match = _DATETIME_RE.match(text)
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    shift = timedelta(0)
    if offset and offset != "Z":
        digits = offset[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:])
        shift = timedelta(hours=hours, minutes=minutes)
        if minutes > 59 or shift > _MAX_OFFSET:
            return None
        if offset[0] == "-":
            shift = -shift
    try:
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=UTC)
        if fraction:
            moment += timedelta(microseconds=int(fraction[:6].ljust(6, "0")))
        return moment - shift
    except (ValueError, OverflowError):  # 2020-02-30 or hour 24; or an offset pushing past year 1 or 9999
        return None


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
