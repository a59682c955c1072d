"""``confide-records-rewrap``: after a transit key is rotated, re-encrypt every
stored ciphertext under the key's newest version, without downtime.

Rows are taken in small batches (``FOR UPDATE SKIP LOCKED``, one transaction
each), rewrapped by Vault (the plaintext never leaves Vault) and written back,
so the service keeps reading and writing meanwhile; rows a running request
holds are taken on a later pass. Signed notes accept the new ciphertext (the
database lets only that column change) and their text still matches the hash
recorded at signing. Once every row is at the newest version an operator may
raise the key's ``min_decryption_version``.

Settings as for ``confide-serve records`` (``DATABASE_URL``, ``VAULT_ADDR`` and
AppRole), plus ``TRANSIT_MOUNT`` if not ``transit``.
"""

from __future__ import annotations

from confide_persistence.green import patch

patch()  # first: eventlet must patch ssl before the Vault client (over TLS) imports it

import argparse  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from dataclasses import dataclass  # noqa: E402

from confide_vault import Transit  # noqa: E402
from sqlalchemy import select, update  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from confide_records.models import ENCRYPTED_COLUMNS  # noqa: E402
from confide_records.sealing import NOTES_KEY, PSYCHOTHERAPY_KEY  # noqa: E402

log = logging.getLogger("confide.records.rewrap")


@dataclass
class RewrapReport:
    rewrapped: dict[str, int]
    versions: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.rewrapped.values())


def rewrap_all(engine: Engine, transit: Transit, keys: dict[str, str] | None = None, batch_size: int = 200,
               progress=None) -> RewrapReport:
    """Rewrap every ciphertext not yet at its key's latest version.

    ``keys`` maps the setting names in ``ENCRYPTED_COLUMNS`` to transit key names."""
    keys = keys or {"NOTES_KEY": NOTES_KEY, "PSYCHOTHERAPY_KEY": PSYCHOTHERAPY_KEY}
    versions = {name: transit.latest_version(name) for name in set(keys.values())}
    rewrapped: dict[str, int] = {}
    for table, column_name, setting in ENCRYPTED_COLUMNS:
        key = keys[setting]
        latest = versions[key]
        column, pk = table.c[column_name], table.c.id
        done = 0
        while True:
            with engine.begin() as conn:
                rows = conn.execute(
                    select(pk, column).where(~column.startswith(f"vault:v{latest}:"))
                    .limit(batch_size).with_for_update(skip_locked=True)
                ).all()
                if not rows:
                    break
                fresh = transit.rewrap_batch(key, [r[1] for r in rows])
                for (row_id, _), ciphertext in zip(rows, fresh, strict=True):
                    conn.execute(update(table).where(pk == row_id).values({column_name: ciphertext}))
            done += len(rows)
            if progress:
                progress(f"{table.name}.{column_name}: {done} rewrapped to {key} v{latest}")
        rewrapped[f"{table.name}.{column_name}"] = done
    return RewrapReport(rewrapped, versions)


def main(argv: list[str] | None = None) -> int:
    from confide_persistence import create_engine
    from confide_vault import DynamicDatabaseCredentials, VaultClient, VaultError
    from sqlalchemy.engine import make_url

    parser = argparse.ArgumentParser(prog="confide-records-rewrap", description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=200)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    url = os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("confide-records-rewrap: set DATABASE_URL (and VAULT_ADDR with an AppRole or token)")
    try:
        vault = VaultClient.from_env()
    except VaultError as exc:
        raise SystemExit(f"confide-records-rewrap: {exc}") from None
    if make_url(url).username is None:  # as confide-serve: a Vault-issued user
        username, password = DynamicDatabaseCredentials(vault, "records").current()
        url = make_url(url).set(username=username, password=password)
    engine = create_engine(url)
    transit = Transit(vault, os.environ.get("TRANSIT_MOUNT", "transit"))
    report = rewrap_all(engine, transit, batch_size=args.batch_size, progress=log.info)
    for column, count in report.rewrapped.items():
        print(f"{column}: {count} rewrapped")
    print(f"done: {report.total} ciphertexts now at " + ", ".join(f"{k} v{v}" for k, v in report.versions.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
