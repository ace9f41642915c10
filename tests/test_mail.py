"""The email outbox against a real SMTP server (aiosmtpd on a loopback port)."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.services.applications.emails import (
    SEPARATOR,
    ApplicationEmailKind,
    application_email,
    queue_application_email,
)
from bot.services.mail.delivery import (
    CLAIM_LEASE,
    MAX_ATTEMPTS,
    RETRY_DELAYS,
    deliver_pending,
    retry_at,
)
from bot.services.mail.outbox import queue_email
from bot.services.mail.port import MailConnection
from bot.services.mail.prune import OUTBOX_RETENTION, prune_outbox
from bot.services.mail.smtp import SmtpSender
from bot.services.mail.worker import MailWorker
from bot.settings import Settings
from models import Application, ApplicationSource, ApplicationStatus, EmailStatus, Organisation
from models import OutboundEmail as Row
from scheduler.jobs import JobContext, find_job
from tests.support.kyoso_server import make_settings, serve_kyoso, wait_for
from tests.support.slack_emulator import SlackEmulator
from tests.support.smtp_server import SmtpServer, smtp_server

FROM = "共創PF 事務局 <kyoso@example.lg.jp>"
REPLY_TO = "jimukyoku@example.lg.jp"
SUBJECT = (
    "【共創プラットフォーム】参加申請を受け付けました / Co-creation Platform: application received"
)


def mail_settings(server: SmtpServer | None = None, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "test-secret",
        "KYOSO_MAIL_FROM": FROM,
        "KYOSO_MAIL_REPLY_TO": REPLY_TO,
        "SMTP_STARTTLS": "false",
    }
    if server is not None:
        values.update(SMTP_HOST=server.host, SMTP_PORT=str(server.port))
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    with smtp_server() as running:
        yield running


def queue(
    session_factory: SessionFactory,
    clock: FixedClock,
    key: str,
    to: str = "taro.yamada@city.chiba.lg.jp",
    *,
    subject: str = SUBJECT,
    body: str = "本文 / body",
) -> bool:
    with session_factory.begin() as session:
        return queue_email(session, clock=clock, key=key, to=to, subject=subject, body=body)


def rows(session_factory: SessionFactory) -> list[Row]:
    with session_factory() as session:
        return list(session.scalars(select(Row).order_by(Row.id)))


def one_row(session_factory: SessionFactory) -> Row:
    (row,) = rows(session_factory)
    return row


def application(**overrides: Any) -> Application:
    values: dict[str, Any] = {
        "public_id": "a1b2c3d4e5f60718",
        "email": "Taro.Yamada＠city.chiba.lg.jp",
        "email_normalized": "taro.yamada@city.chiba.lg.jp",
        "name": "山田 太郎",
        "language": "ja",
        "rules_version": "2026-01",
        "source": ApplicationSource.WEB,
        "status": ApplicationStatus.PENDING,
        "outcome": "eligible_local",
        "organisation_id": None,
    }
    values.update(overrides)
    return Application(**values)


# --- Delivery ---------------------------------------------------------------------------


def test_queued_email_arrives_with_headers_and_both_languages(
    session_factory: SessionFactory, clock: FixedClock, server: SmtpServer
) -> None:
    with session_factory() as session:
        chiba = session.scalars(select(Organisation).where(Organisation.code == "121002")).one()
    with session_factory.begin() as session:
        assert queue_application_email(
            session,
            clock=clock,
            application=application(organisation_id=chiba.id),
            kind=ApplicationEmailKind.RECEIVED,
        )
    assert one_row(session_factory).status is EmailStatus.PENDING

    sender = SmtpSender(mail_settings(server), clock=clock)
    counts = deliver_pending(session_factory, sender, clock=clock)

    assert counts == {"sent": 1, "failed": 0, "retrying": 0}
    (received,) = server.wait_for(1)
    assert received.mail_from == "kyoso@example.lg.jp"
    assert received.rcpt_tos == ("taro.yamada@city.chiba.lg.jp",)
    assert b"\nSubject: =?utf-8?" in received.data  # encoded, not raw bytes in a header
    message = received.message
    assert message["Subject"] == SUBJECT
    assert message["From"].addresses[0].display_name == "共創PF 事務局"
    assert message["To"] == "taro.yamada@city.chiba.lg.jp"
    assert message["Reply-To"] == REPLY_TO
    assert message["Message-ID"].startswith("<") and message["Message-ID"].endswith(
        "@example.lg.jp>"
    )
    assert parsedate_to_datetime(message["Date"]) == clock.now()
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    assert message["Content-Transfer-Encoding"] == "base64"
    body = message.get_content()
    assert "a1b2c3d4e5f60718" not in message["Message-ID"]
    japanese, english = body.split(SEPARATOR)
    assert "山田 太郎 様" in japanese and "3開庁日以内" in japanese and "千葉市" in japanese
    assert "Dear 山田 太郎," in english and "within 3 business days" in english
    assert "a1b2c3d4e5f60718" in japanese and "a1b2c3d4e5f60718" in english

    row = one_row(session_factory)
    assert (row.status, row.attempts, row.last_error) == (EmailStatus.SENT, 1, None)
    assert row.sent_at == clock.now()
    assert deliver_pending(session_factory, sender, clock=clock)["sent"] == 0


def test_the_same_key_is_queued_and_sent_once(
    session_factory: SessionFactory, clock: FixedClock, server: SmtpServer
) -> None:
    app = application()
    for _ in range(2):  # a double click: two transactions, one email
        with session_factory.begin() as session:
            queued = queue_application_email(
                session, clock=clock, application=app, kind=ApplicationEmailKind.APPROVED
            )
    assert queued is False
    sender = SmtpSender(mail_settings(server), clock=clock)
    deliver_pending(session_factory, sender, clock=clock)
    # Even once sent, the key stays taken.
    with session_factory.begin() as session:
        assert not queue_application_email(
            session, clock=clock, application=app, kind=ApplicationEmailKind.APPROVED
        )
    deliver_pending(session_factory, sender, clock=clock)
    assert len(server.messages) == 1
    assert one_row(session_factory).key == "application:a1b2c3d4e5f60718:approved"


def test_a_permanent_refusal_fails_that_email_and_the_batch_goes_on(
    session_factory: SessionFactory, clock: FixedClock, server: SmtpServer
) -> None:
    server.refuse("nobody@city.chiba.lg.jp", "550 5.1.1 <nobody@city.chiba.lg.jp>: no such user")
    queue(session_factory, clock, "k:1", "nobody@city.chiba.lg.jp")
    queue(session_factory, clock, "k:2", "somebody@city.chiba.lg.jp")

    counts = deliver_pending(session_factory, SmtpSender(mail_settings(server)), clock=clock)

    assert counts == {"sent": 1, "failed": 1, "retrying": 0}
    failed, sent = rows(session_factory)
    assert failed.status is EmailStatus.FAILED and failed.last_error is not None
    assert failed.last_error.startswith("550 5.1.1")
    assert sent.status is EmailStatus.SENT
    assert [m.rcpt_tos for m in server.messages] == [("somebody@city.chiba.lg.jp",)]


def test_a_temporary_refusal_is_retried_after_the_backoff(
    session_factory: SessionFactory, clock: FixedClock, server: SmtpServer
) -> None:
    server.refuse("busy@city.chiba.lg.jp", "451 4.3.0 Mailbox temporarily unavailable")
    queue(session_factory, clock, "k:1", "busy@city.chiba.lg.jp")
    sender = SmtpSender(mail_settings(server), clock=clock)

    assert deliver_pending(session_factory, sender, clock=clock)["retrying"] == 1
    row = one_row(session_factory)
    assert (row.status, row.attempts) == (EmailStatus.PENDING, 1)
    assert row.last_error is not None and "451 4.3.0" in row.last_error
    assert retry_at(row) == clock.now() + RETRY_DELAYS[0]

    server.accept("busy@city.chiba.lg.jp")
    clock.advance(RETRY_DELAYS[0] - timedelta(seconds=1))
    assert deliver_pending(session_factory, sender, clock=clock)["sent"] == 0  # not due yet
    clock.advance(timedelta(seconds=1))
    assert deliver_pending(session_factory, sender, clock=clock)["sent"] == 1

    row = one_row(session_factory)
    assert (row.status, row.attempts, row.last_error) == (EmailStatus.SENT, 2, None)
    assert len(server.messages) == 1


def test_gives_up_after_the_last_attempt(
    session_factory: SessionFactory, clock: FixedClock, server: SmtpServer
) -> None:
    server.refuse("busy@city.chiba.lg.jp", "452 4.2.2 Mailbox full")
    queue(session_factory, clock, "k:1", "busy@city.chiba.lg.jp")
    sender = SmtpSender(mail_settings(server), clock=clock)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        counts = deliver_pending(session_factory, sender, clock=clock)
        assert counts["retrying" if attempt < MAX_ATTEMPTS else "failed"] == 1, attempt
        clock.advance(timedelta(hours=8))
    row = one_row(session_factory)
    assert (row.status, row.attempts) == (EmailStatus.FAILED, MAX_ATTEMPTS)
    assert row.last_error == f"gave up after {MAX_ATTEMPTS} attempts: 452 4.2.2 Mailbox full"


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_connection_refused_stops_the_run_and_a_later_run_delivers(
    session_factory: SessionFactory, clock: FixedClock, server: SmtpServer
) -> None:
    for n in range(3):
        queue(session_factory, clock, f"k:{n}")
    down = SmtpSender(mail_settings(SMTP_HOST="127.0.0.1", SMTP_PORT=str(_unused_port())))

    assert deliver_pending(session_factory, down, clock=clock) == {
        "sent": 0,
        "failed": 0,
        "retrying": 1,
    }
    first, *others = rows(session_factory)
    assert (first.status, first.attempts) == (EmailStatus.PENDING, 1)
    assert first.last_error is not None and "cannot reach 127.0.0.1" in first.last_error
    assert [(r.status, r.attempts, r.last_error) for r in others] == [
        (EmailStatus.PENDING, 0, None)
    ] * 2  # not charged for an outage they never met

    clock.advance(RETRY_DELAYS[0])
    up = SmtpSender(mail_settings(server), clock=clock)
    assert deliver_pending(session_factory, up, clock=clock)["sent"] == 3
    assert [(r.status, r.attempts) for r in rows(session_factory)] == [
        (EmailStatus.SENT, 2),
        (EmailStatus.SENT, 1),
        (EmailStatus.SENT, 1),
    ]


class _ProcessDied(BaseException):
    """Stands in for a kill in the middle of an SMTP conversation."""


class _DyingSender:
    enabled = True

    def connect(self) -> AbstractContextManager[MailConnection]:
        raise _ProcessDied


def test_an_email_claimed_by_a_process_that_died_is_sent_after_the_lease(
    session_factory: SessionFactory, clock: FixedClock, server: SmtpServer
) -> None:
    queue(session_factory, clock, "k:1")
    with pytest.raises(_ProcessDied):
        deliver_pending(session_factory, _DyingSender(), clock=clock)
    sender = SmtpSender(mail_settings(server), clock=clock)
    clock.advance(CLAIM_LEASE - timedelta(seconds=1))
    assert deliver_pending(session_factory, sender, clock=clock)["sent"] == 0  # maybe in flight
    clock.advance(timedelta(seconds=1))
    assert deliver_pending(session_factory, sender, clock=clock)["sent"] == 1
    assert one_row(session_factory).attempts == 2


def test_two_workers_racing_send_each_email_once(
    session_factory: SessionFactory, clock: FixedClock, server: SmtpServer
) -> None:
    total = 30
    for n in range(total):
        queue(session_factory, clock, f"race:{n}", f"member{n}@city.chiba.lg.jp")
    start = threading.Barrier(2)
    results: list[dict[str, int]] = []
    errors: list[BaseException] = []

    def work() -> None:
        sender = SmtpSender(mail_settings(server), clock=clock)
        start.wait()
        try:
            results.append(deliver_pending(session_factory, sender, clock=clock, limit=total))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(results) == 2
    assert sum(r["sent"] for r in results) == total
    recipients = sorted(m.rcpt_tos[0] for m in server.messages)
    assert recipients == sorted(f"member{n}@city.chiba.lg.jp" for n in range(total))
    assert {(r.status, r.attempts) for r in rows(session_factory)} == {(EmailStatus.SENT, 1)}


def test_without_smtp_host_emails_wait_in_the_outbox(
    session_factory: SessionFactory, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    queue(session_factory, clock, "k:1")
    with caplog.at_level(logging.WARNING, logger="bot.services.mail"):
        sender = SmtpSender(mail_settings())
        for _ in range(3):
            assert deliver_pending(session_factory, sender, clock=clock) == {
                "sent": 0,
                "failed": 0,
                "retrying": 0,
            }
    assert not sender.enabled
    said = [r.getMessage() for r in caplog.records if "SMTP_HOST is not set" in r.getMessage()]
    assert len(said) == 1
    row = one_row(session_factory)
    assert (row.status, row.attempts, row.last_error) == (EmailStatus.PENDING, 0, None)


def test_starttls_and_login(session_factory: SessionFactory, clock: FixedClock) -> None:
    with smtp_server(tls=True, credentials=("kyoso", "s3cret")) as server:
        queue(session_factory, clock, "k:1")
        settings = mail_settings(
            server, SMTP_STARTTLS="true", SMTP_USERNAME="kyoso", SMTP_PASSWORD="wrong"
        )
        wrong = SmtpSender(settings, ssl_context=server.client_ssl_context)
        assert deliver_pending(session_factory, wrong, clock=clock)["retrying"] == 1
        error = one_row(session_factory).last_error
        assert error is not None and "refused the login" in error and "wrong" not in error

        clock.advance(RETRY_DELAYS[0])
        settings = mail_settings(
            server, SMTP_STARTTLS="true", SMTP_USERNAME="kyoso", SMTP_PASSWORD="s3cret"
        )
        right = SmtpSender(settings, ssl_context=server.client_ssl_context)
        assert deliver_pending(session_factory, right, clock=clock)["sent"] == 1
        assert server.logins == ["kyoso"] and len(server.messages) == 1


def test_logs_name_the_key_and_domain_but_never_the_address_or_body(
    session_factory: SessionFactory,
    clock: FixedClock,
    server: SmtpServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server.refuse("secret.person@city.chiba.lg.jp", "550 5.1.1 <secret.person@city.chiba.lg.jp>")
    queue(session_factory, clock, "k:1", "secret.person@city.chiba.lg.jp", body="ひみつの本文")
    queue(session_factory, clock, "k:2", "other.person@city.chiba.lg.jp", body="ひみつの本文")
    with caplog.at_level(logging.DEBUG, logger="bot.services.mail"):
        deliver_pending(session_factory, SmtpSender(mail_settings(server)), clock=clock)
    text = "\n".join(
        r.getMessage() for r in caplog.records if r.name.startswith("bot.services.mail")
    )
    assert "k:1" in text and "k:2" in text and "@city.chiba.lg.jp" in text
    assert "secret.person" not in text and "other.person" not in text
    assert "ひみつ" not in text


# --- Worker and job ---------------------------------------------------------------------


class _FlakySender:
    """Fails with an unexpected error once, then sends through the real server."""

    def __init__(self, real: SmtpSender) -> None:
        self._real = real
        self.calls = 0

    @property
    def enabled(self) -> bool:
        return True

    def connect(self) -> AbstractContextManager[MailConnection]:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("boom")
        return self._real.connect()


def test_the_worker_sends_right_after_commit_and_survives_errors(
    session_factory: SessionFactory,
    clock: FixedClock,
    server: SmtpServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sender = _FlakySender(SmtpSender(mail_settings(server), clock=clock))
    # An hour between rounds: only the commit hook can explain a prompt delivery.
    worker = MailWorker(session_factory, sender, clock=clock, interval=3600)
    worker.start()
    try:
        with session_factory.begin() as session:
            queue_email(
                session, clock=clock, key="k:rolled-back", to="a@b.lg.jp", subject="s", body="b"
            )
            session.rollback()
        queue(session_factory, clock, "k:1")
        wait_for(lambda: sender.calls == 1)  # the commit kicked it; the error was logged
        wait_for(lambda: "email delivery failed" in caplog.text)
        clock.advance(RETRY_DELAYS[0])
        worker.kick()
        server.wait_for(1)
        wait_for(lambda: one_row(session_factory).status is EmailStatus.SENT)
    finally:
        worker.stop()
    assert [m.rcpt_tos for m in server.messages] == [("taro.yamada@city.chiba.lg.jp",)]


def test_the_deliver_emails_job(
    session_factory: SessionFactory, clock: FixedClock, server: SmtpServer
) -> None:
    job = find_job("deliver-emails")
    assert job.cron == {"minute": "*/5"}
    queue(session_factory, clock, "k:1")
    bare = JobContext(session_factory=session_factory, clock=clock)
    assert "skipped" in job.run(bare)
    context = JobContext(
        session_factory=session_factory,
        clock=clock,
        mail_sender=SmtpSender(mail_settings(server), clock=clock),
    )
    assert job.run(context) == {"sent": 1, "failed": 0, "retrying": 0}
    assert len(server.messages) == 1


def test_the_running_app_delivers_mail_queued_by_a_listener_transaction(
    emulator: SlackEmulator,
    database_url: str,
    session_factory: SessionFactory,
    clock: FixedClock,
    server: SmtpServer,
) -> None:
    settings = make_settings(
        emulator.api_url,
        database_url,
        SMTP_HOST=server.host,
        SMTP_PORT=str(server.port),
        SMTP_STARTTLS="false",
        KYOSO_MAIL_FROM="kyoso@example.lg.jp",
    )
    with serve_kyoso(settings, session_factory=session_factory, clock=clock) as running:
        assert running.kyoso.deps.mail.sender.enabled
        queue(session_factory, clock, "k:app")
        (received,) = server.wait_for(1)
    assert received.message["Subject"] == SUBJECT


# --- Application emails -----------------------------------------------------------------

COMMON: dict[str, Any] = {"name": "山田 太郎", "public_id": "a1b2c3d4e5f60718"}


@pytest.mark.parametrize("language", ["ja", "en"])
def test_every_application_email_is_japanese_first_then_english(language: Any) -> None:
    kind = ApplicationEmailKind
    composed = [
        application_email(kind.RECEIVED, **COMMON, organisation_name="千葉市", language=language),
        application_email(
            kind.APPROVED,
            **COMMON,
            organisation_name="千葉市",
            language=language,
            invited_by_slack=True,
        ),
        application_email(
            kind.APPROVED,
            **COMMON,
            organisation_name=None,
            language=language,
            invited_by_slack=False,
        ),
        application_email(
            kind.REJECTED,
            **COMMON,
            organisation_name="千葉市",
            text="所属を確認できませんでした。",
            language=language,
        ),
        application_email(
            kind.INFO_REQUESTED,
            **COMMON,
            organisation_name=None,
            text="部署名を教えてください。",
            language=language,
        ),
    ]
    for subject, body in composed:
        japanese_subject, english_subject = subject.split(" / ")
        assert japanese_subject.startswith("【共創プラットフォーム】")
        assert english_subject.startswith("Co-creation Platform: ")
        lead, _, rest = body.partition("山田 太郎 様")
        assert lead.strip() == (
            "(English follows the Japanese text below.)" if language == "en" else ""
        )
        japanese, english = rest.split(SEPARATOR)
        assert "事務局" in japanese and "ます。" in japanese and "Dear 山田 太郎," in english
        assert "Kind regards,\nThe Co-creation Platform secretariat" in english
        assert "a1b2c3d4e5f60718" in japanese and "a1b2c3d4e5f60718" in english
        assert "\n-- \n" not in body  # would hide the rest as a signature


def test_application_email_details(clock: FixedClock) -> None:
    kind = ApplicationEmailKind
    at_once = application_email(
        kind.APPROVED, **COMMON, organisation_name="千葉市", language="ja", invited_by_slack=True
    )
    later = application_email(
        kind.APPROVED, **COMMON, organisation_name=None, language="ja", invited_by_slack=False
    )
    assert "所属: 千葉市" in at_once.body and "Organisation: 千葉市" in at_once.body
    assert "所属:" not in later.body and "Organisation:" not in later.body
    assert "Slack から招待メールが別途届きます" in at_once.body
    assert "1〜3日以内" in later.body and "Within 1 to 3 days" in later.body

    reason = "所属を確認できませんでした。\r\n組織のアドレスで再度お申し込みください。"
    rejected = application_email(
        kind.REJECTED, **COMMON, organisation_name=None, text=reason, language="ja"
    )
    japanese, english = rejected.body.split(SEPARATOR)
    for part in (japanese, english):
        assert "  所属を確認できませんでした。\n  組織のアドレスで再度お申し込みください。" in part
    asked = application_email(
        kind.INFO_REQUESTED, **COMMON, organisation_name=None, text="部署名は？", language="en"
    )
    assert "このメールにご返信" in asked.body and "replying to this email" in asked.body

    with pytest.raises(ValueError):
        queue_application_email(
            None,  # type: ignore[arg-type]  (refused before the session is used)
            clock=clock,
            application=application(),
            kind=ApplicationEmailKind.REJECTED,
            reason="  ",
        )


def test_queue_email_refuses_header_injection(
    session_factory: SessionFactory, clock: FixedClock
) -> None:
    with session_factory.begin() as session:
        for to, subject in [
            ("a@b.lg.jp\r\nBcc: x@y.jp", "s"),
            ("a@b.lg.jp", "s\nBcc: x@y.jp"),
            ("not-an-address", "s"),
        ]:
            with pytest.raises(ValueError):
                queue_email(session, clock=clock, key="k", to=to, subject=subject, body="b")
    assert rows(session_factory) == []


def test_delivered_emails_are_pruned_after_the_retention_period(
    session_factory: SessionFactory, clock: FixedClock
) -> None:
    with session_factory.begin() as session:
        for key in ("old-sent", "old-pending", "recent-sent"):
            queue_email(session, clock=clock, key=key, to="a@example.lg.jp", subject="s", body="b")
    with session_factory.begin() as session:
        rows = {row.key: row for row in session.scalars(select(Row))}
        rows["old-sent"].status = rows["recent-sent"].status = EmailStatus.SENT
        rows["recent-sent"].created_at = clock.now() + timedelta(days=20)
    clock.advance(OUTBOX_RETENTION + timedelta(days=1))
    with session_factory.begin() as session:
        assert prune_outbox(session, clock=clock) == 1
    with session_factory() as session:
        left = sorted(session.scalars(select(Row.key)))
    assert left == ["old-pending", "recent-sent"]  # a pending email is never pruned
