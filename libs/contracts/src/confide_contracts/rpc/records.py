"""What the records service's RPCs accept. Every field is checked here, before
anything is read or written, and an error names the field."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from confide_contracts.codes import icd10
from confide_contracts.paging import paged
from confide_contracts.rpc import formats


class Kind(StrEnum):
    """The kinds of a client's record: what consents release, guardians may see,
    and each role may read or write (``confide_records.domain.policy``)."""

    DEMOGRAPHICS = "demographics"
    CARE_TEAM = "care_team"
    CONSENTS = "consents"
    DIAGNOSES = "diagnoses"
    TREATMENT_PLANS = "treatment_plans"
    NOTES = "notes"
    PSYCHOTHERAPY_NOTES = "psychotherapy_notes"


# what a guardian's recorded rights may name
GUARDIAN_KINDS = frozenset({Kind.DEMOGRAPHICS, Kind.CARE_TEAM, Kind.CONSENTS, Kind.DIAGNOSES,
                            Kind.TREATMENT_PLANS, Kind.NOTES})

NAME = validate.Length(min=1, max=200)
ID = validate.Length(min=1, max=200)
BODY = validate.Length(min=1, max=100_000)


def not_future(value: date) -> None:
    if value > date.today():
        raise ValidationError("must not be in the future")


class AddressSchema(Schema):
    line1 = fields.String(required=True, validate=validate.Length(min=1, max=200))
    line2 = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    city = fields.String(required=True, validate=validate.Length(min=1, max=100))
    region = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    postal_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20))
    country = fields.String(required=True, validate=validate.Regexp(r"^[A-Z]{2}$", error="an ISO 3166-1 code"))


class ContactSchema(Schema):
    name = fields.String(required=True, validate=NAME)
    relationship = fields.String(required=True, validate=validate.Length(min=1, max=50))
    phone = fields.String(required=True, validate=validate.Length(min=3, max=40))


class InsuranceSchema(Schema):
    payer_id = fields.String(required=True, validate=validate.Length(min=1, max=80))
    member_id = fields.String(required=True, validate=validate.Length(min=1, max=80))
    group_number = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=80))


class GuardianSchema(Schema):
    name = fields.String(required=True, validate=NAME)
    relationship = fields.String(
        required=True, validate=validate.OneOf(("parent", "legal_guardian", "conservator", "other"))
    )
    may_see = fields.List(
        fields.String(validate=validate.OneOf(sorted(GUARDIAN_KINDS))), required=True,
    )
    valid_until = fields.Date(load_default=None, allow_none=True, metadata=formats.FUTURE_DATE)

    @validates("valid_until")
    def in_future(self, value, **kwargs):
        if value is not None and value < date.today():
            raise ValidationError("is in the past")


class ClientSchema(Schema):
    given_name = fields.String(required=True, validate=NAME)
    family_name = fields.String(required=True, validate=NAME)
    preferred_name = fields.String(load_default=None, allow_none=True, validate=NAME)
    date_of_birth = fields.Date(required=True, validate=not_future, metadata=formats.PAST_DATE)
    gender_identity = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    pronouns = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=50))
    home_site_id = fields.String(required=True, validate=ID)
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=3, max=40))
    email = fields.Email(load_default=None, allow_none=True)
    address = fields.Nested(AddressSchema, load_default=None, allow_none=True)
    emergency_contacts = fields.List(fields.Nested(ContactSchema), load_default=list)
    insurance = fields.Nested(InsuranceSchema, load_default=None, allow_none=True)
    guardians = fields.List(fields.Nested(GuardianSchema), load_default=list)

    @validates("date_of_birth")
    def plausible(self, value, **kwargs):
        if value.year < 1900:
            raise ValidationError("is before 1900")


def searchable_name(value: str) -> None:
    # (functions, not patterns: a pattern goes into the OpenAPI document, and a fuzzer builds strings from it)
    if not any(ch.isalnum() for ch in value) or any(ord(ch) < 32 for ch in value):
        raise ValidationError("letters or digits, no control characters")


def phone_digits(value: str) -> None:
    if sum(ch.isascii() and ch.isdigit() for ch in value) < 4 or not set(value) <= set("0123456789 +().-"):
        raise ValidationError("at least 4 digits, and only digits, spaces and + ( ) . -")


class ClientSearchSchema(Schema):
    """Finding a client: every criterion given must match. ``name`` tolerates
    typos and accents and matches the start of a word while it is typed."""

    name = fields.String(load_default=None, validate=[validate.Length(min=2, max=100), searchable_name])
    date_of_birth = fields.Date(load_default=None)
    phone = fields.String(load_default=None, validate=[validate.Length(max=40), phone_digits])
    record_number = fields.Integer(load_default=None, strict=False, validate=validate.Range(min=1))
    site_id = fields.String(load_default=None, validate=ID, metadata={"description": "one of the caller's sites"})
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=50))

    @validates_schema
    def something_to_find(self, data, **kwargs):
        if all(data.get(k) is None for k in ("name", "date_of_birth", "phone", "record_number")):
            raise ValidationError("give a name, date_of_birth, phone or record_number", "name")


class ClientChangesSchema(ClientSchema):
    class Meta:
        exclude = ("guardians", "home_site_id")


class CareTeamSchema(Schema):
    clinician_id = fields.String(required=True, validate=ID)
    role = fields.String(
        required=True,
        validate=validate.OneOf(("primary", "co_therapist", "psychiatrist", "consultant", "case_manager")),
    )


CONSENT_KINDS = ("treatment", "telehealth", "release_of_information", "psychotherapy_notes_authorization")
RELEASES = ("release_of_information", "psychotherapy_notes_authorization")


class ConsentSchema(Schema):
    # what the document states of release_rules below
    OPENAPI = {"oneOf": [
        {"properties": {"kind": {"enum": ["treatment", "telehealth"]}, "scope": {"maxItems": 0}}},
        {"properties": {"kind": {"const": "release_of_information"},
                        "scope": {"minItems": 1, "items": {"enum": [str(k) for k in Kind
                                                                     if k != Kind.PSYCHOTHERAPY_NOTES]}},
                        **{f: {"type": "string"} for f in ("recipient", "purpose", "expires_on")}},
         "required": ["kind", "scope", "recipient", "purpose", "expires_on"]},
        {"properties": {"kind": {"const": "psychotherapy_notes_authorization"},
                        "scope": {"minItems": 1, "maxItems": 1, "items": {"const": str(Kind.PSYCHOTHERAPY_NOTES)}},
                        **{f: {"type": "string"} for f in ("recipient", "purpose", "expires_on")}},
         "required": ["kind", "scope", "recipient", "purpose", "expires_on"]},
    ]}

    kind = fields.String(required=True, validate=validate.OneOf(CONSENT_KINDS))
    recipient = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=2, max=300))
    scope = fields.List(fields.Enum(Kind, by_value=True), load_default=list)
    purpose = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=2, max=300))
    effective_on = fields.Date(load_default=date.today)
    expires_on = fields.Date(load_default=None, allow_none=True, metadata=formats.FUTURE_DATE)
    signed_by = fields.String(required=True, validate=NAME)

    @validates("expires_on")
    def expiry_ahead(self, value, **kwargs):
        if value is not None and value <= date.today():
            raise ValidationError("is not in the future: a consent that has expired cannot be recorded")

    @validates_schema
    def release_rules(self, data, **kwargs):
        kind, scope = data.get("kind"), data.get("scope") or []
        if kind in RELEASES:
            for field in ("recipient", "purpose", "expires_on"):
                if not data.get(field):
                    raise ValidationError(f"required for a {kind}", field)
            if not scope:
                raise ValidationError(f"a {kind} names what it releases", "scope")
        if kind == "release_of_information" and Kind.PSYCHOTHERAPY_NOTES in scope:
            raise ValidationError(
                "psychotherapy notes need their own authorization (45 CFR 164.508(b)(3)(ii))", "scope"
            )
        if kind == "psychotherapy_notes_authorization" and set(scope) != {Kind.PSYCHOTHERAPY_NOTES}:
            raise ValidationError("an authorization for psychotherapy notes covers them alone", "scope")
        if kind not in RELEASES and scope:
            raise ValidationError(f"a {kind} consent releases nothing; leave it empty", "scope")
        expires, effective = data.get("expires_on"), data.get("effective_on")
        if expires and effective and expires < effective:
            raise ValidationError("is before effective_on", "expires_on")


class RevocationSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=2, max=500))


class DiagnosisSchema(Schema):
    code = fields.String(required=True, metadata=formats.ICD10)
    status = fields.String(load_default="active", validate=validate.OneOf(("active", "provisional", "resolved",
                                                                          "ruled_out")))
    onset_on = fields.Date(load_default=None, allow_none=True, validate=not_future, metadata=formats.PAST_DATE)

    @validates("code")
    def known(self, value, **kwargs):
        try:
            icd10.lookup(value)
        except icd10.InvalidCode as exc:
            raise ValidationError(str(exc)) from None


class GoalSchema(Schema):
    description = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    target_on = fields.Date(load_default=None, allow_none=True)
    measure = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class TreatmentPlanSchema(Schema):
    goals = fields.List(fields.Nested(GoalSchema), required=True, validate=validate.Length(min=1, max=50))
    starts_on = fields.Date(load_default=date.today)
    review_on = fields.Date(required=True, metadata=formats.FUTURE_DATE)

    @validates_schema
    def review_after_start(self, data, **kwargs):
        if data.get("review_on") and data.get("starts_on") and data["review_on"] <= data["starts_on"]:
            raise ValidationError("must be after starts_on", "review_on")


class SectionSchema(Schema):
    client_id = fields.UUID(load_default=None, allow_none=True)  # None: the whole session
    body = fields.String(required=True, validate=BODY)


SESSION_SIZES = {"individual": (1, 1), "child": (1, 1), "couple": (2, 2), "family": (1, 12), "group": (2, 40)}


class NoteSchema(Schema):
    # what the document states of consistent() below: session sizes, and a progress note's appointment
    OPENAPI = {"allOf": [
        {"oneOf": [{"properties": {"session_kind": {"const": kind},
                                   "client_ids": {"minItems": low, "maxItems": high}}}
                   for kind, (low, high) in sorted(SESSION_SIZES.items())]},
        {"if": {"properties": {"kind": {"const": "progress"}}, "required": ["kind"]},
         "then": {"required": ["appointment_id"], "properties": {"appointment_id": {"type": "string"}}}},
    ]}

    kind = fields.String(required=True, validate=validate.OneOf(("intake", "progress")))
    session_kind = fields.String(required=True, validate=validate.OneOf(sorted(SESSION_SIZES)))
    appointment_id = fields.String(load_default=None, allow_none=True, validate=ID)
    service_date = fields.Date(required=True, validate=not_future, metadata=formats.PAST_DATE)
    site_id = fields.String(required=True, validate=ID)
    client_ids = fields.List(fields.UUID(), required=True, validate=validate.Length(min=1, max=40),
                             metadata={"uniqueItems": True})
    sections = fields.List(fields.Nested(SectionSchema), required=True, validate=validate.Length(min=1, max=41))

    @validates_schema
    def consistent(self, data, **kwargs):
        clients = data.get("client_ids") or []
        if len(set(clients)) != len(clients):
            raise ValidationError("lists a client twice", "client_ids")
        low, high = SESSION_SIZES.get(data.get("session_kind"), (1, 40))
        if not low <= len(clients) <= high:
            raise ValidationError(f"a {data['session_kind']} session has {low}-{high} clients", "client_ids")
        if data.get("kind") == "progress" and not data.get("appointment_id"):
            raise ValidationError("a progress note is tied to its appointment", "appointment_id")
        validate_sections(data.get("sections") or [], clients)


def validate_sections(sections, clients) -> None:
    concerned = [s["client_id"] for s in sections]
    if len(set(concerned)) != len(concerned):
        raise ValidationError("one section per client (and one for the whole session)", "sections")
    strangers = [str(c) for c in concerned if c is not None and c not in clients]
    if strangers:
        raise ValidationError(f"concern clients not in the session: {', '.join(strangers)}", "sections")


class NoteChangesSchema(Schema):
    sections = fields.List(fields.Nested(SectionSchema), required=True, validate=validate.Length(min=1, max=41))


class AddendumSchema(Schema):
    client_id = fields.UUID(load_default=None, allow_none=True)
    body = fields.String(required=True, validate=BODY)


class PsychotherapyNoteSchema(Schema):
    client_id = fields.UUID(required=True)
    appointment_id = fields.String(load_default=None, allow_none=True, validate=ID)
    service_date = fields.Date(required=True, validate=not_future, metadata=formats.PAST_DATE)
    body = fields.String(required=True, validate=BODY)
    sign = fields.Boolean(load_default=False)


class BreakGlassSchema(Schema):
    client_id = fields.UUID(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=10, max=1000))
    minutes = formats.Integer(load_default=60, strict=True, validate=validate.Range(min=5, max=240))


class ReviewSchema(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(("justified", "unjustified")))
    comment = fields.String(required=True, validate=validate.Length(min=2, max=1000))


class InvitationSchema(Schema):
    """A one-time code that links a person's own login to the record: the
    client's (no ``guardian_id``) or one of their guardians'. Logins are never
    set by staff; the person redeems the code while signed in."""

    guardian_id = fields.UUID(load_default=None, allow_none=True)
    valid_days = formats.Integer(load_default=7, strict=True, validate=validate.Range(min=1, max=30))


INVITATION_CODE = r"^[A-Za-z2-7]{4}(-?[A-Za-z2-7]{4}){3}$"


class RedemptionSchema(Schema):
    code = fields.String(required=True, validate=validate.Regexp(
        INVITATION_CODE, error="16 letters and digits in groups of four, as the invitation gives it"))


class OnBehalfSchema(Schema):
    other = fields.String(required=True, validate=ID)  # a client's record id or login, or a clinician's id


class ClientIdSchema(Schema):
    client_id = fields.UUID(required=True)


class IdSchema(Schema):
    id = fields.UUID(required=True)


class NoteQueueSchema(paged("age")):
    author_id = fields.String(load_default=None, allow_none=True, validate=ID)
    site_id = fields.String(load_default=None, allow_none=True, validate=ID)
    older_than_hours = formats.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0, max=8760),
                                       metadata={"description": "default: the clinic's NOTES_SIGN_WITHIN_HOURS"})
