"""Every role against every operation, over HTTP on the real stack.

The world is the demo network (built through the API). Each caller below calls
each of the gateway's 126 operations with a well-formed request about Robin Hale,
her clinician Ana and their site. Whether it is refused (403) is decided by the
service that owns the data; the gateway passes the caller on and grants
nothing. The expected table is DESIGN.md's rules made concrete:

- clinical data to the client's care team and to the supervisor of a clinician
  on it; to any clinician who breaks the glass (reading only); psychotherapy
  notes to their author alone; a client to their own record;
- other staff only to what their work needs (minimum necessary): the desk to
  demographics, care team and consents; billers to demographics and diagnosis
  codes; admins to demographics and the care team; compliance officers to
  demographics, care teams and consents, network-wide;
- sites, rooms, fees and the billing set-up to admins; bookings to the desk and
  to clinicians for their own sessions; licences and supervisions to
  credentialing officers and admins; licensure answers (and the lists of
  sites, clinicians, licences and supervisions) to all staff; the books to
  billing staff, claims to billers; a client's portal to that client;
- the audit trail to compliance officers (admins may check its integrity); a client's own access
  report to that client.

Every refusal must be in the audit trail: each 403's trace id is found among
the denied entries. And each operation some caller may do went through at least
once, so a request the service cannot even read does not pass for a decision.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from confide_client.demo import ANA, BEN, NORTH, SAM, load
from confide_gateway.routes import OPERATIONS
from confide_telemetry import configure_tracing
from confide_testing import random_id, wait_until
from fhir.resources.R4B.auditevent import AuditEvent as FhirAuditEvent
from fhir.resources.R4B.bundle import Bundle as FhirBundle

TODAY = date.today()
SOON = (datetime.now(UTC) + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)

# the callers: every role of DESIGN.md, and a clinician in each relation to Robin
CALLERS = ("primary", "clinician", "supervisor", "front_desk", "biller", "credentialing_officer",
           "compliance_officer", "admin", "client")

E = frozenset()
EVERYONE = frozenset(CALLERS)
STAFF = EVERYONE - {"client"}
ADMIN = frozenset({"admin"})
DESK = frozenset({"front_desk", "admin"})
OWN = frozenset({"primary"})  # the requests name Ana's own sessions, hours and notes
OFFICERS = frozenset({"compliance_officer", "admin"})
COMPLIANCE = frozenset({"compliance_officer"})
CLINICIANS = frozenset({"primary", "clinician", "supervisor"})
CREDENTIALING = frozenset({"credentialing_officer", "admin"})
# records: who reaches which part of Robin's record (minimum necessary): her care
# team, the supervisor of a clinician on it, site staff as their work needs, the
# compliance officer network-wide, and Robin herself
READ = {
    "demographics": frozenset({"primary", "supervisor", "front_desk", "biller", "admin", "compliance_officer",
                               "client"}),
    "care_team": frozenset({"primary", "supervisor", "front_desk", "admin", "compliance_officer", "client"}),
    "consents": frozenset({"primary", "supervisor", "front_desk", "compliance_officer", "client"}),
    "diagnoses": frozenset({"primary", "supervisor", "biller", "client"}),
    "clinical": frozenset({"primary", "supervisor", "client"}),  # plans and notes
}
WRITE = {  # supervision and break-the-glass are for reading
    "demographics": frozenset({"primary", "front_desk", "admin"}),
    "care_team": frozenset({"primary", "front_desk", "admin"}),
    "consents": frozenset({"primary", "front_desk"}),
    "clinical": frozenset({"primary"}),
}
BILLING_STAFF = frozenset({"biller", "front_desk", "admin"})

# operation -> the callers that are let through; the rest get 403
EXPECTED: dict[str, frozenset[str]] = {
    # scheduling: sites are an admin's; bookings the desk's and a clinician's own
    "scheduling.create_site": ADMIN,
    "scheduling.add_room": ADMIN,
    "scheduling.add_availability": DESK | OWN,
    "scheduling.add_exception": DESK | OWN,
    "scheduling.find_slots": EVERYONE,  # free times, nobody's record (a client may book online)
    "scheduling.book": DESK | OWN,
    "scheduling.list_appointments": DESK | {"biller"},  # a site's day: its staff
    "scheduling.day_sheet": DESK | {"biller"} | CLINICIANS,  # a clinician's: their own sessions only
    "scheduling.book_series": DESK | OWN,
    "scheduling.get_appointment": DESK | {"biller"} | OWN,
    "scheduling.reschedule": DESK | OWN,
    "scheduling.cancel": DESK | OWN,
    "scheduling.check_in": DESK | OWN,
    "scheduling.complete": DESK | OWN,
    "scheduling.no_show": DESK | OWN,
    "scheduling.waitlist_add": DESK | OWN,
    "scheduling.answer_offer": DESK,  # (the offer is Ben's, not Ana's)
    "scheduling.list_sites": STAFF,  # their sites; officers every site
    "scheduling.update_site": ADMIN,
    "scheduling.list_rooms": STAFF,
    "scheduling.update_room": ADMIN,
    "scheduling.retire_room": ADMIN,
    "scheduling.list_availability": DESK | OWN,  # (Ana's windows)
    "scheduling.update_availability": DESK | OWN,
    "scheduling.remove_availability": DESK | OWN,
    "scheduling.list_exceptions": DESK | OWN,
    "scheduling.remove_exception": DESK | OWN,
    "scheduling.list_waitlist": DESK | CLINICIANS,  # a clinician: the entries waiting for them
    "scheduling.remove_from_waitlist": DESK | OWN,
    "scheduling.extend_series": DESK | OWN,
    "scheduling.end_series": DESK | OWN,
    "scheduling.reassignment_queue": DESK | {"biller"} | CLINICIANS,  # a clinician: their own sessions
    "scheduling.reassign": DESK,  # (to Ben: a clinician takes sessions only for themself)
    "scheduling.my_appointments": frozenset({"client"}),
    "scheduling.request_appointment": frozenset({"client"}),
    "scheduling.cancel_my_appointment": frozenset({"client"}),
    "scheduling.my_offers": frozenset({"client"}),
    "scheduling.answer_my_offer": frozenset({"client"}),
    # credentialing: officers keep licences; everyone on staff may ask who may practise
    "credentialing.register_clinician": CREDENTIALING,
    "credentialing.get_clinician": STAFF,
    "credentialing.record_license": CREDENTIALING,
    "credentialing.verify_license": CREDENTIALING,
    "credentialing.renew_license": CREDENTIALING,
    "credentialing.suspend_license": CREDENTIALING,
    "credentialing.reinstate_license": CREDENTIALING,
    "credentialing.revoke_license": CREDENTIALING,
    "credentialing.start_supervision": CREDENTIALING,
    "credentialing.end_supervision": CREDENTIALING,
    "credentialing.may_practice": STAFF,
    "credentialing.licensure_matrix": STAFF,
    "credentialing.expiring": STAFF,
    "credentialing.list_clinicians": STAFF,
    "credentialing.list_licenses": STAFF,
    "credentialing.list_supervisions": STAFF,
    # records
    "records.register_client": DESK | CLINICIANS,  # at a site of theirs
    "records.get_client": READ["demographics"],
    # a search among the caller's sites (a clinician's: among their care teams' clients)
    "records.search_clients": STAFF - {"credentialing_officer"},
    "records.update_client": WRITE["demographics"],
    "records.add_guardian": WRITE["demographics"],
    "records.approve_guardian_rights": OWN,  # a clinician on the care team
    "records.invite_login": WRITE["demographics"],
    "records.redeem_invitation": frozenset({"client"}),  # the person, signed in as themselves
    "records.get_care_team": READ["care_team"],
    "records.assign_care_team": WRITE["care_team"],
    "records.end_care_team": WRITE["care_team"],
    "records.list_consents": READ["consents"],
    "records.record_consent": WRITE["consents"],
    "records.revoke_consent": WRITE["consents"],
    "records.list_diagnoses": READ["diagnoses"],
    "records.add_diagnosis": WRITE["clinical"],
    "records.list_treatment_plans": READ["clinical"],
    "records.create_treatment_plan": WRITE["clinical"],
    "records.list_notes": READ["clinical"],
    "records.get_note": READ["clinical"],
    "records.create_note": WRITE["clinical"],
    "records.update_note": WRITE["clinical"],
    "records.sign_note": WRITE["clinical"],
    "records.cosign_note": E,  # Ana's supervisor would; no caller supervises her
    "records.add_addendum": WRITE["clinical"],
    "records.write_psychotherapy_note": WRITE["clinical"],
    "records.get_psychotherapy_notes": OWN,  # their author's alone, whoever else may see the record
    "records.sign_psychotherapy_note": OWN,
    "records.break_glass": CLINICIANS,  # any clinician, with a reason, flagged in the trail
    "records.break_glass_reviews": COMPLIANCE,
    "records.review_break_glass": COMPLIANCE,
    "records.my_notifications": EVERYONE,
    "records.unsigned_notes": CLINICIANS | OFFICERS,  # officers follow up without the clients
    "records.cosignature_queue": CLINICIANS,  # (each sees the notes they co-sign: none here)
    "records.export_record": READ["clinical"],  # the whole record
    "records.disclose": READ["clinical"] - {"client"},
    # billing: prices are an admin's; the desk takes money; claims and superbills need
    # diagnosis codes, which records gives billers only
    "billing.set_fee": ADMIN,
    "billing.set_sliding_scale": ADMIN,
    "billing.set_site_policy": ADMIN,
    "billing.set_billing_provider": ADMIN,
    "billing.open_account": BILLING_STAFF,
    "billing.statement": BILLING_STAFF,
    "billing.reverse_charge": frozenset({"biller", "admin"}),
    "billing.issue_invoice": frozenset({"biller", "admin"}),
    "billing.record_payment": BILLING_STAFF,
    "billing.refund": frozenset({"biller", "admin"}),
    "billing.create_claim": frozenset({"biller"}),
    "billing.update_claim": frozenset({"biller", "admin"}),
    "billing.superbill": frozenset({"biller"}),
    "billing.list_fees": BILLING_STAFF,
    "billing.end_fee": ADMIN,
    "billing.remove_fee": ADMIN,
    "billing.list_invoices": BILLING_STAFF,
    "billing.list_payments": BILLING_STAFF,
    "billing.list_claims": frozenset({"biller", "admin"}),
    "billing.list_accounts": BILLING_STAFF,
    "billing.my_statement": frozenset({"client"}),
    # audit: the trail is for compliance officers (admins check its integrity, they do not
    # read it); a client sees who saw them
    "audit.query": COMPLIANCE,
    "audit.disclosures": COMPLIANCE,
    "audit.my_access_report": frozenset({"client"}),
    "audit.denied_by_actor": COMPLIANCE,
    "audit.outside_care_team": COMPLIANCE,
    "audit.after_hours": COMPLIANCE,
    "audit.break_glass_unreviewed": COMPLIANCE,
    "audit.legal_holds": COMPLIANCE,
    "audit.place_legal_hold": COMPLIANCE,
    "audit.release_legal_hold": COMPLIANCE,
    "audit.verify": OFFICERS,
    "audit.checkpoints": OFFICERS,
    "audit.checkpoint_now": OFFICERS,
    "audit.prove_inclusion": OFFICERS,
    "audit.prove_consistency": OFFICERS,
}

def requests_for(w: dict, n: int) -> dict[str, tuple[dict, dict | None, dict | None]]:
    """operation -> (path variables, JSON body, query), the n-th time it is asked
    (bodies that create something are fresh each time)."""
    robin, visit, spare = w["robin"], w["visit"], w["spare_appointment"]
    period = {"client_id": robin, "period_start": (TODAY - timedelta(days=31)).isoformat(),
              "period_end": (TODAY + timedelta(days=1)).isoformat()}
    booking = {"site_id": NORTH, "clinician_id": ANA, "client_ids": [robin], "kind": "individual",
               "service_kind": "individual_psychotherapy", "modality": "in_person", "planned_minutes": 50,
               "room_id": w["room"], "starts_at": (SOON + timedelta(days=30, hours=n)).isoformat()}
    # (what the demo left owing is paid at the first go, and the rest is a credit to refund from)
    payment = {"client_id": robin, "amount_minor": 5000, "currency": "USD", "method": "cash"}
    refund = {**payment, "amount_minor": 100}
    licence = {"license_id": w["temp_license"]}
    reason = {"reason": "matrix test"}
    window = {"since": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
              "until": (datetime.now(UTC) + timedelta(days=1)).isoformat()}
    return {
        "scheduling.create_site": ({}, {"id": "annex", "name": "Another", "jurisdiction": "US-NY",
                                        "time_zone": "America/New_York"}, None),
        "scheduling.add_room": ({"site_id": NORTH}, {"name": f"Room {n + 10}", "capacity": 2}, None),
        "scheduling.add_availability": ({}, {"clinician_id": ANA, "site_id": NORTH, "weekday": n % 7,
                                             "starts": "06:00", "ends": "07:00", "valid_from": "2027-01-01"}, None),
        "scheduling.add_exception": ({}, {"clinician_id": ANA, "site_id": NORTH, "reason": "training",
                                          "starts_at": (SOON + timedelta(days=60 + n)).isoformat(),
                                          "ends_at": (SOON + timedelta(days=60 + n, hours=2)).isoformat()}, None),
        "scheduling.find_slots": ({}, None, {"clinician_id": ANA, "site_id": NORTH, "from_date": TODAY.isoformat(),
                                             "to_date": (TODAY + timedelta(days=2)).isoformat(),
                                             "service_kind": "individual_psychotherapy"}),
        "scheduling.book": ({}, booking, None),
        "scheduling.list_appointments": ({}, None, {"site_id": NORTH, "starts_from": TODAY.isoformat() + "T00:00Z",
                                                    "starts_before": (TODAY + timedelta(days=9)).isoformat()
                                                    + "T00:00Z"}),
        "scheduling.day_sheet": ({}, None, {"site_id": NORTH, "days": 7}),
        "scheduling.book_series": ({}, {"appointment": {**booking, "starts_at": (
            SOON + timedelta(days=200, hours=n)).isoformat()}, "rrule": "FREQ=WEEKLY;COUNT=2"}, None),
        "scheduling.get_appointment": ({"appointment_id": w["robin_session"]}, None, None),
        "scheduling.reschedule": ({"appointment_id": spare}, {"starts_at": (SOON + timedelta(hours=n + 1))
                                                              .isoformat()}, None),
        "scheduling.cancel": ({"appointment_id": spare}, {"by": "clinic", "reason": "matrix test"}, None),
        "scheduling.check_in": ({"appointment_id": visit}, None, None),
        "scheduling.complete": ({"appointment_id": visit}, {"minutes": 50}, None),
        "scheduling.no_show": ({"appointment_id": w["absent"]}, None, None),
        "scheduling.waitlist_add": ({}, {"site_id": NORTH, "service_kind": "individual_psychotherapy",
                                         "client_id": robin, "clinician_id": ANA}, None),
        "scheduling.answer_offer": ({"entry_id": w["waitlist"]}, {"accept": False}, None),
        "scheduling.list_sites": ({}, None, {"sort": "-name", "limit": 5}),
        "scheduling.update_site": ({"site_id": NORTH}, {"late_cancel_hours": 24}, None),
        "scheduling.list_rooms": ({"site_id": NORTH}, None, None),
        "scheduling.update_room": ({"room_id": w["spare_room"]}, {"capacity": 3}, None),
        "scheduling.retire_room": ({"room_id": w["spare_room"]}, None, None),
        "scheduling.list_availability": ({}, None, {"clinician_id": ANA}),
        "scheduling.update_availability": ({"availability_id": w["windows"][n % 9]}, {"ends": "07:30"}, None),
        "scheduling.remove_availability": ({"availability_id": w["windows"][n % 9]}, None, None),
        "scheduling.list_exceptions": ({}, None, {"clinician_id": ANA}),
        "scheduling.remove_exception": ({"exception_id": w["leave"][n % 9]}, None, None),
        "scheduling.list_waitlist": ({}, None, {"site_id": NORTH}),
        "scheduling.remove_from_waitlist": ({"entry_id": w["entries"][n % 9]}, {"reason": "matrix test"}, None),
        "scheduling.extend_series": ({"series_id": w["series"]}, {"count": 3}, None),
        "scheduling.end_series": ({"series_id": w["series"]}, {"last_date": (TODAY + timedelta(days=300))
                                                                 .isoformat(), "reason": "matrix test"}, None),
        "scheduling.reassignment_queue": ({}, None, None),
        "scheduling.reassign": ({"appointment_id": w["to_reassign"]}, {"clinician_id": BEN}, None),
        "scheduling.my_appointments": ({}, None, {"when": "past"}),
        "scheduling.request_appointment": ({}, {"site_id": NORTH, "clinician_id": ANA, "modality": "telehealth",
                                                "client_jurisdiction": "US-NY", "service_kind":
                                                "individual_psychotherapy", "starts_at": (
                                                    SOON + timedelta(days=40, hours=n)).isoformat()}, None),
        "scheduling.cancel_my_appointment": ({"appointment_id": w["robin_own"]}, {"reason": "matrix test"}, None),
        "scheduling.my_offers": ({}, None, None),
        "scheduling.answer_my_offer": ({"entry_id": w["waitlist"]}, {"accept": False}, None),
        "credentialing.register_clinician": ({}, {"id": f"dr-new-{n}", "given_name": "New", "family_name": "One",
                                                  "home_site_id": NORTH}, None),
        "credentialing.get_clinician": ({"clinician_id": ANA}, None, None),
        "credentialing.record_license": ({"clinician_id": w["temp"]}, {
            "type": "lmhc", "jurisdiction": "US-NJ", "number": f"NJ-{n}", "issued_on": "2020-01-01",
            "expires_on": "2030-01-01"}, None),
        "credentialing.verify_license": (licence, {"source": "NY OP", "result": "verified"}, None),
        "credentialing.renew_license": (licence, {"expires_on": "2031-01-01", "verification": {
            "source": "NY OP", "result": "verified"}}, None),
        "credentialing.suspend_license": (licence, reason, None),
        "credentialing.reinstate_license": (licence, reason, None),
        "credentialing.revoke_license": (licence, reason, None),
        "credentialing.start_supervision": ({}, {"supervisor_id": SAM, "supervisee_id": w["temp"],
                                                 "jurisdiction": "US-NY",
                                                 "starts_on": (TODAY + timedelta(days=n)).isoformat()}, None),
        "credentialing.end_supervision": ({"supervision_id": w["temp_supervision"]},
                                          {"ends_on": TODAY.isoformat()}, None),
        "credentialing.may_practice": ({"clinician_id": ANA}, None, {
            "client_jurisdiction": "US-NY", "service_kind": "individual_psychotherapy", "modality": "telehealth"}),
        "credentialing.licensure_matrix": ({}, {"clinician_ids": [ANA, BEN], "jurisdictions": ["US-NY", "US-NJ"],
                                                "service_kind": "individual_psychotherapy",
                                                "modality": "telehealth"}, None),
        "credentialing.expiring": ({}, None, {"within_days": 30}),
        "credentialing.list_clinicians": ({}, None, {"name": "ru"}),
        "credentialing.list_licenses": ({}, None, {"clinician_id": ANA}),
        "credentialing.list_supervisions": ({}, None, {"supervisor_id": SAM}),
        "records.register_client": ({}, {"given_name": "New", "family_name": f"Client{n}",
                                         "date_of_birth": "1990-01-01", "home_site_id": NORTH}, None),
        "records.get_client": ({"client_id": robin}, None, None),
        "records.search_clients": ({}, None, {"name": "robn hal"}),
        "records.update_client": ({"client_id": robin}, {"given_name": "Robin", "family_name": "Hale",
                                                         "date_of_birth": "1988-04-02", "pronouns": "they/them"},
                                  None),
        "records.add_guardian": ({"client_id": robin}, {"name": "Pat Hale", "relationship": "other",
                                                        "may_see": ["demographics"]}, None),
        "records.approve_guardian_rights": ({"client_id": robin, "guardian_id": w["pending_guardian"]}, None, None),
        "records.invite_login": ({"client_id": robin}, {"guardian_id": w["pending_guardian"]}, None),
        "records.redeem_invitation": ({}, {"code": w["invitation"]}, None),
        "records.get_care_team": ({"client_id": robin}, None, None),
        "records.assign_care_team": ({"client_id": robin}, {"clinician_id": w["temp"], "role": "consultant"}, None),
        "records.end_care_team": ({"client_id": robin, "clinician_id": w["leaving"]}, None, None),
        "records.list_consents": ({"client_id": robin}, None, None),
        "records.record_consent": ({"client_id": robin}, {"kind": "telehealth", "signed_by": "Robin Hale"}, None),
        "records.revoke_consent": ({"consent_id": w["spare_consent"]}, reason, None),
        "records.list_diagnoses": ({"client_id": robin}, None, None),
        "records.add_diagnosis": ({"client_id": robin}, {"code": "F51.01", "status": "provisional"}, None),
        "records.list_treatment_plans": ({"client_id": robin}, None, None),
        "records.create_treatment_plan": ({"client_id": robin}, {
            "goals": [{"description": "Sleep seven hours"}], "review_on": "2027-06-01"}, None),
        "records.list_notes": ({"client_id": robin}, None, None),
        "records.get_note": ({"client_id": robin, "note_id": w["robin_note"]}, None, None),
        "records.create_note": ({}, {"kind": "intake", "session_kind": "individual", "site_id": NORTH,
                                     "service_date": TODAY.isoformat(), "client_ids": [robin],
                                     "sections": [{"body": "Brief check-in call."}]}, None),
        "records.update_note": ({"note_id": w["draft"]}, {"sections": [{"body": f"Draft, take {n}."}]}, None),
        "records.sign_note": ({"note_id": w["robin_note"]}, None, None),
        "records.cosign_note": ({"note_id": w["robin_note"]}, None, None),
        "records.add_addendum": ({"note_id": w["robin_note"]}, {"body": "Late entry: client called."}, None),
        "records.write_psychotherapy_note": ({}, {"client_id": robin, "service_date": TODAY.isoformat(),
                                                  "body": "Process notes."}, None),
        "records.get_psychotherapy_notes": ({"client_id": robin}, None, None),
        "records.sign_psychotherapy_note": ({"note_id": w["psychotherapy_note"]}, None, None),
        "records.break_glass": ({"client_id": robin}, {"reason": "crisis call, primary unreachable"}, None),
        "records.break_glass_reviews": ({}, None, {"status": "pending"}),
        "records.review_break_glass": ({"grant_id": w["grant"]}, {"outcome": "justified", "comment": "crisis"},
                                       None),
        "records.my_notifications": ({}, None, None),
        "records.unsigned_notes": ({}, None, {"older_than_hours": 0}),
        "records.cosignature_queue": ({}, None, None),
        "records.export_record": ({"client_id": robin}, None, None),
        "records.disclose": ({"client_id": robin}, {"consent_id": w["release"]}, None),
        "billing.set_fee": ({}, {"site_id": NORTH, "payer": "self_pay", "code": "90791", "amount_minor": 20000,
                                 "currency": "USD", "effective_from": "2026-01-01"}, None),
        "billing.set_sliding_scale": ({}, {"site_id": NORTH, "currency": "USD", "tiers": [
            {"name": "A", "max_income_minor": 2_500_000, "percent": 40}]}, None),
        "billing.set_site_policy": ({}, {"site_id": NORTH, "currency": "USD", "no_show_fee_minor": 5000,
                                         "late_cancel_fee_minor": 5000}, None),
        "billing.set_billing_provider": ({}, {"site_id": NORTH, "name": "Confide North Clinic", "npi": "1111111120",
                                              "tax_id": "123456789", "address": {
                                                  "line1": "1 State St", "city": "Albany", "region": "NY",
                                                  "postal_code": "12207"}}, None),
        "billing.open_account": ({}, {"client_id": w["jordan"], "payer": "aetna", "currency": "USD",
                                      "member_id": "W123456789"}, None),
        "billing.statement": ({"client_id": robin}, None, None),
        "billing.reverse_charge": ({"charge_id": w["charge"]}, reason, None),
        "billing.issue_invoice": ({}, period, None),
        "billing.record_payment": ({}, payment, None),
        "billing.refund": ({}, refund, None),
        "billing.create_claim": ({}, {"appointment_id": w["jordan_session"], "client_id": w["jordan"]}, None),
        "billing.update_claim": ({"claim_id": w["claim"]}, {"status": "submitted"}, None),
        "billing.superbill": ({}, {**period, "client_id": w["jordan"]}, None),
        "billing.list_fees": ({}, None, {"site_id": NORTH}),
        "billing.end_fee": ({"fee_id": w["fees"][0]}, {"effective_until": "2999-06-30"}, None),
        "billing.remove_fee": ({"fee_id": w["fees"][n % 9]}, None, None),
        "billing.list_invoices": ({}, None, {"client_id": robin}),
        "billing.list_payments": ({}, None, {"site_id": NORTH}),
        "billing.list_claims": ({}, None, {"status": "ready"}),
        "billing.list_accounts": ({}, None, None),
        "billing.my_statement": ({}, None, None),
        "audit.query": ({}, None, {"client_id": robin, "limit": 5}),
        "audit.disclosures": ({"client_id": robin}, None, None),
        "audit.my_access_report": ({}, None, {"limit": 5}),
        "audit.denied_by_actor": ({}, None, window),
        "audit.outside_care_team": ({}, None, window),
        "audit.after_hours": ({}, None, {"time_zone": "America/New_York"}),
        "audit.break_glass_unreviewed": ({}, None, None),
        "audit.legal_holds": ({}, None, None),
        "audit.place_legal_hold": ({}, {"client_id": w["jordan"], "reason": "subpoena 2026-114"}, None),
        "audit.release_legal_hold": ({"hold_id": w["hold"]}, reason, None),
        "audit.verify": ({}, None, None),
        "audit.checkpoints": ({}, None, None),
        "audit.checkpoint_now": ({}, None, None),
        "audit.prove_inclusion": ({}, None, {"chain": w["chain"], "seq": 0}),
        "audit.prove_consistency": ({}, None, {"chain": w["chain"], "old_size": w["old_size"],
                                                 "new_size": w["new_size"]}),
    }


def booking_of(w: dict, at: datetime) -> dict:
    """A session of Robin's with Ana, at ``at``."""
    return {"site_id": NORTH, "clinician_id": ANA, "client_ids": [w["robin"]], "kind": "individual",
            "service_kind": "individual_psychotherapy", "modality": "in_person", "planned_minutes": 50,
            "room_id": w["room"], "starts_at": at.isoformat()}


