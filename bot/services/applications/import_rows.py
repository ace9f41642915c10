"""One row of an imported form export, decided like a web application.

Each row gets one of three results:
- accepted: stored as an application (source `csv`) and sent to review like a web one;
- refused: eligibility refused it (the reasons say why), nothing stored;
- invalid: the row itself is incomplete (missing cells, no agreement to the rules).

A use case: it reads, decides and stores; the caller owns the transactions (one per row for
a real import, one rolled back for a dry run, so that a dry run also sees a duplicate
within the file).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.eligibility.directory import OrganisationDirectory
from bot.eligibility.verdict import Outcome, ReasonCode, Severity, Verdict
from bot.i18n import Language, t
from bot.i18n.reasons import reason_text
from bot.services.applications import organisations as lookup
from bot.services.applications.import_columns import REQUIRED_COLUMNS, Column, agreed
from bot.services.applications.import_file import CsvFile, CsvRow
from bot.services.applications.submission import ApplicationForm, ApplicationRefused
from bot.services.transfers import one_account
from bot.tabular import header_key
from models import ApplicationSource, ApplicationStatus

# Recorded as the rules version when the export has no agreement column: the member then
# confirms the rules in Slack at onboarding (the welcome message's "I agree").
RULES_NOT_CONFIRMED = "unconfirmed"

MAX_NAME = 100
MAX_EMAIL = 254
MAX_DEPARTMENT = 200
MAX_CODE = 16


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
    moved: bool = False  # a member's new address: a move, not an application to review


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
        (Column.PREVIOUS_EMAIL, MAX_EMAIL),
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
    previous_email = csv_file.value(row, Column.PREVIOUS_EMAIL) or None
    form = ApplicationForm(
        email=email,
        name=csv_file.value(row, Column.NAME),
        organisation_code=code,
        agency_slug=agency,
        department=csv_file.value(row, Column.DEPARTMENT) or None,
        language=_language(csv_file.value(row, Column.LANGUAGE)),
        rules_version=rules_version if csv_file.has(Column.RULES) else RULES_NOT_CONFIRMED,
        had_account=previous_email is not None,
        previous_email=previous_email,
    )
    try:
        submitted = one_account.receive(
            session,
            clock=clock,
            directory=directory,
            form=form,
            source=ApplicationSource.CSV,
            tell_applicant=queue_email,
        )
    except ApplicationRefused as refused:
        return RowResult(
            line=row.line,
            status=RowStatus.REFUSED,
            email=email,
            outcome=Outcome.REFUSED,
            notes=(*notes, *_reasons(refused.verdict, Severity.REFUSE)),
        )
    moved = submitted.application.status is ApplicationStatus.MOVED
    if moved:
        notes.append(_note("note.moved"))
    return RowResult(
        line=row.line,
        status=RowStatus.ACCEPTED,
        email=email,
        public_id=submitted.application.public_id,
        outcome=submitted.verdict.outcome,
        notes=(*notes, *_reasons(submitted.verdict, Severity.FLAG)),
        moved=moved,
    )


def _reasons(verdict: Verdict, severity: Severity) -> list[Note]:
    """The verdict's reasons of one severity, as the report's notes."""
    return [
        Note(key="", params=dict(r.params), reason=r.code)
        for r in verdict.reasons
        if r.severity is severity
    ]
