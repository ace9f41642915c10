"""Keeping knowledge end to end: the message shortcut and the ✅ offer open the prefilled,
masked modal; its submission keeps one entry per thread; a handling label, a private
channel or a stranger's ✅ keep nothing; the entry follows its source's edits and deletion;
Slack's Retry-After on conversations.replies is waited out."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from bot import ids
from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.domain.channels import SlackChannel
from bot.services import members
from bot.services.activity import slack_ts_to_datetime
from bot.services.channels import facilitation, registry
from bot.services.knowledge import entries, search
from bot.slack.knowledge.capture import prefill
from bot.slack.knowledge.threads import CannotCapture, Post, Thread, ThreadReader
from models import EntryKind, EntryStatus, InboxEvent, InboxStatus, KnowledgeEntry, Role
from tests.support.kyoso_server import RunningKyoso, wait_for
from tests.support.slack_emulator import SlackEmulator
from tests.support.slack_sender import SlackSender

ASKER, ANSWERER, STRANGER = "U0ASKER", "U0ANSWER", "U0STRANGE"
FACILITATOR, AMBASSADOR, SECRETARY = "U0FACIL", "U0AMBAS", "U0SECRET"
MEMBERS = (ASKER, ANSWERER, STRANGER, FACILITATOR, AMBASSADOR, SECRETARY)
PUBLIC, PRIVATE = "C0KNOW", "G0PRIV"
PREFECTURE = "岩手県"

QUESTION = "ガバメントクラウドへの移行の手順書はどこにありますか？\n来年度の計画に使います。"
ANSWER = (
    "デジタル庁のサイトに手順書があります。"
    "不明点は担当の山田さん 090-1234-5678 か yamada@example.lg.jp まで。"
)
PHONE, EMAIL = "090-1234-5678", "yamada@example.lg.jp"


# ---- the workspace ----------------------------------------------------------------------------


def setup_workspace(
    emulator: SlackEmulator, session_factory: SessionFactory, clock: FixedClock
) -> None:
    """Members with user tokens, a public channel in the registry (a prefecture, a
    facilitator), a private channel; the bot is a member of both."""
    for user_id in MEMBERS:
        emulator.add_user(user_id, name=user_id.lower(), locale="ja-JP")
        emulator.add_token(
            f"xoxp-{user_id.lower()}", scopes=["chat:write", "reactions:write"], user_id=user_id
        )
    everyone = [emulator.bot_user_id, *MEMBERS]
    emulator.add_channel("デジ_re_岩手", channel_id=PUBLIC, members=everyone)
    emulator.add_channel("内緒の相談", channel_id=PRIVATE, is_private=True, members=everyone)
    with session_factory.begin() as session:
        for user_id in MEMBERS:
            members.ensure_member(session, clock=clock, slack_user_id=user_id)
        members.grant_role(
            session, clock=clock, slack_user_id=SECRETARY, role=Role.SECRETARIAT, actor="cli"
        )
        members.grant_role(
            session, clock=clock, slack_user_id=AMBASSADOR, role=Role.AMBASSADOR, actor="cli"
        )
        channel = registry.upsert_channel(
            session, clock=clock, slack_channel=SlackChannel(id=PUBLIC, name="デジ_re_岩手")
        )
        channel.prefecture = PREFECTURE
        facilitation.replace_facilitators(
            session, clock=clock, channel=channel, slack_user_ids=[FACILITATOR]
        )


@pytest.fixture(autouse=True)
def _workspace(emulator: SlackEmulator, session_factory: SessionFactory, clock: FixedClock) -> None:
    setup_workspace(emulator, session_factory, clock)


def post(
    emulator: SlackEmulator, user_id: str, text: str, *, channel: str = PUBLIC, **extra: Any
) -> dict[str, Any]:
    """The member posts in Slack; the message as Slack keeps it."""
    client = WebClient(token=f"xoxp-{user_id.lower()}", base_url=emulator.api_url)
    posted = client.chat_postMessage(channel=channel, text=text, **extra)
    return dict(posted["message"])


def react(emulator: SlackEmulator, user_id: str, message: dict[str, Any]) -> None:
    """The member adds ✅ to a message in Slack."""
    client = WebClient(token=f"xoxp-{user_id.lower()}", base_url=emulator.api_url)
    client.reactions_add(channel=PUBLIC, timestamp=message["ts"], name="white_check_mark")


def thread(
    emulator: SlackEmulator, *replies: tuple[str, str], channel: str = PUBLIC
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """ASKER's question and the replies (author, text) under it."""
    root = post(emulator, ASKER, QUESTION, channel=channel)
    posted = [
        post(emulator, user, text, channel=channel, thread_ts=root["ts"]) for user, text in replies
    ]
    return root, posted


