"""A note whose transit key Vault no longer holds (a Vault that lost its storage,
or was restored without the keys) is a named integrity error and an alert; it
was an anonymous 500 before."""

import logging

import pytest
from nameko.exceptions import RemoteError


def test_a_note_vault_cannot_decrypt_is_a_named_integrity_error(clinic, transit, caplog):
    note_id = clinic.note(clinic.clinician, [clinic.client_id], [{"body": "Slept better this week."}])
    assert clinic.rpc.get_note(clinic.clinician, note_id, clinic.client_id)["sections"]
    api = transit.vault.hvac.secrets.transit
    api.update_key_configuration("record-notes", deletion_allowed=True, mount_point=transit.mount)
    api.delete_key("record-notes", mount_point=transit.mount)
    transit.create_key("record-notes")  # a fresh key of the same name, as a Vault started anew makes
    with caplog.at_level(logging.CRITICAL), pytest.raises(RemoteError) as refused:
        clinic.rpc.get_note(clinic.clinician, note_id, clinic.client_id)
    assert refused.value.exc_type == "UndecryptableRecord" and refused.value.status == 500
    alerts = [r.getMessage() for r in caplog.records if r.levelno == logging.CRITICAL]
    assert alerts and alerts[0].startswith("ALERT record-undecryptable") and "Slept" not in alerts[0]
