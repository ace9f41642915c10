"""Contacts survive crashes and rate limits: every member is contacted exactly once.

- `kyoso jobs run lifecycle-contacts` is killed with SIGKILL in the middle of 1,000 contacts,
  then run again: the emulator records exactly 1,000 contact DMs, one per member.
- A crash right after Slack took a DM, before Kyoso recorded it (the worst moment): the
  restarted sender finds the DM in the member's IM history and does not send it again.
- A crash after the claim, before the post: the restarted sender finds nothing, sends it.
- Slack answers `ratelimited` with Retry-After: the job waits as told and loses nobody.
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import func, insert, select

from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.gateway import build_gateway
from bot.services.lifecycle.contacts import Contact
from bot.services.lifecycle.policy import CLAIM_LEASE, Policy
from bot.services.lifecycle.sweep import daily_sweep
from bot.settings import Settings
from bot.slack.lifecycle.contacts import ContactSender
from bot.slack.lifecycle.pacing import TokenBucket
from bot.slack_client import make_web_client
from models import AttemptStatus, ContactAttempt, Member, MemberStatus
from tests.conftest import DEFAULT_NOW
from tests.support.kyoso_server import SIGNING_SECRET, make_settings, wait_for
from tests.support.slack_emulator import RecordedCall, SlackEmulator

LONG_AGO = DEFAULT_NOW - timedelta(days=400)
_SCRIPT = shutil.which("kyoso", path=str(Path(sys.executable).parent))
KYOSO = [_SCRIPT] if _SCRIPT else [sys.executable, "-m", "app"]


def _members(emulator: SlackEmulator, session_factory: SessionFactory, count: int) -> list[str]:
    users = [f"U0C{n:05d}" for n in range(count)]
    for user in users:
        emulator.add_user(user, name=user.lower(), locale="ja-JP")
    with session_factory.begin() as session:
        session.execute(
            insert(Member),
            [
                {
                    "slack_user_id": user,
                    "status": MemberStatus.ACTIVE,
                    "is_bot": False,
                    "locale": "ja",
                    "last_seen_at": LONG_AGO,
                    "created_at": LONG_AGO,
                    "updated_at": LONG_AGO,
                }
                for user in users
            ],
        )
        swept = daily_sweep(session, clock=FixedClock(DEFAULT_NOW), policy=Policy())
        assert swept.started == count
    return users


def _contact_posts(emulator: SlackEmulator) -> list[RecordedCall]:
    """Contact DMs Slack accepted (the summary line in the review channel is not one)."""
    return [
        call
        for call in emulator.calls_to("chat.postMessage")
        if call.ok and "lifecycle_contact:" in str(call.params.get("blocks", ""))
    ]


def _sent(session_factory: SessionFactory) -> int:
    with session_factory() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(ContactAttempt)
                .where(ContactAttempt.number == 1, ContactAttempt.status == AttemptStatus.SENT)
            )
            or 0
        )


def _env(**values: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "KYOSO_"))}
    keep.pop("DATABASE_URL", None)
    return {**keep, "PYTHONUNBUFFERED": "1", **values}


def test_killed_in_the_middle_of_1000_contacts_then_restarted(
    emulator: SlackEmulator, database_url: str, session_factory: SessionFactory, tmp_path: Path
) -> None:
    users = _members(emulator, session_factory, 1000)
    env = _env(
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=emulator.api_url,
        DATABASE_URL=database_url,
        KYOSO_REVIEW_CHANNEL="C0REVIEW",
        KYOSO_CONTACTS_PER_MINUTE="6000",
    )

    def job(now: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [*KYOSO, "jobs", "run", "lifecycle-contacts", "--now", now],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    first = job(DEFAULT_NOW.isoformat())
    try:
        wait_for(lambda: len(_contact_posts(emulator)) >= 300, timeout=60, interval=0.05)
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=10)
    assert first.returncode == -signal.SIGKILL
    posted_before = len(_contact_posts(emulator))
    assert 300 <= posted_before < 1000  # killed in the middle
    assert _sent(session_factory) < 1000

    # Restarted a quarter of an hour later (a claim left in flight is then checked in Slack).
    second = job((DEFAULT_NOW + timedelta(minutes=15)).isoformat())
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err[-3000:]
    assert '"stopped": "done"' in out

    per_member = Counter(str(call.params["channel"]) for call in _contact_posts(emulator))
    assert len(per_member) == 1000 and set(per_member) == set(users)
    duplicates = {user: n for user, n in per_member.items() if n != 1}
    assert duplicates == {}
    assert _sent(session_factory) == 1000


class _Crash(Exception):
    """Stands for the process dying: nothing after it runs."""


def _sender(
    session_factory: SessionFactory,
    clock: FixedClock,
    client: WebClient,
    settings: Settings,
    **kwargs: Any,
) -> ContactSender:
    gateway = build_gateway(
        settings, client=client, admin_client=None, session_factory=session_factory, clock=clock
    )
    return gateway.lifecycle.contacts.start(bucket=TokenBucket(60_000, burst=100), **kwargs)


@pytest.fixture
def settings(emulator: SlackEmulator, database_url: str) -> Settings:
    return make_settings(emulator.api_url, database_url)


def test_a_crash_after_slack_took_the_dm_does_not_send_it_twice(
    emulator: SlackEmulator,
    settings: Settings,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    users = _members(emulator, session_factory, 120)
    client = WebClient(token="xoxb-test", base_url=emulator.api_url)
    posted: list[Contact] = []

    def crash_after_the_50th(contact: Contact) -> None:
        posted.append(contact)
        if len(posted) == 50:
            raise _Crash

    with pytest.raises(_Crash):
        _sender(session_factory, clock, client, settings, after_post=crash_after_the_50th).run()
    assert len(_contact_posts(emulator)) == 50 and _sent(session_factory) == 49

    # Restarted at once: the claim is still within its lease, so it is left alone.
    early = _sender(session_factory, clock, client, settings).run()
    assert early.recovered == 0 and early.dms == 70
    # Later: the DM is found in Slack and recorded as sent, not sent again.
    clock.advance(CLAIM_LEASE + timedelta(seconds=1))
    late = _sender(session_factory, clock, client, settings).run()
    assert (late.recovered, late.resent, late.dms) == (1, 0, 0)
    per_member = Counter(str(call.params["channel"]) for call in _contact_posts(emulator))
    assert set(per_member) == set(users) and set(per_member.values()) == {1}
    assert _sent(session_factory) == 120


def test_a_crash_before_the_post_sends_it_on_restart(
    emulator: SlackEmulator,
    settings: Settings,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    users = _members(emulator, session_factory, 10)

    class DiesBeforePosting(WebClient):
        calls = 0

        def chat_postMessage(self, **kwargs: Any) -> Any:
            DiesBeforePosting.calls += 1
            if DiesBeforePosting.calls == 4:
                raise _Crash
            return super().chat_postMessage(**kwargs)

    with pytest.raises(_Crash):
        _sender(
            session_factory,
            clock,
            DiesBeforePosting(token="xoxb-test", base_url=emulator.api_url),
            settings,
        ).run()
    assert len(_contact_posts(emulator)) == 3
    clock.advance(CLAIM_LEASE + timedelta(minutes=1))
    client = WebClient(token="xoxb-test", base_url=emulator.api_url)
    run = _sender(session_factory, clock, client, settings).run()
    assert (run.recovered, run.resent, run.dms) == (0, 1, 7)
    per_member = Counter(str(call.params["channel"]) for call in _contact_posts(emulator))
    assert set(per_member) == set(users) and set(per_member.values()) == {1}


def _gaps_after_429(emulator: SlackEmulator, method: str) -> list[float]:
    """Seconds from each 429 answer to the next call of the method."""
    calls = emulator.calls_to(method)
    return [
        later.time - call.time for call, later in itertools.pairwise(calls) if call.status == 429
    ]


def test_ratelimited_answers_are_waited_out_and_nobody_is_lost(
    emulator: SlackEmulator,
    settings: Settings,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    users = _members(emulator, session_factory, 6)
    emulator.rate_limit("chat.postMessage", times=2, retry_after=1)
    emulator.rate_limit("dnd.info", times=1, retry_after=1)
    client = WebClient(token="xoxb-test", base_url=emulator.api_url)  # no retry handler
    started = time.monotonic()
    run = _sender(session_factory, clock, client, settings).run()
    assert run.dms == 6 and run.rate_limited == 3 and run.stopped == "done"
    assert time.monotonic() - started >= 3.0  # three waits of Retry-After: 1
    for method in ("chat.postMessage", "dnd.info"):
        gaps = _gaps_after_429(emulator, method)
        assert gaps and all(waited >= 1.0 for waited in gaps), (method, gaps)  # Retry-After: 1
    per_member = Counter(str(call.params["channel"]) for call in _contact_posts(emulator))
    assert set(per_member) == set(users) and set(per_member.values()) == {1}


def test_ratelimited_beyond_the_clients_own_retries(
    emulator: SlackEmulator,
    settings: Settings,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    """The production client retries a 429 three times itself (sleeping Retry-After); a
    fourth is the sender's to wait out. Still exactly one DM each."""
    users = _members(emulator, session_factory, 3)
    emulator.rate_limit("chat.postMessage", times=4, retry_after=1)
    client = make_web_client("xoxb-test", emulator.api_url)
    run = _sender(session_factory, clock, client, settings).run()
    assert run.dms == 3 and run.rate_limited == 1
    gaps = _gaps_after_429(emulator, "chat.postMessage")
    assert len(gaps) == 4 and all(waited >= 1.0 for waited in gaps)  # Retry-After: 1
    per_member = Counter(str(call.params["channel"]) for call in _contact_posts(emulator))
    assert set(per_member) == set(users) and set(per_member.values()) == {1}
