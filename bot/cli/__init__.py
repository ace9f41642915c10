"""The `kyoso` command: run the bot, check its setup, migrate, run jobs, manage roles."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bot.cli import (
    applications_commands,
    audit_commands,
    db_commands,
    doctor_command,
    events_commands,
    export_commands,
    jobs_commands,
    lifecycle_commands,
    roles_commands,
    rules_commands,
    run_command,
)
from bot.clock import Clock, SystemClock


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kyoso",
        description="共創プラットフォームの事務局ボット / Secretariat bot for the co-creation platform",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run_command.add_parser(commands)
    doctor_command.add_parser(commands)
    db_commands.add_parser(commands)
    jobs_commands.add_parser(commands)
    roles_commands.add_parser(commands)
    rules_commands.add_parser(commands)
    applications_commands.add_parser(commands)
    lifecycle_commands.add_parser(commands)
    audit_commands.add_parser(commands)
    export_commands.add_parser(commands)
    events_commands.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None, *, clock: Clock | None = None) -> int:
    """Run one command; `clock` is the time every command sees (tests pass a fixed one)."""
    args = build_parser().parse_args(argv)
    args.clock = clock or SystemClock()
    code: int = args.handler(args)
    return code


def entry() -> None:
    sys.exit(main())
