"""Entries in and out as files: the secretariat's FAQ from a spreadsheet (CSV as Excel or Google
Sheets write it, or JSON Lines), and every active entry out again for Excel or another Kyoso.

Reading: UTF-8 with or without a BOM, Shift_JIS/CP932 (Excel on Japanese Windows), UTF-16 with
a BOM; headers in Japanese or English, compared without case, width, spaces or punctuation. A
column that is not understood stops the import before any row is looked at: the operator fixes
the file rather than Kyoso guessing what a column means.

Importing: each row goes through `entries.save_faq`, so the privacy gate masks personal values
and refuses a handling label. A row's key (its ID column, else a hash of its question) names
the entry: importing the file again updates the entries instead of adding new ones. Entries
kept from Slack threads and channel cards are exported but never imported: they follow their
source."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.i18n import Language, t
from bot.services import audit
from bot.services.dashboard.exports import Cell, to_csv
from bot.services.knowledge import entries
from bot.services.knowledge.privacy import Refused
from bot.tabular import CsvSyntaxError, csv_records, decode_text, header_key
from bot.text import clean_line, clean_multiline, nfkc
from models import EntryKind, EntryStatus, KnowledgeEntry, Organisation, OrganisationKind

KEY_LIMIT = 100  # the source key ("faq:" + key) holds 120 characters
FAQ_PREFIX = "faq:"
_SLACK_PREFIXES = ("thread:", "channel:")  # kept from Slack: they follow their source


class Field(StrEnum):
    """A column of the file; the values are the English headers (and JSON keys) of an export."""

    KEY = "id"
    KIND = "kind"
    TITLE = "title"
    QUESTION = "question"
    ANSWER = "answer"
    TAGS = "tags"
    CHANNEL = "channel"
    THREAD = "thread_ts"
    DATE = "answered_on"
    CHECKS = "checks"
    HELPFUL = "helpful"
    PREFECTURE = "prefecture"


# What an export writes, in order. Channel, thread, ✅ and 役に立った are read past on import:
# they come from Slack, not from a file.
EXPORT_FIELDS = tuple(Field)
REQUIRED_FIELDS = (Field.QUESTION, Field.ANSWER)

# Headers as people write them, compared after `header_key()`.
HEADER_ALIASES: Mapping[Field, tuple[str, ...]] = MappingProxyType(
    {
        Field.KEY: ("id", "キー", "key", "識別子", "faqid", "entryid", "sourcekey"),
        Field.KIND: ("種類", "kind", "type"),
        Field.TITLE: ("タイトル", "題名", "件名", "見出し", "title", "subject"),
        Field.QUESTION: ("質問", "質問内容", "問い", "問", "question", "q"),
        Field.ANSWER: ("回答", "回答内容", "答え", "答", "answer", "a"),
        Field.TAGS: ("タグ", "キーワード", "tags", "tag", "keywords"),
        Field.CHANNEL: ("チャンネル", "channel", "channelid"),
        Field.THREAD: ("スレッド", "threadts", "thread"),
        Field.DATE: ("日付", "回答日", "date", "answeredon", "answereddate", "answeredat"),
        Field.CHECKS: ("✅", "checks", "check"),
        Field.HELPFUL: ("役に立った", "helpful"),
        Field.PREFECTURE: ("都道府県", "都道府県名", "prefecture"),
    }
)

_BY_KEY: Mapping[str, Field] = MappingProxyType(
    {alias: f for f, aliases in HEADER_ALIASES.items() for alias in aliases}
)


def field_for(header: str) -> Field | None:
    return _BY_KEY.get(header_key(header))


# --------------------------------------------------------------------------------------
# Reading a file


class FileFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


class FileProblem(StrEnum):
    NOT_FOUND = "not_found"
    UNREADABLE = "unreadable"
    SPREADSHEET = "spreadsheet"  # an .xlsx/.xls instead of a CSV
    ENCODING = "encoding"
    NOT_CSV = "not_csv"
    EMPTY = "empty"
    UNKNOWN_COLUMNS = "unknown_columns"
    MISSING_COLUMNS = "missing_columns"
    DUPLICATE_COLUMNS = "duplicate_columns"


class TransferFileError(Exception):
    """The file cannot be imported at all (catalogue key `knowledge.transfer.file.<problem>`)."""

    def __init__(self, problem: FileProblem, **params: str) -> None:
        super().__init__(problem.value, params)
        self.problem = problem
        self.params = params

    def message(self, language: Language) -> str:
        return t(f"knowledge.transfer.file.{self.problem.value}", language, **self.params)


class Reason(StrEnum):
    """Why a row was not imported as written (catalogue `knowledge.transfer.reason.<value>`)."""

    MISSING_QUESTION = "missing_question"
    MISSING_ANSWER = "missing_answer"
    BAD_DATE = "bad_date"
    FUTURE_DATE = "future_date"
    UNKNOWN_PREFECTURE = "unknown_prefecture"
    KEY_TOO_LONG = "key_too_long"
    NOT_JSON = "not_json"
    NOT_OBJECT = "not_object"
    BAD_VALUE = "bad_value"
    FROM_SLACK = "from_slack"  # skipped: a thread's entry or a channel card
    TRUNCATED = "truncated"  # stored, shortened to the entry's limits
    RESTORED = "restored"  # stored: the key's entry had been removed


@dataclass(frozen=True)
class Problem:
    reason: Reason
    value: str = ""  # what the row held, for the message

    def text(self, language: Language) -> str:
        return t(f"knowledge.transfer.reason.{self.reason.value}", language, value=self.value)


Value = str | tuple[str, ...]  # tags may come as a JSON list


@dataclass(frozen=True)
class Record:
    line: int  # where the row starts in the file (a CSV's header is line 1)
    values: Mapping[Field, Value]
    problem: Problem | None = None  # a JSON line that could not be read

    def text(self, name: Field) -> str:
        value = self.values.get(name, "")
        return ", ".join(value) if isinstance(value, tuple) else value


@dataclass(frozen=True)
class ParsedFile:
    format: FileFormat
    encoding: str  # utf-8-sig | utf-8 | cp932 | utf-16
    records: tuple[Record, ...]
    blank_lines: int


def read_path(path: Path) -> ParsedFile:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise TransferFileError(FileProblem.NOT_FOUND, path=str(path)) from None
    except OSError as exc:
        raise TransferFileError(
            FileProblem.UNREADABLE, path=str(path), error=exc.strerror or str(exc)
        ) from None
    return parse(data, name=path.name)


def parse(data: bytes, *, name: str = "") -> ParsedFile:
    """A CSV or JSON Lines file, told apart by its extension, else by its first character."""
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):  # xlsx (zip) or xls (OLE)
        raise TransferFileError(FileProblem.SPREADSHEET)
    decoded = decode_text(data)
    if decoded is None:
        raise TransferFileError(FileProblem.ENCODING)
    text, encoding = decoded
    if not text.strip():
        raise TransferFileError(FileProblem.EMPTY)
    suffix = Path(name).suffix.casefold()
    if suffix in (".jsonl", ".ndjson", ".json") or (
        suffix not in (".csv", ".tsv", ".txt") and text.lstrip().startswith("{")
    ):
        return _parse_jsonl(text, encoding)
    return _parse_csv(text, encoding)


def _map_headers(names: Sequence[str]) -> dict[Field, int]:
    columns: dict[Field, int] = {}
    unknown: list[str] = []
    duplicated: list[str] = []
    for index, name in enumerate(names):
        if not name:
            if index == len(names) - 1:
                continue  # a trailing delimiter on the header line
            unknown.append(f"({index + 1})")
            continue
        found = field_for(name)
        if found is None:
            unknown.append(name)
        elif found in columns:
            duplicated.append(f"{names[columns[found]]} / {name}")
        else:
            columns[found] = index
    if unknown:
        raise TransferFileError(FileProblem.UNKNOWN_COLUMNS, columns="、".join(unknown))
    if duplicated:
        raise TransferFileError(FileProblem.DUPLICATE_COLUMNS, columns="、".join(duplicated))
    return columns


def _parse_csv(text: str, encoding: str) -> ParsedFile:
    try:
        rows = csv_records(text)
    except CsvSyntaxError as error:
        raise TransferFileError(FileProblem.NOT_CSV, line=str(error.line)) from None
    if not rows:
        raise TransferFileError(FileProblem.EMPTY)
    columns = _map_headers([clean_line(cell) for cell in rows[0][1]])
    missing = [f for f in REQUIRED_FIELDS if f not in columns]
    if missing:
        raise TransferFileError(
            FileProblem.MISSING_COLUMNS, columns="、".join(column_label(f) for f in missing)
        )
    records: list[Record] = []
    blank = 0
    for line, cells in rows[1:]:
        if not any(cell.strip() for cell in cells):
            blank += 1  # Excel leaves rows of empty cells at the end
            continue
        values = {
            name: _unescape_formula(cells[index])
            for name, index in columns.items()
            if index < len(cells)
        }
        records.append(Record(line, MappingProxyType(values)))
    return ParsedFile(FileFormat.CSV, encoding, tuple(records), blank)


def _unescape_formula(cell: str) -> str:
    """An export's `'=…` (kept as text for Excel: dashboard.exports.safe_text) back to `=…`."""
    if len(cell) > 1 and cell[0] == "'" and cell[1] in "=+-@\t\r":
        return cell[1:]
    return cell


def _parse_jsonl(text: str, encoding: str) -> ParsedFile:
    records: list[Record] = []
    blank = 0
    unknown: list[str] = []
    # "\n" only: splitlines() would also break at U+2028, which a JSON string may hold.
    for number, line in enumerate(text.removesuffix("\n").split("\n"), start=1):
        if not line.strip():
            blank += 1
            continue
        try:
            item = json.loads(line)
        except ValueError:
            records.append(Record(number, {}, Problem(Reason.NOT_JSON)))
            continue
        if not isinstance(item, dict):
            records.append(Record(number, {}, Problem(Reason.NOT_OBJECT)))
            continue
        values: dict[Field, Value] = {}
        problem: Problem | None = None
        for key, raw in item.items():
            found = field_for(str(key))
            if found is None:
                if key not in unknown:
                    unknown.append(str(key))
                continue
            if found in values:
                raise TransferFileError(FileProblem.DUPLICATE_COLUMNS, columns=str(key))
            value = _json_value(raw, tags=found is Field.TAGS)
            if value is None:
                problem = problem or Problem(Reason.BAD_VALUE, str(key))
                continue
            values[found] = value
        records.append(Record(number, MappingProxyType(values), problem))
    if unknown:
        raise TransferFileError(FileProblem.UNKNOWN_COLUMNS, columns="、".join(unknown))
    if not records:
        raise TransferFileError(FileProblem.EMPTY)
    return ParsedFile(FileFormat.JSONL, encoding, tuple(records), blank)


def _json_value(raw: object, *, tags: bool) -> Value | None:
    """A JSON value as text (a list only for tags); None when it cannot be one."""
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, str | int | float):
        return str(raw)
    if tags and isinstance(raw, list) and all(isinstance(v, str | int) for v in raw):
        return tuple(str(v) for v in raw)
    return None


def column_label(name: Field) -> str:
    aliases = HEADER_ALIASES[name]
    return f"{aliases[0]} / {name.value}"


# --------------------------------------------------------------------------------------
# Values


class Prefectures:
    """The 47 names as the master data holds them (岩手県), found from 岩手県, 岩手 or Iwate."""

    def __init__(self, names: Mapping[str, str]) -> None:
        self._by_key = names

    @classmethod
    def load(cls, session: Session) -> Prefectures:
        rows = session.execute(
            select(Organisation.prefecture, Organisation.name_en).where(
                Organisation.kind == OrganisationKind.PREFECTURE
            )
        )
        names: dict[str, str] = {}
        for name, english in rows:
            if not name:
                continue
            names[header_key(name)] = name
            if name != "北海道":  # 岩手 for 岩手県, 京都 for 京都府
                names[header_key(name[:-1])] = name
            if english:
                names[header_key(english)] = name
        return cls(names)

    def resolve(self, text: str) -> str | None:
        return self._by_key.get(header_key(text)) if text.strip() else None


_DATE = re.compile(
    r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?"
    r"|(\d{4})年(\d{1,2})月(\d{1,2})日",
    re.ASCII,
)


def parse_date(text: str) -> date | None:
    """YYYY-MM-DD, YYYY/MM/DD (as Excel shows it, maybe with a time) or YYYY年M月D日."""
    found = _DATE.fullmatch(nfkc(text))
    if found is None:
        return None
    year, month, day = (int(g) for g in found.groups() if g is not None)
    try:
        return date(year, month, day)
    except ValueError:
        return None


_TAG_SEPARATORS = re.compile(r"[,、，]")


def split_tags(value: Value) -> list[str]:
    parts = list(value) if isinstance(value, tuple) else _TAG_SEPARATORS.split(value)
    return [clean_line(part) for part in parts if clean_line(part)]


def question_key(question: str) -> str:
    """The key of a row without one: its question, however spaced or written in width."""
    folded = " ".join(nfkc(question).casefold().split())
    return "q-" + hashlib.sha256(folded.encode("utf-8")).hexdigest()[:24]


# --------------------------------------------------------------------------------------
# Importing


class RowStatus(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    SKIPPED = "skipped"  # a Slack thread's entry or a channel card: not imported
    REFUSED = "refused"  # a handling label: nothing of it kept
    INVALID = "invalid"


NOT_STORED = frozenset({RowStatus.REFUSED, RowStatus.INVALID})


@dataclass(frozen=True)
class RowResult:
    line: int
    status: RowStatus
    key: str = ""
    title: str = ""
    problems: tuple[Problem, ...] = ()
    labels: tuple[str, ...] = ()  # what refused it
    masked: tuple[str, ...] = ()  # personal values masked before it was stored
    entry_id: int | None = None


@dataclass(frozen=True)
class ImportContext:
    clock: Clock
    zone: ZoneInfo
    actor: str
    prefectures: Prefectures


def import_record(session: Session, *, context: ImportContext, record: Record) -> RowResult:
    """One row through the privacy gate into an FAQ entry (never commits)."""
    if record.problem is not None:
        return RowResult(record.line, RowStatus.INVALID, problems=(record.problem,))
    key = clean_line(record.text(Field.KEY))
    kind = header_key(record.text(Field.KIND))
    title = clean_line(record.text(Field.TITLE))
    if key.startswith(_SLACK_PREFIXES) or kind in (EntryKind.THREAD, EntryKind.CHANNEL):
        return RowResult(
            record.line, RowStatus.SKIPPED, key, title, problems=(Problem(Reason.FROM_SLACK),)
        )
    question = clean_multiline(record.text(Field.QUESTION))
    answer = clean_multiline(record.text(Field.ANSWER))
    problems: list[Problem] = []
    if not question:
        problems.append(Problem(Reason.MISSING_QUESTION))
    if not answer:
        problems.append(Problem(Reason.MISSING_ANSWER))
    key = key.removeprefix(FAQ_PREFIX).strip() or (question_key(question) if question else "")
    if len(key) > KEY_LIMIT:
        problems.append(Problem(Reason.KEY_TOO_LONG, str(KEY_LIMIT)))
    answered_at = _answered_at(record.text(Field.DATE), context, problems)
    prefecture_text = clean_line(record.text(Field.PREFECTURE))
    prefecture = context.prefectures.resolve(prefecture_text)
    if prefecture_text and prefecture is None:
        problems.append(Problem(Reason.UNKNOWN_PREFECTURE, prefecture_text))
    title = title or (question.splitlines()[0] if question else "")
    if problems:
        return RowResult(record.line, RowStatus.INVALID, key, title, tuple(problems))

    existing = session.scalar(
        select(KnowledgeEntry).where(KnowledgeEntry.source_key == f"{FAQ_PREFIX}{key}"[:120])
    )
    if existing is not None and existing.status is EntryStatus.REMOVED:
        problems.append(Problem(Reason.RESTORED))
    if answered_at is None and existing is not None and existing.status is EntryStatus.ACTIVE:
        answered_at = existing.answered_at  # no date in the row: the entry keeps its own
    if max(len(question), len(answer)) > entries.TEXT_LIMIT:
        problems.append(Problem(Reason.TRUNCATED, str(entries.TEXT_LIMIT)))
    try:
        saved = entries.save_faq(
            session,
            clock=context.clock,
            actor=context.actor,
            key=key,
            title=title,
            question=question,
            answer=answer,
            tags=split_tags(record.values.get(Field.TAGS, "")),
            answered_at=answered_at,
            prefecture=prefecture,
        )
    except Refused as exc:
        return RowResult(record.line, RowStatus.REFUSED, key, title, labels=exc.kinds)
    return RowResult(
        record.line,
        RowStatus.CREATED if saved.created else RowStatus.UPDATED,
        key,
        title,
        tuple(problems),
        masked=tuple(sorted(saved.masked)),
        entry_id=saved.entry_id,
    )


def _answered_at(text: str, context: ImportContext, problems: list[Problem]) -> datetime | None:
    text = clean_line(text)
    if not text:
        return None
    day = parse_date(text)
    if day is None:
        problems.append(Problem(Reason.BAD_DATE, text))
        return None
    if day > context.clock.now().astimezone(context.zone).date():
        problems.append(Problem(Reason.FUTURE_DATE, text))
        return None
    return datetime(day.year, day.month, day.day, tzinfo=context.zone)


# --------------------------------------------------------------------------------------
# Exporting


@dataclass(frozen=True)
class ExportedEntry:
    """An active entry as a file holds it: Slack ids, never names."""

    key: str  # the source key: faq:…, thread:C…:ts, channel:C…
    kind: str
    title: str
    question: str
    answer: str
    tags: tuple[str, ...]
    channel: str | None
    thread_ts: str | None
    answered_on: str  # YYYY-MM-DD in the configured time zone
    checks: int
    helpful: int
    prefecture: str | None

    def cells(self) -> list[Cell]:
        """In EXPORT_FIELDS' order; tags as one cell (`a, b`)."""
        return [
            self.key,
            self.kind,
            self.title,
            self.question,
            self.answer,
            ", ".join(self.tags),
            self.channel,
            self.thread_ts,
            self.answered_on,
            self.checks,
            self.helpful,
            self.prefecture,
        ]

    def as_json(self) -> dict[str, object]:
        values: dict[str, object] = dict(
            zip((f.value for f in EXPORT_FIELDS), self.cells(), strict=True)
        )
        values[Field.TAGS.value] = list(self.tags)
        return values


@dataclass(frozen=True)
class Export:
    content: bytes
    rows: int


def exported_entries(session: Session, *, zone: ZoneInfo) -> list[ExportedEntry]:
    rows = session.scalars(
        select(KnowledgeEntry)
        .where(KnowledgeEntry.status == EntryStatus.ACTIVE)
        .order_by(KnowledgeEntry.id)
    )
    return [
        ExportedEntry(
            key=e.source_key,
            kind=e.kind.value,
            title=e.title,
            question=e.question,
            answer=e.answer,
            tags=tuple(e.tags),
            channel=e.channel_id,
            thread_ts=e.thread_ts,
            answered_on=e.answered_at.astimezone(zone).date().isoformat(),
            checks=e.checks,
            helpful=e.helpful,
            prefecture=e.prefecture,
        )
        for e in rows
    ]


def export(
    session: Session,
    *,
    clock: Clock,
    zone: ZoneInfo,
    actor: str,
    file_format: FileFormat,
    language: Language,
) -> Export:
    """Every active entry as CSV (UTF-8 with BOM, CRLF: Excel) or JSON Lines; audited."""
    found = exported_entries(session, zone=zone)
    if file_format is FileFormat.CSV:
        header = [t(f"knowledge.transfer.column.{f.value}", language) for f in EXPORT_FIELDS]
        content = to_csv(header, [e.cells() for e in found])
    else:
        lines = [json.dumps(e.as_json(), ensure_ascii=False) + "\n" for e in found]
        content = "".join(lines).encode("utf-8")
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action="knowledge.exported",
        target_type=entries.TARGET,
        target_id="all",
        details={"format": file_format.value, "rows": len(found)},
    )
    return Export(content, len(found))
