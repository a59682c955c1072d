"""Cooperative I/O for psycopg 3 under eventlet.

nameko runs every worker in an eventlet green thread. psycopg 3 waits on its
socket with a C function unless it detects *gevent*; it does not detect eventlet,
so by default every query blocks the whole process and concurrent workers run
one after another (measured: 20 concurrent ``pg_sleep(0.2)`` took 4.1 s).

We keep psycopg's C parser and choose its ``wait_select`` wait function, which
calls ``select.select`` -- green once eventlet has patched ``select``. psycopg
reads the choice from ``PSYCOPG_WAIT_FUNC`` once, when ``psycopg.waiting`` is
first imported, so :func:`patch` must run before anything imports psycopg.
"""

from __future__ import annotations

import os
import sys

WAIT_FUNC = "wait_select"


class GreenSetupError(RuntimeError):
    pass


def patch() -> None:
    """Monkey-patch eventlet and make psycopg wait cooperatively. Idempotent."""
    os.environ.setdefault("PSYCOPG_WAIT_FUNC", WAIT_FUNC)
    waiting = sys.modules.get("psycopg.waiting")
    if waiting is not None and waiting.wait.__name__ != os.environ["PSYCOPG_WAIT_FUNC"]:
        raise GreenSetupError(
            "psycopg was imported before confide_persistence.green.patch(); "
            "call patch() first thing in the process"
        )
    import eventlet

    if not eventlet.patcher.is_monkey_patched("socket"):
        eventlet.monkey_patch()


def psycopg_wait_function() -> str:
    import psycopg.waiting

    return psycopg.waiting.wait.__name__


def killed(exc: BaseException) -> bool:
    """Whether ``exc`` stands for the green thread being killed. A kill inside a
    database call surfaces as the error of the rollback that follows, with the
    GreenletExit behind it; a loop that catches it and carries on would keep
    running in a killed container, on connections nobody else expects in use."""
    from greenlet import GreenletExit

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, GreenletExit):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
