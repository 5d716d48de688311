"""Measure how fast the biggest object streams through query + nextRecordsUrl with the real client.

    python -m local_salesforce.bench [--size medium] [--seed 0] [--object PermissionSetAssignment]

Starts a demo org as a subprocess, signs in with client credentials, reads every row with
simple-salesforce's `query` / `query_more`, and prints records/s (the target is >= 20,000).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import requests
from simple_salesforce import Salesforce

from local_salesforce.testing import start_local_org

QUERIES = {
    "PermissionSetAssignment": "SELECT Id, AssigneeId, PermissionSetId, PermissionSetGroupId, IsActive, "
    "ExpirationDate FROM PermissionSetAssignment ORDER BY Id",
    "GroupMember": "SELECT Id, GroupId, UserOrGroupId FROM GroupMember ORDER BY Id",
    "User": "SELECT Id, Username, IsActive, UserType, ProfileId, UserRoleId, LastLoginDate, "
    "Profile.UserLicense.LicenseDefinitionKey FROM User ORDER BY Id",
}


def _session(ca_bundle: str) -> requests.Session:
    session = requests.Session()
    session.verify = ca_bundle
    session.trust_env = False  # REQUESTS_CA_BUNDLE in the environment would override `verify`
    return session


def run(size: str, seed: int, object_name: str) -> float:
    started = time.monotonic()
    with start_local_org(demo=size, seed=seed) as org:
        print(f"org up in {time.monotonic() - started:.1f}s at {org.url}", file=sys.stderr)
        credentials = org.credentials or {}
        http = _session(org.ca_bundle)
        token = http.post(
            f"{org.url}/services/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(credentials["consumer_key"], credentials["consumer_secret"]),
            timeout=60,
        ).json()["access_token"]
        sf = Salesforce(instance_url=org.url, session_id=token, session=http, version="59.0")
        started = time.monotonic()
        page = sf.query(QUERIES[object_name])
        count = len(page["records"])
        while not page["done"]:
            page = sf.query_more(page["nextRecordsUrl"], identifier_is_url=True)
            count += len(page["records"])
        elapsed = time.monotonic() - started
        rate = count / elapsed
        print(
            f"{object_name}: {count} records in {elapsed:.2f}s = {rate:,.0f} records/s "
            f"({os.cpu_count()} CPUs)"
        )
        return rate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_salesforce.bench")
    parser.add_argument("--size", default="medium", choices=("small", "medium", "large"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--object", default="PermissionSetAssignment", choices=sorted(QUERIES))
    args = parser.parse_args(argv)
    rate = run(args.size, args.seed, args.object)
    return 0 if rate >= 20_000 else 1


if __name__ == "__main__":
    sys.exit(main())