def path_of(operation, variables: dict) -> str:
    path = operation.path
    for name, value in variables.items():
        path = path.replace(f"<{name}>", value)
    assert "<" not in path, f"{operation.operation_id}: no value for a variable of {path}"
    return path


@pytest.fixture
def world(stack):
    configure_tracing("confide-tests")  # (so each answer carries the trace id its audit entry keeps)
    w = load(stack.base, stack.state, say=lambda _: None)
    desk = stack.token("matrix-desk", "front_desk", sites=(NORTH,))
    cred = stack.token("matrix-cred", "credentialing_officer", sites=(NORTH,))
    officer = stack.token("matrix-officer", "compliance_officer", sites=())

    def ok(answer, status=201):
        assert answer.status_code == status, (answer.status_code, answer.text)
        return answer.json()

    # the demo left checkpoints: the matrix's own accesses will grow a chain past one of them
    before = {c["chain"]: c["size"] for c in ok(stack.call("GET", "/audit/checkpoints", officer), 200)["checkpoints"]}

    # what the matrix may change without changing who Robin's callers are
    w["temp"] = random_id("dr-temp")
    ok(stack.call("POST", "/clinicians", cred, json={"id": w["temp"], "given_name": "Temp", "family_name": "Locum",
                                                     "home_site_id": NORTH}))
    w["temp_license"] = ok(stack.call("POST", f"/clinicians/{w['temp']}/licenses", cred, json={
        "type": "lcsw", "jurisdiction": "US-NY", "number": random_id("L"), "issued_on": "2020-01-01",
        "expires_on": "2029-01-01"}))["id"]
    w["temp_supervision"] = ok(stack.call("POST", "/supervisions", cred, json={
        "supervisor_id": SAM, "supervisee_id": w["temp"], "jurisdiction": "US-NY", "starts_on": "2026-01-01"}))["id"]
    for clinician in (BEN, w["temp"]):  # Ben, so that his supervisor Sam reaches Robin's record
        ok(stack.call("POST", f"/clients/{w['robin']}/care-team", desk, json={"clinician_id": clinician,
                                                                               "role": "consultant"}))
    w["leaving"] = w["temp"]
    w["pending_guardian"] = ok(stack.call("POST", f"/clients/{w['robin']}/guardians", desk, json={
        "name": "Pat Hale", "relationship": "parent", "may_see": ["demographics", "notes"]}))["id"]
    jordans = ok(stack.call("POST", f"/clients/{w['jordan']}/guardians", desk, json={
        "name": "Lee Guardian", "relationship": "other", "may_see": ["demographics"]}))["id"]
    w["invitation"] = ok(stack.call("POST", f"/clients/{w['jordan']}/invitations", desk,
                                    json={"guardian_id": jordans}))["code"]
    w["spare_consent"] = ok(stack.call("POST", f"/clients/{w['robin']}/consents", desk, json={
        "kind": "treatment", "signed_by": "Robin Hale"}))["id"]
    ana = stack.token(ANA, "clinician", sites=(NORTH,))
    w["draft"] = ok(stack.call("POST", "/notes", ana, json={
        "kind": "intake", "session_kind": "individual", "site_id": NORTH, "service_date": TODAY.isoformat(),
        "client_ids": [w["robin"]], "sections": [{"body": "Draft."}]}))["id"]
    for key, days in (("spare_appointment", 1), ("visit", 2), ("absent", 3)):
        w[key] = ok(stack.call("POST", "/appointments", desk, json={
            "site_id": NORTH, "clinician_id": ANA, "client_ids": [w["robin"]], "kind": "individual",
            "service_kind": "individual_psychotherapy", "modality": "in_person", "planned_minutes": 50,
            "room_id": w["room"], "starts_at": (SOON + timedelta(days=days)).isoformat()}))["id"]
    w["hold"] = ok(stack.call("POST", "/audit/legal-holds", officer, json={"reason": "matrix test"}))["id"]
    # removals: one thing for each caller to remove (the n-th request names the n-th)
    admin = stack.token("matrix-admin", "admin", sites=(NORTH,))
    w["fees"] = [ok(stack.call("PUT", "/fees", admin, json={
        "site_id": NORTH, "payer": f"payer-{i}", "code": "90837", "amount_minor": 100, "currency": "USD",
        "effective_from": "2999-01-01"}), 200)["id"] for i in range(9)]
    w["spare_room"] = ok(stack.call("POST", f"/sites/{NORTH}/rooms", admin, json={"name": "Spare", "capacity": 2}))[
        "id"]
    w["windows"] = [ok(stack.call("POST", "/availability", desk, json={
        "clinician_id": ANA, "site_id": NORTH, "weekday": i % 7, "starts": "05:00", "ends": "06:00",
        "valid_from": "2028-01-01"}))["id"] for i in range(9)]
    w["leave"] = [ok(stack.call("POST", "/availability/exceptions", desk, json={
        "clinician_id": ANA, "site_id": NORTH, "reason": "training",
        "starts_at": (SOON + timedelta(days=500 + i)).isoformat(),
        "ends_at": (SOON + timedelta(days=500 + i, hours=1)).isoformat()}))["id"] for i in range(9)]
    w["entries"] = [ok(stack.call("POST", "/waitlist", desk, json={
        "site_id": NORTH, "service_kind": "family_psychotherapy", "client_id": w["robin"],
        "clinician_id": ANA}))["id"] for _ in range(9)]
    w["series"] = ok(stack.call("POST", "/appointment-series", desk, json={"appointment": {
        **booking_of(w, SOON + timedelta(days=290))}, "rrule": "FREQ=WEEKLY;COUNT=2"}))["series_id"]
    w["to_reassign"] = ok(stack.call("POST", "/appointments", desk, json=booking_of(w, SOON + timedelta(days=6))))[
        "id"]
    w["robin_own"] = ok(stack.call("POST", "/appointments", desk, json=booking_of(w, SOON + timedelta(days=8))))[
        "id"]

    def grown():  # a chain checkpointed again since the demo's: (chain, old size, new size)
        ok(stack.call("POST", "/audit/checkpoints", officer), 200)
        latest = ok(stack.call("GET", "/audit/checkpoints", officer), 200)["checkpoints"]
        return next(((c["chain"], before[c["chain"]], c["size"]) for c in latest
                     if c["size"] > before.get(c["chain"], c["size"])), None)

    w["chain"], w["old_size"], w["new_size"] = wait_until(grown, what="a chain checkpointed again since the demo")
    return w


