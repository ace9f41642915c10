"""What follows or comes without a search, end to end: the optional generated answer after
`/kyoso search` (against a fake OpenAI-compatible endpoint over real HTTP), and past answers
suggested under a question in a channel whose facilitators switched suggestions on."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest

from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.services.knowledge import channel_choices
from tests.support.fake_llm import FakeLlm, Mode
from tests.support.kyoso_server import SIGNING_SECRET, make_settings, serve_kyoso, wait_for
from tests.support.slack_emulator import SlackEmulator
from tests.support.slack_sender import SlackSender
from tests.test_knowledge_search_slack import (
    ANSWER_TS,
    ENGLISH,
    MEMBER,
    QA,
    SECRETARY,
    THREAD_TS,
    people,
    rendered,
    search,
    seed_faq,
    seed_thread,
)

__all__ = ["people"]  # the shared members and channel, used by every test here

QUIET = "C0QUIET"  # a channel whose facilitators left suggestions off


@pytest.fixture
def llm() -> Iterator[FakeLlm]:
    with FakeLlm(Mode.CITED) as fake:
        yield fake


@pytest.fixture
def slack(
    emulator: SlackEmulator,
    database_url: str,
    session_factory: SessionFactory,
    clock: FixedClock,
    llm: FakeLlm,
) -> Iterator[SlackSender]:
    """Kyoso with a generated-answer endpoint configured, timing out after half a second."""
    settings = make_settings(
        emulator.api_url,
        database_url,
        KYOSO_LLM_URL=llm.url,
        KYOSO_LLM_MODEL="kyoso-test",
        KYOSO_LLM_TIMEOUT_SECONDS="0.5",
    )
    with serve_kyoso(settings, session_factory=session_factory, clock=clock) as running:
        yield SlackSender(running.events_url, SIGNING_SECRET, emulator)


def thread_link(emulator: SlackEmulator) -> str:
    return (
        f"https://{emulator.state.team_domain}.slack.com/archives/{QA}/"
        f"p{ANSWER_TS.replace('.', '')}?thread_ts={THREAD_TS}&cid={QA}"
    )


# --- the generated answer -----------------------------------------------------------------------


def test_a_generated_answer_follows_the_results_with_citations_linking_to_threads(
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
    llm: FakeLlm,
) -> None:
    seed_thread(session_factory, clock)
    url, first = search(slack, emulator, "ガバメントクラウド 移行")
    assert "ガバメントクラウドへの移行手順" in rendered(first)  # the plain results first
    responses = wait_for(lambda: len(emulator.responses(url)) == 2 and emulator.responses(url))
    follow_up = responses[1]
    assert follow_up["response_type"] == "ephemeral" and follow_up["replace_original"] is False
    shown = rendered(follow_up)
    assert "生成AIによる回答（参考）" in shown and "出典" in shown
    assert f"<{thread_link(emulator)}|[1]>" in shown  # the citation links to the thread
    assert "[9]" not in shown  # a source it was not given is not cited
    assert "ガバメントクラウドへの移行手順" in shown
    assert len(follow_up["blocks"]) <= 50
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in follow_up["blocks"])
    [request] = llm.requests
    assert request.body["model"] == "kyoso-test"
    assert "ガバメントクラウド 移行" in request.user_message
    assert "現行システムの棚卸し" in request.user_message  # the entry's answer is a source
    assert thread_link(emulator) not in request.user_message  # links stay with Kyoso


def test_the_english_member_reads_the_label_in_english(
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    seed_thread(session_factory, clock)
    url, _ = search(slack, emulator, "ガバメントクラウド", user=ENGLISH)
    responses = wait_for(lambda: len(emulator.responses(url)) == 2 and emulator.responses(url))
    assert "Generated answer (for reference)" in rendered(responses[1])


def test_nothing_relevant_is_said_plainly(
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
    llm: FakeLlm,
) -> None:
    llm.mode = Mode.NOTHING
    seed_thread(session_factory, clock)
    url, _ = search(slack, emulator, "ガバメントクラウド")
    responses = wait_for(lambda: len(emulator.responses(url)) == 2 and emulator.responses(url))
    shown = rendered(responses[1])
    assert "生成AIによる回答（参考）" in shown and "直接答えるものはない" in shown


@pytest.mark.parametrize("mode", [Mode.SLOW, Mode.ERROR, Mode.MALFORMED])
def test_a_slow_or_failing_endpoint_leaves_the_plain_results_alone(
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
    llm: FakeLlm,
    mode: Mode,
) -> None:
    llm.mode = mode
    llm.delay = 3.0  # SLOW: well past the 0.5 s timeout
    seed_thread(session_factory, clock)
    url, first = search(slack, emulator, "ガバメントクラウド")  # within the 3 s ack
    assert "ガバメントクラウドへの移行手順" in rendered(first)
    wait_for(lambda: llm.requests)
    time.sleep(1.2)  # past the timeout: a late answer would have shown by now
    assert len(emulator.responses(url)) == 1


def test_a_search_that_finds_nothing_asks_the_endpoint_nothing(
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
    llm: FakeLlm,
) -> None:
    seed_thread(session_factory, clock)
    url, first = search(slack, emulator, "除雪車 配備計画")
    assert "見つかりませんでした" in rendered(first)
    time.sleep(0.5)
    assert llm.requests == [] and len(emulator.responses(url)) == 1


# --- suggestions under a question ---------------------------------------------------------------


@pytest.fixture
def channels(emulator: SlackEmulator, session_factory: SessionFactory, clock: FixedClock) -> None:
    emulator.add_channel(
        "デジ_all_quiet", channel_id=QUIET, members=[emulator.bot_user_id, MEMBER, ENGLISH]
    )
    with session_factory.begin() as session:
        channel_choices.choose(session, clock=clock, channel_id=QA, actor=SECRETARY, suggest=True)
    seed_thread(session_factory, clock)
    seed_faq(
        session_factory,
        clock,
        "telework",
        title="テレワークの申請方法",
        question="テレワークを始めるにはどこに申請しますか",
        answer="所属課の庶務担当に申請書を出し、情報政策課の承認を受けます。",
    )


def message(
    slack: SlackSender,
    text: str,
    *,
    channel: str = QA,
    user: str = MEMBER,
    ts: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Slack delivers a member's message (worked on after the ack, off the request)."""
    event = {
        "type": "message",
        "channel": channel,
        "channel_type": "channel",
        "user": user,
        "text": text,
        "ts": ts or f"{int(time.time())}.{secrets.randbelow(10**6):06d}",
        **extra,
    }
    assert slack.event(event).status == 200
    return event


