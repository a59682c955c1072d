"""Notes: drafts until signed, locked once signed (by the service and by the
database), addenda only afterwards, co-signature by the supervisor, and group
sessions where each client's record shows only what concerns them."""

import pytest
import sqlalchemy.exc
from confide_testing import caller, wait_for_handled
from nameko.exceptions import RemoteError
from records_support import SITE, start_supervision
from sqlalchemy import text


def remote(call, *args):
    with pytest.raises(RemoteError) as failure:
        call(*args)
    return failure.value


def test_a_draft_can_change_until_it_is_signed(clinic):
    rpc, me, cid = clinic.rpc, clinic.clinician, clinic.client_id
    nid = clinic.note(me, [cid], [{"body": "first draft"}], sign=False)
    rpc.update_note(me, nid, {"sections": [{"body": "second draft"}]})
    signed = rpc.sign_note(me, nid)
    assert signed["status"] == "signed" and len(signed["content_sha256"]) == 64
    assert rpc.get_note(me, nid, cid)["sections"] == [{"concerns": "session", "body": "second draft"}]

    error = remote(rpc.update_note, me, nid, {"sections": [{"body": "rewriting history"}]})
    assert error.exc_type == "Conflict" and "addendum" in str(error)  # the note's state refuses it
    assert remote(rpc.sign_note, me, nid).exc_type == "Conflict"
    assert rpc.get_note(me, nid, cid)["sections"][0]["body"] == "second draft"


def test_only_the_author_changes_or_signs_a_draft(clinic):
    colleague = caller("clinician", (SITE,))
    clinic.join(clinic.client_id, colleague)
    nid = clinic.note(clinic.clinician, [clinic.client_id], [{"body": "draft"}], sign=False)
    mark = clinic.outbox_mark()
    assert remote(clinic.rpc.sign_note, colleague, nid).exc_type == "AccessDenied"
    assert remote(clinic.rpc.update_note, colleague, nid, {"sections": [{"body": "x"}]}).exc_type == "AccessDenied"
    assert [e["outcome"] for e in clinic.access_events(mark)] == ["denied", "denied"]


def test_the_database_refuses_changes_to_a_signed_note(clinic):
    nid = clinic.note(clinic.clinician, [clinic.client_id], [{"body": "signed text"}])
    attempts = [
        "UPDATE notes SET status = 'draft' WHERE id = :id",
        "UPDATE notes SET content_sha256 = repeat('0', 64) WHERE id = :id",
        "DELETE FROM notes WHERE id = :id",
        "UPDATE note_sections SET body_sha256 = repeat('0', 64) WHERE note_id = :id",
        "DELETE FROM note_sections WHERE note_id = :id",
        "INSERT INTO note_sections (id, note_id, body_ciphertext) VALUES (gen_random_uuid(), :id, 'vault:v1:x')",
        "DELETE FROM note_participants WHERE note_id = :id",
        "TRUNCATE notes CASCADE",
    ]
    for statement in attempts:
        with clinic.engine.connect() as conn, pytest.raises(sqlalchemy.exc.DBAPIError) as refused:
            conn.execute(text(statement), {"id": nid})
            conn.commit()
        assert "signed" in str(refused.value) or "truncated" in str(refused.value), statement
    assert clinic.rpc.get_note(clinic.clinician, nid, clinic.client_id)["sections"][0]["body"] == "signed text"


def test_addenda_are_signed_and_shown_with_the_note(clinic):
    rpc, me, cid = clinic.rpc, clinic.clinician, clinic.client_id
    draft = clinic.note(me, [cid], [{"body": "draft"}], sign=False)
    assert remote(rpc.add_addendum, me, draft, {"body": "too early"}).exc_type == "Conflict"
    nid = clinic.note(me, [cid], [{"body": "session"}])
    added = rpc.add_addendum(me, nid, {"body": "Late entry: client called after session."})
    assert len(added["body_sha256"]) == 64
    view = rpc.get_note(me, nid, cid)
    assert [a["body"] for a in view["addenda"]] == ["Late entry: client called after session."]
    with clinic.engine.connect() as conn, pytest.raises(sqlalchemy.exc.DBAPIError):
        conn.execute(text("DELETE FROM note_addenda WHERE note_id = :id"), {"id": nid})


def test_a_supervisee_note_waits_for_the_supervisors_cosignature(clinic, records_db):
    rpc, cid = clinic.rpc, clinic.client_id
    associate, supervisor = caller("clinician", (SITE,)), caller("supervisor", (SITE,))
    clinic.join(cid, associate)
    wait_for_handled(records_db, "records.on_supervision", start_supervision(records_db, supervisor, associate).id)
    nid = clinic.note(associate, [cid], [{"body": "associate's session"}])
    assert rpc.list_notes(associate, cid)[0]["cosign_required"] is True

    other_supervisor = caller("supervisor", (SITE,))
    assert remote(rpc.cosign_note, other_supervisor, nid).exc_type == "AccessDenied"
    assert remote(rpc.cosign_note, associate, nid).exc_type == "AccessDenied"
    cosigned = rpc.cosign_note(supervisor, nid)
    assert cosigned["cosigned_by"] == supervisor["user_id"]
    assert remote(rpc.cosign_note, supervisor, nid).exc_type == "Conflict"
    # the co-signature is the one change a signed note accepts, and only once
    with clinic.engine.connect() as conn, pytest.raises(sqlalchemy.exc.DBAPIError):
        conn.execute(text("UPDATE notes SET cosigned_by = 'someone-else' WHERE id = :id"), {"id": nid})
    # a fully licensed author's note needs none
    own = clinic.note(clinic.clinician, [cid], [{"body": "licensed"}])
    assert remote(rpc.cosign_note, supervisor, own).exc_type in ("AccessDenied", "Conflict")