def test_every_role_against_every_operation(stack, world):
    assert set(EXPECTED) == {o.operation_id for o in OPERATIONS}, "an operation without an expected row"
    who = {"primary": (ANA, "clinician"), "clinician": (random_id("dr-other"), "clinician"),
           "supervisor": (SAM, "supervisor"), "client": ("client-robin", "client")}
    tokens = {}
    for caller in CALLERS:
        user, role = who.get(caller, (random_id(caller.replace("_", "-")), caller))
        tokens[caller] = stack.token(user, role, sites=() if role in ("client", "compliance_officer")
                                     else (NORTH, "annex"))

    # breaking the glass would let the outsiders in for what follows, and ending
    # the supervisor's place on the care team must come first: order the run
    order = sorted(OPERATIONS, key=lambda o: (o.rpc != "end_care_team", o.rpc == "break_glass"))
    counter = itertools.count()
    seen, wrong, denials, through = {}, [], {}, {}
    for operation in order:
        for caller in CALLERS:
            variables, body, query = requests_for(world, next(counter))[operation.operation_id]
            answer = stack.call(operation.method, path_of(operation, variables), tokens[caller],
                                json=body, params=query)
            seen[operation.operation_id, caller] = answer.status_code
            allowed = caller in EXPECTED[operation.operation_id]
            if answer.status_code >= 500 or answer.status_code == 401:
                wrong.append(f"{operation.operation_id} as {caller}: {answer.status_code} {answer.text[:200]}")
            elif allowed and answer.status_code == 403:
                wrong.append(f"{operation.operation_id} as {caller}: refused ({answer.json().get('detail')})")
            elif not allowed and answer.status_code != 403:
                wrong.append(f"{operation.operation_id} as {caller}: {answer.status_code}, expected 403 "
                             f"{answer.text[:200]}")
            elif answer.status_code == 403:
                denials[answer.headers["X-Trace-Id"]] = (operation.operation_id, caller)
            elif answer.status_code < 300:
                through.setdefault(operation.operation_id, caller)
    assert not wrong, "\n".join(wrong)
    # each operation went through for real at least once (the requests are well formed), bar
    # those that no caller may do, and the moot ones (nothing to sign again, no offer to answer)
    moot = {"records.sign_note", "records.sign_psychotherapy_note",  # signed already
            "scheduling.answer_offer", "scheduling.answer_my_offer",  # no offer made yet
            "billing.create_claim"}  # the demo made the one claim Jordan's session has
    missing = {op for op, allowed in EXPECTED.items() if allowed and op not in through and op not in moot}
    assert not missing, {op: {c: seen[op, c] for c in EXPECTED[op]} for op in missing}

    # and every refusal is in the audit trail, found by its trace id
    officer = stack.token(random_id("co"), "compliance_officer", sites=())

    def recorded() -> set[str]:
        found, cursor = set(), None
        while True:
            params = {"outcome": "denied", "limit": 500, **({"cursor": cursor} if cursor else {})}
            page = stack.call("GET", "/audit/entries", officer, params=params).json()
            found |= {e["trace_id"] for e in page["entries"]}
            cursor = page.get("next_cursor")
            if not cursor:
                return found

    try:
        wait_until(lambda: not set(denials) - recorded(), timeout=30, what="every refusal in the trail")
    except AssertionError:
        pass
    unrecorded = sorted(denials[t] for t in set(denials) - recorded())
    assert not unrecorded, f"refusals missing from the audit trail: {unrecorded}"
    assert len(denials) > 300

    # the whole trail (the demo's and the matrix's) exports as valid FHIR AuditEvents, with R4's codes
    exported = stack.call("GET", "/audit/exports", officer, params={"format": "fhir"})
    assert exported.status_code == 200, exported.text[:300]
    bundle = FhirBundle.model_validate_json(exported.content)  # (R4B: AuditEvent as R4 defines it)
    events = [e.resource for e in bundle.entry]
    assert len(events) > 600 and all(isinstance(e, FhirAuditEvent) for e in events)
    assert {e.action for e in events} <= set("CRUDE") and {e.outcome for e in events} <= {"0", "4", "8", "12"}
    assert {e.type.code for e in events} == {"rest"}
    roles = {(c.role.system, c.role.code) for e in events for c in e.entity or () if c.role is not None}
    assert roles <= {("http://terminology.hl7.org/CodeSystem/object-role", code) for code in ("1", "3")}
    assert any(not any(c.what for c in e.entity if c.name) for e in events)  # (an access that made nothing)
