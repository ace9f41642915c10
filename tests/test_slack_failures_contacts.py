"""Inactivity contacts when Slack fails past slack_sdk's own retries.

Transient failures (5xx, read timeouts, connection resets, 429) leave the DM due: every
member gets exactly one DM once Slack recovers, and no email goes out early. A refused token
stops the run and marks nothing. Only a member-specific error makes a DM undeliverable.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import func, select

from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.settings import Settings
from bot.slack_client import make_web_client
from models import AttemptStatus, OutboundEmail
from tests.support.kyoso_server import make_settings
from tests.support.slack_emulator import SlackEmulator
from tests.test_lifecycle import add_member, attempts, contact, lifecycle_dms, sweep

MEMBERS = [(f"U0F{n}", f"member{n}@city.sapporo.lg.jp") for n in range(3)]
# Longer than the client's timeout below: the answer never arrives in time.
NO_ANSWER_SECONDS = 1.5


@pytest.fixture
def settings(emulator: SlackEmulator, database_url: str) -> Settings:
    return make_settings(emulator.api_url, database_url, KYOSO_CONTACTS_PER_MINUTE="6000")


@pytest.fixture
def client(emulator: SlackEmulator) -> Iterator[WebClient]:
    # The production client (with slack_sdk's retry handlers), with a short read timeout.
    yield make_web_client("xoxb-test", emulator.api_url, timeout=1)


def _queued_emails(session_factory: SessionFactory) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(OutboundEmail)) or 0


def _members(
    session_factory: SessionFactory, emulator: SlackEmulator, clock: FixedClock, settings: Settings
) -> None:
    for user_id, email in MEMBERS:
        add_member(session_factory, emulator, user_id, email=email)
    sweep(session_factory, clock, settings)


def test_dms_survive_5xx_timeouts_resets_and_429_and_go_out_exactly_once(
    emulator: SlackEmulator,
    settings: Settings,
    client: WebClient,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    _members(session_factory, emulator, clock, settings)
    outages: list[Any] = [
        lambda: emulator.server_error("chat.postMessage", status=503, times=4),
        lambda: emulator.time_out("chat.postMessage", NO_ANSWER_SECONDS),
        # Slack posts the DM but the answer is lost: the next run finds it and does not repeat it.
        lambda: emulator.time_out("chat.postMessage", NO_ANSWER_SECONDS, applied=True),
        lambda: emulator.reset_connection("chat.postMessage", times=4),
        lambda: emulator.server_error("conversations.history", status=500, times=4),
    ]
    for outage in outages:
        outage()
        result = contact(session_factory, clock, client, settings)
        assert result["stopped"] == "slack unavailable", result
        assert result["failed"] == 0 and result["emails"] == 0
        assert _queued_emails(session_factory) == 0  # nobody is emailed early
        emulator.clear_faults()
        clock.advance(timedelta(minutes=15))  # past the claim lease: the next run looks in Slack

    emulator.rate_limit("chat.postMessage", times=4)  # past the SDK's 3 retries: waited in-run
    result = contact(session_factory, clock, client, settings)
    assert result["stopped"] == "done", result
    assert result["failed"] == 0 and result["emails"] == 0

    for user_id, _ in MEMBERS:
        assert len(lifecycle_dms(emulator, user_id)) == 1, user_id
        dm = attempts(session_factory, user_id)[1]
        assert dm.status is AttemptStatus.SENT and dm.error is None
        email = attempts(session_factory, user_id)[2]
        assert email.due_at >= clock.now() + timedelta(days=13)  # 14 days after the DM
    assert _queued_emails(session_factory) == 0


def test_a_refused_token_stops_the_run_and_marks_nothing(
    emulator: SlackEmulator,
    settings: Settings,
    client: WebClient,
    session_factory: SessionFactory,
    clock: FixedClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _members(session_factory, emulator, clock, settings)
    emulator.fail("chat.postMessage", "invalid_auth", times=10)
    result = contact(session_factory, clock, client, settings)
    assert result["stopped"] == "slack auth"
    assert (result["dms"], result["failed"], result["emails"]) == (0, 0, 0)
    assert len([c for c in emulator.calls_to("chat.postMessage") if c.params.get("blocks")]) == 1
    for user_id, _ in MEMBERS:
        dm = attempts(session_factory, user_id)[1]
        assert dm.status is AttemptStatus.PLANNED and dm.sent_at is None and dm.error is None
        assert 2 not in attempts(session_factory, user_id)
    assert any(r.levelname == "ERROR" and "invalid_auth" in r.getMessage() for r in caplog.records)

    emulator.clear_faults()  # the operator installs a working token
    assert contact(session_factory, clock, client, settings)["dms"] == len(MEMBERS)


def test_a_token_refused_on_dnd_info_stops_the_run_too(
    emulator: SlackEmulator,
    settings: Settings,
    client: WebClient,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    _members(session_factory, emulator, clock, settings)
    emulator.fail("dnd.info", "token_revoked", times=10)
    result = contact(session_factory, clock, client, settings)
    assert result["stopped"] == "slack auth"
    assert not emulator.calls_to("chat.postMessage")
    assert all(attempts(session_factory, u)[1].sent_at is None for u, _ in MEMBERS)


def test_only_a_member_specific_error_makes_a_dm_undeliverable(
    emulator: SlackEmulator,
    settings: Settings,
    client: WebClient,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    _members(session_factory, emulator, clock, settings)
    emulator.fail("chat.postMessage", "user_disabled")
    result = contact(session_factory, clock, client, settings)
    assert (result["dms"], result["failed"], result["emails"]) == (2, 1, 1)
    assert result["errors"] == {"user_disabled": 1}
