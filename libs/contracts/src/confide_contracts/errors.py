"""The errors a service raises on purpose, as part of the contract between the
services and their callers (DESIGN.md, "Errors").

Each class knows its HTTP status and problem type, and keeps its structure on the
wire: nameko serializes an exception's ``args`` as JSON and, for a class
registered with :func:`nameko.exceptions.deserialize_to_instance`, the caller
gets an instance of the same class back, with the same field errors -- no text is
parsed on the way. They are :class:`nameko.exceptions.RemoteError` subclasses, so
code that catches what any RPC raises (the ``confide`` command, the tests) keeps
working, and ``exc_type`` names the class.

``EXPECTED`` is what every entrypoint passes as ``expected_exceptions``: nameko
then reports them as expected, and :class:`ExpectedRefusals` logs a refusal as one
line at INFO instead of a traceback (a booking conflict is the service working).
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from nameko.exceptions import RemoteError, deserialize_to_instance

FieldErrors = dict[str, list[str]]


def describe(errors: FieldErrors) -> str:
    """``{"a": ["x"], "b": ["y", "z"]}`` -> ``"a: x; b: y z"`` (for people and logs)."""
    return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in sorted(errors.items()))


class ServiceError(RemoteError):
    """Base of the errors services raise on purpose; never raised itself."""

    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal"
    title: ClassVar[str] = "Something went wrong on our side"

    def __init__(self, detail: str = "", errors: FieldErrors | None = None) -> None:
        super().__init__(type(self).__name__, detail)
        self.detail = detail
        self.errors: FieldErrors = {str(k): [str(m) for m in v] for k, v in (errors or {}).items()}
        self.args = self._wire_args()

    def _wire_args(self) -> tuple[Any, ...]:
        """What crosses the wire: the arguments the class is rebuilt from."""
        return (self.detail, self.errors)

    def __reduce__(self):
        return type(self), self._wire_args()

    def __str__(self) -> str:  # as RemoteError's: "InvalidRequest field: what"
        return f"{self.exc_type} {self.detail}"


class FieldError(ServiceError):
    """An error about named fields: ``errors`` maps each to what is wrong."""

    def __init__(self, errors: FieldErrors, detail: str | None = None) -> None:
        errors = errors or {"_request": [detail or self.title]}
        super().__init__(detail or describe(errors), errors)

    def _wire_args(self) -> tuple[Any, ...]:
        return (self.errors, self.detail)


@deserialize_to_instance
class InvalidRequest(FieldError):
    """Bad input: the request cannot be done as it stands."""

    status, slug, title = 400, "invalid-request", "The request is not valid"


@deserialize_to_instance
class Conflict(FieldError):
    """The request is valid but collides with what exists (a taken time, a
    second claim for one session)."""

    status, slug, title = 409, "conflict", "The request conflicts with what exists"


@deserialize_to_instance
class BookingConflict(Conflict):
    """The clinician, a client or the room is already booked then."""

    title = "The time is taken"


@deserialize_to_instance
class NotLicensed(FieldError):
    """The clinician may not practise this session (every reason, by field)."""

    status, slug, title = 422, "not-licensed", "The clinician may not practise this session"


@deserialize_to_instance
class AccessDenied(ServiceError):
    """The caller may not do this. The denial is already in the audit trail."""

    status, slug, title = 403, "access-denied", "Not allowed"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def _wire_args(self) -> tuple[Any, ...]:
        return (self.detail,)


@deserialize_to_instance
class NotFound(ServiceError):
    """No such thing (or none the caller may know of). When the request named it
    in a field (a body's ``site_id``), ``errors`` says which, as a payment API
    answers "no such customer" for a customer id in a body."""

    status, slug, title = 404, "not-found", "Not found"


@deserialize_to_instance
class Unavailable(ServiceError):
    """Something the service depends on (its database, Vault, the message broker)
    could not be reached just now: nothing was done that the caller cannot simply
    ask again, after ``RETRY_AFTER`` seconds (``confide_messaging.outages``)."""

    status, slug, title = 503, "unavailable", "Part of the platform is unavailable for a moment"
    RETRY_AFTER: ClassVar[int] = 5

    def _wire_args(self) -> tuple[Any, ...]:
        return (self.detail,)


def missing(field: str, message: str) -> NotFound:
    """The thing ``field`` names does not exist: ready to raise."""
    return NotFound(describe({field: [message]}), {field: [message]})


@deserialize_to_instance
class RecordIntegrityError(ServiceError):
    """Stored clinical content no longer matches what was signed: the database
    was changed behind the service's back. Nothing is returned."""

    status, slug, title = 500, "record-integrity", "The record does not match its signature"

    def _wire_args(self) -> tuple[Any, ...]:
        return (self.detail,)


@deserialize_to_instance
class UndecryptableRecord(RecordIntegrityError):
    """Stored clinical text that Vault cannot decrypt: its transit key is gone
    (a Vault that lost its storage, restored without the keys) or the ciphertext
    was changed. Nothing is returned; operators are alerted."""

    slug, title = "record-undecryptable", "The record cannot be decrypted"


EXPECTED: tuple[type[Exception], ...] = (ServiceError,)


def invalid(field: str, message: str) -> InvalidRequest:
    """One field's error, ready to raise."""
    return InvalidRequest({field: [message]})


def conflict(field: str, message: str) -> Conflict:
    """What ``field`` names exists already, or is in a state that refuses this
    (signed, revoked, cancelled): ready to raise."""
    return Conflict({field: [message]})


def one_line(record: logging.LogRecord, level: int, message: str, *args: Any) -> None:
    """Rewrite nameko's "error handling worker" ``record`` as one line without a traceback:
    ``message`` after the worker's ``service.entrypoint``."""
    worker_ctx = record.args[0] if isinstance(record.args, tuple) and record.args else None
    entrypoint = getattr(getattr(worker_ctx, "entrypoint", None), "method_name", "?")
    service = getattr(getattr(worker_ctx, "container", None), "service_name", "?")
    record.msg, record.args = "%s.%s " + message, (service, entrypoint, *args)
    record.exc_info, record.exc_text = None, None
    record.levelno, record.levelname = level, logging.getLevelName(level)


class ExpectedRefusals(logging.Filter):
    """On ``nameko.containers``: an expected refusal (status below 500) becomes one
    INFO line naming the entrypoint and why, without a traceback. Anything else
    passes unchanged."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        worker_ctx = record.args[0] if isinstance(record.args, tuple) and record.args else None
        expected = getattr(getattr(worker_ctx, "entrypoint", None), "expected_exceptions", ())
        if isinstance(exc, ServiceError) and exc.status < 500 and expected and isinstance(exc, expected):
            # the class and the fields only: a refusal's words may quote the request (no client data in logs)
            fields = f" ({', '.join(sorted(exc.errors))})" if exc.errors else ""
            one_line(record, logging.INFO, "refused: %s%s", exc.exc_type, fields)
        return True


def quiet_expected_refusals() -> None:
    """Install :class:`ExpectedRefusals` once (importing this module does)."""
    logger = logging.getLogger("nameko.containers")
    if not any(isinstance(f, ExpectedRefusals) for f in logger.filters):
        logger.addFilter(ExpectedRefusals())


quiet_expected_refusals()
