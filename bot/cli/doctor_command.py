from __future__ import annotations

import argparse

from bot.cli.common import load_settings
from bot.doctor import has_failures, inbox_check, render_table, run_checks
from bot.manifest import load_manifest
from bot.slack_client import make_web_client


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("doctor", help="設定と権限の診断 / check tokens and capabilities")
    parser.set_defaults(handler=_doctor)


def _doctor(_args: argparse.Namespace) -> int:
    settings = load_settings()
    checks = run_checks(
        settings,
        load_manifest(),
        lambda token: make_web_client(token, settings.slack_api_url, timeout=10),
    )
    checks.append(inbox_check(settings.database_url))
    print(render_table(checks))
    if has_failures(checks):
        print(
            "\n必要な設定が不足しています（FAIL の行）。/ Something required is missing (FAIL rows)."
        )
        return 1
    return 0
