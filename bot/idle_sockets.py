"""Whether the other end closed a connection kept idle between requests."""

from __future__ import annotations

import select
from typing import Protocol


class HasFileno(Protocol):
    def fileno(self) -> int: ...


def closed_by_peer(connection: int | HasFileno) -> bool:
    """An idle kept connection has nothing to read unless the other end ended it (an idle
    timeout, a restart): a readable socket is the sign, seen without a round trip."""
    poller = select.poll()
    poller.register(connection, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))
