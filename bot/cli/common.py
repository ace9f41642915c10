"""What every command needs: a bilingual parser, settings that explain themselves, logging,
a database."""

from __future__ import annotations

import argparse
import csv
import logging
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn, TypeAlias

from pydantic import ValidationError
from sqlalchemy import Engine

from bot.cli.wiring import Wiring
from bot.clock import Clock, FixedClock
from bot.db import SessionFactory, make_engine, make_session_factory
from bot.logging_setup import QUIET_LIBRARY_LOGGERS, LogFormat, make_handler
from bot.services.applications.master_data import SyncResult, sync_master_data
from bot.settings import CoreSettings, Settings
from bot.settings_errors import describe_settings_error

EXIT_CONFIG = 2

# A string: argparse's class is generic only to type checkers.
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


class _Formatter(argparse.HelpFormatter):
    def add_usage(
        self,
        usage: str | None,
        actions: Iterable[argparse.Action],
        groups: Iterable[argparse._MutuallyExclusiveGroup],
        prefix: str | None = None,
    ) -> None:
        super().add_usage(usage, actions, groups, "使い方 / usage: " if prefix is None else prefix)


class Parser(argparse.ArgumentParser):
    """argparse whose own words (usage, headings, -h) are Japanese first, then English too;
    every command and action parser is one of these (argparse builds subparsers of its class)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **{**kwargs, "add_help": False})
        self._positionals.title = "引数 / arguments"
        self._optionals.title = "オプション / options"
        self.add_argument(
            "-h",
            "--help",
            action="help",
            default=argparse.SUPPRESS,
            help="この説明を表示して終了します / show this help and exit",
        )


def add_command(
    commands: Subparsers, name: str, summary: str, *, description: str | None = None
) -> argparse.ArgumentParser:
    """A command or action: `summary` in its parent's list, `description` (else the summary)
    atop its own --help. Both Japanese first, then English."""
    return commands.add_parser(name, help=summary, description=description or summary)


def add_group(
    commands: Subparsers, name: str, summary: str, *, description: str | None = None
) -> Subparsers:
    """A command made of actions (`kyoso NAME ACTION`); returns where its actions go."""
    parser = add_command(commands, name, summary, description=description)
    return parser.add_subparsers(dest=f"{name}_command", required=True, metavar="ACTION")


def add_now_option(parser: argparse.ArgumentParser) -> None:
    """`--now`, for a run that may act as if it were another instant (see `clock_of`)."""
    parser.add_argument(
        "--now",
        type=aware_datetime,
        default=None,
        metavar="ISO-8601",
        help="この時刻として実行します（UTC との時差付き、例: 2026-04-01T09:00+09:00）"
        " / run as if it were this instant (ISO 8601 with offset, e.g. 2026-04-01T09:00+09:00)",
    )


def clock_of(args: argparse.Namespace) -> Clock:
    """The `--now` instant when the action has it and it was given, else the command's clock."""
    now: datetime | None = getattr(args, "now", None)
    return FixedClock(now) if now else args.clock


def add_csv_out_option(parser: argparse.ArgumentParser) -> None:
    """`--out FILE.csv`, required: where an action writes its CSV (see `write_excel_csv`)."""
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="FILE.csv",
        help="書き出し先のファイル / the file to write",
    )


def write_excel_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    """A CSV that Excel opens as it is: UTF-8 with a BOM, CRLF line ends."""
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)


def aware_datetime(value: str) -> datetime:
    """`--now`: an ISO 8601 instant with its UTC offset (a bare local time is ambiguous)."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"ISO 8601 ではありません / not ISO 8601: {value}"
        ) from exc
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError(
            "UTC との時差を付けてください（例: +09:00）/ give a UTC offset, e.g. +09:00"
        )
    return parsed


def wiring_of(args: argparse.Namespace) -> Wiring:
    """The server and job table app.main hands in; only `run` and `jobs` need them."""
    wiring: Wiring | None = args.wiring
    if wiring is None:
        raise RuntimeError(f"`kyoso {args.command}` needs the wiring that app.main passes in")
    return wiring


def fail(message: str, code: int = EXIT_CONFIG) -> NoReturn:
    print(message, file=sys.stderr)
    raise SystemExit(code)


def load_settings() -> Settings:
    try:
        return Settings()  # values come from the environment
    except ValidationError as error:
        fail(describe_settings_error(error))


def load_settings_and_logging() -> Settings:
    """The full settings, and logging as they say: for a command that reaches Slack."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    return settings


def load_core_settings() -> CoreSettings:
    try:
        return CoreSettings()
    except ValidationError as error:
        fail(describe_settings_error(error))


def configure_logging(level: str = "INFO", log_format: LogFormat = "text") -> None:
    """One stderr handler that masks personal data and bounds line length; text or JSON."""
    logging.basicConfig(level=level, handlers=[make_handler(log_format, sys.stderr)])
    # Library loggers that would otherwise print request content or SQL: never below INFO,
    # even when Kyoso itself runs at DEBUG.
    for name in QUIET_LIBRARY_LOGGERS:
        library = logging.getLogger(name)
        library.setLevel(max(logging.INFO, library.getEffectiveLevel()))


def upgrade_database(database_url: str, *, clock: Clock) -> SyncResult:
    """Apply migrations, then bring the organisation master data up to date."""
    from bot.migrate import is_up_to_date, upgrade

    engine = make_engine(database_url)
    try:
        if not is_up_to_date(engine):  # Alembic loads only when there is something to apply
            upgrade(database_url)
        with make_session_factory(engine).begin() as session:
            return sync_master_data(session, clock=clock)
    finally:
        engine.dispose()


# The engines a command opened: `bot.cli.main` closes them when the command ends (a pool left
# to the garbage collector keeps its connections open until then, and warns).
_opened_engines: list[Engine] = []


def close_databases() -> None:
    while _opened_engines:
        _opened_engines.pop().dispose()


def open_database(database_url: str) -> SessionFactory:
    """A session factory for a database that must already be migrated."""
    from bot.migrate import is_up_to_date

    engine = make_engine(database_url)
    _opened_engines.append(engine)
    if not is_up_to_date(engine):
        fail(
            "データベースが最新ではありません。`kyoso db upgrade` を実行してください。\n"
            "The database schema is not up to date: run `kyoso db upgrade`."
        )
    return make_session_factory(engine)


def open_configured_database() -> SessionFactory:
    """The database DATABASE_URL names (no Slack settings needed); it must be migrated."""
    return open_database(load_core_settings().database_url)
