"""Account lifecycle with a fixed clock: one member through every state, and every way out.

active → (sweep) contacting → DM (inactive) → email → flagged → approved → deactivated, then
personal data reduced after the retention period; the escape paths: activity (with a thank-you),
the keep button, an exemption, a role; a bounced email; do-not-disturb and business hours; the
users.list sync, the last-login import and the deactivation powers of each token.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr
from slack_sdk import WebClient
from sqlalchemy import func, select, update

from bot.cli import main as kyoso_cli
from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.decided import AlreadyDecided
from bot.domain.lifecycle import (
    ContactTerms,
    EndReason,
    FlaggedMember,
    KeepAnswer,
    ListTerms,
    Overview,
)
from bot.gateway import build_gateway
from bot.i18n import LANGUAGES
from bot.services import members
from bot.services.activity import ActivityRecorder
from bot.services.lifecycle import answers, contacts, decisions, overview
from bot.services.lifecycle.contact_email import contact_email
from bot.services.lifecycle.deactivation import Deactivation, approve_and_deactivate
from bot.services.lifecycle.policy import Policy, cycle_id_of, in_contact_hours
from bot.services.lifecycle.rounds import UnknownCycle
from bot.services.lifecycle.sweep import daily_sweep
from bot.services.mail.delivery import deliver_pending
from bot.services.mail.smtp import SmtpSender
from bot.settings import Settings
from bot.slack.lifecycle import LifecycleSlack, runs
from bot.slack.lifecycle.pacing import TokenBucket, bulk_per_minute
from bot.slack_errors import classify
from bot.views import lifecycle as views
from bot.views.blocks import to_dicts
from models import (
    AttemptStatus,
    AuditEntry,
    ChannelFacilitator,
    ContactAttempt,
    CycleStatus,
    InactivityCycle,
    Member,
    MemberStatus,
    Role,
)
from models.channel import Channel, ChannelCategory, ChannelStatus
from scheduler import lifecycle_jobs
from scheduler.jobs import JobContext
from tests.conftest import DEFAULT_NOW
from tests.support.kyoso_server import make_settings
from tests.support.slack_emulator import SlackEmulator
from tests.support.smtp_server import SmtpServer, smtp_server

JST = ZoneInfo("Asia/Tokyo")
HANAKO, HANAKO_EMAIL = "U0HANAKO", "hanako@city.sapporo.lg.jp"
SECRETARY = "U0SEC"
LONG_AGO = DEFAULT_NOW - timedelta(days=400)


@pytest.fixture
def mailbox() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def settings(emulator: SlackEmulator, database_url: str, mailbox: SmtpServer) -> Settings:
    return make_settings(
        emulator.api_url,
        database_url,
        SMTP_HOST=mailbox.host,
        SMTP_PORT=str(mailbox.port),
        SMTP_STARTTLS="false",
        KYOSO_MAIL_FROM="kyoso@example.lg.jp",
        KYOSO_CONTACTS_PER_MINUTE="6000",
    )


@pytest.fixture
def client(emulator: SlackEmulator) -> WebClient:
    return WebClient(token="xoxb-test", base_url=emulator.api_url)


def add_member(
    session_factory: SessionFactory,
    emulator: SlackEmulator,
    user_id: str,
    *,
    email: str | None = None,
    last_seen: datetime | None = LONG_AGO,
    role: Role | None = None,
    exempt: bool = False,
) -> None:
    emulator.add_user(user_id, name=user_id.lower(), email=email, locale="ja-JP")
    clock = FixedClock(LONG_AGO)
    with session_factory.begin() as session:
        member = members.ensure_member(session, clock=clock, slack_user_id=user_id)
        member.email = email
        member.email_normalized = email
        member.real_name = f"職員 {user_id[3:]}"
        member.last_seen_at = last_seen
        member.inactivity_exempt = exempt
        if role is not None:
            members.grant_role(session, clock=clock, slack_user_id=user_id, role=role, actor="cli")


def cycle_of(session_factory: SessionFactory, user_id: str) -> InactivityCycle | None:
    with session_factory() as session:
        return session.scalar(
            select(InactivityCycle)
            .join(Member, Member.id == InactivityCycle.member_id)
            .where(Member.slack_user_id == user_id)
            .order_by(InactivityCycle.id.desc())
            .limit(1)
        )


def status_of(session_factory: SessionFactory, user_id: str) -> MemberStatus:
    with session_factory() as session:
        status = session.scalar(select(Member.status).where(Member.slack_user_id == user_id))
        assert status is not None
        return status


def attempts(session_factory: SessionFactory, user_id: str) -> dict[int, ContactAttempt]:
    cycle = cycle_of(session_factory, user_id)
    assert cycle is not None
    with session_factory() as session:
        rows = session.scalars(select(ContactAttempt).where(ContactAttempt.cycle_id == cycle.id))
        return {row.number: row for row in rows}


def sweep(session_factory: SessionFactory, clock: FixedClock, settings: Settings) -> dict[str, Any]:
    """The sweep job where Kyoso has no Slack client: the database work alone."""
    context = JobContext(session_factory=session_factory, clock=clock, settings=settings)
    return lifecycle_jobs.sweep(context)


def lifecycle_slack(
    session_factory: SessionFactory,
    clock: FixedClock,
    client: WebClient,
    settings: Settings,
    *,
    admin_token: str | None = None,
    scim_url: str | None = None,
) -> LifecycleSlack:
    """The lifecycle's adapters as the gateway builds them, with an admin token if given."""
    admin_client = None
    if admin_token is not None:
        settings = settings.model_copy(
            update={
                "slack_admin_user_token": SecretStr(admin_token),
                "slack_scim_url": scim_url or settings.slack_scim_url,
            }
        )
        admin_client = WebClient(token=admin_token, base_url=settings.slack_api_url)
    gateway = build_gateway(
        settings,
        client=client,
        admin_client=admin_client,
        session_factory=session_factory,
        clock=clock,
    )
    return gateway.lifecycle


