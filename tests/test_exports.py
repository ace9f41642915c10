"""CSV exports read back the way Excel reads them: a UTF-8 byte order mark, CRLF line ends,
quoted fields; formulas typed by members stay text."""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.cli import main as kyoso_cli
from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.services.dashboard import exports
from bot.services.dashboard.exports import ExportKind
from models import (
    AuditEntry,
    ChannelCategory,
    ChannelFacilitator,
    ChannelStatus,
    MemberStatus,
    Role,
)
from tests.test_statistics import NOW, add_channel, add_member, ago, org_id

JST = ZoneInfo("Asia/Tokyo")


def read_like_excel(content: bytes) -> list[list[str]]:
    """What Excel does with a .csv: BOM → UTF-8; records end in CRLF; quotes may hold newlines."""
    assert content.startswith(codecs.BOM_UTF8), "without a BOM Excel reads Shift_JIS"
    text = content[len(codecs.BOM_UTF8) :].decode("utf-8")
    # Every record ends with CRLF; a bare LF only appears inside a quoted field.
    assert text.endswith("\r\n")
    rows = list(csv.reader(io.StringIO(text, newline=""), dialect="excel"))
    outside_quotes = _unquoted(text)
    assert "\n" not in outside_quotes.replace("\r\n", "")
    assert outside_quotes.count("\r\n") == len(rows)
    return rows


def _unquoted(text: str) -> str:
    out, quoted = [], False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif not quoted:
            out.append(ch)
    return "".join(out)


def test_csv_is_excel_friendly_and_formula_safe() -> None:
    content = exports.to_csv(
        ["氏名", "メモ", "数"],
        [
            ["山田 花子", '改行\nと "引用", カンマ', 3],
            ['=HYPERLINK("http://evil")', "+81 90", -5],
            ["@SUM(A1)", None, 0],
        ],
    )
    rows = read_like_excel(content)
    assert rows[0] == ["氏名", "メモ", "数"]
    assert rows[1] == ["山田 花子", '改行\nと "引用", カンマ', "3"]
    assert rows[2] == ['\'=HYPERLINK("http://evil")', "'+81 90", "-5"]  # numbers stay numbers
    assert rows[3] == ["'@SUM(A1)", "", "0"]


@pytest.fixture
def platform(session_factory: SessionFactory) -> None:
    with session_factory.begin() as session:
        sapporo = org_id(session, code="011002")
        digital = org_id(session, slug="digital")
        add_member(
            session,
            "U0A",
            organisation_id=sapporo,
            joined_at=ago(days=10),
            last_seen_at=ago(days=1),
            real_name="=1+1 山田",
            roles=(Role.SECRETARIAT, Role.FACILITATOR),
        )
        facilitator = add_member(session, "U0B", organisation_id=digital, joined_at=ago(days=200))
        add_member(session, "U0C", status=MemberStatus.FLAGGED, joined_at=ago(days=400))
        add_member(session, "U0BOT", is_bot=True, joined_at=ago(days=1))
        channel = add_channel(
            session, "デジ_pj_子育て", ChannelCategory.PJ, last_activity_at=ago(days=3)
        )
        channel.purpose = "子育て支援の情報交換,\n事例共有"
        session.add(
            ChannelFacilitator(channel_id=channel.id, member_id=facilitator.id, added_at=NOW)
        )
        add_channel(session, "デジ_all_旧", ChannelCategory.ALL, status=ChannelStatus.ARCHIVED)


def _build(
    session_factory: SessionFactory, kind: ExportKind, language: str = "ja"
) -> exports.Export:
    with session_factory.begin() as session:
        return exports.build(
            session,
            kind,
            clock=FixedClock(NOW),
            zone=JST,
            language=language,  # type: ignore[arg-type]
            actor="U0A",
        )


def test_members_export(session_factory: SessionFactory, platform: None) -> None:
    export = _build(session_factory, ExportKind.MEMBERS)
    assert export.filename == "kyoso-members-20261124-1000.csv"
    rows = read_like_excel(export.content)
    header, body = rows[0], rows[1:]
    assert header[:4] == ["Slack ユーザーID", "氏名", "表示名", "メールアドレス"]
    assert [r[0] for r in body] == ["U0A", "U0B", "U0C"]  # everyone but the bot
    assert export.rows == 3
    first = dict(zip(header, body[0], strict=True))
    assert first["氏名"] == "'=1+1 山田"
    assert first["所属"] == "北海道 札幌市"
    assert first["組織の種類"] == "市"
    assert first["団体コード"] == "011002"
    assert first["状態"] == "有効"
    assert first["役割"] == "ファシリテーター / 事務局"
    assert first["参加日時"] == "2026/11/14 10:00"  # JST, as Excel reads a date
    assert dict(zip(header, body[2], strict=True))["状態"] == "削除予定"
    with session_factory() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "export.members")
        ).one()
    assert (entry.actor, entry.details) == ("U0A", {"rows": 3, "bytes": len(export.content)})


def test_channels_export_in_english(session_factory: SessionFactory, platform: None) -> None:
    rows = read_like_excel(_build(session_factory, ExportKind.CHANNELS, "en").content)
    header = rows[0]
    assert header[:3] == ["Channel ID", "Channel name", "Kind"]
    channels = [dict(zip(header, row, strict=True)) for row in rows[1:]]
    active = next(c for c in channels if c["Channel name"] == "デジ_pj_子育て")
    assert active["Purpose"] == "子育て支援の情報交換,\n事例共有"
    assert active["Facilitators"] == "U0B"
    assert active["Days since the last message"] == "3"
    assert active["Status"] == "active"
    archived = next(c for c in channels if c["Channel name"] == "デジ_all_旧")
    assert archived["Status"] == "archived" and archived["Days since the last message"] == ""


def test_stats_export(session_factory: SessionFactory, platform: None) -> None:
    rows = read_like_excel(_build(session_factory, ExportKind.STATS).content)
    assert rows[0] == ["区分", "項目", "値", "母数", "割合"]
    by_item = {(r[0], r[1]): r[2:] for r in rows[1:]}
    assert by_item[("概要", "会員数")] == ["2", "", ""]
    assert by_item[("概要", "会員のいる自治体")] == ["1", "1788", "0.0006"]
    assert by_item[("都道府県別の自治体カバー率", "北海道")] == ["1", "180", "0.0056"]
    assert by_item[("状態別の人数", "削除予定")][0] == "1"
    assert len([r for r in rows if r[0] == "都道府県別の自治体カバー率"]) == 47


def test_cli_writes_the_file(
    tmp_path: Path,
    database_url: str,
    platform: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)  # no stray .env
    out = tmp_path / "会員.csv"
    assert kyoso_cli(["export", "members", "--out", str(out)]) == 0
    rows = read_like_excel(out.read_bytes())
    assert len(rows) == 4
    printed = capsys.readouterr().out
    assert "3 行を" in printed and "3 rows written" in printed
    assert kyoso_cli(["export", "stats", "--out", str(tmp_path / "stats.csv"), "--lang", "en"]) == 0
    assert read_like_excel((tmp_path / "stats.csv").read_bytes())[0][0] == "Section"


def test_cli_refuses_an_unknown_export(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        kyoso_cli(["export", "secrets", "--out", str(tmp_path / "x.csv")])
    assert exit_info.value.code == 2
    assert not (tmp_path / "x.csv").exists()
