"""Re-runs, history and failures of the sync DAG: published tables change only when a sync succeeds."""

from __future__ import annotations

import copy

import pytest

from tests.fixtures.tiny_org import ID
from tests.sync.conftest import SCHEMA, run_sync, task_states

pytestmark = pytest.mark.usefixtures("tiny")

PUBLISHED = {
    "resources": "org_id, resource_type, resource_id, display_name, description, parent_resource_type, "
    "parent_resource_id, attributes, login, email, status, account_type, user_type, last_login_at, "
    "profile_id, role_id",
    "entitlements": "org_id, entitlement_id, resource_type, resource_id, slug, display_name, description, "
    "grantable_to",
    "grants": "org_id, grant_id, entitlement_id, resource_type, resource_id, principal_type, principal_id, "
    "is_direct, sources, source_record_id, expires_at",
    "entitlement_edges": "org_id, src_entitlement_id, dst_entitlement_id, principal_filter",
}


def snapshot(pg, with_sync_id: bool = False) -> dict[str, list]:
    """Every published row, ordered; sync ids left out unless asked for (they differ between runs)."""
    tables = {}
    with pg.cursor() as cursor:
        for table, columns in PUBLISHED.items():
            if with_sync_id:
                columns += ", sync_id"
            cursor.execute(f"SELECT {columns} FROM {SCHEMA}.{table} ORDER BY 1, 2, 3, 4")
            tables[table] = cursor.fetchall()
    return tables


def runs(pg) -> list[tuple]:
    with pg.cursor() as cursor:
        cursor.execute(
            f"SELECT status, error_code, error_message FROM {SCHEMA}.sync_runs ORDER BY started_at"
        )
        return cursor.fetchall()


def staged_rows(pg) -> int:
    with pg.cursor() as cursor:
        total = 0
        for table in (
            "stage_records",
            "stage_resources",
            "stage_entitlements",
            "stage_grants",
            "stage_entitlement_edges",
        ):
            cursor.execute(f"SELECT count(*) FROM {SCHEMA}.{table}")
            total += cursor.fetchone()[0]
        return total


def test_rerunning_the_sync_gives_identical_tables_and_extends_history(pg):
    first = run_sync({"sync_territories": True, "sync_connected_apps": True})
    tables = snapshot(pg)

    second = run_sync({"sync_territories": True, "sync_connected_apps": True})

    assert str(first.state) == str(second.state) == "success"
    assert snapshot(pg) == tables
    assert len(tables["grants"]) == 23 + 22 + 9 + 6
    with pg.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*), count(*) FILTER (WHERE revoked_at IS NULL), "
            "count(DISTINCT first_seen_sync_id), count(DISTINCT last_seen_sync_id) "
            f"FROM {SCHEMA}.grant_history"
        )
        assert cursor.fetchone() == (60, 60, 1, 1)
        cursor.execute(
            f"SELECT count(*) FROM {SCHEMA}.grant_history h JOIN {SCHEMA}.sync_runs r "
            f"ON r.sync_id = h.last_seen_sync_id WHERE r.dag_run_id = %s",
            (second.run_id,),
        )
        assert cursor.fetchone() == (60,)
    assert staged_rows(pg) == 0


def test_a_user_removed_from_a_group_between_runs_is_revoked_in_history(tiny, tiny_fixture, pg):
    first = run_sync()
    smaller = copy.deepcopy(tiny_fixture)
    smaller["records"]["GroupMember"] = [
        member for member in smaller["records"]["GroupMember"] if member["Id"] != ID["GM_QUEUE_CAROL"]
    ]
    tiny.control.load_fixture(smaller)

    second = run_sync()

    assert str(second.state) == "success", task_states(second)
    grant = f"group:{ID['G_QUEUE']}:member:user:{ID['U_CAROL']}"
    with pg.cursor() as cursor:
        cursor.execute(
            f"SELECT h.grant_id, first_run.dag_run_id, last_run.dag_run_id, revoking_run.dag_run_id, "
            f"h.first_seen_at = first_run.started_at, h.revoked_at = revoking_run.started_at "
            f"FROM {SCHEMA}.grant_history h "
            f"JOIN {SCHEMA}.sync_runs first_run ON first_run.sync_id = h.first_seen_sync_id "
            f"JOIN {SCHEMA}.sync_runs last_run ON last_run.sync_id = h.last_seen_sync_id "
            f"JOIN {SCHEMA}.sync_runs revoking_run ON revoking_run.sync_id = h.revoked_sync_id"
        )
        assert cursor.fetchall() == [(grant, first.run_id, first.run_id, second.run_id, True, True)]
        cursor.execute(f"SELECT count(*) FROM {SCHEMA}.grants WHERE grant_id = %s", (grant,))
        assert cursor.fetchone() == (0,)
        cursor.execute(
            f"SELECT change, count(*) FROM {SCHEMA}.access_changes WHERE principal_id = %s "
            "GROUP BY 1 ORDER BY 1",
            (ID["U_CAROL"],),
        )
        # Carol held four grants (profile, queue, permission set, All Internal Users); one went away.
        assert cursor.fetchall() == [("granted", 4), ("revoked", 1)]


