"""`kyoso export members|channels|stats --out FILE.csv [--lang ja|en]`.

The file is UTF-8 with BOM and CRLF line ends, so Excel opens it correctly; each export is
recorded in the audit log (actor "cli"). Exit codes: 0 written, 2 configuration or database
not migrated.
"""

from __future__ import annotations

import argparse

from bot.cli.common import (
    Subparsers,
    add_command,
    add_csv_out_option,
    load_core_settings,
    open_database,
)
from bot.i18n import LANGUAGES, Language, t
from bot.services import audit
from bot.services.dashboard import exports
from bot.services.dashboard.exports import ExportKind


def add_parser(commands: Subparsers) -> None:
    parser = add_command(
        commands,
        "export",
        "会員・チャンネル・統計を CSV に書き出します / Export members, channels or statistics as "
        "CSV",
        description="Excel で開ける CSV（UTF-8・BOM 付き、CRLF、時刻は JST）に書き出します。"
        "書き出しは監査ログに残ります。"
        " / Write a CSV that Excel opens (UTF-8 with BOM, CRLF, times in JST). Each export is "
        "recorded in the audit log.",
    )
    parser.add_argument(
        "what",
        choices=[k.value for k in ExportKind],
        metavar="members|channels|stats",
        help="書き出す内容: 会員・チャンネル・統計 / what to export: members, channels or "
        "statistics",
    )
    add_csv_out_option(parser)
    parser.add_argument(
        "--lang",
        choices=LANGUAGES,
        help="見出しの言語（既定: KYOSO_DEFAULT_LOCALE）/ language of headings and labels "
        "(default: KYOSO_DEFAULT_LOCALE)",
    )
    parser.set_defaults(handler=_export)


def _export(args: argparse.Namespace) -> int:
    core = load_core_settings()
    language: Language = args.lang or core.default_locale
    session_factory = open_database(core.database_url)
    with session_factory.begin() as session:
        export = exports.build(
            session,
            ExportKind(args.what),
            clock=args.clock,
            zone=core.zone,
            language=language,
            actor=audit.CLI_ACTOR,
        )
    args.out.write_bytes(export.content)
    print(
        " / ".join(
            t("dashboard.csv.written", lang, rows=f"{export.rows:,}", path=str(args.out))
            for lang in LANGUAGES
        )
    )
    return 0
