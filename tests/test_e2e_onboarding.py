"""Onboarding end to end: team_join → welcome DM → "I agree" → recorded, over real HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import func, select

from bot import ids
from bot.cli import main as kyoso_cli
from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.eligibility.directory import OrganisationDirectory
from bot.services import members
from bot.services.applications import decisions, records, submission
from bot.services.applications.submission import ApplicationForm
from bot.slack.onboarding import dms
from models import (
    Application,
    ApplicationSource,
    ApplicationStatus,
    AuditEntry,
    Channel,
    ChannelCategory,
    ChannelStatus,
    Member,
    Organisation,
    Role,
)
from scheduler.jobs import JobContext, find_job
from tests.support.kyoso_server import RunningKyoso, make_settings, serve_kyoso, wait_for
from tests.support.slack_emulator import SlackEmulator
from tests.support.slack_sender import SlackSender

NEWBIE, ENGLISH, STRANGER = "U0NEWBIE", "U0ENGLISH", "U0STRANGER"
NEWBIE_EMAIL = "taro.yamada@city.sapporo.lg.jp"
INTRO = "C0INTRO"


@pytest.fixture
def kyoso(
    emulator: SlackEmulator,
    database_url: str,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> Iterator[RunningKyoso]:
    """Kyoso with an introduction channel, and a workspace with channels to suggest."""
    _channels(emulator, session_factory, clock)
    settings = make_settings(emulator.api_url, database_url, KYOSO_INTRO_CHANNEL=INTRO)
    with serve_kyoso(settings, session_factory=session_factory, clock=clock) as running:
        yield running


def _channels(emulator: SlackEmulator, session_factory: SessionFactory, clock: FixedClock) -> None:
    bot = emulator.bot_user_id
    emulator.add_channel("自己紹介", channel_id=INTRO, members=[bot])
    now = clock.now()
    rows = [
        ("C0ALL", "デジ_all_雑談", ChannelCategory.ALL, None, None, True),
        ("C0REHOK", "デジ_re_北海道", ChannelCategory.RE, "北海道", None, True),
        ("C0RETOK", "デジ_re_東京都", ChannelCategory.RE, "東京都", None, True),
        ("C0PJLIVE", "デジ_pj_窓口dx", ChannelCategory.PJ, None, now - timedelta(hours=1), True),
        (
            "C0PJQUIET",
            "デジ_pj_オープンデータ",
            ChannelCategory.PJ,
            None,
            now - timedelta(days=9),
            True,
        ),
        ("C0PJSOLO", "デジ_pj_防災", ChannelCategory.PJ, None, now - timedelta(days=2), False),
    ]
    with session_factory.begin() as session:
        for channel_id, name, category, prefecture, activity, bot_inside in rows:
            emulator.add_channel(name, channel_id=channel_id, members=[bot] if bot_inside else [])
            session.add(
                Channel(
                    slack_channel_id=channel_id,
                    name=name,
                    category=category,
                    status=ChannelStatus.ACTIVE,
                    prefecture=prefecture,
                    last_activity_at=activity,
                    created_at=now,
                    updated_at=now,
                )
            )


def _approved_application(
    session_factory: SessionFactory,
    clock: FixedClock,
    email: str = NEWBIE_EMAIL,
    approve: bool = True,
) -> str:
    with session_factory.begin() as session:
        submitted = submission.submit(
            session,
            clock=clock,
            directory=OrganisationDirectory.from_master_data(),
            form=ApplicationForm(
                email=email,
                name="山田 太郎",
                organisation_code="011002",
                agency_slug=None,
                department="デジタル推進課",
                language="ja",
                rules_version="1",
            ),
            source=ApplicationSource.WEB,
        )
        public_id = submitted.application.public_id
        if approve:
            decisions.approve(session, clock=clock, public_id=public_id, actor="U0SEC")
    return public_id


def _team_join(emulator: SlackEmulator, user_id: str, *, with_email: bool = True) -> dict[str, Any]:
    user = emulator.user(user_id)
    assert user is not None
    if not with_email:
        user["profile"].pop("email", None)
    return {"type": "team_join", "user": user}


def _rendered(message: dict[str, Any]) -> str:
    return json.dumps(message.get("blocks", []), ensure_ascii=False)


def _dms(emulator: SlackEmulator, user_id: str) -> list[dict[str, Any]]:
    return emulator.dm_messages(user_id)


def _welcome(emulator: SlackEmulator, user_id: str) -> dict[str, Any]:
    return wait_for(lambda: _dms(emulator, user_id))[0]


def _member(session_factory: SessionFactory, user_id: str) -> Member:
    with session_factory() as session:
        member = members.find(session, user_id)
        assert member is not None
        return member


def _actions(session_factory: SessionFactory, action: str) -> list[AuditEntry]:
    with session_factory() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def _answers(emulator: SlackEmulator, count: int) -> list[dict[str, Any]]:
    responses = wait_for(
        lambda: len(emulator.all_responses()) >= count and emulator.all_responses()
    )
    return [body for _, body in responses]


def _click(
    slack: SlackSender,
    emulator: SlackEmulator,
    user_id: str,
    action_id: str,
    value: str,
    message: dict[str, Any] | None = None,
) -> None:
    im = emulator.im_channel_id(user_id)
    response = slack.block_action(
        action_id,
        value,
        user_id=user_id,
        channel_id=im if message is not None else None,
        message=message,
    )
    assert response.status == 200


# --- team_join and the welcome DM ---------------------------------------------------------------


def test_an_approved_applicant_joins_and_is_welcomed_in_japanese(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    public_id = _approved_application(session_factory, clock)
    kyoso.kyoso.deps.gateway.applications.review.post(public_id)
    emulator.add_user(NEWBIE, name="yamada", email=NEWBIE_EMAIL, real_name="山田 太郎")
    assert slack.event(_team_join(emulator, NEWBIE)).status == 200

    welcome = _welcome(emulator, NEWBIE)
    rendered = _rendered(welcome)
    assert len(welcome["blocks"]) <= 50
    assert "共創プラットフォームへようこそ" in rendered and "山田 太郎 さん" in rendered
    for rule in (
        "個人の意見",
        "誹謗中傷",
        "転載",
        "機密性3",
        "機密性2",
        "個人情報",
        "おやすみモード",
    ):
        assert rule in rendered, rule
    assert "利用規約（第1版）" in rendered and "同意する" in rendered
    assert ids.ONBOARDING_ACCEPT_RULES in rendered
    # main channel, the prefecture's channel (Sapporo is in Hokkaido), liveliest themes first
    assert "<#C0ALL>" in rendered and "<#C0REHOK>" in rendered and "<#C0RETOK>" not in rendered
    assert "北海道の地域チャンネル" in rendered
    assert (
        rendered.index("<#C0PJLIVE>")
        < rendered.index("<#C0PJSOLO>")
        < rendered.index("<#C0PJQUIET>")
    )
    assert ids.ONBOARDING_JOIN_CHANNEL in rendered and ids.ONBOARDING_INTRO_OPEN in rendered

    # Recorded as welcomed once Slack has accepted the DM, a moment after it shows.
    wait_for(lambda: _member(session_factory, NEWBIE).welcomed_at is not None)
    with session_factory() as session:
        application = records.get(session, public_id)
        member = members.find(session, NEWBIE)
        assert member is not None
        organisation = session.get(Organisation, member.organisation_id)
    assert application.status is ApplicationStatus.JOINED
    assert application.slack_user_id == NEWBIE
    assert application.decided_by == "U0SEC"  # the decision stays the secretariat's
    assert organisation is not None and organisation.code == "011002"
    assert member.department == "デジタル推進課"
    assert member.welcomed_at == clock.now() and member.rules_accepted_at is None
    assert [e.actor for e in _actions(session_factory, "application.joined")] == [NEWBIE]
    review = wait_for(
        lambda: "ワークスペースに参加しました" in _rendered(emulator.messages("C0REVIEW")[0])
    )
    assert review
    assert len(emulator.messages("C0REVIEW")) == 1  # no "unknown joiner" alert


def test_i_agree_is_recorded_with_version_time_and_audit(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    _approved_application(session_factory, clock)
    emulator.add_user(NEWBIE, name="yamada", email=NEWBIE_EMAIL, real_name="山田 太郎")
    slack.event(_team_join(emulator, NEWBIE))
    welcome = _welcome(emulator, NEWBIE)

    clock.advance(timedelta(minutes=5))
    _click(slack, emulator, NEWBIE, ids.ONBOARDING_ACCEPT_RULES, "1", welcome)
    wait_for(lambda: _member(session_factory, NEWBIE).rules_version == "1")
    member = _member(session_factory, NEWBIE)
    assert member.rules_accepted_at == clock.now()
    entries = _actions(session_factory, "member.rules_accepted")
    assert [(e.actor, e.details) for e in entries] == [(NEWBIE, {"version": "1"})]
    # the DM now records the acceptance instead of offering the button
    updated = wait_for(lambda: "同意いただきました" in _rendered(_dms(emulator, NEWBIE)[0]))
    assert updated
    assert ids.ONBOARDING_ACCEPT_RULES not in _rendered(_dms(emulator, NEWBIE)[0])

    # a double click changes nothing and says so
    _click(slack, emulator, NEWBIE, ids.ONBOARDING_ACCEPT_RULES, "1", welcome)
    assert "すでに同意いただいています" in _answers(emulator, 1)[0]["text"]
    assert len(_actions(session_factory, "member.rules_accepted")) == 1


def test_an_english_speaking_member_is_welcomed_in_english(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    _approved_application(session_factory, clock)
    emulator.add_user(
        ENGLISH, name="smith", email=NEWBIE_EMAIL, real_name="Jane Smith", locale="en-US"
    )
    slack.event(_team_join(emulator, ENGLISH))
    rendered = _rendered(_welcome(emulator, ENGLISH))
    assert "Welcome to the co-creation platform" in rendered and "Jane Smith" in rendered
    assert "I agree" in rendered and "confidentiality class 3" in rendered
    assert "the regional channel for 北海道" in rendered
    assert "共創プラットフォームへようこそ" not in rendered


def test_team_join_delivered_twice_sends_one_dm(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    _approved_application(session_factory, clock)
    emulator.add_user(NEWBIE, name="yamada", email=NEWBIE_EMAIL)
    event = _team_join(emulator, NEWBIE)
    for retry in (None, 1):  # Slack's retry of the same delivery
        assert slack.event(event, event_id="Ev0JOIN", retry_num=retry).status == 200
    assert slack.event(event, event_id="Ev0JOINAGAIN").status == 200  # a second event id
    wait_for(lambda: _dms(emulator, NEWBIE))
    time.sleep(0.4)  # give a wrongly repeated DM the chance to show
    assert len(_dms(emulator, NEWBIE)) == 1
    assert len(_actions(session_factory, "application.joined")) == 1


def test_the_email_comes_from_users_info_when_the_event_lacks_it(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    public_id = _approved_application(session_factory, clock)
    emulator.add_user(NEWBIE, name="yamada", email=NEWBIE_EMAIL)
    slack.event(_team_join(emulator, NEWBIE, with_email=False))
    wait_for(lambda: _dms(emulator, NEWBIE))
    assert emulator.calls_to("users.info")[0].params["user"] == NEWBIE
    with session_factory() as session:
        assert records.get(session, public_id).status is ApplicationStatus.JOINED


def test_an_unknown_joiner_alerts_the_secretariat_and_nobody_is_removed(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    emulator.add_user(
        STRANGER, name="stranger", email="who@example.com", real_name="<!channel> 誰か"
    )
    slack.event(_team_join(emulator, STRANGER))
    alert = wait_for(lambda: emulator.messages("C0REVIEW"))[0]
    rendered = _rendered(alert)
    assert "申請の見つからない参加者" in rendered and f"<@{STRANGER}>" in rendered
    assert "who@example.com" in rendered and "&lt;!channel&gt; 誰か" in rendered
    assert "承認済み参加申請が見つかりませんでした" in rendered
    assert "自動では誰も削除していません" in rendered
    assert "<!channel>" not in json.dumps(alert, ensure_ascii=False)
    wait_for(lambda: _dms(emulator, STRANGER))  # welcomed like anyone else: the rules apply
    assert emulator.removed_users() == []
    assert not [c for c in emulator.calls if c.method.startswith(("admin.", "conversations.kick"))]
    assert _member(session_factory, STRANGER).status.value == "active"


def test_a_joiner_whose_application_is_still_pending_is_reported_as_such(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    public_id = _approved_application(session_factory, clock, approve=False)
    emulator.add_user(NEWBIE, name="yamada", email=NEWBIE_EMAIL)
    slack.event(_team_join(emulator, NEWBIE))
    alert = wait_for(lambda: emulator.messages("C0REVIEW"))[0]
    assert "「審査待ち」のままです" in _rendered(alert)
    with session_factory() as session:
        assert records.get(session, public_id).status is ApplicationStatus.PENDING


# --- self-introduction ---------------------------------------------------------------------------


def _joined(
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
    user_id: str = NEWBIE,
    locale: str = "ja-JP",
) -> dict[str, Any]:
    _approved_application(session_factory, clock)
    emulator.add_user(
        user_id, name="yamada", email=NEWBIE_EMAIL, real_name="山田 太郎", locale=locale
    )
    slack.event(_team_join(emulator, user_id))
    return _welcome(emulator, user_id)


def _intro_values(**values: str) -> dict[str, Any]:
    blocks = {
        "name": ids.ONBOARDING_INTRO_NAME_BLOCK,
        "organisation": ids.ONBOARDING_INTRO_ORGANISATION_BLOCK,
        "department": ids.ONBOARDING_INTRO_DEPARTMENT_BLOCK,
        "interests": ids.ONBOARDING_INTRO_INTERESTS_BLOCK,
    }
    return {
        blocks[key]: {ids.ONBOARDING_INTRO_INPUT: {"type": "plain_text_input", "value": value}}
        for key, value in values.items()
    }


def test_the_introduction_modal_is_prefilled_and_posts_escaped_text(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    welcome = _joined(slack, emulator, session_factory, clock)
    _click(slack, emulator, NEWBIE, ids.ONBOARDING_INTRO_OPEN, "intro", welcome)
    view = wait_for(lambda: emulator.opened_views())[-1]
    assert view["callback_id"] == ids.ONBOARDING_INTRO_MODAL
    prefilled = {
        block["block_id"]: block["element"].get("initial_value")
        for block in view["blocks"]
        if block["type"] == "input"
    }
    assert prefilled[ids.ONBOARDING_INTRO_NAME_BLOCK] == "山田 太郎"
    assert prefilled[ids.ONBOARDING_INTRO_ORGANISATION_BLOCK] == "北海道 札幌市"
    assert prefilled[ids.ONBOARDING_INTRO_DEPARTMENT_BLOCK] == "デジタル推進課"

    blank = slack.view_submission(
        ids.ONBOARDING_INTRO_MODAL,
        values=_intro_values(name="   "),
        user_id=NEWBIE,
        view_id=view["id"],
    )
    assert blank.json() == {
        "response_action": "errors",
        "errors": {ids.ONBOARDING_INTRO_NAME_BLOCK: "お名前を入力してください。"},
    }
    assert emulator.messages(INTRO) == []

    done = slack.view_submission(
        ids.ONBOARDING_INTRO_MODAL,
        values=_intro_values(
            name="山田 太郎",
            organisation="北海道 札幌市",
            department="デジタル推進課",
            interests="窓口DX <!channel> & <https://evil.example|ここを押して>",
        ),
        user_id=NEWBIE,
        view_id=view["id"],
    )
    assert done.status == 200 and done.body_text in ("", "{}")
    post = wait_for(lambda: emulator.messages(INTRO))[0]
    rendered = json.dumps(post, ensure_ascii=False)
    assert "山田 太郎 さん" in rendered and f"<@{NEWBIE}>" in rendered and "窓口DX" in rendered
    assert "<!channel>" not in rendered and "<https://evil.example" not in rendered
    assert "&lt;!channel&gt; &amp; &lt;https://evil.example|ここを押して&gt;" in rendered
    wait_for(lambda: _member(session_factory, NEWBIE).introduced_at == clock.now())


def test_an_introduction_modal_kyoso_cannot_read_is_refused_and_nothing_posted(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    _joined(slack, emulator, session_factory, clock)
    for metadata in ("ja", "", '{"language": "fr"}'):  # an older release's, none, forged
        answer = slack.view_submission(
            ids.ONBOARDING_INTRO_MODAL,
            values=_intro_values(name="山田 太郎"),
            user_id=NEWBIE,
            private_metadata=metadata,
        )
        errors = answer.json()["errors"]
        assert "古くなっています" in errors[ids.ONBOARDING_INTRO_NAME_BLOCK], metadata
    assert emulator.messages(INTRO) == []
    assert _member(session_factory, NEWBIE).introduced_at is None


# --- channel suggestions -------------------------------------------------------------------------


def test_join_buttons_invite_or_link_and_refuse_other_channels(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    welcome = _joined(slack, emulator, session_factory, clock)
    _click(slack, emulator, NEWBIE, ids.ONBOARDING_JOIN_CHANNEL, "C0PJLIVE", welcome)
    assert "<#C0PJLIVE> に参加しました" in _answers(emulator, 1)[0]["text"]
    channel = emulator.channel("C0PJLIVE")
    assert channel is not None and NEWBIE in channel["members"]

    # Kyoso is not in this one: Slack refuses the invite, the member gets a link instead
    _click(slack, emulator, NEWBIE, ids.ONBOARDING_JOIN_CHANNEL, "C0PJSOLO", welcome)
    answer = _answers(emulator, 2)[1]["text"]
    assert "自動では参加できませんでした" in answer
    assert "https://slack.com/app_redirect?channel=C0PJSOLO" in answer

    # a crafted payload cannot get the member into the secretariat's review channel
    _click(slack, emulator, NEWBIE, ids.ONBOARDING_JOIN_CHANNEL, "C0REVIEW", welcome)
    assert "参加できません。何も変更していません" in _answers(emulator, 3)[2]["text"]
    invited = [c.params["channel"] for c in emulator.calls_to("conversations.invite")]
    assert invited == ["C0PJLIVE", "C0PJSOLO"]
    review = emulator.channel("C0REVIEW")
    assert review is not None and NEWBIE not in review["members"]


# --- /kyoso rules and /kyoso whoami --------------------------------------------------------------


def test_kyoso_rules_shows_the_rules_and_accepts_in_japanese(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    emulator.add_user("U0JA", name="sato", locale="ja-JP")
    slack.command("/kyoso", "rules", user_id="U0JA", channel_id="C0REVIEW")
    answer = _answers(emulator, 1)[0]
    assert answer["response_type"] == "ephemeral"
    assert answer["text"] == "共創プラットフォーム 利用規約（第1版）"
    assert "機密性3" in _rendered(answer) and ids.ONBOARDING_ACCEPT_RULES in _rendered(answer)
    # pressed in the ephemeral answer: recorded, and the answer replaced through response_url
    slack.block_action(ids.ONBOARDING_ACCEPT_RULES, "1", user_id="U0JA")
    replaced = _answers(emulator, 2)[1]
    assert replaced["replace_original"] is True and "同意いただきました" in _rendered(replaced)
    assert _member(session_factory, "U0JA").rules_version == "1"


def test_kyoso_rules_in_english_after_acceptance_shows_no_button(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    emulator.add_user("U0EN", name="smith", locale="en-US")
    with session_factory.begin() as session:
        members.ensure_member(session, clock=clock, slack_user_id="U0EN")
        session.scalars(select(Member)).one().rules_version = "1"
        session.scalars(select(Member)).one().rules_accepted_at = clock.now()
    slack.command("/kyoso", "rules", user_id="U0EN", channel_id="C0REVIEW")
    answer = _answers(emulator, 1)[0]
    assert answer["text"] == "Usage rules of the co-creation platform (version 1)"
    rendered = _rendered(answer)
    assert "You accepted version 1" in rendered and ids.ONBOARDING_ACCEPT_RULES not in rendered


def test_kyoso_whoami_shows_what_kyoso_holds_in_japanese(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    welcome = _joined(slack, emulator, session_factory, clock)
    _click(slack, emulator, NEWBIE, ids.ONBOARDING_ACCEPT_RULES, "1", welcome)
    wait_for(lambda: _member(session_factory, NEWBIE).rules_version == "1")
    with session_factory.begin() as session:
        members.grant_role(
            session, clock=clock, slack_user_id=NEWBIE, role=Role.FACILITATOR, actor="cli"
        )
    slack.command("/kyoso", "whoami", user_id=NEWBIE, channel_id="C0REVIEW")
    answer = wait_for(
        lambda: [b for _, b in emulator.all_responses() if "保持しているあなたの情報" in b["text"]]
    )[0]
    rendered = _rendered(answer)
    for expected in (
        "山田 太郎",
        NEWBIE_EMAIL,
        "北海道 札幌市",
        "デジタル推進課",
        "有効",
        "ファシリテーター",
        "Slack の設定に従う（現在: 日本語）",
        "第1版に同意",
        "参加日時",
    ):
        assert expected in rendered, expected


def test_kyoso_whoami_in_english_and_for_a_stranger(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    _joined(slack, emulator, session_factory, clock, user_id=ENGLISH, locale="en-US")
    slack.command("/kyoso", "whoami", user_id=ENGLISH, channel_id="C0REVIEW")
    answer = _answers(emulator, 1)[0]
    assert answer["text"] == "What Kyoso holds about you"
    rendered = _rendered(answer)
    assert "Not accepted" in rendered and "Follows Slack (now: English)" in rendered
    assert NEWBIE_EMAIL in rendered and "*Status*\\nactive" in rendered

    emulator.add_user("U0NOBODY", name="nobody", locale="ja-JP")
    slack.command("/kyoso", "whoami", user_id="U0NOBODY", channel_id="C0REVIEW")
    assert "まだ保持していません" in _rendered(_answers(emulator, 2)[1])


def test_help_lists_the_new_subcommands(
    kyoso: RunningKyoso, slack: SlackSender, emulator: SlackEmulator
) -> None:
    emulator.add_user("U0JA", name="sato", locale="ja-JP")
    slack.command("/kyoso", "help", user_id="U0JA", channel_id="C0REVIEW")
    rendered = _rendered(_answers(emulator, 1)[0])
    assert "/kyoso rules" in rendered and "/kyoso whoami" in rendered


# --- a new version of the rules ------------------------------------------------------------------


def test_a_new_rules_version_asks_members_again(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    welcome = _joined(slack, emulator, session_factory, clock)
    _click(slack, emulator, NEWBIE, ids.ONBOARDING_ACCEPT_RULES, "1", welcome)
    wait_for(lambda: _member(session_factory, NEWBIE).rules_version == "1")

    # the secretariat publishes version 2 from the command line
    (tmp_path / "ja.md").write_text("*第2版*\n新しい規約です。", encoding="utf-8")
    (tmp_path / "en.md").write_text("*Version 2*\nThe new rules.", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    args = ["rules", "publish", "--version", "2", "--ja", "ja.md", "--en", "en.md"]
    assert kyoso_cli(args) == 0
    with pytest.raises(SystemExit) as twice:  # a version is published once
        kyoso_cli(args)
    assert twice.value.code == 1

    monkeypatch.setattr(dms, "DM_PACE_SECONDS", 0)
    clock.advance(timedelta(hours=1))
    settings = make_settings(emulator.api_url, database_url, KYOSO_INTRO_CHANNEL=INTRO)
    context = JobContext.with_slack(
        session_factory=session_factory,
        clock=clock,
        client=WebClient(token="xoxb-test", base_url=emulator.api_url),
        settings=settings,
    )
    job = find_job("onboarding-rules-ask-again")
    assert job.run(context)["asked"] == 1
    assert job.run(context)["asked"] == 0  # once per member and version
    asked = _dms(emulator, NEWBIE)[1]
    rendered = _rendered(asked)
    assert "利用規約が改訂されました" in rendered and "新しい規約です" in rendered
    assert "第1版に同意いただいています" in rendered

    # the old button no longer accepts; the new one does
    _click(slack, emulator, NEWBIE, ids.ONBOARDING_ACCEPT_RULES, "1", welcome)
    assert "利用規約が改訂されています" in _answers(emulator, 1)[0]["text"]
    assert _member(session_factory, NEWBIE).rules_version == "1"
    _click(slack, emulator, NEWBIE, ids.ONBOARDING_ACCEPT_RULES, "2", asked)
    wait_for(lambda: _member(session_factory, NEWBIE).rules_version == "2")
    wait_for(lambda: "第2版の利用規約に同意いただきました" in _rendered(_dms(emulator, NEWBIE)[1]))
    assert "第1版に同意いただいています" not in _rendered(_dms(emulator, NEWBIE)[1])
    with session_factory() as session:
        versions = session.scalars(
            select(AuditEntry.details)
            .where(AuditEntry.action == "member.rules_accepted")
            .order_by(AuditEntry.id)
        ).all()
    assert versions == [{"version": "1"}, {"version": "2"}]


def test_the_review_channel_and_counts_stay_clean_for_bots(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    emulator.add_user("U0BOTUSER", name="helper", is_bot=True)
    slack.event(_team_join(emulator, "U0BOTUSER"))
    wait_for(lambda: _actions(session_factory, "member.joined"))
    time.sleep(0.3)
    assert emulator.messages("C0REVIEW") == [] and _dms(emulator, "U0BOTUSER") == []
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Application)) == 0
