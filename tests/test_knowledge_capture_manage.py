"""Managing kept knowledge end to end: `/kyoso forget` lists and removes a member's own
entries (anyone else's removal is refused, the secretariat may remove any), a channel's
facilitators opt it out (its entries go, none are kept again), the secretariat writes FAQ
entries through the same privacy gate."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot import ids
from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.domain.channels import SlackChannel
from bot.domain.knowledge import EntrySummary
from bot.services.channels import facilitation, registry
from bot.services.knowledge import channel_choices, entries
from bot.views.knowledge.capture import forget_blocks
from models import AuditEntry, EntryKind, EntryStatus
from tests.support.kyoso_server import RunningKyoso, wait_for
from tests.support.slack_emulator import SlackEmulator
from tests.support.slack_sender import SlackSender
from tests.test_knowledge_capture import (
    ANSWERER,
    ASKER,
    FACILITATOR,
    PHONE,
    PUBLIC,
    SECRETARY,
    STRANGER,
    active,
    answered_thread,
    check,
    deliver,
    found,
    keep,
    kept,
    rendered,
    setup_workspace,
    shortcut,
    submit,
    values,
)

OTHER = "C0OTHER"


@pytest.fixture(autouse=True)
def _workspace(emulator: SlackEmulator, session_factory: SessionFactory, clock: FixedClock) -> None:
    setup_workspace(emulator, session_factory, clock)


def command(
    slack: SlackSender, emulator: SlackEmulator, text: str, user_id: str, channel: str = PUBLIC
) -> Any:
    """`/kyoso <text>`: the answer posted to its response_url."""
    url = emulator.new_response_url()
    response = slack.command(
        ids.SLASH_COMMAND, text, user_id=user_id, channel_id=channel, response_url=url
    )
    assert response.status == 200
    return wait_for(lambda: emulator.responses(url))[-1]


def buttons(message: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(block_id, button) of every remove button."""
    return [
        (block["block_id"], block["accessory"])
        for block in message.get("blocks", [])
        if block.get("accessory", {}).get("action_id") == ids.KNOWLEDGE_REMOVE
    ]


def press_remove(
    slack: SlackSender, emulator: SlackEmulator, user_id: str, entry_id: int, block_id: str
) -> Any:
    url_count = len(emulator.all_responses())
    response = slack.block_action(
        ids.KNOWLEDGE_REMOVE,
        str(entry_id),
        user_id=user_id,
        channel_id=PUBLIC,
        message={"type": "message", "ts": "1700000000.000100", "text": "x"},
        block_id=block_id,
    )
    assert response.status == 200
    return wait_for(lambda: emulator.all_responses()[url_count:])[-1][1]


def kept_two(
    session_factory: SessionFactory, clock: FixedClock, emulator: SlackEmulator
) -> tuple[int, int]:
    """An entry answered by ANSWERER and one only STRANGER is part of."""
    root, answer = answered_thread(emulator)
    mine = keep(session_factory, clock, root, answer)
    with session_factory.begin() as session:
        theirs = entries.save_faq(
            session,
            clock=clock,
            actor=STRANGER,
            key="stranger-note",
            title="公用車の予約方法",
            question="公用車はどう予約しますか？",
            answer="庁内ポータルから予約します。",
        ).entry_id
    return mine, theirs


# ---- /kyoso forget ----------------------------------------------------------------------------


def test_forget_lists_own_entries_and_removes_one(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    mine, theirs = kept_two(session_factory, clock, emulator)

    listed = command(slack, emulator, "forget", ANSWERER)  # the answerer owns it too

    assert listed["response_type"] == "ephemeral"
    ((block_id, button),) = buttons(listed)
    assert button["value"] == str(mine) and block_id == f"{ids.KNOWLEDGE_FORGET_BLOCK}:{mine}"
    assert button["confirm"]["title"]["text"] == "ナレッジの削除"
    assert "移行の手順書" in rendered(listed) and "公用車" not in rendered(listed)

    answered = press_remove(slack, emulator, ANSWERER, mine, block_id)

    assert answered["replace_original"] is True
    assert "「移行の手順書」を削除しました" in rendered(answered)
    assert buttons(answered) == []  # the list again, without it
    assert [e.id for e in active(session_factory)] == [theirs]
    assert found(session_factory, clock, "ガバメントクラウド 手順書") == []
    with session_factory() as session:
        audit = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "knowledge.removed")
        ).one()
    assert (audit.actor, audit.target_id, audit.reason) == (ANSWERER, str(mine), "own_request")

    again = press_remove(slack, emulator, ANSWERER, mine, block_id)  # a double click
    assert "すでに削除されています" in rendered(again)