def settled(emulator: SlackEmulator, expected: int) -> list[dict[str, Any]]:
    """The suggestions once `expected` have come, and a moment later (time for a wrong one)."""
    wait_for(lambda: len(suggestions(emulator)) >= expected)
    time.sleep(0.5)
    return suggestions(emulator)


def suggestions(emulator: SlackEmulator, channel: str = QA) -> list[dict[str, Any]]:
    return [
        m
        for m in emulator.ephemeral_messages(channel_id=channel)
        if "過去の回答が見つかりました" in json.dumps(m, ensure_ascii=False)
        or "Past answers were found" in json.dumps(m, ensure_ascii=False)
    ]


def test_a_question_in_a_channel_that_wants_suggestions_gets_one(
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    channels: None,
) -> None:
    asked = message(slack, "お疲れ様です。ガバメントクラウドへの移行手順を教えてください。")
    [suggestion] = settled(emulator, 1)
    assert suggestion["user"] == MEMBER  # to the asker alone
    shown = rendered(suggestion)
    assert f"<{thread_link(emulator)}|ガバメントクラウドへの移行手順>" in shown
    assert "テレワーク" not in shown  # only what answers the question
    assert len(suggestion["blocks"]) <= 50
    # The same message delivered again (another event id): nothing more; a new one is answered.
    message(slack, asked["text"], ts=asked["ts"])
    message(slack, asked["text"])
    assert len(settled(emulator, 2)) == 2


def test_the_suggestion_speaks_the_askers_language(
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    channels: None,
) -> None:
    message(slack, "テレワークの申請はどこに出せばいいですか？", user=ENGLISH)
    [suggestion] = settled(emulator, 1)
    assert suggestion["user"] == ENGLISH and "Past answers were found" in rendered(suggestion)
    assert "テレワークの申請方法" in rendered(suggestion)


def test_no_suggestion_where_it_is_off_or_nothing_is_asked_or_nothing_answers(
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    channels: None,
) -> None:
    question = "お疲れ様です。ガバメントクラウドへの移行手順を教えてください。"
    message(slack, question, channel=QUIET)  # suggestions off
    message(slack, "ガバメントクラウドへの移行手順を共有します。")  # no question
    message(slack, "明日の会議の資料はどこにありますか？")  # nothing close
    message(slack, question, thread_ts="1700000300.000100")  # a reply: a conversation under way
    message(slack, question, subtype="message_changed")  # an edit
    message(slack, question, bot_id="B0OTHER")  # a bot
    message(slack, question, channel_type="group")  # a private channel
    time.sleep(0.3)
    message(slack, question)  # the one that is answered, last
    assert len(settled(emulator, 1)) == 1
    assert emulator.ephemeral_messages(channel_id=QUIET) == []
    assert len(emulator.calls_to("chat.postEphemeral")) == 1


def test_a_failing_slack_costs_the_event_nothing(
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    channels: None,
) -> None:
    emulator.fail("chat.postEphemeral", "channel_not_found")
    message(slack, "ガバメントクラウドへの移行手順を教えてください")
    wait_for(lambda: emulator.calls_to("chat.postEphemeral"))
    time.sleep(0.5)
    assert len(emulator.calls_to("chat.postEphemeral")) == 1  # tried once, not retried
    assert suggestions(emulator) == []