def test_territories_without_enterprise_territory_management_fail_and_publish_nothing(tiny, pg):
    run_sync()
    before = snapshot(pg, with_sync_id=True)
    tiny.control.set_switches(territory_management=False)

    dag_run = run_sync({"sync_territories": True})

    assert str(dag_run.state) == "failed"
    states = task_states(dag_run)
    assert states["extract_territory"] == "failed"
    assert states["publish"] == "upstream_failed"
    assert states["finalize"] == "failed"
    assert snapshot(pg, with_sync_id=True) == before
    status, code, message = runs(pg)[-1]
    assert (status, code) == ("failed", "INVALID_TYPE")
    assert message == (
        "extract_territory: sync_territories is true, but Enterprise Territory Management 2.0 is not "
        "enabled in this org, so the Territory2 objects do not exist. Turn it on in Setup > Territory "
        "Settings > Enable Enterprise Territory Management, or set the option sync_territories to false. "
        "[INVALID_TYPE]"
    )
    assert staged_rows(pg) == 0


def test_a_salesforce_outage_mid_extract_fails_the_run_and_keeps_the_published_tables(tiny, pg):
    run_sync()
    before = snapshot(pg, with_sync_id=True)
    tiny.control.inject_fault("500", path_contains="/query", count=None)

    dag_run = run_sync()

    tiny.control.clear_faults()
    assert str(dag_run.state) == "failed"
    assert snapshot(pg, with_sync_id=True) == before
    status, code, message = runs(pg)[-1]
    assert status == "failed"
    assert code == "UNKNOWN_EXCEPTION"
    assert message.startswith("preflight: ")
    assert staged_rows(pg) == 0
    with pg.cursor() as cursor:
        cursor.execute(f"SELECT last_sync_id FROM {SCHEMA}.orgs")
        (last_sync_id,) = cursor.fetchone()
        cursor.execute(f"SELECT status FROM {SCHEMA}.sync_runs WHERE sync_id = %s", (last_sync_id,))
        assert cursor.fetchone() == ("succeeded",)


def test_a_misspelt_option_in_the_run_conf_stops_the_run_before_it_starts(pg, all_logs, capfd):
    dag_run = run_sync({"sync_teritories": True})

    assert str(dag_run.state) == "failed"
    assert task_states(dag_run)["start_sync"] == "failed"
    logged = "".join(capfd.readouterr()) + "\n".join(all_logs)
    assert (
        "the run conf of the sync of org 'default': unknown sync option(s) 'sync_teritories'; "
        "the options are license_profile_map, sync_connected_apps, sync_deactivated_users, "
        "sync_non_standard_users, sync_territories, username_as_email." in logged
    )
    with pg.cursor() as cursor:
        cursor.execute("SELECT to_regclass('salesforce_access.sync_runs')")
        assert cursor.fetchone() == (None,)


def test_grants_that_leave_the_synced_scope_are_not_called_revoked(pg):
    run_sync({"sync_territories": True})

    dag_run = run_sync()

    assert str(dag_run.state) == "success", task_states(dag_run)
    with pg.cursor() as cursor:
        cursor.execute(
            f"SELECT change, split_part(entitlement_id, ':', 1), count(*) FROM {SCHEMA}.access_changes "
            "WHERE change <> 'granted' GROUP BY 1, 2 ORDER BY 1, 2"
        )
        # Five territory grants and four territory-group memberships, no longer read, not revoked.
        assert cursor.fetchall() == [("left_scope", "group", 4), ("left_scope", "territory", 5)]

        # Another sync with the same options keeps the 45 current periods open and adds none.
        run_sync()
        cursor.execute(f"SELECT count(*) FROM {SCHEMA}.grant_history WHERE revoked_at IS NULL")
        assert cursor.fetchone() == (45,)


def test_a_run_killed_without_finalize_is_closed_by_the_next_sync(pg):
    run_sync()
    with pg.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {SCHEMA}.sync_runs (sync_id, config_name, started_at, status, options) "
            "VALUES ('killed-run', 'default', now() - interval '30 hours', 'running', '{}')"
        )
        cursor.execute(
            f"INSERT INTO {SCHEMA}.stage_records (sync_id, sobject, record_id, record) "
            "VALUES ('killed-run', 'User', '005000000000001AAA', '{}')"
        )

    dag_run = run_sync()

    assert str(dag_run.state) == "success", task_states(dag_run)
    with pg.cursor() as cursor:
        cursor.execute(f"SELECT status, error_message FROM {SCHEMA}.sync_runs WHERE sync_id = 'killed-run'")
        status, message = cursor.fetchone()
        assert status == "failed"
        assert message.startswith("The run stopped without finishing (killed or timed out); closed by sync ")
    assert staged_rows(pg) == 0


def test_connected_apps_without_customize_application_fail_their_own_task(tiny, tiny_fixture, pg):
    weak = copy.deepcopy(tiny_fixture)
    for permission_set in weak["records"]["PermissionSet"]:
        if permission_set["Id"] == ID["PS_P_ADMIN"]:
            permission_set["PermissionsCustomizeApplication"] = False
            permission_set["PermissionsModifyAllData"] = False
    tiny.control.load_fixture(weak)

    dag_run = run_sync({"sync_connected_apps": True})

    states = task_states(dag_run)
    assert str(dag_run.state) == "failed"
    assert states["extract_connected_application"] == "failed"
    assert states["extract_user"] == states["extract_group"] == "success"
    assert states["publish"] == "upstream_failed"
    status, code, message = runs(pg)[-1]
    assert status == "failed"
    assert code.startswith("INSUFFICIENT_ACCESS")
    assert message.startswith("extract_connected_application: ")
    assert "Customize Application" in message
