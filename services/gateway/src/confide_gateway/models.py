"""The gateway's tables: POSTs made with an Idempotency-Key -- what was asked
(its digest), how it was answered (status) and what it made (the resource's
id); never the answer itself, which may hold client data -- and the console's
sign-ins: those under way (PKCE verifier and nonce, minutes long) and the
browser sessions (found by a digest of the cookie; the provider's tokens
sealed by Vault transit, never in the browser)."""

from __future__ import annotations

from confide_persistence import make_metadata
from sqlalchemy import JSON, Column, DateTime, PrimaryKeyConstraint, SmallInteger, String, Table, Text, func

metadata = make_metadata()
VERSION_TABLE = "alembic_version_gateway"

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("user_id", String(200), nullable=False),
    Column("key", String(200), nullable=False),
    Column("method", String(8), nullable=False),
    Column("path", String(500), nullable=False),
    Column("request_sha256", String(64), nullable=False),
    Column("status", SmallInteger),  # NULL while the first request is still running
    Column("resource_id", String(200)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now(), index=True),
    PrimaryKeyConstraint("user_id", "key", name="pk_idempotency_keys"),
)

console_logins = Table(
    "console_logins",
    metadata,
    Column("state_sha256", String(64), primary_key=True),
    Column("verifier", String(200), nullable=False),
    Column("nonce", String(200), nullable=False),
    Column("return_to", String(500), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now(), index=True),
)

console_sessions = Table(
    "console_sessions",
    metadata,
    Column("cookie_sha256", String(64), primary_key=True),
    Column("subject", String(200), nullable=False),
    Column("name", String(200)),
    Column("roles", JSON, nullable=False),  # role -> sites, as the provider's token said
    Column("role", String(32)),  # the one acted as (of several: chosen)
    Column("csrf", String(64), nullable=False),
    Column("tokens", Text, nullable=False),  # transit ciphertext of the provider's tokens
    Column("access_expires_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
