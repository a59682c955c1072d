"""Work queues of notes: drafts unsigned past the clinic's time, and signed
notes waiting for the supervisor's co-signature -- headers only, the clients
shown (and each recorded) to clinicians, never to those who only follow up."""

import pytest
from confide_testing import caller, wait_for_handled
from nameko.exceptions import RemoteError
from records_support import SITE, start_supervision
from sqlalchemy import text


def ids(page) -> list[str]:
    return [n["id"] for n in page["items"]]


def age(engine, note_id: str, hours: int) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE notes SET created_at = now() - make_interval(hours => :h) WHERE id = :i"),
                     {"h": hours, "i": note_id})


def test_unsigned_drafts_past_the_clinics_time(clinic, records_db):
    rpc, cid = clinic.rpc, clinic.client_id
    associate, supervisor = caller("clinician", (SITE,)), caller("supervisor", (SITE,))
    clinic.join(cid, associate)
    wait_for_handled(records_db, "records.on_supervision", start_supervision(records_db, supervisor, associate).id)
    draft = clinic.note(associate, [cid], [{"body": "to finish"}], sign=False)
    assert ids(rpc.unsigned_notes(associate, {})) == []  # fresh: inside the 72 hours
    age(records_db, draft, 80)
    mine = rpc.unsigned_notes(associate, {})["items"]
    assert [(n["id"], n["client_ids"]) for n in mine] == [(draft, [cid])]
    assert "body" not in str(mine) and "to finish" not in str(mine)

    mark = clinic.outbox_mark()
    assert ids(rpc.unsigned_notes(supervisor, {"author_id": associate["user_id"]})) == [draft]
    reads = clinic.access_events(mark)
    assert [(r["client_id"], r["action"], r["resource_id"]) for r in reads] == [(cid, "read", draft)]
    # the admin follows up by author and date: no clients, nothing recorded
    mark = clinic.outbox_mark()
    followed = rpc.unsigned_notes(clinic.admin, {"older_than_hours": 24})["items"]
    assert draft in [n["id"] for n in followed] and all("client_ids" not in n for n in followed)
    assert clinic.access_events(mark) == []
    assert ids(rpc.unsigned_notes(caller("admin", ("elsewhere",)), {"older_than_hours": 0})) == []
    for stranger, query in ((clinic.clinician, {"author_id": associate["user_id"]}), (clinic.front_desk, {})):
        with pytest.raises(RemoteError, match="AccessDenied"):
            rpc.unsigned_notes(stranger, query)
    with pytest.raises(RemoteError, match="older_than_hours"):
        rpc.unsigned_notes(associate, {"older_than_hours": -1})


def test_the_cosignature_queue_of_a_supervisor(clinic, records_db):
    rpc, cid = clinic.rpc, clinic.client_id
    associate, supervisor = caller("clinician", (SITE,)), caller("supervisor", (SITE,))
    clinic.join(cid, associate)
    wait_for_handled(records_db, "records.on_supervision", start_supervision(records_db, supervisor, associate).id)
    first = clinic.note(associate, [cid], [{"body": "one"}])
    second = clinic.note(associate, [cid], [{"body": "two"}])
    clinic.note(clinic.clinician, [cid], [{"body": "licensed author"}])  # needs no co-signature
    assert ids(rpc.cosignature_queue(supervisor, {})) == [first, second]
    rpc.cosign_note(supervisor, first)
    assert ids(rpc.cosignature_queue(supervisor, {})) == [second]
    assert ids(rpc.cosignature_queue(caller("supervisor", (SITE,)), {})) == []  # not theirs to co-sign
    with pytest.raises(RemoteError, match="AccessDenied"):
        rpc.cosignature_queue(clinic.admin, {})
