"""Events the records service publishes. Identifiers and facts only: never note
text or other clinical content (DESIGN.md, minimum necessary)."""

from confide_events import registry
from marshmallow import Schema, fields, validate

CLIENT_REGISTERED = "records.client.registered"
CLIENT_RENAMED = "records.client.renamed"
CLIENT_EVENTS = (CLIENT_REGISTERED, CLIENT_RENAMED)
NOTE_SIGNED = "records.note.signed"
NOTE_COSIGNED = "records.note.cosigned"
BREAK_GLASS_OPENED = "records.break_glass.opened"
CONSENT_REVOKED = "records.consent.revoked"
LOGIN_LINKED = "records.login.linked"

ID = validate.Length(min=1, max=200)
DISPLAY_NAME = validate.Length(min=1, max=401)


def display_name(client: dict) -> str:
    """How a client is named on a day sheet: preferred (or given) and family name."""
    return f"{client.get('preferred_name') or client['given_name']} {client['family_name']}"


@registry.event_type(CLIENT_REGISTERED, version=1, upcast=lambda payload: {**payload, "display_name": None})
class ClientRegisteredV1(Schema):
    client_id = fields.String(required=True, validate=ID)
    home_site_id = fields.String(required=True, validate=ID)
    minor = fields.Boolean(required=True)


@registry.event_type(CLIENT_REGISTERED, version=2)
class ClientRegisteredV2(ClientRegisteredV1):
    """With the name a day sheet shows (preferred or given name, family name):
    scheduling lists a day's clients by it without reading their records."""

    display_name = fields.String(required=True, allow_none=True, validate=DISPLAY_NAME)


@registry.event_type(CLIENT_RENAMED, version=1)
class ClientRenamedV1(Schema):
    client_id = fields.String(required=True, validate=ID)
    display_name = fields.String(required=True, validate=DISPLAY_NAME)


@registry.event_type(NOTE_SIGNED, version=1)
class NoteSignedV1(Schema):
    note_id = fields.String(required=True, validate=ID)
    kind = fields.String(required=True, validate=validate.OneOf(("intake", "progress")))
    client_ids = fields.List(fields.String(validate=ID), required=True, validate=validate.Length(min=1))
    appointment_id = fields.String(load_default=None, allow_none=True, validate=ID)
    author_id = fields.String(required=True, validate=ID)
    signed_at = fields.AwareDateTime(required=True)
    content_sha256 = fields.String(required=True, validate=validate.Length(equal=64))
    cosign_required = fields.Boolean(required=True)


@registry.event_type(NOTE_COSIGNED, version=1)
class NoteCosignedV1(Schema):
    note_id = fields.String(required=True, validate=ID)
    author_id = fields.String(required=True, validate=ID)
    cosigned_by = fields.String(required=True, validate=ID)
    cosigned_at = fields.AwareDateTime(required=True)


@registry.event_type(BREAK_GLASS_OPENED, version=1)
class BreakGlassOpenedV1(Schema):
    """Tells the client's primary clinician that someone broke the glass."""

    grant_id = fields.String(required=True, validate=ID)
    client_id = fields.String(required=True, validate=ID)
    user_id = fields.String(required=True, validate=ID)
    expires_at = fields.AwareDateTime(required=True)
    primary_clinician_id = fields.String(load_default=None, allow_none=True, validate=ID)


@registry.event_type(CONSENT_REVOKED, version=1)
class ConsentRevokedV1(Schema):
    consent_id = fields.String(required=True, validate=ID)
    client_id = fields.String(required=True, validate=ID)
    kind = fields.String(required=True)


@registry.event_type(LOGIN_LINKED, version=1)
class LoginLinkedV1(Schema):
    """A person's own login now reaches a client's record: the client's, or a
    guardian's (``guardian_id``). The audit service answers a client's "who saw
    my record" from it."""

    client_id = fields.String(required=True, validate=ID)
    user_id = fields.String(required=True, validate=ID)
    linked_as = fields.String(required=True, validate=validate.OneOf(("client", "guardian")))
    guardian_id = fields.String(load_default=None, allow_none=True, validate=ID)
