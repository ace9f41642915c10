"""The error handler on a bad day: replies only to Slack's hosts, and a database out of
reach gets "temporarily unavailable" in the default language, never silence."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text

from bot import ids
from bot.db import make_engine, make_session_factory
from bot.i18n import t
from bot.locale import LocaleResolver
from handlers.command_router import CommandCall
from handlers.response_urls import is_allowed_response_url
from tests.support.kyoso_server import RunningKyoso, wait_for
from tests.support.slack_emulator import SlackEmulator
from tests.support.slack_sender import SlackSender
from tests.test_slack_gate import AttackerHost

# Nothing listens on port 1: connecting is refused at once, as with a database that is down.
UNREACHABLE_DATABASE = "postgresql://kyoso@127.0.0.1:1/kyoso"


@pytest.fixture
def unreachable_engine() -> Iterator[Engine]:
    engine = make_engine(UNREACHABLE_DATABASE)
    yield engine
    engine.dispose()


@pytest.fixture
def attacker() -> Iterator[AttackerHost]:
    with AttackerHost() as host:
        yield host


def _add_failing_subcommand(kyoso: RunningKyoso, name: str, error: Exception) -> None:
    def fail(_call: CommandCall) -> None:
        raise error

    kyoso.kyoso.deps.commands.add(name, help_key="help.command.help", run=fail)


def _first_answer(emulator: SlackEmulator) -> dict[str, Any]:
    answer: dict[str, Any] = wait_for(lambda: emulator.all_responses())[0][1]
    return answer


def test_the_apology_never_goes_to_a_response_url_off_slacks_host(
    slack: SlackSender,
    emulator: SlackEmulator,
    kyoso: RunningKyoso,
    attacker: AttackerHost,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _add_failing_subcommand(kyoso, "explode", RuntimeError("listener bug"))
    emulator.add_user("U0JA", name="sato", locale="ja-JP")
    response = slack.command(
        "/kyoso", "explode", user_id="U0JA", channel_id="C0REVIEW", response_url=attacker.url
    )
    assert response.status == 200
    wait_for(lambda: any("not replying" in r.getMessage() for r in caplog.records))
    time.sleep(0.3)  # give a wrongly sent reply the chance to arrive
    assert attacker.received == []
    assert emulator.calls_to("chat.postMessage") == []


def test_a_database_out_of_reach_gets_temporarily_unavailable_in_the_default_language(
    slack: SlackSender, emulator: SlackEmulator, kyoso: RunningKyoso, unreachable_engine: Engine
) -> None:
    def query(_call: CommandCall) -> None:
        with unreachable_engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    kyoso.kyoso.deps.commands.add("query", help_key="help.command.help", run=query)
    emulator.add_user("U0EN", name="smith", locale="en-US")  # the default (ja) wins
    started = time.monotonic()
    slack.command("/kyoso", "query", user_id="U0EN", channel_id="C0REVIEW")
    answer = _first_answer(emulator)
    assert answer["text"] == t("error.unavailable", "ja")
    assert answer["response_type"] == "ephemeral"
    assert time.monotonic() - started < 3


def test_the_members_language_needs_no_database(
    slack: SlackSender, emulator: SlackEmulator, kyoso: RunningKyoso, unreachable_engine: Engine
) -> None:
    """The listener and the error handler both read the member's language from a database
    that refuses connections: the member is still answered."""
    deps = kyoso.kyoso.deps
    deps.locales = LocaleResolver(
        client=deps.client,
        session_factory=make_session_factory(unreachable_engine),
        default=deps.settings.default_locale,
    )
    emulator.add_user("U0EN", name="smith", locale="en-US")
    slack.command("/kyoso", "help", user_id="U0EN", channel_id="C0REVIEW")
    assert _first_answer(emulator)["text"] == t("error.unavailable", "ja")


def test_a_failed_shortcut_is_apologised_for_by_dm_in_the_members_language(
    slack: SlackSender, emulator: SlackEmulator
) -> None:
    emulator.add_user("U0EN", name="smith", locale="en-US")
    emulator.fail("views.open", "internal_error")
    response = slack.global_shortcut(ids.CHANNEL_REQUEST_SHORTCUT, user_id="U0EN")
    assert response.status == 200
    dm = wait_for(lambda: emulator.dm_messages("U0EN"))
    assert dm[0]["text"] == t("error.generic", "en")


def test_only_slacks_hosts_are_allowed_response_urls() -> None:
    api = "http://127.0.0.1:4567/api/"
    allowed = [
        "https://hooks.slack.com/commands/T0/1/abc",
        "https://HOOKS.slack.com:443/actions/T0/1/abc",
        "http://127.0.0.1:4567/response_url/r1",
    ]
    refused = [
        "http://hooks.slack.com/commands/T0/1/abc",  # not TLS
        "https://hooks.slack.com.evil.example/x",
        "https://evil.example/hooks.slack.com",
        "https://user@hooks.slack.com/x",
        "http://127.0.0.1:4568/response_url/r1",  # another port on the same host
        "https://hooks.slack.com:99999/x",
        "javascript:alert(1)",
        "",
        None,
        ["https://hooks.slack.com/x"],
    ]
    for url in allowed:
        assert is_allowed_response_url(url, slack_api_url=api), url
    for url in refused:
        assert not is_allowed_response_url(url, slack_api_url=api), url
    assert not is_allowed_response_url(
        "http://127.0.0.1:4567/x", slack_api_url="https://slack.com/api/"
    )


def test_the_failure_is_logged_without_the_request(
    slack: SlackSender,
    emulator: SlackEmulator,
    kyoso: RunningKyoso,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    _add_failing_subcommand(kyoso, "explode", RuntimeError("listener bug"))
    emulator.add_user("U0JA", name="sato", locale="ja-JP")
    slack.command(
        "/kyoso", "explode yamada@city.example.lg.jp", user_id="U0JA", channel_id="C0REVIEW"
    )
    _first_answer(emulator)
    assert any("listener failed" in r.getMessage() for r in caplog.records)
    assert "yamada@city.example.lg.jp" not in caplog.text
