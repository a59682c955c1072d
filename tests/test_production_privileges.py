"""Services under test run with the database privileges they have in production
(``running_service``): a grant the manifest forgot fails the test that needs it,
as it would fail on ``make run`` and in the cluster."""

from dataclasses import replace

import pytest
from confide_runtime.manifest import find
from confide_testing import caller, random_id
from nameko.exceptions import RemoteError

OFFICER = caller("credentialing_officer", ("north",), purpose="operations")


def register(rpc) -> dict:
    return rpc.credentialing.register_clinician(OFFICER, {"id": random_id("dr"), "given_name": "Ana",
                                                          "family_name": "Ruiz", "home_site_id": "north"})


def test_the_service_connects_as_its_group_role(running_service, rpc_client):
    service = running_service("credentialing")
    with service.engine.connect() as conn:
        user = service.database.service_url.rsplit("@", 1)[0].rsplit("//", 1)[1]
        member_of = conn.exec_driver_sql(
            "SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
            "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = %s", (user,)).scalars().all()
        superuser = conn.exec_driver_sql("SELECT rolsuper FROM pg_roles WHERE rolname = %s", (user,)).scalar()
    assert member_of == [find("credentialing").group_role(service.database.prefix)]
    assert superuser is False
    with rpc_client() as rpc:
        assert register(rpc)["id"]


def test_a_missing_grant_fails_the_call_that_needs_it(running_service, rpc_client):
    read_only = replace(find("credentialing"), table_privileges="SELECT")
    running_service(read_only)
    with rpc_client() as rpc, pytest.raises(RemoteError) as refused:
        register(rpc)
    assert "permission denied" in str(refused.value) or refused.value.exc_type == "InsufficientPrivilege"
