"""Channel cards: each active channel of the registry is found by a search for its topic; a card
follows its channel (renamed, purpose edited, archived, unarchived, opted out) the next night,
and a night without changes writes nothing."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.domain.channels import SlackChannel
from bot.knowledge.synonyms import Thesaurus
from bot.services.channels import registry
from bot.services.knowledge import cards, channel_choices, search
from models import AuditEntry, EntryKind, EntryStatus, KnowledgeEntry
from scheduler.jobs import JobContext, find_job

EVERYONE, IWATE, THEME, QUIET = "C0ALL", "C0IWATE", "C0THEME", "C0QUIET"


def _channel(session_factory: SessionFactory, clock: FixedClock, **values: Any) -> None:
    """What Slack says of a channel, as the registry's events and nightly sync apply it."""
    with session_factory.begin() as session:
        registry.apply_slack_channel(session, clock=clock, slack_channel=SlackChannel(**values))


@pytest.fixture
def workspace(session_factory: SessionFactory, clock: FixedClock) -> None:
    _channel(
        session_factory, clock, id=EVERYONE, name="デジ_all_雑談", purpose="気軽な話題をどうぞ"
    )
    _channel(
        session_factory, clock, id=IWATE, name="デジ_re_岩手", purpose="岩手県内の自治体の情報交換"
    )
    _channel(
        session_factory,
        clock,
        id=THEME,
        name="デジ_pj_防災",
        purpose="防災 DX の取組",
        is_archived=True,
    )
    _channel(session_factory, clock, id=QUIET, name="雑多な部屋", purpose="")
    with session_factory.begin() as session:
        registry.get_channel(session, IWATE).prefecture = "岩手県"


def _sync(session_factory: SessionFactory, clock: FixedClock) -> dict[str, int]:
    with session_factory.begin() as session:
        return cards.sync_channel_cards(session, clock=clock).as_dict()


def _cards(session_factory: SessionFactory) -> dict[str, KnowledgeEntry]:
    with session_factory() as session:
        return {
            e.channel_id or "": e
            for e in session.scalars(
                select(KnowledgeEntry).where(KnowledgeEntry.kind == EntryKind.CHANNEL)
            )
        }


def _audits(session_factory: SessionFactory) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(AuditEntry)) or 0


def _found(session_factory: SessionFactory, clock: FixedClock, query: str) -> list[str]:
    with session_factory() as session:
        page = search.search(session, query=query, clock=clock, thesaurus=Thesaurus([]))
    return [hit.title for hit in page.hits]


def _counts(**values: int) -> dict[str, int]:
    return {"created": 0, "updated": 0, "unchanged": 0, "removed": 0, "refused": 0, **values}


def test_sync_creates_a_card_per_active_channel(
    workspace: None, session_factory: SessionFactory, clock: FixedClock
) -> None:
    assert _sync(session_factory, clock) == _counts(created=3)
    found = _cards(session_factory)
    assert set(found) == {EVERYONE, IWATE, QUIET}  # not the archived one
    iwate = found[IWATE]
    assert iwate.source_key == "channel:C0IWATE"
    assert iwate.status is EntryStatus.ACTIVE
    assert iwate.title == "デジ_re_岩手"
    assert iwate.question == "岩手県内の自治体の情報交換"
    assert iwate.answer == (
        "都道府県・地域のチャンネル（岩手県）\nA channel for a prefecture or region (岩手県)"
    )
    assert iwate.tags == ["地域", "Region", "岩手県"]
    assert iwate.prefecture == "岩手県"
    assert iwate.recorder_id is None and iwate.asker_id is None
    assert found[QUIET].question == ""
    assert found[QUIET].answer.startswith("ワークスペースのチャンネル\n")
    assert found[EVERYONE].tags == ["全体", "Everyone"]

    assert _found(session_factory, clock, "情報交換") == ["デジ_re_岩手"]
    assert _found(session_factory, clock, "雑談") == ["デジ_all_雑談"]


