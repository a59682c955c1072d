"""Caller assertions: what vouching for the caller costs on every RPC.

Against a private OpenBao dev server: the gateway's signing of one assertion and
a service's verification of it (certificate remembered, one Ed25519 check), set
against what a service did before for the same caller -- validating an unsigned
dict with the caller schema.
"""

from __future__ import annotations

import time

from confide_access import CallerSchema
from confide_access.assertions import GATEWAY, CallerSigner, CallerVerifier
from confide_testing import caller

from bench.common import Figures, transit_vault

ROUNDS = 5000


def _per_second(fn, rounds: int = ROUNDS) -> float:
    started = time.perf_counter()
    for _ in range(rounds):
        fn()
    return rounds / (time.perf_counter() - started)


def run() -> Figures:
    figures = Figures("callers", "caller assertions (per RPC)")
    with transit_vault() as (_, transit):
        who = caller("clinician", ("north", "south"), on_behalf_of="dr-lee")
        signer, verifier = CallerSigner(transit, GATEWAY), CallerVerifier(transit, "records")
        token = signer.sign(who, ["records"], trace="4bf92f3577b34da6a3ce929d0e0e4736")
        verifier.verify(token)  # the certificate is checked against Vault once, then remembered
        baseline = _per_second(lambda: CallerSchema().load(who))
        verified = _per_second(lambda: verifier.verify(token))
        signed = _per_second(lambda: signer.sign(who, ["records"]))
        figures.add("unsigned_per_s", baseline, "calls/s", "unsigned caller dict, schema-checked (before)")
        figures.add("verified_per_s", verified, "calls/s", "assertion verified (certificate and caller remembered)",
                    baseline, "unsigned")
        figures.add("signed_per_s", signed, "calls/s", "assertion signed by the gateway", baseline, "unsigned")
        print(f"  verification: {1e6 / verified:,.0f} µs per call; signing: {1e6 / signed:,.0f} µs per call")
    return figures
