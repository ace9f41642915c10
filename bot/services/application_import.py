"""Applications from an existing form's CSV export (Google Forms, Microsoft Forms, Excel).

Reading: UTF-8 with or without a BOM, Shift_JIS/CP932 (what Excel on Japanese Windows
writes), and UTF-16 with a BOM (Excel's "Unicode text", tab-separated). Headers may be
Japanese or English and are matched after NFKC, without spaces, punctuation or a note in
brackets (`メールアドレス（必須）` is `メールアドレス`). A file that cannot be read, or a
column that is not understood, stops the import before any row is looked at: the operator
fixes the file rather than Kyoso guessing what a column means.

Each row then gets one of three results:
- accepted: stored as an application (source `csv`) and sent to review like a web one;
- refused: eligibility refused it (the reasons say why), nothing stored;
- invalid: the row itself is incomplete (missing cells, no agreement to the rules).

A service: it reads, decides and stores; the caller owns the transactions (one per row for
a real import, one rolled back for a dry run, so that a dry run also sees a duplicate
within the file).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.eligibility import OrganisationDirectory, Outcome, ReasonCode, Severity
from bot.i18n import Language, t
from bot.i18n.reasons import reason_text
from bot.services import applications
from bot.services import organisation_lookup as lookup
from bot.services.application_emails import ApplicationEmailKind, queue_application_email
from bot.services.applications import ApplicationForm, ApplicationRefused
from bot.text import clean_line, nfkc
from models import Application, ApplicationSource, ApplicationStatus

# Recorded as the rules version when the export has no agreement column: the member then
# confirms the rules in Slack at onboarding (the welcome message's "I agree").
RULES_NOT_CONFIRMED = "unconfirmed"

MAX_NAME = 100
MAX_EMAIL = 254
MAX_DEPARTMENT = 200
MAX_CODE = 16


class Column(StrEnum):
    NAME = "name"
    EMAIL = "email"
    ORGANISATION_CODE = "organisation_code"
    AGENCY = "agency"
    ORGANISATION = "organisation"  # a name: 札幌市, 北海道札幌市, デジタル庁
    PREFECTURE = "prefecture"
    DEPARTMENT = "department"
    RULES = "rules"
    LANGUAGE = "language"
    IGNORED = "ignored"  # known and not needed: timestamps, row numbers


REQUIRED_COLUMNS = (Column.NAME, Column.EMAIL)

# Header names as forms write them, compared after `header_key()`.
HEADER_ALIASES: Mapping[Column, tuple[str, ...]] = MappingProxyType(
    {
        Column.NAME: (
            "氏名",
            "名前",
            "お名前",
            "氏名漢字",
            "フルネーム",
            "申請者氏名",
            "申請者名",
            "name",
            "fullname",
            "yourname",
            "applicantname",
        ),
        Column.EMAIL: (
            "メールアドレス",
            "メール",
            "eメール",
            "eメールアドレス",
            "電子メール",
            "電子メールアドレス",
            "連絡先メールアドレス",
            "email",
            "emailaddress",
            "mail",
            "mailaddress",
        ),
        Column.ORGANISATION_CODE: (
            "団体コード",
            "地方公共団体コード",
            "全国地方公共団体コード",
            "自治体コード",
            "市区町村コード",
            "code",
            "organisationcode",
            "organizationcode",
            "lgcode",
            "localgovernmentcode",
        ),
        Column.AGENCY: (
            "機関",
            "機関名",
            "府省庁",
            "府省庁名",
            "省庁",
            "省庁名",
            "府省",
            "政府機関",
            "所属機関",
            "agency",
            "agencyslug",
            "ministry",
            "governmentorganisation",
            "governmentorganization",
        ),
        Column.ORGANISATION: (
            "所属",
            "所属団体",
            "所属団体名",
            "団体名",
            "自治体名",
            "所属自治体",
            "所属組織",
            "組織名",
            "所属先",
            "organisation",
            "organization",
            "organisationname",
            "organizationname",
            "affiliation",
        ),
        Column.PREFECTURE: ("都道府県", "都道府県名", "prefecture"),
        Column.DEPARTMENT: (
            "部署",
            "部署名",
            "所属部署",
            "所属部署名",
            "所属課",
            "部局",
            "課名",
            "department",
            "division",
            "section",
            "dept",
        ),
        Column.RULES: (
            "利用規約",
            "利用規約への同意",
            "利用規約に同意",
            "利用規約に同意します",
            "利用規約に同意する",
            "規約への同意",
            "規約に同意",
            "規約同意",
            "同意",
            "同意確認",
            "同意事項",
            "rules",
            "agreetotherules",
            "agreetorules",
            "rulesaccepted",
            "agreement",
            "consent",
            "terms",
            "termsaccepted",
        ),
        Column.LANGUAGE: ("言語", "使用言語", "希望言語", "language", "lang"),
        Column.IGNORED: (
            "タイムスタンプ",
            "回答日時",
            "送信日時",
            "申請日",
            "申請日時",
            "受付日時",
            "開始時刻",
            "完了時刻",
            "最終更新日時",
            "no",
            "番号",
            "連番",
            "timestamp",
            "submittedat",
            "starttime",
            "completiontime",
            "lastmodifiedtime",
        ),
    }
)

_NOTE_IN_BRACKETS = re.compile(r"[(\[【<「][^)\]】>」]*[)\]】>」]")
_PUNCTUATION = re.compile(r"[\s_\-・:;*※.。,、?？!！/／'\"`]+")


def header_key(header: str) -> str:
    """`メールアドレス（必須）`, `E-mail Address`, `e_mail` → comparable keys."""
    text = nfkc(header).lower()
    text = _NOTE_IN_BRACKETS.sub("", text)
    return _PUNCTUATION.sub("", text)


_BY_KEY: Mapping[str, Column] = MappingProxyType(
    {alias: column for column, aliases in HEADER_ALIASES.items() for alias in aliases}
)

_YES = frozenset(
    [
        "はい",
        "yes",
        "y",
        "true",
        "1",
        "✓",
        "✔",
        "○",
        "〇",
        "◯",
        "●",
        "済",
        "同意",
        "agree",
        "agreed",
    ]
)
_NO_WORDS = ("しない", "しません", "不同意", "いいえ", "not", "disagree", "no")


def agreed(value: str) -> bool:
    """Whether a form's answer in the rules column says yes (`同意します`, `はい`, `✓`, …)."""
    text = header_key(value)
    if not text:
        return False
    if text in _YES:
        return True
    if any(word in text for word in _NO_WORDS):
        return False
    return "同意" in text or text.startswith("agree") or text.startswith("accept")