def test_another_members_entry_cannot_be_removed(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    mine, theirs = kept_two(session_factory, clock, emulator)

    refused = press_remove(slack, emulator, STRANGER, mine, "search_result")

    assert "ご自身が記録・質問・回答したナレッジだけ" in refused["text"]
    assert refused["response_type"] == "ephemeral"
    assert sorted(e.id for e in active(session_factory)) == sorted([mine, theirs])
    invalid = press_remove(slack, emulator, STRANGER, 0, "search_result")
    assert "分かりませんでした" in invalid["text"]
    assert command(slack, emulator, "forget", FACILITATOR)["text"] == (
        "あなたが記録・質問・回答したナレッジはありません。"
    )


def test_the_secretariat_removes_any_entry(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    mine, theirs = kept_two(session_factory, clock, emulator)

    removed = press_remove(slack, emulator, SECRETARY, theirs, "search_result")

    assert "「公用車の予約方法」を削除しました" in removed["text"]
    assert [e.id for e in active(session_factory)] == [mine]
    (entry,) = [e for e in kept(session_factory) if e.id == theirs]
    assert (entry.status, entry.removed_by) == (EntryStatus.REMOVED, SECRETARY)
    with session_factory() as session:
        reason = session.scalar(
            select(AuditEntry.reason).where(AuditEntry.action == "knowledge.removed")
        )
    assert reason == "secretariat"


def test_the_forget_list_escapes_what_members_wrote() -> None:
    hostile = EntrySummary(
        1, EntryKind.THREAD, "<!channel> <@U0BOSS> *太字*", "C0KNOW", datetime.now(UTC)
    )
    text = json.dumps([b.to_dict() for b in forget_blocks("ja", [hostile])], ensure_ascii=False)
    assert "<!channel>" not in text and "<@U0BOSS>" not in text
    assert "&lt;!channel&gt;" in text


# ---- a channel's choices ----------------------------------------------------------------------


def open_settings(
    slack: SlackSender, emulator: SlackEmulator, user_id: str, channel: str = PUBLIC
) -> dict[str, Any]:
    before = len(emulator.opened_views())
    assert (
        slack.command(
            ids.SLASH_COMMAND, "knowledge-channel", user_id=user_id, channel_id=channel
        ).status
        == 200
    )
    return wait_for(lambda: emulator.opened_views()[before:])[0]


def choose(slack: SlackSender, view: dict[str, Any], user_id: str, *chosen: str) -> Any:
    state = {
        ids.KNOWLEDGE_CHANNEL_CHOICES_BLOCK: {
            ids.KNOWLEDGE_CHANNEL_CHOICES: {
                "type": "checkboxes",
                "selected_options": [{"value": value} for value in chosen],
            }
        }
    }
    return slack.view_submission(
        ids.KNOWLEDGE_CHANNEL_MODAL, values=state, user_id=user_id, view_id=view["id"]
    )


def test_opting_out_removes_the_channels_entries_and_keeps_none_again(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    _, theirs = kept_two(session_factory, clock, emulator)
    view = open_settings(slack, emulator, FACILITATOR)
    assert view["callback_id"] == ids.KNOWLEDGE_CHANNEL_MODAL
    assert "記録済みのナレッジはすべて削除され" in rendered(view)

    assert choose(slack, view, FACILITATOR, "opted_out", "suggest").json() is None

    assert [e.id for e in active(session_factory)] == [theirs]  # the FAQ is not the channel's
    with session_factory() as session:
        assert channel_choices.choice(session, PUBLIC) == channel_choices.Choice(True, True)
    told = wait_for(lambda: emulator.ephemeral_messages(PUBLIC, FACILITATOR))[-1]
    assert "1 件を削除しました" in told["text"] and "提案: オン" in told["text"]

    # Nothing is kept from it again: the shortcut explains, a ✅ offers nothing.
    _, answer = answered_thread(emulator)
    notice = shortcut(slack, emulator, answer, ASKER)
    assert notice["callback_id"] == ids.KNOWLEDGE_CAPTURE_NOTICE_MODAL
    assert "ナレッジに記録しないことになっています" in rendered(notice)
    deliver(slack, session_factory, check(ASKER, answer))
    assert emulator.ephemeral_messages(PUBLIC, ASKER) == []
    reopened = open_settings(slack, emulator, FACILITATOR)
    chosen = reopened["blocks"][1]["element"]["initial_options"]
    assert [o["value"] for o in chosen] == ["opted_out", "suggest"]


def test_only_the_channels_facilitators_and_the_secretariat_choose(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    keep(session_factory, clock, *answered_thread(emulator))

    refused = command(slack, emulator, "knowledge-channel", STRANGER)
    assert "ファシリテーターと事務局だけ" in refused["text"]
    # A facilitator of another channel passes the guard, not this channel's check.
    emulator.add_channel("デジ_all_other", channel_id=OTHER, members=[STRANGER])
    with session_factory.begin() as session:
        other = registry.upsert_channel(
            session, clock=clock, slack_channel=SlackChannel(id=OTHER, name="デジ_all_other")
        )
        facilitation.replace_facilitators(
            session, clock=clock, channel=other, slack_user_ids=[STRANGER]
        )
    refused = command(slack, emulator, "knowledge-channel", STRANGER)
    assert "ファシリテーターと事務局だけ" in refused["text"]
    outside = command(slack, emulator, "knowledge-channel", SECRETARY, channel="D0DM")
    assert "公開チャンネルの中で" in outside["text"]
    # A facilitator's modal submitted by someone who lost the channel: refused, nothing changes.
    view = open_settings(slack, emulator, SECRETARY)
    answered = choose(slack, view, STRANGER, "opted_out").json()
    assert answered["response_action"] == "errors"
    assert len(active(session_factory)) == 1
    with session_factory() as session:
        assert channel_choices.choice(session, PUBLIC).opted_out is False


# ---- the secretariat's FAQ --------------------------------------------------------------------


def test_the_secretariat_writes_an_faq_through_the_gate(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    before = len(emulator.opened_views())
    slack.command(ids.SLASH_COMMAND, "faq", user_id=SECRETARY, channel_id=PUBLIC)
    view = wait_for(lambda: emulator.opened_views()[before:])[0]
    assert view["callback_id"] == ids.KNOWLEDGE_FAQ_MODAL

    typed = values(
        title="参加登録の変更",
        question="所属が変わったら登録はどう変えますか？",
        answer=f"事務局（担当携帯 {PHONE}）までご連絡ください。",
        tags="登録, 異動",
    )
    for _ in range(2):  # submitted twice: one entry
        response = slack.view_submission(
            ids.KNOWLEDGE_FAQ_MODAL, values=typed, user_id=SECRETARY, view_id=view["id"]
        )
        assert response.json() is None

    (entry,) = kept(session_factory)
    assert entry.kind is EntryKind.FAQ and entry.recorder_id == SECRETARY
    assert PHONE not in entry.answer and entry.masked_kinds == ["phone_number"]
    assert entry.tags == ["登録", "異動"]
    wait_for(lambda: len(emulator.dm_messages(SECRETARY)) == 2)
    first, second = emulator.dm_messages(SECRETARY)
    assert "FAQ を登録しました" in first["text"] and "電話番号" in first["text"]
    assert "FAQ を更新しました" in second["text"]
    assert found(session_factory, clock, "所属 登録") == [entry.id]

    labelled = values(title="内部資料", question="資料は？", answer="【部外秘】 資料の内容です")
    refused = slack.view_submission(
        ids.KNOWLEDGE_FAQ_MODAL, values=labelled, user_id=SECRETARY, view_id=view["id"]
    ).json()
    assert "部外秘" in refused["errors"][ids.KNOWLEDGE_CAPTURE_ANSWER_BLOCK]
    assert len(kept(session_factory)) == 1


def test_faq_is_for_the_secretariat_only(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    refused = command(slack, emulator, "faq", ASKER)
    assert "事務局メンバーのみ" in refused["text"]
    response = slack.view_submission(
        ids.KNOWLEDGE_FAQ_MODAL,
        values=values(title="t", question="q", answer="a"),
        user_id=ASKER,
        private_metadata=json.dumps({"key": "abc123"}),
        blocks=[
            {
                "type": "input",
                "block_id": ids.KNOWLEDGE_CAPTURE_TITLE_BLOCK,
                "label": {"type": "plain_text", "text": "t"},
                "element": {"type": "plain_text_input", "action_id": "value"},
            }
        ],
    )
    assert response.json()["response_action"] == "errors"
    assert kept(session_factory) == []


def test_a_modal_opened_before_the_opt_out_keeps_nothing(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    _, answer = answered_thread(emulator)
    view = shortcut(slack, emulator, answer, ASKER)
    with session_factory.begin() as session:
        channel_choices.choose(
            session, clock=clock, channel_id=PUBLIC, actor=FACILITATOR, opted_out=True
        )

    answered = submit(slack, view, ASKER)

    assert answered is not None and answered["response_action"] == "errors"
    assert "記録しないことになっています" in answered["errors"][ids.KNOWLEDGE_CAPTURE_TITLE_BLOCK]
    assert kept(session_factory) == []
