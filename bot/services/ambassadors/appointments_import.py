"""`kyoso ambassadors import`: the existing roster from a spreadsheet's CSV (UTF-8 with or
without BOM, Shift_JIS), one appointment per row, all or nothing.

Columns, Japanese or English headers: the member (Slack user id or email address), the
prefectures (「岩手県;宮城県」) or a region (関東, kanto), the start and end dates. Every row
goes through `appointments.appoint` in one transaction, so a row overlapping an earlier one
is caught as the database would; the caller commits only when no row is bad."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.domain.ambassadors_appointments import AppointmentInvalid
from bot.regions import PREFECTURES, REGION_KEYS, region_name
from bot.services.ambassadors import appointments
from bot.tabular import CsvSyntaxError, csv_records, decode_text, header_key
from bot.text import nfkc, normalise_email
from models import Member


class Column(StrEnum):
    SLACK_USER_ID = "slack_user_id"
    EMAIL = "email"
    PREFECTURES = "prefectures"
    REGION = "region"
    STARTS_ON = "starts_on"
    ENDS_ON = "ends_on"


HEADER_ALIASES: dict[Column, tuple[str, ...]] = {
    Column.SLACK_USER_ID: ("slackuserid", "slackid", "userid", "slackユーザーid", "ユーザーid"),
    Column.EMAIL: ("email", "emailaddress", "mail", "メールアドレス", "メール"),
    Column.PREFECTURES: ("prefectures", "prefecture", "都道府県", "担当都道府県"),
    Column.REGION: ("region", "地方", "担当地方", "ブロック"),
    Column.STARTS_ON: ("start", "startson", "startdate", "開始日", "任期開始", "任期開始日"),
    Column.ENDS_ON: ("end", "endson", "enddate", "終了日", "任期終了", "任期終了日"),
}
_COLUMN_OF = {alias: column for column, aliases in HEADER_ALIASES.items() for alias in aliases}
_SEPARATORS = re.compile(r"[;；、,，/／\s]+")
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_SUFFIXES = ("県", "府", "都", "道")


class FileProblem(StrEnum):
    UNREADABLE = "unreadable"
    SYNTAX = "syntax"
    COLUMNS = "columns"
    EMPTY = "empty"


class ImportFileError(Exception):
    def __init__(self, problem: FileProblem, **params: object) -> None:
        super().__init__(problem)
        self.problem = problem
        self.params = params


@dataclass(frozen=True)
class CsvRow:
    line: int
    cells: dict[Column, str]


@dataclass(frozen=True)
class RowOutcome:
    line: int
    problems: tuple[str, ...]  # catalogue codes under ambassadors.appointments.import.row.
    public_id: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def read_rows(data: bytes) -> list[CsvRow]:
    decoded = decode_text(data)
    if decoded is None:
        raise ImportFileError(FileProblem.UNREADABLE)
    try:
        records = csv_records(decoded[0])
    except CsvSyntaxError as exc:
        raise ImportFileError(FileProblem.SYNTAX, line=exc.line) from None
    if not records:
        raise ImportFileError(FileProblem.EMPTY)
    header = [_COLUMN_OF.get(header_key(cell)) for cell in records[0][1]]
    known = set(header) - {None}
    has_member = known & {Column.SLACK_USER_ID, Column.EMAIL}
    has_area = known & {Column.PREFECTURES, Column.REGION}
    if not has_member or not has_area or not {Column.STARTS_ON, Column.ENDS_ON} <= known:
        raise ImportFileError(FileProblem.COLUMNS)
    rows = []
    for line, cells in records[1:]:
        if not any(cell.strip() for cell in cells):
            continue
        values = {
            column: nfkc(cell)
            for column, cell in zip(header, cells, strict=False)
            if column is not None
        }
        rows.append(CsvRow(line=line, cells=values))
    if not rows:
        raise ImportFileError(FileProblem.EMPTY)
    return rows


def import_rows(
    session: Session, *, clock: Clock, rows: list[CsvRow], actor: str, zone: ZoneInfo
) -> list[RowOutcome]:
    """Appoint every row in the caller's transaction; the caller rolls back when any
    outcome is not ok (or for a dry run)."""
    return [_import_row(session, clock=clock, row=row, actor=actor, zone=zone) for row in rows]


def _import_row(
    session: Session, *, clock: Clock, row: CsvRow, actor: str, zone: ZoneInfo
) -> RowOutcome:
    problems: list[str] = []
    member = _member(session, row)
    if isinstance(member, str):
        problems.append(member)
    prefectures, unknown = _prefectures(row.cells.get(Column.PREFECTURES, ""))
    region_text = row.cells.get(Column.REGION, "")
    region = _region(region_text)
    starts_on = _date(row.cells.get(Column.STARTS_ON, ""))
    ends_on = _date(row.cells.get(Column.ENDS_ON, ""))
    if unknown:
        problems.append("area.unknown_prefecture")
    elif region_text and region is None:
        problems.append("area.unknown_region")
    if starts_on == "bad" or ends_on == "bad":
        problems.append("bad_date")
    if problems or not isinstance(member, Member):
        return RowOutcome(row.line, tuple(problems))
    assert not isinstance(starts_on, str) and not isinstance(ends_on, str)
    if starts_on is None or ends_on is None:
        codes = appointments.term_problems(
            starts_on, ends_on, today=appointments.today_in(clock, zone)
        )
        return RowOutcome(row.line, tuple(f"{field}.{code}" for field, code in codes.items()))
    try:
        appointment = appointments.appoint(
            session,
            clock=clock,
            member=member,
            prefectures=prefectures,
            region=region,
            starts_on=starts_on,
            ends_on=ends_on,
            actor=actor,
            zone=zone,
        )
    except AppointmentInvalid as exc:
        return RowOutcome(
            row.line, tuple(f"{field}.{code}" for field, code in exc.problems.items())
        )
    return RowOutcome(row.line, (), appointment.public_id)


def _member(session: Session, row: CsvRow) -> Member | str:
    slack_user_id = row.cells.get(Column.SLACK_USER_ID, "").upper()
    email = row.cells.get(Column.EMAIL, "")
    if slack_user_id:
        found = session.scalar(select(Member).where(Member.slack_user_id == slack_user_id))
    elif email:
        found = session.scalar(
            select(Member).where(Member.email_normalized == normalise_email(email))
        )
    else:
        return "no_member"
    return found if found is not None else "unknown_member"


def _prefectures(text: str) -> tuple[list[str], bool]:
    """The prefectures named (「岩手」 counts as 岩手県), and whether one was not known."""
    named: list[str] = []
    unknown = False
    for word in filter(None, _SEPARATORS.split(text)):
        match = next((p for p in (word, *(word + s for s in _SUFFIXES)) if p in PREFECTURES), None)
        if match is None:
            unknown = True
        elif match not in named:
            named.append(match)
    return named, unknown


def _region(text: str) -> str | None:
    wanted = header_key(text)
    if not wanted:
        return None
    for key in REGION_KEYS:
        names = (key, region_name(key, "ja"), region_name(key, "en"))
        if wanted in {header_key(name) for name in names}:
            return key
    return None


def _date(text: str) -> date | str | None:
    """The date, None when empty, "bad" when it cannot be read."""
    if not text:
        return None
    matched = _DATE.match(text)
    if matched is None:
        return "bad"
    try:
        return date(*(int(part) for part in matched.groups()))
    except ValueError:
        return "bad"
