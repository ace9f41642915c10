"""Telling "the database cannot be reached" apart from every other failure: the first is
temporary and gets a polite "try again in a few minutes", not the generic apology."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError


def is_database_unavailable(error: BaseException) -> bool:
    """True when `error`, or an error it was raised from, says the database is out of reach:
    refused or lost connections, timeouts, a pool with no connection to give."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OperationalError | InterfaceError | PoolTimeoutError):
            return True
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        current = current.__cause__ or current.__context__
    return False