def answered_thread(emulator: SlackEmulator) -> tuple[dict[str, Any], dict[str, Any]]:
    root, (answer,) = thread(emulator, (ANSWERER, ANSWER))
    return root, answer


# ---- what Kyoso did ---------------------------------------------------------------------------


def settled_view(emulator: SlackEmulator, before: int, *, timeout: float = 5.0) -> dict[str, Any]:
    """The modal opened after `before`, once its loading text was replaced (views.update)."""

    def settled() -> dict[str, Any]:
        opened = emulator.opened_views()[before:]
        if not opened or "スレッドを読み込んでいます" in rendered(opened[0]):
            return {}
        return opened[0]

    return wait_for(settled, timeout=timeout)


def rendered(view_or_message: dict[str, Any]) -> str:
    return json.dumps(view_or_message.get("blocks", []), ensure_ascii=False)


def initial_values(view: dict[str, Any]) -> dict[str, str]:
    return {
        block["block_id"]: block["element"].get("initial_value", "")
        for block in view["blocks"]
        if block.get("type") == "input"
    }


def shortcut(
    slack: SlackSender,
    emulator: SlackEmulator,
    message: dict[str, Any],
    user_id: str,
    *,
    channel: str = PUBLIC,
    timeout: float = 5.0,
) -> dict[str, Any]:
    before = len(emulator.opened_views())
    response = slack.message_shortcut(
        ids.KNOWLEDGE_SAVE_SHORTCUT, message=message, channel_id=channel, user_id=user_id
    )
    assert response.status == 200
    return settled_view(emulator, before, timeout=timeout)


def values(**typed: str) -> dict[str, Any]:
    blocks = {
        "title": ids.KNOWLEDGE_CAPTURE_TITLE_BLOCK,
        "question": ids.KNOWLEDGE_CAPTURE_QUESTION_BLOCK,
        "answer": ids.KNOWLEDGE_CAPTURE_ANSWER_BLOCK,
        "tags": ids.KNOWLEDGE_CAPTURE_TAGS_BLOCK,
    }
    return {
        blocks[name]: {ids.KNOWLEDGE_CAPTURE_INPUT: {"type": "plain_text_input", "value": value}}
        for name, value in typed.items()
    }


def submit(
    slack: SlackSender, view: dict[str, Any], user_id: str, **typed: str
) -> dict[str, Any] | None:
    """Submit the capture modal with what it was prefilled with, `typed` replacing fields."""
    prefilled = initial_values(view)
    fields = {
        "title": prefilled.get(ids.KNOWLEDGE_CAPTURE_TITLE_BLOCK, ""),
        "question": prefilled.get(ids.KNOWLEDGE_CAPTURE_QUESTION_BLOCK, ""),
        "answer": prefilled.get(ids.KNOWLEDGE_CAPTURE_ANSWER_BLOCK, ""),
        "tags": "",
        **typed,
    }
    response = slack.view_submission(
        view["callback_id"], values=values(**fields), user_id=user_id, view_id=view["id"]
    )
    assert response.status == 200
    body: dict[str, Any] | None = response.json()
    return body


def kept(session_factory: SessionFactory) -> list[KnowledgeEntry]:
    with session_factory() as session:
        return list(session.scalars(select(KnowledgeEntry).order_by(KnowledgeEntry.id)))


def active(session_factory: SessionFactory) -> list[KnowledgeEntry]:
    return [e for e in kept(session_factory) if e.status is EntryStatus.ACTIVE]


def found(session_factory: SessionFactory, clock: FixedClock, query: str) -> list[int]:
    with session_factory() as session:
        page = search.search(session, query=query, clock=clock, thesaurus=None)
    return [hit.entry_id for hit in page.hits]