def contact(
    session_factory: SessionFactory, clock: FixedClock, client: WebClient, settings: Settings
) -> dict[str, Any]:
    slack = lifecycle_slack(session_factory, clock, client, settings)
    return runs.send_contacts(slack, bucket=TokenBucket(60_000, burst=100))


def deliver(
    session_factory: SessionFactory, clock: FixedClock, settings: Settings
) -> dict[str, int]:
    return deliver_pending(session_factory, SmtpSender(settings, clock=clock), clock=clock)


def lifecycle_dms(emulator: SlackEmulator, user_id: str) -> list[dict[str, Any]]:
    return [
        m
        for m in emulator.dm_messages(user_id)
        if any(
            str(b.get("block_id", "")).startswith("lifecycle_contact:")
            for b in m.get("blocks") or []
        )
    ]


def keep_value(message: dict[str, Any]) -> str:
    for block in message["blocks"]:
        for element in block.get("elements") or []:
            if element.get("action_id") == "lifecycle_keep":
                return str(element["value"])
    raise AssertionError("no keep button")


def audit_actions(session_factory: SessionFactory, user_id: str) -> list[str]:
    with session_factory() as session:
        return list(
            session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.target_id == user_id)
                .order_by(AuditEntry.id)
            )
        )


# --- the whole walk ----------------------------------------------------------------------


