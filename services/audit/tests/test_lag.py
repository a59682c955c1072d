"""A chain that cannot move is visible: events wait, accesses go on being
served, and the trail does not hold them. The audit service's health says
"lagging" (its readiness probe fails) and alerts, until the chain moves again."""

import logging

from confide_testing import wait_until
from nameko.standalone.rpc import ClusterRpcClient
from sqlalchemy import text


def health():
    with ClusterRpcClient() as rpc:
        return rpc.audit.health()


def test_a_stuck_chain_makes_the_audit_service_report_lagging(audit_config, audit_database, audit_db,
                                                              container_factory, producer, caplog):
    from confide_audit.service import AuditService

    audit_config["AUDIT_MAX_LAG_SECONDS"] = 1
    container_factory(AuditService).start()
    assert health()["status"] == "ok"
    group = audit_database.manifest.group_role(audit_database.prefix)
    with audit_db.begin() as conn:  # the chain's writes now fail, as on a full disk or a broken grant
        conn.execute(text(f'REVOKE INSERT ON audit_entries FROM "{group}"'))
    producer.access(5)
    with caplog.at_level(logging.CRITICAL):
        stuck = wait_until(lambda: (h := health())["status"] == "lagging" and h, timeout=30,
                           what="the audit service to report the stuck chain")
    assert any(c["lagging"] and c["waiting"] > 0 for c in stuck["lag"])
    assert any("ALERT audit-chain-lagging" in r.getMessage() for r in caplog.records)
    with audit_db.begin() as conn:
        conn.execute(text(f'GRANT INSERT ON audit_entries TO "{group}"'))
    wait_until(lambda: health()["status"] == "ok", timeout=60, what="the chain to move again")
    with audit_db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_entries")).scalar() >= 5
