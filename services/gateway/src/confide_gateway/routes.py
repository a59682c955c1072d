"""The API, as data: every operation the gateway offers, which service's RPC
answers it, and where each of that RPC's arguments comes from. The dispatcher
(:mod:`confide_gateway.service`) and the OpenAPI document
(:mod:`confide_gateway.openapi`) are both made from this one table, so they
cannot drift apart.

An argument is named by where it comes from:

``path.x``
    the path variable ``x``
``body``
    the whole JSON body (an object)
``body.x``
    the field ``x`` of the JSON body
``query``
    every query parameter, as an object (typed by the operation's query schema)
``query.x``
    one query parameter

Request schemas are the owning service's own marshmallow schemas wherever the
RPC loads one, so what is documented is what is validated. The gateway only
adds small schemas for RPCs that take loose arguments (``api_schemas``).
"""

from __future__ import annotations

from dataclasses import dataclass

from confide_contracts.rpc import audit, billing, credentialing, records, scheduling
from marshmallow import Schema

from confide_gateway import api_schemas as api


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # under /api/v1, werkzeug rule syntax: /clients/<client_id>
    service: str
    rpc: str
    args: tuple[str, ...]
    summary: str
    tag: str
    body: type[Schema] | Schema | None = None  # an instance where a service's schema is narrowed
    query: type[Schema] | None = None
    status: int = 200
    returns: str = "object"  # or "array"
    paged: bool = False  # answers {entries|items, next_cursor}

    @property
    def creates(self) -> bool:
        return self.method == "POST" and self.status == 201

    @property
    def operation_id(self) -> str:
        return f"{self.service}.{self.rpc}"


UUID = {"type": "string", "format": "uuid"}
# what each service accepts in a path, for the OpenAPI document
PATH_PARAMETERS = {
    **{name: UUID for name in ("appointment_id", "availability_id", "charge_id", "claim_id", "client_id",
                               "consent_id", "entry_id", "exception_id", "grant_id", "guardian_id", "hold_id",
                               "license_id", "note_id", "room_id", "series_id", "supervision_id", "fee_id")},
    "clinician_id": {"type": "string", "minLength": 1, "maxLength": 200},
    "site_id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{1,63}$"},
}


def op(method, path, service, rpc, *args, summary, tag=None, **options) -> Operation:
    return Operation(method, path, service, rpc, tuple(args), summary, tag or service, **options)


