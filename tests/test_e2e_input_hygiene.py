"""Hostile input through every door, end to end: the web form's name in the secretariat's
review message and approve dialog, a modal's reason with NUL, slash command text with
control characters and absurd numbers, a CSV with control characters."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy import select

from bot import ids
from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.services import members
from bot.services.applications.import_columns import Column
from bot.services.applications.import_file import ImportFileError, read_csv
from models import Application, AuditEntry, Role
from tests.support.kyoso_server import RunningKyoso, wait_for
from tests.support.slack_emulator import SlackEmulator
from tests.support.slack_sender import SlackSender
from tests.support.web_client import WebClient
from tests.test_e2e_moderation import REVIEW, SECRETARY, _seed_cases, setup_people

HOSTILE_NAME = "<@W0ADMIN|boss> <!channel> <https://evil.example|確認> @here 山田\u202e\x00"
# Live mentions, links and broadcasts; Kyoso's own `<!date^…>` stamps are not member text.
LIVE = re.compile(r"<(?!!date\^)[!@#]|<https?:|@(?:channel|here|everyone)", re.IGNORECASE)


@pytest.fixture(autouse=True)
def _people(emulator: SlackEmulator, session_factory: SessionFactory, clock: FixedClock) -> None:
    setup_people(emulator, session_factory, clock)


def _apply(kyoso: RunningKyoso, name: str) -> None:
    client = WebClient(kyoso.base_url)
    form = client.get("/apply")
    page = client.post(
        "/apply",
        {
            "action": "submit",
            "lang": "ja",
            "name": name,
            "email": "hanako.yamada@city.sapporo.lg.jp",
            "org_kind": "lg",
            "prefecture": "北海道",
            "lg_code": "011002",
            "department": "総務局",
            "rules": "yes",
            "csrf_token": form.field("csrf_token") or "",
            "rules_version": form.field("rules_version") or "",
        },
    )
    assert page.status == 303, page.plain


def _mrkdwn_texts(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [str(value["text"])] if value.get("type") == "mrkdwn" else []
        return found + [t for v in value.values() for t in _mrkdwn_texts(v)]
    if isinstance(value, list):
        return [t for v in value for t in _mrkdwn_texts(v)]
    return []


def test_a_hostile_name_is_inert_in_the_review_message_and_the_approve_dialog(
    kyoso: RunningKyoso, emulator: SlackEmulator, session_factory: SessionFactory
) -> None:
    _apply(kyoso, HOSTILE_NAME)
    [message] = wait_for(lambda: emulator.messages(REVIEW))
    with session_factory() as session:
        [application] = session.scalars(select(Application)).all()
    assert application.name == "<@W0ADMIN|boss> <!channel> <https://evil.example|確認> @here 山田"

    texts = _mrkdwn_texts(message.get("blocks", []))
    [approve] = [
        element
        for block in message["blocks"]
        if block.get("block_id") == ids.APPLICATION_REVIEW_BLOCK
        for element in block["elements"]
        if element["action_id"] == ids.APPLICATION_APPROVE
    ]
    dialog = approve["confirm"]["text"]
    assert dialog["type"] == "mrkdwn"
    assert "&lt;@W0ADMIN|boss&gt;" in dialog["text"] and "&lt;!channel&gt;" in dialog["text"]
    for text in [*texts, str(message.get("text", ""))]:
        assert not LIVE.search(text), text
    assert "&lt;https://evil.example|確認&gt;" in json.dumps(texts, ensure_ascii=False)


def test_a_modal_reason_with_nul_and_controls_is_stored_clean(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
) -> None:
    _apply(kyoso, "山田 花子")
    [message] = wait_for(lambda: emulator.messages(REVIEW))
    with session_factory() as session:
        public_id = session.scalars(select(Application.public_id)).one()
    slack.block_action(
        ids.APPLICATION_REJECT,
        public_id,
        user_id=SECRETARY,
        channel_id=REVIEW,
        message=message,
        block_id=ids.APPLICATION_REVIEW_BLOCK,
    )
    view = wait_for(lambda: emulator.opened_views())[-1]
    reason = "所属を\x00確認できません\x1b[0m\n\t詳細は\u202eメールで"
    values = {
        ids.APPLICATION_REASON_BLOCK: {
            ids.APPLICATION_REASON_INPUT: {"type": "plain_text_input", "value": reason}
        }
    }
    response = slack.view_submission(
        ids.APPLICATION_REJECT_MODAL, values=values, user_id=SECRETARY, view_id=view["id"]
    )
    assert response.status == 200
    with session_factory() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "application.rejected")
        ).one()
    assert entry.reason == "所属を確認できません[0m\n\t詳細はメールで"  # a multi-line field


def _cases_answer(slack: SlackSender, emulator: SlackEmulator, text: str) -> dict[str, Any]:
    before = len(emulator.all_responses())
    response = slack.command("/kyoso", text, user_id=SECRETARY, channel_id=REVIEW)
    assert response.status == 200
    answers = wait_for(lambda: len(emulator.all_responses()) > before and emulator.all_responses())
    answer: dict[str, Any] = answers[-1][1]
    return answer


def test_an_absurd_page_number_gets_a_polite_answer(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    _seed_cases(session_factory, clock, 12)
    for page in ("99999999999999999999", "9" * 5000, "3", "0", "٣"):
        answer = _cases_answer(slack, emulator, f"cases {page}")
        assert "ページ目はありません（全 2 ページ）" in answer["text"], (page[:20], answer)
        assert "スパム・宣伝" not in json.dumps(answer, ensure_ascii=False)
    # control characters in the command text are dropped before it is read
    answer = _cases_answer(slack, emulator, "cases\u202e\x00 2")
    assert "2 / 2 ページ" in json.dumps(answer["blocks"], ensure_ascii=False)


def test_an_absurd_page_number_in_english(
    kyoso: RunningKyoso,
    slack: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    with session_factory.begin() as session:
        members.set_language(session, clock=clock, slack_user_id=SECRETARY, language="en")
        assert members.has_role(session, SECRETARY, Role.SECRETARIAT)
    answer = _cases_answer(slack, emulator, "cases 99999999999999999999")
    assert "There is no page 999999999999… (there are 1)" in answer["text"]


def test_a_csv_with_control_characters_is_read_clean() -> None:
    data = (
        "氏名,メールアドレス,部署\r\n"
        '"山田\u202e花子\u2066","\ufeffhanako@city.sapporo.lg.jp\u200f","総務局\r\n情報\tシステム部"\r\n'
    ).encode()
    csv_file = read_csv(data)
    [row] = csv_file.rows
    assert csv_file.value(row, Column.NAME) == "山田花子"
    assert csv_file.value(row, Column.EMAIL) == "hanako@city.sapporo.lg.jp"
    assert csv_file.value(row, Column.DEPARTMENT) == "総務局 情報 システム部"
    # NUL and C0 controls mark a file that is not text at all: refused as a whole
    with pytest.raises(ImportFileError):
        read_csv("氏名,メールアドレス\r\n山田\x00,a@city.sapporo.lg.jp\r\n".encode())