def deliver(slack: SlackSender, session_factory: SessionFactory, event: dict[str, Any]) -> None:
    """An event through the inbox, waited for until its listeners ran without failing."""
    event_id = "Ev" + str(time.monotonic_ns())[-10:]
    assert slack.event(event, event_id=event_id).status == 200

    def done() -> bool:
        with session_factory() as session:
            row = session.get(InboxEvent, event_id)
            assert row is None or row.attempts == 0, row.last_error if row else None
            return row is not None and row.status is InboxStatus.DONE

    wait_for(done, timeout=10)


def check(user_id: str, message: dict[str, Any], *, added: bool = True) -> dict[str, Any]:
    return {
        "type": "reaction_added" if added else "reaction_removed",
        "user": user_id,
        "reaction": "white_check_mark",
        "item_user": message.get("user"),
        "item": {"type": "message", "channel": message.get("channel", PUBLIC), "ts": message["ts"]},
        "event_ts": f"{time.time():.6f}",
    }


def offers(emulator: SlackEmulator, user_id: str) -> list[dict[str, Any]]:
    return [
        m
        for m in emulator.ephemeral_messages(PUBLIC, user_id)
        if ids.KNOWLEDGE_CAPTURE_OFFER in rendered(m)
    ]


def offer_button(message: dict[str, Any]) -> dict[str, Any]:
    for block in message["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id") == ids.KNOWLEDGE_CAPTURE_OFFER:
                return dict(element)
    raise AssertionError("no offer button")


# ---- the message shortcut ---------------------------------------------------------------------


