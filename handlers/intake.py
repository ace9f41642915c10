"""What happens to a verified request before any listener: events go into the durable inbox,
and a signed command or interaction acts once however often it is replayed.

Both need the database; when it cannot be reached, Slack gets a non-2xx for an event (it
delivers it again) and the member gets a polite "temporarily unavailable" for the rest."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from sqlalchemy.exc import SQLAlchemyError

from bot.i18n import t
from bot.inbox.runtime import EventInbox, InboxUnavailable
from bot.inbox.store import NewEvent
from bot.services.events import claim_request
from bot.services.moderation.detection import has_durable_effects
from handlers.deps import Deps
from handlers.errors import Apology

log = logging.getLogger(__name__)

# Events are kept once by their event_id; read-only lookups while a member types change
# nothing when replayed.
_NOT_KEYED = {"event_callback", "block_suggestion", "url_verification", "ssl_check"}


def register(app: App, deps: Deps, inbox: EventInbox) -> None:
    apology = Apology(deps)

    # One middleware, not two: Bolt builds every middleware's arguments on every request.
    @app.middleware
    def intake(req: BoltRequest, next: Callable[[], BoltResponse]) -> BoltResponse:
        if req.body.get("type") == "event_callback":
            return record_event(req, next)
        return act_once(req, next)

    def record_event(req: BoltRequest, next: Callable[[], BoltResponse]) -> BoltResponse:
        body = req.body
        if not body.get("event_id"):
            return next()
        event = _dict(body.get("event"))
        review_channel = deps.settings.review_channel
        if event.get("type") == "message" and not has_durable_effects(
            event, review_channel=review_channel
        ):
            return next()  # its only effect is activity, kept in memory either way
        try:
            inbox.accept(
                NewEvent(
                    event_id=str(body["event_id"])[:64],
                    event_type=str(event.get("type", "")),
                    body=req.raw_body or json.dumps(body, ensure_ascii=False),
                )
            )
        except InboxUnavailable:
            return BoltResponse(status=503, body="")  # Slack delivers it again
        return BoltResponse(status=200, body="")

    def act_once(req: BoltRequest, next: Callable[[], BoltResponse]) -> BoltResponse:
        if req.mode != "http" or req.body.get("type") in _NOT_KEYED:
            return next()
        signature = (req.headers.get("x-slack-signature") or [""])[0]
        if not signature:
            return next()
        key = hashlib.sha256(signature.encode()).hexdigest()
        try:
            with deps.session_factory.begin() as session:
                first_time = claim_request(session, key=key, clock=deps.clock)
        except SQLAlchemyError as exc:
            log.error("database unavailable for a %s: %s", _kind(req.body), exc)
            # The member's own language is in the database: the default one.
            return apology.answer(req.body, t("error.unavailable", deps.settings.default_locale))
        if not first_time:
            log.info("a replayed %s was ignored", _kind(req.body))
            return BoltResponse(status=200, body="")
        return next()


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _kind(body: dict[str, Any]) -> str:
    return "slash command" if "command" in body else str(body.get("type", "request"))


def event_dispatcher(worker: App) -> Callable[[str], None]:
    """Process one recorded event with the listeners of `worker`, an App that runs them
    before returning; raise when they failed so that the inbox retries it."""
    failures = _Failures()
    worker.error(failures.record)

    def dispatch(body: str) -> None:
        failures.clear()
        response = worker.dispatch(BoltRequest(body=json.loads(body), mode="socket_mode"))
        error = failures.take()
        if error is not None:
            raise error
        if response.status >= 400 and response.status != 404:  # 404: nobody listens to it
            raise EventNotProcessed(f"Bolt answered {response.status}")

    return dispatch


class EventNotProcessed(Exception):
    pass


class _Failures(threading.local):
    """The exception a listener raised, per worker thread (Bolt hands it to the error
    handler, not to the caller of dispatch)."""

    def __init__(self) -> None:
        self.error: Exception | None = None

    def record(self, error: Exception, body: dict[str, Any]) -> None:
        event = _dict(body.get("event"))
        log.error(
            "listener failed on event %s (%s)",
            body.get("event_id"),
            event.get("type"),
            exc_info=error,
        )
        self.error = error

    def clear(self) -> None:
        self.error = None

    def take(self) -> Exception | None:
        error, self.error = self.error, None
        return error
