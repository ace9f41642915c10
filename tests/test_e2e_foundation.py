"""End to end over real HTTP: signed requests into the running app, Slack emulated."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

from sqlalchemy import func, select

from bot.db import SessionFactory
from models import AuditEntry, Member, ProcessedEvent
from tests.support.kyoso_server import RunningKyoso, wait_for
from tests.support.slack_emulator import SlackEmulator
from tests.support.slack_sender import SlackSender


def _response_texts(emulator: SlackEmulator) -> list[str]:
    return [json.dumps(body, ensure_ascii=False) for _, body in emulator.all_responses()]


def _answer(emulator: SlackEmulator, count: int = 1) -> dict[str, Any]:
    responses = wait_for(
        lambda: len(emulator.all_responses()) >= count and emulator.all_responses()
    )
    body: dict[str, Any] = responses[count - 1][1]
    return body


def _team_join(user_id: str, email: str) -> dict[str, Any]:
    return {
        "type": "team_join",
        "user": {
            "id": user_id,
            "name": "yamada",
            "real_name": "山田 花子",
            "profile": {"email": email, "real_name": "山田 花子", "display_name": "山田"},
            "is_bot": False,
        },
    }


def _counts(session_factory: SessionFactory) -> tuple[int, int, int]:
    with session_factory() as session:
        return (
            session.scalar(select(func.count()).select_from(Member)) or 0,
            session.scalar(select(func.count()).select_from(AuditEntry)) or 0,
            session.scalar(select(func.count()).select_from(ProcessedEvent)) or 0,
        )


def test_help_is_answered_in_japanese(slack: SlackSender, emulator: SlackEmulator) -> None:
    emulator.add_user("U0JA", name="sato", locale="ja-JP")
    started = time.monotonic()
    response = slack.command("/kyoso", "help", user_id="U0JA", channel_id="C0REVIEW")
    assert response.status == 200
    assert time.monotonic() - started < 3  # acknowledged well within Slack's 3 s
    answer = _answer(emulator)
    assert answer["response_type"] == "ephemeral"
    assert "Kyoso の使い方" in answer["text"]
    rendered = json.dumps(answer["blocks"], ensure_ascii=False)
    assert "/kyoso help" in rendered and "言語を切り替えます" in rendered


def test_help_follows_the_slack_locale(slack: SlackSender, emulator: SlackEmulator) -> None:
    emulator.add_user("U0EN", name="smith", locale="en-US")
    slack.command("/kyoso", "", user_id="U0EN", channel_id="C0REVIEW")  # bare /kyoso = help
    assert _answer(emulator)["text"] == "How to use Kyoso"


def test_full_width_input_is_understood(slack: SlackSender, emulator: SlackEmulator) -> None:
    emulator.add_user("U0JA", name="sato", locale="ja-JP")
    slack.command("/kyoso", "ＨＥＬＰ", user_id="U0JA", channel_id="C0REVIEW")
    assert "Kyoso の使い方" in _answer(emulator)["text"]


def test_unknown_subcommand_gets_a_helpful_answer(
    slack: SlackSender, emulator: SlackEmulator
) -> None:
    emulator.add_user("U0JA", name="sato", locale="ja-JP")
    response = slack.command("/kyoso", "hlep <!channel>", user_id="U0JA", channel_id="C0REVIEW")
    assert response.status == 200
    answer = _answer(emulator)
    assert "「hlep」というコマンドは見つかりませんでした" in answer["text"]
    assert "もしかして `/kyoso help`" in answer["text"]
    assert "<!channel>" not in json.dumps(answer, ensure_ascii=False)  # nothing to mention


def test_language_choice_is_stored_and_used(
    slack: SlackSender, emulator: SlackEmulator, session_factory: SessionFactory
) -> None:
    emulator.add_user("U0JA", name="sato", locale="ja-JP")
    slack.command("/kyoso", "lang en", user_id="U0JA", channel_id="C0REVIEW")
    assert _answer(emulator)["text"] == "Kyoso will write to you in English."
    slack.command("/kyoso", "help", user_id="U0JA", channel_id="C0REVIEW")
    assert _answer(emulator, 2)["text"] == "How to use Kyoso"
    with session_factory() as session:
        member = session.scalars(select(Member).where(Member.slack_user_id == "U0JA")).one()
        assert member.locale == "en"


def test_an_unknown_language_changes_nothing(
    slack: SlackSender, emulator: SlackEmulator, session_factory: SessionFactory
) -> None:
    emulator.add_user("U0JA", name="sato", locale="ja-JP")
    slack.command("/kyoso", "lang fr", user_id="U0JA", channel_id="C0REVIEW")
    assert "`ja`（日本語）または `en`" in _answer(emulator)["text"]
    assert _counts(session_factory)[0] == 0


def test_team_join_retried_three_times_has_one_effect(
    slack: SlackSender, session_factory: SessionFactory
) -> None:
    event = _team_join("U0NEW", "ｙａｍａｄａ＠City.Example.LG.JP")
    for retry in (None, 1, 2):
        assert slack.event(event, event_id="Ev0TEAMJOIN", retry_num=retry).status == 200
    wait_for(lambda: _counts(session_factory) == (1, 1, 1))
    time.sleep(0.3)  # give a wrongly repeated effect the chance to show
    assert _counts(session_factory) == (1, 1, 1)
    with session_factory() as session:
        member = session.scalars(select(Member)).one()
    assert member.email_normalized == "yamada@city.example.lg.jp"  # NFKC, lowercased
    assert member.real_name == "山田 花子"


def test_tampered_signature_is_refused_and_nothing_stored(
    slack: SlackSender, session_factory: SessionFactory
) -> None:
    response = slack.event(_team_join("U0BAD", "bad@example.lg.jp"), tamper=True)
    assert response.status == 401
    time.sleep(0.2)
    assert _counts(session_factory) == (0, 0, 0)


def test_stale_timestamp_is_refused(slack: SlackSender, session_factory: SessionFactory) -> None:
    stale = time.time() - 6 * 60  # Slack's replay window is 5 minutes
    response = slack.event(_team_join("U0OLD", "old@example.lg.jp"), timestamp=stale)
    assert response.status == 401
    response = slack.command(
        "/kyoso", "help", user_id="U0OLD", channel_id="C0REVIEW", timestamp=stale
    )
    assert response.status == 401
    time.sleep(0.2)
    assert _counts(session_factory) == (0, 0, 0)


def test_url_verification_echoes_the_challenge(slack: SlackSender) -> None:
    response = slack.url_verification("kyoso-challenge-123")
    assert response.status == 200
    assert "kyoso-challenge-123" in response.body_text


def test_app_home_is_published_in_the_members_language(
    slack: SlackSender, emulator: SlackEmulator
) -> None:
    emulator.add_user("U0JA", name="sato", locale="ja-JP")
    slack.event({"type": "app_home_opened", "user": "U0JA", "tab": "home", "channel": "D0JA"})
    home = wait_for(lambda: emulator.published_home("U0JA"))
    rendered = json.dumps(home, ensure_ascii=False)
    assert "共創プラットフォームへようこそ" in rendered and "未登録" in rendered


def test_rate_limited_call_is_retried_after_retry_after(
    slack: SlackSender, emulator: SlackEmulator
) -> None:
    emulator.add_user("U0JA", name="sato", locale="ja-JP")
    emulator.rate_limit("views.publish", times=1, retry_after=1)
    slack.event({"type": "app_home_opened", "user": "U0JA", "tab": "home", "channel": "D0JA"})
    wait_for(lambda: emulator.published_home("U0JA"), timeout=8)
    calls = emulator.calls_to("views.publish")
    assert [c.status for c in calls] == [429, 200]
    assert calls[1].time - calls[0].time >= 1.0


def test_health_endpoint_reports_the_database(kyoso: RunningKyoso) -> None:
    with urllib.request.urlopen(kyoso.base_url + "/healthz", timeout=5) as response:
        assert response.status == 200
        assert json.load(response) == {"status": "ok", "database": "ok"}


def test_a_failing_listener_is_logged_and_the_member_told_politely(
    slack: SlackSender, emulator: SlackEmulator, kyoso: RunningKyoso, caplog: Any
) -> None:
    def explode(_call: Any) -> None:
        raise RuntimeError("database went away")

    # A subcommand that fails, to drive the app's single error handler end to end.
    kyoso.kyoso.deps.commands.add("explode", help_key="help.command.help", run=explode)
    emulator.add_user("U0JA", name="sato", locale="ja-JP")
    assert slack.command("/kyoso", "explode", user_id="U0JA", channel_id="C0REVIEW").status == 200
    answer = _answer(emulator)
    assert answer["text"].startswith("申し訳ありません。処理中に問題が発生しました。")
    assert answer["response_type"] == "ephemeral"
    assert "database went away" not in json.dumps(answer, ensure_ascii=False)  # no internals
    assert any("listener failed" in r.getMessage() for r in caplog.records)


def test_the_members_locale_is_looked_up_once(slack: SlackSender, emulator: SlackEmulator) -> None:
    emulator.add_user("U0JA", name="sato", locale="ja-JP")
    for n in range(1, 4):
        slack.command("/kyoso", "help", user_id="U0JA", channel_id="C0REVIEW")
        _answer(emulator, n)
    assert len(emulator.calls_to("users.info")) == 1