def test_the_shortcut_keeps_a_thread_with_personal_values_masked_and_says_what(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    root, answer = answered_thread(emulator)

    view = shortcut(slack, emulator, answer, STRANGER)  # any member may keep a thread

    assert view["callback_id"] == ids.KNOWLEDGE_CAPTURE_MODAL
    prefilled = initial_values(view)
    assert prefilled[ids.KNOWLEDGE_CAPTURE_QUESTION_BLOCK] == QUESTION
    assert prefilled[ids.KNOWLEDGE_CAPTURE_TITLE_BLOCK] == QUESTION.splitlines()[0]
    shown = json.dumps(view, ensure_ascii=False)
    assert PHONE not in shown and EMAIL not in shown  # clear values never reach the modal
    assert "デジタル庁のサイトに手順書があります" in prefilled[ids.KNOWLEDGE_CAPTURE_ANSWER_BLOCK]
    assert "電話番号" in rendered(view) and "メールアドレス" in rendered(view)
    metadata = json.loads(view["private_metadata"])
    assert metadata == {
        "channel_id": PUBLIC,
        "thread_ts": root["ts"],
        "answer_ts": answer["ts"],
        "asker_id": ASKER,
        "answerer_id": ANSWERER,
        "checks": 0,
    }
    assert kept(session_factory) == []  # nothing is kept before the submission

    # The recorder pastes the clear answer back in: the submission's gate masks it again.
    assert submit(slack, view, STRANGER, answer=ANSWER, tags="移行, ガバクラ、手順") is None

    (entry,) = wait_for(lambda: kept(session_factory))
    assert entry.kind is EntryKind.THREAD and entry.status is EntryStatus.ACTIVE
    assert entry.source_key == f"thread:{PUBLIC}:{root['ts']}"
    assert (entry.asker_id, entry.answerer_id, entry.recorder_id) == (ASKER, ANSWERER, STRANGER)
    assert (entry.thread_ts, entry.answer_ts) == (root["ts"], answer["ts"])
    answered_at = slack_ts_to_datetime(answer["ts"])
    assert entry.answered_at.replace(tzinfo=None) == answered_at.replace(tzinfo=None)
    assert entry.prefecture == PREFECTURE
    assert PHONE not in entry.answer and EMAIL not in entry.answer
    assert set(entry.masked_kinds) == {"phone_number", "email"}
    assert entry.tags == ["移行", "ガバクラ", "手順"]
    told = wait_for(lambda: emulator.ephemeral_messages(PUBLIC, STRANGER))[-1]
    (call,) = emulator.calls_to("chat.postEphemeral")
    assert call.params["thread_ts"] == root["ts"]  # beside the thread
    assert "記録しました" in told["text"]
    assert "電話番号" in told["text"] and "メールアドレス" in told["text"]
    assert found(session_factory, clock, "ガバメントクラウド 手順書") == [entry.id]


def test_keeping_the_same_thread_again_updates_its_one_entry(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    _, answer = answered_thread(emulator)
    view = shortcut(slack, emulator, answer, ASKER)
    submit(slack, view, ASKER)
    wait_for(lambda: kept(session_factory))
    submit(slack, view, ASKER, title="移行の手順書の場所")  # the same modal submitted twice
    again = shortcut(slack, emulator, answer, ANSWERER)
    submit(slack, again, ANSWERER, title="移行の手順書の場所")

    wait_for(lambda: len(emulator.ephemeral_messages(PUBLIC, ANSWERER)) == 1)
    (entry,) = kept(session_factory)
    assert entry.title == "移行の手順書の場所"
    assert "更新しました" in emulator.ephemeral_messages(PUBLIC, ANSWERER)[0]["text"]


def test_on_the_root_the_answer_is_the_last_reply_not_by_the_asker(
    kyoso: RunningKyoso, slack: SlackSender, emulator: SlackEmulator
) -> None:
    root, (_, best, _) = thread(
        emulator,
        (ANSWERER, "まずは庁内の情報システム部門に確認してみてください。"),
        (STRANGER, "移行ガイドの第3章に手順があります。"),
        (ASKER, "ありがとうございます、助かりました！"),
    )
    view = shortcut(slack, emulator, root, STRANGER)
    assert json.loads(view["private_metadata"])["answer_ts"] == best["ts"]
    assert initial_values(view)[ids.KNOWLEDGE_CAPTURE_ANSWER_BLOCK] == best["text"]


def test_a_message_without_replies_is_not_a_thread_to_keep(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    lonely = post(emulator, ASKER, QUESTION)
    view = shortcut(slack, emulator, lonely, ASKER)
    assert view["callback_id"] == ids.KNOWLEDGE_CAPTURE_NOTICE_MODAL
    assert "返信のあるスレッド" in rendered(view)
    assert kept(session_factory) == []


@pytest.mark.parametrize(
    ("label", "named"),
    [("【機密性3】", "機密性3"), ("部外秘ですが共有します。", "部外秘"), ("庁内限り", "庁内限り")],
)
def test_a_labelled_thread_is_refused_with_the_reason(
    label: str,
    named: str,
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    _, (answer, _) = thread(
        emulator, (ANSWERER, "手順書はこちらです。"), (STRANGER, f"{label} 補足の資料です。")
    )
    view = shortcut(slack, emulator, answer, ASKER)
    assert view["callback_id"] == ids.KNOWLEDGE_CAPTURE_NOTICE_MODAL
    assert "取扱いの表示" in rendered(view) and named in rendered(view)
    assert "submit" not in view or view["submit"] is None
    assert kept(session_factory) == []


def test_a_label_typed_into_the_modal_is_refused_under_its_field(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    _, answer = answered_thread(emulator)
    view = shortcut(slack, emulator, answer, ASKER)
    answered = submit(slack, view, ASKER, answer="【機密性3】 詳しくは添付の資料をご覧ください。")
    assert answered is not None and answered["response_action"] == "errors"
    assert "機密性3" in answered["errors"][ids.KNOWLEDGE_CAPTURE_ANSWER_BLOCK]
    emptied = submit(slack, view, ASKER, question="  ")
    assert emptied is not None
    assert ids.KNOWLEDGE_CAPTURE_QUESTION_BLOCK in emptied["errors"]
    assert kept(session_factory) == []
    assert emulator.ephemeral_messages(PUBLIC, ASKER) == []


def test_a_forged_modal_keeps_nothing(
    kyoso: RunningKyoso, slack: SlackSender, session_factory: SessionFactory
) -> None:
    response = slack.view_submission(
        ids.KNOWLEDGE_CAPTURE_MODAL,
        values=values(title="t", question="q", answer="a"),
        user_id=STRANGER,
        private_metadata='{"channel_id": 1}',
    )
    assert response.json()["response_action"] == "errors"
    assert kept(session_factory) == []


# ---- private conversations --------------------------------------------------------------------


def test_a_private_channel_is_never_read_nor_kept(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    _, (answer,) = thread(emulator, (ANSWERER, ANSWER), channel=PRIVATE)
    emulator.reset_calls()

    view = shortcut(slack, emulator, answer, ASKER, channel=PRIVATE)
    assert view["callback_id"] == ids.KNOWLEDGE_CAPTURE_NOTICE_MODAL
    assert "公開チャンネル" in rendered(view)
    dm = shortcut(slack, emulator, {**answer, "ts": "1700000000.000100"}, ASKER, channel="D0DM")
    assert "公開チャンネル" in rendered(dm)

    deliver(slack, session_factory, check(ASKER, {**answer, "channel": PRIVATE}))

    assert emulator.calls_to("conversations.replies") == []
    assert emulator.ephemeral_messages() == []
    assert kept(session_factory) == []


def test_a_channel_shared_with_another_organisation_is_not_kept(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    emulator.add_channel(
        "デジ_all_共有",
        channel_id="C0SHARED",
        is_ext_shared=True,  # Slack Connect
        members=[emulator.bot_user_id, *MEMBERS],
    )
    _, (answer,) = thread(emulator, (ANSWERER, ANSWER), channel="C0SHARED")
    emulator.reset_calls()

    view = shortcut(slack, emulator, answer, ASKER, channel="C0SHARED")
    assert view["callback_id"] == ids.KNOWLEDGE_CAPTURE_NOTICE_MODAL
    assert "Slack コネクト" in rendered(view)
    assert emulator.calls_to("conversations.replies") == []
    assert kept(session_factory) == []


# ---- ✅ ---------------------------------------------------------------------------------------


def test_a_check_by_the_asker_offers_to_keep_the_thread(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    root, answer = answered_thread(emulator)
    for reactor in (ANSWERER, ASKER):  # two ✅ on the answer in Slack, the asker's last
        react(emulator, reactor, answer)

    deliver(slack, session_factory, check(ASKER, answer))

    (offer,) = wait_for(lambda: offers(emulator, ASKER))
    assert emulator.calls_to("chat.postEphemeral")[0].params["thread_ts"] == root["ts"]
    assert "ナレッジとして記録" in rendered(offer)
    button = offer_button(offer)
    before = len(emulator.opened_views())
    slack.block_action(
        ids.KNOWLEDGE_CAPTURE_OFFER, button["value"], user_id=ASKER, channel_id=PUBLIC
    )
    view = settled_view(emulator, before)
    assert view["callback_id"] == ids.KNOWLEDGE_CAPTURE_MODAL
    assert json.loads(view["private_metadata"])["answer_ts"] == answer["ts"]
    submit(slack, view, ASKER)

    (entry,) = wait_for(lambda: kept(session_factory))
    # The ✅ already there count for the ranking; later ones are counted as they come.
    assert (entry.recorder_id, entry.answer_ts, entry.checks) == (ASKER, answer["ts"], 2)
    assert PHONE not in entry.answer


@pytest.mark.parametrize("reactor", [FACILITATOR, AMBASSADOR, SECRETARY])
def test_facilitators_ambassadors_and_the_secretariat_are_offered_too(
    reactor: str,
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    _, answer = answered_thread(emulator)
    deliver(slack, session_factory, check(reactor, answer))
    assert len(wait_for(lambda: offers(emulator, reactor))) == 1


def test_a_check_by_anyone_else_does_nothing(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    root, answer = answered_thread(emulator)

    deliver(slack, session_factory, check(STRANGER, answer))
    deliver(slack, session_factory, check(ASKER, root))  # on the question: no answer marked
    deliver(slack, session_factory, {**check(ASKER, answer), "reaction": "thumbsup"})

    assert emulator.ephemeral_messages() == []
    assert kept(session_factory) == []
    # The offer's button, forwarded to a stranger, opens a notice and keeps nothing.
    before = len(emulator.opened_views())
    slack.block_action(ids.KNOWLEDGE_CAPTURE_OFFER, f"{PUBLIC}:{answer['ts']}", user_id=STRANGER)
    view = settled_view(emulator, before)
    assert view["callback_id"] == ids.KNOWLEDGE_CAPTURE_NOTICE_MODAL
    assert "質問した方" in rendered(view)
    assert kept(session_factory) == []


def test_a_check_on_a_kept_answer_is_counted_and_offers_nothing(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    root, answer = answered_thread(emulator)
    entry_id = keep(session_factory, clock, root, answer)

    deliver(slack, session_factory, check(ASKER, answer))
    deliver(slack, session_factory, check(STRANGER, answer))
    assert [e.checks for e in kept(session_factory)] == [2]
    deliver(slack, session_factory, check(STRANGER, answer, added=False))

    (entry,) = kept(session_factory)
    assert (entry.id, entry.checks) == (entry_id, 1)
    assert emulator.ephemeral_messages() == []


# ---- the source changes -----------------------------------------------------------------------


def keep(
    session_factory: SessionFactory,
    clock: FixedClock,
    root: dict[str, Any],
    answer: dict[str, Any],
) -> int:
    with session_factory.begin() as session:
        return entries.save_thread(
            session,
            clock=clock,
            recorder_id=ASKER,
            draft=entries.ThreadDraft(
                channel_id=PUBLIC,
                thread_ts=root["ts"],
                answer_ts=answer["ts"],
                asker_id=ASKER,
                answerer_id=ANSWERER,
                title="移行の手順書",
                question=root["text"],
                answer=answer["text"],
                tags=(),
                answered_at=slack_ts_to_datetime(answer["ts"]),
            ),
        ).entry_id


def changed(message: dict[str, Any], text: str) -> dict[str, Any]:
    return {
        "type": "message",
        "subtype": "message_changed",
        "channel": PUBLIC,
        "channel_type": "channel",
        "hidden": True,
        "ts": f"{time.time():.6f}",
        "message": {**message, "text": text, "edited": {"user": message["user"], "ts": "1"}},
        "previous_message": message,
    }


def deleted(message: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "message",
        "subtype": "message_deleted",
        "channel": PUBLIC,
        "channel_type": "channel",
        "hidden": True,
        "ts": f"{time.time():.6f}",
        "deleted_ts": message["ts"],
        "previous_message": message,
    }


def test_an_edited_answer_is_followed_through_the_gate(
    kyoso: RunningKyoso,
    slack: SlackSender,
    session_factory: SessionFactory,
    emulator: SlackEmulator,
    clock: FixedClock,
) -> None:
    root, answer = answered_thread(emulator)
    keep(session_factory, clock, root, answer)
    edited = "手順書は共創ポータルに移りました。担当の携帯 090-8765-4321 &amp; 窓口へ。"

    deliver(slack, session_factory, changed(answer, edited))
    deliver(slack, session_factory, changed(answer, edited))  # the same edit again: no change

    (entry,) = kept(session_factory)
    assert entry.status is EntryStatus.ACTIVE
    assert "共創ポータルに移りました" in entry.answer and "& 窓口" in entry.answer
    assert "090-8765-4321" not in entry.answer
    assert found(session_factory, clock, "共創ポータル") == [entry.id]
    deliver(slack, session_factory, changed(root, "移行の手順書の場所を教えてください"))
    assert kept(session_factory)[0].question == "移行の手順書の場所を教えてください"


def test_a_deleted_answer_takes_its_entry_with_it(
    kyoso: RunningKyoso,
    slack: SlackSender,
    session_factory: SessionFactory,
    emulator: SlackEmulator,
    clock: FixedClock,
) -> None:
    root, answer = answered_thread(emulator)
    keep(session_factory, clock, root, answer)
    assert found(session_factory, clock, "ガバメントクラウド 手順書")

    deliver(slack, session_factory, deleted(answer))
    deliver(slack, session_factory, deleted(answer))  # redelivered: nothing more happens

    (entry,) = kept(session_factory)
    assert entry.status is EntryStatus.REMOVED and entry.answer == ""
    assert found(session_factory, clock, "ガバメントクラウド 手順書") == []


def test_a_root_deleted_under_its_replies_takes_its_entry_with_it(
    kyoso: RunningKyoso,
    slack: SlackSender,
    session_factory: SessionFactory,
    emulator: SlackEmulator,
    clock: FixedClock,
) -> None:
    root, answer = answered_thread(emulator)
    keep(session_factory, clock, root, answer)
    tombstone = {**root, "subtype": "tombstone", "text": "This message was deleted."}
    deliver(slack, session_factory, {**changed(root, ""), "message": tombstone})
    assert [e.status for e in kept(session_factory)] == [EntryStatus.REMOVED]


# ---- Slack's rate limits ----------------------------------------------------------------------


def test_retry_after_on_conversations_replies_is_waited_out(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
) -> None:
    _, answer = answered_thread(emulator)
    emulator.rate_limit("conversations.replies", times=1, retry_after=1)

    view = shortcut(slack, emulator, answer, ASKER, timeout=10)

    assert view["callback_id"] == ids.KNOWLEDGE_CAPTURE_MODAL
    limited, served = emulator.calls_to("conversations.replies")[:2]
    assert (limited.status, served.status) == (429, 200)
    assert served.time - limited.time >= 1.0  # Slack's Retry-After, honoured


def test_a_rate_limit_that_persists_gets_a_polite_notice(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    _, answer = answered_thread(emulator)
    emulator.rate_limit("conversations.replies", times=10, retry_after=1)

    view = shortcut(slack, emulator, answer, ASKER, timeout=15)

    assert view["callback_id"] == ids.KNOWLEDGE_CAPTURE_NOTICE_MODAL
    assert "混み合っている" in rendered(view)
    assert kept(session_factory) == []


# ---- reading a thread -------------------------------------------------------------------------


def test_a_long_thread_is_read_page_by_page_at_a_pace(emulator: SlackEmulator) -> None:
    root, posted = thread(emulator, *[(ANSWERER, f"回答その{n}") for n in range(5)])
    reader = ThreadReader(
        WebClient(token="xoxb-test", base_url=emulator.api_url), page_size=2, pace_seconds=0.3
    )

    read = reader.fetch(PUBLIC, posted[2]["ts"])  # from a reply: the whole thread

    assert read.root.ts == root["ts"] and read.root.user == ASKER
    assert [r.ts for r in read.replies] == [p["ts"] for p in posted]
    pages = [c for c in emulator.calls_to("conversations.replies") if c.params["ts"] == root["ts"]]
    assert len(pages) == 3 and {c.params["limit"] for c in pages} == {"2"}
    gaps = [b.time - a.time for a, b in itertools.pairwise(pages)]
    assert min(gaps) >= 0.25, gaps  # 0.3 s apart, give or take the loopback


def test_reading_a_public_channel_kyoso_is_not_in_joins_it_first(
    emulator: SlackEmulator,
) -> None:
    emulator.add_channel("デジ_all_質問", channel_id="C0ELSEWHERE", members=[ASKER, ANSWERER])
    root = post(emulator, ASKER, QUESTION, channel="C0ELSEWHERE")
    post(emulator, ANSWERER, ANSWER, channel="C0ELSEWHERE", thread_ts=root["ts"])
    reader = ThreadReader(WebClient(token="xoxb-test", base_url=emulator.api_url))

    read = reader.fetch("C0ELSEWHERE", root["ts"])

    assert len(read.replies) == 1
    channel = emulator.channel("C0ELSEWHERE")
    assert channel is not None and emulator.bot_user_id in channel["members"]


def _post(ts: str, user: str | None, text: str, *, bot: bool = False) -> Post:
    return Post(ts=ts, user=user, text=text, from_bot=bot)


def test_the_answer_is_the_marked_reply_or_the_last_one_not_by_the_asker() -> None:
    root = _post("1.000001", ASKER, "質問です。\n詳しくは以下。")
    replies = (
        _post("1.000002", ANSWERER, "最初の回答"),
        _post("1.000003", STRANGER, "よりよい回答 test@example.jp"),
        _post("1.000004", None, "ボットの案内", bot=True),
        _post("1.000005", ASKER, "ありがとうございます"),
    )
    read = Thread(PUBLIC, root, replies)
    assert prefill(read, "1.000001").metadata.answer_ts == "1.000003"
    assert prefill(read, "1.000002").metadata.answer_ts == "1.000002"
    filled = prefill(read, "1.000003")
    assert filled.title == "質問です。" and filled.masked == {"email"}
    assert "test@example.jp" not in filled.answer
    only_asker = Thread(PUBLIC, root, (_post("1.000006", ASKER, "自己解決しました"),))
    assert prefill(only_asker, "1.000001").metadata.answer_ts == "1.000006"
    with pytest.raises(CannotCapture) as refused:
        prefill(Thread(PUBLIC, root, ()), "1.000001")
    assert refused.value.code == "not_thread"
