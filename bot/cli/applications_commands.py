"""`kyoso applications`: import an existing form's CSV export; post what awaits review.

    kyoso applications import FILE.csv [--dry-run] [--no-email] [--lang ja|en]
    kyoso applications post-reviews

Exit codes: 0 when the file was read (even if rows were refused or invalid: the table says
which and why), 2 when it could not be read or its columns are not understood (the message
says how to fix it, in Japanese and English) or the database is not migrated.
"""

from __future__ import annotations

import argparse
import sys
import unicodedata
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.orm import Session

from bot.cli.common import (
    EXIT_CONFIG,
    Subparsers,
    add_command,
    add_csv_out_option,
    add_group,
    load_core_settings,
    open_database,
    write_excel_csv,
)
from bot.clock import Clock
from bot.db import SessionFactory
from bot.eligibility.verdict import Outcome
from bot.gateway import gateway_from_settings
from bot.i18n import LANGUAGES, Language, t
from bot.services import rules
from bot.services.applications import import_file, import_rows, records
from bot.services.applications.import_columns import HEADER_ALIASES, Column
from bot.services.applications.import_file import CsvRow, ImportFileError
from bot.services.applications.import_rows import RowResult, RowStatus
from bot.services.applications.organisations import current_directory, label_of
from bot.settings import Settings
from bot.timefmt import jst


def add_parser(commands: Subparsers) -> None:
    actions = add_group(
        commands,
        "applications",
        "参加申請の取り込み・投稿・招待リスト / Import, post and list applications to join",
        description="既存フォームの CSV から参加申請を取り込み、レビューチャンネルに投稿し、"
        "手で招待する申請者を CSV に書き出します。"
        " / Import applications from an existing form's CSV, post them to the review channel, "
        "and export the approved applicants to invite by hand.",
    )

    imports = add_command(
        actions,
        "import",
        "既存フォームの CSV を取り込みます / Import an existing form's CSV export",
        description="既存フォームの CSV（UTF-8 / Shift_JIS）から参加申請を取り込みます。"
        " / Import applications from an existing form's CSV export (UTF-8 or Shift_JIS).",
    )
    imports.add_argument(
        "file",
        type=Path,
        metavar="FILE.csv",
        help="取り込む CSV（UTF-8、BOM 付き UTF-8、Shift_JIS）/ the CSV to import (UTF-8, UTF-8 "
        "with BOM or Shift_JIS)",
    )
    imports.add_argument(
        "--dry-run",
        action="store_true",
        help="判定だけして保存しない / decide every row but store nothing",
    )
    imports.add_argument(
        "--no-email",
        action="store_true",
        help="受付のお知らせメールを送らない / do not email applicants that they were received",
    )
    imports.add_argument(
        "--lang",
        choices=LANGUAGES,
        help="表の言語（既定: KYOSO_DEFAULT_LOCALE）/ language of the report (default: "
        "KYOSO_DEFAULT_LOCALE)",
    )
    imports.set_defaults(handler=_import)

    post = add_command(
        actions,
        "post-reviews",
        "レビューチャンネルに届いていない申請を投稿します / Post applications not yet in the "
        "review channel",
        description="レビューチャンネルにまだ投稿されていない申請を投稿します。Slack の設定"
        "（SLACK_BOT_TOKEN、KYOSO_REVIEW_CHANNEL など）が必要です。"
        " / Post the applications that never reached the review channel. Needs the Slack "
        "settings (SLACK_BOT_TOKEN, KYOSO_REVIEW_CHANNEL, …).",
    )
    post.add_argument(
        "--lang",
        choices=LANGUAGES,
        help="結果の言語（既定: KYOSO_DEFAULT_LOCALE）/ language of the summary (default: "
        "KYOSO_DEFAULT_LOCALE)",
    )
    post.set_defaults(handler=_post_reviews)

    invites = add_command(
        actions,
        "invites",
        "手で招待する申請者を CSV に書き出します / Export approved applicants to invite by hand",
        description="承認済みで招待を待っている申請者を、Slack の管理画面から招待するための CSV"
        "（UTF-8・BOM 付き、CRLF）に書き出します。"
        " / Write the approved applicants waiting for an invitation as a CSV (UTF-8 with BOM, "
        "CRLF) to invite them from Slack's admin pages.",
    )
    add_csv_out_option(invites)
    invites.set_defaults(handler=_export_invites)


def _both(key: str, **params: str) -> str:
    return "\n".join(t(key, language, **params) for language in LANGUAGES)


def _accepted_columns() -> str:
    lines = [_both("registration.import.file.accepted_columns")]
    for column, aliases in HEADER_ALIASES.items():
        label = " / ".join(
            t(f"registration.import.column.{column.value}", lang) for lang in LANGUAGES
        )
        lines.append(f"  {label}: {', '.join(aliases)}")
    return "\n".join(lines)


