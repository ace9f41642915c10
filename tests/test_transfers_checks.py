"""Changes seen in Slack and affiliation checks end to end: signed `user_change` events into
the running app, the users.list sync, the secretariat's buttons on the review channel's card,
and `kyoso orgs remap-domain`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import func, select

from bot import ids
from bot.cli import main as kyoso_cli
from bot.clock import FixedClock
from bot.codes import check_digit
from bot.db import SessionFactory
from bot.i18n import t
from bot.services import members
from bot.services.lifecycle.overview import flagged_members
from bot.services.transfers.moves import confirm_move, start_move
from models import (
    AffiliationCheck,
    AffiliationMove,
    Application,
    ApplicationSource,
    ApplicationStatus,
    AuditEntry,
    CheckStatus,
    CycleStatus,
    InactivityCycle,
    Member,
    MemberStatus,
    MoveSource,
    MoveStatus,
    Organisation,
    OrganisationKind,
    OrganisationSource,
    Role,
    SlackEmailState,
)
from scheduler import lifecycle_jobs, transfers_checks_jobs
from scheduler.jobs import JobContext, find_job
from tests.conftest import DEFAULT_NOW
from tests.support.kyoso_server import RunningKyoso, make_settings, serve_kyoso, wait_for
from tests.support.slack_emulator import SlackEmulator
from tests.support.slack_sender import SlackSender

SECRETARY, HANAKO, TARO, OUTSIDER = "U0SEC", "U0HANAKO", "U0TARO", "U0OUT"
SAPPORO, HOKKAIDO = "011002", "010006"
REVIEW = "C0REVIEW"


def _org_id(session_factory: SessionFactory, code: str) -> int:
    with session_factory() as session:
        found = session.scalar(select(Organisation.id).where(Organisation.code == code))
    assert found is not None
    return found


@pytest.fixture
def kyoso(
    emulator: SlackEmulator,
    database_url: str,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> Iterator[RunningKyoso]:
    sapporo = _org_id(session_factory, SAPPORO)
    for user in (SECRETARY, HANAKO, TARO, OUTSIDER):
        emulator.add_user(user, name=user.lower(), email=f"{user.lower()}@city.sapporo.lg.jp")
    with session_factory.begin() as session:
        for user in (SECRETARY, HANAKO, TARO, OUTSIDER):
            member = members.ensure_member(session, clock=clock, slack_user_id=user)
            member.email = member.email_normalized = f"{user.lower()}@city.sapporo.lg.jp"
            member.real_name = f"職員 {user[3:]}"
            member.organisation_id = sapporo
            member.last_seen_at = DEFAULT_NOW
        members.grant_role(
            session, clock=clock, slack_user_id=SECRETARY, role=Role.SECRETARIAT, actor="cli"
        )
    settings = make_settings(emulator.api_url, database_url)
    with serve_kyoso(settings, session_factory=session_factory, clock=clock) as running:
        yield running


def _jobs(kyoso: RunningKyoso) -> JobContext:
    deps = kyoso.kyoso.deps
    return JobContext.with_slack(
        session_factory=deps.session_factory,
        clock=deps.clock,
        client=WebClient(token="xoxb-test", base_url=deps.settings.slack_api_url),
        settings=deps.settings,
    )


def _user_change(slack: SlackSender, emulator: SlackEmulator, user: str, email: str) -> None:
    profile = emulator.update_user(user, profile={"email": email})
    assert slack.event({"type": "user_change", "user": profile}).status == 200


def _member(session_factory: SessionFactory, user: str) -> Member:
    with session_factory() as session:
        member = members.find(session, user)
    assert member is not None
    return member


def _checks(session_factory: SessionFactory, user: str) -> list[AffiliationCheck]:
    with session_factory() as session:
        return list(
            session.scalars(
                select(AffiliationCheck)
                .join(Member, Member.id == AffiliationCheck.member_id)
                .where(Member.slack_user_id == user)
            )
        )


def _cards(emulator: SlackEmulator) -> list[dict[str, Any]]:
    return [
        m
        for m in emulator.messages(REVIEW)
        if any(
            str(b.get("block_id", "")).startswith("transfer_check:") for b in m.get("blocks") or []
        )
        or "所属確認が必要" in json.dumps(m.get("blocks"), ensure_ascii=False)
    ]


def _button(message: dict[str, Any], action_id: str) -> dict[str, Any]:
    for block in message["blocks"]:
        for element in block.get("elements") or []:
            if element.get("action_id") == action_id:
                return dict(element)
    raise AssertionError(f"no {action_id} button")


def _has_button(message: dict[str, Any], action_id: str) -> bool:
    try:
        _button(message, action_id)
    except AssertionError:
        return False
    return True


def _open_case(
    slack: SlackSender, emulator: SlackEmulator, session_factory: SessionFactory, user: str
) -> dict[str, Any]:
    _user_change(slack, emulator, user, f"{user.lower()}@gmail.com")
    wait_for(lambda: any(f"<@{user}>" in json.dumps(c) for c in _cards(emulator)))
    return next(c for c in _cards(emulator) if f"<@{user}>" in json.dumps(c))


# --- user_change ----------------------------------------------------------------------------


def test_a_private_address_in_user_change_opens_one_case_however_often_it_comes(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    card = _open_case(slack, emulator, session_factory, HANAKO)
    # The same change again (a duplicated event, a retry with another id): nothing new.
    profile = emulator.user(HANAKO)
    slack.event({"type": "user_change", "user": profile})
    slack.event({"type": "user_change", "user": profile}, retry_num=1)
    kyoso.kyoso.deps.activity.flush()
    wait_for(lambda: len(emulator.calls_to("chat.postMessage")) >= 1)
    checks = _checks(session_factory, HANAKO)
    assert [c.status for c in checks] == [CheckStatus.OPEN]
    assert len(_cards(emulator)) == 1
    text = json.dumps(card["blocks"], ensure_ascii=False)
    assert "city.sapporo.lg.jp" in text and "gmail.com" in text and "札幌市" in text
    assert "u0hanako@gmail.com" not in text  # domains, not addresses
    for action_id in (ids.TRANSFER_CHECK_ASK, ids.TRANSFER_CHECK_KEEP):
        assert _button(card, action_id)["value"] == checks[0].public_id
    # Slack is the truth about the address; the organisation is unverified, not kept silently.
    member = _member(session_factory, HANAKO)
    assert member.email_normalized == "u0hanako@gmail.com"
    assert member.organisation_id == _org_id(session_factory, SAPPORO)
    with session_factory() as session:
        opened = session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "transfers.check_opened")
        )
    assert opened == 1


def test_another_eligible_lg_jp_address_updates_the_organisation_and_tells_the_member(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    _user_change(slack, emulator, HANAKO, "hanako@pref.hokkaido.lg.jp")
    hokkaido = _org_id(session_factory, HOKKAIDO)
    wait_for(lambda: _member(session_factory, HANAKO).organisation_id == hokkaido)
    wait_for(lambda: emulator.dm_messages(HANAKO))
    dm = emulator.dm_messages(HANAKO)[-1]
    assert "所属を" in dm["text"] and "北海道" in dm["text"]
    assert _member(session_factory, HANAKO).email_normalized == "hanako@pref.hokkaido.lg.jp"
    with session_factory() as session:
        move = session.scalar(select(AffiliationMove))
    assert move is not None
    assert (move.source, move.status) == (MoveSource.SLACK, MoveStatus.CONFIRMED)
    assert move.old_organisation_id == _org_id(session_factory, SAPPORO)
    assert not _checks(session_factory, HANAKO) and not _cards(emulator)


def test_a_pending_move_to_the_address_slack_shows_is_confirmed(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    with session_factory.begin() as session:
        member = members.find(session, TARO)
        assert member is not None
        started = start_move(
            session,
            clock=clock,
            member=member,
            new_email="taro@pref.hokkaido.lg.jp",
            organisation_code=HOKKAIDO,
            agency_slug=None,
            department=None,
            effective_on=None,
            source=MoveSource.COMMAND,
            language="ja",
        )
        public_id = started.move.public_id
    _user_change(slack, emulator, TARO, "taro@pref.hokkaido.lg.jp")

    def confirmed() -> bool:
        with session_factory() as session:
            move = session.scalar(
                select(AffiliationMove).where(AffiliationMove.public_id == public_id)
            )
            return move is not None and move.status is MoveStatus.CONFIRMED

    wait_for(confirmed)
    assert _member(session_factory, TARO).organisation_id == _org_id(session_factory, HOKKAIDO)
    assert not _checks(session_factory, TARO)
    # The move's own flow tells the member (helper A's adapter), once.
    wait_for(lambda: emulator.dm_messages(TARO))
    assert [m["text"] for m in emulator.dm_messages(TARO)] == [
        t("transfers.move.applied.text", "ja")
    ]
    with session_factory() as session:
        move = session.scalar(select(AffiliationMove).where(AffiliationMove.public_id == public_id))
        assert move is not None and move.slack_email_state is SlackEmailState.SEEN


def test_a_confirmed_moves_address_seen_in_slack_ends_the_wait(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    with session_factory.begin() as session:
        member = members.find(session, OUTSIDER)
        assert member is not None
        move = start_move(
            session,
            clock=clock,
            member=member,
            new_email="out@pref.hokkaido.lg.jp",
            organisation_code=HOKKAIDO,
            agency_slug=None,
            department=None,
            effective_on=None,
            source=MoveSource.COMMAND,
            language="ja",
        ).move
        confirm_move(session, clock=clock, move=move, via="link")
        public_id = move.public_id
        assert move.slack_email_state is SlackEmailState.INSTRUCTED
    _user_change(slack, emulator, OUTSIDER, "out@pref.hokkaido.lg.jp")

    def state() -> SlackEmailState | None:
        with session_factory() as session:
            found = session.scalar(
                select(AffiliationMove).where(AffiliationMove.public_id == public_id)
            )
            return found.slack_email_state if found else None

    wait_for(lambda: state() is SlackEmailState.SEEN)
    assert not _checks(session_factory, OUTSIDER)


def test_a_deactivated_members_user_change_changes_nothing(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    with session_factory.begin() as session:
        member = members.find(session, TARO)
        assert member is not None
        member.status = MemberStatus.DEACTIVATED
    _user_change(slack, emulator, TARO, "taro@gmail.com")
    _open_case(slack, emulator, session_factory, HANAKO)  # a later event, fully handled
    assert _member(session_factory, TARO).email_normalized == "u0taro@city.sapporo.lg.jp"
    assert not _checks(session_factory, TARO)


# --- the users.list sync --------------------------------------------------------------------


def test_the_users_sync_sends_only_changed_addresses_the_same_way(
    kyoso: RunningKyoso,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    emulator.update_user(HANAKO, profile={"email": "hanako@example.co.jp"})
    emulator.update_user(TARO, profile={"email": "taro@pref.hokkaido.lg.jp"})
    result = lifecycle_jobs.sync_users(_jobs(kyoso))
    assert result["addresses"] == 2  # the two others' addresses did not change
    assert [c.status for c in _checks(session_factory, HANAKO)] == [CheckStatus.OPEN]
    assert len(_cards(emulator)) == 1
    assert _member(session_factory, TARO).organisation_id == _org_id(session_factory, HOKKAIDO)
    assert any("北海道" in m["text"] for m in emulator.dm_messages(TARO))
    # The next night: nothing new.
    again = lifecycle_jobs.sync_users(_jobs(kyoso))
    assert again["addresses"] == 0 and len(_cards(emulator)) == 1


def test_a_card_slack_could_not_take_is_posted_by_the_catch_up_job(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    emulator.fail("chat.postMessage", "service_unavailable", times=20)
    _user_change(slack, emulator, HANAKO, "hanako@gmail.com")
    wait_for(lambda: _checks(session_factory, HANAKO))
    wait_for(lambda: len(emulator.calls_to("chat.postMessage")) >= 1)
    assert not _cards(emulator) and _checks(session_factory, HANAKO)[0].review_message_ts is None
    emulator.clear_faults()
    assert find_job("transfers-checks-catch-up").run is transfers_checks_jobs.post_unposted_checks
    assert transfers_checks_jobs.post_unposted_checks(_jobs(kyoso)) == {"posted": 1, "failed": 0}
    assert len(_cards(emulator)) == 1
    assert transfers_checks_jobs.post_unposted_checks(_jobs(kyoso)) == {"posted": 0, "failed": 0}


# --- the secretariat's actions --------------------------------------------------------------


def _press(
    slack: SlackSender, emulator: SlackEmulator, card: dict[str, Any], action_id: str, user: str
) -> None:
    element = _button(card, action_id)
    slack.block_action(action_id, element["value"], user_id=user, channel_id=REVIEW, message=card)


def _card_now(emulator: SlackEmulator, ts: str) -> dict[str, Any]:
    return next(m for m in emulator.messages(REVIEW) if m["ts"] == ts)


def test_asking_the_member_and_keeping_are_the_secretariats_and_decided_once(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    card = _open_case(slack, emulator, session_factory, HANAKO)
    # A member without the role: refused, nothing changes.
    _press(slack, emulator, card, ids.TRANSFER_CHECK_KEEP, OUTSIDER)
    wait_for(lambda: emulator.all_responses())
    assert t("access.only.secretariat", "ja") in emulator.all_responses()[-1][1]["text"]
    assert _checks(session_factory, HANAKO)[0].status is CheckStatus.OPEN
    # Ask the member: a DM, the card edited in place without the ask button.
    _press(slack, emulator, card, ids.TRANSFER_CHECK_ASK, SECRETARY)
    wait_for(lambda: emulator.dm_messages(HANAKO))
    assert "/kyoso move" in emulator.dm_messages(HANAKO)[-1]["text"]
    wait_for(lambda: not _has_button(_card_now(emulator, card["ts"]), ids.TRANSFER_CHECK_ASK))
    assert _checks(session_factory, HANAKO)[0].status is CheckStatus.ASKED
    # A second click on ask: told, nothing sent again.
    responses = len(emulator.all_responses())
    _press(slack, emulator, card, ids.TRANSFER_CHECK_ASK, SECRETARY)
    wait_for(lambda: len(emulator.all_responses()) > responses)
    assert "対応済み" in emulator.all_responses()[-1][1]["text"]
    assert len(emulator.dm_messages(HANAKO)) == 1
    # Keep: closed, no buttons left; the member stays as they are.
    _press(slack, emulator, card, ids.TRANSFER_CHECK_KEEP, SECRETARY)
    wait_for(lambda: _checks(session_factory, HANAKO)[0].status is CheckStatus.KEPT)
    wait_for(lambda: not _has_button(_card_now(emulator, card["ts"]), ids.TRANSFER_CHECK_KEEP))
    assert len(_cards(emulator)) == 1
    member = _member(session_factory, HANAKO)
    assert member.status is MemberStatus.ACTIVE
    assert member.organisation_id == _org_id(session_factory, SAPPORO)


def test_starting_deactivation_flags_the_member_for_the_existing_approval(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    card = _open_case(slack, emulator, session_factory, TARO)
    _press(slack, emulator, card, ids.TRANSFER_CHECK_DEACTIVATE, OUTSIDER)
    wait_for(lambda: emulator.all_responses())
    assert _checks(session_factory, TARO)[0].status is CheckStatus.OPEN
    _press(slack, emulator, card, ids.TRANSFER_CHECK_DEACTIVATE, SECRETARY)
    wait_for(lambda: _checks(session_factory, TARO)[0].status is CheckStatus.DEACTIVATING)
    member = _member(session_factory, TARO)
    assert member.status is MemberStatus.FLAGGED and member.deactivated_at is None
    assert not emulator.removed_users()
    with session_factory() as session:
        listed = flagged_members(session)
    assert [m.slack_user_id for m in listed] == [TARO]
    # The member's activity does not take them off the list: the secretariat decides.
    clock.advance(timedelta(days=1))
    with session_factory.begin() as session:
        found = members.find(session, TARO)
        assert found is not None
        found.last_seen_at = clock.now()
    lifecycle_jobs.sweep(_jobs(kyoso))
    with session_factory() as session:
        cycle = session.scalar(select(InactivityCycle))
    assert cycle is not None and cycle.status is CycleStatus.FLAGGED


# --- kyoso orgs remap-domain ----------------------------------------------------------------


def _cli(database_url: str, clock: FixedClock, *argv: str) -> int:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", database_url)
        return kyoso_cli(list(argv), clock=clock)


def test_remap_domain_dry_run_reports_what_the_real_run_does(
    session_factory: SessionFactory,
    database_url: str,
    clock: FixedClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    clock.advance(timedelta(days=3))
    now = clock.now()
    code = "01990" + str(check_digit("01990"))
    with session_factory.begin() as session:
        town = Organisation(
            code=code,
            kind=OrganisationKind.TOWN,
            name="旧名町",
            prefecture="北海道",
            domain="www.town.kyumei.lg.jp",
            source=OrganisationSource.MANUAL,
            created_at=now,
            updated_at=now,
        )
        session.add(town)
        session.flush()
        moved = members.ensure_member(session, clock=clock, slack_user_id="U0MOVED")
        moved.email = moved.email_normalized = "moved@town.shinmei.lg.jp"
        moved.organisation_id = town.id
        waiting = members.ensure_member(session, clock=clock, slack_user_id="U0WAIT")
        waiting.email = waiting.email_normalized = "wait@town.kyumei.lg.jp"
        waiting.organisation_id = town.id
        session.flush()
        session.add(
            AffiliationCheck(
                public_id="chk-moved",
                member_id=moved.id,
                status=CheckStatus.OPEN,
                organisation_id=town.id,
                old_email="moved@town.kyumei.lg.jp",
                new_email="moved@town.shinmei.lg.jp",
                outcome="review",
                reasons=[],
                created_at=now,
                updated_at=now,
            )
        )
        session.add(
            Application(
                public_id="app-shinmei",
                email="new@town.shinmei.lg.jp",
                email_normalized="new@town.shinmei.lg.jp",
                name="申請 花子",
                language="ja",
                rules_version="1",
                source=ApplicationSource.WEB,
                status=ApplicationStatus.PENDING,
                outcome="manual_review",
                reasons=[],
                submitted_at=now,
            )
        )
        town_id = town.id

    def state() -> tuple[object, ...]:
        with session_factory() as session:
            town = session.get(Organisation, town_id)
            check = session.scalar(select(AffiliationCheck))
            application = session.scalar(select(Application))
            member = members.find(session, "U0MOVED")
            assert town and check and application and member
            return (
                town.domain,
                check.status,
                member.organisation_id,
                application.outcome,
                application.organisation_id,
            )

    before = state()
    assert (
        _cli(
            database_url,
            clock,
            "orgs",
            "remap-domain",
            "town.kyumei.lg.jp",
            "town.shinmei.lg.jp",
            "--dry-run",
        )
        == 0
    )
    dry = capsys.readouterr().out
    assert state() == before
    assert "確認のみ" in dry and "dry run" in dry
    assert "所属を確認できたメンバー（未確認の確認を解決）: 1 人" in dry and "- U0MOVED" in dry
    assert "古いドメインのままのメンバー（アドレスが変わったときに移ります）: 1 人" in dry
    assert "- U0WAIT" in dry and "app-shinmei" in dry
    assert "@" not in dry  # no addresses

    assert (
        _cli(database_url, clock, "orgs", "remap-domain", "town.kyumei.lg.jp", "town.shinmei.lg.jp")
        == 0
    )
    real = capsys.readouterr().out
    assert real.replace("（確認のみ・変更なし）", "").replace(
        " (dry run: nothing changed)", ""
    ) == dry.replace("（確認のみ・変更なし）", "").replace(" (dry run: nothing changed)", "")
    domain, status, organisation, outcome, app_organisation = state()
    assert domain == "town.shinmei.lg.jp" and status is CheckStatus.RESOLVED
    assert organisation == town_id
    assert outcome == "eligible_local" and app_organisation == town_id
    # Bad input: a polite refusal, nothing changed.
    with pytest.raises(SystemExit) as refused:
        _cli(database_url, clock, "orgs", "remap-domain", "town.kyumei.lg.jp", "town.kyumei.lg.jp")
    assert refused.value.code == 2
    assert "同じ" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        _cli(database_url, clock, "orgs", "remap-domain", "town.nowhere.lg.jp", "town.else.lg.jp")
    assert state()[0] == "town.shinmei.lg.jp"
