"""Kyoso's Web API client keeps its connection to Slack open between calls (one per thread),
and reads failures exactly as slack_sdk's own transport does."""

from __future__ import annotations

import gc
import threading
import warnings

import pytest
from slack_sdk.errors import SlackApiError

from bot.slack_client import make_web_client
from bot.slack_errors import SLACK_CALL_ERRORS, classify
from tests.support.kyoso_server import wait_for
from tests.support.slack_emulator import SlackEmulator


@pytest.fixture
def channel(emulator: SlackEmulator) -> str:
    return str(emulator.add_channel("デジ_all_雑談", members=[emulator.bot_user_id])["id"])


def test_calls_from_one_thread_share_one_connection(emulator: SlackEmulator, channel: str) -> None:
    client = make_web_client("xoxb-test", emulator.api_url)
    before = emulator.connections_opened
    for n in range(20):
        client.chat_postMessage(channel=channel, text=f"お知らせ {n}")
    assert emulator.connections_opened - before == 1
    assert [m["text"] for m in emulator.messages(channel)] == [f"お知らせ {n}" for n in range(20)]


def test_each_thread_has_its_own_connection(emulator: SlackEmulator, channel: str) -> None:
    client = make_web_client("xoxb-test", emulator.api_url)
    before = emulator.connections_opened
    failures: list[BaseException] = []

    def post(worker: int) -> None:
        try:
            for n in range(10):
                client.chat_postMessage(channel=channel, text=f"{worker}-{n}")
        except BaseException as exc:  # reported below, not lost in the thread
            failures.append(exc)

    threads = [threading.Thread(target=post, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert len(emulator.messages(channel)) == 40
    assert emulator.connections_opened - before == 4


def test_a_threads_connection_is_closed_when_the_thread_ends(
    emulator: SlackEmulator, channel: str
) -> None:
    client = make_web_client("xoxb-test", emulator.api_url)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        thread = threading.Thread(target=lambda: client.chat_postMessage(channel=channel, text="…"))
        thread.start()
        thread.join()
        gc.collect()
        assert wait_for(lambda: emulator.open_connections == 0)
    # Closed by Kyoso, not found open by the garbage collector.
    assert not [w for w in seen if issubclass(w.category, ResourceWarning)]
    assert len(emulator.messages(channel)) == 1


def test_a_connection_slack_closed_while_idle_is_replaced_without_a_second_call(
    emulator: SlackEmulator, channel: str
) -> None:
    client = make_web_client("xoxb-test", emulator.api_url)
    client.chat_postMessage(channel=channel, text="一通目")
    emulator.close_connections()  # Slack's idle timeout
    emulator.reset_calls()
    client.chat_postMessage(channel=channel, text="二通目")
    assert len(emulator.calls_to("chat.postMessage")) == 1  # sent once, on a new connection
    assert [m["text"] for m in emulator.messages(channel)] == ["一通目", "二通目"]


def test_a_reset_mid_call_is_retried_on_a_new_connection(
    emulator: SlackEmulator, channel: str
) -> None:
    client = make_web_client("xoxb-test", emulator.api_url)
    client.chat_postMessage(channel=channel, text="一通目")
    emulator.reset_connection("chat.postMessage")
    client.chat_postMessage(channel=channel, text="二通目")
    assert [m["text"] for m in emulator.messages(channel)] == ["一通目", "二通目"]


def test_resets_past_the_retries_read_as_a_transient_failure(
    emulator: SlackEmulator, channel: str
) -> None:
    client = make_web_client("xoxb-test", emulator.api_url)
    client.chat_postMessage(channel=channel, text="一通目")
    emulator.reset_connection("chat.postMessage", times=10, applied=True)
    with pytest.raises(SLACK_CALL_ERRORS) as raised:
        client.chat_postMessage(channel=channel, text="二通目")
    failure = classify(raised.value)
    assert failure.transient and failure.maybe_delivered


def test_rate_limits_and_errors_read_as_over_urllib(emulator: SlackEmulator, channel: str) -> None:
    client = make_web_client("xoxb-test", emulator.api_url)
    emulator.rate_limit("chat.postMessage", times=1, retry_after=1)
    client.chat_postMessage(channel=channel, text="待ってから")  # Retry-After honoured
    assert len(emulator.calls_to("chat.postMessage")) == 2
    emulator.fail("conversations.info", "channel_not_found")
    with pytest.raises(SlackApiError) as raised:
        client.conversations_info(channel="C0NOWHERE")
    assert classify(raised.value).error == "channel_not_found"


def test_a_refused_connection_reads_as_refused() -> None:
    with SlackEmulator(bot_token="xoxb-test") as emulator:
        url = emulator.api_url
    client = make_web_client("xoxb-test", url)  # nothing listens there any more
    with pytest.raises(SLACK_CALL_ERRORS) as raised:
        client.auth_test()
    assert classify(raised.value).error == "connection_refused"