def test_one_member_through_every_state(
    emulator: SlackEmulator,
    mailbox: SmtpServer,
    settings: Settings,
    client: WebClient,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    add_member(session_factory, emulator, HANAKO, email=HANAKO_EMAIL)
    add_member(session_factory, emulator, "U0ACTIVE", last_seen=DEFAULT_NOW - timedelta(days=3))
    emulator.add_user("U0ADMIN", name="admin", is_admin=True)
    emulator.add_token("xoxp-admin", scopes=["admin"], user_id="U0ADMIN", paid=True)
    assert status_of(session_factory, HANAKO) is MemberStatus.ACTIVE

    # Day 0, Tuesday 10:00 JST: the sweep stages her round; the DM goes out.
    assert sweep(session_factory, clock, settings)["started"] == 1
    assert cycle_of(session_factory, "U0ACTIVE") is None
    assert cycle_of(session_factory, HANAKO).status is CycleStatus.CONTACTING  # type: ignore[union-attr]
    result = contact(session_factory, clock, client, settings)
    assert result["dms"] == 1 and result["stopped"] == "done"
    assert status_of(session_factory, HANAKO) is MemberStatus.INACTIVE
    [dm] = lifecycle_dms(emulator, HANAKO)
    text = json.dumps(dm["blocks"], ensure_ascii=False)
    assert "アカウントを残す" in text and "180日以上" in text and "利用規約" in text
    assert [c.params.get("user") for c in emulator.calls_to("dnd.info")] == [HANAKO]
    first = attempts(session_factory, HANAKO)
    assert first[1].status is AttemptStatus.SENT and first[1].key.endswith(":1")
    assert first[2].status is AttemptStatus.PLANNED and first[2].channel == "email"
    assert first[2].due_at == DEFAULT_NOW + timedelta(days=14)
    # A second run the same day sends nothing again.
    assert contact(session_factory, clock, client, settings)["dms"] == 0

    # Day 14: no answer, so the email goes to her registered address.
    clock.advance(timedelta(days=14))
    assert contact(session_factory, clock, client, settings)["emails"] == 1
    assert deliver(session_factory, clock, settings)["sent"] == 1
    [mail] = mailbox.wait_for(1)
    assert mail.rcpt_tos == (HANAKO_EMAIL,)
    assert "アカウント継続のご確認" in mail.message["Subject"]
    assert "Keep my account" in mail.message.get_content()
    clock.advance(timedelta(hours=1))
    assert sweep(session_factory, clock, settings)["emails_sent"] == 1
    assert attempts(session_factory, HANAKO)[2].status is AttemptStatus.SENT

    # 30 days after the email, still nothing: flagged for the secretariat.
    clock.advance(timedelta(days=29))
    assert sweep(session_factory, clock, settings)["flagged"] == 0  # not yet
    clock.advance(timedelta(days=1))
    assert sweep(session_factory, clock, settings)["flagged"] == 1
    assert status_of(session_factory, HANAKO) is MemberStatus.FLAGGED
    with session_factory() as session:
        [flagged] = overview.flagged_members(session)
    assert flagged.slack_user_id == HANAKO and not flagged.email_failed

    # Approved: SCIM (Business+ admin token) deactivates the account in Slack.
    admin = lifecycle_slack(
        session_factory,
        clock,
        client,
        settings,
        admin_token="xoxp-admin",
        scim_url=emulator.base_url + "/scim/v2/",
    )
    outcome = approve_and_deactivate(
        session_factory=session_factory,
        clock=clock,
        deactivator=admin.deactivators.start(),
        cycle_ids=[flagged.cycle_id],
        actor=SECRETARY,
    )
    assert outcome.deactivated == {EndReason.DEACTIVATED_SCIM: [HANAKO]}
    assert ("DELETE", f"Users/{HANAKO}") in emulator.scim_calls
    assert emulator.user(HANAKO)["deleted"] is True  # type: ignore[index]
    assert cycle_of(session_factory, HANAKO).status is CycleStatus.DEACTIVATED  # type: ignore[union-attr]
    assert status_of(session_factory, HANAKO) is MemberStatus.DEACTIVATED
    # Approving the same batch again changes nothing.
    again = approve_and_deactivate(
        session_factory=session_factory,
        clock=clock,
        deactivator=admin.deactivators.start(),
        cycle_ids=[flagged.cycle_id],
        actor=SECRETARY,
    )
    assert again.approved == []

    # After the retention period only what the audit needs is left; the audit stays whole.
    clock.advance(timedelta(days=365))
    retention = JobContext(session_factory=session_factory, clock=clock, settings=settings)
    assert lifecycle_jobs.retention(retention)["reduced"] == 1
    with session_factory() as session:
        member = members.find(session, HANAKO)
        assert member is not None
        assert (member.email, member.email_normalized, member.real_name) == (None, None, None)
        assert member.personal_data_reduced_at == clock.now()
        assert member.deactivated_at is not None and member.slack_user_id == HANAKO
    assert audit_actions(session_factory, HANAKO)[-2:] == [
        "lifecycle.approved",
        "member.deactivated",
    ]


# --- the ways out ---------------------------------------------------------------------------


def test_activity_ends_the_round_and_the_member_is_thanked(
    emulator: SlackEmulator,
    settings: Settings,
    client: WebClient,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    add_member(session_factory, emulator, HANAKO, email=HANAKO_EMAIL)
    sweep(session_factory, clock, settings)
    contact(session_factory, clock, client, settings)
    # She reacts to a message three days later (recorded by the activity listener).
    clock.advance(timedelta(days=3))
    recorder = ActivityRecorder(session_factory)
    recorder.seen(HANAKO, clock.now())
    recorder.flush()
    result = contact(session_factory, clock, client, settings)
    assert result["thanks"] == 1 and result["emails"] == 0
    cycle = cycle_of(session_factory, HANAKO)
    assert cycle is not None
    assert (cycle.status, cycle.end_reason) == (CycleStatus.ANSWERED, "activity")
    assert status_of(session_factory, HANAKO) is MemberStatus.ACTIVE
    dms = lifecycle_dms(emulator, HANAKO)
    assert len(dms) == 2 and "ご対応ありがとうございました" in dms[1]["text"]
    # The planned email was dropped; nothing more goes out, and the next sweep leaves her be.
    assert set(attempts(session_factory, HANAKO)) == {0, 1}
    clock.advance(timedelta(days=20))
    assert sweep(session_factory, clock, settings)["started"] == 0
    assert contact(session_factory, clock, client, settings)["dms"] == 0
    # 180 days after that activity, a new round begins.
    clock.advance(timedelta(days=161))
    assert sweep(session_factory, clock, settings)["started"] == 1


def test_activity_before_the_dm_ends_the_round_quietly(
    emulator: SlackEmulator,
    settings: Settings,
    client: WebClient,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    add_member(session_factory, emulator, HANAKO, email=HANAKO_EMAIL)
    sweep(session_factory, clock, settings)
    with session_factory.begin() as session:
        session.execute(
            update(Member).where(Member.slack_user_id == HANAKO).values(last_seen_at=clock.now())
        )
    result = contact(session_factory, clock, client, settings)
    assert (result["dms"], result["thanks"]) == (0, 0)  # never contacted: nothing to thank
    assert emulator.calls_to("chat.postMessage") == []
    assert cycle_of(session_factory, HANAKO).end_reason == "activity"  # type: ignore[union-attr]


def test_keep_ends_the_round_once(
    emulator: SlackEmulator,
    settings: Settings,
    client: WebClient,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    add_member(session_factory, emulator, HANAKO, email=HANAKO_EMAIL)
    add_member(session_factory, emulator, "U0OTHER")
    sweep(session_factory, clock, settings)
    contact(session_factory, clock, client, settings)
    key = keep_value(lifecycle_dms(emulator, HANAKO)[0])
    cycle_id = cycle_id_of(key)
    with session_factory.begin() as session, pytest.raises(UnknownCycle):
        answers.keep(session, clock=clock, cycle_id=cycle_id, slack_user_id="U0OTHER")
    with session_factory.begin() as session:
        kept = answers.keep(session, clock=clock, cycle_id=cycle_id, slack_user_id=HANAKO)
    assert kept.ended and kept.status is CycleStatus.ANSWERED
    with session_factory.begin() as session:
        twice = answers.keep(session, clock=clock, cycle_id=cycle_id, slack_user_id=HANAKO)
    assert not twice.ended
    assert status_of(session_factory, HANAKO) is MemberStatus.ACTIVE
    assert audit_actions(session_factory, HANAKO).count("lifecycle.kept") == 1
    clock.advance(timedelta(days=14))
    assert contact(session_factory, clock, client, settings)["emails"] == 0  # dropped


def test_a_bounced_email_is_recorded_and_the_round_still_ends_in_a_flag(
    emulator: SlackEmulator,
    mailbox: SmtpServer,
    settings: Settings,
    client: WebClient,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    add_member(session_factory, emulator, HANAKO, email=HANAKO_EMAIL)
    add_member(session_factory, emulator, "U0NOMAIL", email=None)
    mailbox.refuse(HANAKO_EMAIL, "550 5.1.1 No such user")
    sweep(session_factory, clock, settings)
    contact(session_factory, clock, client, settings)
    clock.advance(timedelta(days=14))
    result = contact(session_factory, clock, client, settings)
    assert (result["emails"], result["failed"]) == (1, 1)  # no address on record: failed too
    assert deliver(session_factory, clock, settings)["failed"] == 1
    assert sweep(session_factory, clock, settings)["emails_failed"] == 1
    email = attempts(session_factory, HANAKO)[2]
    assert email.status is AttemptStatus.FAILED and "550" in (email.error or "")
    assert attempts(session_factory, "U0NOMAIL")[2].error == "no email address on record"
    clock.advance(timedelta(days=30))
    assert sweep(session_factory, clock, settings)["flagged"] == 2
    with session_factory() as session:
        flagged = {m.slack_user_id: m for m in overview.flagged_members(session)}
    assert flagged[HANAKO].email_failed and flagged["U0NOMAIL"].email_failed
    blocks = views.flagged_list_blocks(
        list(flagged.values()),
        "ja",
        total=2,
        approved_waiting=0,
        terms=ListTerms(inactive_days=180, grace_days=30),
    )
    assert "メールが届きませんでした" in json.dumps(to_dicts(blocks), ensure_ascii=False)


def test_secretariat_facilitators_bots_and_the_exempt_are_never_contacted(
    emulator: SlackEmulator,
    settings: Settings,
    client: WebClient,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    add_member(session_factory, emulator, SECRETARY, role=Role.SECRETARIAT)
    add_member(session_factory, emulator, "U0FAC", role=Role.FACILITATOR)
    add_member(session_factory, emulator, "U0CHFAC")
    add_member(session_factory, emulator, "U0EXEMPT", exempt=True)
    add_member(session_factory, emulator, HANAKO)
    with session_factory.begin() as session:
        bot = members.ensure_member(session, clock=clock, slack_user_id="U0ABOT")
        bot.is_bot, bot.created_at = True, LONG_AGO
        channel = Channel(
            slack_channel_id="C0PJ",
            name="デジ_pj_自治体dx",
            category=ChannelCategory.PJ,
            status=ChannelStatus.ACTIVE,
            created_at=LONG_AGO,
            updated_at=LONG_AGO,
        )
        session.add(channel)
        session.flush()
        fac = members.find(session, "U0CHFAC")
        assert fac is not None
        session.add(ChannelFacilitator(channel_id=channel.id, member_id=fac.id, added_at=LONG_AGO))
    assert sweep(session_factory, clock, settings)["started"] == 1
    assert [
        user
        for user in (SECRETARY, "U0FAC", "U0CHFAC", "U0EXEMPT", "U0ABOT", HANAKO)
        if cycle_of(session_factory, user) is not None
    ] == [HANAKO]

    # Exempting her mid-round (kyoso members exempt) ends it at once; so does a role.
    assert kyoso_cli_in(settings, clock, "members", "exempt", HANAKO, "--reason", "育児休業中") == 0
    cycle = cycle_of(session_factory, HANAKO)
    assert (cycle.status, cycle.end_reason) == (CycleStatus.RESTORED, "exempt")  # type: ignore[union-attr]
    assert contact(session_factory, clock, client, settings)["dms"] == 0
    assert "member.inactivity_exempted" in audit_actions(session_factory, HANAKO)
    assert kyoso_cli_in(settings, clock, "members", "unexempt", HANAKO) == 0
    clock.advance(timedelta(days=181))
    assert sweep(session_factory, clock, settings)["started"] >= 1
    with session_factory.begin() as session:
        members.grant_role(
            session, clock=clock, slack_user_id=HANAKO, role=Role.FACILITATOR, actor="cli"
        )
    assert sweep(session_factory, clock, settings)["ended_exempt"] == 1


def kyoso_cli_in(settings: Settings, clock: FixedClock, *argv: str) -> int:
    """The CLI against the test database (it reads DATABASE_URL from the environment), at the
    test's time."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", settings.database_url)
        return kyoso_cli(list(argv), clock=clock)


def test_restore_takes_a_member_off_the_flag_list(
    emulator: SlackEmulator,
    settings: Settings,
    client: WebClient,
    session_factory: SessionFactory,
    clock: FixedClock,
    tmp_path: Path,
) -> None:
    for user in ("U0A", "U0B"):
        add_member(session_factory, emulator, user, email=f"{user.lower()}@city.example.lg.jp")
    sweep(session_factory, clock, settings)
    contact(session_factory, clock, client, settings)
    clock.advance(timedelta(days=14))
    contact(session_factory, clock, client, settings)
    deliver(session_factory, clock, settings)
    clock.advance(timedelta(days=31))
    assert sweep(session_factory, clock, settings)["flagged"] == 2
    with session_factory() as session:
        batch = overview.flagged_members(session)
    by_user = {m.slack_user_id: m.cycle_id for m in batch}
    with session_factory.begin() as session:
        restored = decisions.restore(session, clock=clock, cycle_id=by_user["U0A"], actor=SECRETARY)
    assert restored.slack_user_id == "U0A"
    assert status_of(session_factory, "U0A") is MemberStatus.ACTIVE
    with session_factory.begin() as session, pytest.raises(AlreadyDecided):
        decisions.restore(session, clock=clock, cycle_id=by_user["U0A"], actor=SECRETARY)
    # Without an admin token, approval leaves a to-do list, also as CSV for Excel.
    slack = lifecycle_slack(session_factory, clock, client, settings)
    outcome = approve_and_deactivate(
        session_factory=session_factory,
        clock=clock,
        deactivator=slack.deactivators.start(),
        cycle_ids=list(by_user.values()),
        actor=SECRETARY,
    )
    assert [d.slack_user_id for d in outcome.approved] == ["U0B"] and outcome.to_do == ["U0B"]
    out = tmp_path / "todo.csv"
    assert kyoso_cli_in(settings, clock, "lifecycle", "flagged", "--out", str(out)) == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [(r["slack_user_id"], r["state"], r["approved_by"]) for r in rows] == [
        ("U0B", "approved", SECRETARY)
    ]
    # The secretariat deactivates U0B by hand; the next users.list sync notices.
    emulator.update_user("U0B", deleted=True)
    synced = slack.directory.sync_users(bucket=TokenBucket(60_000))
    assert synced.deactivated == 1
    assert cycle_of(session_factory, "U0B").end_reason == "deactivated_in_slack"  # type: ignore[union-attr]
    # Restored, U0A is left alone until 180 days after the restore.
    clock.advance(timedelta(days=179))
    assert sweep(session_factory, clock, settings)["started"] == 0
    clock.advance(timedelta(days=2))
    assert sweep(session_factory, clock, settings)["started"] == 1


def test_do_not_disturb_postpones_and_hours_are_respected(
    emulator: SlackEmulator,
    settings: Settings,
    client: WebClient,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    add_member(session_factory, emulator, HANAKO, email=HANAKO_EMAIL)
    add_member(session_factory, emulator, "U0SNOOZE")
    now = clock.now().timestamp()
    emulator.set_dnd(
        HANAKO, dnd_enabled=True, next_dnd_start_ts=now - 60, next_dnd_end_ts=now + 3600
    )
    emulator.set_dnd("U0SNOOZE", snooze_enabled=True, snooze_endtime=now + 1800)
    sweep(session_factory, clock, settings)
    result = contact(session_factory, clock, client, settings)
    assert (result["dms"], result["deferred"]) == (0, 2)
    assert attempts(session_factory, HANAKO)[1].due_at == clock.now() + timedelta(hours=1)
    clock.advance(timedelta(minutes=31))
    assert contact(session_factory, clock, client, settings)["dms"] == 1  # snooze is over
    clock.advance(timedelta(minutes=30))
    assert contact(session_factory, clock, client, settings)["dms"] == 1
    # Saturday, or a weekday evening: nothing goes out.
    for at in (
        datetime(2026, 11, 28, 10, 0, tzinfo=JST),
        datetime(2026, 11, 25, 18, 0, tzinfo=JST),
    ):
        clock.set(at)
        assert contact(session_factory, clock, client, settings)["stopped"] == "hours"
    assert in_contact_hours(datetime(2026, 11, 25, 9, 0, tzinfo=JST), JST)
    assert not in_contact_hours(datetime(2026, 11, 23, 10, 0, tzinfo=JST), JST)  # 勤労感謝の日
    assert not in_contact_hours(datetime(2026, 12, 29, 10, 0, tzinfo=JST), JST)  # 年末年始


def test_a_dm_slack_refuses_fails_and_the_email_follows_at_once(
    emulator: SlackEmulator,
    settings: Settings,
    client: WebClient,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    add_member(session_factory, emulator, HANAKO, email=HANAKO_EMAIL)
    sweep(session_factory, clock, settings)
    emulator.fail("chat.postMessage", "cannot_dm_bot")
    result = contact(session_factory, clock, client, settings)
    assert (result["dms"], result["failed"], result["emails"]) == (0, 1, 1)
    assert attempts(session_factory, HANAKO)[1].error == "cannot_dm_bot"


# --- Slack in bulk ---------------------------------------------------------------------------


def test_users_sync_pages_through_and_records_what_changed(
    emulator: SlackEmulator,
    settings: Settings,
    client: WebClient,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    for n in range(450):
        emulator.add_user(f"U0N{n:04d}", name=f"n{n}", email=f"n{n}@town.example.lg.jp")
    emulator.add_user("U0GONE", name="gone", deleted=True)  # never a member Kyoso knew
    add_member(session_factory, emulator, "U0LEFT", email="left@city.example.lg.jp")
    emulator.update_user("U0LEFT", deleted=True)
    seen: list[int] = []
    directory = lifecycle_slack(session_factory, clock, client, settings).directory
    result = directory.sync_users(
        bucket=TokenBucket(60_000),
        progress=lambda done, total: seen.append(done),
    )
    assert result.pages == 3 and result.added == 452  # 450, Slackbot and the bot user
    assert result.deactivated == 1 and seen[-1] == result.seen
    calls = emulator.calls_to("users.list")
    assert [c.params.get("limit") for c in calls] == ["200"] * 3
    with session_factory() as session:
        assert members.find(session, "U0GONE") is None
        bot = members.find(session, emulator.bot_user_id)
        assert bot is not None and bot.is_bot
        member = members.find(session, "U0N0007")
        assert member is not None and member.email_normalized == "n7@town.example.lg.jp"
    assert status_of(session_factory, "U0LEFT") is MemberStatus.DEACTIVATED
    # Reactivated in Slack: active again.
    emulator.update_user("U0LEFT", deleted=False)
    again = directory.sync_users(bucket=TokenBucket(60_000))
    assert (again.added, again.reactivated) == (0, 1)


def test_users_list_is_paced_at_tier_2_by_default() -> None:
    sleeps: list[float] = []
    fake_now = [0.0]

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        fake_now[0] += seconds

    bucket = TokenBucket(bulk_per_minute("users.list"), monotonic=lambda: fake_now[0], sleep=sleep)
    for _ in range(5):
        bucket.take()
    assert sleeps and all(abs(s - 60 / 16) < 1e-6 for s in sleeps)  # 80 % of Tier 2
    bucket.hold(30)
    bucket.take()
    assert sleeps[-1] >= 30  # Retry-After comes first


def test_last_logins_are_imported_on_a_paid_plan_and_skipped_quietly_otherwise(
    emulator: SlackEmulator,
    settings: Settings,
    client: WebClient,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    add_member(session_factory, emulator, HANAKO)
    add_member(session_factory, emulator, "U0OLD")
    login = DEFAULT_NOW - timedelta(days=2)
    emulator.set_access_log(HANAKO, login.timestamp())
    emulator.add_token("xoxp-free", scopes=["admin"], user_id="U0HANAKO")
    free = lifecycle_slack(
        session_factory, clock, client, settings, admin_token="xoxp-free"
    ).directory.import_access_logs(bucket=TokenBucket(60_000))
    assert free.skipped == "paid_only" and free.updated == 0
    emulator.add_token("xoxp-paid", scopes=["admin"], user_id="U0HANAKO", paid=True)
    paid = lifecycle_slack(
        session_factory, clock, client, settings, admin_token="xoxp-paid"
    ).directory.import_access_logs(bucket=TokenBucket(60_000))
    assert paid.updated == 1 and paid.skipped is None
    with session_factory() as session:
        member = members.find(session, HANAKO)
        assert member is not None and member.last_login_at == login.replace(microsecond=0)
    # A recent login keeps her out of the sweep even though the bot never saw her post.
    policy = Policy()
    with session_factory.begin() as session:
        assert daily_sweep(session, clock=clock, policy=policy).started == 1  # U0OLD only
    assert cycle_of(session_factory, HANAKO) is None


def test_deactivation_through_the_enterprise_admin_api(
    emulator: SlackEmulator,
    settings: Settings,
    client: WebClient,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    emulator.add_user(HANAKO, name="hanako")
    emulator.add_user("U0ADMIN", name="admin", is_admin=True)
    emulator.add_token("xoxp-org", scopes=["admin.users:write"], user_id="U0ADMIN", enterprise=True)
    scim_url = emulator.base_url + "/scim/v2/"  # not paid: SCIM answers 403
    deactivator = lifecycle_slack(
        session_factory, clock, client, settings, admin_token="xoxp-org", scim_url=scim_url
    ).deactivators.start()
    result = deactivator.deactivate(HANAKO)
    assert result.via is EndReason.DEACTIVATED_ADMIN_API
    assert emulator.removed_users() == [HANAKO]
    free = lifecycle_slack(
        session_factory, clock, client, settings, admin_token="xoxp-free", scim_url=scim_url
    ).deactivators.start()
    emulator.add_token("xoxp-free", scopes=["admin"], user_id="U0ADMIN")
    assert free.deactivate(HANAKO) == Deactivation(None)  # a to-do, no error


# --- pieces ------------------------------------------------------------------------------------


def test_every_view_renders_in_both_languages() -> None:
    at = datetime(2026, 5, 1, 3, 0, tzinfo=UTC)
    member = FlaggedMember(
        cycle_id=7,
        slack_user_id=HANAKO,
        name="山田 <花子>",
        email=HANAKO_EMAIL,
        organisation="北海道 札幌市（011002）",
        department=None,
        status=CycleStatus.FLAGGED,
        last_active=None,
        started_at=at,
        flagged_at=at,
        decided_by=None,
        decided_at=None,
        dm_failed=True,
        email_failed=False,
    )
    counts = Overview(contacting=3, flagged=25, approved=2, exempt=4)
    terms = ContactTerms(inactive_days=180, email_after_days=14, grace_days=30)
    for language in LANGUAGES:
        dm = to_dicts(views.contact_dm_blocks("7:1", language, terms=terms, last_active=at))
        assert dm[0]["block_id"] == "lifecycle_contact:7:1"
        to_dicts(views.thanks_dm_blocks("7:thanks", language))
        to_dicts(views.kept_blocks(KeepAnswer.ALREADY, language))
        summary = to_dicts(
            views.weekly_summary_blocks(
                counts,
                [member] * 20,
                language,
                terms=ListTerms(inactive_days=180, grace_days=30),
            )
        )
        assert len(summary) <= 50
        assert "&lt;花子&gt;" in json.dumps(summary, ensure_ascii=False)
        email = contact_email(name="山田 花子", terms=terms, language=language)
        assert email.body.index("共創プラットフォーム事務局です") < email.body.index("secretariat")


def test_retry_after_reads_slacks_answer() -> None:
    from slack_sdk.errors import SlackApiError
    from slack_sdk.web import SlackResponse

    def error(status: int, headers: dict[str, Any], body: dict[str, Any]) -> SlackApiError:
        response = SlackResponse(
            client=None,
            http_verb="POST",
            api_url="x",
            req_args={},
            data=body,
            headers=headers,
            status_code=status,
        )
        return SlackApiError("x", response)

    def retry_after(exc: SlackApiError) -> float | None:
        return classify(exc).retry_after

    assert retry_after(error(429, {"Retry-After": "7"}, {"ok": False, "error": "ratelimited"})) == 7
    assert retry_after(error(429, {"retry-after": ["3"]}, {"ok": False})) == 3
    assert retry_after(error(200, {}, {"ok": False, "error": "channel_not_found"})) is None


def test_the_sweep_counts_match_the_rows_on_both_databases(
    session_factory: SessionFactory, clock: FixedClock
) -> None:
    with session_factory.begin() as session:
        for n in range(30):
            member = members.ensure_member(session, clock=clock, slack_user_id=f"U0M{n:03d}")
            member.created_at = LONG_AGO
            member.last_seen_at = LONG_AGO if n % 3 else clock.now()
    with session_factory.begin() as session:
        result = daily_sweep(session, clock=clock, policy=Policy())
    with session_factory() as session:
        staged = session.scalar(select(func.count()).select_from(InactivityCycle))
    assert result.started == staged == 20
    with session_factory.begin() as session:
        assert contacts.plan_first_contacts(session, now=clock.now(), limit=15) == 15
        assert contacts.plan_first_contacts(session, now=clock.now(), limit=15) == 5
        assert contacts.pending_contacts(session, now=clock.now()) == 20


def test_contact_sender_reports_progress(
    emulator: SlackEmulator,
    settings: Settings,
    client: WebClient,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    for n in range(5):
        add_member(session_factory, emulator, f"U0P{n}")
    sweep(session_factory, clock, settings)
    seen: list[tuple[int, int | None]] = []
    senders = lifecycle_slack(session_factory, clock, client, settings).contacts
    run = senders.start(
        bucket=TokenBucket(60_000, burst=10),
        progress=lambda done, total: seen.append((done, total)),
    ).run()
    assert run.dms == 5 and seen[0] == (0, 5) and seen[-1] == (5, 5)
    from bot.cli.lifecycle_commands import ProgressBar

    assert ProgressBar("連絡", width=10).render(3, 12) == "連絡 [##--------] 3/12"


def test_a_run_stops_at_its_time_budget_and_the_next_one_goes_on(
    emulator: SlackEmulator,
    settings: Settings,
    client: WebClient,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    add_member(session_factory, emulator, HANAKO)
    sweep(session_factory, clock, settings)
    senders = lifecycle_slack(session_factory, clock, client, settings).contacts
    spent = senders.start(time_budget=0).run()
    assert (spent.stopped, spent.dms, spent.more) == ("time budget", 0, True)
    # Slack asking to wait longer than the budget allows also ends the run, losing nothing.
    emulator.rate_limit("dnd.info", times=1, retry_after=30)
    short = senders.start(time_budget=5).run()
    assert (short.stopped, short.dms) == ("time budget", 0)
    assert contact(session_factory, clock, client, settings)["dms"] == 1
