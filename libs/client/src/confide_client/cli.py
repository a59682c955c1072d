"""``confide``: the command-line client of the gateway.

``confide login`` signs in through the clinic's OpenID provider
(``CONFIDE_ISSUER``) by the device flow and keeps the tokens (``login.py``);
``confide token --user ID --role ROLE [--site SITE ...]`` mints a development
token from the local issuer (``make run`` points the gateway at its JWKS), for
``CONFIDE_TOKEN``, which wins when set. Further commands (audit, licensure,
appointments) call the gateway at ``CONFIDE_URL``.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
from pathlib import Path

import requests

from confide_client.devtokens import mint

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
    disclosures = audit.add_parser("disclosures", help="accounting of disclosures for one client (six years)")
    disclosures.add_argument("--client", required=True)
    disclosures.add_argument("--json", action="store_true")
    exporting = audit.add_parser("export", help="stream the trail to a file (CSV, JSON Lines, FHIR R4 bundle)")
    exporting.add_argument("--format", required=True, choices=("csv", "jsonl", "fhir"))
    for name in ("client", "actor", "resource-type", "outcome", "site", "since", "until"):
        exporting.add_argument(f"--{name}")
    exporting.add_argument("--output", "-o", type=Path, required=True, help="the file to write")
    verify = audit.add_parser("verify", help="recompute every chain and tree; exit 1 on any fault")
    verify.add_argument("--json", action="store_true")
    verify.add_argument("--offline", type=Path, metavar="EXPORT",
                        help="check a JSON Lines export here, against pinned keys and saved checkpoints, "
                             "asking nothing of the platform")
    pinned(verify)
    verify.add_argument("--checkpoints", type=Path, action="append", default=[], metavar="FILE",
                        help="checkpoints saved earlier (audit checkpoints --save, or a monitor's state)")
    keep = audit.add_parser("checkpoints", help="the latest checkpoint of each chain, cosigned, and the keys")
    keep.add_argument("--save", type=Path, metavar="FILE", help="keep them (JSON) for a later offline verify")
    monitor = audit.add_parser("monitor", help="follow the checkpoints: each new one must extend the last")
    pinned(monitor)
    monitor.add_argument("--state", type=Path, required=True, help="the last checkpoint accepted per chain")
    monitor.add_argument("--every", type=float, default=60, help="seconds between looks (default 60)")
    monitor.add_argument("--once", action="store_true", help="look once; exit 1 on any fault")
    prove = audit.add_parser("prove", help="an RFC 6962 inclusion proof of one entry")
    prove.add_argument("--entry", type=int, required=True, help="the entry's sequence number")
    prove.add_argument("--chain", type=int, default=0)
    licensure = commands.add_parser("licensure", help="who may practise where").add_subparsers(
        dest="licensure", required=True)
    check = licensure.add_parser("check", help="may a clinician practise this session?")
    check.add_argument("clinician")
    check.add_argument("--service-kind", default="individual_psychotherapy")
    check.add_argument("--jurisdiction", required=True, help="the client's location, e.g. US-NJ")
    check.add_argument("--modality", default="telehealth", choices=("telehealth", "in_person"))
    check.add_argument("--on", help="the date (default today)")
    check.add_argument("--json", action="store_true")
    matrix = licensure.add_parser("matrix", help="clinicians by jurisdictions")
    matrix.add_argument("--clinician", action="append", required=True, help="repeatable")
    matrix.add_argument("--jurisdiction", action="append", required=True, help="repeatable, e.g. US-NJ")
    matrix.add_argument("--service-kind", default="individual_psychotherapy")
    matrix.add_argument("--modality", default="telehealth", choices=("telehealth", "in_person"))
    matrix.add_argument("--json", action="store_true")
    expiring = licensure.add_parser("expiring", help="licences that lapse soon")
    expiring.add_argument("--within-days", type=int, default=90)
    expiring.add_argument("--json", action="store_true")
    appointments = commands.add_parser(
        "appointments", help="the day sheet: your sites' (or your own) appointments today, in local time")
    for name in ("site", "clinician", "client"):
        appointments.add_argument(f"--{name}")
    appointments.add_argument("--date", help="YYYY-MM-DD (default: today at the site)")
    appointments.add_argument("--days", type=int, default=1, help="this many days, up to 7 (default 1)")
    appointments.add_argument("--json", action="store_true")
    clients = commands.add_parser("clients", help="find clients").add_subparsers(dest="clients", required=True)
    find = clients.add_parser("find", help="by name (typos and accents forgiven), date of birth, phone or number")
    find.add_argument("name", nargs="?", help='e.g. "robin hale" or "hal ro" while typing')
    find.add_argument("--dob", help="date of birth, YYYY-MM-DD")
    find.add_argument("--phone", help="the number or its last digits")
    find.add_argument("--number", help="the record number")
    find.add_argument("--site", help="one of your sites")
    find.add_argument("--json", action="store_true")
    login = commands.add_parser("login", help="sign in through the clinic's OpenID provider (device flow)")
    login.add_argument("--issuer", default=os.environ.get("CONFIDE_ISSUER"),
                       help="the provider's issuer URL (default: CONFIDE_ISSUER, or make run's provider)")
    login.add_argument("--state", type=Path, default=Path(".run"), help="where make run notes its provider")
    commands.add_parser("logout", help="forget the tokens confide login kept for CONFIDE_URL")
    demo = commands.add_parser("demo", help="load the demo network through the API (make run does, once)")
    demo.add_argument("--state", type=Path, default=Path(".run"), help="where make run keeps the dev issuer's key")
    demo.add_argument("--force", action="store_true", help="load it again even if this stack holds it")
    dlq = commands.add_parser("dlq", help="dead letters (runs confide-dlq against the broker)")
    dlq.add_argument("rest", nargs=argparse.REMAINDER, help="list QUEUE | replay QUEUE ...")
    args = parser.parse_args(argv)
    if args.command == "token":
        if not 1 <= args.minutes <= 12 * 60:
            parser.error("--minutes must be between 1 and 720 (the gateway refuses longer tokens)")
        print(mint(args.state, args.user, args.role, args.site, args.minutes))
        return 0
    if args.command in ("login", "logout"):
        return sign_in(args)
    if args.command == "demo":
        from confide_client.demo import DemoError, load

        try:
            load(gateway_url(), args.state, say=lambda line: print(f"==> demo: {line}", flush=True),
                 force=args.force)
        except requests.ConnectionError:
            print(f"confide: cannot reach the gateway at {gateway_url()}; is `make run` going? (CONFIDE_URL)",
                  file=sys.stderr)
            return 2
        except DemoError as exc:
            print(f"confide: the demo stopped: {exc}", file=sys.stderr)
            return 1
        return 0
    if args.command == "dlq":
        from confide_messaging.dlq import main as dlq_main

        return dlq_main(args.rest)
    handlers = {("audit", "query"): audit_query, ("audit", "disclosures"): audit_disclosures,
                ("audit", "export"): audit_export, ("audit", "verify"): audit_verify, ("audit", "prove"): audit_prove,
                ("audit", "checkpoints"): audit_checkpoints, ("audit", "monitor"): audit_monitor,
                ("licensure", "check"): licensure_check, ("licensure", "matrix"): licensure_matrix,
                ("licensure", "expiring"): licensure_expiring, ("appointments", None): list_appointments,
                ("clients", "find"): find_clients}
    try:
        return handlers[(args.command, getattr(args, args.command, None))](args)
    except requests.ConnectionError:
        print(f"confide: cannot reach the gateway at {gateway_url()}; is `make run` going? (CONFIDE_URL)",
              file=sys.stderr)
        return 2


def gateway_url() -> str:
    return os.environ.get("CONFIDE_URL", "http://127.0.0.1:8000").rstrip("/")


def audience(state: Path = Path(".run")) -> str:
    """The gateway, as the identity provider names it (CONFIDE_AUDIENCE, or make run's in ``state``)."""
    return os.environ.get("CONFIDE_AUDIENCE") or _local_sign_in(state).get("audience", "confide")


def _local_sign_in(state: Path) -> dict:
    """What ``make run`` notes of its development OpenID provider, if it runs one."""
    try:
        return json.loads((state / "sign-in.json").read_text())
    except (OSError, ValueError):
        return {}


def sign_in(args) -> int:
    from confide_client import login

    if args.command == "logout":
        print("signed out" if login.forget(gateway_url()) else f"not signed in to {gateway_url()}")
        return 0
    issuer = args.issuer or _local_sign_in(args.state).get("issuer")
    if not issuer:
        raise SystemExit("confide: name the clinic's OpenID provider: --issuer URL or CONFIDE_ISSUER")
    try:
        token = login.device_login(issuer, audience(args.state), say=lambda line: print(line, flush=True))
    except login.LoginError as exc:
        raise SystemExit(f"confide: {exc}") from None
    login.save(gateway_url(), token)
    print(f"signed in to {gateway_url()} through {issuer}")
    return 0


def get(path: str, params: dict | None = None, method: str = "GET", body: dict | None = None,
        stream: bool = False):
    token = os.environ.get("CONFIDE_TOKEN")
    if not token:
        from confide_client.login import access_token

        token = access_token(gateway_url(), audience())
    if not token:
        raise SystemExit("confide: sign in (confide login --issuer URL), or set CONFIDE_TOKEN (e.g. export "
                         "CONFIDE_TOKEN=$(uv run confide token --user co-1 --role compliance_officer))")
    answer = requests.request(method, gateway_url() + path,
                              params={k: v for k, v in (params or {}).items() if v is not None}, json=body,
                              headers={"Authorization": f"Bearer {token}"}, timeout=600, stream=stream)
    if answer.status_code >= 400:
        problem = answer.json() if answer.headers.get("Content-Type", "").startswith("application/") else {}
        fields = "; ".join(f"{k}: {' '.join(v)}" for k, v in (problem.get("errors") or {}).items())
        raise SystemExit(f"confide: {answer.status_code} {problem.get('title', answer.reason)}"
                         f"{': ' + (fields or problem.get('detail', '')) if fields or problem.get('detail') else ''}")
    return answer if stream else answer.json()


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


def audit_disclosures(args) -> int:
    rows = get(f"/api/v1/audit/disclosures/{args.client}")
    if args.json:
        print(json.dumps(rows))
    else:
        print(table(rows, ["occurred_at", "recipient", "purpose", "resource_type", "disclosed_by", "site_id"]))
        print(f"{len(rows)} disclosure(s) of {args.client} in the last six years")
    return 0


def audit_export(args) -> int:
    """Streams to ``--output`` in chunks, with a running count on stderr."""
    answer = get("/api/v1/audit/exports", {
        "format": args.format, "client_id": args.client, "actor_id": args.actor, "resource_type": args.resource_type,
        "outcome": args.outcome, "site_id": args.site, "since": args.since, "until": args.until}, stream=True)
    written = lines = 0
    with args.output.open("wb") as out:
        for chunk in answer.iter_content(chunk_size=64 * 1024):
            out.write(chunk)
            written += len(chunk)
            lines += chunk.count(b"\n")
            if sys.stderr.isatty():
                print(f"\r  {written / 1e6:8.2f} MB, {lines} lines", end="", file=sys.stderr, flush=True)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print(f"wrote {args.output} ({written} bytes, {lines} lines, {args.format})")
    return 0


def pinned(parser) -> None:
    parser.add_argument("--log-key", action="append", default=[], metavar="VKEY",
                        help="the audit log's verifier key (repeatable: every version)")
    parser.add_argument("--witness-key", action="append", default=[], metavar="VKEY", help="a witness's (repeatable)")
    parser.add_argument("--quorum", type=int, help="witnesses that must have cosigned (default: all pinned)")


def _pins(args):
    from confide_client.offline import vkeys

    if not args.log_key:
        raise SystemExit("confide: pin the log's key with --log-key (audit checkpoints prints it)")
    try:
        witnesses, log_keys = vkeys(args.witness_key, "--witness-key"), vkeys(args.log_key)
    except ValueError as exc:
        raise SystemExit(f"confide: {exc}") from None
    quorum = len(witnesses) if args.quorum is None else args.quorum
    if witnesses and not 1 <= quorum <= len(witnesses):
        raise SystemExit(f"confide: --quorum is between 1 and the {len(witnesses)} witness(es) pinned")
    return log_keys, witnesses, quorum


def audit_verify_offline(args) -> int:
    from confide_client import offline

    log_keys, witness_keys, quorum = _pins(args)
    try:
        with args.offline.open() as export:
            reports = offline.verify(export, offline.read_checkpoints(args.checkpoints), log_keys, witness_keys,
                                     quorum)
    except (OSError, ValueError) as exc:
        raise SystemExit(f"confide: {exc}") from None
    for report in reports:
        print(json.dumps(report.__dict__) if args.json else
              f"chain {report.chain}: {'ok' if report.ok else 'FAULT'}: {report.entries} entries "
              f"({report.anchored} under a checkpoint), {report.checkpoints} checkpoints")
        for fault in [] if args.json else report.faults:
            print(f"  {fault}")
    return 0 if reports and all(r.ok for r in reports) else 1


def audit_checkpoints(args) -> int:
    from confide_client.offline import log_vkeys

    answer = get("/api/v1/audit/checkpoints")
    for checkpoint in answer["checkpoints"]:
        state = "witnessed" if checkpoint["witnessed"] else "NOT witnessed"
        print(f"chain {checkpoint['chain']}: size {checkpoint['size']}, {checkpoint['cosignatures']} cosignature(s), "
              f"{state}")
    print("pin: " + " ".join(f"--log-key {k}" for k in log_vkeys(answer["key_name"], answer["public_keys"]))
          + "".join(f" --witness-key {w}" for w in answer.get("witnesses", [])))
    if args.save:
        args.save.write_text(json.dumps([{"note": c["note"]} for c in answer["checkpoints"]], indent=2))
        print(f"saved {len(answer['checkpoints'])} checkpoint(s) to {args.save}")
    return 0


def audit_monitor(args) -> int:
    """Accept a chain's new checkpoint only if the pinned keys signed and
    cosigned it and a consistency proof shows it extends the last one accepted."""
    import time

    from confide_tlog import merkle
    from confide_tlog.note import chain_of

    from confide_client import offline

    log_keys, witness_keys, quorum = _pins(args)
    try:
        kept = {int(c["chain"]): c["note"] for c in (json.loads(args.state.read_text()) if args.state.exists() else [])}
    except (ValueError, TypeError, KeyError) as exc:
        raise SystemExit(f"confide: {args.state} is not a monitor's state ({exc}); move it aside to start afresh"
                         ) from None
    while True:
        faults, listed = [], get("/api/v1/audit/checkpoints")["checkpoints"]
        faults += [f"chain {c}: no longer listed" for c in sorted(set(kept) - {c["chain"] for c in listed})]
        for latest in listed:
            chain, note = latest["chain"], latest["note"]
            new, why = offline.accepted(note, log_keys, witness_keys, quorum)
            if new is None or chain_of(new.origin) != chain:
                faults.append(f"chain {chain}: {why or 'its checkpoint names another chain'}")
                continue
            old, why = offline.accepted(kept[chain], log_keys, [], 0) if chain in kept else (None, None)
            if why is not None:  # never "no previous state": that would accept any size, a rollback too
                faults.append(f"chain {chain}: the checkpoint kept in {args.state} does not verify ({why})")
                continue
            if old is not None and (new.size < old.size or (new.size == old.size and new.root_hash != old.root_hash)):
                faults.append(f"chain {chain}: size {new.size} does not extend the accepted size {old.size}")
                continue
            if old is not None and new.size > old.size:
                proof = get("/api/v1/audit/proofs/consistency",
                            {"chain": chain, "old_size": old.size, "new_size": new.size})["proof"]
                if not merkle.verify_consistency(old.size, new.size, old.root_hash, new.root_hash,
                                                 [base64.b64decode(h) for h in proof]):
                    faults.append(f"chain {chain}: size {new.size} is not consistent with the accepted {old.size}")
                    continue
            kept[chain] = note
            print(f"chain {chain}: size {new.size} accepted", flush=True)
        args.state.write_text(json.dumps([{"chain": c, "note": n} for c, n in sorted(kept.items())], indent=2))
        for fault in faults:
            print(f"ALERT {fault}", file=sys.stderr, flush=True)
        if args.once:
            return 1 if faults else 0
        time.sleep(args.every)


def audit_verify(args) -> int:
    if args.offline:
        return audit_verify_offline(args)
    report = get("/api/v1/audit/verification")
    if args.json:
        print(json.dumps(report))
    for chain in report["chains"]:
        state = "ok" if chain["ok"] else "FAULT"
        if not args.json:
            print(f"chain {chain['chain']}: {state}: {chain['entries']} entries from seq {chain.get('first_seq', 0)}, "
                  f"{chain['checkpoints']} checkpoints")
            for fault in chain["faults"]:
                print(f"  seq {fault['seq']}: {fault['kind']}: {fault['detail']}")
    return 0 if report["ok"] else 1


def audit_prove(args) -> int:
    proof = get("/api/v1/audit/proofs/inclusion", {"chain": args.chain, "seq": args.entry})
    print(json.dumps(proof, indent=2))
    return 0


def licensure_matrix(args) -> int:
    answer = get("/api/v1/licensure/matrix", method="POST", body={
        "clinician_ids": args.clinician, "jurisdictions": args.jurisdiction, "service_kind": args.service_kind,
        "modality": args.modality})
    if args.json:
        print(json.dumps(answer))
        return 0
    rows = [{"clinician_id": row["clinician_id"],
             **{j: "yes" if cell["allowed"] else "no" for j, cell in row["jurisdictions"].items()}}
            for row in answer["rows"]]
    print(table(rows, ["clinician_id", *args.jurisdiction]))
    print(f"({args.service_kind}, {args.modality}, on {answer['on']}; `licensure check` gives the reasons)")
    return 0


def licensure_expiring(args) -> int:
    rows = get("/api/v1/licensure/expiring", {"within_days": args.within_days})
    if args.json:
        print(json.dumps(rows))
    else:
        print(table(rows, ["clinician_id", "type", "jurisdiction", "number", "expires_on"]))
    return 0


def find_clients(args) -> int:
    found = get("/api/v1/clients", {"name": args.name, "date_of_birth": args.dob, "phone": args.phone,
                                    "record_number": args.number, "site_id": args.site})["clients"]
    if args.json:
        print(json.dumps(found))
    else:
        print(table(found, ["record_number", "family_name", "given_name", "preferred_name", "date_of_birth",
                            "phone", "home_site_id", "id"]))
    return 0


def list_appointments(args) -> int:
    if args.client:  # one client's appointments (ids and UTC times: the client's own list)
        from datetime import UTC, datetime, timedelta

        start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        rows = get("/api/v1/appointments", {"client_id": args.client, "site_id": args.site,
                                            "clinician_id": args.clinician, "starts_from": start.isoformat(),
                                            "starts_before": (start + timedelta(days=args.days)).isoformat()})
        print(json.dumps(rows) if args.json else table(rows, ["starts_at", "clinician_id", "modality", "status",
                                                                 "site_id", "id"]))
        return 0
    sheet = get("/api/v1/day-sheet", {"site_id": args.site, "clinician_id": args.clinician, "date": args.date,
                                      "days": str(args.days)})
    if args.json:
        print(json.dumps(sheet))
        return 0
    rows = [{**a, "time": f"{a['starts']}-{a['ends']}",
             "clients": ", ".join(c["name"] or c["id"] for c in a["clients"])} for a in sheet["appointments"]]
    print(table(rows, ["date", "time", "site", "clinician_id", "clients", "modality", "room", "status"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
