"""The console's pages about the audit trail: for compliance officers the trail
itself (every filter, newest first, paged on as they scroll), an entry with its
inclusion proof checked in the browser, reports with charts, the
break-the-glass review queue, the accounting of disclosures and legal holds;
for a client, who accessed their record, each entry with its proof. Each page
asks the audit and records services as the signed-in person
(:meth:`~confide_gateway.console.ConsoleSignIn._page`)."""

from __future__ import annotations

import base64
import json
from collections import Counter
from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from confide_contracts.errors import NotFound, invalid
from confide_contracts.vocabulary import Action, Outcome, Purpose
from werkzeug.wrappers import Request, Response

from confide_gateway.pages import REPORTS, REVIEWS, ROLE_NAMES, TRAIL, Chart, day_range, filled, local, redirect, render
from confide_gateway.web import endpoint

FILTERS = ("client_id", "actor_id", "actor_role", "producer", "resource_type", "resource_id", "site_id", "action",
           "outcome", "purpose", "break_glass")
FIRST_PAGE = 50
VOCABULARY = {"roles": list(ROLE_NAMES.items()), "actions": list(Action), "outcomes": list(Outcome),
              "purposes": list(Purpose), "producers": ("audit", "billing", "credentialing", "records", "scheduling")}
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class TrailPages:
    """Entrypoints of :class:`~confide_gateway.service.GatewayService`: the trail's pages."""

    # --- compliance officers ------------------------------------------------------------------
    @endpoint("GET", TRAIL)
    def console_trail(self, request: Request) -> Response:
        """The trail, newest first. ``rows=1``: only the next rows, for the page's script to add."""
        args = request.args
        chosen = {**filled(args, FILTERS), **{k: args[k] for k in ("since", "until") if args.get(k)}}

        def work(who, me):
            asked = {**filled(args, FILTERS), **day_range(args)}  # (the days picked, as instants)
            query = {**asked, "order": "desc", "limit": FIRST_PAGE, **filled(args, ("cursor",))}
            found = self._services().audit.query(who, query)
            more = found["next_cursor"] and f"{TRAIL}?" + urlencode({**chosen, "cursor": found["next_cursor"]})
            template = "trail_rows.html" if args.get("rows") == "1" else "trail.html"
            return render(template, me=me, current=TRAIL, title="Audit trail", entries=found["entries"], more=more,
                          chosen=chosen, exports=urlencode(asked), **VOCABULARY)
        return self._page(request, "trail", work)

    @endpoint("GET", f"{TRAIL}/<int:chain>/<int:seq>")
    def console_entry(self, request: Request, chain: int, seq: int) -> Response:
        """One entry, proven: its canonical bytes, its inclusion proof in the chain's
        latest witnessed checkpoint and the keys to check it by, for the page's script to check."""
        def work(who, me):
            audit = self._services().audit
            title = f"Entry {seq} of chain {chain}"
            try:
                proof = audit.prove_inclusion(who, chain, seq)
            except NotFound as exc:
                if "tree_size" not in exc.errors:  # (no such entry)
                    raise
                # not yet in a checkpoint the witnesses cosigned
                return render("entry_pending.html", me=me, current=TRAIL, title=title, chain=chain, seq=seq)
            facts = json.loads(base64.b64decode(proof["canonical"]))
            check = {"canonical": proof["canonical"], "chain": chain, "seq": seq, "tree_size": proof["tree_size"],
                     "proof": proof["proof"], "checkpoint": proof["checkpoint"], **_keys(audit.checkpoints(who))}
            return render("entry.html", me=me, current=TRAIL, title=title, facts=facts, check=check, chain=chain)
        return self._page(request, "entry", work)

    @endpoint("POST", "/console/checkpoints")
    def console_checkpoint(self, request: Request) -> Response:
        """Sign a checkpoint of every chain that grew (then back to the entry waiting for one)."""
        back = local(request.form.get("back"))

        def work(who, me):
            self._services().audit.checkpoint_now(who)
            return redirect(back)
        return self._page(request, "checkpoint", work, back=back)

    @endpoint("GET", REPORTS)
    def console_reports(self, request: Request) -> Response:
        """After-hours access by hour and weekday, denied attempts by actor, access
        outside the care team, break-the-glass grants awaiting review."""
        args = request.args
        zone, opens, closes = args.get("time_zone") or "America/New_York", args.get("opens") or "8", \
            args.get("closes") or "18"

        def work(who, me):
            since_until = day_range(args)
            try:
                place = ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError, OSError):  # (OSError: a folder of zones, a name too long)
                raise invalid("time_zone", "an IANA time zone, such as America/New_York") from None
            audit = self._services().audit
            late = audit.after_hours(who, zone, _hour(opens, "opens"), _hour(closes, "closes"), None, 1000)
            moments = [datetime.fromisoformat(e["occurred_at"]).astimezone(place) for e in late]
            hours, days = Counter(m.hour for m in moments), Counter(m.weekday() for m in moments)
            denied = audit.denied_by_actor(who, since_until.get("since"), since_until.get("until"))
            outside = audit.outside_care_team(who, since_until.get("since"), since_until.get("until"), 200)
            waiting = audit.break_glass_unreviewed(who, 0, 200)
            charts = {
                "hours": Chart("After-hours access by hour of day", [(f"{h:02d}", hours[h]) for h in range(24)]),
                "days": Chart("After-hours access by weekday", [(WEEKDAYS[d], days[d]) for d in range(7)]),
                "denied": Chart("Denied attempts by actor", [(d["actor_id"], d["denied"]) for d in denied[:15]]),
                "basis": Chart("Access outside the care team, by basis",
                               sorted(Counter(o["basis"] for o in outside).items())),
            }
            return render("reports.html", me=me, current=REPORTS, title="Reports", charts=charts, denied=denied,
                          outside=outside, waiting=waiting, late=len(late), zone=zone, opens=opens, closes=closes,
                          since=args.get("since", ""), until=args.get("until", ""))
        return self._page(request, "reports", work)

    @endpoint("GET", REVIEWS)
    def console_reviews(self, request: Request) -> Response:
        status = request.args.get("status") or "pending"

        def work(who, me):
            grants = self._services().records.break_glass_reviews(who, status)
            return render("reviews.html", me=me, current=REVIEWS, title="Break-the-glass reviews", grants=grants,
                          which=status, reviewed=request.args.get("reviewed"))
        return self._page(request, "break_glass_reviews", work)

    @endpoint("POST", f"{REVIEWS}/<grant_id>")
    def console_review(self, request: Request, grant_id: str) -> Response:
        form = request.form

        def work(who, me):
            self._services().records.review_break_glass(who, grant_id, form.get("outcome", ""),
                                                        form.get("comment", ""))
            return redirect(f"{REVIEWS}?reviewed={grant_id}")
        return self._page(request, "review_break_glass", work, back=REVIEWS)

    @endpoint("GET", "/console/disclosures")
    def console_disclosures(self, request: Request) -> Response:
        """A client's accounting of disclosures, as a page to print; found by name first."""
        client_id, name = request.args.get("client_id", "").strip(), request.args.get("name", "").strip()

        def work(who, me):
            services = self._services()
            found = services.records.search_clients(who, {"name": name})["clients"] if name and not client_id \
                else []
            shown = services.audit.disclosures(who, client_id) if client_id else None
            client = services.records.get_client(who, client_id) if client_id else None
            return render("disclosures.html", me=me, current="/console/disclosures",
                          title="Accounting of disclosures", found=found, name=name, client=client,
                          disclosures=shown, printed=datetime.now().astimezone().isoformat())
        return self._page(request, "disclosures", work)

    @endpoint("GET", "/console/holds")
    def console_holds(self, request: Request) -> Response:
        def work(who, me):
            held = self._services().audit.legal_holds(who)
            return render("holds.html", me=me, current="/console/holds", title="Legal holds", held=held,
                          done=request.args.get("done"))
        return self._page(request, "legal_holds", work)

    @endpoint("POST", "/console/holds")
    def console_place_hold(self, request: Request) -> Response:
        form = request.form

        def work(who, me):
            hold = {"client_id": form.get("client_id", "").strip() or None, "reason": form.get("reason", "")}
            self._services().audit.place_legal_hold(who, hold)
            return redirect("/console/holds?done=placed")
        return self._page(request, "place_legal_hold", work, back="/console/holds")

    @endpoint("POST", "/console/holds/<hold_id>/release")
    def console_release_hold(self, request: Request, hold_id: str) -> Response:
        def work(who, me):
            self._services().audit.release_legal_hold(who, hold_id, request.form.get("reason", ""))
            return redirect("/console/holds?done=released")
        return self._page(request, "release_legal_hold", work, back="/console/holds")

    # --- a client ----------------------------------------------------------------------------------
    @endpoint("GET", "/console/me")
    def console_my_appointments(self, request: Request) -> Response:
        def work(who, me):
            scheduling = self._services().scheduling
            coming = scheduling.my_appointments(who, {"when": "upcoming", "limit": 20})["items"]
            past = scheduling.my_appointments(who, {"when": "past", "limit": 20})["items"]
            return render("my_appointments.html", me=me, current="/console/me", title="My appointments",
                          coming=coming, past=past)
        return self._page(request, "my_appointments", work)

    @endpoint("GET", "/console/me/access")
    def console_my_access(self, request: Request) -> Response:
        """Who accessed my record, when and why; each entry's proof checked by the page's script."""
        cursor, mine = request.args.get("cursor"), request.args.get("mine") == "1"

        def work(who, me):
            report = self._services().audit.my_access_report(who, cursor, 50)
            shown = [e for e in report["entries"] if mine or e["actor_id"] != me.subject]
            more = report["next_cursor"] and "/console/me/access?" + urlencode(
                {"cursor": report["next_cursor"], **({"mine": "1"} if mine else {})})
            return render("my_access.html", me=me, current="/console/me/access", title="Who saw my record",
                          entries=shown, hidden=len(report["entries"]) - len(shown), keys=_keys(report), more=more,
                          cursor=cursor)
        return self._page(request, "my_access_report", work)


def _keys(answer: dict) -> dict:
    return {k: answer[k] for k in ("key_name", "public_keys", "witnesses", "quorum")}


def _hour(text: str, field: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 24:
        raise invalid(field, "an hour from 0 to 24")
    return int(text)