# --------------------------------------------------------------------------------------
# Reading the file


class FileProblem(StrEnum):
    NOT_FOUND = "not_found"
    UNREADABLE = "unreadable"  # an OS error: permissions, a directory, …
    SPREADSHEET = "spreadsheet"  # an .xlsx/.xls handed over instead of a CSV
    ENCODING = "encoding"
    NOT_CSV = "not_csv"
    EMPTY = "empty"
    UNKNOWN_COLUMNS = "unknown_columns"
    MISSING_COLUMNS = "missing_columns"
    DUPLICATE_COLUMNS = "duplicate_columns"


class ImportFileError(Exception):
    """The file cannot be imported at all; `problem` and `params` say why (catalogue key
    `registration.import.file.<problem>`)."""

    def __init__(self, problem: FileProblem, **params: str) -> None:
        super().__init__(problem.value, params)
        self.problem = problem
        self.params = params

    def message(self, language: Language) -> str:
        return t(f"registration.import.file.{self.problem.value}", language, **self.params)


@dataclass(frozen=True)
class CsvRow:
    line: int  # where the row starts in the file (the header is line 1)
    cells: tuple[str, ...]


@dataclass(frozen=True)
class CsvFile:
    encoding: str  # utf-8-sig | utf-8 | cp932 | utf-16
    delimiter: str
    header: tuple[str, ...]
    columns: Mapping[Column, int]
    ignored: tuple[str, ...]  # header names of columns read past
    rows: tuple[CsvRow, ...]
    blank_lines: int

    def value(self, row: CsvRow, column: Column) -> str:
        index = self.columns.get(column)
        if index is None or index >= len(row.cells):
            return ""
        return clean_line(row.cells[index])  # the same input hygiene as the web form

    def has(self, column: Column) -> bool:
        return column in self.columns


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(codecs.BOM_UTF8):
        encodings = ["utf-8-sig"]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ["utf-16"]
    else:
        encodings = ["utf-8", "cp932"]  # cp932: Shift_JIS as Windows writes it (①, ㈱, …)
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if not _BINARY.search(text):
            return text, encoding
    raise ImportFileError(FileProblem.ENCODING)


# Control characters no CSV holds, and what Python's cp932 makes of bytes that are not
# Shift_JIS at all (0x80, 0xA0, 0xFD–0xFF): signs of a binary file, not of text.
_BINARY = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\uf8f0-\uf8f3]")


