"""Killing the audit service mid-batch loses nothing and duplicates nothing."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import eventlet
from audit_support import officer
from confide_audit.models import entries
from confide_testing import wait_until
from sqlalchemy import func, select

HERE = Path(__file__).parent


def start(settings: dict, dev_vault) -> subprocess.Popen:
    env = dict(os.environ, AUDIT_TEST_CONFIG=json.dumps(settings), VAULT_ADDR=dev_vault.addr,
               VAULT_CACERT=dev_vault.ca, VAULT_TOKEN=dev_vault.token, PYTHONPATH=str(HERE))
    process = subprocess.Popen([sys.executable, str(HERE / "audit_process.py")], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout.readline().strip() == "ready"
    return process


def counts(engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return conn.execute(
            select(func.count(), func.count(entries.c.event_id.distinct())).select_from(entries)
        ).one()


def test_sigkill_mid_batch_loses_and_duplicates_nothing(rpc_client, audit_config, producer, audit_db, dev_vault):
    settings = {k: v for k, v in audit_config.items() if k != "VAULT"}
    settings.update(AUDIT_BATCH_SIZE=50, AUDIT_FLUSH_MS=50, AUDIT_CHECKPOINT_EVERY=1000)
    producer.access(3000, flush=False)
    first = start(settings, dev_vault)
    # published while the service ingests, so the kill lands mid-way (drained first, all 3000 were
    # sometimes in before the first look)
    publishing = eventlet.spawn(producer.relay.drain)
    try:
        wait_until(lambda: counts(audit_db)[0] > 0, timeout=30, interval=0.01, what="a first batch")
    except BaseException:
        publishing.kill()  # (not left publishing into the teardown)
        raise
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    publishing.wait()
    stored_at_kill = counts(audit_db)[0]
    assert 0 < stored_at_kill < 3000, "the kill should land mid-ingest"

    second = start(settings, dev_vault)
    try:
        wait_until(lambda: counts(audit_db)[0] >= 3000, timeout=60, what="the rest after restart")
        total, distinct = counts(audit_db)
        assert total == distinct == 3000
        with rpc_client() as rpc:
            rpc.audit.checkpoint_now(officer())
            report = rpc.audit.verify(officer())
        assert report["ok"], report
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(10)
