"""`kyoso knowledge`: the secretariat's FAQ imported from the files offices really have (Excel's
CSV in Shift_JIS or UTF-8 with a BOM, JSON Lines), every row reported; exports that Excel opens
and that import back; searches, the index and the synonym list from the command line."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.domain.channels import SlackChannel
from bot.services.channels import registry
from bot.services.knowledge import cards, entries
from bot.services.knowledge.entries import ThreadDraft
from models import (
    AuditEntry,
    EntryKind,
    EntryStatus,
    KnowledgeEntry,
    KnowledgeSynonymGroup,
    KnowledgeTerm,
)

JST = ZoneInfo("Asia/Tokyo")

JAPANESE_CSV = (
    "ID,タイトル,質問（必須）,回答,タグ,回答日,都道府県\r\n"
    "gc-1,ガバクラの移行,ガバメントクラウドへの移行はいつまでですか,2025年度末までの移行が目標です。,"
    '"ガバクラ、移行",2026/11/20,岩手\r\n'
    ",,住民票の写しの請求方法は,窓口かコンビニ交付で請求できます。,,,\r\n"
    "gc-3,空の回答,回答のない質問です,,,,\r\n"
    "gc-4,日付が変,申請の期限は,月末です。,,2026/13/01,\r\n"
    "gc-5,県が変,補助金の窓口は,県庁です。,,,ムー大陸\r\n"
    "gc-6,ラベル付き,庁内の資料の扱いは,部外秘ですが共有します。,,,\r\n"
    "gc-7,担当への連絡,担当者への連絡方法は,担当の携帯 090-1234-5678 までお願いします。,,,\r\n"
    ",,,,,,\r\n"
)


@pytest.fixture
def cli_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str
) -> Iterator[pytest.MonkeyPatch]:
    """The command as an operator runs it: settings from the environment only."""
    for name in list(os.environ):
        if name.startswith(("SLACK_", "KYOSO_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)  # no stray .env
    yield monkeypatch


def _run(capsys: pytest.CaptureFixture[str], clock: FixedClock, *args: str) -> tuple[int, str, str]:
    code = main(["knowledge", *args], clock=clock)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _results(out: str) -> dict[int, str]:
    """Report line number → the result column (the table ends at the first blank line)."""
    found = {}
    for text in out.split("\n\n", 1)[0].splitlines():
        cells = text.split()
        if len(cells) >= 2 and cells[0].isdigit():
            found[int(cells[0])] = cells[1]
    return found


def _active(session_factory: SessionFactory) -> list[KnowledgeEntry]:
    with session_factory() as session:
        return list(
            session.scalars(
                select(KnowledgeEntry)
                .where(KnowledgeEntry.status == EntryStatus.ACTIVE)
                .order_by(KnowledgeEntry.id)
            )
        )


def _count(session_factory: SessionFactory, model: type) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


# --------------------------------------------------------------------------------------
# import


def test_a_japanese_csv_with_bom_reports_every_row(
    cli_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    clock: FixedClock,
    session_factory: SessionFactory,
    tmp_path: Path,
) -> None:
    path = _write(tmp_path, "faq.csv", JAPANESE_CSV, "utf-8-sig")
    code, out, err = _run(capsys, clock, "import", str(path))
    assert code == 1, err  # rows were not stored: the operator must look
    assert _results(out) == {
        2: "作成",
        3: "作成",
        4: "不備",
        5: "不備",
        6: "不備",
        7: "取り込み不可",
        8: "作成",
    }
    assert "「回答」が空です。" in out
    assert "日付「2026/13/01」が読めません。" in out
    assert "都道府県「ムー大陸」が分かりません" in out
    assert (
        "取扱いの表示（機密性2・部外秘・取扱注意・庁内限りなど）があるため取り込みません。" in out
    )
    assert "保存時に次の個人情報を伏せました: 電話番号" in out
    assert "文字コード: UTF-8（BOM 付き）" in out
    assert "作成 3 件、更新 0 件、対象外 0 件、取り込み不可 1 件、不備 3 件。" in out
    assert "空の行 1 行を読み飛ばしました。" in out

    stored = _active(session_factory)
    assert [e.title for e in stored] == [
        "ガバクラの移行",
        "住民票の写しの請求方法は",  # no title: the question's first line
        "担当への連絡",
    ]
    first, second, third = stored
    assert first.source_key == "faq:gc-1"
    assert first.kind is EntryKind.FAQ
    assert first.tags == ["ガバクラ", "移行"]
    assert first.prefecture == "岩手県"
    assert first.answered_at == datetime(2026, 11, 20, tzinfo=JST)
    assert first.recorder_id is None  # the CLI is no member
    assert second.source_key.startswith("faq:q-")
    assert second.answered_at == clock.now()  # no date: imported now
    assert "090-1234-5678" not in third.answer
    assert third.masked_kinds == ["phone_number"]
    with session_factory() as session:
        actors = set(session.scalars(select(AuditEntry.actor)))
    assert actors == {"cli"}


def test_dry_run_writes_nothing(
    cli_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    clock: FixedClock,
    session_factory: SessionFactory,
    tmp_path: Path,
) -> None:
    path = _write(tmp_path, "faq.csv", JAPANESE_CSV, "utf-8-sig")
    code, out, _ = _run(capsys, clock, "import", str(path), "--dry-run")
    assert code == 1
    assert _results(out)[2] == "作成" and _results(out)[7] == "取り込み不可"
    assert "確認のみ（--dry-run）: 何も保存していません。" in out
    assert _count(session_factory, KnowledgeEntry) == 0
    assert _count(session_factory, KnowledgeTerm) == 0
    assert _count(session_factory, AuditEntry) == 0


def test_english_jsonl(
    cli_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    clock: FixedClock,
    session_factory: SessionFactory,
    tmp_path: Path,
) -> None:
    lines = [
        json.dumps(
            {
                "ID": "faq:en-1",
                "Title": "Moving to the government cloud",
                "Question": "When must local systems move to the government cloud?",
                "Answer": "By the end of fiscal 2025.",
                "Tags": ["cloud", "migration"],
                "Answered_On": "2026-11-01",
                "Prefecture": "Iwate",
            }
        ),
        "",
        json.dumps({"question": "A question without an answer"}),
        "not json at all",
        json.dumps(["a", "list"]),
        json.dumps({"question": "q", "answer": "a", "title": {"nested": True}}),
        json.dumps({"question": "q", "answer": "a", "answered_on": "2027-01-01"}),
    ]
    path = _write(tmp_path, "faq.jsonl", "\n".join(lines) + "\n")
    code, out, _ = _run(capsys, clock, "import", str(path), "--lang", "en")
    assert code == 1
    assert _results(out) == {
        1: "created",
        3: "invalid",
        4: "invalid",
        5: "invalid",
        6: "invalid",
        7: "invalid",
    }
    assert "The answer is empty." in out
    assert "The line is not JSON." in out
    assert "The line is not a JSON object ({…})." in out
    assert 'The value of "title" is not text' in out
    assert 'The date "2027-01-01" is in the future.' in out
    assert "(JSON Lines, encoding: UTF-8)" in out
    assert "Created 1, updated 0, skipped 0, refused 0, invalid 5." in out
    [entry] = _active(session_factory)
    assert entry.source_key == "faq:en-1"  # the export's own prefix is not doubled
    assert entry.tags == ["cloud", "migration"]
    assert entry.prefecture == "岩手県"


def test_an_excel_csv_in_cp932(
    cli_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    clock: FixedClock,
    session_factory: SessionFactory,
    tmp_path: Path,
) -> None:
    text = (
        "ｷｰ,Ｔｉｔｌｅ,質問,回答,タグ,日付\r\n"  # half-width kana and full-width letters
        "k1,髙橋さんの資料,研修資料はどこにありますか,共有ドライブの①フォルダです。,研修,2026/1/5\r\n"
    )
    path = _write(tmp_path, "excel.csv", text, "cp932")
    code, out, err = _run(capsys, clock, "import", str(path))
    assert code == 0, out + err
    assert _results(out) == {2: "作成"}
    assert "文字コード: Shift_JIS（CP932）" in out
    [entry] = _active(session_factory)
    assert entry.title == "髙橋さんの資料"
    assert entry.answer == "共有ドライブの①フォルダです。"
    assert entry.answered_at == datetime(2026, 1, 5, tzinfo=JST)


def test_importing_again_updates_instead_of_duplicating(
    cli_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    clock: FixedClock,
    session_factory: SessionFactory,
    tmp_path: Path,
) -> None:
    first = (
        "id,question,answer\n"
        "k1,How do I book a meeting room?,Use the booking system.\n"
        ",Where is the manual?,On the portal.\n"
    )
    code, _, _ = _run(capsys, clock, "import", str(_write(tmp_path, "a.csv", first)))
    assert code == 0
    before = {e.source_key: e.id for e in _active(session_factory)}

    # the same keys, a new answer, the question written in other widths and spacing
    second = (
        "id,question,answer\n"
        "k1,How do I book a meeting room?,Use the new booking system.\n"
        ",Ｗｈｅｒｅ  is the manual?,On the portal, page 2.\n"
    )
    later = FixedClock(clock.now().replace(day=25))
    code, out, _ = _run(capsys, later, "import", str(_write(tmp_path, "b.csv", second)))
    assert code == 0
    assert _results(out) == {2: "更新", 3: "更新"}
    after = _active(session_factory)
    assert {e.source_key: e.id for e in after} == before
    assert after[0].answer == "Use the new booking system."
    assert after[0].answered_at == clock.now()  # no date in the file: the entry keeps its own


def test_files_that_cannot_be_imported(
    cli_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    clock: FixedClock,
    session_factory: SessionFactory,
    tmp_path: Path,
) -> None:
    unknown = _write(tmp_path, "u.csv", "質問,回答,好きな食べ物\nq,a,b\n")
    code, _, err = _run(capsys, clock, "import", str(unknown))
    assert code == 2
    assert "分からない列（項目）があります: 好きな食べ物" in err
    assert "Some columns (fields) are not understood: 好きな食べ物" in err
    assert "回答 / answer: 回答" in err  # the names it would understand

    missing = _write(tmp_path, "m.csv", "タイトル,質問\nt,q\n")
    code, _, err = _run(capsys, clock, "import", str(missing))
    assert code == 2 and "必要な列がありません: 回答 / answer" in err

    workbook = tmp_path / "faq.xlsx"
    workbook.write_bytes(b"PK\x03\x04 not really a workbook")
    code, _, err = _run(capsys, clock, "import", str(workbook))
    assert code == 2 and "CSV UTF-8" in err

    code, _, err = _run(capsys, clock, "import", str(tmp_path / "nowhere.csv"))
    assert code == 2 and "が見つかりません" in err and "does not exist" in err
    assert _count(session_factory, KnowledgeEntry) == 0


# --------------------------------------------------------------------------------------
# export


def _keep_a_thread_and_a_card(session_factory: SessionFactory, clock: FixedClock) -> None:
    with session_factory.begin() as session:
        entries.save_thread(
            session,
            clock=clock,
            recorder_id="U0RECORDER",
            draft=ThreadDraft(
                channel_id="C0THREAD",
                thread_ts="1700000000.000100",
                answer_ts="1700000000.000200",
                asker_id="U0ASKER",
                answerer_id="U0ANSWERER",
                title="マイナンバーカードの更新",
                question="更新の案内はいつ届きますか",
                answer="有効期限の3か月前に届きます。",
                tags=("マイナンバー",),
                answered_at=clock.now(),
            ),
        )
        registry.upsert_channel(
            session,
            clock=clock,
            slack_channel=SlackChannel(id="C0CARD", name="デジ_all_雑談", purpose="気軽な話題"),
        )
        cards.sync_channel_cards(session, clock=clock)


def test_export_then_import_round_trip(
    cli_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    clock: FixedClock,
    session_factory: SessionFactory,
    tmp_path: Path,
) -> None:
    source = (
        "ID,タイトル,質問,回答,タグ,回答日,都道府県\n"
        'r1,手順,申請の手順は,"- 手順1: 申請書を書く\n- 手順2: 提出する","申請, 手順",2026/11/20,岩手県\n'
        "r2,=式のような題,=SUM(A1) は何ですか,@担当 に聞いてください,,,\n"
    )
    code, _, _ = _run(capsys, clock, "import", str(_write(tmp_path, "src.csv", source)))
    assert code == 0
    _keep_a_thread_and_a_card(session_factory, clock)

    exported = tmp_path / "export.csv"
    code, out, _ = _run(capsys, clock, "export", "--output", str(exported))
    assert code == 0
    assert "4 件を書き出しました" in out and "4 entries written" in out
    data = exported.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 only with a BOM
    text = data.decode("utf-8-sig")
    assert text.startswith(
        "ID,種類,タイトル,質問,回答,タグ,チャンネル,スレッド,回答日,✅,役に立った,都道府県\r\n"
    )
    assert "'=SUM(A1)" in text and "'@担当" in text  # Excel shows them, never runs them
    for person in ("U0ASKER", "U0ANSWERER", "U0RECORDER"):
        assert person not in text  # never people

    # A backup restored: the FAQ entries removed, then the export imported back.
    faq_ids = [e.id for e in _active(session_factory) if e.kind is EntryKind.FAQ]
    with session_factory.begin() as session:
        for entry_id in faq_ids:
            entries.remove(
                session,
                clock=clock,
                entry_id=entry_id,
                actor="cli",
                by_secretariat=True,
                reason="t",
            )
    code, out, _ = _run(capsys, clock, "import", str(exported))
    assert code == 0
    assert list(_results(out).values()) == ["更新", "更新", "対象外", "対象外"]
    assert "削除されていた項目を、このファイルの内容で元に戻しました。" in out
    assert "Slack のスレッドから記録した項目やチャンネルカードは取り込みません" in out

    again = tmp_path / "again.csv"
    code, _, _ = _run(capsys, clock, "export", "--output", str(again))
    assert again.read_bytes() == data
    restored = {e.source_key: e for e in _active(session_factory)}
    assert restored["faq:r1"].answer == "- 手順1: 申請書を書く\n- 手順2: 提出する"
    assert restored["faq:r1"].tags == ["申請", "手順"]
    assert restored["faq:r2"].title == "=式のような題"
    assert len(restored) == 4  # nothing doubled


def test_jsonl_export_to_standard_output_round_trips(
    cli_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    clock: FixedClock,
    session_factory: SessionFactory,
    tmp_path: Path,
) -> None:
    source = 'key,question,answer,tags\nj1,質問です,回答です,"a, b"\n'
    _run(capsys, clock, "import", str(_write(tmp_path, "src.csv", source)))
    _keep_a_thread_and_a_card(session_factory, clock)
    code, out, err = _run(capsys, clock, "export", "--format", "jsonl")
    assert code == 0
    assert "3 entries written to -" in err  # the report stays off the data
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["kind"] for r in rows] == ["faq", "thread", "channel"]
    assert rows[0] == {
        "id": "faq:j1",
        "kind": "faq",
        "title": "質問です",
        "question": "質問です",
        "answer": "回答です",
        "tags": ["a", "b"],
        "channel": None,
        "thread_ts": None,
        "answered_on": "2026-11-24",
        "checks": 0,
        "helpful": 0,
        "prefecture": None,
    }
    assert rows[1]["channel"] == "C0THREAD" and rows[1]["thread_ts"] == "1700000000.000100"
    assert "U0ASKER" not in out

    path = _write(tmp_path, "back.jsonl", out)
    code, out, _ = _run(capsys, clock, "import", str(path))
    assert code == 0
    assert list(_results(out).values()) == ["更新", "対象外", "対象外"]
    assert len(_active(session_factory)) == 3


# --------------------------------------------------------------------------------------
# search, reindex, synonyms


def _some_faq(capsys: pytest.CaptureFixture[str], clock: FixedClock, tmp_path: Path) -> None:
    source = (
        "id,title,question,answer,prefecture\n"
        "s1,ガバクラへの移行,移行の期限は,2025年度末が目標です。,\n"
        "s2,ガバクラの費用,費用の負担は,国が一部を補助します。,岩手県\n"
        "s3,研修の案内,研修はいつですか,毎月第2火曜日です。,\n"
    )
    code, _, _ = _run(capsys, clock, "import", str(_write(tmp_path, "s.csv", source)))
    assert code == 0


def test_search_as_json(
    cli_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    clock: FixedClock,
    session_factory: SessionFactory,
    tmp_path: Path,
) -> None:
    _some_faq(capsys, clock, tmp_path)
    # the shipped synonyms: ガバメントクラウド finds ガバクラ
    code, out, _ = _run(capsys, clock, "search", "ガバメントクラウド", "--json", "--limit", "1")
    assert code == 0
    found = json.loads(out)
    assert found["query"] == "ガバメントクラウド"
    assert found["total"] == 2
    [best] = found["results"]
    assert best["rank"] == 1 and best["kind"] == "faq"
    assert best["title"].startswith("ガバクラ")
    assert "*" not in best["snippet"] and "\u200b" not in best["snippet"]
    assert best["answered_on"] == "2026-11-24"

    code, out, _ = _run(capsys, clock, "search", "ガバクラ", "--json", "--prefecture", "岩手")
    found = json.loads(out)
    assert found["prefecture"] == "岩手県"
    assert found["results"][0]["title"] == "ガバクラの費用"  # the searcher's prefecture first

    code, out, _ = _run(capsys, clock, "search", "研修")
    assert code == 0
    assert "「研修」: 1 件（上位 1 件）" in out
    assert " 1. [" in out and "研修の案内" in out


def test_search_refuses_what_it_cannot_use(
    cli_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    clock: FixedClock,
    session_factory: SessionFactory,
) -> None:
    code, out, _ = _run(capsys, clock, "search", "何もない")
    assert code == 0 and "「何もない」に一致する項目はありません。" in out
    with pytest.raises(SystemExit) as exited:
        _run(capsys, clock, "search", "研修", "--prefecture", "ムー大陸")
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "都道府県「ムー大陸」が分かりません" in err and 'prefecture "ムー大陸"' in err
    with pytest.raises(SystemExit) as exited:
        _run(capsys, clock, "search", "研修", "--limit", "0")
    assert exited.value.code == 2


def test_reindex_counts_the_entries(
    cli_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    clock: FixedClock,
    session_factory: SessionFactory,
    tmp_path: Path,
) -> None:
    _some_faq(capsys, clock, tmp_path)
    with session_factory() as session:
        before = dict(session.execute(select(KnowledgeTerm.key, KnowledgeTerm.entries)).all())
    code, out, _ = _run(capsys, clock, "reindex")
    assert code == 0
    assert "3 件の索引を作り直しました。" in out and "Index rebuilt for 3 entries." in out
    with session_factory() as session:
        after = dict(session.execute(select(KnowledgeTerm.key, KnowledgeTerm.entries)).all())
    assert after == before
    code, out, _ = _run(capsys, clock, "search", "研修", "--json")
    assert json.loads(out)["total"] == 1


def test_synonyms_show_and_load(
    cli_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    clock: FixedClock,
    session_factory: SessionFactory,
    tmp_path: Path,
) -> None:
    code, out, _ = _run(capsys, clock, "synonyms", "show")
    assert code == 0 and "ガバメントクラウド, ガバクラ" in out  # the shipped list

    path = _write(
        tmp_path, "s.txt", "# 自分たちの言葉\n研修, 勉強会\n\nDX, デジタル変革\n", "utf-8-sig"
    )
    code, out, _ = _run(capsys, clock, "synonyms", "load", str(path))
    assert code == 0 and "2 組に置き換えました" in out
    code, out, _ = _run(capsys, clock, "synonyms", "show")
    assert out == "研修, 勉強会\nDX, デジタル変革\n"
    with session_factory() as session:
        audited = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "knowledge.synonyms_replaced")
        ).one()
        assert audited.actor == "cli"
        assert {g.updated_by for g in session.scalars(select(KnowledgeSynonymGroup))} == {"cli"}

    too_many = _write(tmp_path, "many.txt", "".join(f"語{i}a, 語{i}b\n" for i in range(501)))
    with pytest.raises(SystemExit) as exited:
        _run(capsys, clock, "synonyms", "load", str(too_many))
    assert exited.value.code == 1
    assert "501 組あります" in capsys.readouterr().err
    assert _count(session_factory, KnowledgeSynonymGroup) == 2  # unchanged

    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("caf\xe9, coffee\n".encode("latin-1"))
    with pytest.raises(SystemExit) as exited:
        _run(capsys, clock, "synonyms", "load", str(latin1))
    assert exited.value.code == 2 and "UTF-8 ではありません" in capsys.readouterr().err


def test_no_date_before_today_depends_on_the_clock(
    cli_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    session_factory: SessionFactory,
    tmp_path: Path,
) -> None:
    """A date is "in the future" against the injected clock, not the machine's."""
    path = _write(tmp_path, "d.csv", "question,answer,date\nq,a,2030-01-01\n")
    code, out, _ = _run(capsys, FixedClock(datetime(2031, 1, 1, tzinfo=UTC)), "import", str(path))
    assert code == 0 and _results(out) == {2: "作成"}


def test_a_long_answer_is_stored_shortened_and_said_so(
    cli_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    clock: FixedClock,
    session_factory: SessionFactory,
    tmp_path: Path,
) -> None:
    long_answer = "手順を説明します。" * 400  # 3,600 characters
    path = _write(tmp_path, "l.csv", f"question,answer\n長い回答の質問,{long_answer}\n")
    code, out, _ = _run(capsys, clock, "import", str(path))
    assert code == 0
    assert "長すぎる部分を切り詰めて保存しました（質問・回答は 3000 文字まで）。" in out
    [entry] = _active(session_factory)
    assert len(entry.answer) == 3000
