"""The provisioning DAG under a real `airflow standalone` on loopback, triggered through the REST API.

This is the only test where tasks run in real workers (no metadata-database access, XCom through the
API server) and where the API checks the conf against the parameter schema. Deselect it with
`-m 'not standalone'`.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fixtures.tiny_org import ID
from tests.provisioning.conftest import SCHEMA, entitlement, sf_records
from tools import devenv

pytestmark = [pytest.mark.standalone, pytest.mark.slow]

ADMIN_PASSWORD = "standalone-admin-pass"
DAG_ID = "salesforce_provisioning"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Standalone:
    """`airflow standalone` in its own session and home; `stop()` ends every process it started."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        passwords = home / "passwords.json"
        passwords.write_text(json.dumps({"admin": ADMIN_PASSWORD}))
        venv_bin = str(Path(sys.executable).parent)
        self.env = devenv.airflow_env(
            home,
            {
                "AIRFLOW__CORE__PARALLELISM": "4",
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(self.port),
                "AIRFLOW__API__BASE_URL": self.base,
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.base}/execution/",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
                "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
                "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
                "PATH": venv_bin + os.pathsep + os.environ.get("PATH", ""),
            },
        )
        self.log_path = home / "standalone.log"
        self.process: subprocess.Popen | None = None
        self.started: set[int] = set()

    def start(self) -> None:
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [str(Path(sys.executable).with_name("airflow")), "standalone"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so one signal reaches every child
            )

    def remember_children(self) -> None:
        import psutil

        if self.process is None:
            return
        try:
            parent = psutil.Process(self.process.pid)
            self.started |= {child.pid for child in parent.children(recursive=True)}
        except psutil.NoSuchProcess:
            pass

    def stop(self) -> None:
        import psutil

        if self.process is None:
            return
        self.remember_children()
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        deadline = time.monotonic() + 15
        leftovers = [pid for pid in self.started | {self.process.pid} if psutil.pid_exists(pid)]
        while leftovers and time.monotonic() < deadline:
            time.sleep(0.5)
            leftovers = [pid for pid in leftovers if _alive(pid)]
        for pid in leftovers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)

    def tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def wait_for(check, what: str, server: Standalone, timeout: float):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except Exception as exc:  # the server is still coming up
            last = exc
        server.remember_children()
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what} ({last!r}); standalone log:\n{server.tail()}")


def test_trigger_through_the_rest_api(org, pg, tmp_path):
    import requests

    server = Standalone(tmp_path)
    http = requests.Session()
    http.trust_env = False  # loopback only: no proxy from the environment
    try:
        server.start()

        def healthy():
            body = http.get(f"{server.base}/api/v2/monitor/health", timeout=5).json()
            return all(part.get("status") == "healthy" for part in body.values() if isinstance(part, dict))

        wait_for(healthy, "a healthy standalone", server, timeout=180)
        token = http.post(
            f"{server.base}/auth/token", json={"username": "admin", "password": ADMIN_PASSWORD}, timeout=10
        ).json()["access_token"]
        http.headers["Authorization"] = f"Bearer {token}"
        pools = json.loads((Path(devenv.REPO) / "config" / "pools.json").read_text())
        for name, pool in pools.items():
            response = http.post(
                f"{server.base}/api/v2/pools",
                json={"name": name, "slots": pool["slots"], "description": pool["description"]},
                timeout=10,
            )
            assert response.status_code in (200, 201, 409), response.text
        wait_for(
            lambda: http.get(f"{server.base}/api/v2/dags/{DAG_ID}", timeout=5).status_code == 200,
            "the DAG to be parsed",
            server,
            timeout=120,
        )
        assert http.patch(f"{server.base}/api/v2/dags/{DAG_ID}", json={"is_paused": False}, timeout=10).ok

        details = http.get(f"{server.base}/api/v2/dags/{DAG_ID}/details", timeout=10).json()
        assert details["params"]["action"]["schema"]["enum"] == [
            "grant", "revoke", "create_account", "update_user_status", "delete_account",
        ]  # fmt: skip

        bad = http.post(
            f"{server.base}/api/v2/dags/{DAG_ID}/dagRuns",
            json={
                "logical_date": None,
                "dag_run_id": "ticket-bad",
                "conf": {"action": "grant", "user_id": "alice"},
            },
            timeout=30,
        )
        assert bad.status_code == 400, bad.text
        assert "user_id" in bad.text

        reports = entitlement("permission", "PS_REPORTS", "assigned")
        good = http.post(
            f"{server.base}/api/v2/dags/{DAG_ID}/dagRuns",
            json={
                "logical_date": None,
                "dag_run_id": "ticket-1234",
                "conf": {"action": "grant", "entitlement_id": reports, "user_id": ID["U_ALICE"]},
            },
            timeout=30,
        )
        assert good.status_code == 200, good.text

        def finished():
            state = http.get(f"{server.base}/api/v2/dags/{DAG_ID}/dagRuns/ticket-1234", timeout=10).json()[
                "state"
            ]
            return state if state in ("success", "failed") else None

        assert wait_for(finished, "the run to finish", server, timeout=240) == "success", server.tail()
    finally:
        server.stop()

    (assignment,) = sf_records(
        org, "PermissionSetAssignment", AssigneeId="U_ALICE", PermissionSetId="PS_REPORTS"
    )
    with pg.cursor() as cursor:
        cursor.execute(
            "SELECT request_id, status, outcome, salesforce_record_id, requested_by, warehouse_refreshed_at "
            f"IS NOT NULL FROM {SCHEMA}.provisioning_requests"
        )
        assert cursor.fetchall() == [("ticket-1234", "succeeded", "granted", assignment["Id"], "admin", True)]
        cursor.execute(
            f"SELECT source_record_id FROM {SCHEMA}.grants WHERE grant_id = %s",
            (f"{reports}:user:{ID['U_ALICE']}",),
        )
        assert cursor.fetchall() == [(assignment["Id"],)]
    assert not [pid for pid in server.started if _alive(pid)]