def _import(args: argparse.Namespace) -> int:
    core = load_core_settings()
    language: Language = args.lang or core.default_locale
    try:
        csv_file = import_file.read_path(args.file)
    except ImportFileError as error:
        print("\n".join(error.message(lang) for lang in LANGUAGES), file=sys.stderr)
        if error.problem in (
            import_file.FileProblem.UNKNOWN_COLUMNS,
            import_file.FileProblem.MISSING_COLUMNS,
        ):
            print(_accepted_columns(), file=sys.stderr)
        return EXIT_CONFIG
    session_factory = open_database(core.database_url)
    clock = args.clock
    with session_factory() as session:
        rules_version = rules.current_version(session)
        directory = current_directory(session)  # the latest code-list release applied

    def import_row(session: Session, row: CsvRow) -> RowResult:
        return import_rows.import_row(
            session,
            clock=clock,
            directory=directory,
            csv_file=csv_file,
            row=row,
            rules_version=rules_version,
            queue_email=not (args.dry_run or args.no_email),
        )

    if args.dry_run:
        # One transaction, rolled back: later rows see earlier ones (a duplicate in the file
        # is reported as it would be), and nothing is kept.
        with session_factory() as session:
            results = [import_row(session, row) for row in csv_file.rows]
            session.rollback()
    else:
        results = []
        for row in csv_file.rows:  # one transaction per row: what was accepted stays
            with session_factory.begin() as session:
                results.append(import_row(session, row))

    print(render_table(results, language))
    print()
    print(_summary(args.file, csv_file, results, language, dry_run=args.dry_run))
    if args.no_email and not args.dry_run:
        print(t("registration.import.summary.no_email", language))
    accepted = [
        r.public_id
        for r in results
        if r.status is RowStatus.ACCEPTED and r.public_id and not r.moved  # moves: no review
    ]
    if accepted and not args.dry_run:
        print(_post(session_factory, clock, accepted, language))
    return 0


def _summary(
    path: Path,
    csv_file: import_file.CsvFile,
    results: Sequence[RowResult],
    language: Language,
    *,
    dry_run: bool,
) -> str:
    counts = Counter(r.status for r in results)
    manual = sum(1 for r in results if r.outcome is Outcome.MANUAL_REVIEW)
    lines = [
        t(
            "registration.import.summary.read",
            language,
            path=str(path),
            rows=str(len(csv_file.rows)),
            encoding=t(f"registration.import.encoding.{csv_file.encoding}", language),
        ),
        t(
            "registration.import.summary.counts",
            language,
            accepted=str(counts[RowStatus.ACCEPTED]),
            manual=str(manual),
            refused=str(counts[RowStatus.REFUSED]),
            invalid=str(counts[RowStatus.INVALID]),
        ),
    ]
    if csv_file.blank_lines:
        lines.append(
            t("registration.import.summary.blank", language, count=str(csv_file.blank_lines))
        )
    if csv_file.ignored:
        lines.append(
            t("registration.import.summary.ignored", language, columns=", ".join(csv_file.ignored))
        )
    if not csv_file.has(Column.RULES):
        lines.append(t("registration.import.summary.rules_unconfirmed", language))
    if dry_run:
        lines.append(t("registration.import.summary.dry_run", language))
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# The report


def _width(text: str) -> int:
    """Columns a terminal gives the text: East Asian wide and full-width characters take 2."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _status_label(result: RowResult, language: Language) -> str:
    if result.status is RowStatus.ACCEPTED and result.outcome is not None:
        return t(f"registration.import.status.{result.outcome.value}", language)
    return t(f"registration.import.status.{result.status.value}", language)


def render_table(results: Sequence[RowResult], language: Language) -> str:
    """One line per row (line, result, email, reference), its reasons indented below."""
    header = [
        t(f"registration.import.table.{key}", language)
        for key in ("line", "result", "email", "public_id")
    ]
    rows = [
        [str(r.line), _status_label(r, language), r.email or "—", r.public_id or "—"]
        for r in results
    ]
    widths = [max(_width(cells[i]) for cells in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(_pad(cell, widths[i]) for i, cell in enumerate(cells)).rstrip()

    out = [line(header), "  ".join("-" * w for w in widths)]
    for result, cells in zip(results, rows, strict=True):
        out.append(line(cells))
        for note in result.notes:
            out.append(f"      • {note.text(language)}")
    return "\n".join(out)


# --------------------------------------------------------------------------------------
# Review channel


def _post(
    session_factory: SessionFactory, clock: Clock, public_ids: Sequence[str], language: Language
) -> str:
    try:
        settings = Settings()  # Kyoso's Slack side, when this environment has its settings
    except ValidationError:
        return t("registration.import.review.no_slack", language)
    if settings.review_channel is None:
        return t("registration.import.review.no_channel", language)
    review = gateway_from_settings(
        settings, session_factory=session_factory, clock=clock
    ).applications.review
    posted = 0
    lines = []
    for public_id in public_ids:
        try:
            review.post(public_id)
        except (SlackApiError, SlackClientError) as exc:
            lines.append(
                t(
                    "registration.import.review.failed",
                    language,
                    public_id=public_id,
                    error=str(exc),
                )
            )
            continue
        posted += 1
    lines.insert(0, t("registration.import.review.posted", language, count=str(posted)))
    return "\n".join(lines)


def _post_reviews(args: argparse.Namespace) -> int:
    core = load_core_settings()
    language: Language = args.lang or core.default_locale
    session_factory = open_database(core.database_url)
    with session_factory() as session:
        waiting = records.awaiting_review_message(session)
    if not waiting:
        print(t("registration.import.review.none", language))
        return 0
    print(_post(session_factory, args.clock, waiting, language))
    return 0


INVITE_COLUMNS = ("email", "name", "organisation", "department", "approved_at", "application_id")


def _export_invites(args: argparse.Namespace) -> int:
    """Approved applicants to invite from Slack's admin pages, as a CSV Excel opens (BOM, CRLF)."""
    core = load_core_settings()
    session_factory = open_database(core.database_url)
    with session_factory() as session:
        rows = [
            (
                application.email_normalized,
                application.name,
                label_of(session, application.organisation_id) or "",
                application.department or "",
                jst(application.decided_at) if application.decided_at else "",
                application.public_id,
            )
            for application in records.awaiting_invitation(session)
        ]
    write_excel_csv(args.out, INVITE_COLUMNS, rows)
    print(f"{len(rows)} 件を書き出しました / {len(rows)} applicants written to {args.out}")
    return 0
