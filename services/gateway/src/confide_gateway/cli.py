"""``confide``: the command-line client of the gateway.

``confide token --user ID --role ROLE [--site SITE ...]`` mints a development
token from the local issuer (``make run`` points the gateway at its JWKS), for
``CONFIDE_TOKEN``. Further commands (audit, licensure, appointments) call the
gateway at ``CONFIDE_URL`` with that token.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import requests

from confide_gateway.devtokens import mint

ROLES = ("clinician", "supervisor", "front_desk", "biller", "credentialing_officer", "compliance_officer", "admin",
         "client")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="confide", description="The Confide command-line client.")
    commands = parser.add_subparsers(dest="command", required=True)
    token = commands.add_parser("token", help="mint a development token (make run's local issuer)")
    token.add_argument("--user", required=True, help="the user id (the token's subject)")
    token.add_argument("--role", required=True, choices=ROLES)
    token.add_argument("--site", action="append", default=[], help="a site the user works at (repeatable)")
    token.add_argument("--minutes", type=int, default=60, help="how long the token is valid (default 60)")
    token.add_argument("--state", type=Path, default=Path(".run"), help="where the dev issuer's key lives")
    audit = commands.add_parser("audit", help="the audit trail").add_subparsers(dest="audit", required=True)
    query = audit.add_parser("query", help="entries, newest first (compliance officers)")
    for name in ("client", "actor", "resource-type", "action", "outcome", "purpose", "site", "since", "until"):
        query.add_argument(f"--{name}")
    query.add_argument("--limit", type=int, default=50)
    query.add_argument("--json", action="store_true", help="JSON lines instead of a table")
    licensure = commands.add_parser("licensure", help="who may practise where").add_subparsers(
        dest="licensure", required=True)
    check = licensure.add_parser("check", help="may a clinician practise this session?")
    check.add_argument("clinician")
    check.add_argument("--service-kind", default="individual_psychotherapy")
    check.add_argument("--jurisdiction", required=True, help="the client's location, e.g. US-NJ")
    check.add_argument("--modality", default="telehealth", choices=("telehealth", "in_person"))
    check.add_argument("--on", help="the date (default today)")
    check.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "token":
        if not 1 <= args.minutes <= 24 * 60:
            parser.error("--minutes must be between 1 and 1440")
        print(mint(args.state, args.user, args.role, args.site, args.minutes))
        return 0
    try:
        if args.command == "audit":
            return audit_query(args)
        return licensure_check(args)
    except requests.ConnectionError:
        print(f"confide: cannot reach the gateway at {gateway_url()}; is `make run` going? (CONFIDE_URL)",
              file=sys.stderr)
        return 2


def gateway_url() -> str:
    return os.environ.get("CONFIDE_URL", "http://127.0.0.1:8000").rstrip("/")


def get(path: str, params: dict) -> dict:
    token = os.environ.get("CONFIDE_TOKEN")
    if not token:
        raise SystemExit("confide: set CONFIDE_TOKEN (e.g. export CONFIDE_TOKEN=$(uv run confide token "
                         "--user co-1 --role compliance_officer))")
    answer = requests.get(gateway_url() + path, params={k: v for k, v in params.items() if v is not None},
                          headers={"Authorization": f"Bearer {token}"}, timeout=60)
    if answer.status_code >= 400:
        problem = answer.json() if answer.headers.get("Content-Type", "").startswith("application/") else {}
        fields = "; ".join(f"{k}: {' '.join(v)}" for k, v in (problem.get("errors") or {}).items())
        raise SystemExit(f"confide: {answer.status_code} {problem.get('title', answer.reason)}"
                         f"{': ' + (fields or problem.get('detail', '')) if fields or problem.get('detail') else ''}")
    return answer.json()


def table(rows: list[dict], columns: list[str]) -> str:
    cells = [[str(row.get(c) if row.get(c) is not None else "") for c in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(lines)


def audit_query(args) -> int:
    page = get("/api/v1/audit/entries", {
        "client_id": args.client, "actor_id": args.actor, "resource_type": args.resource_type, "action": args.action,
        "outcome": args.outcome, "purpose": args.purpose, "site_id": args.site, "since": args.since,
        "until": args.until, "limit": str(args.limit), "order": "desc"})
    if args.json:
        for entry in page["entries"]:
            print(json.dumps(entry))
    else:
        print(table(page["entries"], ["occurred_at", "actor_id", "actor_role", "action", "resource_type",
                                      "client_id", "outcome", "purpose", "reason"]))
        if page.get("next_cursor"):
            print(f"(more: --limit {args.limit} shows a page; the API's next_cursor pages on)")
    return 0


def licensure_check(args) -> int:
    answer = get(f"/api/v1/clinicians/{args.clinician}/licensure", {
        "service_kind": args.service_kind, "client_jurisdiction": args.jurisdiction, "modality": args.modality,
        "on": args.on})
    if args.json:
        print(json.dumps(answer))
    else:
        print(f"{args.clinician} {'MAY' if answer['allowed'] else 'may NOT'} provide {args.service_kind} "
              f"({args.modality}) to a client in {args.jurisdiction}")
        for line in answer["basis"]:
            print(f"  + {line}")
        for line in answer["reasons"]:
            print(f"  - {line}")
    return 0 if answer["allowed"] else 1


if __name__ == "__main__":
    sys.exit(main())
