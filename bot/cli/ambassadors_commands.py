"""`kyoso ambassadors`: the existing roster of ambassadors from a spreadsheet.

    kyoso ambassadors import FILE.csv [--dry-run] [--lang ja|en]

All or nothing: when any row is bad the report says which and why and nothing is stored.
Exit codes: 0 the file was imported (or, with --dry-run, could be); 1 a row is bad (nothing
stored); 2 the file cannot be read or its columns are not understood, or the database is not
migrated.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.cli.common import (
    EXIT_CONFIG,
    Subparsers,
    add_command,
    add_group,
    load_core_settings,
    open_database,
)
from bot.i18n import LANGUAGES, Language, t
from bot.services.ambassadors import appointments_import
from bot.services.ambassadors.appointments_import import ImportFileError, RowOutcome
from bot.services.audit import CLI_ACTOR

EXIT_REFUSED = 1
K = "ambassadors.appointments.import"


def add_parser(commands: Subparsers) -> None:
    actions = add_group(
        commands,
        "ambassadors",
        "アンバサダーの任命を取り込みます / Import ambassadors' appointments",
    )
    imports = add_command(
        actions,
        "import",
        "今のアンバサダー名簿を CSV から取り込みます / Import the current roster from a CSV",
        description="CSV（UTF-8・BOM 付き UTF-8・Shift_JIS）からアンバサダーの任命を取り込みます。"
        "列: Slack ユーザー ID またはメールアドレス、都道府県（「岩手県;宮城県」）または地方"
        "（関東 など）、開始日、終了日。1行でもエラーがあれば何も登録しません。"
        " / Import ambassadors' appointments from a CSV (UTF-8, UTF-8 with BOM or Shift_JIS). "
        "Columns: Slack user id or email, prefectures (岩手県;宮城県) or a region (関東, kanto), "
        "start, end. When any row is bad, nothing is recorded.",
    )
    imports.add_argument(
        "file",
        type=Path,
        metavar="FILE.csv",
        help="取り込む CSV / the CSV to import",
    )
    imports.add_argument(
        "--dry-run",
        action="store_true",
        help="確認だけして保存しない / check every row, store nothing",
    )
    imports.add_argument(
        "--lang",
        choices=LANGUAGES,
        help="表示の言語（既定: KYOSO_DEFAULT_LOCALE）/ language of the report (default: "
        "KYOSO_DEFAULT_LOCALE)",
    )
    imports.set_defaults(handler=_import)


def _both(key: str, **params: object) -> str:
    return "\n".join(t(key, language, **params) for language in LANGUAGES)


def _import(args: argparse.Namespace) -> int:
    core = load_core_settings()
    language: Language = args.lang or core.default_locale
    try:
        rows = appointments_import.read_rows(args.file.read_bytes())
    except OSError:
        print(_both(f"{K}.file.unreadable", path=args.file), file=sys.stderr)
        return EXIT_CONFIG
    except ImportFileError as error:
        print(
            _both(f"{K}.file.{error.problem.value}", path=args.file, **error.params),
            file=sys.stderr,
        )
        return EXIT_CONFIG
    session_factory = open_database(core.database_url)
    with session_factory() as session:
        outcomes = appointments_import.import_rows(
            session, clock=args.clock, rows=rows, actor=CLI_ACTOR, zone=core.zone
        )
        bad = [o for o in outcomes if not o.ok]
        if bad or args.dry_run:
            session.rollback()
        else:
            session.commit()
    print(_report(outcomes, language))
    if bad:
        print(t(f"{K}.report.refused", language, count=len(bad)))
        return EXIT_REFUSED
    key = "dry_run" if args.dry_run else "applied"
    print(t(f"{K}.report.{key}", language, count=len(outcomes)))
    return 0


def _report(outcomes: list[RowOutcome], language: Language) -> str:
    lines = [t(f"{K}.report.header", language)]
    for outcome in outcomes:
        if outcome.ok:
            lines.append(f"{outcome.line}\t{t(f'{K}.report.ok', language)}\t")
            continue
        reasons = "; ".join(t(f"{K}.row.{code}", language) for code in outcome.problems)
        lines.append(f"{outcome.line}\t{t(f'{K}.report.bad', language)}\t{reasons}")
    return "\n".join(lines)
