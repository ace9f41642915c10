"""`kyoso applications import`: exports of an existing form, as Excel and Google Forms write
them, row by row accepted, refused or invalid, and why."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.db import SessionFactory
from bot.services.applications import import_columns
from bot.services.applications.import_columns import Column
from bot.services.applications.import_file import FileProblem, ImportFileError, read_csv
from models import Application, ApplicationSource, AuditEntry, OutboundEmail
from tests.support.kyoso_server import SIGNING_SECRET
from tests.support.slack_emulator import SlackEmulator

DATA = Path(__file__).parent / "data"
GOOGLE_FORMS_BOM = DATA / "applications-google-forms-utf8-bom.csv"
EXCEL_CP932 = DATA / "applications-excel-cp932.csv"
UNKNOWN_COLUMN = DATA / "applications-unknown-column.csv"


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


def _with_slack(env: pytest.MonkeyPatch, emulator: SlackEmulator) -> None:
    env.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    env.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    env.setenv("SLACK_API_URL", emulator.api_url)
    env.setenv("KYOSO_REVIEW_CHANNEL", "C0REVIEW")
    env.setenv("SMTP_HOST", "")


def _rows(session_factory: SessionFactory) -> list[Application]:
    with session_factory() as session:
        return list(session.scalars(select(Application).order_by(Application.id)))


def _count(session_factory: SessionFactory, model: type) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["applications", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _result_lines(out: str) -> dict[int, str]:
    """Report line number → the result column (the table's second column)."""
    results = {}
    for text in out.splitlines():
        cells = text.split()
        if len(cells) >= 2 and cells[0].isdigit():
            results[int(cells[0])] = cells[1]
    return results


# --------------------------------------------------------------------------------------
# Reading files


def test_a_google_forms_export_in_utf8_with_bom() -> None:
    csv_file = read_csv(GOOGLE_FORMS_BOM.read_bytes())
    assert csv_file.encoding == "utf-8-sig"
    assert set(csv_file.columns) == {
        Column.NAME,
        Column.EMAIL,
        Column.ORGANISATION,
        Column.PREFECTURE,
        Column.DEPARTMENT,
        Column.RULES,
    }
    assert csv_file.ignored == ("タイムスタンプ",)
    assert len(csv_file.rows) == 8 and csv_file.blank_lines == 1
    # a quoted cell over two lines: the next row starts two lines further down
    assert [row.line for row in csv_file.rows][:3] == [2, 3, 5]
    # every cell is a single-line field, as on the web form: the line break reads as a space
    assert csv_file.value(csv_file.rows[1], Column.DEPARTMENT) == "企画部 （兼）DX推進室"


def test_an_excel_export_in_cp932() -> None:
    csv_file = read_csv(EXCEL_CP932.read_bytes())
    assert csv_file.encoding == "cp932"  # 髙 and ① are not in plain Shift_JIS
    first = csv_file.rows[0]
    assert csv_file.value(first, Column.NAME) == "髙橋 花子"
    assert csv_file.value(first, Column.DEPARTMENT) == "総務部 ①係"
    assert csv_file.value(first, Column.ORGANISATION_CODE) == "472018"


def test_other_encodings_and_delimiters() -> None:
    text = "Name\tE-mail Address\tOrganization Code\r\n山田 花子\thanako@city.sapporo.lg.jp\t011002\r\n"
    csv_file = read_csv(b"\xff\xfe" + text.encode("utf-16-le"))  # Excel "Unicode text"
    assert (csv_file.encoding, csv_file.delimiter) == ("utf-16", "\t")
    assert csv_file.value(csv_file.rows[0], Column.ORGANISATION_CODE) == "011002"
    plain = read_csv(b"email,name\r\na@b.lg.jp,x\r\n")
    assert plain.encoding == "utf-8"


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("メールアドレス（必須）", Column.EMAIL),
        ("E-mail Address", Column.EMAIL),
        ("e_mail", Column.EMAIL),
        ("ＭＡＩＬ", Column.EMAIL),
        ("お名前 (フルネーム)", Column.NAME),
        ("Full Name", Column.NAME),
        ("全国地方公共団体コード【6桁】", Column.ORGANISATION_CODE),
        ("所属部署名", Column.DEPARTMENT),
        ("利用規約に同意します。", Column.RULES),
        ("府省庁名", Column.AGENCY),
        ("Timestamp", Column.IGNORED),
    ],
)
def test_header_aliases(header: str, column: Column) -> None:
    assert import_columns.HEADER_ALIASES[column]
    assert import_columns.header_key(header) in import_columns.HEADER_ALIASES[column]


