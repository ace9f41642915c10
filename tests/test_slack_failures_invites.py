"""With an admin token, the approval email follows admin.users.invite's outcome."""

from __future__ import annotations

from sqlalchemy import select

from bot import ids
from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.i18n import t
from models import ApplicationStatus, OutboundEmail
from scheduler.jobs import JobContext, find_job
from tests.support.kyoso_server import SIGNING_SECRET, RunningKyoso, wait_for
from tests.support.slack_emulator import SlackEmulator
from tests.support.slack_sender import SlackSender
from tests.test_e2e_application_review import (  # noqa: F401  (fixtures)
    SECRETARY,
    _apply,
    _click,
    _decisions,
    _people,
    _rendered,
    _review_message,
    _status,
    enterprise_kyoso,
)

INVITE_NOW = t("mail.approved.invite_now", "ja")
INVITE_LATER = t("mail.approved.invite_later", "ja")


def _emails(session_factory: SessionFactory) -> list[str]:
    with session_factory() as session:
        return list(
            session.scalars(select(OutboundEmail.body).where(OutboundEmail.key.like("%:approved")))
        )


def _approve(
    kyoso: RunningKyoso, emulator: SlackEmulator, session_factory: SessionFactory, clock: FixedClock
) -> str:
    public_id = _apply(session_factory, clock, "hanako@city.sapporo.lg.jp", "佐藤 花子")
    kyoso.kyoso.deps.gateway.applications.review.post(public_id)
    slack = SlackSender(kyoso.events_url, SIGNING_SECRET, emulator)
    _click(slack, emulator, ids.APPLICATION_APPROVE, public_id, SECRETARY)
    return public_id


def test_a_successful_invite_is_followed_by_the_invitation_email(
    enterprise_kyoso: RunningKyoso,  # noqa: F811
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    public_id = _approve(enterprise_kyoso, emulator, session_factory, clock)
    wait_for(lambda: _status(session_factory, public_id) is ApplicationStatus.INVITED)
    [body] = wait_for(lambda: _emails(session_factory))
    assert INVITE_NOW in body and INVITE_LATER not in body


def test_a_failed_invite_sends_no_invitation_email_and_leaves_a_todo(
    enterprise_kyoso: RunningKyoso,  # noqa: F811
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    emulator.fail("admin.users.invite", "invalid_email")
    public_id = _approve(enterprise_kyoso, emulator, session_factory, clock)
    [body] = wait_for(lambda: _emails(session_factory))
    assert INVITE_NOW not in body and INVITE_LATER in body
    assert _status(session_factory, public_id) is ApplicationStatus.APPROVED
    assert _decisions(session_factory, public_id)[-1] == "application.invite_failed"
    rendered = wait_for(
        lambda: (r := _rendered(_review_message(emulator))) and "invalid_email" in r and r
    )
    assert ids.APPLICATION_MARK_INVITED in rendered


def test_a_passing_failure_tells_the_applicant_nothing_until_the_job_invites(
    enterprise_kyoso: RunningKyoso,  # noqa: F811
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    emulator.server_error("admin.users.invite", status=503, times=4)
    public_id = _approve(enterprise_kyoso, emulator, session_factory, clock)
    wait_for(lambda: len(emulator.calls_to("admin.users.invite")) >= 4, timeout=20)
    assert _status(session_factory, public_id) is ApplicationStatus.APPROVED
    assert _emails(session_factory) == []
    deps = enterprise_kyoso.kyoso.deps
    context = JobContext(
        session_factory=session_factory,
        clock=clock,
        client=deps.client,
        settings=deps.settings,
        gateway=deps.gateway,
    )
    result = find_job("applications-invites").run(context)
    assert result["invited"] == 1
    assert _status(session_factory, public_id) is ApplicationStatus.INVITED
    [body] = _emails(session_factory)
    assert INVITE_NOW in body
