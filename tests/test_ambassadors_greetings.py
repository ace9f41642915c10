"""Greeting newcomers end to end: an approved applicant from 盛岡市 joins (team_join), is
welcomed with 岩手県's ambassador named, presses "I agree" → one card in the ambassadors'
channel; 「担当します」 pressed by two ambassadors at once → one claim, the card edited in
place, one introduction DM; reminders and the secretariat's notice counted in 開庁日; the
greetings job posting a card Slack refused."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import func, select

from bot import ids
from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.domain.ambassador_greetings import GreetingCard, Introduction, Nudge
from bot.domain.lifecycle import EndReason
from bot.eligibility.directory import OrganisationDirectory
from bot.services import members
from bot.services.ambassadors.greetings import greeting_card, greeting_figures
from bot.services.applications import decisions, submission
from bot.services.applications.submission import ApplicationForm
from bot.services.lifecycle.deactivation import mark_deactivated
from bot.timefmt import JST
from bot.views.ambassadors.greetings import (
    card_blocks,
    card_text,
    escalation_text,
    introduction_blocks,
    introduction_text,
    reminder_text,
    taken_text,
    welcome_ambassadors_line,
)
from bot.views.blocks import to_dicts
from models import (
    AmbassadorAppointment,
    AmbassadorGreeting,
    ApplicationSource,
    AppointmentStatus,
    AuditEntry,
    GreetingStatus,
    Organisation,
    Role,
)
from scheduler.jobs import JobContext, find_job
from tests.support.kyoso_server import RunningKyoso, make_settings, serve_kyoso, wait_for
from tests.support.slack_emulator import SlackEmulator
from tests.support.slack_sender import SlackSender

SECRETARY, IWATE_AMB, TOHOKU_AMB, MEMBER = "U0SEC", "U0IWATE", "U0TOHOKU", "U0MEMBER"
NEWCOMER, AKITA_NEWCOMER = "U0NEWCOMER", "U0AKITA"
MORIOKA, AKITA, CHIYODA = "032018", "052019", "131016"
AMBASSADORS, REVIEW, INTRO = "C0AMBASSADORS", "C0REVIEW", "C0INTRO"
# Friday 20 November 2026, 10:00 JST; Monday the 23rd is 勤労感謝の日.
FRIDAY = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


def _org_id(session_factory: SessionFactory, code: str) -> int:
    with session_factory() as session:
        found = session.scalar(select(Organisation.id).where(Organisation.code == code))
    assert found is not None
    return found


def _appoint(
    session_factory: SessionFactory,
    clock: FixedClock,
    user: str,
    *,
    prefectures: list[str],
    region: str | None = None,
) -> None:
    now, morioka = clock.now(), _org_id(session_factory, MORIOKA)
    with session_factory.begin() as session:
        member = members.ensure_member(session, clock=clock, slack_user_id=user)
        member.organisation_id = morioka
        session.add(
            AmbassadorAppointment(
                public_id=f"amb-{user.lower()}",
                member_id=member.id,
                status=AppointmentStatus.ACTIVE,
                prefectures=prefectures,
                region=region,
                starts_on=date(2026, 4, 1),
                ends_on=date(2027, 3, 31),
                appointed_by=SECRETARY,
                coverage_at_start={},
                created_at=now,
                updated_at=now,
            )
        )
        members.grant_role(
            session, clock=clock, slack_user_id=user, role=Role.AMBASSADOR, actor="cli"
        )


@pytest.fixture
def kyoso(
    emulator: SlackEmulator,
    database_url: str,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> Iterator[RunningKyoso]:
    bot = emulator.bot_user_id
    emulator.add_channel("アンバサダー", channel_id=AMBASSADORS, members=[bot])
    emulator.add_channel("自己紹介", channel_id=INTRO, members=[bot])
    for user in (SECRETARY, IWATE_AMB, TOHOKU_AMB, MEMBER):
        emulator.add_user(user, name=user.lower(), email=f"{user.lower()}@city.morioka.lg.jp")
    with session_factory.begin() as session:
        for user in (SECRETARY, MEMBER):
            members.ensure_member(session, clock=clock, slack_user_id=user)
        members.grant_role(
            session, clock=clock, slack_user_id=SECRETARY, role=Role.SECRETARIAT, actor="cli"
        )
    _appoint(session_factory, clock, IWATE_AMB, prefectures=["岩手県"])
    _appoint(session_factory, clock, TOHOKU_AMB, prefectures=[], region="hokkaido_tohoku")
    settings = make_settings(
        emulator.api_url,
        database_url,
        KYOSO_AMBASSADOR_CHANNEL=AMBASSADORS,
        KYOSO_INTRO_CHANNEL=INTRO,
    )
    with serve_kyoso(settings, session_factory=session_factory, clock=clock) as running:
        yield running


def _job(kyoso: RunningKyoso) -> dict[str, Any]:
    deps = kyoso.kyoso.deps
    ctx = JobContext.with_slack(
        session_factory=deps.session_factory,
        clock=deps.clock,
        client=WebClient(token="xoxb-test", base_url=deps.settings.slack_api_url),
        settings=deps.settings,
    )
    return dict(find_job("ambassadors-greetings").run(ctx))


def _rendered(message: dict[str, Any]) -> str:
    return json.dumps(message.get("blocks") or [], ensure_ascii=False)


def _cards(emulator: SlackEmulator) -> list[dict[str, Any]]:
    return [
        m
        for m in emulator.messages(AMBASSADORS)
        if not m.get("thread_ts") and ids.AMBASSADOR_GREETING_BLOCK in _rendered(m)
    ]


def _greetings(session_factory: SessionFactory) -> list[AmbassadorGreeting]:
    with session_factory() as session:
        return list(session.scalars(select(AmbassadorGreeting).order_by(AmbassadorGreeting.id)))


def _audits(session_factory: SessionFactory, action: str) -> int:
    with session_factory() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
            )
            or 0
        )


def _join(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
    user: str,
    code: str,
) -> dict[str, Any]:
    """An approved applicant joins: team_join, and the welcome DM it brings."""
    email = f"{user.lower()}@example.lg.jp"
    with session_factory.begin() as session:
        submitted = submission.submit(
            session,
            clock=clock,
            directory=OrganisationDirectory.from_master_data(),
            form=ApplicationForm(
                email=email,
                name="新人 花子",
                organisation_code=code,
                agency_slug=None,
                department="デジタル推進課",
                language="ja",
                rules_version="1",
            ),
            source=ApplicationSource.WEB,
        )
        public_id = submitted.application.public_id
        decisions.approve(session, clock=clock, public_id=public_id, actor=SECRETARY)
    # Its review message exists already: the join edits it and posts nothing else.
    kyoso.kyoso.deps.gateway.applications.review.post(public_id)
    emulator.add_user(user, name=user.lower(), email=email, real_name="新人 花子")
    assert slack.event({"type": "team_join", "user": emulator.user(user)}).status == 200
    return wait_for(lambda: emulator.dm_messages(user))[0]


def _accept(
    slack: SlackSender, emulator: SlackEmulator, user: str, welcome: dict[str, Any]
) -> None:
    response = slack.block_action(
        ids.ONBOARDING_ACCEPT_RULES,
        "1",
        user_id=user,
        channel_id=emulator.im_channel_id(user),
        message=welcome,
    )
    assert response.status == 200


def _newcomer_card(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
    user: str = NEWCOMER,
    code: str = MORIOKA,
) -> dict[str, Any]:
    welcome = _join(kyoso, slack, emulator, session_factory, clock, user, code)
    _accept(slack, emulator, user, welcome)
    return wait_for(
        lambda: next((c for c in _cards(emulator) if f"<@{user}>" in _rendered(c)), None)
    )


def _answers(emulator: SlackEmulator) -> str:
    """What Kyoso answered through response_urls (ephemeral replies), as one text."""
    return json.dumps([body for _, body in emulator.all_responses()], ensure_ascii=False)


def _claim(slack: SlackSender, user: str, card: dict[str, Any]) -> None:
    value = next(
        e["value"]
        for b in card["blocks"]
        for e in b.get("elements") or []
        if e.get("action_id") == ids.AMBASSADOR_GREETING_CLAIM
    )
    response = slack.block_action(
        ids.AMBASSADOR_GREETING_CLAIM, value, user_id=user, channel_id=AMBASSADORS, message=card
    )
    assert response.status == 200


# --- the card ----------------------------------------------------------------------------------


def test_a_newcomer_from_morioka_is_welcomed_with_the_ambassador_and_gets_one_card(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    welcome = _join(kyoso, slack, emulator, session_factory, clock, NEWCOMER, MORIOKA)
    assert f"岩手県のアンバサダー: <@{IWATE_AMB}>" in _rendered(welcome)
    assert TOHOKU_AMB not in _rendered(welcome)  # the region's only where the prefecture has none

    _accept(slack, emulator, NEWCOMER, welcome)
    card = wait_for(lambda: _cards(emulator) and _cards(emulator)[0])
    text = _rendered(card)
    assert f"<@{NEWCOMER}>" in text and f"<@{IWATE_AMB}>" in text and TOHOKU_AMB not in text
    assert "岩手県 盛岡市" in text and "自己紹介*: まだありません" in text
    assert ids.AMBASSADOR_GREETING_CLAIM in text

    # Pressed again (a double click, a re-ask): still one greeting, one card.
    _accept(slack, emulator, NEWCOMER, welcome)
    wait_for(lambda: len(emulator.all_responses()) >= 1)
    assert _job(kyoso).get("posted", 0) == 0
    greetings = _greetings(session_factory)
    assert len(greetings) == 1 and greetings[0].status is GreetingStatus.OPEN
    assert greetings[0].mentioned == [IWATE_AMB] and greetings[0].prefecture == "岩手県"
    assert (greetings[0].channel_id, greetings[0].message_ts) == (AMBASSADORS, card["ts"])
    assert len(_cards(emulator)) == 1
    assert _audits(session_factory, "ambassadors.greeting_opened") == 1


def test_a_prefecture_without_its_own_ambassador_falls_back_to_the_region(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    welcome = _join(kyoso, slack, emulator, session_factory, clock, AKITA_NEWCOMER, AKITA)
    assert f"秋田県のアンバサダー: <@{TOHOKU_AMB}>" in _rendered(welcome)
    _accept(slack, emulator, AKITA_NEWCOMER, welcome)
    card = wait_for(lambda: _cards(emulator) and _cards(emulator)[0])
    assert f"<@{TOHOKU_AMB}>" in _rendered(card) and IWATE_AMB not in _rendered(card)


def test_slack_failing_the_first_post_leaves_the_card_for_the_job_which_posts_it_once(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    welcome = _join(kyoso, slack, emulator, session_factory, clock, NEWCOMER, MORIOKA)
    before = len(emulator.calls_to("chat.postMessage"))
    emulator.fail("chat.postMessage", "fatal_error", times=1)
    _accept(slack, emulator, NEWCOMER, welcome)
    wait_for(lambda: len(emulator.calls_to("chat.postMessage")) > before)
    # The acceptance stands, and the greeting is recorded without its card.
    wait_for(
        lambda: ids.ONBOARDING_ACCEPT_RULES not in _rendered(emulator.dm_messages(NEWCOMER)[0])
    )
    with session_factory() as session:
        member = members.find(session, NEWCOMER)
        assert member is not None and member.rules_version == "1"
    [greeting] = _greetings(session_factory)
    assert greeting.message_ts is None and _cards(emulator) == []

    assert _job(kyoso)["posted"] == 1
    assert _job(kyoso)["posted"] == 0
    [card] = _cards(emulator)
    assert _greetings(session_factory)[0].message_ts == card["ts"]


def test_a_card_posted_by_a_process_that_died_before_storing_it_is_found_not_posted_again(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    welcome = _join(kyoso, slack, emulator, session_factory, clock, NEWCOMER, MORIOKA)
    before = len(emulator.calls_to("chat.postMessage"))
    emulator.fail("chat.postMessage", "fatal_error", times=1)
    _accept(slack, emulator, NEWCOMER, welcome)
    wait_for(lambda: len(emulator.calls_to("chat.postMessage")) > before)
    [greeting] = _greetings(session_factory)
    # The card as a sender that died after Slack took it (its ts never stored) left it.
    with session_factory() as session:
        card = greeting_card(session, greeting_id=greeting.id, language="ja", intro_channel=INTRO)
    assert card is not None and greeting.message_ts is None
    posted = WebClient(token="xoxb-test", base_url=emulator.api_url).chat_postMessage(
        channel=AMBASSADORS, blocks=to_dicts(card_blocks(card, "ja")), text="card"
    )

    assert _job(kyoso)["posted"] == 1
    assert _job(kyoso)["posted"] == 0
    assert [c["ts"] for c in _cards(emulator)] == [posted["ts"]]
    assert _greetings(session_factory)[0].message_ts == posted["ts"]


# --- the claim ---------------------------------------------------------------------------------


def test_two_ambassadors_clicking_at_once_make_one_claim_and_one_introduction(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    card = _newcomer_card(kyoso, slack, emulator, session_factory, clock)
    start = threading.Barrier(2)

    def click(user: str) -> None:
        start.wait()
        _claim(slack, user, card)

    threads = [threading.Thread(target=click, args=(u,)) for u in (IWATE_AMB, TOHOKU_AMB)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    introductions = wait_for(
        lambda: [
            m for m in emulator.dm_messages(NEWCOMER) if ids.AMBASSADOR_INTRO_BLOCK in _rendered(m)
        ]
    )
    # The introduction is recorded after Slack took the DM: wait for the record too.
    [greeting] = wait_for(lambda: [g for g in _greetings(session_factory) if g.introduced_at])
    winner = greeting.claimed_by
    loser = TOHOKU_AMB if winner == IWATE_AMB else IWATE_AMB
    assert greeting.status is GreetingStatus.CLAIMED and winner in (IWATE_AMB, TOHOKU_AMB)
    assert greeting.introduced_at is not None
    assert len(introductions) == 1 and f"<@{winner}>" in _rendered(introductions[0])
    assert _audits(session_factory, "ambassadors.greeting_claimed") == 1
    # The card shows who, in place, without the button; the other one is told politely.
    [updated] = _cards(emulator)
    assert updated["ts"] == card["ts"]
    assert f"<@{winner}> さんが担当しています" in _rendered(updated)
    assert ids.AMBASSADOR_GREETING_CLAIM not in _rendered(updated)
    # The loser's ephemeral answer goes out after its ack: wait for it, not for the (truthy) "[]".
    told = wait_for(lambda: emulator.all_responses() and _answers(emulator))
    assert f"<@{winner}> さんが担当しています。" in told

    # A later click, and the job: nothing new.
    _claim(slack, loser, card)
    wait_for(lambda: len(emulator.all_responses()) >= 2)
    clock.advance(timedelta(hours=1))
    assert _job(kyoso).get("introductions_sent", 0) == 0
    assert (
        len(
            [
                m
                for m in emulator.dm_messages(NEWCOMER)
                if ids.AMBASSADOR_INTRO_BLOCK in _rendered(m)
            ]
        )
        == 1
    )
    assert _greetings(session_factory)[0].claimed_by == winner


def test_a_member_pressing_the_claim_button_is_refused_and_nothing_changes(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    card = _newcomer_card(kyoso, slack, emulator, session_factory, clock)
    updates = len(emulator.calls_to("chat.update"))
    _claim(slack, MEMBER, card)
    refusal = wait_for(lambda: emulator.all_responses())
    assert "アンバサダー" in json.dumps(refusal, ensure_ascii=False)
    [greeting] = _greetings(session_factory)
    assert greeting.status is GreetingStatus.OPEN and greeting.claimed_by is None
    assert len(emulator.calls_to("chat.update")) == updates
    assert not [
        m for m in emulator.dm_messages(NEWCOMER) if ids.AMBASSADOR_INTRO_BLOCK in _rendered(m)
    ]
    assert _audits(session_factory, "ambassadors.greeting_claimed") == 0


def test_an_introduction_slack_refused_for_a_moment_is_sent_by_the_job_once(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    card = _newcomer_card(kyoso, slack, emulator, session_factory, clock)
    emulator.fail("chat.postMessage", "fatal_error", times=1)
    _claim(slack, IWATE_AMB, card)
    wait_for(lambda: _greetings(session_factory)[0].claimed_by == IWATE_AMB)
    wait_for(lambda: f"<@{IWATE_AMB}> さんが担当しています" in _rendered(_cards(emulator)[0]))
    assert _greetings(session_factory)[0].introduced_at is None
    assert _job(kyoso).get("introductions_sent", 0) == 0  # within the listener's lease
    clock.advance(timedelta(minutes=15))
    assert _job(kyoso)["introductions_sent"] == 1
    assert _job(kyoso).get("introductions_sent", 0) == 0
    intros = [
        m for m in emulator.dm_messages(NEWCOMER) if ids.AMBASSADOR_INTRO_BLOCK in _rendered(m)
    ]
    assert len(intros) == 1


# --- reminders, the secretariat, leavers ------------------------------------------------------


def test_an_unclaimed_card_is_reminded_once_after_two_business_days_then_the_secretariat_told(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    clock.set(FRIDAY)
    card = _newcomer_card(kyoso, slack, emulator, session_factory, clock)

    def replies() -> list[dict[str, Any]]:
        thread = [m for m in emulator.messages(AMBASSADORS) if m.get("thread_ts") == card["ts"]]
        return [m for m in thread if m["ts"] != card["ts"]]

    def notices() -> list[dict[str, Any]]:
        return [m for m in emulator.messages(REVIEW) if f"<@{NEWCOMER}>" in m.get("text", "")]

    # Monday the 23rd is 勤労感謝の日: Tuesday is one business day, not two.
    for day in (23, 24):
        clock.set(datetime(2026, 11, day, 1, 0, tzinfo=UTC))
        assert _job(kyoso).get("reminded", 0) == 0
    assert replies() == []
    clock.set(datetime(2026, 11, 25, 1, 0, tzinfo=UTC))
    assert _job(kyoso)["reminded"] == 1
    assert _job(kyoso)["reminded"] == 0
    [reminder] = replies()
    assert f"<@{IWATE_AMB}>" in reminder["text"] and f"<@{NEWCOMER}>" in reminder["text"]

    clock.set(datetime(2026, 11, 26, 1, 0, tzinfo=UTC))
    assert _job(kyoso).get("escalated", 0) == 0
    assert notices() == []
    clock.set(datetime(2026, 11, 27, 1, 0, tzinfo=UTC))
    assert _job(kyoso)["escalated"] == 1
    clock.advance(timedelta(hours=1))
    assert _job(kyoso)["escalated"] == 0
    assert len(notices()) == 1 and len(replies()) == 1
    [greeting] = _greetings(session_factory)
    assert greeting.status is GreetingStatus.OPEN
    assert greeting.reminded_at is not None and greeting.escalated_at is not None
    assert _audits(session_factory, "ambassadors.greeting_escalated") == 1

    # Claimed late: counted, with the time from card to claim.
    _claim(slack, IWATE_AMB, card)
    wait_for(lambda: _greetings(session_factory)[0].status is GreetingStatus.CLAIMED)
    with session_factory() as session:
        claimed, still_open, median = greeting_figures(session, now=clock.now(), zone=JST)
    assert (claimed, still_open) == (1, 0)
    assert median == pytest.approx(7 * 24 + 1)


def test_a_newcomer_who_leaves_before_anyone_claims_has_the_card_closed(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    card = _newcomer_card(kyoso, slack, emulator, session_factory, clock)
    with session_factory.begin() as session:
        assert mark_deactivated(
            session,
            clock=clock,
            slack_user_id=NEWCOMER,
            actor="system",
            via=EndReason.DEACTIVATED_SCIM,
        )
    assert _job(kyoso)["closed"] == 1
    assert _job(kyoso)["closed"] == 0
    [greeting] = _greetings(session_factory)
    assert greeting.status is GreetingStatus.CLOSED
    [closed] = _cards(emulator)
    assert "退会" in _rendered(closed) and ids.AMBASSADOR_GREETING_CLAIM not in _rendered(closed)
    # A stale button pressed afterwards claims nothing.
    _claim(slack, IWATE_AMB, card)
    wait_for(lambda: emulator.all_responses())
    assert _greetings(session_factory)[0].claimed_by is None


def test_a_newcomer_where_nobody_serves_still_gets_a_card_that_says_so(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    welcome = _join(kyoso, slack, emulator, session_factory, clock, NEWCOMER, CHIYODA)
    assert "アンバサダー:" not in _rendered(welcome)  # the welcome names nobody
    _accept(slack, emulator, NEWCOMER, welcome)
    card = wait_for(lambda: _cards(emulator) and _cards(emulator)[0])
    assert "アンバサダーがいません" in _rendered(card)
    assert IWATE_AMB not in _rendered(card) and TOHOKU_AMB not in _rendered(card)
    assert _greetings(session_factory)[0].mentioned == []


@pytest.mark.parametrize("language", ["ja", "en"])
def test_every_greeting_view_renders_within_slack_limits_in_both_languages(language: Any) -> None:
    at = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    nudge = Nudge(1, NEWCOMER, None, (), AMBASSADORS, "1.000100")
    for status, claimed_by in (
        (GreetingStatus.OPEN, None),
        (GreetingStatus.CLAIMED, IWATE_AMB),
        (GreetingStatus.CLOSED, None),
    ):
        card = GreetingCard(
            greeting_id=1,
            newcomer=NEWCOMER,
            organisation="岩手県 盛岡市" if claimed_by else None,
            prefecture="岩手県",
            ambassadors=(IWATE_AMB, TOHOKU_AMB) if claimed_by else (),
            introduced_at=at if claimed_by else None,
            intro_channel=INTRO,
            status=status,
            claimed_by=claimed_by,
            claimed_at=at if claimed_by else None,
        )
        rendered = json.dumps(to_dicts(card_blocks(card, language)), ensure_ascii=False)
        assert (ids.AMBASSADOR_GREETING_CLAIM in rendered) is (status is GreetingStatus.OPEN)
        assert card_text(card, language)
    intro = Introduction(1, NEWCOMER, IWATE_AMB, "岩手県")
    assert f"<@{IWATE_AMB}>" in json.dumps(to_dicts(introduction_blocks(intro, language)))
    assert introduction_text(intro, language)
    assert f"<@{NEWCOMER}>" in reminder_text(nudge, language)
    assert f"<@{NEWCOMER}>" in escalation_text(nudge, language, link="<#C0AMBASSADORS>")
    assert taken_text(None, language) and taken_text(IWATE_AMB, language)
    assert welcome_ambassadors_line("岩手県", (), language) is None
    assert IWATE_AMB in (welcome_ambassadors_line("岩手県", (IWATE_AMB,), language) or "")
