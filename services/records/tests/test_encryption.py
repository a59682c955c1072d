"""Clinical text is ciphertext in PostgreSQL; after a key rotation a rewrap
brings every row to the newest key version and every note stays readable."""

import subprocess
import sys

from confide_records.models import ENCRYPTED_COLUMNS
from confide_records.rewrap import rewrap_all
from sqlalchemy import text

SECRET = "Client disclosed the affair to her sister"
PROCESS = "Process note: my frustration with the client's lateness"
GOAL = "Reduce avoidance of the workplace"


def whole_database_text(engine) -> str:
    """Every row of every table, as PostgreSQL prints it."""
    with engine.connect() as conn:
        tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars().all()
        return "\n".join(str(row) for table in tables for row in conn.execute(text(f'SELECT t::text FROM "{table}" t')))


def write_everything(clinic):
    rpc, me, cid = clinic.rpc, clinic.clinician, clinic.client_id
    nid = clinic.note(me, [cid], [{"body": SECRET}])
    rpc.add_addendum(me, nid, {"body": SECRET + " (addendum)"})
    rpc.write_psychotherapy_note(me, {"client_id": cid, "service_date": "2026-11-20", "body": PROCESS, "sign": True})
    rpc.create_treatment_plan(me, cid, {"goals": [{"description": GOAL}], "review_on": "2027-03-01"})
    return nid


def test_no_clinical_text_in_clear_in_the_database(clinic):
    write_everything(clinic)
    dump = whole_database_text(clinic.engine)
    for phrase in (SECRET, PROCESS, GOAL, "affair", "frustration", "avoidance"):
        assert phrase not in dump
    assert "vault:v1:" in dump


def test_psychotherapy_notes_are_under_their_own_key(clinic, transit):
    write_everything(clinic)
    with clinic.engine.connect() as conn:
        sealed = conn.execute(text("SELECT body_ciphertext FROM psychotherapy_notes")).scalar()
    assert transit.decrypt("psychotherapy-notes", sealed).decode() == PROCESS
    try:
        transit.decrypt("record-notes", sealed)
    except Exception as exc:  # noqa: BLE001 - Vault refuses: wrong key
        assert "decrypt" in str(exc)
    else:
        raise AssertionError("a psychotherapy note opened with the record key")


def test_rewrap_after_rotation_leaves_every_note_readable(clinic, transit):
    nid = write_everything(clinic)
    clinic.note(clinic.clinician, [clinic.client_id], [{"body": "a draft"}], sign=False)
    with clinic.engine.connect() as conn:
        before = {t.name: conn.execute(text(f"SELECT {c} FROM {t.name}")).scalars().all()
                  for t, c, _ in ENCRYPTED_COLUMNS}
    assert transit.rotate("record-notes") == 2
    assert transit.rotate("psychotherapy-notes") == 2
    report = rewrap_all(clinic.engine, transit, batch_size=2)
    assert report.total == sum(len(v) for v in before.values()) == 5
    assert rewrap_all(clinic.engine, transit).total == 0  # nothing left: idempotent

    with clinic.engine.connect() as conn:
        for table, column, _ in ENCRYPTED_COLUMNS:
            after = conn.execute(text(f"SELECT {column} FROM {table.name}")).scalars().all()
            assert all(c.startswith("vault:v2:") for c in after), table.name
            assert not set(after) & set(before[table.name])
    rpc, me, cid = clinic.rpc, clinic.clinician, clinic.client_id
    view = rpc.get_note(me, nid, cid)  # signed: text checked against the signing hash
    assert view["sections"][0]["body"] == SECRET and view["addenda"][0]["body"].startswith(SECRET)
    assert rpc.get_psychotherapy_notes(me, cid)[0]["body"] == PROCESS
    assert rpc.list_treatment_plans(me, cid)[0]["goals"][0]["description"] == GOAL


def test_rewrap_command_reports_what_it_did(clinic, transit, dev_vault):
    write_everything(clinic)
    transit.rotate("record-notes")
    env = {"DATABASE_URL": clinic.engine.url.render_as_string(hide_password=False),
           "VAULT_ADDR": dev_vault.addr, "VAULT_CACERT": dev_vault.ca, "VAULT_TOKEN": dev_vault.token,
           "TRANSIT_MOUNT": transit.mount, "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "confide_records.rewrap"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert "note_sections.body_ciphertext: 1 rewrapped" in done.stdout
    assert "record-notes v2" in done.stdout and "psychotherapy-notes v1" in done.stdout


def test_reads_go_on_while_rewrapping(clinic, transit):
    """Rewrap works in batches beside a running service: reads in between see
    old and new versions alike."""
    me = clinic.clinician
    others = [clinic.new_client(primary=me) for _ in range(3)]
    notes = [clinic.note(me, [c], [{"body": f"note {i}"}]) for i, c in enumerate(others)]
    transit.rotate("record-notes")
    seen = []
    rewrap_all(clinic.engine, transit, batch_size=1,
               progress=lambda _: seen.append(clinic.rpc.get_note(me, notes[0], others[0])["sections"][0]["body"]))
    assert seen and set(seen) == {"note 0"}
