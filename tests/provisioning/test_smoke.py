from tests.fixtures.tiny_org import ID
from tests.provisioning.conftest import provision, task_states


def test_smoke(org, pg):
    run = provision(action="grant", entitlement_id=f"permission:{ID['PS_REPORTS']}:assigned", user_id=ID["U_ALICE"])
    assert str(run.state) == "success", task_states(run)
    with pg.cursor() as c:
        c.execute("select * from salesforce_access.provisioning_requests")
        print(c.fetchall())
