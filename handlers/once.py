"""Run an event's effects exactly once, however often Slack delivers it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from bot.services.events import claim_event
from handlers.deps import Deps

log = logging.getLogger(__name__)


def run_once(deps: Deps, body: dict[str, Any], work: Callable[[Session], None]) -> bool:
    """Do `work` in one transaction with the event-id claim; False for a duplicate."""
    event_id = body.get("event_id")
    event_type = body.get("event", {}).get("type", "")
    with deps.session_factory.begin() as session:
        if not event_id:
            work(session)
            return True
        if not claim_event(session, event_id=event_id, event_type=event_type, clock=deps.clock):
            log.info("event %s (%s) already processed; skipped", event_id, event_type)
            return False
        work(session)
    return True
