"""A new release of the local-government code list, as the secretariat hands it over: the
columns of bot/data/local-governments.csv, plus `merged_into` (the successor's code) on the
line of a code that disappears by a municipal merger.

A file with a problem (a column missing, a wrong check digit, a code twice, a successor the
release does not list) is refused whole, before anything is compared: a code list half
applied would be worse than the old one."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.codes import is_valid_code, normalise_code
from bot.i18n import Language, t
from bot.services.applications.master_data import (
    LOCAL_GOVERNMENT_COLUMNS,
    MasterRow,
    local_government_row,
)
from bot.tabular import CsvSyntaxError, csv_records, decode_text
from bot.text import clean_line
from models import OrganisationKind

MERGED_INTO = "merged_into"
_LOCAL_KINDS = frozenset(k.value for k in OrganisationKind if k is not OrganisationKind.AGENCY)


class ReleaseProblem(StrEnum):
    ENCODING = "encoding"
    NOT_CSV = "not_csv"
    EMPTY = "empty"
    MISSING_COLUMNS = "missing_columns"
    BAD_CODE = "bad_code"  # not six digits, or a wrong check digit
    BAD_KIND = "bad_kind"
    MISSING_NAME = "missing_name"
    DUPLICATE_CODE = "duplicate_code"
    UNKNOWN_SUCCESSOR = "unknown_successor"  # merged_into names no live code of the release


class ReleaseFileError(Exception):
    """The file cannot be applied; catalogue key `orgs.update.file.<problem>`."""

    def __init__(self, problem: ReleaseProblem, **params: str) -> None:
        super().__init__(problem.value, params)
        self.problem = problem
        self.params = params

    def message(self, language: Language) -> str:
        return t(f"orgs.update.file.{self.problem.value}", language, **self.params)


@dataclass(frozen=True)
class Release:
    live: dict[str, MasterRow]  # code -> the organisation as the release lists it
    merged: dict[str, str]  # a disappearing code -> its successor's code


def read_release(data: bytes) -> Release:
    decoded = decode_text(data)
    if decoded is None:
        raise ReleaseFileError(ReleaseProblem.ENCODING)
    try:
        records = csv_records(decoded[0])
    except CsvSyntaxError as error:
        raise ReleaseFileError(ReleaseProblem.NOT_CSV, line=str(error.line)) from None
    if len(records) < 2:
        raise ReleaseFileError(ReleaseProblem.EMPTY)
    header = [clean_line(cell).lower() for cell in records[0][1]]
    missing = [c for c in LOCAL_GOVERNMENT_COLUMNS if c not in header]
    if missing:
        raise ReleaseFileError(ReleaseProblem.MISSING_COLUMNS, columns=", ".join(missing))
    live: dict[str, MasterRow] = {}
    merged: dict[str, str] = {}
    lines: dict[str, int] = {}
    for line, cells in records[1:]:
        if not any(cell.strip() for cell in cells):
            continue
        raw = {
            name: clean_line(cells[i]) if i < len(cells) else "" for i, name in enumerate(header)
        }
        code = _code(raw["code"], line)
        if code in lines:
            raise ReleaseFileError(
                ReleaseProblem.DUPLICATE_CODE, code=code, lines=f"{lines[code]}, {line}"
            )
        lines[code] = line
        successor = raw.get(MERGED_INTO, "")
        if successor:
            merged[code] = _code(successor, line)
            continue
        if raw["kind"] not in _LOCAL_KINDS:
            raise ReleaseFileError(ReleaseProblem.BAD_KIND, line=str(line), kind=raw["kind"])
        name_column = "prefecture" if raw["kind"] == OrganisationKind.PREFECTURE else "name"
        if not raw[name_column]:
            raise ReleaseFileError(ReleaseProblem.MISSING_NAME, line=str(line), code=code)
        live[code] = local_government_row({**raw, "code": code})
    for code, successor in merged.items():
        if successor not in live:
            raise ReleaseFileError(
                ReleaseProblem.UNKNOWN_SUCCESSOR,
                line=str(lines[code]),
                code=code,
                successor=successor,
            )
    return Release(live=live, merged=merged)


def _code(value: str, line: int) -> str:
    if not is_valid_code(value):
        raise ReleaseFileError(ReleaseProblem.BAD_CODE, line=str(line), code=value[:12])
    return normalise_code(value)
