"""`kyoso audit export`: the audit log as a CSV that Excel opens (UTF-8 with BOM, CRLF).

    kyoso audit export --since 2026-04-01 [--until 2026-04-30] [--out audit.csv]

Dates are calendar days in KYOSO_TIMEZONE (JST by default), both inclusive. Without --out the
CSV goes to standard output (still with its BOM, so `> audit.csv` opens in Excel) and the
summary to standard error. Cells that Excel would read as a formula get a leading apostrophe.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.cli.common import (
    EXIT_CONFIG,
    Subparsers,
    add_command,
    add_group,
    load_core_settings,
    open_database,
)
from bot.db import SessionFactory
from bot.text import nfkc
from models import AuditEntry

COLUMNS = ("occurred_at", "actor", "action", "target_type", "target_id", "reason", "details")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def add_parser(commands: Subparsers) -> None:
    actions = add_group(
        commands,
        "audit",
        "監査ログを書き出します / Export the audit log",
        description="事務局の判断（誰が、何を、いつ、なぜ）の記録である監査ログを扱います。"
        " / The audit log: the record of the secretariat's decisions (who, what, when, why).",
    )
    export = add_command(
        actions,
        "export",
        "監査ログを CSV に書き出します / Export the audit log as CSV",
        description="監査ログを Excel で開ける CSV（UTF-8 BOM 付き、CRLF）に書き出します。"
        "日付は KYOSO_TIMEZONE の暦日で、両端を含みます。"
        " / Export the audit log as a CSV that Excel opens (UTF-8 with BOM, CRLF). Dates are "
        "calendar days in KYOSO_TIMEZONE, both inclusive.",
    )
    export.add_argument(
        "--since",
        required=True,
        type=parse_date,
        metavar="YYYY-MM-DD",
        help="この日から（この日を含む）/ from this day (inclusive)",
    )
    export.add_argument(
        "--until",
        type=parse_date,
        metavar="YYYY-MM-DD",
        help="この日まで（この日を含む。省略時は現在まで）/ up to this day (inclusive)",
    )
    export.add_argument(
        "--out",
        type=Path,
        metavar="FILE.csv",
        help="書き出し先（省略時は標準出力）/ output file (default: standard output)",
    )
    export.set_defaults(handler=_export)


def parse_date(value: str) -> date:
    """2026-04-01, 2026/4/1 or full-width digits."""
    text = nfkc(value).replace("/", "-")
    try:
        year, month, day = (int(part) for part in text.split("-"))
        return date(year, month, day)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"日付は YYYY-MM-DD で指定してください / give the date as YYYY-MM-DD: {value!r}"
        ) from None


def _cell(value: str) -> str:
    """Text Excel would run as a formula is kept as text (OWASP CSV injection)."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def rows(
    session_factory: SessionFactory, *, start: datetime, end: datetime | None, zone: ZoneInfo
) -> Iterator[tuple[str, ...]]:
    query = select(AuditEntry).where(AuditEntry.occurred_at >= start)
    if end is not None:
        query = query.where(AuditEntry.occurred_at < end)
    query = query.order_by(AuditEntry.occurred_at, AuditEntry.id).execution_options(yield_per=500)
    with session_factory() as session:
        for entry in session.scalars(query):
            details = (
                json.dumps(entry.details, ensure_ascii=False, sort_keys=True)
                if entry.details
                else ""
            )
            yield tuple(
                _cell(value)
                for value in (
                    entry.occurred_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
                    entry.actor,
                    entry.action,
                    entry.target_type,
                    entry.target_id,
                    entry.reason or "",
                    details,
                )
            )


def write_csv(out: TextIO, records: Iterator[tuple[str, ...]], timezone: str) -> int:
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow((f"{COLUMNS[0]} ({timezone})", *COLUMNS[1:]))
    count = 0
    for record in records:
        writer.writerow(record)
        count += 1
    return count


def _export(args: argparse.Namespace) -> int:
    core = load_core_settings()
    zone = core.zone
    if args.until is not None and args.until < args.since:
        print(
            "--until は --since 以降の日付にしてください / --until must not be before --since",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    start = datetime.combine(args.since, time(0), tzinfo=zone)
    end = (
        datetime.combine(args.until + timedelta(days=1), time(0), tzinfo=zone)
        if args.until is not None
        else None
    )
    session_factory = open_database(core.database_url)
    records = rows(session_factory, start=start, end=end, zone=zone)
    if args.out is not None:
        with args.out.open("w", encoding="utf-8-sig", newline="") as out:
            count = write_csv(out, records, core.timezone)
        print(f"{count} 件を書き出しました / {count} entries written to {args.out}")
        return 0
    stdout = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8-sig", newline="")
    try:
        count = write_csv(stdout, records, core.timezone)
        stdout.flush()
    finally:
        stdout.detach()  # leave sys.stdout open
    print(f"{count} 件を書き出しました / {count} entries written", file=sys.stderr)
    return 0