def test_a_night_without_changes_writes_nothing(
    workspace: None, session_factory: SessionFactory, clock: FixedClock
) -> None:
    _sync(session_factory, clock)
    before = {k: (e.updated_at, e.search_keys) for k, e in _cards(session_factory).items()}
    audits = _audits(session_factory)
    later = FixedClock(clock.now() + timedelta(days=1))
    assert _sync(session_factory, later) == _counts(unchanged=3)
    after = {k: (e.updated_at, e.search_keys) for k, e in _cards(session_factory).items()}
    assert after == before
    assert _audits(session_factory) == audits


def test_cards_follow_their_channels(
    workspace: None, session_factory: SessionFactory, clock: FixedClock
) -> None:
    _sync(session_factory, clock)
    later = FixedClock(clock.now() + timedelta(days=1))
    _channel(session_factory, later, id=EVERYONE, name="デジ_all_雑談", purpose="趣味と雑談の部屋")
    _channel(session_factory, later, id=IWATE, name="デジ_re_岩手", is_archived=True)
    _channel(session_factory, later, id=THEME, name="デジ_pj_防災", is_archived=False)
    with session_factory.begin() as session:
        channel_choices.choose(
            session, clock=later, channel_id=QUIET, actor="U0FAC", opted_out=True
        )

    assert _sync(session_factory, later) == _counts(created=1, updated=1, removed=2)
    found = _cards(session_factory)
    assert found[EVERYONE].question == "趣味と雑談の部屋"
    assert found[IWATE].status is EntryStatus.REMOVED
    assert found[IWATE].question == "" and found[IWATE].search_keys == ""
    assert found[QUIET].status is EntryStatus.REMOVED
    assert found[THEME].status is EntryStatus.ACTIVE
    assert found[THEME].answer.startswith("政策テーマのチャンネル\n")
    with session_factory() as session:
        reasons = dict(
            session.execute(
                select(AuditEntry.target_id, AuditEntry.reason).where(
                    AuditEntry.action == "knowledge.removed"
                )
            ).all()
        )
    assert reasons == {
        str(found[IWATE].id): "channel_archived",
        str(found[QUIET].id): "channel_opted_out",
    }
    assert _found(session_factory, clock, "情報交換") == []
    assert _found(session_factory, clock, "趣味") == ["デジ_all_雑談"]

    # unarchived: its card comes back, as it was kept
    _channel(session_factory, later, id=IWATE, name="デジ_re_岩手", is_archived=False)
    assert _sync(session_factory, later) == _counts(created=1, unchanged=2)
    assert _found(session_factory, clock, "情報交換") == ["デジ_re_岩手"]


def test_a_handling_label_in_a_purpose_keeps_the_channel_out(
    workspace: None, session_factory: SessionFactory, clock: FixedClock
) -> None:
    _sync(session_factory, clock)
    _channel(
        session_factory,
        clock,
        id=IWATE,
        name="デジ_re_岩手",
        purpose="このチャンネルの資料は部外秘です",
    )
    assert _sync(session_factory, clock) == _counts(unchanged=2, refused=1)
    assert _cards(session_factory)[IWATE].status is EntryStatus.REMOVED
    assert _sync(session_factory, clock) == _counts(unchanged=2, refused=1)  # and stays out


def test_the_nightly_job_runs_from_the_job_table(
    workspace: None, session_factory: SessionFactory, clock: FixedClock
) -> None:
    job = find_job("knowledge-channel-cards")
    assert job.cron == {"hour": "4", "minute": "45"}  # after channels-sync at 04:15
    context = JobContext(session_factory=session_factory, clock=clock)  # no Slack needed
    assert job.run(context) == _counts(created=3)
    assert job.run(context) == _counts(unchanged=3)


@pytest.fixture
def cli_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str
) -> Iterator[pytest.MonkeyPatch]:
    for name in list(os.environ):
        if name.startswith(("SLACK_", "KYOSO_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)
    yield monkeypatch


def test_the_command(
    workspace: None,
    cli_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    assert main(["knowledge", "cards"], clock=clock) == 0
    out = capsys.readouterr().out
    assert "チャンネルカード: 作成 3 件、更新 0 件、変更なし 0 件、削除 0 件" in out
    assert "Channel cards: created 3, updated 0, unchanged 0, removed 0" in out
    assert len(_cards(session_factory)) == 3
