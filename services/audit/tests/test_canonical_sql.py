"""Verification reads an entry's timestamps as PostgreSQL writes them in the
canonical form (``confide_audit.store.stream_entries``): they must be Python's bytes."""

from datetime import UTC, datetime, timedelta, timezone


def test_postgresql_writes_the_canonical_form_as_python_does(audit_db):
    """Verification reads timestamps formatted by PostgreSQL: the same bytes, to the microsecond."""
    from confide_contracts.audit_export import SQL_CANONICAL_TIMESTAMP, timestamp
    from sqlalchemy import text

    instants = [datetime(2026, 1, 1, tzinfo=UTC), datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
                datetime(2026, 3, 8, 7, 0, 0, 1, tzinfo=timezone(timedelta(hours=-5))),
                datetime(2100, 2, 28, 12, 0, 0, 500000, tzinfo=UTC)]
    with audit_db.connect() as conn:
        conn.execute(text("SET TimeZone = 'America/New_York'"))  # the session's zone must not matter
        for instant in instants:
            written = conn.execute(text(f"SELECT {SQL_CANONICAL_TIMESTAMP.format(column='CAST(:t AS timestamptz)')}"),
                                   {"t": instant}).scalar_one()
            assert written == timestamp(instant)
        # a time the form cannot hold is none: to_char would write 2026 BC as 2026, and infinity as nothing
        for outside in ("2026-05-01 10:00:00+00 BC", "10000-01-01 00:00:00+00", "infinity", "-infinity"):
            written = conn.execute(text(f"SELECT {SQL_CANONICAL_TIMESTAMP.format(column='CAST(:t AS timestamptz)')}"),
                                   {"t": outside}).scalar_one()
            assert written is None, outside
