"""Every privileged action, pressed by an ordinary member, is refused before anything happens.

The list is not written here: it is what the handlers declared (handlers/access.py). Each
button, modal submission, shortcut and slash subcommand for the secretariat, facilitators or
ambassadors is sent as Slack sends it, from a member without roles; the test checks that no
modal opened, nothing was written to the database or to Slack beyond the refusal, and that
the member was told why. A listener added to Bolt without going through `Routes` fails the
count test below, so a new privileged listener cannot skip the guard unnoticed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import build_event_worker, create_app
from bot import ids
from bot.audience import Audience
from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.i18n import t
from bot.services import members
from handlers.access import Route, routes_for
from models import Base, Role
from tests.conftest import DEFAULT_NOW
from tests.support.kyoso_server import RunningKyoso, make_settings, offline_app, wait_for
from tests.support.slack_emulator import SlackEmulator
from tests.support.slack_sender import SlackSender

MEMBER = "U0MEMBER"
SECRETARY = "U0SECRETARY"
CHANNEL = "C0REVIEW"

# Slack methods that change something (a read such as users.info may answer the locale).
_WRITES = re.compile(
    r"^(views\.(open|push|update|publish)|chat\.(update|delete|postEphemeral|scheduleMessage)"
    r"|conversations\.(create|archive|unarchive|invite|kick|rename|setPurpose|setTopic)"
    r"|pins\.add|admin\..*|files\.upload.*|reactions\.add)$"
)
# Rows the request machinery itself writes (replay keys), not the listener.
_MACHINERY_TABLES = {"seen_requests", "inbox_events", "processed_events"}

_PROBE_BLOCK = {
    "type": "input",
    "block_id": "guard_probe",
    "label": {"type": "plain_text", "text": "probe"},
    "element": {"type": "plain_text_input", "action_id": "guard_probe_input"},
}


@dataclass(frozen=True)
class Privileged:
    kind: str
    key: str  # a concrete id (a sample for a pattern)
    audience: Audience
    refusal_key: str | None = None  # a subcommand's own refusal text, if it has one

    def __str__(self) -> str:
        return f"{self.kind}:{self.key}:{self.audience.value}"


def _id_constants() -> list[str]:
    found: list[str] = []
    for value in vars(ids).values():
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, (tuple, list, frozenset, set)):
            found.extend(v for v in value if isinstance(v, str))
        elif isinstance(value, dict):
            found.extend(v for v in value.values() if isinstance(v, str))
    return found


def _concrete(route: Route) -> list[str]:
    if isinstance(route.key, str):
        return [route.key]
    samples = sorted({value for value in _id_constants() if route.key.fullmatch(value)})
    assert samples, f"no id in bot/ids.py matches {route.key.pattern}: add it there"
    return samples


def _privileged() -> list[Privileged]:
    bolt, deps = offline_app()
    found = [
        Privileged(route.kind, key, route.audience)
        for route in routes_for(bolt, deps).declared
        if route.audience is not Audience.ANYONE
        for key in _concrete(route)
    ]
    found += [
        Privileged("subcommand", sub.name, sub.audience, sub.refusal_key)
        for sub in deps.commands.all()
        if sub.audience is not Audience.ANYONE
    ]
    return found


PRIVILEGED = _privileged()


def test_every_bolt_listener_was_declared_with_its_audience(
    emulator: SlackEmulator, database_url: str, session_factory: SessionFactory
) -> None:
    kyoso = create_app(
        make_settings(emulator.api_url, database_url),
        session_factory=session_factory,
        clock=FixedClock(DEFAULT_NOW),
    )
    assert len(kyoso.bolt._listeners) == len(routes_for(kyoso.bolt, kyoso.deps).declared)
    worker = build_event_worker(kyoso.deps.client, kyoso.deps)
    assert len(worker._listeners) == len(routes_for(worker, kyoso.deps).declared)


def test_the_guarded_list_covers_every_privileged_flow() -> None:
    kinds = {(p.kind, p.audience) for p in PRIVILEGED}
    # Buttons, modal submissions and subcommands of the secretariat, and the facilitators'.
    assert ("action", Audience.SECRETARIAT) in kinds
    assert ("view", Audience.SECRETARIAT) in kinds
    assert ("subcommand", Audience.SECRETARIAT) in kinds
    assert any(p.audience is Audience.FACILITATOR for p in PRIVILEGED)


@pytest.fixture
def prepared(
    emulator: SlackEmulator, session_factory: SessionFactory, clock: FixedClock
) -> Iterator[None]:
    emulator.add_user(MEMBER, name="member", locale="ja-JP")
    emulator.add_user(SECRETARY, name="secretary", locale="ja-JP")
    with session_factory.begin() as session:
        members.ensure_member(session, clock=clock, slack_user_id=MEMBER)
        members.ensure_member(session, clock=clock, slack_user_id=SECRETARY)
        members.grant_role(
            session, clock=clock, slack_user_id=SECRETARY, role=Role.SECRETARIAT, actor="test"
        )
    yield


def _row_counts(session: Session) -> dict[str, int]:
    return {
        table.name: session.scalar(select(func.count()).select_from(table)) or 0
        for table in Base.metadata.sorted_tables
        if table.name not in _MACHINERY_TABLES
    }


def _press(slack: SlackSender, probe: Privileged, user_id: str) -> Any:
    message = {"type": "message", "user": SECRETARY, "ts": "1700000000.000100", "text": "x"}
    if probe.kind == "action":
        return slack.block_action(
            probe.key, "probe", user_id=user_id, channel_id=CHANNEL, message=message
        )
    if probe.kind == "view":
        return slack.view_submission(
            probe.key,
            user_id=user_id,
            blocks=[_PROBE_BLOCK],
            values={
                "guard_probe": {"guard_probe_input": {"type": "plain_text_input", "value": "x"}}
            },
            private_metadata="{}",
        )
    if probe.kind == "global_shortcut":
        return slack.global_shortcut(probe.key, user_id=user_id)
    if probe.kind == "message_shortcut":
        return slack.message_shortcut(
            probe.key, message=message, channel_id=CHANNEL, user_id=user_id
        )
    if probe.kind == "subcommand":
        return slack.command(ids.SLASH_COMMAND, probe.key, user_id=user_id, channel_id=CHANNEL)
    pytest.fail(f"no probe for a {probe.kind} route: add one")


def _told(emulator: SlackEmulator, text: str) -> bool:
    replies = [
        body
        for _, body in emulator.all_responses()
        if isinstance(body, dict) and text in str(body.get("text", ""))
    ]
    direct = [
        call
        for call in emulator.calls_to("chat.postMessage")
        if call.params.get("channel") == MEMBER and text in str(call.params.get("text", ""))
    ]
    return bool(replies or direct)


@pytest.mark.parametrize("probe", PRIVILEGED, ids=str)
def test_an_ordinary_member_is_refused_before_anything_happens(
    probe: Privileged,
    prepared: None,
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    with session_factory() as session:
        before = _row_counts(session)
    emulator.reset_calls()

    response = _press(slack, probe, MEMBER)

    assert response.status == 200
    refusal = t(probe.refusal_key or f"access.only.{probe.audience.value}", "ja")
    if probe.kind == "view":
        # The modal stays open with the reason under its field; nothing else happens.
        assert response.json() == {"response_action": "errors", "errors": {"guard_probe": refusal}}
    else:
        wait_for(lambda: _told(emulator, refusal) or None)
    writes = [call.method for call in emulator.calls if _WRITES.match(call.method)]
    assert writes == []
    posts = [c for c in emulator.calls_to("chat.postMessage") if c.params.get("channel") != MEMBER]
    assert posts == []
    with session_factory() as session:
        assert _row_counts(session) == before


def test_the_guard_lets_the_secretariat_through(
    prepared: None, kyoso: RunningKyoso, slack: SlackSender, emulator: SlackEmulator
) -> None:
    """The positive control: the same probe from a secretary reaches the listener."""
    probe = next(p for p in PRIVILEGED if p.kind == "subcommand")
    emulator.reset_calls()
    _press(slack, probe, SECRETARY)
    refusal = t(probe.refusal_key or f"access.only.{probe.audience.value}", "ja")
    wait_for(lambda: emulator.all_responses() or None)
    assert not _told(emulator, refusal)


def test_create_app_declares_the_same_routes_as_the_offline_app(
    emulator: SlackEmulator, database_url: str, session_factory: SessionFactory
) -> None:
    kyoso = create_app(
        make_settings(emulator.api_url, database_url),
        session_factory=session_factory,
        clock=FixedClock(DEFAULT_NOW),
    )
    declared = routes_for(kyoso.bolt, kyoso.deps).declared
    offline, deps = offline_app()
    assert [(r.kind, str(r.key), r.audience) for r in declared] == [
        (r.kind, str(r.key), r.audience) for r in routes_for(offline, deps).declared
    ]