@pytest.mark.parametrize(
    ("answer", "yes"),
    [
        ("同意します", True),
        ("利用規約に同意する", True),
        ("はい", True),
        ("✓", True),
        ("〇", True),
        ("TRUE", True),
        ("I agree", False),  # "agree" must start the answer
        ("Agree", True),
        ("同意しない", False),
        ("いいえ", False),
        ("", False),
        ("FALSE", False),
    ],
)
def test_agreement_answers(answer: str, yes: bool) -> None:
    assert import_columns.agreed(answer) is yes


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"PK\x03\x04rest of a zip", FileProblem.SPREADSHEET),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", FileProblem.SPREADSHEET),
        (b"", FileProblem.EMPTY),
        (b"\r\n,,\r\n", FileProblem.EMPTY),
        (b"\x82\xa0\xff\xfe\xfd\x80", FileProblem.ENCODING),
        (b"\x00\x01\x02binary\x00", FileProblem.ENCODING),
        ('氏名,メールアドレス\r\n"山田,a@b.lg.jp\r\n'.encode(), FileProblem.NOT_CSV),
        ("氏名,備考\r\n".encode(), FileProblem.UNKNOWN_COLUMNS),
        ("氏名,部署\r\n".encode(), FileProblem.MISSING_COLUMNS),
        ("氏名,メール,Email\r\n".encode(), FileProblem.DUPLICATE_COLUMNS),
    ],
)
def test_files_that_cannot_be_imported(data: bytes, problem: FileProblem) -> None:
    with pytest.raises(ImportFileError) as raised:
        read_csv(data)
    assert raised.value.problem is problem
    for language in ("ja", "en"):
        assert raised.value.message(language)  # formats with its params


# --------------------------------------------------------------------------------------
# The command


def test_import_reports_every_row_and_stores_the_accepted(
    cli_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    session_factory: SessionFactory,
) -> None:
    code, out, err = _run(capsys, "import", str(GOOGLE_FORMS_BOM))
    assert code == 0, err
    assert _result_lines(out) == {
        2: "受付（自治体）",
        3: "受付（自治体）",  # full-width address, organisation found by name and prefecture
        5: "受付（事務局確認）",  # gmail.com: the secretariat confirms the affiliation
        6: "受付（国の機関）",
        7: "受付不可",  # a look-alike of lg.jp
        8: "受付不可",  # the same address as line 2, in capitals
        9: "不備",  # no email address
        10: "不備",  # no agreement to the rules
    }
    assert "gmail.com は自治体・政府機関のドメインとして確認できないため" in out
    assert "「lg.jp」に似ていますが" in out
    assert (
        "このメールアドレス（hanako.yamada@city.sapporo.lg.jp）での申請をすでにお受けしており"
        in out
    )
    assert "「メールアドレス」が空です。" in out
    assert "「利用規約への同意」が空です。" in out
    assert "受付 4 件（うち事務局の確認が必要 1 件）、受付不可 2 件、不備 2 件。" in out
    assert "空の行 1 行を読み飛ばしました。" in out
    assert "文字コード: UTF-8（BOM 付き）" in out
    # no Slack settings here: said, not failed
    assert "`kyoso applications post-reviews`" in out

    stored = _rows(session_factory)
    assert [a.email_normalized for a in stored] == [
        "hanako.yamada@city.sapporo.lg.jp",
        "ichiro.sato@city.naha.lg.jp",
        "jiro.suzuki@gmail.com",
        "saburo.takahashi@digital.go.jp",
    ]
    assert all(a.source is ApplicationSource.CSV for a in stored)
    assert [a.outcome for a in stored] == [
        "eligible_local",
        "eligible_local",
        "manual_review",
        "eligible_agency",
    ]
    assert stored[1].department == "企画部 （兼）DX推進室"
    assert stored[0].rules_version == "1"
    assert stored[0].organisation_id is not None and stored[1].organisation_id is not None
    assert _count(session_factory, OutboundEmail) == 4  # "received", like web applications

    # importing the same file again changes nothing: every address is already applied
    code, out, _ = _run(capsys, "import", str(GOOGLE_FORMS_BOM))
    assert code == 0
    assert "受付 0 件" in out
    assert len(_rows(session_factory)) == 4


