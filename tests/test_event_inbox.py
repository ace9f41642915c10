"""The event inbox: a verified event is recorded before Slack gets its 200 and processed until
done — through a database outage and a kill -9 — and a signed command or interaction acts once
however often it is replayed."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.cli import main as kyoso_cli
from bot.clock import FixedClock
from bot.db import SessionFactory, make_engine, make_session_factory
from bot.detectors import my_number_check_digit
from bot.inbox import store
from bot.inbox.store import NewEvent
from models import AuditEntry, CaseReport, Detection, InboxEvent, InboxStatus, Member
from tests.support.kyoso_server import SIGNING_SECRET, make_settings, serve_kyoso, wait_for
from tests.support.slack_emulator import SlackEmulator
from tests.support.slack_sender import SlackResponse, SlackSender
from tests.support.tcp_proxy import TcpProxy
from tests.test_cli import KYOSO, _env, _free_port
from tests.test_e2e_foundation import _team_join
from tests.test_e2e_moderation import AUTHOR, REPORTER, post_as, report, setup_people

LEASE = timedelta(minutes=2)
FIRST_ELEVEN = "43218765091"
MY_NUMBER = FIRST_ELEVEN + str(my_number_check_digit(FIRST_ELEVEN))


def _event(event_id: str, body: dict[str, Any] | None = None) -> NewEvent:
    return NewEvent(event_id, "team_join", json.dumps(body or {"event_id": event_id}))


def _row(session_factory: SessionFactory, event_id: str) -> InboxEvent | None:
    with session_factory() as session:
        return session.get(InboxEvent, event_id)


# ---- the store ------------------------------------------------------------------------------


def test_recording_is_idempotent_and_claims_for_the_recorder(
    session_factory: SessionFactory, clock: FixedClock
) -> None:
    with session_factory.begin() as session:
        assert store.record(session, [_event("Ev1"), _event("Ev2")], clock=clock, lease=LEASE) == {
            "Ev1",
            "Ev2",
        }
    with session_factory.begin() as session:
        assert store.record(session, [_event("Ev2"), _event("Ev3")], clock=clock, lease=LEASE) == {
            "Ev3"
        }
        # The recorder holds what it recorded: nobody else takes it while it works on it.
        assert store.claim_due(session, clock=clock, lease=LEASE) == []


def test_an_abandoned_event_is_taken_up_once_its_lease_runs_out(
    session_factory: SessionFactory, clock: FixedClock
) -> None:
    with session_factory.begin() as session:
        store.record(session, [_event("Ev1")], clock=clock, lease=LEASE)
    clock.advance(LEASE)
    with session_factory.begin() as session:
        taken = store.claim_due(session, clock=clock, lease=LEASE)
    assert [(e.event_id, e.attempts) for e in taken] == [("Ev1", 0)]
    assert json.loads(taken[0].body) == {"event_id": "Ev1"}
    with session_factory.begin() as session:  # now held by whoever took it
        assert store.claim_due(session, clock=clock, lease=LEASE) == []


def test_failures_back_off_then_set_the_event_aside_until_an_operator_retries(
    session_factory: SessionFactory,
    database_url: str,
    clock: FixedClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with session_factory.begin() as session:
        store.record(session, [_event("Ev1")], clock=clock, lease=LEASE)
    for attempt in range(1, store.MAX_ATTEMPTS + 1):
        with session_factory.begin() as session:
            status = store.fail(session, "Ev1", f"OperationalError: try {attempt}", clock=clock)
        if attempt < store.MAX_ATTEMPTS:
            assert status is InboxStatus.PENDING
            with session_factory.begin() as session:  # not before its backoff has passed
                assert store.claim_due(session, clock=clock, lease=LEASE) == []
            clock.advance(store.backoff(attempt))
            with session_factory.begin() as session:
                assert [e.attempts for e in store.claim_due(session, clock=clock, lease=LEASE)] == [
                    attempt
                ]
    assert status is InboxStatus.DEAD
    clock.advance(timedelta(days=1))
    with session_factory.begin() as session:
        assert store.claim_due(session, clock=clock, lease=LEASE) == []
        assert store.summary(session).dead == 1

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", database_url)
        assert kyoso_cli(["events", "failed"], clock=clock) == 0
        listed = capsys.readouterr().out
        assert "Ev1" in listed and "OperationalError: try 8" in listed
        assert kyoso_cli(["events", "retry", "Ev1"], clock=clock) == 0
        assert kyoso_cli(["events", "retry", "Ev1"], clock=clock) == 1  # nothing left to retry
    row = _row(session_factory, "Ev1")
    assert row is not None and (row.status, row.attempts) == (InboxStatus.PENDING, 0)
    with session_factory.begin() as session:
        assert [e.event_id for e in store.claim_due(session, clock=clock, lease=LEASE)] == ["Ev1"]


def test_done_events_forget_their_body_and_are_pruned_after_a_week(
    session_factory: SessionFactory, clock: FixedClock
) -> None:
    with session_factory.begin() as session:
        store.record(session, [_event("Ev1"), _event("Ev2")], clock=clock, lease=LEASE)
        store.complete(session, ["Ev1"], clock=clock)
    done = _row(session_factory, "Ev1")
    assert done is not None and done.status is InboxStatus.DONE and done.body is None
    clock.advance(store.DONE_RETENTION + timedelta(seconds=1))
    with session_factory.begin() as session:
        assert store.prune(session, clock=clock) == 1
    assert _row(session_factory, "Ev1") is None
    assert _row(session_factory, "Ev2") is not None  # not done: kept whatever its age


# ---- through the app ------------------------------------------------------------------------


def test_an_acknowledged_event_is_already_recorded(
    slack: SlackSender, session_factory: SessionFactory
) -> None:
    response = slack.event(_team_join("U0NEW", "yamada@city.example.lg.jp"), event_id="Ev0JOIN")
    assert response.status == 200
    assert _row(session_factory, "Ev0JOIN") is not None  # at once, not eventually

    def done() -> InboxEvent | None:
        row = _row(session_factory, "Ev0JOIN")
        return row if row is not None and row.status is InboxStatus.DONE else None

    row = wait_for(done)
    assert row.body is None  # what members wrote is not kept once acted on
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Member)) == 1


class ReplayingSender(SlackSender):
    """Sends like Slack, and keeps the last signed request to send it again byte for byte."""

    last: tuple[bytes, dict[str, str]] | None = None

    def raw(self, body: bytes, headers: dict[str, str]) -> SlackResponse:
        self.last = (body, headers)
        return super().raw(body, headers)

    def replay(self) -> SlackResponse:
        assert self.last is not None
        return super().raw(*self.last)


def test_a_replayed_signed_command_has_no_second_effect(
    kyoso: Any, emulator: SlackEmulator, session_factory: SessionFactory
) -> None:
    sender = ReplayingSender(kyoso.events_url, SIGNING_SECRET, emulator)
    emulator.add_user("U0JA", name="sato", locale="ja-JP")
    assert sender.command("/kyoso", "lang en", user_id="U0JA", channel_id="C0REVIEW").status == 200
    wait_for(lambda: len(emulator.all_responses()) == 1)
    assert sender.replay().status == 200
    # A fresh request (new timestamp and signature) is no replay.
    assert sender.command("/kyoso", "help", user_id="U0JA", channel_id="C0REVIEW").status == 200
    wait_for(lambda: len(emulator.all_responses()) == 2)
    time.sleep(0.3)  # give a wrongly repeated effect the chance to show
    assert len(emulator.all_responses()) == 2
    with session_factory() as session:
        changes = session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action.like("member.locale%"))
        )
    assert changes in (0, 1)  # whatever `lang` audits, it did so at most once


# ---- a database outage (a PostgreSQL server that really goes away) ---------------------------


@pytest.fixture
def proxied_database(database_url: str) -> Iterator[tuple[str, TcpProxy]]:
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("the outage is staged by cutting a database server's connections")
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
    yield url.set(host="127.0.0.1", port=proxy.port).render_as_string(False), proxy
    proxy.stop()


def test_events_during_a_database_outage_are_processed_once_it_returns(
    proxied_database: tuple[str, TcpProxy],
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    proxied_url, proxy = proxied_database
    engine = make_engine(proxied_url)
    settings = make_settings(emulator.api_url, proxied_url)
    emulator.add_user("U0AUTHOR", name="author", locale="ja-JP")
    channel = emulator.add_channel("デジ_all_雑談", members=["U0AUTHOR", emulator.bot_user_id])
    message = {
        "type": "message",
        "user": "U0AUTHOR",
        "text": f"住民のマイナンバーは {MY_NUMBER} です",
        "ts": "1764000000.000100",
        "channel": channel["id"],
        "channel_type": "channel",
    }
    join = _team_join("U0NEW", "yamada@city.example.lg.jp")

    def effects() -> tuple[int, int, int]:
        with session_factory() as session:
            return (
                session.scalar(
                    select(func.count()).select_from(Member).where(Member.slack_user_id == "U0NEW")
                )
                or 0,
                session.scalar(select(func.count()).select_from(Detection)) or 0,
                len(emulator.ephemeral_messages(channel["id"], "U0AUTHOR")),
            )

    with serve_kyoso(
        settings, session_factory=make_session_factory(engine), clock=clock
    ) as running:
        slack = SlackSender(running.events_url, SIGNING_SECRET, emulator)
        proxy.cut()
        started = time.monotonic()
        # Not recorded: Slack is told so (non-2xx) and delivers them again.
        assert slack.event(join, event_id="Ev0JOIN").status >= 500
        assert slack.event(message, event_id="Ev0MSG").status >= 500
        # A member's command gets a polite answer instead of silence.
        answer = slack.command("/kyoso", "help", user_id="U0AUTHOR", channel_id=channel["id"])
        assert answer.status == 200 and "一時的" in answer.json()["text"]
        assert time.monotonic() - started < 9  # three answers, each well within Slack's 3 s
        proxy.restore()
        for retry in (1, 2):  # Slack's retries after 1 and 5 minutes
            assert slack.event(join, event_id="Ev0JOIN", retry_num=retry).status == 200
            assert slack.event(message, event_id="Ev0MSG", retry_num=retry).status == 200
        wait_for(lambda: effects() == (1, 1, 1), timeout=10)
        time.sleep(0.3)  # give a wrongly repeated effect the chance to show
        assert effects() == (1, 1, 1)
    engine.dispose()


# ---- kill -9 --------------------------------------------------------------------------------


class HttpKyoso:
    """`kyoso run` in HTTP mode as a real process on a SQLite file."""

    def __init__(self, tmp_path: Path, emulator: SlackEmulator, port: int) -> None:
        self.port = port
        self.log = (tmp_path / "kyoso.log").open("a")
        self.process = subprocess.Popen(
            [*KYOSO, "run"],
            cwd=tmp_path,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=_env(
                tmp_path,
                SLACK_BOT_TOKEN="xoxb-test",
                SLACK_SIGNING_SECRET=SIGNING_SECRET,
                SLACK_API_URL=emulator.api_url,
                DATABASE_URL="sqlite:///kyoso.db",
                KYOSO_SCHEDULER_ENABLED="false",
                KYOSO_EVENT_LEASE_SECONDS="1",
                PORT=str(port),
                HOST="127.0.0.1",
            ),
        )
        wait_for(self._healthy, timeout=30)

    def _healthy(self) -> bool:
        import urllib.request

        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1):
                return True
        except OSError:
            return False

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=20)
        self.log.close()


def test_events_recorded_before_a_kill_are_processed_after_the_restart(
    tmp_path: Path, emulator: SlackEmulator
) -> None:
    emulator.add_user("U0AUTHOR", name="author", locale="ja-JP")
    channel = emulator.add_channel("デジ_all_雑談", members=["U0AUTHOR", emulator.bot_user_id])
    port = _free_port()
    app = HttpKyoso(tmp_path, emulator, port)
    slack = SlackSender(f"http://127.0.0.1:{port}/slack/events", SIGNING_SECRET, emulator)
    emulator.latency("chat.postEphemeral", 0.5)  # the workers are busy when the kill comes
    count = 40
    for number in range(count):
        event = {
            "type": "message",
            "user": "U0AUTHOR",
            "text": f"マイナンバー {MY_NUMBER} の件 ({number})",
            "ts": f"1764000000.{number:06d}",
            "channel": channel["id"],
            "channel_type": "channel",
        }
        assert slack.event(event, event_id=f"Ev0KILL{number:03d}").status == 200

    def query(sql: str) -> int:
        with sqlite3.connect(tmp_path / "kyoso.db") as db:
            return int(db.execute(sql).fetchone()[0])

    assert query("SELECT count(*) FROM inbox_events") == count  # all recorded when acked
    app.kill()
    pending = query("SELECT count(*) FROM inbox_events WHERE status = 'pending'")
    assert pending > 0, "the kill came too late to prove anything"
    emulator.latency("chat.postEphemeral", 0)
    app = HttpKyoso(tmp_path, emulator, port)
    try:
        wait_for(
            lambda: query("SELECT count(*) FROM inbox_events WHERE status = 'done'") == count,
            timeout=30,
        )
        assert query("SELECT count(*) FROM detections") == count  # each message once
    finally:
        app.stop()


def test_a_replayed_report_is_one_report_and_one_thank_you(
    kyoso: Any, emulator: SlackEmulator, session_factory: SessionFactory, clock: FixedClock
) -> None:
    setup_people(emulator, session_factory, clock)
    sender = ReplayingSender(kyoso.events_url, SIGNING_SECRET, emulator)
    message = post_as(emulator, AUTHOR, "この発言は誹謗中傷にあたると思います")
    assert report(sender, emulator, message, REPORTER).status == 200  # the modal's submission
    wait_for(lambda: len(emulator.dm_messages(REPORTER)) == 1)
    assert sender.replay().status == 200
    time.sleep(0.5)  # give a wrongly repeated effect the chance to show
    assert len(emulator.dm_messages(REPORTER)) == 1
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(CaseReport)) == 1
