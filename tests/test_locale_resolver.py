"""The language Kyoso speaks to a member: their own choice, else Slack's locale, else the
default; both looked up once and kept, the choice only briefly."""

from __future__ import annotations

import time

from slack_sdk import WebClient

from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.locale import LocaleResolver
from bot.services.members import ensure_member, set_language
from tests.support.slack_emulator import SlackEmulator


def _resolver(
    emulator: SlackEmulator, session_factory: SessionFactory, *, chosen_ttl: float = 60
) -> LocaleResolver:
    return LocaleResolver(
        client=WebClient(token="xoxb-test", base_url=emulator.api_url),
        session_factory=session_factory,
        default="ja",
        chosen_ttl_seconds=chosen_ttl,
    )


def test_the_members_choice_wins_over_slacks_locale(
    emulator: SlackEmulator, session_factory: SessionFactory, clock: FixedClock
) -> None:
    emulator.add_user("U0LOC1", name="smith", locale="en-US")
    emulator.add_user("U0LOC2", name="tanaka", locale="ja-JP")
    with session_factory.begin() as session:
        set_language(session, clock=clock, slack_user_id="U0LOC2", language="en")
    locales = _resolver(emulator, session_factory)
    assert locales.for_user("U0LOC1") == "en"  # Slack's locale
    assert locales.for_user("U0LOC2") == "en"  # the member's choice
    assert locales.for_user(None) == "ja"


def test_slacks_locale_is_asked_once(
    emulator: SlackEmulator, session_factory: SessionFactory
) -> None:
    emulator.add_user("U0LOC1", name="smith", locale="en-US")
    locales = _resolver(emulator, session_factory)
    assert [locales.for_user("U0LOC1") for _ in range(5)] == ["en"] * 5
    assert len(emulator.calls_to("users.info")) == 1


def test_a_choice_made_elsewhere_is_seen_once_the_kept_one_expires(
    emulator: SlackEmulator, session_factory: SessionFactory, clock: FixedClock
) -> None:
    emulator.add_user("U0LOC1", name="smith", locale="ja-JP")
    with session_factory.begin() as session:
        ensure_member(session, clock=clock, slack_user_id="U0LOC1")
    locales = _resolver(emulator, session_factory, chosen_ttl=0.3)
    assert locales.for_user("U0LOC1") == "ja"
    with session_factory.begin() as session:  # as `/kyoso lang en` on another instance
        set_language(session, clock=clock, slack_user_id="U0LOC1", language="en")
    assert locales.for_user("U0LOC1") == "ja"  # kept for a moment
    time.sleep(0.35)
    assert locales.for_user("U0LOC1") == "en"


def test_forget_drops_what_was_kept_at_once(
    emulator: SlackEmulator, session_factory: SessionFactory, clock: FixedClock
) -> None:
    emulator.add_user("U0LOC1", name="smith", locale="ja-JP")
    locales = _resolver(emulator, session_factory)
    assert locales.for_user("U0LOC1") == "ja"
    with session_factory.begin() as session:
        set_language(session, clock=clock, slack_user_id="U0LOC1", language="en")
    locales.forget("U0LOC1")  # what `/kyoso lang` does on the instance that took it
    assert locales.for_user("U0LOC1") == "en"