def test_supervision_ending_stops_the_supervisors_access(clinic, records_db):
    associate, supervisor = caller("clinician", (SITE,)), caller("supervisor", (SITE,))
    clinic.join(clinic.client_id, associate)
    wait_for_handled(records_db, "records.on_supervision", start_supervision(records_db, supervisor, associate).id)
    assert clinic.rpc.get_client(supervisor, clinic.client_id)
    ended = start_supervision(records_db, supervisor, associate, ends_on="2026-06-30", ended=True)
    wait_for_handled(records_db, "records.on_supervision", ended.id)
    assert remote(clinic.rpc.get_client, supervisor, clinic.client_id).exc_type == "AccessDenied"


def test_a_group_member_never_sees_what_concerns_another(clinic):
    rpc, me = clinic.rpc, clinic.clinician
    ana, ben = clinic.client_id, clinic.new_client(primary=None)
    clinic.join(ben, me, role="primary")
    nid = clinic.note(me, [ana, ben], [
        {"body": "Group discussed coping with holidays."},
        {"client_id": ana, "body": "Ana disclosed conflict with her brother."},
        {"client_id": ben, "body": "Ben spoke about Ana's anger toward him."},
    ], session_kind="group")
    rpc.add_addendum(me, nid, {"client_id": ben, "body": "Ben asked that this stay private."})

    ana_view = rpc.get_note(me, nid, ana)
    assert [s["body"] for s in ana_view["sections"]] == ["Group discussed coping with holidays.",
                                                         "Ana disclosed conflict with her brother."]
    assert ana_view["addenda"] == []
    ana_copy = str(rpc.export_record(clinic.as_client(), ana))
    assert "Ana disclosed" in ana_copy and "Ben" not in ana_copy
    consent = rpc.record_consent(me, ana, {"kind": "release_of_information", "recipient": "Dr. Lee, PCP",
                                           "purpose": "coordination of care", "scope": ["notes", "diagnoses"],
                                           "expires_on": "2027-06-01", "signed_by": "Ana"})
    released = str(rpc.disclose(me, ana, consent["id"]))
    assert "Ana disclosed" in released and "Ben spoke" not in released and "private" not in released


def test_a_note_changed_behind_the_services_back_is_not_served(clinic):
    """Moving one signed section's ciphertext into another's place (the database
    allows new ciphertext, for rewraps) breaks the hash recorded at signing."""
    rpc, me = clinic.rpc, clinic.clinician
    ana, ben = clinic.client_id, clinic.new_client(primary=me)
    nid = clinic.note(me, [ana, ben], [{"client_id": ana, "body": "about Ana"},
                                       {"client_id": ben, "body": "about Ben"}], session_kind="couple")
    with clinic.engine.begin() as conn:
        conn.execute(text("""
            UPDATE note_sections SET body_ciphertext = (
                SELECT body_ciphertext FROM note_sections WHERE note_id = :id AND client_id = :ben)
            WHERE note_id = :id AND client_id = :ana"""), {"id": nid, "ana": ana, "ben": ben})
    error = remote(rpc.get_note, me, nid, ana)
    assert error.exc_type == "RecordIntegrityError"
    assert rpc.get_note(me, nid, ben)["sections"][0]["body"] == "about Ben"


def test_signed_psychotherapy_notes_are_locked_too(clinic):
    rpc, me, cid = clinic.rpc, clinic.clinician, clinic.client_id
    draft = rpc.write_psychotherapy_note(me, {"client_id": cid, "service_date": "2026-11-20", "body": "draft"})
    with clinic.engine.begin() as conn:  # a draft may still change
        conn.execute(text("UPDATE psychotherapy_notes SET service_date = '2026-11-19' WHERE id = :id"),
                     {"id": draft["id"]})
    rpc.sign_psychotherapy_note(me, draft["id"])
    assert remote(rpc.sign_psychotherapy_note, me, draft["id"]).exc_type == "Conflict"
    for statement in ("UPDATE psychotherapy_notes SET author_id = 'someone-else' WHERE id = :id",
                      "DELETE FROM psychotherapy_notes WHERE id = :id"):
        with clinic.engine.connect() as conn, pytest.raises(sqlalchemy.exc.DBAPIError):
            conn.execute(text(statement), {"id": draft["id"]})
    assert rpc.get_psychotherapy_notes(me, cid)[0]["body"] == "draft"


def test_a_draft_is_its_authors_alone_until_signed(clinic):
    rpc, me, cid = clinic.rpc, clinic.clinician, clinic.client_id
    colleague = caller("clinician", (SITE,))
    clinic.join(cid, colleague)
    draft = clinic.note(me, [cid], [{"body": "half a thought"}], sign=False)
    assert rpc.get_note(me, draft, cid)["sections"][0]["body"] == "half a thought"
    assert [n["id"] for n in rpc.list_notes(me, cid)] == [draft]
    for other in (colleague, clinic.as_client()):
        mark = clinic.outbox_mark()
        error = remote(rpc.get_note, other, draft, cid)
        assert error.exc_type == "AccessDenied" and "that you may see" in str(error)
        assert "draft" in clinic.access_events(mark)[0]["reason"]  # (the trail says why)
        assert rpc.list_notes(other, cid) == []
    rpc.sign_note(me, draft)
    assert rpc.get_note(colleague, draft, cid)["status"] == "signed"
