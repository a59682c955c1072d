"""DESIGN.md "audit first": if the access event cannot be committed, the data is
not returned -- whether the outbox refuses the row or the commit itself fails."""

import pytest
from nameko.exceptions import RemoteError
from sqlalchemy import text

SECRET = "Client spoke about the custody hearing"

FAIL_ON_INSERT = """
CREATE FUNCTION test_outbox_down() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'outbox unavailable (test)'; END $$;
CREATE TRIGGER test_outbox_down BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION test_outbox_down();
"""
# runs at COMMIT, after the note was read and decrypted in the transaction
FAIL_ON_COMMIT = """
CREATE FUNCTION test_commit_fails() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'commit failed (test)'; END $$;
CREATE CONSTRAINT TRIGGER test_commit_fails AFTER INSERT ON outbox DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION test_commit_fails();
"""
HEAL = """
DROP TRIGGER IF EXISTS test_outbox_down ON outbox; DROP FUNCTION IF EXISTS test_outbox_down();
DROP TRIGGER IF EXISTS test_commit_fails ON outbox; DROP FUNCTION IF EXISTS test_commit_fails();
"""


@pytest.mark.parametrize("failure", [FAIL_ON_INSERT, FAIL_ON_COMMIT], ids=["outbox-refuses", "commit-fails"])
def test_no_data_without_its_access_event(clinic, failure):
    rpc, me, cid = clinic.rpc, clinic.clinician, clinic.client_id
    nid = clinic.note(me, [cid], [{"body": SECRET}])
    mark = clinic.outbox_mark()
    with clinic.engine.begin() as conn:
        conn.execute(text(failure))
    try:
        for read in (lambda: rpc.get_note(me, nid, cid), lambda: rpc.export_record(me, cid),
                     lambda: rpc.get_client(me, cid)):
            with pytest.raises(RemoteError) as refused:
                read()
            assert SECRET not in str(refused.value) and "Robin" not in str(refused.value)
            assert refused.value.exc_type not in ("AccessDenied", "InvalidRequest")
    finally:
        with clinic.engine.begin() as conn:
            conn.execute(text(HEAL))
    assert clinic.access_events(mark) == []
    # once the outbox works again, so does reading -- recorded
    assert rpc.get_note(me, nid, cid)["sections"][0]["body"] == SECRET
    assert len(clinic.access_events(mark)) == 1