def read_csv(data: bytes) -> CsvFile:
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):  # xlsx (zip) or xls (OLE)
        raise ImportFileError(FileProblem.SPREADSHEET)
    text, encoding = _decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for cells in reader:
            records.append((start, cells))
            start = reader.line_num + 1
    except csv.Error:
        raise ImportFileError(FileProblem.NOT_CSV, line=str(reader.line_num)) from None
    while records and not any(cell.strip() for cell in records[0][1]):
        records.pop(0)  # blank lines above the header
    if not records:
        raise ImportFileError(FileProblem.EMPTY)
    header = tuple(clean_line(cell) for cell in records[0][1])
    columns, ignored = _map_columns(header)
    rows: list[CsvRow] = []
    blank = 0
    for line, cells in records[1:]:
        if not any(cell.strip() for cell in cells):
            blank += 1  # Excel leaves rows of empty cells at the end
            continue
        rows.append(CsvRow(line=line, cells=tuple(cells)))
    return CsvFile(
        encoding=encoding,
        delimiter=delimiter,
        header=header,
        columns=MappingProxyType(columns),
        ignored=tuple(ignored),
        rows=tuple(rows),
        blank_lines=blank,
    )


def _map_columns(header: tuple[str, ...]) -> tuple[dict[Column, int], list[str]]:
    columns: dict[Column, int] = {}
    ignored: list[str] = []
    unknown: list[str] = []
    duplicated: list[str] = []
    for index, name in enumerate(header):
        if not name:
            if index == len(header) - 1:
                continue  # a trailing delimiter on the header line
            unknown.append(f"({index + 1})")
            continue
        column = _BY_KEY.get(header_key(name))
        if column is None:
            unknown.append(name)
        elif column is Column.IGNORED:
            ignored.append(name)
        elif column in columns:
            duplicated.append(f"{header[columns[column]]} / {name}")
        else:
            columns[column] = index
    if unknown:
        raise ImportFileError(FileProblem.UNKNOWN_COLUMNS, columns="、".join(unknown))
    if duplicated:
        raise ImportFileError(FileProblem.DUPLICATE_COLUMNS, columns="、".join(duplicated))
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise ImportFileError(
            FileProblem.MISSING_COLUMNS, columns="、".join(_column_label(c) for c in missing)
        )
    return columns, ignored


def _column_label(column: Column) -> str:
    aliases = HEADER_ALIASES[column]
    english = next(a for a in aliases if a.isascii())
    return f"{aliases[0]} / {english}"


def read_path(path: Path) -> CsvFile:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImportFileError(FileProblem.NOT_FOUND, path=str(path)) from None
    except OSError as exc:
        raise ImportFileError(
            FileProblem.UNREADABLE, path=str(path), error=exc.strerror or str(exc)
        ) from None
    return read_csv(data)


# --------------------------------------------------------------------------------------
# One row


class RowStatus(StrEnum):
    ACCEPTED = "accepted"
    REFUSED = "refused"
    INVALID = "invalid"


@dataclass(frozen=True)
class Note:
    """One line of explanation: an eligibility reason, or a catalogue text."""

    key: str
    params: Mapping[str, str] = field(default_factory=dict)
    reason: ReasonCode | None = None

    def text(self, language: Language) -> str:
        if self.reason is not None:
            return reason_text(self.reason, self.params, language)
        return t(self.key, language, **self.params)


@dataclass(frozen=True)
class RowResult:
    line: int
    status: RowStatus
    email: str
    public_id: str | None = None
    outcome: Outcome | None = None
    notes: tuple[Note, ...] = ()


def _note(key: str, **params: str) -> Note:
    return Note(key=f"registration.import.{key}", params=params)


def _language(value: str) -> Language:
    text = header_key(value)
    return "en" if text in ("en", "english", "英語", "英") or text.startswith("en") else "ja"


def _organisation(
    session: Session, csv_file: CsvFile, row: CsvRow
) -> tuple[str | None, str | None, list[Note]]:
    """(code, agency slug, notes) from the code, agency and organisation-name columns."""
    code = csv_file.value(row, Column.ORGANISATION_CODE) or None
    agency_text = csv_file.value(row, Column.AGENCY)
    name = csv_file.value(row, Column.ORGANISATION)
    prefecture = csv_file.value(row, Column.PREFECTURE) or None
    notes: list[Note] = []
    agency: str | None = None
    if agency_text:
        found = lookup.agencies_named(session, agency_text)
        # unknown: handed on as typed, so the secretariat sees it (`agency.unknown`)
        agency = found[0].slug if len(found) == 1 else agency_text[:32]
    if code is None and agency is None and name:
        local = lookup.local_governments_named(session, name, prefecture=prefecture)
        if len(local) == 1:
            code = local[0].code
        elif len(local) > 1:
            notes.append(_note("note.organisation_ambiguous", name=name, count=str(len(local))))
        else:
            agencies = lookup.agencies_named(session, name)
            if len(agencies) == 1:
                agency = agencies[0].slug
            else:
                notes.append(_note("note.organisation_unknown", name=name))
    return code, agency, notes


