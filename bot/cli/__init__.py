"""The `kyoso` command: run the bot, check its setup, migrate, run jobs, manage roles.

The console script is `app:main` (the composition root): it hands `main` the server and the
job table, which live above bot/ (see bot/cli/wiring.py).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from bot.cli import (
    ambassadors_commands,
    applications_commands,
    audit_commands,
    db_commands,
    doctor_command,
    events_commands,
    export_commands,
    jobs_commands,
    knowledge_commands,
    lifecycle_commands,
    orgs_commands,
    roles_commands,
    rules_commands,
    run_command,
)
from bot.cli.common import Parser, close_databases
from bot.cli.wiring import Wiring
from bot.clock import Clock, SystemClock


def build_parser() -> argparse.ArgumentParser:
    # Typed as argparse's own class: the command modules take its subparsers action.
    parser: argparse.ArgumentParser = Parser(
        prog="kyoso",
        description="共創プラットフォームの事務局ボットです。`kyoso COMMAND --help` で各コマンドの"
        "説明を表示します。 / The secretariat bot for the co-creation platform; "
        "`kyoso COMMAND --help` describes each command.",
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
    knowledge_commands.add_parser(commands)
    orgs_commands.add_parser(commands)
    ambassadors_commands.add_parser(commands)
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    clock: Clock | None = None,
    wiring: Wiring | None = None,
) -> int:
    """Run one command. `clock` is the time every command sees (tests pass a fixed one);
    `wiring` is what `run` and `jobs` need from above bot/ (app.main passes it)."""
    args = build_parser().parse_args(argv)
    args.clock = clock or SystemClock()
    args.wiring = wiring
    try:
        code: int = args.handler(args)
    finally:
        close_databases()
    return code
