"""The welcome DM when Slack fails past slack_sdk's own retries.

A newcomer is marked welcomed only when Slack accepted the DM; 429, 5xx, read timeouts,
connection resets and a refused token leave them to the onboarding-welcomes job, which
delivers exactly one welcome once Slack recovers (looking in the IM first when Slack may
have taken the DM). Only a member-specific error gives up.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.gateway import build_gateway
from bot.services import members
from bot.services.onboarding.joins import handle_join
from bot.slack.onboarding.welcome import Delivery, WelcomeSender, welcome_block_id
from bot.slack_client import make_web_client
from models import Member
from scheduler.jobs import JobContext, find_job
from tests.support.kyoso_server import RunningKyoso, make_settings, wait_for
from tests.support.slack_emulator import SlackEmulator
from tests.support.slack_sender import SlackSender
from tests.test_e2e_onboarding import _team_join, kyoso  # noqa: F401  (the fixture)

NO_ANSWER_SECONDS = 1.5  # longer than the client's timeout below


def _welcomes(emulator: SlackEmulator, user_id: str) -> list[dict[str, Any]]:
    wanted = welcome_block_id(user_id)
    return [
        m
        for m in emulator.dm_messages(user_id)
        if any(b.get("block_id") == wanted for b in m.get("blocks") or [])
    ]


def _member(session_factory: SessionFactory, user_id: str) -> Member:
    with session_factory() as session:
        member = members.find(session, user_id)
        assert member is not None
        return member


def _welcome_posts(emulator: SlackEmulator, user_id: str) -> int:
    return len([c for c in emulator.calls_to("chat.postMessage") if c.params["channel"] == user_id])


def _job(running: RunningKyoso, clock: FixedClock) -> dict[str, Any]:
    deps = running.kyoso.deps
    context = JobContext(
        session_factory=deps.session_factory,
        clock=clock,
        client=deps.client,
        settings=deps.settings,
        gateway=deps.gateway,
    )
    return find_job("onboarding-welcomes").run(context)


def _sender(
    emulator: SlackEmulator, database_url: str, session_factory: SessionFactory, clock: FixedClock
) -> WelcomeSender:
    """The welcome sender of a gateway whose client gives up after a second."""
    gateway = build_gateway(
        make_settings(emulator.api_url, database_url),
        client=make_web_client("xoxb-test", emulator.api_url, timeout=1),
        admin_client=None,
        session_factory=session_factory,
        clock=clock,
    )
    return gateway.onboarding.welcome


def test_a_welcome_slack_refuses_on_join_is_sent_once_by_the_job(
    kyoso: RunningKyoso,  # noqa: F811
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    # (outage, calls it takes: the first try and slack_sdk's 3 retries, or one)
    outages = {
        "U0BUSY": (lambda: emulator.rate_limit("chat.postMessage", times=4), 4),
        "U0DOWN": (lambda: emulator.server_error("chat.postMessage", status=503, times=4), 4),
        "U0AUTH": (lambda: emulator.fail("chat.postMessage", "invalid_auth"), 1),
    }
    for joined, (user_id, (outage, calls)) in enumerate(outages.items(), start=1):
        emulator.add_user(user_id, name=user_id.lower(), locale="ja-JP")
        outage()
        assert slack.event(_team_join(emulator, user_id), event_id=f"Ev{user_id}").status == 200
        wait_for(lambda u=user_id, n=calls: _welcome_posts(emulator, u) >= n, timeout=20)
        emulator.clear_faults()
        # The secretariat's alert (no application) follows; the next outage must not hit it.
        wait_for(lambda n=joined: _welcome_posts(emulator, "C0REVIEW") >= n, timeout=20)

    # Nothing is marked sent; what Slack refused outright is due again at once.
    for user_id in outages:
        member = wait_for(
            lambda u=user_id: (m := _member(session_factory, u)).joined_at is not None and m
        )
        assert member.welcomed_at is None and member.welcome_error is None, user_id
        assert not _welcomes(emulator, user_id)
    wait_for(lambda: _member(session_factory, "U0AUTH").welcome_claimed_at is None)
    assert _member(session_factory, "U0BUSY").welcome_claimed_at is None
    # A 5xx may come after Slack acted: that claim waits for its lease and a look in the IM.
    assert _member(session_factory, "U0DOWN").welcome_claimed_at is not None

    first = _job(kyoso, clock)
    assert first["sent"] == 2 and first["stopped"] == "done"
    clock.advance(timedelta(minutes=15))
    second = _job(kyoso, clock)
    assert second["sent"] == 1
    assert _job(kyoso, clock)["sent"] == 0
    for user_id in outages:
        assert len(_welcomes(emulator, user_id)) == 1, user_id
        assert _member(session_factory, user_id).welcomed_at is not None


def test_timeouts_and_resets_never_welcome_twice(
    emulator: SlackEmulator, database_url: str, session_factory: SessionFactory, clock: FixedClock
) -> None:
    sender = _sender(emulator, database_url, session_factory, clock)
    outages = {
        # Slack posts the DM, the answer is lost: found in the IM, not sent again.
        "U0TAKEN": lambda: emulator.time_out("chat.postMessage", NO_ANSWER_SECONDS, applied=True),
        "U0LOST": lambda: emulator.time_out("chat.postMessage", NO_ANSWER_SECONDS),
        "U0RESET": lambda: emulator.reset_connection("chat.postMessage", times=4),
    }
    for user_id, outage in outages.items():
        user = emulator.add_user(user_id, name=user_id.lower(), locale="ja-JP")
        with session_factory.begin() as session:
            joined = handle_join(session, clock=clock, user=members.SlackUser.from_payload(user))
        assert joined.welcome
        outage()
        assert sender.deliver(user_id) is Delivery.LATER
        emulator.clear_faults()
        assert _member(session_factory, user_id).welcomed_at is None

    assert sender.run()["sent"] == 0  # in flight: not before the lease has passed
    clock.advance(timedelta(minutes=15))
    result = sender.run()
    assert (result["recovered"], result["sent"]) == (1, 2)
    for user_id in outages:
        assert len(_welcomes(emulator, user_id)) == 1, user_id
        assert _member(session_factory, user_id).welcomed_at is not None


def test_a_member_who_cannot_be_dmed_is_given_up_once(
    emulator: SlackEmulator, database_url: str, session_factory: SessionFactory, clock: FixedClock
) -> None:
    sender = _sender(emulator, database_url, session_factory, clock)
    user = emulator.add_user("U0NODM", name="nodm", locale="ja-JP")
    with session_factory.begin() as session:
        handle_join(session, clock=clock, user=members.SlackUser.from_payload(user))
    emulator.fail("chat.postMessage", "cannot_dm_bot")
    assert sender.deliver("U0NODM") is Delivery.UNDELIVERABLE
    assert _member(session_factory, "U0NODM").welcome_error == "cannot_dm_bot"
    clock.advance(timedelta(hours=1))
    assert sender.run()["sent"] == 0
    assert _welcome_posts(emulator, "U0NODM") == 1
