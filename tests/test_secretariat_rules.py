"""Publishing a new version of the usage rules from Slack (issue 16, item 3): `/kyoso rules
publish` → the form → the preview in both languages → 「公開する」 makes it current, audited,
and the onboarding job asks members who accepted an older version again. Members are refused
at every step and nothing changes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from bot import ids
from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.services import members, rules
from models import AuditEntry, Member, Role, RulesVersion
from scheduler.jobs import JobContext, find_job
from tests.support.kyoso_server import make_settings, wait_for
from tests.support.slack_emulator import SlackEmulator
from tests.support.slack_sender import SlackSender

SECRETARY, MEMBER, OLD_MEMBER = "U0SEC", "U0MEM", "U0OLD"
TEXT_JA = "*第1条* 互いを尊重します。\n\n*第2条* 個人情報を書きません。"
TEXT_EN = "*Article 1* Respect each other.\n\n*Article 2* No personal data."


@pytest.fixture(autouse=True)
def _people(emulator: SlackEmulator, session_factory: SessionFactory, clock: FixedClock) -> None:
    for user_id in (SECRETARY, MEMBER, OLD_MEMBER):
        emulator.add_user(user_id, name=user_id.lower(), locale="ja-JP")
    with session_factory.begin() as session:
        for user_id in (SECRETARY, MEMBER, OLD_MEMBER):
            members.ensure_member(session, clock=clock, slack_user_id=user_id)
        members.grant_role(
            session, clock=clock, slack_user_id=SECRETARY, role=Role.SECRETARIAT, actor="cli"
        )
        old = session.scalar(select(Member).where(Member.slack_user_id == OLD_MEMBER))
        assert old is not None
        old.rules_version = "1"
        old.rules_accepted_at = clock.now() - timedelta(days=30)
    clock.advance(timedelta(minutes=1))


def _values(version: str, text_ja: str = TEXT_JA, text_en: str = TEXT_EN) -> dict[str, Any]:
    def typed(value: str) -> dict[str, Any]:
        return {ids.SECRETARIAT_RULES_INPUT: {"type": "plain_text_input", "value": value}}

    return {
        ids.SECRETARIAT_RULES_VERSION_BLOCK: typed(version),
        ids.SECRETARIAT_RULES_JA_BLOCK: typed(text_ja),
        ids.SECRETARIAT_RULES_EN_BLOCK: typed(text_en),
        ids.SECRETARIAT_RULES_SUMMARY_BLOCK: typed("第2条を追加 / added article 2"),
    }


def _open_form(slack: SlackSender, emulator: SlackEmulator) -> dict[str, Any]:
    assert (
        slack.command("/kyoso", "rules publish", user_id=SECRETARY, channel_id="C0REVIEW").status
        == 200
    )
    return wait_for(lambda: emulator.opened_views())[-1]


def _preview(slack: SlackSender, form: dict[str, Any], user_id: str = SECRETARY) -> Any:
    return slack.view_submission(
        ids.SECRETARIAT_RULES_EDIT_MODAL,
        values=_values("2"),
        user_id=user_id,
        private_metadata=form["private_metadata"],
        blocks=form["blocks"],
    )


def _publish(slack: SlackSender, preview: dict[str, Any], user_id: str = SECRETARY) -> Any:
    return slack.view_submission(
        ids.SECRETARIAT_RULES_PREVIEW_MODAL,
        user_id=user_id,
        private_metadata=preview["private_metadata"],
        blocks=preview["blocks"],
    )


def _versions(session_factory: SessionFactory) -> list[str]:
    with session_factory() as session:
        return list(session.scalars(select(RulesVersion.version)))


def test_publishing_from_the_modal_makes_it_current_and_asks_members_again(
    slack: SlackSender,
    emulator: SlackEmulator,
    database_url: str,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    form = _open_form(slack, emulator)
    assert form["callback_id"] == ids.SECRETARIAT_RULES_EDIT_MODAL

    answer = _preview(slack, form).json()
    assert answer["response_action"] == "update"
    preview = answer["view"]
    assert preview["callback_id"] == ids.SECRETARIAT_RULES_PREVIEW_MODAL
    assert preview["submit"]["text"] == "公開する"
    shown = {b.get("block_id"): b.get("text", {}).get("text") for b in preview["blocks"]}
    assert shown[ids.SECRETARIAT_RULES_PREVIEW_JA_BLOCK] == TEXT_JA
    assert shown[ids.SECRETARIAT_RULES_PREVIEW_EN_BLOCK] == TEXT_EN
    assert _versions(session_factory) == []  # a preview publishes nothing

    done = _publish(slack, preview).json()
    assert "第2版を公開しました" in done["view"]["blocks"][0]["text"]["text"]
    with session_factory() as session:
        current = rules.current(session)
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "rules.published")
        ).one()
    assert (current.version, current.text_ja, current.text_en) == ("2", TEXT_JA, TEXT_EN)
    assert entry.actor == SECRETARY
    assert entry.details == {"previous": "1", "summary": "第2条を追加 / added article 2"}

    # A double click on 「公開する」: a polite notice, still one version and one audit entry.
    again = _publish(slack, preview).json()
    assert "すでにあります" in again["view"]["blocks"][0]["text"]["text"]
    assert _versions(session_factory) == ["2"]

    # The existing onboarding job asks the member who accepted version 1 again.
    context = JobContext.with_slack(
        session_factory=session_factory,
        clock=clock,
        client=WebClient(token="xoxb-test", base_url=emulator.api_url),
        settings=make_settings(emulator.api_url, database_url),
    )
    result = find_job("onboarding-rules-ask-again").run(context)
    assert result["version"] == "2" and result["asked"] == 1
    asked = emulator.dm_messages(OLD_MEMBER)
    assert len(asked) == 1 and "互いを尊重します" in str(asked[0]["blocks"])
    assert emulator.dm_messages(MEMBER) == []  # never accepted: not a re-ask


def test_back_returns_to_the_form_as_filled(
    slack: SlackSender, emulator: SlackEmulator, session_factory: SessionFactory
) -> None:
    form = _open_form(slack, emulator)
    preview = _preview(slack, form).json()["view"]
    stored = emulator.view(form["id"])
    assert stored is not None
    assert (
        slack.block_action(
            ids.SECRETARIAT_RULES_BACK,
            "back",
            user_id=SECRETARY,
            view={**preview, "id": form["id"], "hash": stored["hash"]},
        ).status
        == 200
    )

    def refilled() -> dict[str, Any] | None:
        view = emulator.view(form["id"])
        return view if view and view["callback_id"] == ids.SECRETARIAT_RULES_EDIT_MODAL else None

    view = wait_for(refilled)
    initial = {b["block_id"]: b["element"].get("initial_value") for b in view["blocks"][1:]}
    assert initial[ids.SECRETARIAT_RULES_VERSION_BLOCK] == "2"
    assert initial[ids.SECRETARIAT_RULES_JA_BLOCK] == TEXT_JA
    assert initial[ids.SECRETARIAT_RULES_EN_BLOCK] == TEXT_EN
    assert _versions(session_factory) == []


@pytest.mark.parametrize(
    ("version", "text_en", "block", "said"),
    [
        ("第２版!", TEXT_EN, ids.SECRETARIAT_RULES_VERSION_BLOCK, "は使えません"),
        ("1", TEXT_EN, ids.SECRETARIAT_RULES_VERSION_BLOCK, "すでにあります"),
        ("2", "   ", ids.SECRETARIAT_RULES_EN_BLOCK, "本文が空です"),
    ],
)
def test_bad_input_is_answered_under_its_field_and_changes_nothing(
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    version: str,
    text_en: str,
    block: str,
    said: str,
) -> None:
    form = _open_form(slack, emulator)
    answer = slack.view_submission(
        ids.SECRETARIAT_RULES_EDIT_MODAL,
        values=_values(version, text_en=text_en),
        user_id=SECRETARY,
        private_metadata=form["private_metadata"],
    ).json()
    assert answer["response_action"] == "errors"
    assert said in answer["errors"][block]
    assert _versions(session_factory) == []


def test_a_member_can_neither_open_nor_submit_it(
    slack: SlackSender, emulator: SlackEmulator, session_factory: SessionFactory
) -> None:
    assert (
        slack.command("/kyoso", "rules publish", user_id=MEMBER, channel_id="C0REVIEW").status
        == 200
    )
    refusal = wait_for(lambda: emulator.all_responses())[-1][1]
    assert "事務局のみ" in refusal["text"]
    assert emulator.opened_views() == []

    # A forged submission of the form and of the preview: refused before anything runs.
    form = _open_form(slack, emulator)
    preview = _preview(slack, form).json()["view"]
    forged_form = _preview(slack, form, user_id=MEMBER)
    assert forged_form.json().get("response_action") != "update"
    forged = _publish(slack, preview, user_id=MEMBER)
    assert "公開しました" not in forged.body_text
    assert _versions(session_factory) == []
    with session_factory() as session:
        assert rules.current(session).version == "1"
        assert (
            session.scalars(select(AuditEntry).where(AuditEntry.action == "rules.published")).all()
            == []
        )