OPERATIONS: tuple[Operation, ...] = (
    # --- scheduling: sites, rooms, availability ---------------------------------------------
    op("POST", "/sites", "scheduling", "create_site", "body", body=scheduling.SiteSchema, status=201,
       summary="Register a site (jurisdiction, IANA time zone, late-cancel hours)", tag="sites"),
    op("GET", "/sites", "scheduling", "list_sites", "query", query=scheduling.SiteListSchema, paged=True,
       summary="Sites: the caller's (officers: every site)", tag="sites"),
    op("PATCH", "/sites/<site_id>", "scheduling", "update_site", "path.site_id", "body",
       body=scheduling.SiteChangesSchema, summary="Change a site's name, address, late-cancel notice or offer time",
       tag="sites"),
    op("POST", "/sites/<site_id>/rooms", "scheduling", "add_room", "path.site_id", "body",
       body=scheduling.RoomSchema, status=201, summary="Add a room to a site", tag="sites"),
    op("GET", "/sites/<site_id>/rooms", "scheduling", "list_rooms", "path.site_id", "query",
       query=scheduling.RoomListSchema, paged=True, summary="A site's rooms (or those retired)", tag="sites"),
    op("PATCH", "/rooms/<room_id>", "scheduling", "update_room", "path.room_id", "body", body=scheduling.RoomSchema,
       summary="Rename a room, or change its capacity or equipment", tag="sites"),
    op("DELETE", "/rooms/<room_id>", "scheduling", "retire_room", "path.room_id",
       summary="Retire a room from booking (refused while sessions are still to come in it)", tag="sites"),
    op("POST", "/availability", "scheduling", "add_availability", "body", body=scheduling.AvailabilitySchema,
       status=201, summary="Add a clinician's weekly availability window", tag="sites"),
    op("GET", "/availability", "scheduling", "list_availability", "query", query=scheduling.AvailabilityListSchema,
       paged=True, summary="Weekly availability windows (the desk: its sites; a clinician: their own)", tag="sites"),
    op("PATCH", "/availability/<availability_id>", "scheduling", "update_availability", "path.availability_id",
       "body", body=scheduling.AvailabilityChangesSchema, summary="Change a window's day, hours or validity",
       tag="sites"),
    op("DELETE", "/availability/<availability_id>", "scheduling", "remove_availability", "path.availability_id",
       summary="Remove an availability window", tag="sites"),
    op("POST", "/availability/exceptions", "scheduling", "add_exception", "body",
       body=scheduling.ExceptionSchema, status=201, summary="Record leave or extra hours", tag="sites"),
    op("GET", "/availability/exceptions", "scheduling", "list_exceptions", "query",
       query=scheduling.ExceptionListSchema, paged=True, summary="Leave and holidays to come", tag="sites"),
    op("DELETE", "/availability/exceptions/<exception_id>", "scheduling", "remove_exception", "path.exception_id",
       summary="Remove leave or a holiday", tag="sites"),
    # --- scheduling: appointments ---------------------------------------------------------------
    op("GET", "/slots", "scheduling", "find_slots", "query", query=scheduling.SlotQuerySchema, returns="array",
       summary="Free slots of a clinician at a site (licensure and rooms considered)", tag="appointments"),
    op("POST", "/appointments", "scheduling", "book", "body", body=scheduling.AppointmentSchema, status=201,
       summary="Book an appointment (refused when the clinician may not practise it)", tag="appointments"),
    op("GET", "/appointments", "scheduling", "list_appointments", "query", query=scheduling.ListSchema,
       returns="array", summary="Appointments of a site, clinician or client in a time range", tag="appointments"),
    op("GET", "/day-sheet", "scheduling", "day_sheet", "query", query=scheduling.DaySheetSchema,
       summary="A site's or clinician's day or week, in local time, with client names", tag="appointments"),
    op("POST", "/appointment-series", "scheduling", "book_series", "body", body=scheduling.SeriesSchema,
       status=201, summary="Book a recurring series (RRULE), whole or not at all", tag="appointments"),
    op("POST", "/appointment-series/<series_id>/extension", "scheduling", "extend_series", "path.series_id", "body",
       body=scheduling.SeriesExtensionSchema, summary="More occurrences of a series, as its latest stands",
       tag="appointments"),
    op("POST", "/appointment-series/<series_id>/end", "scheduling", "end_series", "path.series_id", "body",
       body=scheduling.SeriesEndSchema, summary="End a series after a date (later sessions cancelled by the clinic)",
       tag="appointments"),
    op("GET", "/appointments/flagged", "scheduling", "reassignment_queue", "query",
       query=scheduling.FlaggedListSchema, paged=True,
       summary="Sessions to come their clinician may no longer practise, with every reason", tag="appointments"),
    op("POST", "/appointments/<appointment_id>/reassignment", "scheduling", "reassign", "path.appointment_id",
       "body", body=scheduling.ReassignSchema,
       summary="Another clinician for a session or the rest of its series (licensure checked)", tag="appointments"),
    op("GET", "/appointments/<appointment_id>", "scheduling", "get_appointment", "path.appointment_id",
       summary="One appointment", tag="appointments"),
    op("POST", "/appointments/<appointment_id>/reschedule", "scheduling", "reschedule", "path.appointment_id",
       "body", body=scheduling.RescheduleSchema, summary="Move an appointment (or it and those following)",
       tag="appointments"),
    op("POST", "/appointments/<appointment_id>/cancellation", "scheduling", "cancel", "path.appointment_id",
       "body", body=scheduling.CancelSchema, summary="Cancel an appointment", tag="appointments"),
    op("POST", "/appointments/<appointment_id>/check-in", "scheduling", "check_in", "path.appointment_id",
       summary="The client has arrived", tag="appointments"),
    op("POST", "/appointments/<appointment_id>/completion", "scheduling", "complete", "path.appointment_id",
       "body", body=scheduling.CompleteSchema, summary="The session took place (minutes, presence)",
       tag="appointments"),
    op("POST", "/appointments/<appointment_id>/no-show", "scheduling", "no_show", "path.appointment_id",
       summary="The client did not come", tag="appointments"),
    op("POST", "/waitlist", "scheduling", "waitlist_add", "body", body=scheduling.WaitlistSchema, status=201,
       summary="Put a client on the waitlist", tag="appointments"),
    op("GET", "/waitlist", "scheduling", "list_waitlist", "query", query=scheduling.WaitlistListSchema, paged=True,
       summary="The waitlist, oldest first (each entry read is recorded)", tag="appointments"),
    op("POST", "/waitlist/<entry_id>/removal", "scheduling", "remove_from_waitlist", "path.entry_id", "body.reason",
       body=scheduling.RemovalSchema, summary="Take a client off the waitlist (an offer they hold passes on)",
       tag="appointments"),
    op("POST", "/waitlist/<entry_id>/answer", "scheduling", "answer_offer", "path.entry_id", "body.accept",
       body=api.OfferAnswerSchema, summary="Accept or decline an offered slot", tag="appointments"),
    # --- the client portal: a client's own record only ------------------------------------
    op("GET", "/me/appointments", "scheduling", "my_appointments", "query", query=scheduling.MyAppointmentsSchema,
       paged=True, summary="My appointments to come (or past), in the site's local time", tag="portal"),
    op("POST", "/me/appointments", "scheduling", "request_appointment", "body", body=scheduling.PortalRequestSchema,
       status=201, summary="Ask for a time from a clinician's free slots (see /slots)", tag="portal"),
    op("POST", "/me/appointments/<appointment_id>/cancellation", "scheduling", "cancel_my_appointment",
       "path.appointment_id", "body.reason", body=scheduling.RemovalSchema,
       summary="Cancel a session of mine (late inside the site's notice: its fee applies)", tag="portal"),
    op("GET", "/me/waitlist-offers", "scheduling", "my_offers", returns="array",
       summary="Waitlist offers open to me, and until when", tag="portal"),
    op("POST", "/me/waitlist-offers/<entry_id>/answer", "scheduling", "answer_my_offer", "path.entry_id",
       "body.accept", body=api.OfferAnswerSchema, summary="Take an offered time, or let it go", tag="portal"),
    op("GET", "/me/statement", "billing", "my_statement",
       summary="My statement: charges, invoices with what is owed, payments, balance", tag="portal"),
    # --- credentialing -------------------------------------------------------------------------
    op("POST", "/clinicians", "credentialing", "register_clinician", "body", body=credentialing.ClinicianSchema,
       status=201, summary="Register a clinician (NPI checked)", tag="clinicians"),
    op("GET", "/clinicians", "credentialing", "list_clinicians", "query", query=credentialing.ClinicianListSchema,
       paged=True, summary="Clinicians, by name, home site or where they are licensed", tag="clinicians"),
    op("GET", "/licenses", "credentialing", "list_licenses", "query", query=credentialing.LicenseListSchema,
       paged=True, summary="Licences, by clinician, jurisdiction, status or expiry", tag="credentials"),
    op("GET", "/supervisions", "credentialing", "list_supervisions", "query",
       query=credentialing.SupervisionListSchema, paged=True, summary="Supervisions, by either side or date",
       tag="credentials"),
    op("GET", "/clinicians/<clinician_id>", "credentialing", "get_clinician", "path.clinician_id",
       summary="A clinician with licences and supervision", tag="clinicians"),
    op("POST", "/clinicians/<clinician_id>/licenses", "credentialing", "record_license", "path.clinician_id",
       "body", body=credentialing.LicenseSchema, status=201,
       summary="Record a licence (pending until verified)", tag="credentials"),
    op("POST", "/licenses/<license_id>/verification", "credentialing", "verify_license", "path.license_id",
       "body", body=credentialing.VerificationSchema, summary="Primary-source verification", tag="credentials"),
    op("POST", "/licenses/<license_id>/renewal", "credentialing", "renew_license", "path.license_id", "body",
       body=credentialing.RenewalSchema, summary="Renew a licence", tag="credentials"),
    op("POST", "/licenses/<license_id>/suspension", "credentialing", "suspend_license", "path.license_id",
       "body.reason", body=credentialing.ReasonSchema, summary="Suspend a licence", tag="credentials"),
    op("POST", "/licenses/<license_id>/reinstatement", "credentialing", "reinstate_license", "path.license_id",
       "body.reason", body=credentialing.ReasonSchema, summary="Reinstate a suspended licence", tag="credentials"),
    op("POST", "/licenses/<license_id>/revocation", "credentialing", "revoke_license", "path.license_id",
       "body.reason", body=credentialing.ReasonSchema, summary="Revoke a licence", tag="credentials"),
    op("POST", "/supervisions", "credentialing", "start_supervision", "body",
       body=credentialing.SupervisionSchema, status=201, summary="Start a supervision", tag="credentials"),
    op("POST", "/supervisions/<supervision_id>/end", "credentialing", "end_supervision", "path.supervision_id",
       "body.ends_on", body=api.EndSupervisionSchema, summary="End a supervision", tag="credentials"),
    op("GET", "/clinicians/<clinician_id>/licensure", "credentialing", "may_practice", "path.clinician_id",
       "query", query=credentialing.QuestionSchema,
       summary="May this clinician practise this session? (the basis and every reason)", tag="licensure"),
    op("POST", "/licensure/matrix", "credentialing", "licensure_matrix", "body", body=credentialing.MatrixSchema,
       summary="Clinicians by jurisdictions: who may practise where", tag="licensure"),
    op("GET", "/licensure/expiring", "credentialing", "expiring", "query.within_days", query=api.ExpiringSchema,
       returns="array", summary="Licences that lapse within the given days", tag="licensure"),
    # --- records -------------------------------------------------------------------------------
    op("POST", "/clients", "records", "register_client", "body", body=records.ClientSchema, status=201,
       summary="Register a client", tag="clients"),
    op("GET", "/clients", "records", "search_clients", "query", query=records.ClientSearchSchema,
       summary="Find clients by name (typos and accents forgiven), date of birth, phone or record number",
       tag="clients"),
    op("GET", "/clients/<client_id>", "records", "get_client", "path.client_id", summary="A client's demographics",
       tag="clients"),
    op("PATCH", "/clients/<client_id>", "records", "update_client", "path.client_id", "body",
       body=records.ClientChangesSchema, summary="Change demographics", tag="clients"),
    op("POST", "/clients/<client_id>/guardians", "records", "add_guardian", "path.client_id", "body",
       body=records.GuardianSchema, status=201,
       summary="Add a guardian with their rights (clinical rights wait for a clinician's approval)", tag="clients"),
    op("POST", "/clients/<client_id>/guardians/<guardian_id>/approval", "records", "approve_guardian_rights",
       "path.client_id", "path.guardian_id",
       summary="Approve the clinical rights asked for a guardian (a clinician on the care team)", tag="clients"),
    op("POST", "/clients/<client_id>/invitations", "records", "invite_login", "path.client_id", "body",
       body=records.InvitationSchema, status=201,
       summary="A one-time code linking the client's own login, or a guardian's (shown once)", tag="clients"),
    op("POST", "/me/record-link", "records", "redeem_invitation", "body.code", body=records.RedemptionSchema,
       summary="Link my own login to the record an invitation was made for", tag="clients"),
    op("GET", "/clients/<client_id>/care-team", "records", "get_care_team", "path.client_id", returns="array",
       summary="The client's care team", tag="clients"),
    op("POST", "/clients/<client_id>/care-team", "records", "assign_care_team", "path.client_id", "body",
       body=records.CareTeamSchema, status=201, returns="array", summary="Add a clinician to the care team",
       tag="clients"),
    op("DELETE", "/clients/<client_id>/care-team/<clinician_id>", "records", "end_care_team", "path.client_id",
       "path.clinician_id", returns="array", summary="Take a clinician off the care team", tag="clients"),
    op("GET", "/clients/<client_id>/consents", "records", "list_consents", "path.client_id", returns="array",
       summary="Consents on file", tag="consents"),
    op("POST", "/clients/<client_id>/consents", "records", "record_consent", "path.client_id", "body",
       body=records.ConsentSchema, status=201, summary="Record a consent", tag="consents"),
    op("POST", "/consents/<consent_id>/revocation", "records", "revoke_consent", "path.consent_id", "body.reason",
       body=records.RevocationSchema, summary="Revoke a consent", tag="consents"),
    op("GET", "/clients/<client_id>/diagnoses", "records", "list_diagnoses", "path.client_id", returns="array",
       summary="Diagnoses (ICD-10-CM)", tag="records"),
    op("POST", "/clients/<client_id>/diagnoses", "records", "add_diagnosis", "path.client_id", "body",
       body=records.DiagnosisSchema, status=201, summary="Add a diagnosis", tag="records"),
    op("GET", "/clients/<client_id>/treatment-plans", "records", "list_treatment_plans", "path.client_id",
       returns="array", summary="Treatment plans", tag="records"),
    op("POST", "/clients/<client_id>/treatment-plans", "records", "create_treatment_plan", "path.client_id",
       "body", body=records.TreatmentPlanSchema, status=201, summary="Write a treatment plan", tag="records"),
    op("GET", "/clients/<client_id>/notes", "records", "list_notes", "path.client_id", returns="array",
       summary="The client's notes (drafts only for their author)", tag="notes"),
    op("GET", "/clients/<client_id>/notes/<note_id>", "records", "get_note", "path.note_id", "path.client_id",
       summary="One note, the client's section and the session's", tag="notes"),
    op("GET", "/notes/unsigned", "records", "unsigned_notes", "query", query=records.NoteQueueSchema, paged=True,
       summary="Drafts left unsigned past the clinic's time (admins and compliance: without the clients)",
       tag="notes"),
    op("GET", "/notes/awaiting-cosignature", "records", "cosignature_queue", "query", query=records.NoteQueueSchema,
       paged=True, summary="Supervisees' signed notes waiting for the caller's co-signature", tag="notes"),
    op("POST", "/notes", "records", "create_note", "body", body=records.NoteSchema, status=201,
       summary="Write a note (a draft until signed)", tag="notes"),
    op("PATCH", "/notes/<note_id>", "records", "update_note", "path.note_id", "body",
       body=records.NoteChangesSchema, summary="Change a draft", tag="notes"),
    op("POST", "/notes/<note_id>/signature", "records", "sign_note", "path.note_id",
       summary="Sign a note (locks it)", tag="notes"),
    op("POST", "/notes/<note_id>/cosignature", "records", "cosign_note", "path.note_id",
       summary="Co-sign a supervisee's note", tag="notes"),
    op("POST", "/notes/<note_id>/addenda", "records", "add_addendum", "path.note_id", "body",
       body=records.AddendumSchema, status=201, summary="Add a signed addendum to a signed note", tag="notes"),
    op("POST", "/psychotherapy-notes", "records", "write_psychotherapy_note", "body",
       body=records.PsychotherapyNoteSchema, status=201,
       summary="Write a psychotherapy note (its author's, kept apart)", tag="notes"),
    op("GET", "/clients/<client_id>/psychotherapy-notes", "records", "get_psychotherapy_notes", "path.client_id",
       returns="array", summary="The caller's psychotherapy notes on this client", tag="notes"),
    op("POST", "/psychotherapy-notes/<note_id>/signature", "records", "sign_psychotherapy_note", "path.note_id",
       summary="Sign a psychotherapy note", tag="notes"),
    op("POST", "/clients/<client_id>/break-glass", "records", "break_glass", "path.client_id", "body.reason",
       "body.minutes", body=records.BreakGlassSchema(exclude=("client_id",)), status=201,
       summary="Emergency access outside the care team (reason required; reviewed)", tag="records"),
    op("GET", "/break-glass/reviews", "records", "break_glass_reviews", "query.status", query=api.ReviewQueueSchema,
       returns="array", summary="The compliance review queue of break-the-glass grants", tag="records"),
    op("POST", "/break-glass/<grant_id>/review", "records", "review_break_glass", "path.grant_id", "body.outcome",
       "body.comment", body=records.ReviewSchema, summary="Review a break-the-glass grant", tag="records"),
    op("GET", "/notifications", "records", "my_notifications", returns="array",
       summary="The caller's notifications", tag="records"),
    op("GET", "/clients/<client_id>/export", "records", "export_record", "path.client_id",
       summary="The client's record, as the client or their guardian may have it", tag="records"),
    op("POST", "/clients/<client_id>/disclosures", "records", "disclose", "path.client_id", "body.consent_id",
       body=api.DisclosureSchema, status=201, summary="Disclose under a release-of-information consent",
       tag="records"),
    # --- billing -------------------------------------------------------------------------------
    op("GET", "/fees", "billing", "list_fees", "query", query=billing.FeeListSchema, paged=True,
       summary="Fees of the caller's sites, by payer or date", tag="billing"),
    op("GET", "/invoices", "billing", "list_invoices", "query", query=billing.InvoiceListSchema, paged=True,
       summary="Invoices with what is paid (each read recorded for its client)", tag="billing"),
    op("GET", "/payments", "billing", "list_payments", "query", query=billing.PaymentListSchema, paged=True,
       summary="Payments and refunds (each read recorded for its client)", tag="billing"),
    op("GET", "/claims", "billing", "list_claims", "query", query=billing.ClaimListSchema, paged=True,
       summary="Claims by status or payer (each read recorded for its client)", tag="billing"),
    op("GET", "/accounts", "billing", "list_accounts", "query", query=billing.AccountListSchema, paged=True,
       summary="Clients' billing accounts (each read recorded for its client)", tag="billing"),
    op("POST", "/fees/<fee_id>/end", "billing", "end_fee", "path.fee_id", "body.effective_until",
       body=billing.FeeEndSchema, summary="End a fee: it applies up to a date, no longer", tag="billing"),
    op("DELETE", "/fees/<fee_id>", "billing", "remove_fee", "path.fee_id",
       summary="Withdraw a fee not yet in force", tag="billing"),
    op("PUT", "/fees", "billing", "set_fee", "body", body=billing.FeeSchema, summary="Set a fee", tag="billing"),
    op("PUT", "/sliding-scales", "billing", "set_sliding_scale", "body", body=billing.ScaleSchema, returns="array",
       summary="Set a site's sliding scale", tag="billing"),
    op("PUT", "/site-policies", "billing", "set_site_policy", "body", body=billing.PolicySchema,
       summary="Set a site's billing policy", tag="billing"),
    op("PUT", "/billing-providers", "billing", "set_billing_provider", "body", body=billing.BillingProviderSchema,
       summary="Set a site's billing provider (NPI, tax id)", tag="billing"),
    op("POST", "/accounts", "billing", "open_account", "body", body=billing.AccountSchema, status=201,
       summary="Open a client's account", tag="billing"),
    op("GET", "/clients/<client_id>/statement", "billing", "statement", "path.client_id",
       summary="Charges, invoices, payments and balance", tag="billing"),
    op("POST", "/charges/<charge_id>/reversal", "billing", "reverse_charge", "path.charge_id", "body.reason",
       body=api.ReasonSchema, status=201, summary="Reverse a charge", tag="billing"),
    op("POST", "/invoices", "billing", "issue_invoice", "body", body=billing.InvoiceRequestSchema, status=201,
       summary="Invoice a client's open charges for a period", tag="billing"),
    op("POST", "/payments", "billing", "record_payment", "body", body=billing.PaymentSchema, status=201,
       summary="Record a payment", tag="billing"),
    op("POST", "/refunds", "billing", "refund", "body", body=billing.PaymentSchema, status=201,
       summary="Refund a payment", tag="billing"),
    op("POST", "/claims", "billing", "create_claim", "body.appointment_id", "body.client_id",
       body=api.ClaimSchema, status=201, summary="An 837P-shaped claim for a completed session", tag="billing"),
    op("POST", "/claims/<claim_id>/result", "billing", "update_claim", "path.claim_id", "body",
       body=billing.ClaimResultSchema, summary="Record the payer's answer", tag="billing"),
    op("POST", "/superbills", "billing", "superbill", "body", body=billing.InvoiceRequestSchema,
       summary="A superbill for a client who claims themself", tag="billing"),
    # --- audit ---------------------------------------------------------------------------------
    op("GET", "/audit/entries", "audit", "query", "query", query=audit.QuerySchema, paged=True,
       summary="Audit trail entries; filters combine; cursor pages on", tag="audit"),
    op("GET", "/audit/disclosures/<client_id>", "audit", "disclosures", "path.client_id", returns="array",
       summary="Accounting of disclosures for one client, six years", tag="audit"),
    op("GET", "/audit/my-access", "audit", "my_access_report", "query.cursor", "query.limit",
       query=api.PageSchema, paged=True, summary="For a client: who accessed my record, when and why", tag="audit"),
    op("GET", "/audit/reports/denied", "audit", "denied_by_actor", "query.since", "query.until",
       query=api.RangeSchema, returns="array", summary="Denied attempts per actor", tag="audit"),
    op("GET", "/audit/reports/outside-care-team", "audit", "outside_care_team", "query.since", "query.until",
       "query.limit", query=api.RangeSchema, returns="array",
       summary="Clinicians' access to clients outside their care team, with the basis", tag="audit"),
    op("GET", "/audit/reports/after-hours", "audit", "after_hours", "query.time_zone", "query.opens",
       "query.closes", "query.site_id", "query.limit", query=audit.AfterHoursSchema, returns="array",
       summary="Access outside opening hours or at weekends", tag="audit"),
    op("GET", "/audit/reports/break-glass-unreviewed", "audit", "break_glass_unreviewed",
       "query.older_than_hours", "query.limit", query=audit.UnreviewedSchema, returns="array",
       summary="Break-the-glass grants no officer has reviewed", tag="audit"),
    op("GET", "/audit/legal-holds", "audit", "legal_holds", summary="Legal holds and where each chain starts",
       tag="audit"),
    op("POST", "/audit/legal-holds", "audit", "place_legal_hold", "body", body=audit.LegalHoldSchema, status=201,
       summary="Hold a client's entries (or the whole log) from any purge", tag="audit"),
    op("POST", "/audit/legal-holds/<hold_id>/release", "audit", "release_legal_hold", "path.hold_id",
       "body.reason", body=api.ReasonSchema, summary="Release a legal hold", tag="audit"),
    op("GET", "/audit/verification", "audit", "verify",
       summary="Recompute every chain and tree; check every checkpoint signature", tag="audit"),
    op("GET", "/audit/checkpoints", "audit", "checkpoints",
       summary="The latest signed checkpoint of each chain and the public keys", tag="audit"),
    op("POST", "/audit/checkpoints", "audit", "checkpoint_now", returns="array",
       summary="Sign a checkpoint of every chain that grew", tag="audit"),
    op("GET", "/audit/proofs/inclusion", "audit", "prove_inclusion", "query.chain", "query.seq", "query.tree_size",
       query=audit.InclusionSchema, summary="RFC 6962 inclusion proof of an entry", tag="audit"),
    op("GET", "/audit/proofs/consistency", "audit", "prove_consistency", "query.chain", "query.old_size",
       "query.new_size", query=audit.ConsistencySchema, summary="RFC 6962 consistency proof of two checkpoints",
       tag="audit"),
)
