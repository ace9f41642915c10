"""`kyoso doctor`: what this installation can do, and what it lacks."""

from __future__ import annotations

import argparse

from bot.cli.common import Subparsers, add_command, load_settings


def add_parser(commands: Subparsers) -> None:
    parser = add_command(
        commands,
        "doctor",
        "トークン・権限・できることを診断します / Check tokens, scopes and capabilities",
        description="Slack のトークンとスコープ、レビューチャンネル、管理者トークンで使える機能"
        "（最終ログイン、SCIM、招待）、メールサーバー、処理できなかったイベントを確認し、表で示します。"
        "必要なものが欠けていれば（FAIL の行）終了コード 1 で終わります。"
        " / Check the Slack tokens and scopes, the review channel, what the admin token allows "
        "(last logins, SCIM, invitations), the mail server and events set aside, as a table. "
        "Exits with code 1 when something required is missing (FAIL rows).",
    )
    parser.set_defaults(handler=_doctor)


def _doctor(_args: argparse.Namespace) -> int:
    # The checks and the manifest (YAML) load only for this command.
    from bot.doctor import has_failures, inbox_check, render_table, run_checks
    from bot.manifest import load_manifest
    from bot.slack_client import make_web_client

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