def test_dry_run_stores_nothing(
    cli_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    session_factory: SessionFactory,
) -> None:
    code, out, _ = _run(capsys, "import", str(GOOGLE_FORMS_BOM), "--dry-run")
    assert code == 0
    results = _result_lines(out)
    assert results[2] == "受付（自治体）"
    assert results[8] == "受付不可"  # the duplicate within the file is still found
    assert "確認のみ（--dry-run）: 何も保存していません。" in out
    assert _count(session_factory, Application) == 0
    assert _count(session_factory, AuditEntry) == 0
    assert _count(session_factory, OutboundEmail) == 0


def test_a_cp932_export_in_english(
    cli_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    session_factory: SessionFactory,
) -> None:
    code, out, _ = _run(capsys, "import", str(EXCEL_CP932), "--lang", "en", "--no-email")
    assert code == 0
    assert _result_lines(out) == {
        2: "accepted",
        3: "refused",
        4: "refused",
        5: "invalid",
        6: "accepted",
    }
    assert 'Did you mean "472018"?' in out  # the check digit
    assert 'Alias addresses with "+"' in out
    assert "(5 columns in the header, 2 in this row)" in out
    assert "encoding: Shift_JIS (CP932)" in out
    assert "Accepted 2 (of which 0 for the secretariat to check), refused 2, invalid 1." in out
    assert [a.name for a in _rows(session_factory)] == ["髙橋 花子", "小林 八重"]
    assert _count(session_factory, OutboundEmail) == 0  # --no-email


def test_unknown_columns_stop_the_import(
    cli_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    session_factory: SessionFactory,
) -> None:
    code, _, err = _run(capsys, "import", str(UNKNOWN_COLUMN))
    assert code == 2
    assert "分からない列があります: 好きな食べ物" in err
    assert "Some columns are not understood: 好きな食べ物" in err
    assert "メールアドレス（必須） / Email address (required): メールアドレス" in err
    assert _count(session_factory, Application) == 0


def test_a_missing_or_unreadable_file(
    cli_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = _run(capsys, "import", str(tmp_path / "nowhere.csv"))
    assert code == 2
    assert "が見つかりません" in err and "does not exist" in err
    workbook = tmp_path / "applications.xlsx"
    workbook.write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    code, _, err = _run(capsys, "import", str(workbook))
    assert code == 2 and "CSV UTF-8" in err


def test_accepted_rows_go_to_review_when_slack_is_set(
    cli_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    session_factory: SessionFactory,
    emulator: SlackEmulator,
) -> None:
    _with_slack(cli_env, emulator)
    code, out, _ = _run(capsys, "import", str(GOOGLE_FORMS_BOM))
    assert code == 0
    assert "4 件をレビューチャンネルに投稿しました。" in out
    posted = emulator.messages("C0REVIEW")
    assert len(posted) == 4
    assert "フォームの取り込み" in str(posted[0])  # the review message shows the source
    assert all(a.review_message_ts for a in _rows(session_factory))
    # nothing is left to post
    code, out, _ = _run(capsys, "post-reviews")
    assert code == 0 and "投稿を待っている申請はありません" in out


def test_post_reviews_later(
    cli_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    session_factory: SessionFactory,
    emulator: SlackEmulator,
) -> None:
    assert _run(capsys, "import", str(EXCEL_CP932))[0] == 0  # no Slack settings yet
    assert emulator.messages("C0REVIEW") == []
    _with_slack(cli_env, emulator)
    code, out, _ = _run(capsys, "post-reviews", "--lang", "en")
    assert code == 0 and "2 posted to the review channel." in out
    assert len(emulator.messages("C0REVIEW")) == 2


def test_the_installed_command(database_url: str, tmp_path: Path) -> None:
    """The entry point an operator types, in its own process: exit codes and streams."""
    from tests.test_cli import KYOSO, _env

    env = _env(tmp_path, DATABASE_URL=database_url)
    ok = subprocess.run(
        [*KYOSO, "applications", "import", str(EXCEL_CP932), "--dry-run"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert "Traceback" not in ok.stderr and "受付不可" in ok.stdout
    bad = subprocess.run(
        [*KYOSO, "applications", "import", str(UNKNOWN_COLUMN)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr and "好きな食べ物" in bad.stderr
