"""Checking the trail from outside, with nothing the clinic runs: an export
(``confide audit export --format jsonl``, unfiltered), the log's and the
witnesses' public keys pinned by the auditor, and checkpoints the auditor
saved (``confide audit checkpoints --save``) or a monitor kept.

For each chain: every entry's leaf hash is recomputed from its facts (the
canonical form, ``confide_contracts.audit_export``), the entries must run from
seq 0 without a gap, and the RFC 6962 tree over them must have, at each saved
checkpoint's size, the root the log signed -- a checkpoint that counts only if
the log's pinned key signed it and a quorum of pinned witnesses cosigned it. A
rewritten entry, a removed one, or a chain cut short of a checkpoint is a fault.
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from confide_contracts.audit_export import FACT_FIELDS, canonical
from confide_tlog import cosignature, merkle
from confide_tlog.note import ED25519, BadNote, Checkpoint, Verifier, chain_of, verified_by


@dataclass
class ChainReport:
    chain: int
    entries: int = 0
    checkpoints: int = 0
    anchored: int = 0  # entries a counted checkpoint covers; the rest wait for a later one
    faults: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.faults


def read_checkpoints(paths: Iterable[Path]) -> list[str]:
    """Notes as saved: a JSON list of notes, or of objects with a ``note``."""
    notes = []
    for path in paths:
        try:
            saved = json.loads(Path(path).read_text())
            notes += [item["note"] if isinstance(item, dict) else str(item) for item in saved]
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise ValueError(f"{path}: not saved checkpoints (confide audit checkpoints --save): {exc}") from None
    return notes


def accepted(note: str, log_keys: list[Verifier], witness_keys: list[Verifier], quorum: int
             ) -> tuple[Checkpoint | None, str | None]:
    """(the checkpoint, None) if it counts; (None, why) if not."""
    try:
        text, _ = verified_by(note, log_keys)
    except BadNote as exc:
        return None, f"not signed by a pinned log key ({exc})"
    try:
        checkpoint = Checkpoint.parse(text)
    except BadNote as exc:
        return None, f"signed, but not a checkpoint ({exc})"
    try:
        cosigned = cosignature.cosigners(text, note.rpartition("\n\n")[2], witness_keys)
    except BadNote as exc:
        return None, f"size {checkpoint.size}: a pinned witness's cosignature does not verify ({exc})"
    if len({c.witness for c in cosigned}) < quorum:
        return None, f"size {checkpoint.size}: cosigned by {len(cosigned)} pinned witness(es), fewer than {quorum}"
    return checkpoint, None


def verify(export_lines: Iterable[str], notes: list[str], log_keys: list[Verifier], witness_keys: list[Verifier],
           quorum: int) -> list[ChainReport]:
    checkpoints: dict[int, list[Checkpoint]] = defaultdict(list)
    reports: dict[int, ChainReport] = {}

    def report(chain: int) -> ChainReport:
        return reports.setdefault(chain, ChainReport(chain))

    for note in notes:
        checkpoint, why = accepted(note, log_keys, witness_keys, quorum)
        chain = chain_of(checkpoint.origin if checkpoint else note.split("\n", 1)[0])
        if chain is None:
            continue
        if checkpoint is None:
            report(chain).faults.append(f"checkpoint refused: {why}")
        else:
            checkpoints[chain].append(checkpoint)
    entries: dict[int, list[dict]] = defaultdict(list)
    for number, line in enumerate(export_lines, 1):
        if line.strip():
            try:
                entry = json.loads(line)
                entries[int(entry["chain"])].append(entry)
            except (ValueError, TypeError, KeyError) as exc:
                raise ValueError(f"export line {number}: not an entry of a JSON Lines export ({exc})") from None
    for chain in sorted(set(entries) | set(checkpoints)):
        _verify_chain(report(chain), sorted(entries[chain], key=lambda e: e["seq"]),
                      sorted(checkpoints[chain], key=lambda c: c.size))
    return [reports[c] for c in sorted(reports)]


def _verify_chain(report: ChainReport, entries: list[dict], checkpoints: list[Checkpoint]) -> None:
    tree = merkle.CompactRange()
    pending = list(checkpoints)
    report.checkpoints = len(checkpoints)
    for expected, entry in enumerate(entries):
        if entry["seq"] != expected:
            report.faults.append(f"seq {expected}: missing (the export goes on at {entry['seq']})")
            return
        leaf = merkle.leaf_hash(canonical(report.chain, entry["seq"], entry["recorded_at"],
                                          {name: entry[name] for name in FACT_FIELDS}))
        if leaf.hex() != entry["leaf_hash"]:
            report.faults.append(f"seq {expected}: modified (its facts do not hash to its leaf)")
            return
        tree.append(leaf)
        report.entries += 1
        while pending and pending[0].size == tree.size:
            checkpoint = pending.pop(0)
            if checkpoint.root_hash != tree.root():
                report.faults.append(f"checkpoint of size {checkpoint.size}: the entries do not hash to its root "
                                     "(history was rewritten)")
                return
            report.anchored = checkpoint.size
    for checkpoint in pending:
        report.faults.append(f"checkpoint of size {checkpoint.size}: the chain ends at {tree.size} "
                             "(entries were removed)")
    if entries and not checkpoints:
        report.faults.append("no counted checkpoint covers this chain: nothing anchors what the export says")


def vkeys(values: Iterable[str], flag: str = "--log-key") -> list[Verifier]:
    try:
        return [Verifier.parse(v) for v in values]
    except BadNote as exc:
        raise ValueError(f"{flag}: not a verifier key such as confide-audit+1a2b3c4d+AQ... ({exc})") from None


def log_vkeys(key_name: str, public_keys_b64: Iterable[str]) -> list[str]:
    """The log's verifier keys, from what ``GET /audit/checkpoints`` lists."""
    return [Verifier(key_name, ED25519, base64.b64decode(k)).vkey for k in public_keys_b64]
