"""A note's lifecycle and a break-the-glass grant's review, without a database."""

import pytest
from confide_contracts.errors import FieldError
from confide_records.domain import break_glass, notes
from confide_records.domain.notes import NoteStatus

pytestmark = pytest.mark.unit


def refused(check, *args) -> dict:
    with pytest.raises(FieldError) as error:
        check(*args)
    return error.value.errors


def test_a_draft_changes_and_signs_once_then_takes_addenda():
    notes.may_change(NoteStatus.DRAFT)
    notes.may_sign(NoteStatus.DRAFT)
    assert refused(notes.may_change, NoteStatus.SIGNED) == {
        "note_id": ["is signed and locked; add an addendum instead"]}
    assert refused(notes.may_sign, NoteStatus.SIGNED) == {"note_id": ["is already signed"]}
    notes.may_add_addendum(NoteStatus.SIGNED)
    assert refused(notes.may_add_addendum, NoteStatus.DRAFT) == {"note_id": ["is a draft; change it instead"]}


def test_a_cosignature_once_and_only_where_needed():
    notes.may_cosign(NoteStatus.SIGNED, True, None)
    assert refused(notes.may_cosign, NoteStatus.DRAFT, True, None) == {"note_id": ["is not signed yet"]}
    assert refused(notes.may_cosign, NoteStatus.SIGNED, False, None) == {"note_id": ["needs no co-signature"]}
    assert refused(notes.may_cosign, NoteStatus.SIGNED, True, "dr-lee") == {"note_id": ["was co-signed by dr-lee"]}


def test_a_grant_is_reviewed_once():
    assert break_glass.review_status("justified") is break_glass.Review.JUSTIFIED
    assert refused(break_glass.review_status, "maybe") == {
        "status": ["must be one of pending, justified, unjustified"]}
    break_glass.reviewed("pending")
    assert refused(break_glass.reviewed, "justified") == {"grant_id": ["was already reviewed (justified)"]}