def _invalid(csv_file: CsvFile, row: CsvRow) -> list[Note]:
    notes: list[Note] = []
    width = len(csv_file.header)
    extra_cells = row.cells[width:]
    if len(row.cells) < width or any(cell.strip() for cell in extra_cells):
        # cells cannot be matched to their columns: say only that
        return [_note("invalid.cells", expected=str(width), found=str(len(row.cells)))]
    for column in REQUIRED_COLUMNS:
        if not csv_file.value(row, column):
            notes.append(_note("invalid.missing", column=csv_file.header[csv_file.columns[column]]))
    limits = (
        (Column.NAME, MAX_NAME),
        (Column.EMAIL, MAX_EMAIL),
        (Column.DEPARTMENT, MAX_DEPARTMENT),
        (Column.ORGANISATION_CODE, MAX_CODE),
    )
    for column, limit in limits:
        if len(csv_file.value(row, column)) > limit:
            header = csv_file.header[csv_file.columns[column]]
            notes.append(_note("invalid.too_long", column=header, max=str(limit)))
    if csv_file.has(Column.RULES):
        answer = csv_file.value(row, Column.RULES)
        if not answer:
            notes.append(
                _note("invalid.missing", column=csv_file.header[csv_file.columns[Column.RULES]])
            )
        elif not agreed(answer):
            notes.append(_note("invalid.rules_not_agreed", value=answer))
    return notes


def import_row(
    session: Session,
    *,
    clock: Clock,
    directory: OrganisationDirectory,
    csv_file: CsvFile,
    row: CsvRow,
    rules_version: str,
    queue_email: bool = True,
) -> RowResult:
    """Decide one row and, if eligible to go on, store it; never commits."""
    email = csv_file.value(row, Column.EMAIL)
    problems = _invalid(csv_file, row)
    if problems:
        return RowResult(
            line=row.line, status=RowStatus.INVALID, email=email, notes=tuple(problems)
        )
    code, agency, notes = _organisation(session, csv_file, row)
    form = ApplicationForm(
        email=email,
        name=csv_file.value(row, Column.NAME),
        organisation_code=code,
        agency_slug=agency,
        department=csv_file.value(row, Column.DEPARTMENT) or None,
        language=_language(csv_file.value(row, Column.LANGUAGE)),
        rules_version=rules_version if csv_file.has(Column.RULES) else RULES_NOT_CONFIRMED,
    )
    try:
        submitted = applications.submit(
            session, clock=clock, directory=directory, form=form, source=ApplicationSource.CSV
        )
    except ApplicationRefused as refused:
        reasons = [
            Note(key="", params=dict(r.params), reason=r.code)
            for r in refused.verdict.reasons
            if r.severity is Severity.REFUSE
        ]
        return RowResult(
            line=row.line,
            status=RowStatus.REFUSED,
            email=email,
            outcome=Outcome.REFUSED,
            notes=tuple(notes + reasons),
        )
    if queue_email:
        queue_application_email(
            session,
            clock=clock,
            application=submitted.application,
            kind=ApplicationEmailKind.RECEIVED,
        )
    flags = [
        Note(key="", params=dict(r.params), reason=r.code)
        for r in submitted.verdict.reasons
        if r.severity is Severity.FLAG
    ]
    return RowResult(
        line=row.line,
        status=RowStatus.ACCEPTED,
        email=email,
        public_id=submitted.application.public_id,
        outcome=submitted.verdict.outcome,
        notes=tuple(notes + flags),
    )


def awaiting_review_message(session: Session) -> list[str]:
    """Public ids of undecided applications that never reached the review channel (imported
    where Slack was not configured, or Slack was down when they came in), oldest first."""
    return list(
        session.scalars(
            select(Application.public_id)
            .where(
                Application.status.in_(
                    (ApplicationStatus.PENDING, ApplicationStatus.INFO_REQUESTED)
                ),
                Application.review_message_ts.is_(None),
            )
            .order_by(Application.submitted_at, Application.id)
        )
    )
