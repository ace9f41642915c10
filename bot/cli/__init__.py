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
    export_commands,
    jobs_commands,
    lifecycle_commands,
    roles_commands,
    rules_commands,
    run_command,
)


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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.handler(args)
    return code


def entry() -> None:
    sys.exit(main())
