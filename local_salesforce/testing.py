"""Start a local org as a subprocess for tests and scripts, and drive its control API.

with start_local_org(fixture={...}) as org:
    sf = Salesforce(instance_url=org.url, session_id=token, session=org.http_session())
    org.control.set_switches(territory_management=True)

Use `org.http_session()`, not a plain `requests.Session()` with `verify = org.ca_bundle`: requests lets
a REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE environment variable override `Session.verify`, so on a machine
that exports one the org's certificate fails to verify unless `trust_env` is off, as it is there.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter

STARTUP_SECONDS = 120


class LocalOrgError(RuntimeError):
    """The server did not start, or a control call failed."""


class Control:
    """A small client for `/__local_org__/` (see local_salesforce.control)."""

    def __init__(self, url: str, ca_bundle: str) -> None:
        self._base = f"{url}/__local_org__/"
        self._http = requests.Session()
        self._http.verify = ca_bundle
        self._http.trust_env = False  # see LocalOrg.http_session

    def _call(self, method: str, action: str, body: Any = None) -> Any:
        response = self._http.request(method, self._base + action, json=body, timeout=120)
        if response.status_code != 200:
            raise LocalOrgError(f"control {method} {action}: {response.status_code} {response.text}")
        return response.json()

    def reset(self) -> None:
        self._call("POST", "reset")

    def load_fixture(self, fixture: dict) -> None:
        self._call("POST", "fixture", fixture)

    def set_switches(self, **switches: Any) -> dict:
        return self._call("POST", "switches", switches)

    def switches(self) -> dict:
        return self._call("GET", "switches")

    def inject_fault(
        self,
        kind: str,
        path_contains: str = "",
        count: int | None = 1,
        *,
        method: str | None = None,
        retry_after: int | None = None,
        latency_ms: int | None = None,
        record_id: str | None = None,
        probability: float | None = None,
    ) -> None:
        """Make the next `count` matching calls (None: all of them) fail with `kind` (control.FAULT_KINDS).

        With `probability`, each matching call fails only that often (seeded: the same run, the same calls).
        `latency` delays without failing; `latency_ms` on another kind delays, then fails.
        """
        fault = {
            "probability": probability,
            "kind": kind,
            "path_contains": path_contains,
            "count": count,
            "method": method,
            "retry_after": retry_after,
            "latency_ms": latency_ms,
            "record_id": record_id,
        }
        self._call("POST", "faults", {k: v for k, v in fault.items() if v is not None or k == "count"})

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")

    def expire_sessions(self) -> int:
        return self._call("POST", "expire_sessions")["expired"]

    def journal(self) -> list[dict]:
        return self._call("GET", "journal")

    def api_calls(self) -> dict:
        return self._call("GET", "api_calls")

    def records(self, object_name: str) -> list[dict]:
        return self._call("GET", f"records/{object_name}")


class LoopbackAdapter(HTTPAdapter):
    """Sends every request, whatever its host, to the local org (field guide §1.9).

    simple-salesforce hard-codes `https://{domain}.salesforce.com` for SOAP, JWT, password and
    client-credentials logins; mounted on a session for both schemes, this adapter keeps those flows
    on loopback. Nothing can leave 127.0.0.1 through such a session.
    """

    def __init__(self, url: str) -> None:
        super().__init__()
        self._target = urllib.parse.urlsplit(url)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        original = urllib.parse.urlsplit(request.url or "")
        request.url = urllib.parse.urlunsplit(
            ("https", self._target.netloc, original.path, original.query, original.fragment)
        )
        request.headers["X-Local-Org-Original-Host"] = original.netloc
        return super().send(request, **kwargs)


class LocalOrg:
    """A running server subprocess; `stop()` (or leaving the `with` block) ends it and removes its files."""

    def __init__(self, process: subprocess.Popen, announcement: dict, work_dir: Path) -> None:
        self.process = process
        self.url: str = announcement["url"]
        self.ca_bundle: str = announcement["ca_bundle"]
        self.state_dir: str = announcement["state_dir"]
        self.log_path = work_dir / "server.log"
        self.credentials: dict | None = None
        if announcement.get("credentials"):
            self.credentials = json.loads(Path(announcement["credentials"]).read_text())
        self.control = Control(self.url, self.ca_bundle)
        self._work_dir = work_dir

    def http_session(self) -> requests.Session:
        """A session that verifies the org's certificate.

        `trust_env` is off because requests lets a REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE environment
        variable override `Session.verify`, and proxies from the environment have no business here.
        """
        session = requests.Session()
        session.verify = self.ca_bundle
        session.trust_env = False
        return session

    def loopback_session(self) -> requests.Session:
        """Like http_session, but every host is routed to this org (for the login flows)."""
        session = self.http_session()
        adapter = LoopbackAdapter(self.url)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        shutil.rmtree(self._work_dir, ignore_errors=True)

    def __enter__(self) -> LocalOrg:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_local_org(
    fixture: dict | str | None = None, demo: str | None = None, seed: int = 0, state_dir: str | None = None
) -> LocalOrg:
    """Start `python -m local_salesforce` on a free port and wait for its announcement line.

    `fixture` is a fixture dict or a path to a fixture file; `demo` is a size (small/medium/large).
    Certificates, credentials and the server log go to a temporary directory removed by `stop()`
    (certificates and credentials go to `state_dir` instead, when given, and stay).
    """
    work_dir = Path(tempfile.mkdtemp(prefix="local_salesforce-"))
    command = [sys.executable, "-m", "local_salesforce", "--port", "0"]
    if demo is not None:
        command += ["--demo", "--size", demo, "--seed", str(seed)]
    elif isinstance(fixture, dict):
        path = work_dir / "fixture.json"
        path.write_text(json.dumps(fixture))
        command += ["--fixture", str(path)]
    elif isinstance(fixture, str | os.PathLike):
        command += ["--fixture", str(fixture)]
    else:
        raise ValueError("give a fixture (dict or path) or a demo size")
    command += ["--state-dir", state_dir or str(work_dir / "state")]
    root = Path(__file__).resolve().parent.parent
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])),
    }
    # The server's log goes to a file: an unread pipe would fill up and stall the server.
    with open(work_dir / "server.log", "wb") as log:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, env=env, cwd=root)
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], STARTUP_SECONDS)
    line = process.stdout.readline() if ready else b""
    if not line:
        process.kill()
        process.wait()
        errors = (work_dir / "server.log").read_text(errors="replace").strip()
        shutil.rmtree(work_dir, ignore_errors=True)
        raise LocalOrgError(f"local org did not start: {errors}")
    return LocalOrg(process, json.loads(line), work_dir)
