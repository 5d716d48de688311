"""Salesforce record ids: key prefixes, the 15 to 18 character checksum and a deterministic generator."""

from __future__ import annotations

import random
import string

KEY_PREFIXES: dict[str, str] = {
    "Organization": "00D",
    "User": "005",
    "Group": "00G",
    "GroupMember": "011",
    "UserRole": "00E",
    "Profile": "00e",
    "UserLicense": "100",
    "UserLogin": "0Yw",
    "PermissionSet": "0PS",
    "PermissionSetAssignment": "0Pa",
    "PermissionSetGroup": "0PG",
    "PermissionSetGroupComponent": "0PM",
    "ConnectedApplication": "0H4",
    "SetupEntityAccess": "0J0",
    "Territory2Model": "0MA",
    "Territory2Type": "0M5",
    "Territory2": "0MI",
    "UserTerritory2Association": "0R0",
}
OBJECT_BY_PREFIX: dict[str, str] = {prefix: name for name, prefix in KEY_PREFIXES.items()}

_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_BODY_ALPHABET = string.digits + string.ascii_uppercase + string.ascii_lowercase
_ID_CHARS = set(_BODY_ALPHABET)


def checksum(id15: str) -> str:
    """Return the three-character suffix that makes a 15-character id case-insensitive."""
    suffix = []
    for start in (0, 5, 10):
        bits = 0
        for position, char in enumerate(id15[start : start + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << position
        suffix.append(_SUFFIX_ALPHABET[bits])
    return "".join(suffix)


def to_18(record_id: str) -> str | None:
    """Return the 18-character form of a 15- or 18-character id, or None when it is not a valid id."""
    if not isinstance(record_id, str) or len(record_id) not in (15, 18):
        return None
    if not set(record_id) <= _ID_CHARS:
        return None
    body = record_id[:15]
    expected = checksum(body)
    if len(record_id) == 18 and record_id[15:].upper() != expected:
        return None
    return body + expected


class IdGenerator:
    """Mint ids of the form `<prefix><12 mixed-case base-62 chars><checksum>`, deterministic per seed."""

    def __init__(self, seed: int = 0) -> None:
        self._random = random.Random(seed)
        self._issued: set[str] = set()

    def new(self, object_name: str) -> str:
        prefix = KEY_PREFIXES[object_name]
        while True:
            # Real ids carry a pod/instance part then a sequence; a fixed "0000" keeps that look.
            body = prefix + "0" + "".join(self._random.choice(_BODY_ALPHABET) for _ in range(11))
            if body not in self._issued:
                self._issued.add(body)
                return body + checksum(body)
