"""Reading a form's CSV export: UTF-8 with or without a BOM, Shift_JIS/CP932 (what Excel on
Japanese Windows writes), and UTF-16 with a BOM (Excel's "Unicode text", tab-separated).

A file that cannot be read, or a column that is not understood, stops the import before any
row is looked at: the operator fixes the file rather than Kyoso guessing what a column means."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType

from bot.i18n import Language, t
from bot.services.applications.import_columns import (
    HEADER_ALIASES,
    REQUIRED_COLUMNS,
    Column,
    column_for,
)
from bot.tabular import CsvSyntaxError, csv_delimiter, csv_records, decode_text
from bot.text import clean_line


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


def read_csv(data: bytes) -> CsvFile:
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):  # xlsx (zip) or xls (OLE)
        raise ImportFileError(FileProblem.SPREADSHEET)
    decoded = decode_text(data)
    if decoded is None:
        raise ImportFileError(FileProblem.ENCODING)
    text, encoding = decoded
    try:
        records = csv_records(text)
    except CsvSyntaxError as error:
        raise ImportFileError(FileProblem.NOT_CSV, line=str(error.line)) from None
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
        delimiter=csv_delimiter(text),
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
        column = column_for(name)
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
