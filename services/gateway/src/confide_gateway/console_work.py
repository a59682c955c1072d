"""The console's pages for everyday work: a supervisor's licensure grid of their
supervisees, licences expiring on a calendar, the co-signature queue; the
credentialing officer's clinicians and licences (a primary-source
verification recorded, a suspension); the front desk's day sheet, client
search, booking from free slots (with the licensure answer when a clinician
may not practise the session) and waitlist. Each page asks the services as the
signed-in person (:meth:`~confide_gateway.console.ConsoleSignIn._page`)."""

from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import date, timedelta
from urllib.parse import quote, urlencode

from confide_contracts.errors import NotLicensed, invalid
from werkzeug.wrappers import Request, Response

from confide_gateway import problems
from confide_gateway.pages import (
    BOOK,
    CLIENTS,
    CLINICIANS,
    COSIGN,
    DAY,
    EXPIRING,
    LICENSURE,
    WAITLIST,
    day_of,
    filled,
    redirect,
    render,
)
from confide_gateway.web import endpoint

PSYCHOTHERAPY = "individual_psychotherapy"
LICENCE_STEPS = ("verification", "suspension", "reinstatement")
MODALITIES = ("in_person", "telehealth")
BOOKING = ("client_id", "clinician_id", "site_id", "service_kind", "modality", "client_jurisdiction", "date",
           "minutes")


