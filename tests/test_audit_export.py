"""`kyoso audit export`: a CSV of the audit log that Excel opens (UTF-8 with BOM, CRLF)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.services import audit

BOM = b"\xef\xbb\xbf"


@pytest.fixture
def entries(session_factory: SessionFactory) -> None:
    def at(when: datetime, **fields: Any) -> None:
        with session_factory.begin() as session:
            audit.record(session, clock=FixedClock(when), **fields)

    # 23:59 JST on 23 November: before the day asked for.
    at(
        datetime(2026, 11, 23, 14, 59, tzinfo=UTC),
        actor="U0SEC",
        action="moderation.dismissed",
        target_type="moderation_case",
        target_id="a1",
        reason="前日",
    )
    # 00:30 JST on 24 November.
    at(
        datetime(2026, 11, 23, 15, 30, tzinfo=UTC),
        actor="U0SEC",
        action="moderation.warned",
        target_type="moderation_case",
        target_id="b2",
        reason="誹謗中傷のため、注意しました",
        details={"rule": "slander"},
    )
    at(
        datetime(2026, 11, 25, 1, 0, tzinfo=UTC),
        actor="U0SEC2",
        action="moderation.deleted",
        target_type="moderation_case",
        target_id="c3",
        reason='=HYPERLINK("http://example.com")',
    )
    # 00:00 JST on 26 November: after --until 2026-11-25.
    at(
        datetime(2026, 11, 25, 15, 0, tzinfo=UTC),
        actor="system",
        action="moderation.edit_overdue",
        target_type="moderation_case",
        target_id="d4",
    )


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> Path:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("KYOSO_TIMEZONE", raising=False)
    return tmp_path


def _rows(data: bytes) -> list[list[str]]:
    assert data.startswith(BOM)
    body = data[len(BOM) :].decode("utf-8")
    lines = body.split("\r\n")
    assert lines[-1] == "" and all("\n" not in line for line in lines)  # CRLF only
    return list(csv.reader(io.StringIO(body, newline="")))


def test_export_writes_an_excel_friendly_csv_in_jst(
    entries: None, environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = environment / "audit.csv"
    assert main(["audit", "export", "--since", "2026-11-24", "--out", str(out)]) == 0
    rows = _rows(out.read_bytes())
    assert rows[0] == [
        "occurred_at (Asia/Tokyo)",
        "actor",
        "action",
        "target_type",
        "target_id",
        "reason",
        "details",
    ]
    assert [r[4] for r in rows[1:]] == ["b2", "c3", "d4"]
    assert rows[1][:6] == [
        "2026-11-24 00:30:00",
        "U0SEC",
        "moderation.warned",
        "moderation_case",
        "b2",
        "誹謗中傷のため、注意しました",
    ]
    assert rows[1][6] == '{"rule": "slander"}'
    assert rows[2][5] == '\'=HYPERLINK("http://example.com")'  # never run as a formula
    assert "3 件を書き出しました" in capsys.readouterr().out


def test_until_is_inclusive_and_dates_may_be_typed_full_width(
    entries: None, environment: Path
) -> None:
    out = environment / "audit.csv"
    args = ["audit", "export", "--since", "２０２６/１１/２４", "--until", "2026-11-25"]
    assert main([*args, "--out", str(out)]) == 0
    assert [r[4] for r in _rows(out.read_bytes())[1:]] == ["b2", "c3"]


def test_without_out_the_csv_goes_to_standard_output_with_its_bom(
    entries: None, environment: Path, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    assert main(["audit", "export", "--since", "2026-11-25"]) == 0
    captured = capfdbinary.readouterr()
    assert [r[4] for r in _rows(captured.out)[1:]] == ["c3", "d4"]
    assert "2 件を書き出しました".encode() in captured.err


def test_bad_dates_are_refused_with_a_message(
    environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["audit", "export", "--since", "yesterday"])
    assert exited.value.code == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err
    code = main(["audit", "export", "--since", "2026-11-25", "--until", "2026-11-24"])
    assert code == 2
    assert "--until" in capsys.readouterr().err