class WorkPages:
    """Entrypoints of :class:`~confide_gateway.service.GatewayService`: everyday work's pages."""

    # --- supervisors ---------------------------------------------------------------------------
    @endpoint("GET", LICENSURE)
    def console_licensure(self, request: Request) -> Response:
        """Supervisees (and the supervisor) by jurisdiction, in person and by
        telehealth: who may practise where, each cell's basis and reasons on demand."""
        service_kind = request.args.get("service_kind") or PSYCHOTHERAPY
        asked = [j.strip().upper() for j in request.args.get("jurisdictions", "").split(",") if j.strip()]

        def work(who, me):
            services = self._services()
            today = date.today().isoformat()
            supervised = services.credentialing.list_supervisions(
                who, {"supervisor_id": me.subject, "on": today, "limit": 200})["items"]
            clinicians = [me.subject, *sorted({s["supervisee_id"] for s in supervised})]
            places = asked or sorted({s["jurisdiction"] for s in supervised} | {
                site["jurisdiction"] for site in services.scheduling.list_sites(who, {"limit": 200})["items"]})
            question = {"clinician_ids": clinicians, "jurisdictions": places, "service_kind": service_kind}
            grid = {m: {row["clinician_id"]: row["jurisdictions"] for row in services.credentialing.licensure_matrix(
                who, {**question, "modality": m})["rows"]} for m in MODALITIES}
            return render("licensure.html", me=me, current=LICENSURE, title="Licensure of my supervisees",
                          clinicians=clinicians, places=places, grid=grid, service_kind=service_kind,
                          supervisees={s["supervisee_id"] for s in supervised})
        return self._page(request, "licensure", work)

    @endpoint("GET", EXPIRING)
    def console_expiring(self, request: Request) -> Response:
        """Licences lapsing within the months ahead, on a calendar of each month."""
        months = request.args.get("months") or "4"
        if not months.isdigit() or not 1 <= int(months) <= 12:
            months = "4"

        def work(who, me):
            today = date.today()
            ends = _add_months(today.replace(day=1), int(months)) - timedelta(days=1)
            lapsing = self._services().credentialing.expiring(who, max(1, (ends - today).days))
            by_day = defaultdict(list)
            for licence in lapsing:
                by_day[licence["expires_on"]].append(licence)
            shown = [_add_months(today.replace(day=1), n) for n in range(int(months))]
            weeks = {m: calendar.Calendar().monthdatescalendar(m.year, m.month) for m in shown}
            return render("expiring.html", me=me, current=EXPIRING, title="Licences expiring", lapsing=lapsing,
                          by_day=by_day, weeks=weeks, today=today, months=months)
        return self._page(request, "expiring", work)

    @endpoint("GET", COSIGN)
    def console_cosign_queue(self, request: Request) -> Response:
        def work(who, me):
            waiting = self._services().records.cosignature_queue(who, {"limit": 100})["items"]
            return render("cosign.html", me=me, current=COSIGN, title="Notes to co-sign", waiting=waiting,
                          done=request.args.get("cosigned"))
        return self._page(request, "cosignature_queue", work)

    @endpoint("GET", "/console/clients/<client_id>/notes/<note_id>")
    def console_note(self, request: Request, client_id: str, note_id: str) -> Response:
        def work(who, me):
            note = self._services().records.get_note(who, note_id, client_id)
            return render("note.html", me=me, current=COSIGN, title="Note", note=note)
        return self._page(request, "note", work)

    @endpoint("POST", "/console/notes/<note_id>/cosignature")
    def console_cosign(self, request: Request, note_id: str) -> Response:
        def work(who, me):
            self._services().records.cosign_note(who, note_id)
            return redirect(f"{COSIGN}?cosigned={note_id}")
        return self._page(request, "cosign_note", work, back=COSIGN)

    # --- credentialing officers --------------------------------------------------------------------
    @endpoint("GET", CLINICIANS)
    def console_clinicians(self, request: Request) -> Response:
        chosen = filled(request.args, ("name", "licensed_in", "cursor"))

        def work(who, me):
            found = self._services().credentialing.list_clinicians(who, {**chosen, "limit": 50})
            return render("clinicians.html", me=me, current=CLINICIANS, title="Clinicians", clinicians=found["items"],
                          chosen=chosen, more=found["next_cursor"])
        return self._page(request, "clinicians", work)

    @endpoint("GET", f"{CLINICIANS}/<clinician_id>")
    def console_clinician(self, request: Request, clinician_id: str) -> Response:
        def work(who, me):
            clinician = self._services().credentialing.get_clinician(who, clinician_id)
            return render("clinician.html", me=me, current=CLINICIANS,
                          title=f"{clinician['given_name']} {clinician['family_name']}", clinician=clinician,
                          done=request.args.get("done"))
        return self._page(request, "clinician", work)

    @endpoint("POST", "/console/licenses/<license_id>/<step>")
    def console_licence_step(self, request: Request, license_id: str, step: str) -> Response:
        """A verification recorded, or a licence suspended or reinstated (then back to its clinician)."""
        if step not in LICENCE_STEPS:
            return problems.problem(404, "not-found", "Not found", "no such step for a licence")
        form = request.form
        back = f"{CLINICIANS}/{quote(form.get('clinician_id', ''), safe='')}"

        def work(who, me):
            credentialing = self._services().credentialing
            if step == "verification":
                licence = credentialing.verify_license(who, license_id, filled(form, ("source", "reference",
                                                                                      "result", "note")))
            else:
                change = credentialing.suspend_license if step == "suspension" else credentialing.reinstate_license
                licence = change(who, license_id, form.get("reason", ""))
            return redirect(f"{CLINICIANS}/{quote(licence['clinician_id'], safe='')}?done={step}")
        return self._page(request, f"licence_{step}", work, back=back)

    # --- the front desk ----------------------------------------------------------------------------
    @endpoint("GET", DAY)
    def console_day(self, request: Request) -> Response:
        chosen = filled(request.args, ("site_id", "date"))

        def work(who, me):
            sheet = self._services().scheduling.day_sheet(who, {**chosen, "days": 1})
            return render("day.html", me=me, current=DAY, title="Day sheet", sheet=sheet, chosen=chosen,
                          booked=request.args.get("booked"))
        return self._page(request, "day_sheet", work)

    @endpoint("GET", CLIENTS)
    def console_clients(self, request: Request) -> Response:
        chosen = filled(request.args, ("name", "date_of_birth", "phone", "record_number"))

        def work(who, me):
            found = self._services().records.search_clients(who, chosen)["clients"] if chosen else None
            return render("clients.html", me=me, current=CLIENTS, title="Clients", found=found, chosen=chosen)
        return self._page(request, "clients", work)

    @endpoint("GET", BOOK)
    def console_book(self, request: Request) -> Response:
        """Free slots of a clinician for a client (licensure and rooms considered);
        when there are none the clinician may practise, the licensure answer says why."""
        chosen = filled(request.args, BOOKING)
        return self._page(request, "book", lambda who, me: self._booking(who, me, chosen))

    def _booking(self, who, me, chosen: dict, refusal: dict | None = None, status: int = 200) -> Response:
        services = self._services()
        sites = services.scheduling.list_sites(who, {"limit": 200})["items"]
        clinicians = services.credentialing.list_clinicians(who, {"limit": 200})["items"]
        client = services.records.get_client(who, chosen["client_id"]) if chosen.get("client_id") else None
        slots, answer = None, refusal
        if client and {"clinician_id", "site_id", "date"} <= chosen.keys():
            site = next((s for s in sites if s["id"] == chosen["site_id"]), None)
            modality = chosen.get("modality") or "in_person"
            where = chosen.get("client_jurisdiction") or (site and site["jurisdiction"])
            day = day_of(chosen["date"], "date")
            question = {"clinician_id": chosen["clinician_id"], "site_id": chosen["site_id"],
                        "service_kind": chosen.get("service_kind") or PSYCHOTHERAPY, "modality": modality,
                        "minutes": _minutes(chosen.get("minutes")), "from_date": day.isoformat(),
                        "to_date": day.isoformat()}
            if modality == "telehealth":
                question["client_jurisdiction"] = where
            slots = services.scheduling.find_slots(who, question)
            if not slots and where and answer is None:
                answer = services.credentialing.may_practice(who, chosen["clinician_id"], {
                    "service_kind": question["service_kind"], "client_jurisdiction": where, "modality": modality,
                    "on": day.isoformat()})
        return render("book.html", me=me, current=BOOK, title="Book an appointment", status=status, sites=sites,
                      clinicians=clinicians, client=client, chosen=chosen, slots=slots, answer=answer)

    @endpoint("POST", BOOK)
    def console_make_booking(self, request: Request) -> Response:
        form = request.form
        chosen = filled(form, BOOKING)

        def work(who, me):
            booking = {"site_id": form.get("site_id"), "clinician_id": form.get("clinician_id"),
                       "client_ids": [form.get("client_id")], "kind": "individual",
                       "service_kind": form.get("service_kind") or PSYCHOTHERAPY,
                       "modality": form.get("modality") or "in_person", "starts_at": form.get("starts_at"),
                       "planned_minutes": _minutes(form.get("minutes")), "room_id": form.get("room_id") or None,
                       "client_jurisdiction": form.get("client_jurisdiction") or None}
            try:
                made = self._services().scheduling.book(who, booking)
            except NotLicensed as exc:  # (licensure changed since the slots were shown: say why, here)
                return self._booking(who, me, chosen, {"allowed": False, "basis": [],
                                                       "reasons": [m for ms in exc.errors.values() for m in ms]}, 422)
            return redirect(f"{DAY}?" + urlencode({"date": chosen.get("date", ""), "site_id": made["site_id"],
                                                   "booked": made["id"]}))
        return self._page(request, "book_slot", work, back=f"{BOOK}?{urlencode(chosen)}")

    @endpoint("GET", WAITLIST)
    def console_waitlist(self, request: Request) -> Response:
        def work(who, me):
            waiting = self._services().scheduling.list_waitlist(who, {"limit": 100})["items"]
            return render("waitlist.html", me=me, current=WAITLIST, title="Waitlist", waiting=waiting,
                          removed=request.args.get("removed"))
        return self._page(request, "waitlist", work)

    @endpoint("POST", f"{WAITLIST}/<entry_id>/removal")
    def console_waitlist_removal(self, request: Request, entry_id: str) -> Response:
        def work(who, me):
            self._services().scheduling.remove_from_waitlist(who, entry_id, request.form.get("reason", ""))
            return redirect(f"{WAITLIST}?removed={entry_id}")
        return self._page(request, "remove_from_waitlist", work, back=WAITLIST)


def _minutes(text: str | None) -> int:
    if not text:
        return 50
    if not text.isdigit():
        raise invalid("minutes", "a whole number of minutes")
    return int(text)


def _add_months(first: date, n: int) -> date:
    months = first.month - 1 + n
    return date(first.year + months // 12, months % 12 + 1, 1)
